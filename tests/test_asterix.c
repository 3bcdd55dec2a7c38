/* ASTERIX (io/rf_asterix.h): known byte vectors worked out by hand from the
 * category specifications (CAT015 ed. 1.1, CAT048 ed. 1.31, CAT062 ed.
 * 1.19) and docs/asterix.md's Special Purpose field, round trips through
 * the decoder, and - when tshark is installed - Wireshark's own dissector
 * reading the plots.pcap and tracks.pcap the track products write for a
 * scene with aircraft, far plots and a ballistic missile: no malformed
 * packet, every field against the CSV rows within one LSB, the Special
 * Purpose fields (time to go, impact point, modes) decoded here from
 * tshark's raw bytes. */
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
                    .altitude_m = 1905, .pos_sigma_m = 100 * sqrt(3.0), .time_to_go_s = 100.5,
                    .impact_time_s = 1700000100.5, .impact_latitude_deg = 45.5, .impact_longitude_deg = -90.25,
                    .imm_cv_prob = 0.2, .imm_manoeuvre_prob = 0.3, .imm_ballistic_prob = 0.5};
  static const uint8_t trk048[] = {0xF1, 0x17, 0x04,          /* 010 140 020 040 / 161 200 170 / 120 */
                                   0x07, 0x09, 0x9C, 0x40, 0x40, 0x20, 0x0A, 0x00, 0x40, 0x00,
                                   0x01, 0x2C,                /* 161: 300 */
                                   0x00, 0x5E, 0x4B, 0x9A,    /* 200: 10.68 m/s = 94 LSB, 106.3 deg */
                                   0x21, 0x00,                /* 170: confirmed, RAD 01, FX; TRE 0 */
                                   0x80, 0x03, 0xB0};
  check_bytes(rec, rf_asterix_cat048_track(rec, &src, &r), trk048, sizeof trk048);

  static const uint8_t trk062[] = {0xBF, 0x0D, 0x11, 0x05, 0x02, /* 010 015 070 105 100 185 / 040 080 / 130 / 500 / SP */
                                   0x07, 0x09, 0x05, 0x9C, 0x40, 0x40,
                                   0x00, 0x80, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, /* 105: 45, -90 deg */
                                   0x00, 0x07, 0xD1, 0xFF, 0xF0, 0x60,             /* 100: 2001, -4000 */
                                   0x00, 0x29, 0xFF, 0xF4,                         /* 185: 41, -12 */
                                   0x01, 0x2C,                                     /* 040: 300 */
                                   0x89, 0x21, 0x01, 0x00,   /* 080: MON SRC=3D radar; TSB; -; CST 0 */
                                   0x03, 0xE8,                                     /* 130: 1000 x 6.25 ft */
                                   0x80, 0x00, 0xC8, 0x00, 0xC8,                   /* 500: APC 100 m */
                                   /* SP: LEN 19; TTG IMP MOD; 100.5 s x 128; impact at 80100.5 s,
                                    * 45.5 and -90.25 deg in 180/2^31; 0.2 0.3 0.5 x 255 */
                                   0x13, 0x38, 0x00, 0x32, 0x40, 0x9C, 0x72, 0x40, 0x20, 0x5B, 0x05, 0xB0,
                                   0xBF, 0xD2, 0x7D, 0x28, 0x33, 0x4C, 0x80};
  check_bytes(rec, rf_asterix_cat062_track(rec, &src, &r, 1), trk062, sizeof trk062);

  /* CAT015: a plot 500 km straight up from a site on the equator at 0 E:
   * WGS-84 (0, 0), height 500 km (beyond I015/601: in SP HGT), range 500 km
   * (I015/625: 5e6 x 0.1 m), elevation +90 (not codable in I015/628's
   * signed 16 bits: left out), closing at 80 m/s, 20 dB. */
  rf_geo_site eq;
  rf_geo_site_init(&eq, 0, 0, 0);
  rf_plot up = {.time_s = 1700000000.5, .range_m = 500e3, .azimuth_deg = 0, .elevation_deg = 90,
                .radial_velocity_mps = -80, .snr_db = 20, .up_m = 500e3};
  static const uint8_t plot015[] = {0xD5, 0x05, 0x07, 0xA8,   /* 010 000 020 145 / 600 / 625 626 / 627 630 SP */
                                    0x07, 0x09,                /* 010 */
                                    0x03,                      /* 000: measurement plot, event driven */
                                    0x00,                      /* 020: mono-static, actual, scan unknown */
                                    0x9C, 0x40, 0x40,          /* 145: 80000.5 x 128 */
                                    0x80, 0, 0, 0, 0, 0, 0, 0, 0, /* 600: P84 0, 0 */
                                    0x80, 0x4C, 0x4B, 0x40,    /* 625: R 5000000 x 0.1 m */
                                    0x80, 0xFF, 0xE0, 0xC0,    /* 626: DV -8000 x 0.01 m/s */
                                    0x80, 0x00, 0x00,          /* 627: AZ 0 */
                                    0x10, 0x14,                /* 630: RPS 20 dB */
                                    0x06, 0x40, 0x00, 0x4C, 0x4B, 0x40}; /* SP: LEN 6, HGT 5000000 x 0.1 m */
  check_bytes(rec, rf_asterix_cat015_plot(rec, &src, &eq, &up), plot015, sizeof plot015);

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
    r[i].up_m = rf_test_uniform(seed) * (i % 3 ? 1e4 : 4e5); /* a third above I062/130's 62.4 km */
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
    r[i].time_to_go_s = i % 5 ? rf_test_uniform(seed) * 3000 : NAN;
    int bal = i % 2;
    r[i].impact_time_s = bal ? r[i].time_s + 10 + 500 * rf_test_uniform(seed) : NAN;
    r[i].impact_latitude_deg = bal ? (rf_test_uniform(seed) - 0.5) * 170 : NAN;
    r[i].impact_longitude_deg = bal ? (rf_test_uniform(seed) - 0.5) * 350 : NAN;
    double a = rf_test_uniform(seed), b = rf_test_uniform(seed) * (1 - a);
    r[i].imm_cv_prob = a, r[i].imm_manoeuvre_prob = b, r[i].imm_ballistic_prob = 1 - a - b;
  }
}

