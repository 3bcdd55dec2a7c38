/* OpenCL path, stage by stage: each device stage against its C twin on
 * random inputs (fixed seeds), canary tails on the device buffers the
 * kernels write, candidate extraction against the dense extraction, the
 * program cache, error names, and device-memory faults (split, refusal).
 * Runs on whatever OpenCL device rf_cl_select("opencl") gives (PoCL here). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/rf_sim.h"
#include "../host/rf_cl.h"
#include "../pipelines/rf_pipeline.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* A cell whose power is this close to its threshold (relative) may fall on
 * either side on the device: float32 window sums in another order than the
 * C path's double prefix sums differ by ~1e-7 relative. */
#define CL_TOL_THRESHOLD_EDGE 1e-5
/* Canary pattern written past the end of device outputs. */
#define CL_CANARY 0xA5A5A5A5u
#define CL_CANARY_WORDS 256

static rf_cl *cl_open(void) {
  char dir[512];
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
  rf_cl_device_info dev;
  ck_assert_msg(rf_cl_select("opencl", &dev) == 0, "no OpenCL device: %s", rf_errmsg());
  rf_cl *cl = NULL;
  ck_assert_msg(rf_cl_create(&cl, &dev) == 0, "%s", rf_errmsg());
  return cl;
}

static cl_command_queue cl_q(rf_cl *cl) { return rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE); }

/* Buffer of `bytes` plus a canary tail. */
static cl_mem cl_buf_canary(rf_cl *cl, size_t bytes) {
  cl_mem m;
  ck_assert_int_eq(rf_cl_alloc(cl, bytes + CL_CANARY_WORDS * 4, CL_MEM_READ_WRITE, "test", &m), 0);
  cl_uint c = CL_CANARY;
  ck_assert_int_eq(clEnqueueFillBuffer(cl_q(cl), m, &c, 4, bytes, CL_CANARY_WORDS * 4, 0, NULL, NULL), CL_SUCCESS);
  return m;
}

static void cl_check_canary(rf_cl *cl, cl_mem m, size_t bytes, const char *what) {
  cl_uint t[CL_CANARY_WORDS];
  ck_assert_int_eq(clEnqueueReadBuffer(cl_q(cl), m, CL_TRUE, bytes, sizeof t, t, 0, NULL, NULL), CL_SUCCESS);
  for (int i = 0; i < CL_CANARY_WORDS; i++)
    ck_assert_msg(t[i] == CL_CANARY, "%s: canary word %d overwritten (0x%08x)", what, i, t[i]);
}

static void cl_write(rf_cl *cl, cl_mem m, const void *p, size_t bytes) {
  ck_assert_int_eq(clEnqueueWriteBuffer(cl_q(cl), m, CL_TRUE, 0, bytes, p, 0, NULL, NULL), CL_SUCCESS);
}

static void cl_read(rf_cl *cl, cl_mem m, void *p, size_t bytes) {
  ck_assert_int_eq(clEnqueueReadBuffer(cl_q(cl), m, CL_TRUE, 0, bytes, p, 0, NULL, NULL), CL_SUCCESS);
}

/* max |a - b| / max |b| over n complex values */
static double rel_err_c(const float complex *a, const float complex *b, size_t n) {
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    e = fmax(e, cabs((double complex)a[i] - (double complex)b[i]));
    m = fmax(m, cabs((double complex)b[i]));
  }
  return m > 0 ? e / m : e;
}

static double rel_err_f(const float *a, const float *b, size_t n) {
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    e = fmax(e, fabs((double)a[i] - b[i]));
    m = fmax(m, fabs((double)b[i]));
  }
  return m > 0 ? e / m : e;
}

