/* Stage 3 on the OpenCL device against its C twin, rf_bf_execute_ref (itself
 * checked against a double-precision sum in tests/test_beamform.c), on random
 * weights and rows (fixed seeds). On the device, beamforming runs fused
 * into the Doppler stage's input kernel (rf_doppler_cl_input); with no
 * clutter filter its output is the beam cube times the slow-time window,
 * which the test divides out. Run with the default tuning row and with
 * bf_tb = 3 beams per work-item (not a divisor of the 11 beams): the host
 * pads the weights to whole tiles of the same -DRF_BF_TB the kernel gets.
 * Per-channel mode (no weights: beam b is channel b) against
 * rf_bf_execute's copy, with 4 beams per work-item (6 channels: the second
 * tile runs past the last).
 * Poison and canary mode as in rf_cl_testutil.h. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rf_cl_testutil.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

static void bf_case(const char *tuning, int per_channel) {
  if (tuning) setenv("RF_CL_TUNING", tuning, 1);
  rf_cl *cl = cl_open();
  unsetenv("RF_CL_TUNING");
  enum { N = 6, B11 = 11, S = 150, L = 160, P = 5 };
  const size_t B = per_channel ? N : B11; /* per-channel mode: beam b is channel b */
  uint64_t seed = 21;
  float complex *w = malloc(B * N * sizeof *w), *rows = malloc((size_t)P * N * L * sizeof *rows);
  float complex *in = malloc((size_t)P * N * S * sizeof *in);
  for (size_t i = 0; i < B * N; i++) w[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
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
  if (per_channel)
    ck_assert_int_eq(rf_bf_execute(bf, NULL, in, P, want, (size_t)P * S), 0);
  else
    ck_assert_int_eq(rf_bf_execute_ref(bf, w, in, P, want, (size_t)P * S), 0);

  rf_doppler_config dc = {.pulses = P, .cells = S, .nfft = P, .clutter = RF_CLUTTER_NONE, .window = RF_TAPER_NONE};
  rf_doppler *d;
  const float *win;
  size_t pout;
  ck_assert_int_eq(rf_doppler_create(&d, &dc), 0);
  rf_doppler_tables(d, &win, &pout);
  ck_assert_uint_eq(pout, P);
  rf_bf_cl *bcl;
  rf_doppler_cl *dcl;
  cl_mem drows, ddop;
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)P * N * L * 8, CL_MEM_READ_WRITE, "rows", &drows), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * P * S * 8, CL_MEM_READ_WRITE, "beam cube", &ddop), 0);
  ck_assert_msg(rf_bf_cl_create(&bcl, cl, N, B) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_doppler_cl_create(&dcl, cl, &dc, B, 1, ddop) == 0, "%s", rf_errmsg());
  cl_write(cl, drows, rows, (size_t)P * N * L * 8);
  ck_assert_int_eq(rf_bf_cl_set_weights(bcl, cl_q(cl), per_channel ? NULL : w), 0);
  ck_assert_int_eq(rf_doppler_cl_input(dcl, cl_q(cl), bcl, drows, L, P, 0, ddop, 0, NULL, NULL), 0);
  float complex *got = malloc((size_t)B * P * S * sizeof *got);
  cl_read(cl, ddop, got, (size_t)B * P * S * 8);
  for (size_t b = 0; b < B; b++)
    for (size_t p = 0; p < P; p++)
      for (size_t c = 0; c < S; c++) got[(b * P + p) * S + c] /= win[p];
  double e = rel_err_c(got, want, (size_t)B * P * S);
  fprintf(stderr, "cl: beamforming%s (bf_tb %u): rel err %.2e\n", per_channel ? " per channel" : "",
          rf_cl_tuning_get(cl)->bf_tb, e);
  ck_assert_msg(e < RF_TOL_STAGE_REL, "beamforming: relative error %g", e);
  rf_doppler_cl_destroy(dcl);
  rf_bf_cl_destroy(bcl);
  rf_cl_free(cl, drows);
  rf_cl_free(cl, ddop);
  rf_doppler_destroy(d);
  rf_bf_destroy(bf);
  free(w);
  free(rows);
  free(in);
  free(want);
  free(got);
  cl_close(cl);
}

START_TEST(cl_bf_matches_c) { bf_case(NULL, 0); }
END_TEST
START_TEST(cl_bf_tile_of_3) { bf_case("bf_tb=3", 0); }
END_TEST
START_TEST(cl_bf_per_channel) { bf_case("bf_tb=4", 1); } /* 6 channels: a tile past the last */
END_TEST

Suite *test_beamform_cl_suite(void) {
  Suite *s = suite_create("test_beamform_cl_suite");
  TCase *tc = tcase_create("beamform_cl");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_bf_matches_c);
  tcase_add_test(tc, cl_bf_tile_of_3);
  tcase_add_test(tc, cl_bf_per_channel);
  suite_add_tcase(s, tc);
  return s;
}
