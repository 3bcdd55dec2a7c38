/* Stage 5 on the OpenCL device against its C twins, rf_cfar_ca_ref ...
 * rf_cfar_os_ref (themselves checked against closed-form Pfa in
 * tests/test_cfar.c), on exponential noise with targets, some at the range
 * edges (fixed seeds): the same crossings except cells within
 * CL_TOL_THRESHOLD_EDGE of their threshold, the same noise and threshold
 * within RF_TOL_STAGE_REL, the neighbours' powers exact, the counters per
 * beam right, the noise-level histograms equal count for count, and with
 * too small a capacity only `cap` candidates written. The maps carry the
 * whole detection mask (a notch, partly overlapped cells) and correlated
 * range and Doppler noise models.
 * Also the host half of compaction: extraction from the candidates equals
 * extraction from the cube. Poison and canary mode as in rf_cl_testutil.h. */
#include <check.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rf_cl_testutil.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* A cell whose power is this close to its threshold (relative) may fall on
 * either side on the device: float32 window sums in another order than the
 * C path's double prefix sums differ by ~1e-7 relative. */
#define CL_TOL_THRESHOLD_EDGE 1e-5

static int hit_key_cmp(const void *a, const void *b) {
  const rf_cl_cand *x = a, *y = b;
  if (x->beam != y->beam) return x->beam < y->beam ? -1 : 1;
  if (x->bin != y->bin) return x->bin < y->bin ? -1 : 1;
  return x->cell < y->cell ? -1 : x->cell > y->cell;
}