/* ---- 1+2: conversion, calibration, pulse compression ------------------------------ */
static void pc_case(int sample_type) {
  rf_cl *cl = cl_open();
  enum { N = 3, S = 300, M = 37, P = 4 };
  uint64_t seed = 11 + (uint64_t)sample_type;
  float complex ref[M], cal[N];
  for (int i = 0; i < M; i++) ref[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int i = 0; i < N; i++) cal[i] = (float)(0.5 + rf_test_uniform(&seed)) * cexpf(I * (float)rf_test_uniform(&seed));
  rf_pc_config cfg = {.channels = N, .samples = S, .sample_type = sample_type, .scale = 0.25,
                      .calibration = cal, .reference = ref, .ref_len = M, .window = RF_TAPER_HAMMING,
                      .taylor_sll_db = 35, .taylor_nbar = 4, .max_pulses = P};
  size_t pair = rf_sample_pair_bytes(sample_type), nraw = (size_t)P * N * S * 2;
  void *raw = malloc(nraw * pair / 2);
  for (size_t i = 0; i < nraw; i++) {
    double v = 100 * rf_test_gauss(&seed);
    if (sample_type == RF_SAMPLE_INT16) ((int16_t *)raw)[i] = (int16_t)lrint(v);
    else ((float *)raw)[i] = (float)v;
  }
  rf_pc *pc;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), 0);
  float complex *want = malloc((size_t)P * N * S * sizeof *want);
  ck_assert_int_eq(rf_pc_execute(pc, raw, P, want), 0);

  rf_pc_cl *pcl;
  ck_assert_msg(rf_pc_cl_create(&pcl, cl, &cfg) == 0, "%s", rf_errmsg());
  size_t l = rf_pc_cl_row_stride(pcl);
  ck_assert_uint_eq(l, rf_pc_fft_len(S, M));
  cl_mem draw = cl_buf_canary(cl, nraw * pair / 2);
  cl_write(cl, draw, raw, nraw * pair / 2);
  cl_event done = NULL;
  /* two pulses first (a partial block), then all four */
  ck_assert_int_eq(rf_pc_cl_execute(pcl, cl_q(cl), draw, 2, 0, NULL, NULL, NULL), 0);
  ck_assert_int_eq(rf_pc_cl_execute(pcl, cl_q(cl), draw, P, 0, NULL, NULL, &done), 0);
  ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
  clReleaseEvent(done);
  float complex *rows = malloc((size_t)P * N * l * sizeof *rows), *got = malloc((size_t)P * N * S * sizeof *got);
  cl_read(cl, rf_pc_cl_rows(pcl), rows, (size_t)P * N * l * 8);
  for (size_t r = 0; r < (size_t)P * N; r++) memcpy(got + r * S, rows + r * l, S * sizeof *got);
  double e = rel_err_c(got, want, (size_t)P * N * S);
  fprintf(stderr, "cl: pulse compression (%s): rel err %.2e\n", sample_type == RF_SAMPLE_INT16 ? "int16" : "float32", e);
  ck_assert_msg(e < RF_TOL_STAGE_REL, "pulse compression: relative error %g", e);
  cl_check_canary(cl, draw, nraw * pair / 2, "raw");
  rf_cl_free(cl, draw);
  rf_pc_cl_destroy(pcl);
  rf_pc_destroy(pc);
  free(raw);
  free(want);
  free(rows);
  free(got);
  rf_cl_destroy(cl);
}

START_TEST(cl_pc_int16) { pc_case(RF_SAMPLE_INT16); }
END_TEST
START_TEST(cl_pc_float32) { pc_case(RF_SAMPLE_FLOAT32); }
END_TEST

