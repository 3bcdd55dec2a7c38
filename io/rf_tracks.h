/* radarflow: track files (docs/formats.md, "Track file", with its
 * extension columns). HDF5 (compound dataset /tracks, status
 * an HDF5 enum) and CSV (status as a word); both written under a temporary
 * name and renamed. */
#ifndef RF_TRACKS_H
#define RF_TRACKS_H

#include "../host/rf_common.h"
#include "rf_products.h"

enum rf_track_status {
  RF_TRACK_TENTATIVE = 0,
  RF_TRACK_CONFIRMED = 1,
  RF_TRACK_COASTING = 2,
  RF_TRACK_DELETED = 3,
  RF_TRACK_STATUS_COUNT
};
/* The one table of status names: "tentative", "confirmed", "coasting",
 * "deleted" (CSV words, HDF5 enum names, pictures); NULL for other values. */
const char *rf_track_status_name(int status);

/* One track row: the columns of docs/formats.md in order, then the extension columns
 * (docs/formats.md "Track extension columns"): impact_* (NaN unless the
 * track is ballistic and comes down), then the IMM mode probabilities
 * imm_*_prob (constant velocity, manoeuvre, ballistic; they sum to 1; a
 * single-model tracker gives 1 to its model). */
typedef struct rf_track_row {
  double time_s;
  int32_t track_id;
  int32_t status;                 /* enum rf_track_status */
  double east_m, north_m, up_m;
  double v_east_mps, v_north_mps, v_up_mps;
  double range_m, azimuth_deg, elevation_deg, radial_velocity_mps;
  double latitude_deg, longitude_deg, altitude_m;
  double pos_sigma_m;
  int32_t plots;
  double time_to_go_s;
  double impact_time_s, impact_latitude_deg, impact_longitude_deg;
  double imm_cv_prob, imm_manoeuvre_prob, imm_ballistic_prob;
} rf_track_row;

/* Growable list of rows (owned). */
typedef struct rf_track_list {
  rf_track_row *v;
  size_t n, cap;
} rf_track_list;
int rf_track_list_push(rf_track_list *l, const rf_track_row *r);
void rf_track_list_free(rf_track_list *l);

/* HDF5 /tracks (root attributes as plots.h5: format "radarflow.tracks",
 * format_version 1, source_path, radar_name, site_*). RF_EIO naming the file
 * on failure, nothing left at path. info may be NULL. */
int rf_tracks_write_h5(const char *path, const rf_track_row *rows, size_t n,
                       const rf_product_info *info);
/* CSV: exact header, %.17g doubles, status words. */
int rf_tracks_write_csv(const char *path, const rf_track_row *rows, size_t n);
/* Streaming: tracks.h5 (chunked /tracks, extended as rows come) and
 * tracks.csv written together under temporary names; commit renames both
 * (or, on failure, neither). Memory does not grow with the rows. Same
 * bytes as rf_tracks_write_csv; the same rows as rf_tracks_write_h5. */
typedef struct rf_tracks_writer rf_tracks_writer;
int rf_tracks_writer_create(rf_tracks_writer **w, const char *h5_path, const char *csv_path,
                            const rf_product_info *info);
int rf_tracks_writer_add(rf_tracks_writer *w, const rf_track_row *rows, size_t n);
int rf_tracks_writer_commit(rf_tracks_writer *w);     /* also destroys w */
void rf_tracks_writer_abort(rf_tracks_writer *w);     /* removes the temporaries; NULL is a no-op */

/* Reads either file (by extension .h5 / .csv); RF_EFORMAT naming the file
 * and the field or line on bad input. On success *out (freed first) holds
 * the rows; on failure it is unchanged. */
int rf_tracks_read(const char *path, rf_track_list *out);

#endif
