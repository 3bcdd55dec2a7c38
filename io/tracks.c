/* radarflow io/: track files (rf_tracks.h): HDF5 compound /tracks with an
 * enum status, CSV with status words; atomic writes; readers for both. The
 * table of status names is the one of the project (rf_track_status_name). */
#include "rf_tracks.h"

#include <stdio.h>
#include <string.h>

#include "h5util.h"

static const rf__col rf__track_cols[] = {
    {"time_s", offsetof(rf_track_row, time_s), RF__COL_F64},
    {"track_id", offsetof(rf_track_row, track_id), RF__COL_I32},
    {"status", offsetof(rf_track_row, status), RF__COL_WORD},
    {"east_m", offsetof(rf_track_row, east_m), RF__COL_F64},
    {"north_m", offsetof(rf_track_row, north_m), RF__COL_F64},
    {"up_m", offsetof(rf_track_row, up_m), RF__COL_F64},
    {"v_east_mps", offsetof(rf_track_row, v_east_mps), RF__COL_F64},
    {"v_north_mps", offsetof(rf_track_row, v_north_mps), RF__COL_F64},
    {"v_up_mps", offsetof(rf_track_row, v_up_mps), RF__COL_F64},
    {"range_m", offsetof(rf_track_row, range_m), RF__COL_F64},
    {"azimuth_deg", offsetof(rf_track_row, azimuth_deg), RF__COL_F64},
    {"elevation_deg", offsetof(rf_track_row, elevation_deg), RF__COL_F64},
    {"radial_velocity_mps", offsetof(rf_track_row, radial_velocity_mps), RF__COL_F64},
    {"latitude_deg", offsetof(rf_track_row, latitude_deg), RF__COL_F64},
    {"longitude_deg", offsetof(rf_track_row, longitude_deg), RF__COL_F64},
    {"altitude_m", offsetof(rf_track_row, altitude_m), RF__COL_F64},
    {"pos_sigma_m", offsetof(rf_track_row, pos_sigma_m), RF__COL_F64},
    {"plots", offsetof(rf_track_row, plots), RF__COL_I32},
    {"time_to_go_s", offsetof(rf_track_row, time_to_go_s), RF__COL_F64},
    {"impact_time_s", offsetof(rf_track_row, impact_time_s), RF__COL_F64},
    {"impact_latitude_deg", offsetof(rf_track_row, impact_latitude_deg), RF__COL_F64},
    {"impact_longitude_deg", offsetof(rf_track_row, impact_longitude_deg), RF__COL_F64},
    {"imm_cv_prob", offsetof(rf_track_row, imm_cv_prob), RF__COL_F64},
    {"imm_manoeuvre_prob", offsetof(rf_track_row, imm_manoeuvre_prob), RF__COL_F64},
    {"imm_ballistic_prob", offsetof(rf_track_row, imm_ballistic_prob), RF__COL_F64},
};

/* Indexed by enum rf_track_status. */
static const char *const rf__status_names[RF_TRACK_STATUS_COUNT] = {"tentative", "confirmed", "coasting",
                                                                    "deleted"};

/* The spec's columns are the first 19; impact_* and imm_*_prob are
 * radarflow's extension (a reader of an older file reads them as NaN). */
const rf__table rf__track_table = {"tracks", "track", rf__track_cols, sizeof rf__track_cols / sizeof rf__track_cols[0],
                                   sizeof(rf_track_row), 19, rf__status_names, RF_TRACK_STATUS_COUNT};

const char *rf_track_status_name(int s) {
  return s >= 0 && s < RF_TRACK_STATUS_COUNT ? rf__status_names[s] : NULL;
}

int rf_track_list_push(rf_track_list *l, const rf_track_row *r) {
  if (rf__rows_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
    return rf__err(RF_ENOMEM, "track list: out of memory");
  l->v[l->n++] = *r;
  return 0;
}

void rf_track_list_free(rf_track_list *l) {
  if (!l) return;
  rf__free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* ---- HDF5 ------------------------------------------------------------------------ */
/* Built in memory and written atomically (rf__h5_image_create). */
int rf_tracks_write_h5(const char *path, const rf_track_row *rows, size_t n,
                       const rf_product_info *info) {
  return rf__table_write_h5(path, "radarflow.tracks", &rf__track_table, rows, n, info, NULL);
}

/* ---- CSV ------------------------------------------------------------------------- */
int rf_tracks_write_csv(const char *path, const rf_track_row *rows, size_t n) {
  return rf__csv_write(path, &rf__track_table, rows, n);
}

/* ---- streaming writer ------------------------------------------------------------- */
struct rf_tracks_writer {
  rf__h5_stream *h5;
  rf__csv_stream *csv;
  char *h5_path;
};

void rf_tracks_writer_abort(rf_tracks_writer *w) {
  if (!w) return;
  rf__h5_stream_abort(w->h5);
  rf__csv_stream_abort(w->csv);
  rf__free(w->h5_path);
  rf__free(w);
}

int rf_tracks_writer_create(rf_tracks_writer **out, const char *h5_path, const char *csv_path,
                            const rf_product_info *info) {
  *out = NULL;
  if (!h5_path || !csv_path) return rf__err(RF_EINVAL, "tracks: bad arguments");
  rf_tracks_writer *w = rf__calloc(1, sizeof *w);
  if (!w || !(w->h5_path = rf__strdup(h5_path))) {
    rf__free(w);
    return rf__err(RF_ENOMEM, "%s: out of memory", h5_path);
  }
  int st = rf__h5_stream_create(&w->h5, h5_path, "radarflow.tracks", &rf__track_table, info);
  if (!st) st = rf__csv_stream_create(&w->csv, csv_path, &rf__track_table);
  if (st) {
    rf_tracks_writer_abort(w);
    return st;
  }
  *out = w;
  return 0;
}

int rf_tracks_writer_add(rf_tracks_writer *w, const rf_track_row *rows, size_t n) {
  int st = rf__csv_stream_add(w->csv, rows, n);
  return st ? st : rf__h5_stream_add(w->h5, rows, n);
}

int rf_tracks_writer_commit(rf_tracks_writer *w) {
  int st = rf__h5_stream_commit(w->h5);
  w->h5 = NULL;
  if (st) {
    rf_tracks_writer_abort(w);
    return st;
  }
  st = rf__csv_stream_commit(w->csv);
  w->csv = NULL;
  if (st) remove(w->h5_path); /* both or neither */
  rf_tracks_writer_abort(w);
  return st;
}

int rf_tracks_read(const char *path, rf_track_list *out) {
  void *rows;
  size_t n;
  int st = rf__table_read(path, &rf__track_table, &rows, &n);
  if (st < 0) return st;
  rf_track_list_free(out);
  *out = (rf_track_list){rows, n, n};
  return 0;
}
