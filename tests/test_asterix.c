/* ASTERIX (io/rf_asterix.h): known byte vectors worked out by hand from the
 * category specifications (CAT048 ed. 1.31, CAT062 ed. 1.19), a round trip
 * through the decoder, and - when tshark is installed - Wireshark's own
 * dissector reading the files written for a tracked scene, field by field
 * against the CSV rows within one LSB. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/rf_asterix.h"
#include "../pipelines/rf_tracker.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

#define TSHARK "/usr/bin/tshark"
/* Quantisation: a decoded value is within half an LSB of the source; one
 * LSB (the bar) leaves room for tshark's printing. */
#define AST_HALF_LSB 0.5000001

static void check_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn) {
  ck_assert_uint_eq(n, wn);
  for (size_t i = 0; i < n; i++) ck_assert_msg(got[i] == want[i], "byte %zu: 0x%02x, expected 0x%02x", i, got[i], want[i]);
}

START_TEST(asterix_known_vectors) {
  rf_asterix_source src = {7, 9, 5};
  uint8_t rec[RF_ASTERIX_RECORD_MAX];
  /* A plot 10 NM due east at 80000.5 s after midnight, closing at 80 m/s. */
  rf_plot p = {.time_s = 1700000000.5, .range_m = 18520, .azimuth_deg = 90, .radial_velocity_mps = -80};
  static const uint8_t plot048[] = {0xF1, 0x01, 0x04,              /* FSPEC: 010 140 020 040 / - / 120 */
                                    0x07, 0x09,                    /* 010 SAC SIC */
                                    0x9C, 0x40, 0x40,              /* 140: 80000.5 * 128 */
                                    0x20,                          /* 020: TYP 1 (single PSR) */
                                    0x0A, 0x00, 0x40, 0x00,        /* 040: 2560/256 NM, 16384 * 360/2^16 */
                                    0x80, 0x03, 0xB0};             /* 120: CAL, -80 in 10 bits */
  check_bytes(rec, rf_asterix_cat048_plot(rec, &src, &p), plot048, sizeof plot048);

  rf_track_row r = {.time_s = 1700000000.5, .track_id = 300, .status = RF_TRACK_CONFIRMED,
                    .east_m = 1000.5, .north_m = -2000, .up_m = 0, .v_east_mps = 10.25,
                    .v_north_mps = -3, .v_up_mps = 0, .range_m = 18520, .azimuth_deg = 90,
                    .radial_velocity_mps = -80, .latitude_deg = 45, .longitude_deg = -90,
                    .altitude_m = 1905, .pos_sigma_m = 100 * sqrt(3.0)};
  static const uint8_t trk048[] = {0xF1, 0x17, 0x04,          /* 010 140 020 040 / 161 200 170 / 120 */
                                   0x07, 0x09, 0x9C, 0x40, 0x40, 0x20, 0x0A, 0x00, 0x40, 0x00,
                                   0x01, 0x2C,                /* 161: 300 */
                                   0x00, 0x5E, 0x4B, 0x9A,    /* 200: 10.68 m/s = 94 LSB, 106.3 deg */
                                   0x21, 0x00,                /* 170: confirmed, RAD 01, FX; TRE 0 */
                                   0x80, 0x03, 0xB0};
  check_bytes(rec, rf_asterix_cat048_track(rec, &src, &r), trk048, sizeof trk048);

  static const uint8_t trk062[] = {0xBF, 0x0D, 0x11, 0x04,    /* 010 015 070 105 100 185 / 040 080 / 130 / 500 */
                                   0x07, 0x09, 0x05, 0x9C, 0x40, 0x40,
                                   0x00, 0x80, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, /* 105: 45, -90 deg */
                                   0x00, 0x07, 0xD1, 0xFF, 0xF0, 0x60,             /* 100: 2001, -4000 */
                                   0x00, 0x29, 0xFF, 0xF4,                         /* 185: 41, -12 */
                                   0x01, 0x2C,                                     /* 040: 300 */
                                   0x89, 0x21, 0x01, 0x00,   /* 080: MON SRC=3D radar; TSB; -; CST 0 */
                                   0x03, 0xE8,                                     /* 130: 1000 x 6.25 ft */
                                   0x80, 0x00, 0xC8, 0x00, 0xC8};                  /* 500: APC 100 m */
  check_bytes(rec, rf_asterix_cat062_track(rec, &src, &r, 1), trk062, sizeof trk062);

  /* Beyond 256 NM CAT048 cannot code the range: no record. */
  p.range_m = 500e3;
  ck_assert_uint_eq(rf_asterix_cat048_plot(rec, &src, &p), 0);
}
END_TEST