static void cfar_case(int kind, int train_doppler, const char *tuning) {
  if (tuning) setenv("RF_CL_TUNING", tuning, 1);
  rf_cl *cl = cl_open();
  unsetenv("RF_CL_TUNING");
  enum { BAZ = 3, BEL = 2, B = BAZ * BEL, K = 16, S = 200 };
  uint64_t seed = 41 + (uint64_t)kind * 7 + (uint64_t)train_doppler;
  float *map = malloc((size_t)B * K * S * sizeof *map);
  for (size_t i = 0; i < (size_t)B * K * S; i++) map[i] = (float)(-log(rf_test_uniform(&seed)));
  for (int t = 0; t < 40; t++) { /* targets, some at the range edges, none in blanked bins */
    uint64_t kk = rf_test_next(&seed) % (K - 3);
    kk = kk >= K / 2 - 1 ? kk + 3 : kk;
    map[(size_t)(rf_test_next(&seed) % B) * K * S + kk * S +
        (t < 4 ? (uint64_t)(t % 2 ? S - 13 - t : t) : rf_test_next(&seed) % (S - 12))] = (float)(30 + 100 * rf_test_uniform(&seed));
  }
  for (size_t b = 0; b < B; b++) /* the notch as the Doppler stage leaves it */
    for (int k = K / 2 - 1; k <= K / 2 + 1; k++) memset(map + (b * K + (size_t)k) * S, 0, S * sizeof *map);
  /* correlated range noise, a Hamming slow-time window with a notch (two
   * blanked bins a side of zero Doppler) and the last 12 cells partly
   * overlapped: every part of the mask and of the factor tables */
  const double complex acf[3] = {1.0, 0.5 + 0.2 * I, 0.05 - 0.02 * I};
  float win[K];
  for (int p = 0; p < K; p++) win[p] = (float)(0.54 - 0.46 * cos(2 * RF_PI * (p + 0.5) / K));
  rf_cfar_config cc = {.kind = kind, .pfa = 1e-3, .train_range = 8, .guard_range = 2,
                       .train_doppler = train_doppler, .guard_doppler = train_doppler ? 1 : 0,
                       .range_acf = acf, .range_acf_len = 3, .doppler_window = win, .doppler_pulses_out = K,
                       .doppler_pulses = K, .doppler_clutter = RF_CLUTTER_NOTCH, .blank_bins = 2,
                       .valid_cells = S - 12};
  rf_cfar *c;
  ck_assert_int_eq(rf_cfar_create(&c, &cc, K, S), 0);
  rf_cfar_hit *hits = malloc((size_t)K * S * sizeof *hits);
  size_t cap = (size_t)B * K * S;
  cl_mem dpow, dcand, dcand5, dcount, dhist;
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * K * S * 4, CL_MEM_READ_WRITE, "power", &dpow), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, cap * sizeof(rf_cl_cand), CL_MEM_WRITE_ONLY, "candidates", &dcand), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, 5 * sizeof(rf_cl_cand), CL_MEM_WRITE_ONLY, "5 candidates", &dcand5), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, (1 + B) * 4, CL_MEM_READ_WRITE, "counters", &dcount), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * RF_CFAR_HIST * 4, CL_MEM_READ_WRITE, "histograms", &dhist), 0);
  cl_write(cl, dpow, map, (size_t)B * K * S * 4);
  rf_cfar_cl *ccl;
  ck_assert_msg(rf_cfar_cl_create(&ccl, cl, c, B, BAZ) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cfar_cl_execute(ccl, cl_q(cl), dpow, dcand, cap, dcount, dhist, 0, NULL, NULL), 0);
  cl_uint count[1 + B];
  cl_read(cl, dcount, count, sizeof count);
  /* the noise-level histograms: the twin's, count for count */
  uint32_t *hd = malloc((size_t)B * RF_CFAR_HIST * 4), *hc = malloc(RF_CFAR_HIST * 4);
  cl_read(cl, dhist, hd, (size_t)B * RF_CFAR_HIST * 4);
  for (int b = 0; b < B; b++) {
    rf_cfar_hist_ref(c, map + (size_t)b * K * S, hc);
    ck_assert_mem_eq(hd + (size_t)b * RF_CFAR_HIST, hc, RF_CFAR_HIST * 4);
  }
  free(hd);
  free(hc);
  rf_cl_cand *got = malloc((count[0] + 1) * sizeof *got);
  cl_read(cl, dcand, got, count[0] * sizeof *got);
  qsort(got, count[0], sizeof *got, hit_key_cmp);
  size_t gi = 0, matched = 0, edge = 0, total = 0;
  for (int b = 0; b < B; b++) {
    size_t n = 0, per = 0;
    const float *bm = map + (size_t)b * K * S;
    ck_assert_int_eq(rf_cfar_execute(c, bm, hits, (size_t)K * S, &n), 0);
    for (size_t i = 0; i < count[0]; i++) per += got[i].beam == (uint32_t)b;
    ck_assert_uint_eq(count[1 + b], per);
    total += n;
    size_t hi = 0;
    while (hi < n || (gi < count[0] && got[gi].beam == (uint32_t)b)) {
      int have_c = hi < n, have_g = gi < count[0] && got[gi].beam == (uint32_t)b;
      uint64_t kc = have_c ? (uint64_t)hits[hi].bin << 32 | hits[hi].cell : UINT64_MAX;
      uint64_t kg = have_g ? (uint64_t)got[gi].bin << 32 | got[gi].cell : UINT64_MAX;
      if (kc == kg) {
        const rf_cl_cand *g = &got[gi];
        ck_assert_float_eq(g->power, hits[hi].power);
        ck_assert_msg(fabs(g->noise - hits[hi].noise) <= RF_TOL_STAGE_REL * hits[hi].noise, "noise %g vs %g",
                      g->noise, hits[hi].noise);
        ck_assert_msg(fabs(g->threshold - hits[hi].threshold) <= RF_TOL_STAGE_REL * hits[hi].threshold,
                      "threshold %g vs %g", g->threshold, hits[hi].threshold);
        /* neighbours are the map's values */
        uint32_t k = g->bin, s = g->cell, ia = (uint32_t)b % BAZ, ie = (uint32_t)b / BAZ;
        const float *m0 = map;
        ck_assert_float_eq(g->nb[0], s > 0 ? bm[k * S + s - 1] : 0.0f);
        ck_assert_float_eq(g->nb[1], s + 1 < S ? bm[k * S + s + 1] : 0.0f);
        ck_assert_float_eq(g->nb[2], bm[((k + K - 1) % K) * S + s]);
        ck_assert_float_eq(g->nb[3], bm[((k + 1) % K) * S + s]);
        ck_assert_float_eq(g->nb[4], ia > 0 ? m0[((size_t)(b - 1) * K + k) * S + s] : 0.0f);
        ck_assert_float_eq(g->nb[5], ia + 1 < BAZ ? m0[((size_t)(b + 1) * K + k) * S + s] : 0.0f);
        ck_assert_float_eq(g->nb[6], ie > 0 ? m0[((size_t)(b - BAZ) * K + k) * S + s] : 0.0f);
        ck_assert_float_eq(g->nb[7], ie + 1 < BEL ? m0[((size_t)(b + BAZ) * K + k) * S + s] : 0.0f);
        matched++;
        hi++;
        gi++;
      } else if (kc < kg) { /* only the C path: must be a threshold-edge cell */
        ck_assert_msg(fabs(hits[hi].power / hits[hi].threshold - 1) < CL_TOL_THRESHOLD_EDGE,
                      "beam %d bin %u cell %u: C hit missing on the device", b, hits[hi].bin, hits[hi].cell);
        edge++;
        hi++;
      } else {
        const rf_cl_cand *g = &got[gi];
        ck_assert_msg(fabs(g->power / g->threshold - 1) < CL_TOL_THRESHOLD_EDGE,
                      "beam %d bin %u cell %u: device hit not found by C", b, g->bin, g->cell);
        edge++;
        gi++;
      }
    }
  }
  fprintf(stderr, "cl: cfar kind %d, %s window, tile %u: %zu hits, %zu matched, %zu at the threshold edge\n", kind,
          train_doppler ? "2D" : "1D", rf_cl_tuning_get(cl)->cfar_tile, total, matched, edge);
  ck_assert_uint_ge(matched, 40); /* the targets at least */
  /* A capacity smaller than the crossings: counted, only cap written (the
   * 5-entry buffer's canary, checked by cl_close, says so). */
  ck_assert_int_eq(rf_cfar_cl_execute(ccl, cl_q(cl), dpow, dcand5, 5, dcount, dhist, 0, NULL, NULL), 0);
  cl_read(cl, dcount, count, sizeof count);
  ck_assert_uint_eq(count[0], gi);
  ck_assert_int_eq(rf_cl_check_canaries(cl), 0);
  rf_cl_free(cl, dpow);
  rf_cl_free(cl, dcand);
  rf_cl_free(cl, dcand5);
  rf_cl_free(cl, dcount);
  rf_cl_free(cl, dhist);
  rf_cfar_cl_destroy(ccl);
  rf_cfar_destroy(c);
  free(map);
  free(hits);
  free(got);
  cl_close(cl);
}

