/* radarflow: EUROCONTROL ASTERIX output (docs/asterix.md). CAT048
 * (monoradar target reports, edition 1.31) for plots and track reports;
 * CAT062 (SDPS system track data, edition 1.19) for tracks. A file is a
 * sequence of data blocks (CAT, LEN, records) exactly as sent on the wire,
 * each block at most RF_ASTERIX_BLOCK_MAX bytes so it fits one UDP
 * datagram. A small decoder of what the encoder writes serves the tests. */
#ifndef RF_ASTERIX_H
#define RF_ASTERIX_H

#include "../host/rf_common.h"
#include "rf_products.h"
#include "rf_tracks.h"

#define RF_ASTERIX_BLOCK_MAX 1024
#define RF_ASTERIX_RECORD_MAX 64  /* longest record the encoder writes */

typedef struct rf_asterix_source {
  int sac, sic;        /* data source (I048/010, I062/010), 0..255 */
  int service_id;      /* I062/015, 0..255 */
} rf_asterix_source;

/* One record into out (at least RF_ASTERIX_RECORD_MAX bytes); returns its
 * length, or 0 when the values cannot be coded (CAT048: range beyond
 * 256 NM). */
size_t rf_asterix_cat048_plot(uint8_t *out, const rf_asterix_source *src, const rf_plot *p);
/* CAT048 track report; `first` unused there (kept for symmetry). */
size_t rf_asterix_cat048_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r);
/* CAT062 system track; `first`: the track's first message (TSB). */
size_t rf_asterix_cat062_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r,
                               int first);

/* Whole files, atomically (temp name + rename): plots as CAT048 blocks;
 * tracks as CAT048 blocks then CAT062 blocks. *skipped (may be NULL) counts
 * rows CAT048 could not code (they are still in CAT062). */
int rf_asterix_write_plots(const char *path, const rf_asterix_source *src, const rf_plot *plots,
                           size_t n, size_t *skipped);
int rf_asterix_write_tracks(const char *path, const rf_asterix_source *src,
                            const rf_track_row *rows, size_t n, size_t *skipped);
/* The same into a memory buffer (rf__malloc'd, *len bytes), for tests and
 * the writers. */
int rf_asterix_encode_plots(const rf_asterix_source *src, const rf_plot *plots, size_t n,
                            uint8_t **buf, size_t *len, size_t *skipped);
int rf_asterix_encode_tracks(const rf_asterix_source *src, const rf_track_row *rows, size_t n,
                             uint8_t **buf, size_t *len, size_t *skipped);

/* ---- decoder (the items the encoder writes; others are an error) ---------------- */
typedef struct rf_asterix_record {
  int cat;                         /* 48 or 62 */
  size_t block;                    /* index of its data block */
  uint32_t items;                  /* bit k set: FRN k+1 present */
  int sac, sic, service_id;
  double tod_s;                    /* I048/140 or I062/070 */
  int typ;                         /* I048/020 TYP */
  double range_m, azimuth_deg;     /* I048/040 */
  int track_number;                /* I048/161 or I062/040 */
  double ground_speed_mps, heading_deg; /* I048/200 */
  int cnf, rad, cdm, tre;          /* I048/170 */
  int doppler_valid;               /* I048/120 CAL: D == 0 */
  double doppler_mps;              /* I048/120 CAL */
  double lat_deg, lon_deg;         /* I062/105 */
  double x_m, y_m;                 /* I062/100 */
  double vx_mps, vy_mps;           /* I062/185 */
  int mon, src, cnf62, tse, tsb, cst; /* I062/080 */
  double alt_m;                    /* I062/130 */
  double apc_x_m, apc_y_m;         /* I062/500 APC */
} rf_asterix_record;

/* Decodes a buffer of data blocks into recs (up to max); *n gets the count.
 * RF_EFORMAT (message says the block and what is wrong) on a malformed
 * buffer, RF_ERANGE when more than max records. */
int rf_asterix_decode(const uint8_t *buf, size_t len, rf_asterix_record *recs, size_t max,
                      size_t *n);

/* LSBs (docs/asterix.md). */
#define RF_ASTERIX_NM_M 1852.0
#define RF_ASTERIX_LSB_TOD_S (1.0 / 128.0)
#define RF_ASTERIX_LSB_RHO_M (RF_ASTERIX_NM_M / 256.0)
#define RF_ASTERIX_LSB_THETA_DEG (360.0 / 65536.0)
#define RF_ASTERIX_LSB_GSP_MPS (RF_ASTERIX_NM_M / 16384.0)
#define RF_ASTERIX_LSB_HDG_DEG (360.0 / 65536.0)
#define RF_ASTERIX_LSB_DOPPLER_MPS 1.0
#define RF_ASTERIX_LSB_LATLON_DEG (180.0 / 33554432.0)
#define RF_ASTERIX_LSB_XY_M 0.5
#define RF_ASTERIX_LSB_V_MPS 0.25
#define RF_ASTERIX_LSB_ALT_M (6.25 * 0.3048)
#define RF_ASTERIX_LSB_APC_M 0.5

#endif