/* ---- 3: beamforming (no canceller, unit window) ----------------------------------- */
START_TEST(cl_bf_matches_c) {
  rf_cl *cl = cl_open();
  enum { N = 6, B = 11, S = 150, L = 160, P = 5 };
  uint64_t seed = 21;
  float complex *w = malloc(B * N * sizeof *w), *rows = malloc((size_t)P * N * L * sizeof *rows);
  float complex *in = malloc((size_t)P * N * S * sizeof *in);
  for (int i = 0; i < B * N; i++) w[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int p = 0; p < P; p++)
    for (int n = 0; n < N; n++)
      for (int c = 0; c < L; c++) {
        float complex v = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
        rows[((size_t)p * N + n) * L + c] = v;
        if (c < S) in[((size_t)p * N + n) * S + c] = v;
      }
  rf_bf *bf;
  ck_assert_int_eq(rf_bf_create(&bf, N, B, S), 0);
  float complex *want = malloc((size_t)B * P * S * sizeof *want);
  ck_assert_int_eq(rf_bf_execute(bf, w, in, P, want, (size_t)P * S), 0);

  rf_bf_cl *bcl;
  ck_assert_msg(rf_bf_cl_create(&bcl, cl, N, B, S, 1) == 0, "%s", rf_errmsg());
  cl_mem drows, dwin, ddop = cl_buf_canary(cl, (size_t)B * P * S * 8);
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)P * N * L * 8, CL_MEM_READ_WRITE, "rows", &drows), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, P * sizeof(float), CL_MEM_READ_WRITE, "win", &dwin), 0);
  float ones[P];
  for (int i = 0; i < P; i++) ones[i] = 1.0f;
  cl_write(cl, drows, rows, (size_t)P * N * L * 8);
  cl_write(cl, dwin, ones, sizeof ones);
  ck_assert_int_eq(rf_bf_cl_set_weights(bcl, cl_q(cl), w), 0);
  ck_assert_int_eq(rf_bf_cl_execute(bcl, cl_q(cl), drows, L, P, 0, P, RF_CLUTTER_NONE, dwin, P, ddop, 0, NULL, NULL), 0);
  float complex *got = malloc((size_t)B * P * S * sizeof *got);
  cl_read(cl, ddop, got, (size_t)B * P * S * 8);
  double e = rel_err_c(got, want, (size_t)B * P * S);
  fprintf(stderr, "cl: beamforming: rel err %.2e\n", e);
  ck_assert_msg(e < RF_TOL_STAGE_REL, "beamforming: relative error %g", e);
  cl_check_canary(cl, ddop, (size_t)B * P * S * 8, "beam cube");
  rf_bf_cl_destroy(bcl);
  rf_bf_destroy(bf);
  free(w);
  free(rows);
  free(in);
  free(want);
  free(got);
  rf_cl_destroy(cl);
}
END_TEST

/* ---- 4: clutter filter, window, Doppler FFT, power --------------------------------- *
 * The beam cube goes in as "rows" with identity weights (N = B, so the
 * beamformer copies it exactly), in one block or in blocks of 3 pulses
 * (canceller state and notch sums carried), with 1 or 4 pulse groups. */