START_TEST(cl_cfar_ca) { cfar_case(RF_CFAR_CA, 0, NULL); }
END_TEST
START_TEST(cl_cfar_ca_2d) { cfar_case(RF_CFAR_CA, 2, NULL); }
END_TEST
START_TEST(cl_cfar_go) { cfar_case(RF_CFAR_GO, 0, NULL); }
END_TEST
START_TEST(cl_cfar_so_2d) { cfar_case(RF_CFAR_SO, 1, NULL); }
END_TEST
START_TEST(cl_cfar_os) { cfar_case(RF_CFAR_OS, 0, NULL); }
END_TEST
START_TEST(cl_cfar_os_2d) { cfar_case(RF_CFAR_OS, 1, NULL); }
END_TEST
/* a 32-cell tile (work-group): the kernels' RF_CFAR_TILE follows the host */
START_TEST(cl_cfar_ca_tile_32) { cfar_case(RF_CFAR_CA, 1, "cfar_tile=32"); }
END_TEST
START_TEST(cl_cfar_go_tile_32) { cfar_case(RF_CFAR_GO, 0, "cfar_tile=32"); }
END_TEST

/* Extraction from the candidates (rf_extract_execute_nb, what the device
 * path brings back) == extraction from the whole cube (rf_extract_execute,
 * the CPU path), bit for bit. */