static void random_rows(rf_track_row *r, size_t n, uint64_t *seed) {
  for (size_t i = 0; i < n; i++) {
    memset(&r[i], 0, sizeof r[i]);
    r[i].time_s = 1.7e9 + 3600 * rf_test_uniform(seed);
    r[i].track_id = (int32_t)(1 + i);
    r[i].status = (int32_t)(i % 4);
    r[i].east_m = (rf_test_uniform(seed) - 0.5) * 6e5;
    r[i].north_m = (rf_test_uniform(seed) - 0.5) * 6e5;
    r[i].up_m = rf_test_uniform(seed) * 1e4;
    r[i].v_east_mps = (rf_test_uniform(seed) - 0.5) * 600;
    r[i].v_north_mps = (rf_test_uniform(seed) - 0.5) * 600;
    r[i].v_up_mps = (rf_test_uniform(seed) - 0.5) * 20;
    double e[3] = {r[i].east_m, r[i].north_m, r[i].up_m};
    rf_enu_to_rae(e, &r[i].range_m, &r[i].azimuth_deg, &r[i].elevation_deg);
    r[i].radial_velocity_mps = (rf_test_uniform(seed) - 0.5) * 1000;
    r[i].latitude_deg = (rf_test_uniform(seed) - 0.5) * 180;
    r[i].longitude_deg = (rf_test_uniform(seed) - 0.5) * 360;
    r[i].altitude_m = r[i].up_m;
    r[i].pos_sigma_m = rf_test_uniform(seed) * 1000;
  }
}