static void doppler_case(int clutter, size_t block, size_t groups) {
  rf_cl *cl = cl_open();
  enum { B = 3, S = 130, P = 12 };
  const size_t K = 16;
  uint64_t seed = 31 + (uint64_t)clutter;
  float complex *cube = malloc((size_t)B * P * S * sizeof *cube), *rows = malloc((size_t)P * B * S * sizeof *rows);
  for (int b = 0; b < B; b++)
    for (int p = 0; p < P; p++)
      for (int c = 0; c < S; c++) {
        /* noise plus a clutter-like mean and a tone */
        float complex v = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed) + 3.0f +
                          2.0f * cexpf(I * 0.7f * (float)p);
        cube[((size_t)b * P + p) * S + c] = v;
        rows[((size_t)p * B + b) * S + c] = v;
      }
  rf_doppler_config dc = {.pulses = P, .cells = S, .nfft = K, .clutter = clutter, .notch_bins = 1,
                          .window = RF_TAPER_TAYLOR, .taylor_sll_db = 35, .taylor_nbar = 4};
  rf_doppler *d;
  ck_assert_int_eq(rf_doppler_create(&d, &dc), 0);
  float *want = malloc((size_t)B * K * S * sizeof *want), *got = malloc((size_t)B * K * S * sizeof *got);
  for (int b = 0; b < B; b++) ck_assert_int_eq(rf_doppler_execute(d, cube + (size_t)b * P * S, want + (size_t)b * K * S), 0);

  float complex eye[B * B];
  for (int i = 0; i < B * B; i++) eye[i] = i % (B + 1) == 0 ? 1.0f : 0.0f;
  cl_mem ddop = cl_buf_canary(cl, (size_t)B * K * S * 8), dpow = cl_buf_canary(cl, (size_t)B * K * S * 4);
  rf_bf_cl *bcl;
  rf_doppler_cl *dcl;
  ck_assert_msg(rf_bf_cl_create(&bcl, cl, B, B, S, groups) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_doppler_cl_create(&dcl, cl, &dc, B, ddop) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_bf_cl_set_weights(bcl, cl_q(cl), eye), 0);
  for (size_t p0 = 0; p0 < P; p0 += block) {
    size_t cnt = P - p0 < block ? P - p0 : block;
    cl_mem blk;
    ck_assert_int_eq(rf_cl_alloc(cl, cnt * B * S * 8, CL_MEM_READ_WRITE, "block", &blk), 0);
    cl_write(cl, blk, rows + p0 * B * S, cnt * B * S * 8);
    ck_assert_int_eq(rf_bf_cl_execute(bcl, cl_q(cl), blk, S, cnt, p0, P, clutter, rf_doppler_cl_window(dcl), K, ddop,
                                      0, NULL, NULL), 0);
    clFinish(cl_q(cl));
    rf_cl_free(cl, blk);
  }
  size_t ng;
  cl_mem sums = rf_bf_cl_sums(bcl, &ng);
  ck_assert_uint_eq(ng, groups);
  ck_assert_int_eq(rf_doppler_cl_execute(dcl, cl_q(cl), ddop, sums, ng, dpow, 0, NULL, NULL), 0);
  cl_read(cl, dpow, got, (size_t)B * K * S * 4);
  double e = rel_err_f(got, want, (size_t)B * K * S);
  fprintf(stderr, "cl: doppler (clutter %d, blocks of %zu, %zu groups): rel err %.2e\n", clutter, block, groups, e);
  ck_assert_msg(e < RF_TOL_STAGE_REL, "doppler: relative error %g", e);
  for (size_t i = 0; i < (size_t)B * K * S; i++)
    if (want[i] == 0.0f) ck_assert_msg(got[i] == 0.0f, "notched cell %zu not blanked", i);
  cl_check_canary(cl, ddop, (size_t)B * K * S * 8, "Doppler cube");
  cl_check_canary(cl, dpow, (size_t)B * K * S * 4, "power");
  rf_doppler_cl_destroy(dcl);
  rf_bf_cl_destroy(bcl);
  rf_doppler_destroy(d);
  free(cube);
  free(rows);
  free(want);
  free(got);
  rf_cl_destroy(cl);
}

START_TEST(cl_doppler_none) { doppler_case(RF_CLUTTER_NONE, 12, 1); }
END_TEST
START_TEST(cl_doppler_notch_split) { doppler_case(RF_CLUTTER_NOTCH, 5, 1); }
END_TEST
START_TEST(cl_doppler_notch_groups) { doppler_case(RF_CLUTTER_NOTCH, 12, 4); }
END_TEST
START_TEST(cl_doppler_mti2_split) { doppler_case(RF_CLUTTER_MTI2, 1, 1); }
END_TEST
START_TEST(cl_doppler_mti3_split_groups) { doppler_case(RF_CLUTTER_MTI3, 5, 2); }
END_TEST

/* ---- 5: CFAR + compaction ------------------------------------------------------------ */
static int hit_key_cmp(const void *a, const void *b) {
  const rf_cl_cand *x = a, *y = b;
  if (x->beam != y->beam) return x->beam < y->beam ? -1 : 1;
  if (x->bin != y->bin) return x->bin < y->bin ? -1 : 1;
  return x->cell < y->cell ? -1 : x->cell > y->cell;
}