START_TEST(extract_nb_matches_cube) {
  enum { BAZ = 5, BEL = 3, B = BAZ * BEL, K = 16, S = 120 };
  uint64_t seed = 51;
  float *cube = malloc((size_t)B * K * S * sizeof *cube);
  for (size_t i = 0; i < (size_t)B * K * S; i++) cube[i] = (float)(-log(rf_test_uniform(&seed)));
  for (int t = 0; t < 12; t++) { /* blobs across beams, bins, cells */
    size_t b0 = rf_test_next(&seed) % B, k0 = rf_test_next(&seed) % K, s0 = rf_test_next(&seed) % S;
    for (int db = -1; db <= 1; db++)
      for (int dk = -1; dk <= 1; dk++)
        for (int ds = -1; ds <= 1; ds++) {
          long b = (long)b0 + db, s = (long)s0 + ds;
          if (b < 0 || b >= B || s < 0 || s >= S) continue;
          size_t k = (k0 + K + (size_t)dk) % K;
          cube[((size_t)b * K + k) * S + (size_t)s] = (float)(50.0 / (1 + abs(db) + abs(dk) + abs(ds)) + rf_test_uniform(&seed));
        }
  }
  double az[B], el[B];
  for (int b = 0; b < B; b++) az[b] = 10 + 1.5 * (b % BAZ), el[b] = 2 + 2.0 * (b / BAZ);
  rf_dwell_geom g = {.time_s = 1, .dwell = 0, .range_gate_delay_s = 1e-4, .sample_rate_hz = 1e6,
                     .lambda_m = 0.2, .pri_s = 1e-3, .cells = S, .bins = K, .beams_az = BAZ, .beams_el = BEL,
                     .beam_az_deg = az, .beam_el_deg = el, .estimate_elevation = 1};
  rf_cfar_hit *hits = malloc((size_t)B * K * S * sizeof *hits);
  float *nb = malloc((size_t)B * K * S * 8 * sizeof *nb);
  const rf_cfar_hit *hp[B];
  const float *np[B];
  size_t nh[B], tot = 0;
  for (int b = 0; b < B; b++) {
    hp[b] = hits + tot;
    np[b] = nb + 8 * tot;
    nh[b] = 0;
    for (uint32_t k = 0; k < K; k++)
      for (uint32_t s = 0; s < S; s++) {
        float p = cube[((size_t)b * K + k) * S + s];
        if (p < 10) continue;
        rf_cfar_hit *h = &hits[tot];
        *h = (rf_cfar_hit){s, k, p, 1.0f, 10.0f};
        float *v = nb + 8 * tot;
        const float *m = cube + (size_t)b * K * S;
        int ia = b % BAZ, ie = b / BAZ;
        v[0] = s > 0 ? m[k * S + s - 1] : 0;
        v[1] = s + 1 < S ? m[k * S + s + 1] : 0;
        v[2] = m[((k + K - 1) % K) * S + s];
        v[3] = m[((k + 1) % K) * S + s];
        v[4] = ia > 0 ? cube[((size_t)(b - 1) * K + k) * S + s] : 0;
        v[5] = ia + 1 < BAZ ? cube[((size_t)(b + 1) * K + k) * S + s] : 0;
        v[6] = ie > 0 ? cube[((size_t)(b - BAZ) * K + k) * S + s] : 0;
        v[7] = ie + 1 < BEL ? cube[((size_t)(b + BAZ) * K + k) * S + s] : 0;
        nh[b]++;
        tot++;
      }
  }
  rf_extract *x;
  ck_assert_int_eq(rf_extract_create(&x, B, K, S, (size_t)B * K * S), 0);
  rf_detection a[64], c[64];
  size_t na, nc;
  ck_assert_int_eq(rf_extract_execute(x, &g, cube, hp, nh, a, 64, &na), 0);
  ck_assert_int_eq(rf_extract_execute_nb(x, &g, hp, nh, np, c, 64, &nc), 0);
  ck_assert_uint_eq(na, nc);
  ck_assert_uint_ge(na, 6);
  for (size_t i = 0; i < na; i++) {
    ck_assert(a[i].beam == c[i].beam && a[i].bin == c[i].bin && a[i].cell == c[i].cell);
    ck_assert(a[i].range_m == c[i].range_m && a[i].radial_velocity_mps == c[i].radial_velocity_mps);
    ck_assert(a[i].azimuth_deg == c[i].azimuth_deg && a[i].elevation_deg == c[i].elevation_deg);
    ck_assert(a[i].snr_db == c[i].snr_db);
  }
  /* keep-the-strongest works the same */
  ck_assert_int_eq(rf_extract_execute(x, &g, cube, hp, nh, a, 3, &na), 0);
  ck_assert_int_eq(rf_extract_execute_nb(x, &g, hp, nh, np, c, 3, &nc), 0);
  ck_assert_uint_eq(na, 3);
  ck_assert_uint_eq(nc, 3);
  for (size_t i = 0; i < 3; i++) ck_assert(a[i].cell == c[i].cell && a[i].range_m == c[i].range_m);
  rf_extract_destroy(x);
  free(cube);
  free(hits);
  free(nb);
}
END_TEST

Suite *test_cfar_cl_suite(void) {
  Suite *s = suite_create("test_cfar_cl_suite");
  TCase *tc = tcase_create("cfar_cl");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_cfar_ca);
  tcase_add_test(tc, cl_cfar_ca_2d);
  tcase_add_test(tc, cl_cfar_go);
  tcase_add_test(tc, cl_cfar_so_2d);
  tcase_add_test(tc, cl_cfar_os);
  tcase_add_test(tc, cl_cfar_os_2d);
  tcase_add_test(tc, cl_cfar_ca_tile_32);
  tcase_add_test(tc, cl_cfar_go_tile_32);
  tcase_add_test(tc, extract_nb_matches_cube);
  suite_add_tcase(s, tc);
  return s;
}