START_TEST(asterix_round_trip) {
  uint64_t seed = 11;
  enum { N = 300 };
  static rf_track_row rows[N];
  static rf_asterix_record rec[2 * N];
  random_rows(rows, N, &seed);
  rf_asterix_source src = {1, 2, 3};
  uint8_t *buf;
  size_t len, n, skipped;
  ck_assert_int_eq(rf_asterix_encode_tracks(&src, rows, N, &buf, &len, &skipped), 0);
  ck_assert_int_eq(rf_asterix_decode(buf, len, rec, 2 * N, &n), 0);
  ck_assert_uint_eq(n, 2 * N - skipped);
  size_t k = 0;
  for (size_t i = 0; i < N; i++) { /* CAT048 first, rows beyond 256 NM left out */
    const rf_track_row *r = &rows[i];
    if (r->range_m > 255.99 * RF_ASTERIX_NM_M) continue;
    const rf_asterix_record *a = &rec[k++];
    ck_assert_int_eq(a->cat, 48);
    ck_assert_int_eq(a->sac, 1);
    ck_assert_double_eq_tol(a->range_m, r->range_m, AST_HALF_LSB * RF_ASTERIX_LSB_RHO_M);
    ck_assert_double_eq_tol(rf_wrap(a->azimuth_deg - r->azimuth_deg, 180), 0, AST_HALF_LSB * RF_ASTERIX_LSB_THETA_DEG);
    ck_assert_int_eq(a->track_number, r->track_id & 0xfff);
    ck_assert_double_eq_tol(a->ground_speed_mps, hypot(r->v_east_mps, r->v_north_mps), AST_HALF_LSB * RF_ASTERIX_LSB_GSP_MPS);
    ck_assert_int_eq(a->cnf, r->status == RF_TRACK_TENTATIVE);
    ck_assert_int_eq(a->tre, r->status == RF_TRACK_DELETED);
    ck_assert_int_eq(a->rad, 1);
    if (fabs(r->radial_velocity_mps) < 511) {
      ck_assert(a->items & (1u << 19));
      ck_assert_double_eq_tol(a->doppler_mps, r->radial_velocity_mps, AST_HALF_LSB);
    } else {
      ck_assert(!(a->items & (1u << 19)));
    }
  }
  ck_assert_uint_eq(k, N - skipped);
  for (size_t i = 0; i < N; i++) {
    const rf_track_row *r = &rows[i];
    const rf_asterix_record *a = &rec[k++];
    ck_assert_int_eq(a->cat, 62);
    ck_assert_int_eq(a->service_id, 3);
    double tod = fmod(r->time_s, 86400.0);
    ck_assert_double_eq_tol(a->tod_s, tod, AST_HALF_LSB * RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(a->lat_deg, r->latitude_deg, AST_HALF_LSB * RF_ASTERIX_LSB_LATLON_DEG);
    ck_assert_double_eq_tol(a->lon_deg, r->longitude_deg, AST_HALF_LSB * RF_ASTERIX_LSB_LATLON_DEG);
    ck_assert_double_eq_tol(a->x_m, r->east_m, AST_HALF_LSB * RF_ASTERIX_LSB_XY_M);
    ck_assert_double_eq_tol(a->y_m, r->north_m, AST_HALF_LSB * RF_ASTERIX_LSB_XY_M);
    ck_assert_double_eq_tol(a->vx_mps, r->v_east_mps, AST_HALF_LSB * RF_ASTERIX_LSB_V_MPS);
    ck_assert_double_eq_tol(a->vy_mps, r->v_north_mps, AST_HALF_LSB * RF_ASTERIX_LSB_V_MPS);
    ck_assert_double_eq_tol(a->alt_m, r->altitude_m, AST_HALF_LSB * RF_ASTERIX_LSB_ALT_M);
    ck_assert_double_eq_tol(a->apc_x_m, r->pos_sigma_m / sqrt(3.0), AST_HALF_LSB * RF_ASTERIX_LSB_APC_M);
    ck_assert_int_eq(a->track_number, r->track_id);
    ck_assert_int_eq(a->cnf62, r->status == RF_TRACK_TENTATIVE);
    ck_assert_int_eq(a->tse, r->status == RF_TRACK_DELETED);
    ck_assert_int_eq(a->cst, r->status == RF_TRACK_COASTING);
    ck_assert_int_eq(a->tsb, 1); /* ids rise row by row: every row is a first */
  }
  /* Blocks stay within one datagram. */
  for (size_t off = 0; off < len;) {
    size_t bl = ((size_t)buf[off + 1] << 8) | buf[off + 2];
    ck_assert_uint_le(bl, RF_ASTERIX_BLOCK_MAX);
    off += bl;
  }
  /* A truncated buffer is refused, naming the block. */
  ck_assert_int_eq(rf_asterix_decode(buf, len - 1, rec, 2 * N, &n), RF_EFORMAT);
  rf__free(buf);
}
END_TEST

/* ---- tshark ------------------------------------------------------------------------ */
/* Each data block as one UDP datagram to port 8600 in a pcap file. */
static void write_pcap(const char *ast, const char *pcap) {
  size_t len;
  unsigned char *d = (unsigned char *)rf_test_read_file(ast, &len);
  ck_assert_ptr_nonnull(d);
  FILE *f = fopen(pcap, "wb");
  ck_assert_ptr_nonnull(f);
  uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  fwrite(gh, 4, 6, f);
  for (size_t off = 0, i = 0; off < len; i++) {
    size_t bl = ((size_t)d[off + 1] << 8) | d[off + 2];
    unsigned char hdr[42] = {0};
    hdr[12] = 0x08; /* Ethernet: IPv4 */
    unsigned char *ip = hdr + 14, *udp = hdr + 34;
    size_t iplen = 20 + 8 + bl;
    ip[0] = 0x45, ip[2] = (unsigned char)(iplen >> 8), ip[3] = (unsigned char)iplen, ip[8] = 64, ip[9] = 17;
    ip[12] = ip[16] = 127, ip[15] = ip[19] = 1;
    udp[0] = udp[2] = 8600 >> 8, udp[1] = udp[3] = 8600 & 0xff;
    udp[4] = (unsigned char)((8 + bl) >> 8), udp[5] = (unsigned char)(8 + bl);
    uint32_t ph[4] = {(uint32_t)i, 0, (uint32_t)(42 + bl), (uint32_t)(42 + bl)};
    fwrite(ph, 4, 4, f);
    fwrite(hdr, 1, 42, f);
    fwrite(d + off, 1, bl, f);
    off += bl;
  }
  fclose(f);
  free(d);
}

/* Runs tshark -T fields on pcap for `nf` fields; returns, per field, every
 * value in packet and record order (one line per packet, values joined by
 * commas); count in *n. */
static size_t tshark_fields(const char *dir, const char *pcap, const char *const *fields, int nf,
                            double *out[], size_t max) {
  char txt[600];
  rf_test_join(txt, sizeof txt, dir, "tshark.txt");
  const char *argv[64];
  int a = 0;
  argv[a++] = TSHARK, argv[a++] = "-r", argv[a++] = pcap, argv[a++] = "-T", argv[a++] = "fields";
  argv[a++] = "-E", argv[a++] = "separator=/t";
  for (int k = 0; k < nf; k++) argv[a++] = "-e", argv[a++] = fields[k];
  argv[a] = NULL;
  ck_assert_int_eq(rf_test_run(txt, argv), 0);
  size_t len;
  char *s = rf_test_read_file(txt, &len);
  size_t cnt[16] = {0};
  for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
    if (!(line[0] == '-' || (line[0] >= '0' && line[0] <= '9'))) continue; /* tshark's own notes */
    char *p = line;
    for (int k = 0; k < nf; k++) {
      char *tab = strchr(p, '\t');
      if (tab) *tab = 0;
      for (char *v = p; *v;) {
        char *end;
        double x = strtod(v, &end);
        ck_assert(end != v);
        ck_assert_uint_lt(cnt[k], max);
        out[k][cnt[k]++] = x;
        v = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') break;
      }
      p = tab ? tab + 1 : p + strlen(p);
    }
  }
  free(s);
  for (int k = 1; k < nf; k++) ck_assert_uint_eq(cnt[k], cnt[0]);
  return cnt[0];
}