static void cfar_case(int kind, int train_doppler) {
  rf_cl *cl = cl_open();
  enum { BAZ = 3, BEL = 2, B = BAZ * BEL, K = 16, S = 200 };
  uint64_t seed = 41 + (uint64_t)kind * 7 + (uint64_t)train_doppler;
  float *map = malloc((size_t)B * K * S * sizeof *map);
  for (size_t i = 0; i < (size_t)B * K * S; i++) map[i] = (float)(-log(rf_test_uniform(&seed)));
  for (int t = 0; t < 40; t++) /* targets, some at the range edges */
    map[(size_t)(rf_test_next(&seed) % B) * K * S + (rf_test_next(&seed) % K) * S +
        (t < 4 ? (uint64_t)(t % 2 ? S - 1 - t : t) : rf_test_next(&seed) % S)] = (float)(30 + 100 * rf_test_uniform(&seed));
  double corr[3] = {1.0, 0.3, 0.05};
  rf_cfar_config cc = {.kind = kind, .pfa = 1e-3, .train_range = 8, .guard_range = 2,
                       .train_doppler = train_doppler, .guard_doppler = train_doppler ? 1 : 0,
                       .range_corr = corr, .range_corr_len = 3};
  rf_cfar *c;
  ck_assert_int_eq(rf_cfar_create(&c, &cc, K, S), 0);
  rf_cfar_hit *hits = malloc((size_t)K * S * sizeof *hits);
  size_t cap = (size_t)B * K * S;
  cl_mem dpow, dcand = cl_buf_canary(cl, cap * sizeof(rf_cl_cand)), dcount = cl_buf_canary(cl, (1 + B) * 4);
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * K * S * 4, CL_MEM_READ_WRITE, "power", &dpow), 0);
  cl_write(cl, dpow, map, (size_t)B * K * S * 4);
  rf_cfar_cl *ccl;
  ck_assert_msg(rf_cfar_cl_create(&ccl, cl, c, B, BAZ) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cfar_cl_execute(ccl, cl_q(cl), dpow, dcand, cap, dcount, 0, NULL, NULL), 0);
  cl_uint count[1 + B];
  cl_read(cl, dcount, count, sizeof count);
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
  fprintf(stderr, "cl: cfar kind %d, %s window: %zu hits, %zu matched, %zu at the threshold edge\n", kind,
          train_doppler ? "2D" : "1D", total, matched, edge);
  ck_assert_uint_ge(matched, 40); /* the targets at least */
  cl_check_canary(cl, dcand, cap * sizeof(rf_cl_cand), "candidates");
  cl_check_canary(cl, dcount, (1 + B) * 4, "counters");
  /* A capacity smaller than the crossings: counted, only cap written. */
  ck_assert_int_eq(rf_cfar_cl_execute(ccl, cl_q(cl), dpow, dcand, 5, dcount, 0, NULL, NULL), 0);
  cl_read(cl, dcount, count, sizeof count);
  ck_assert_uint_eq(count[0], gi);
  cl_check_canary(cl, dcand, cap * sizeof(rf_cl_cand), "candidates");
  rf_cfar_cl_destroy(ccl);
  rf_cfar_destroy(c);
  free(map);
  free(hits);
  free(got);
  rf_cl_destroy(cl);
}

START_TEST(cl_cfar_ca) { cfar_case(RF_CFAR_CA, 0); }
END_TEST
START_TEST(cl_cfar_ca_2d) { cfar_case(RF_CFAR_CA, 2); }
END_TEST
START_TEST(cl_cfar_go) { cfar_case(RF_CFAR_GO, 0); }
END_TEST
START_TEST(cl_cfar_so_2d) { cfar_case(RF_CFAR_SO, 1); }
END_TEST
START_TEST(cl_cfar_os) { cfar_case(RF_CFAR_OS, 0); }
END_TEST
START_TEST(cl_cfar_os_2d) { cfar_case(RF_CFAR_OS, 1); }
END_TEST

/* ---- 6: extraction from candidates == extraction from the cube ------------------------ */
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

/* ---- runtime: cache, error names, budget ------------------------------------------------- */
START_TEST(cl_program_cache) {
  char dir[512];
  rf_test_fresh_dir(dir, sizeof dir, "cl-cache-test");
  setenv("RF_CACHE_DIR", dir, 1);
  rf_cl_device_info dev;
  ck_assert_int_eq(rf_cl_select("opencl", &dev), 0);
  rf_cl *a = NULL, *b = NULL, *c = NULL;
  ck_assert_msg(rf_cl_create(&a, &dev) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_program_cached(a), 0);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".bin"), 1);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".tmp"), 0);
  ck_assert_int_eq(rf_cl_create(&b, &dev), 0);
  ck_assert_int_eq(rf_cl_program_cached(b), 1);
  cl_kernel k;
  ck_assert_int_eq(rf_cl_kernel(b, "rf_cfar_os", &k), 0);
  clReleaseKernel(k);
  ck_assert_int_eq(rf_cl_kernel(b, "no_such_kernel", &k), RF_EDEVICE);
  /* A damaged cache file is rebuilt, not trusted. */
  rf_cl_destroy(a);
  rf_cl_destroy(b);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "for f in '%s'/*.bin; do head -c 200 \"$f\" > \"$f.x\"; mv \"$f.x\" \"$f\"; done", dir);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_msg(rf_cl_create(&c, &dev) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_program_cached(c), 0);
  rf_cl_destroy(c);
  ck_assert_int_eq(rf_cl_create(&c, &dev), 0);
  ck_assert_int_eq(rf_cl_program_cached(c), 1);
  rf_cl_destroy(c);
}
END_TEST