/* The Special Purpose field of a track row against the row (docs/asterix.md). */
static void check_sp_row(const rf_asterix_record *a, const rf_track_row *r) {
  ck_assert(a->sp_items & RF_ASTERIX_SP_MOD);
  ck_assert_double_eq_tol(a->sp_mode_prob[0], r->imm_cv_prob, AST_HALF_LSB * RF_ASTERIX_LSB_SP_PROB);
  ck_assert_double_eq_tol(a->sp_mode_prob[1], r->imm_manoeuvre_prob, AST_HALF_LSB * RF_ASTERIX_LSB_SP_PROB);
  ck_assert_double_eq_tol(a->sp_mode_prob[2], r->imm_ballistic_prob, AST_HALF_LSB * RF_ASTERIX_LSB_SP_PROB);
  ck_assert_int_eq(!!(a->sp_items & RF_ASTERIX_SP_TTG), isfinite(r->time_to_go_s));
  if (isfinite(r->time_to_go_s))
    ck_assert_double_eq_tol(a->sp_time_to_go_s, r->time_to_go_s, AST_HALF_LSB * RF_ASTERIX_LSB_TOD_S);
  ck_assert_int_eq(!!(a->sp_items & RF_ASTERIX_SP_IMP), isfinite(r->impact_time_s));
  if (isfinite(r->impact_time_s)) {
    ck_assert_double_eq_tol(a->sp_impact_tod_s, fmod(r->impact_time_s, 86400), AST_HALF_LSB * RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(a->sp_impact_lat_deg, r->impact_latitude_deg, AST_HALF_LSB * RF_ASTERIX_LSB_P84_DEG);
    ck_assert_double_eq_tol(a->sp_impact_lon_deg, r->impact_longitude_deg, AST_HALF_LSB * RF_ASTERIX_LSB_P84_DEG);
  }
  /* Height beyond I062/130 (+-204800 ft) in SP HGT, else in I062/130. */
  int in130 = fabs(r->altitude_m) < 204800 * 0.3048;
  ck_assert_int_eq(!!(a->items & (1ull << 17)), in130);
  ck_assert_int_eq(!!(a->sp_items & RF_ASTERIX_SP_HGT), !in130);
  if (!in130) ck_assert_double_eq_tol(a->sp_height_m, r->altitude_m, AST_HALF_LSB * RF_ASTERIX_LSB_SP_M);
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
  /* Each row (its own time: its own update) as a CAT048 track report
   * (left out beyond 256 NM), then a CAT062 system track. */
  size_t k = 0, n048 = 0;
  for (size_t i = 0; i < N; i++) {
    const rf_track_row *r = &rows[i];
    if (r->range_m <= 255.99 * RF_ASTERIX_NM_M) {
      const rf_asterix_record *a = &rec[k++];
      n048++;
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
    if (a->items & (1ull << 17)) ck_assert_double_eq_tol(a->alt_m, r->altitude_m, AST_HALF_LSB * RF_ASTERIX_LSB_ALT_M);
    ck_assert_double_eq_tol(a->apc_x_m, r->pos_sigma_m / sqrt(3.0), AST_HALF_LSB * RF_ASTERIX_LSB_APC_M);
    ck_assert_int_eq(a->track_number, r->track_id);
    ck_assert_int_eq(a->cnf62, r->status == RF_TRACK_TENTATIVE);
    ck_assert_int_eq(a->tse, r->status == RF_TRACK_DELETED);
    ck_assert_int_eq(a->cst, r->status == RF_TRACK_COASTING);
    ck_assert_int_eq(a->tsb, 1); /* ids rise row by row: every row is a first */
    check_sp_row(a, r);
  }
  ck_assert_uint_eq(n048, N - skipped);
  ck_assert_uint_eq(k, n);
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

/* One's complement sum of big-endian 16-bit words, byte by byte (RFC 1071),
 * independent of io/asterix.c's word-wise sum. */
static uint32_t csum_bytes(uint32_t sum, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
  return sum;
}
static uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

/* tracks.pcap of random rows (odd and even payload lengths): every IPv4
 * header and UDP checksum verifies (the sum over the covered bytes, the
 * checksum included, is 0xffff), every frame length matches. */
START_TEST(asterix_pcap_checksums) {
  char dir[512], ast[512], pcap[512];
  rf_test_fresh_dir(dir, sizeof dir, "asterix_csum");
  rf_test_join(ast, sizeof ast, dir, "tracks.ast");
  rf_test_join(pcap, sizeof pcap, dir, "tracks.pcap");
  uint64_t seed = 5;
  enum { N = 400 };
  static rf_track_row rows[N];
  random_rows(rows, N, &seed);
  rf_asterix_source src = {1, 2, 3};
  rf_geo_site site;
  rf_geo_site_init(&site, 52, 4.4, 10);
  rf_asterix_writer *w;
  ck_assert_int_eq(rf_asterix_writer_create(&w, ast, pcap, &src, &site), 0);
  for (size_t i = 0; i < N; i += 7) ck_assert_int_eq(rf_asterix_writer_tracks(w, rows + i, N - i < 7 ? N - i : 7), 0);
  ck_assert_int_eq(rf_asterix_writer_commit(w), 0);
  size_t len;
  uint8_t *b = (uint8_t *)rf_test_read_file(pcap, &len);
  ck_assert_ptr_nonnull(b);
  size_t off = 24, frames = 0, odd = 0;
  while (off < len) {
    ck_assert_uint_le(off + 16, len);
    uint32_t incl = (uint32_t)b[off + 8] | (uint32_t)b[off + 9] << 8 | (uint32_t)b[off + 10] << 16 |
                    (uint32_t)b[off + 11] << 24; /* written little-endian */
    const uint8_t *eth = b + off + 16, *ip = eth + 14, *udp = ip + 20;
    ck_assert_uint_le(off + 16 + incl, len);
    size_t ulen = (size_t)udp[4] << 8 | udp[5];
    ck_assert_uint_eq(14 + 20 + ulen, incl);
    ck_assert_uint_eq(csum_fold(csum_bytes(0, ip, 20)), 0xffff);
    uint8_t pseudo[12] = {ip[12], ip[13], ip[14], ip[15], ip[16], ip[17], ip[18], ip[19], 0, 17, udp[4], udp[5]};
    ck_assert_uint_eq(csum_fold(csum_bytes(csum_bytes(0, pseudo, 12), udp, ulen)), 0xffff);
    odd += ulen % 2;
    frames++;
    off += 16 + incl;
  }
  ck_assert_uint_eq(off, len);
  ck_assert_uint_gt(frames, 50);
  ck_assert_uint_gt(odd, 0);
  free(b);
}
END_TEST

/* Random plots from 10 km to 1400 km (CAT048 within 256 NM, CAT015 beyond
 * it; beyond I015/625's 838.9 km the range goes to SP RNG, above I015/601's
 * 83.3 km the height to SP HGT). */
START_TEST(asterix_plots_round_trip) {
  uint64_t seed = 12;
  enum { N = 400 };
  static rf_plot p[N];
  static rf_asterix_record rec[N];
  rf_geo_site site;
  rf_geo_site_init(&site, 54.36, -0.67, 260);
  for (size_t i = 0; i < N; i++) {
    memset(&p[i], 0, sizeof p[i]);
    p[i].time_s = 1.7e9 + 0.5 * (double)(i / 4); /* four plots a dwell */
    p[i].range_m = 1e4 + 1.39e6 * rf_test_uniform(&seed);
    p[i].azimuth_deg = 360 * rf_test_uniform(&seed);
    p[i].elevation_deg = 30 * rf_test_uniform(&seed);
    p[i].radial_velocity_mps = (rf_test_uniform(&seed) - 0.5) * 11.5;
    p[i].snr_db = 13 + 40 * rf_test_uniform(&seed);
    double u[3];
    rf_direction(p[i].azimuth_deg, p[i].elevation_deg, u);
    p[i].east_m = p[i].range_m * u[0], p[i].north_m = p[i].range_m * u[1], p[i].up_m = p[i].range_m * u[2];
  }
  rf_asterix_source src = {1, 2, 3};
  uint8_t *buf;
  size_t len, n, n015, k = 0, seen015 = 0;
  ck_assert_int_eq(rf_asterix_encode_plots(&src, &site, p, N, &buf, &len, &n015), 0);
  ck_assert_int_eq(rf_asterix_decode(buf, len, rec, N, &n), 0);
  ck_assert_uint_eq(n, N);
  /* Per dwell: its CAT048 plots, then its CAT015 plots. */
  for (size_t d = 0; d < N / 4; d++)
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 4 * d; i < 4 * d + 4; i++) {
        int far = p[i].range_m > 255.99 * RF_ASTERIX_NM_M;
        if (far != pass) continue;
        const rf_asterix_record *a = &rec[k++];
        ck_assert_int_eq(a->cat, far ? 15 : 48);
        if (!far) {
          ck_assert_double_eq_tol(a->range_m, p[i].range_m, AST_HALF_LSB * RF_ASTERIX_LSB_RHO_M);
          continue;
        }
        seen015++;
        double lat, lon, h, e[3] = {p[i].east_m, p[i].north_m, p[i].up_m};
        rf_geo_enu_to_geodetic(&site, e, &lat, &lon, &h);
        ck_assert_int_eq(a->msg_type, 1);
        ck_assert_double_eq_tol(a->tod_s, fmod(p[i].time_s, 86400), AST_HALF_LSB * RF_ASTERIX_LSB_TOD_S);
        ck_assert_double_eq_tol(a->lat_deg, lat, AST_HALF_LSB * RF_ASTERIX_LSB_P84_DEG);
        ck_assert_double_eq_tol(a->lon_deg, lon, AST_HALF_LSB * RF_ASTERIX_LSB_P84_DEG);
        if (fabs(h) < 83286) ck_assert_double_eq_tol(a->alt_m, h, AST_HALF_LSB * RF_ASTERIX_LSB_GH_M);
        else ck_assert_double_eq_tol(a->sp_height_m, h, AST_HALF_LSB * RF_ASTERIX_LSB_SP_M);
        if (p[i].range_m < 838860) ck_assert_double_eq_tol(a->range_m, p[i].range_m, AST_HALF_LSB * RF_ASTERIX_LSB_R015_M);
        else ck_assert_double_eq_tol(a->sp_range_m, p[i].range_m, AST_HALF_LSB * RF_ASTERIX_LSB_SP_M);
        ck_assert_double_eq_tol(a->doppler_mps, p[i].radial_velocity_mps, AST_HALF_LSB * RF_ASTERIX_LSB_DV_MPS);
        ck_assert_double_eq_tol(rf_wrap(a->azimuth_deg - p[i].azimuth_deg, 180), 0, AST_HALF_LSB * RF_ASTERIX_LSB_THETA_DEG);
        ck_assert_double_eq_tol(a->elevation_deg, p[i].elevation_deg, AST_HALF_LSB * RF_ASTERIX_LSB_EL015_DEG);
        ck_assert_double_eq_tol(a->snr_db, p[i].snr_db, AST_HALF_LSB);
      }
  ck_assert_uint_eq(seen015, n015);
  ck_assert_uint_gt(n015, N / 2);
  rf__free(buf);
}
END_TEST

/* ---- tshark ------------------------------------------------------------------------ */
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
    if (!(line[0] == '-' || (line[0] >= '0' && line[0] <= '9'))) continue; /* tshark's own notes, empty packets */
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

/* Frames tshark flags as malformed, or with an expert error, in pcap. */
static size_t tshark_bad_frames(const char *dir, const char *pcap) {
  char txt[600];
  rf_test_join(txt, sizeof txt, dir, "tshark-bad.txt");
  const char *argv[] = {TSHARK, "-r", pcap, "-Y", "_ws.malformed || _ws.expert.severity >= 0x00600000", "-T", "fields",
                        "-e", "frame.number", NULL};
  ck_assert_int_eq(rf_test_run(txt, argv), 0);
  size_t len, bad = 0;
  char *s = rf_test_read_file(txt, &len);
  for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
    if (line[0] >= '0' && line[0] <= '9') bad++;
  free(s);
  return bad;
}

/* The raw bytes of every `field` (a Special Purpose field) in pcap, from
 * tshark's JSON with -x ("<field>_raw": ["hex", ...]), one after another
 * into out; returns the number of fields found. */
static size_t tshark_raw(const char *dir, const char *pcap, const char *field, uint8_t *out, size_t cap,
                         size_t *used) {
  char txt[600], key[128];
  rf_test_join(txt, sizeof txt, dir, "tshark.json");
  const char *argv[] = {TSHARK, "-r", pcap, "-T", "json", "-x", NULL};
  ck_assert_int_eq(rf_test_run(txt, argv), 0);
  size_t len, n = 0;
  *used = 0;
  char *s = rf_test_read_file(txt, &len);
  snprintf(key, sizeof key, "\"%s_raw\"", field);
  for (char *p = strstr(s, key); p; p = strstr(p + 1, key)) {
    char *q = strchr(p + strlen(key), '"');
    ck_assert_ptr_nonnull(q);
    for (q++; *q != '"'; q += 2) {
      unsigned v;
      ck_assert(sscanf(q, "%2x", &v) == 1);
      ck_assert_uint_lt(*used, cap);
      out[(*used)++] = (uint8_t)v;
    }
    n++;
  }
  free(s);
  return n;
}

/* One Special Purpose field as docs/asterix.md lays it out, decoded here. */
typedef struct sp_field {
  unsigned ind;
  double range_m, height_m, ttg_s, imp_tod_s, imp_lat_deg, imp_lon_deg, prob[3];
} sp_field;

static uint32_t sp_u(const uint8_t *b, size_t *o, int nb) {
  uint32_t v = 0;
  for (int k = 0; k < nb; k++) v = v << 8 | b[(*o)++];
  return v;
}

static size_t sp_parse(const uint8_t *b, sp_field *f) {
  size_t len = b[0], o = 2;
  memset(f, 0, sizeof *f);
  f->ind = b[1];
  if (f->ind & 0x80) f->range_m = sp_u(b, &o, 4) * 0.1;
  if (f->ind & 0x40) f->height_m = (int32_t)sp_u(b, &o, 4) * 0.1;
  if (f->ind & 0x20) f->ttg_s = sp_u(b, &o, 3) / 128.0;
  if (f->ind & 0x10) {
    f->imp_tod_s = sp_u(b, &o, 3) / 128.0;
    f->imp_lat_deg = (int32_t)sp_u(b, &o, 4) * (180.0 / 2147483648.0);
    f->imp_lon_deg = (int32_t)sp_u(b, &o, 4) * (180.0 / 2147483648.0);
  }
  if (f->ind & 0x08)
    for (int k = 0; k < 3; k++) f->prob[k] = sp_u(b, &o, 1) / 255.0;
  ck_assert_uint_eq(o, len);
  return len;
}

START_TEST(asterix_tshark) {
  if (access(TSHARK, X_OK) != 0) {
    fprintf(stderr, "asterix: SKIPPED the Wireshark decode test: %s is not installed\n", TSHARK);
    return;
  }
  char dir[512], p[512], pcap[512];
  rf_test_fresh_dir(dir, sizeof dir, "asterix_tshark");
  /* A scene: 6 aircraft within 256 NM (one lost halfway: coasting and
   * deleted rows), 3 far aircraft at 600-1000 km (CAT015 plots), and a
   * missile on a Keplerian path (tests/testutil.c) at 700-800 km coming
   * in at 3 km/s (ballistic rows: time to go, impact point, its height
   * above I062/130's reach), scans every 2 s. */
  enum { NT = 6, NF = 3, NS = 30, MAXP = NS * (NT + NF + 1) };
  static rf_plot plots[MAXP];
  size_t n = 0;
  uint64_t seed = 5;
  const double lat0 = 52, lon0 = 4.4, alt0 = 10;
  rf_test_earth earth = rf_test_earth_at(lat0, lon0, alt0);
  double mis[6] = {100e3, 700e3, 300e3, -100, -2600, -900};
  for (int s = 0; s < NS; s++) {
    double t = 2.0 * s;
    for (int k = 0; k < NT + NF + 1; k++) {
      if (k == 0 && s >= NS / 2) continue;
      double pos[6];
      if (k < NT + NF) {
        double far = k >= NT ? 6e5 + 2e5 * (k - NT) : 0;
        double x[6] = {-2e4 + 9e3 * k, 3e4 + 1e4 * k + far, 3000 + 500 * k, 150 - 40 * k, -100 + 30 * k, 0};
        for (int i = 0; i < 3; i++) pos[i] = x[i] + x[3 + i] * t, pos[3 + i] = x[3 + i];
      } else {
        memcpy(pos, mis, sizeof pos);
        rf_test_ballistic_integrate(&earth, pos, t);
      }
      double z[4];
      rf_track_h(pos, z);
      rf_plot *pl = &plots[n++];
      pl->time_s = 1.7e9 + t, pl->dwell = s, pl->range_m = z[0] + rf_test_gauss(&seed) * 5;
      pl->azimuth_deg = z[1], pl->elevation_deg = z[2], pl->radial_velocity_mps = z[3], pl->snr_db = 30;
      double u[3];
      rf_direction(pl->azimuth_deg, pl->elevation_deg, u);
      pl->east_m = pl->range_m * u[0], pl->north_m = pl->range_m * u[1], pl->up_m = pl->range_m * u[2];
    }
  }
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_track_sensor sen = {.range_cell_m = 30, .doppler_cell_mps = 1, .beamwidth_az_deg = 1.5,
                         .beamwidth_el_deg = 1.5, .site_latitude_deg = lat0, .site_longitude_deg = lon0,
                         .site_altitude_m = alt0};
  rf_product_info info = {.source_path = "scene", .radar_name = "scene", .site_latitude_deg = lat0,
                          .site_longitude_deg = lon0, .site_altitude_m = alt0};
  size_t ntracks;
  ck_assert_int_eq(rf_track_products_sensor(plots, n, &cfg, &sen, &info, dir, &ntracks), 0);
  rf_track_list rows = {0};
  ck_assert_int_eq(rf_tracks_read(rf_test_join(p, sizeof p, dir, "tracks.csv"), &rows), 0);
  int statuses = 0;
  size_t ballistic = 0;
  for (size_t i = 0; i < rows.n; i++) {
    statuses |= 1 << rows.v[i].status;
    ballistic += isfinite(rows.v[i].impact_time_s);
  }
  ck_assert_int_eq(statuses, 0xf); /* every status is exercised */
  ck_assert_uint_gt(ballistic, 5);
  rf_geo_site site;
  rf_geo_site_init(&site, lat0, lon0, alt0);

  enum { MAXV = 4096 };
  static double v[12][MAXV];
  double *o[12];
  for (int k = 0; k < 12; k++) o[k] = v[k];
  /* plots.pcap: CAT048 within 256 NM, CAT015 beyond, per scan. */
  rf_test_join(pcap, sizeof pcap, dir, "plots.pcap");
  ck_assert_uint_eq(tshark_bad_frames(dir, pcap), 0);
  static rf_plot near[MAXP], farp[MAXP];
  size_t nn = 0, nf = 0;
  for (size_t i = 0; i < n; i++) {
    if (plots[i].range_m <= 255.99 * RF_ASTERIX_NM_M) near[nn++] = plots[i];
    else farp[nf++] = plots[i];
  }
  ck_assert_uint_ge(nf, NS * NF);
  const char *pf[] = {"asterix.048_010_SAC", "asterix.048_010_SIC", "asterix.048_140_VALUE",
                      "asterix.048_040_RHO", "asterix.048_040_THETA", "asterix.048_120_CAL_CAL",
                      "asterix.048_020_TYP"};
  size_t m = tshark_fields(dir, pcap, pf, 7, o, MAXV);
  ck_assert_uint_eq(m, nn);
  for (size_t i = 0; i < nn; i++) {
    ck_assert(v[0][i] == cfg.ast_sac && v[1][i] == cfg.ast_sic && v[6][i] == 1);
    ck_assert_double_eq_tol(v[2][i], fmod(near[i].time_s, 86400), RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(v[3][i] * RF_ASTERIX_NM_M, near[i].range_m, RF_ASTERIX_LSB_RHO_M);
    ck_assert_double_eq_tol(v[4][i], near[i].azimuth_deg, RF_ASTERIX_LSB_THETA_DEG);
    ck_assert_double_eq_tol(v[5][i], near[i].radial_velocity_mps, RF_ASTERIX_LSB_DOPPLER_MPS);
  }
  const char *ff[] = {"asterix.015_010_SAC", "asterix.015_000_MT", "asterix.015_145_VALUE",
                      "asterix.015_600_P84_LATITUDE", "asterix.015_600_P84_LONGITUDE", "asterix.015_626_DV_VALUE",
                      "asterix.015_627_AZ_VALUE", "asterix.015_628_EL_VALUE", "asterix.015_630_RPS_VALUE"};
  m = tshark_fields(dir, pcap, ff, 9, o, MAXV);
  ck_assert_uint_eq(m, nf);
  static uint8_t raw[MAXV * 16];
  size_t used;
  size_t nsp = tshark_raw(dir, pcap, "asterix.015_SP", raw, sizeof raw, &used);
  size_t off = 0, with_sp = 0;
  for (size_t i = 0; i < nf; i++) {
    const rf_plot *q = &farp[i];
    double lat, lon, h, e[3] = {q->east_m, q->north_m, q->up_m};
    rf_geo_enu_to_geodetic(&site, e, &lat, &lon, &h);
    ck_assert(v[0][i] == cfg.ast_sac && v[1][i] == 1);
    ck_assert_double_eq_tol(v[2][i], fmod(q->time_s, 86400), RF_ASTERIX_LSB_TOD_S);
    ck_assert_double_eq_tol(v[3][i], lat, RF_ASTERIX_LSB_P84_DEG);
    ck_assert_double_eq_tol(v[4][i], lon, RF_ASTERIX_LSB_P84_DEG);
    ck_assert_double_eq_tol(v[5][i], q->radial_velocity_mps, RF_ASTERIX_LSB_DV_MPS);
    ck_assert_double_eq_tol(rf_wrap(v[6][i] - q->azimuth_deg, 180), 0, RF_ASTERIX_LSB_THETA_DEG);
    ck_assert_double_eq_tol(v[7][i], q->elevation_deg, RF_ASTERIX_LSB_EL015_DEG);
    ck_assert_double_eq_tol(v[8][i], q->snr_db, 1.0);
    if (q->range_m < 838860 && fabs(h) < 83286) continue; /* nothing beyond I015/625 and /601 */
    sp_field f;
    ck_assert_uint_lt(off, used);
    off += sp_parse(raw + off, &f);
    with_sp++;
    if (q->range_m >= 838860) ck_assert_double_eq_tol(f.range_m, q->range_m, RF_ASTERIX_LSB_SP_M);
    if (fabs(h) >= 83286) ck_assert_double_eq_tol(f.height_m, h, RF_ASTERIX_LSB_SP_M);
  }
  ck_assert_uint_eq(with_sp, nsp);
  ck_assert_uint_gt(nsp, 0);

  /* tracks.pcap: per update, CAT048 track reports, then CAT062. */
  rf_test_join(pcap, sizeof pcap, dir, "tracks.pcap");
  ck_assert_uint_eq(tshark_bad_frames(dir, pcap), 0);
  static rf_track_row r48[MAXV];
  size_t n48 = 0;
  for (size_t i = 0; i < rows.n; i++)
    if (rows.v[i].range_m <= 255.99 * RF_ASTERIX_NM_M) r48[n48++] = rows.v[i];
  const char *tf[] = {"asterix.048_140_VALUE", "asterix.048_040_RHO", "asterix.048_040_THETA",
                      "asterix.048_161_TRN", "asterix.048_200_GSP", "asterix.048_200_HDG",
                      "asterix.048_170_CNF", "asterix.048_170_TRE"};
  m = tshark_fields(dir, pcap, tf, 8, o, MAXV);
  ck_assert_uint_eq(m, n48);
  for (size_t i = 0; i < n48; i++) {
    const rf_track_row *r = &r48[i];
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
                      "asterix.062_080_CST",   "asterix.062_500_APC_X"};
  m = tshark_fields(dir, pcap, gf, 11, o, MAXV);
  ck_assert_uint_eq(m, rows.n);
  nsp = tshark_raw(dir, pcap, "asterix.062_SP", raw, sizeof raw, &used);
  ck_assert_uint_eq(nsp, rows.n); /* every CAT062 record has its modes */
  off = 0;
  size_t with_ttg = 0, with_imp = 0, with_hgt = 0;
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
    ck_assert_double_eq_tol(v[10][i], r->pos_sigma_m / sqrt(3.0), RF_ASTERIX_LSB_APC_M);
    sp_field f;
    off += sp_parse(raw + off, &f);
    ck_assert(f.ind & 0x08);
    ck_assert_double_eq_tol(f.prob[0], r->imm_cv_prob, RF_ASTERIX_LSB_SP_PROB);
    ck_assert_double_eq_tol(f.prob[1], r->imm_manoeuvre_prob, RF_ASTERIX_LSB_SP_PROB);
    ck_assert_double_eq_tol(f.prob[2], r->imm_ballistic_prob, RF_ASTERIX_LSB_SP_PROB);
    ck_assert_int_eq(!!(f.ind & 0x20), isfinite(r->time_to_go_s));
    if (f.ind & 0x20) {
      with_ttg++;
      ck_assert_double_eq_tol(f.ttg_s, r->time_to_go_s, RF_ASTERIX_LSB_TOD_S);
    }
    ck_assert_int_eq(!!(f.ind & 0x10), isfinite(r->impact_time_s));
    if (f.ind & 0x10) {
      with_imp++;
      ck_assert_double_eq_tol(f.imp_tod_s, fmod(r->impact_time_s, 86400), RF_ASTERIX_LSB_TOD_S);
      /* Half an LSB of quantisation plus half a unit of the CSV's 7th
       * decimal (io/columns.c), which is coarser than the LSB. */
      const double imp_tol = 0.5 * RF_ASTERIX_LSB_P84_DEG + 0.5e-7 + 1e-12;
      ck_assert_double_eq_tol(f.imp_lat_deg, r->impact_latitude_deg, imp_tol);
      ck_assert_double_eq_tol(f.imp_lon_deg, r->impact_longitude_deg, imp_tol);
    }
    if (f.ind & 0x40) {
      with_hgt++;
      ck_assert_double_eq_tol(f.height_m, r->altitude_m, RF_ASTERIX_LSB_SP_M);
    }
  }
  ck_assert_uint_eq(off, used);
  ck_assert_uint_gt(with_imp, 5);
  ck_assert_uint_gt(with_hgt, 5);
  fprintf(stderr, "asterix: tshark decoded plots.pcap (%zu CAT048, %zu CAT015 plots) and tracks.pcap (%zu CAT048 "
                  "reports, %zu CAT062 tracks) with no malformed frame, all within one LSB; Special Purpose "
                  "fields: time to go in %zu, impact point in %zu, height beyond I062/130 in %zu rows\n",
          nn, nf, n48, rows.n, with_ttg, with_imp, with_hgt);
  rf_track_list_free(&rows);
}
END_TEST

Suite *test_asterix_suite(void) {
  Suite *s = suite_create("test_asterix_suite");
  TCase *tc = tcase_create("asterix");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, asterix_known_vectors);
  tcase_add_test(tc, asterix_round_trip);
  tcase_add_test(tc, asterix_plots_round_trip);
  tcase_add_test(tc, asterix_tshark);
  tcase_add_test(tc, asterix_pcap_checksums);
  suite_add_tcase(s, tc);
  return s;
}