START_TEST(asterix_tshark) {
  if (access(TSHARK, X_OK) != 0) {
    fprintf(stderr, "asterix: SKIPPED the Wireshark decode test: %s is not installed\n", TSHARK);
    return;
  }
  char dir[512], p[512], pcap[512];
  rf_test_fresh_dir(dir, sizeof dir, "asterix_tshark");
  /* A scene: 6 targets, 12 scans, inside 256 NM, one target lost halfway
   * (coasting and deleted rows), plots straight from truth. */
  enum { NT = 6, NS = 12 };
  static rf_plot plots[NT * NS];
  size_t n = 0;
  uint64_t seed = 5;
  for (int s = 0; s < NS; s++)
    for (int k = 0; k < NT; k++) {
      if (k == 0 && s >= NS / 2) continue;
      double t = 4.0 * s, x[6] = {-2e4 + 9e3 * k, 3e4 + 1e4 * k, 3000 + 500 * k, 150 - 40 * k, -100 + 30 * k, 0};
      double pos[6];
      for (int i = 0; i < 3; i++) pos[i] = x[i] + x[3 + i] * t, pos[3 + i] = x[3 + i];
      double z[4];
      rf_track_h(pos, z);
      rf_plot *pl = &plots[n++];
      pl->time_s = 1.7e9 + t, pl->dwell = s, pl->range_m = z[0] + rf_test_gauss(&seed) * 5;
      pl->azimuth_deg = z[1], pl->elevation_deg = z[2], pl->radial_velocity_mps = z[3], pl->snr_db = 30;
      double u[3];
      rf_direction(pl->azimuth_deg, pl->elevation_deg, u);
      pl->east_m = pl->range_m * u[0], pl->north_m = pl->range_m * u[1], pl->up_m = pl->range_m * u[2];
    }
  rf_config cfg;
  rf_config_defaults(&cfg);
  cfg.trk_max_speed = 400;
  rf_track_sensor sen = {.range_cell_m = 30, .doppler_cell_mps = 1, .beamwidth_az_deg = 1.5,
                         .beamwidth_el_deg = 1.5, .site_latitude_deg = 52, .site_longitude_deg = 4.4,
                         .site_altitude_m = 10};
  rf_product_info info = {.source_path = "scene", .radar_name = "scene", .site_latitude_deg = 52,
                          .site_longitude_deg = 4.4, .site_altitude_m = 10};
  size_t ntracks;
  ck_assert_int_eq(rf_track_products_sensor(plots, n, &cfg, &sen, &info, dir, &ntracks), 0);
  rf_track_list rows = {0};
  ck_assert_int_eq(rf_tracks_read(rf_test_join(p, sizeof p, dir, "tracks.csv"), &rows), 0);
  int statuses = 0;
  for (size_t i = 0; i < rows.n; i++) statuses |= 1 << rows.v[i].status;
  ck_assert_int_eq(statuses, 0xf); /* every status is exercised */

  enum { MAXV = 1024 };
  static double v[12][MAXV];
  double *o[12];
  for (int k = 0; k < 12; k++) o[k] = v[k];
  /* Plots: CAT048. */
  rf_test_join(pcap, sizeof pcap, dir, "plots.pcap");
  write_pcap(rf_test_join(p, sizeof p, dir, "plots.ast"), pcap);
  const char *pf[] = {"asterix.048_010_SAC", "asterix.048_010_SIC", "asterix.048_140_VALUE",
                      "asterix.048_040_RHO", "asterix.048_040_THETA", "asterix.048_120_CAL_CAL",
                      "asterix.048_020_TYP"};
  size_t m = tshark_fields(dir, pcap, pf, 7, o, MAXV);
  ck_assert_uint_eq(m, n);
  for (size_t i = 0; i < n; i++) {
    ck_assert(v[0][i] == cfg.ast_sac && v[1][i] == cfg.ast_sic && v[6][i] == 1);
    ck_assert_double_eq_tol(v[2][i], fmod(plots[i].time_s, 86400), RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(v[3][i] * RF_ASTERIX_NM_M, plots[i].range_m, RF_ASTERIX_LSB_RHO_M);
    ck_assert_double_eq_tol(v[4][i], plots[i].azimuth_deg, RF_ASTERIX_LSB_THETA_DEG);
    ck_assert_double_eq_tol(v[5][i], plots[i].radial_velocity_mps, RF_ASTERIX_LSB_DOPPLER_MPS);
  }
  /* Tracks: CAT048 track reports, then CAT062. */
  rf_test_join(pcap, sizeof pcap, dir, "tracks.pcap");
  write_pcap(rf_test_join(p, sizeof p, dir, "tracks.ast"), pcap);
  const char *tf[] = {"asterix.048_140_VALUE", "asterix.048_040_RHO", "asterix.048_040_THETA",
                      "asterix.048_161_TRN", "asterix.048_200_GSP", "asterix.048_200_HDG",
                      "asterix.048_170_CNF", "asterix.048_170_TRE"};
  m = tshark_fields(dir, pcap, tf, 8, o, MAXV);
  ck_assert_uint_eq(m, rows.n);
  for (size_t i = 0; i < rows.n; i++) {
    const rf_track_row *r = &rows.v[i];
    double hd = atan2(r->v_east_mps, r->v_north_mps) * 180 / RF_PI;
    ck_assert_double_eq_tol(v[0][i], fmod(r->time_s, 86400), RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(v[1][i] * RF_ASTERIX_NM_M, r->range_m, RF_ASTERIX_LSB_RHO_M);
    ck_assert_double_eq_tol(rf_wrap(v[2][i] - r->azimuth_deg, 180), 0, RF_ASTERIX_LSB_THETA_DEG);
    ck_assert_int_eq((int)v[3][i], r->track_id);
    ck_assert_double_eq_tol(v[4][i] * RF_ASTERIX_NM_M, hypot(r->v_east_mps, r->v_north_mps), RF_ASTERIX_LSB_GSP_MPS);
    ck_assert_double_eq_tol(rf_wrap(v[5][i] - hd, 180), 0, RF_ASTERIX_LSB_HDG_DEG);
    ck_assert_int_eq((int)v[6][i], r->status == RF_TRACK_TENTATIVE);
    ck_assert_int_eq((int)v[7][i], r->status == RF_TRACK_DELETED);
  }
  const char *gf[] = {"asterix.062_070_VALUE", "asterix.062_105_LAT", "asterix.062_105_LON",
                      "asterix.062_100_X",     "asterix.062_100_Y",   "asterix.062_185_VX",
                      "asterix.062_185_VY",    "asterix.062_040_VALUE", "asterix.062_080_CNF",
                      "asterix.062_080_CST",   "asterix.062_130_VALUE", "asterix.062_500_APC_X"};
  m = tshark_fields(dir, pcap, gf, 12, o, MAXV);
  ck_assert_uint_eq(m, rows.n);
  for (size_t i = 0; i < rows.n; i++) {
    const rf_track_row *r = &rows.v[i];
    ck_assert_double_eq_tol(v[0][i], fmod(r->time_s, 86400), RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(v[1][i], r->latitude_deg, RF_ASTERIX_LSB_LATLON_DEG);
    ck_assert_double_eq_tol(v[2][i], r->longitude_deg, RF_ASTERIX_LSB_LATLON_DEG);
    ck_assert_double_eq_tol(v[3][i], r->east_m, RF_ASTERIX_LSB_XY_M);
    ck_assert_double_eq_tol(v[4][i], r->north_m, RF_ASTERIX_LSB_XY_M);
    ck_assert_double_eq_tol(v[5][i], r->v_east_mps, RF_ASTERIX_LSB_V_MPS);
    ck_assert_double_eq_tol(v[6][i], r->v_north_mps, RF_ASTERIX_LSB_V_MPS);
    ck_assert_int_eq((int)v[7][i], r->track_id);
    ck_assert_int_eq((int)v[8][i], r->status == RF_TRACK_TENTATIVE);
    ck_assert_int_eq((int)v[9][i], r->status == RF_TRACK_COASTING);
    ck_assert_double_eq_tol(v[10][i] * 0.3048, r->altitude_m, RF_ASTERIX_LSB_ALT_M);
    ck_assert_double_eq_tol(v[11][i], r->pos_sigma_m / sqrt(3.0), RF_ASTERIX_LSB_APC_M);
  }
  fprintf(stderr, "asterix: tshark decoded %zu CAT048 plots, %zu CAT048 track reports and %zu CAT062 tracks, all within one LSB\n",
          n, rows.n, rows.n);
  rf_track_list_free(&rows);
}
END_TEST

Suite *test_asterix_suite(void) {
  Suite *s = suite_create("test_asterix_suite");
  TCase *tc = tcase_create("asterix");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, asterix_known_vectors);
  tcase_add_test(tc, asterix_round_trip);
  tcase_add_test(tc, asterix_tshark);
  suite_add_tcase(s, tc);
  return s;
}