START_TEST(cl_error_names) {
  ck_assert_str_eq(rf_cl_strerror(CL_SUCCESS), "CL_SUCCESS");
  ck_assert_str_eq(rf_cl_strerror(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
  ck_assert_str_eq(rf_cl_strerror(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
  ck_assert_str_eq(rf_cl_strerror(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
  ck_assert_str_eq(rf_cl_strerror(12345), "CL_UNKNOWN_ERROR");
  /* every code of the 1.2 headers has a name */
  for (int e = 0; e >= -19; e--) ck_assert_str_ne(rf_cl_strerror(e), "CL_UNKNOWN_ERROR");
  for (int e = -30; e >= -68; e--) ck_assert_str_ne(rf_cl_strerror(e), "CL_UNKNOWN_ERROR");
}
END_TEST

/* Device budget: a small one splits dwells into blocks (same plots), a tiny
 * one is refused with RF_EDEVICE before anything runs. */
START_TEST(cl_budget_split_and_refuse) {
  char dir[512], cap[512];
  rf_test_fresh_dir(dir, sizeof dir, "cl_budget");
  rf_test_join(cap, sizeof cap, dir, "demo.h5");
  rf_scenario *sc;
  ck_assert_int_eq(rf_scenario_load(&sc, "datasets/scenarios/demo.ini"), 0);
  ck_assert_int_eq(rf_simulate(sc, cap, 3), 0);
  rf_scenario_destroy(sc);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  for (int clutter = RF_CLUTTER_NOTCH; clutter <= RF_CLUTTER_MTI3; clutter += 2) {
    rf_config cfg;
    rf_config_defaults(&cfg);
    cfg.clutter_filter = clutter;
    rf_plot_list whole = {0}, split = {0};
    size_t blocks[2];
    for (int pass = 0; pass < 2; pass++) {
      if (pass) setenv("RF_CL_MAX_ALLOC_MB", "28", 1);
      rf_cl *cl = cl_open();
      unsetenv("RF_CL_MAX_ALLOC_MB");
      rf_engine *pl;
      rf_plot_list *out = pass ? &split : &whole;
      ck_assert_msg(rf_engine_create_cl(&pl, cl, &cfg, c) == 0, "%s", rf_errmsg());
      blocks[pass] = rf_engine_block_pulses(pl);
      for (size_t d = 0; d < m->dwells; d++) ck_assert_msg(rf_engine_dwell(pl, d, out) == 0, "%s", rf_errmsg());
      ck_assert_msg(rf_engine_finish(pl, out) == 0, "%s", rf_errmsg());
      rf_engine_destroy(pl);
      rf_cl_destroy(cl);
    }
    fprintf(stderr, "cl: clutter %d: blocks of %zu and %zu pulses: %zu and %zu plots\n", clutter, blocks[0],
            blocks[1], whole.n, split.n);
    ck_assert_uint_eq(blocks[0], 32);
    ck_assert(blocks[1] >= 1 && blocks[1] < 16);
    ck_assert_uint_eq(whole.n, split.n);
    ck_assert_uint_gt(whole.n, 0);
    for (size_t i = 0; i < whole.n; i++) {
      ck_assert_int_eq(whole.v[i].dwell, split.v[i].dwell);
      ck_assert_double_eq_tol(whole.v[i].range_m, split.v[i].range_m, 0.01);
      ck_assert_double_eq_tol(whole.v[i].snr_db, split.v[i].snr_db, 0.01);
    }
    rf_plot_list_free(&whole);
    rf_plot_list_free(&split);
  }
  setenv("RF_CL_MAX_ALLOC_MB", "1", 1);
  rf_cl *cl = cl_open();
  unsetenv("RF_CL_MAX_ALLOC_MB");
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_engine *pl = NULL;
  ck_assert_int_eq(rf_engine_create_cl(&pl, cl, &cfg, c), RF_EDEVICE);
  ck_assert_ptr_null(pl);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "out of device memory"));
  ck_assert_uint_eq(rf_cl_allocated(cl), 0); /* everything given back */
  rf_cl_destroy(cl);
  rf_capture_close(c);
}
END_TEST

/* A kernel source that does not compile: RF_EDEVICE with the build log. */
START_TEST(cl_build_failure) {
  char dir[512], p[600];
  rf_test_fresh_dir(dir, sizeof dir, "cl_broken_kernels");
  for (size_t i = 0; i < rf_cl_source_count; i++) {
    FILE *f = fopen(rf_test_join(p, sizeof p, dir, rf_cl_sources[i].name), "w");
    ck_assert_ptr_nonnull(f);
    fwrite(rf_cl_sources[i].text, 1, rf_cl_sources[i].len, f);
    if (!strcmp(rf_cl_sources[i].name, "cfar.cl")) fputs("\n__kernel void broken(void) { this is not C; }\n", f);
    fclose(f);
  }
  setenv("RF_KERNEL_DIR", dir, 1);
  rf_cl_device_info dev;
  ck_assert_int_eq(rf_cl_select("opencl", &dev), 0);
  rf_cl *cl = NULL;
  int st = rf_cl_create(&cl, &dev);
  unsetenv("RF_KERNEL_DIR");
  ck_assert_int_eq(st, RF_EDEVICE);
  ck_assert_ptr_null(cl);
  ck_assert_msg(strstr(rf_errmsg(), "failed to build") != NULL, "%s", rf_errmsg());
  /* a missing file is named */
  setenv("RF_KERNEL_DIR", "/nonexistent-radarflow", 1);
  st = rf_cl_create(&cl, &dev);
  unsetenv("RF_KERNEL_DIR");
  ck_assert_int_eq(st, RF_EDEVICE);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "RF_KERNEL_DIR"));
}
END_TEST

START_TEST(cl_select_specs) {
  rf_cl_device_info d;
  ck_assert_int_eq(rf_cl_select("opencl:0:0", &d), 0);
  ck_assert_str_eq(d.id, "opencl:0:0");
  rf_cl_device_info byname;
  char part[8];
  snprintf(part, sizeof part, "%.6s", d.name);
  ck_assert_int_eq(rf_cl_select(part, &byname), 0);
  ck_assert_int_eq(rf_cl_select("opencl:9:9", &d), RF_EINVAL);
  ck_assert_int_eq(rf_cl_select("no-such-device-xyz", &d), RF_EINVAL);
}
END_TEST

Suite *test_cl_suite(void) {
  Suite *s = suite_create("test_cl_suite");
  TCase *tc = tcase_create("cl");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_error_names);
  tcase_add_test(tc, cl_select_specs);
  tcase_add_test(tc, cl_program_cache);
  tcase_add_test(tc, cl_pc_int16);
  tcase_add_test(tc, cl_pc_float32);
  tcase_add_test(tc, cl_bf_matches_c);
  tcase_add_test(tc, cl_doppler_none);
  tcase_add_test(tc, cl_doppler_notch_split);
  tcase_add_test(tc, cl_doppler_notch_groups);
  tcase_add_test(tc, cl_doppler_mti2_split);
  tcase_add_test(tc, cl_doppler_mti3_split_groups);
  tcase_add_test(tc, cl_cfar_ca);
  tcase_add_test(tc, cl_cfar_ca_2d);
  tcase_add_test(tc, cl_cfar_go);
  tcase_add_test(tc, cl_cfar_so_2d);
  tcase_add_test(tc, cl_cfar_os);
  tcase_add_test(tc, cl_cfar_os_2d);
  tcase_add_test(tc, extract_nb_matches_cube);
  tcase_add_test(tc, cl_build_failure);
  tcase_add_test(tc, cl_budget_split_and_refuse);
  suite_add_tcase(s, tc);
  return s;
}
