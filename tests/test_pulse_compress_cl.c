/* Stages 1 and 2 on the OpenCL device against their C twin, rf_pc_execute
 * (itself checked against direct correlation and golden vectors in
 * tests/test_pc.c), on random int16 and float32 inputs (fixed seeds). The
 * context is in poison mode: the rows start as NaNs, so the result is
 * finite only if VkFFT's zero padding really leaves the tail [S, L) of
 * each row unread; and in canary mode: no stage buffer is written past its
 * end. Runs on rf_cl_select("opencl") (PoCL here). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rf_cl_testutil.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

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
  ck_assert_uint_gt(l, S); /* a padded tail to leave unread */
  cl_mem draw;
  ck_assert_int_eq(rf_cl_alloc(cl, nraw * pair / 2, CL_MEM_READ_ONLY, "raw", &draw), 0);
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
  rf_cl_free(cl, draw);
  rf_pc_cl_destroy(pcl);
  rf_pc_destroy(pc);
  free(raw);
  free(want);
  free(rows);
  free(got);
  cl_close(cl);
}

START_TEST(cl_pc_int16) { pc_case(RF_SAMPLE_INT16); }
END_TEST
START_TEST(cl_pc_float32) { pc_case(RF_SAMPLE_FLOAT32); }
END_TEST

Suite *test_pulse_compress_cl_suite(void) {
  Suite *s = suite_create("test_pulse_compress_cl_suite");
  TCase *tc = tcase_create("pulse_compress_cl");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_pc_int16);
  tcase_add_test(tc, cl_pc_float32);
  suite_add_tcase(s, tc);
  return s;
}
