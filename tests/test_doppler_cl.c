/* Stage 4 on the OpenCL device against its C twin, rf_doppler_execute
 * (itself checked against the Doppler of known tones and the canceller's
 * transfer function in tests/test_doppler.c), on noise plus clutter-like
 * mean and a tone (fixed seeds). The beam cube goes in as "rows" with
 * identity weights (N = B, so the fused beamforming copies it exactly), in
 * one block or in blocks (canceller history and notch sums carried across
 * them), with 1 to 4 pulse groups, for every clutter filter. Poison mode
 * (rf_cl_testutil.h): the Doppler rows [pout, K) start as NaNs, so a finite
 * result shows VkFFT's zero padding leaves them unread, and stale notch sums
 * of a pulse group with no pulse in a dwell's first block would show (they
 * did, before rf_doppler_input cleared them). Canary mode: no buffer, the
 * stage's own sums and canceller state included, is written past its end. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rf_cl_testutil.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

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
  cl_mem ddop, dpow;
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * K * S * 8, CL_MEM_READ_WRITE, "Doppler cube", &ddop), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, (size_t)B * K * S * 4, CL_MEM_READ_WRITE, "power", &dpow), 0);
  rf_bf_cl *bcl;
  rf_doppler_cl *dcl;
  ck_assert_msg(rf_bf_cl_create(&bcl, cl, B, B) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_doppler_cl_create(&dcl, cl, &dc, B, groups, ddop) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_bf_cl_set_weights(bcl, cl_q(cl), eye), 0);
  for (size_t p0 = 0; p0 < P; p0 += block) {
    size_t cnt = P - p0 < block ? P - p0 : block;
    cl_mem blk;
    ck_assert_int_eq(rf_cl_alloc(cl, cnt * B * S * 8, CL_MEM_READ_WRITE, "block", &blk), 0);
    cl_write(cl, blk, rows + p0 * B * S, cnt * B * S * 8);
    ck_assert_int_eq(rf_doppler_cl_input(dcl, cl_q(cl), bcl, blk, S, cnt, p0, ddop, 0, NULL, NULL), 0);
    clFinish(cl_q(cl));
    rf_cl_free(cl, blk);
  }
  ck_assert_int_eq(rf_doppler_cl_execute(dcl, cl_q(cl), ddop, dpow, 0, NULL, NULL), 0);
  cl_read(cl, dpow, got, (size_t)B * K * S * 4);
  double e = rel_err_f(got, want, (size_t)B * K * S);
  fprintf(stderr, "cl: doppler (clutter %d, blocks of %zu, %zu groups): rel err %.2e\n", clutter, block, groups, e);
  ck_assert_msg(e < RF_TOL_STAGE_REL, "doppler: relative error %g", e);
  for (size_t i = 0; i < (size_t)B * K * S; i++)
    if (want[i] == 0.0f) ck_assert_msg(got[i] == 0.0f, "notched cell %zu not blanked", i);
  rf_doppler_cl_destroy(dcl);
  rf_bf_cl_destroy(bcl);
  rf_cl_free(cl, ddop);
  rf_cl_free(cl, dpow);
  rf_doppler_destroy(d);
  free(cube);
  free(rows);
  free(want);
  free(got);
  cl_close(cl);
}

START_TEST(cl_doppler_none) { doppler_case(RF_CLUTTER_NONE, 12, 1); }
END_TEST
START_TEST(cl_doppler_notch_split) { doppler_case(RF_CLUTTER_NOTCH, 5, 1); }
END_TEST
START_TEST(cl_doppler_notch_groups) { doppler_case(RF_CLUTTER_NOTCH, 12, 4); }
END_TEST
/* first block of 5 pulses in 4 groups of 2: the last group has none */
START_TEST(cl_doppler_notch_split_groups) { doppler_case(RF_CLUTTER_NOTCH, 5, 4); }
END_TEST
START_TEST(cl_doppler_mti2_split) { doppler_case(RF_CLUTTER_MTI2, 1, 1); }
END_TEST
START_TEST(cl_doppler_mti3_split_groups) { doppler_case(RF_CLUTTER_MTI3, 5, 2); }
END_TEST
START_TEST(cl_doppler_mti3_split_empty_group) { doppler_case(RF_CLUTTER_MTI3, 5, 4); }
END_TEST

/* Pulse groups from the tuning table: one on a CPU device; on a GPU row,
 * doubled while the work-items are under target_items and each group keeps
 * at least 8 pulses. */
START_TEST(cl_doppler_groups_from_tuning) {
  rf_cl *cl = cl_open();
  if (!rf_cl_device(cl)->is_gpu) { /* the default row: one group */
    ck_assert_uint_eq(rf_cl_tuning_get(cl)->max_groups, 1);
    ck_assert_uint_eq(rf_doppler_cl_groups(cl, 100, 5, 256), 1);
  }
  cl_close(cl);
  setenv("RF_CL_TUNING", "max_groups=16,target_items=65536,bf_tb=8", 1);
  cl = cl_open();
  unsetenv("RF_CL_TUNING");
  /* 100 cells x 1 tile of 8 beams = 100 work-items per group */
  ck_assert_uint_eq(rf_doppler_cl_groups(cl, 100, 5, 256), 16); /* capped by max_groups */
  ck_assert_uint_eq(rf_doppler_cl_groups(cl, 100, 5, 32), 4);   /* 8 groups would have 4 pulses */
  ck_assert_uint_eq(rf_doppler_cl_groups(cl, 65536, 5, 256), 1); /* enough work-items already */
  cl_close(cl);
}
END_TEST

Suite *test_doppler_cl_suite(void) {
  Suite *s = suite_create("test_doppler_cl_suite");
  TCase *tc = tcase_create("doppler_cl");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_doppler_none);
  tcase_add_test(tc, cl_doppler_notch_split);
  tcase_add_test(tc, cl_doppler_notch_groups);
  tcase_add_test(tc, cl_doppler_notch_split_groups);
  tcase_add_test(tc, cl_doppler_mti2_split);
  tcase_add_test(tc, cl_doppler_mti3_split_groups);
  tcase_add_test(tc, cl_doppler_mti3_split_empty_group);
  tcase_add_test(tc, cl_doppler_groups_from_tuning);
  suite_add_tcase(s, tc);
  return s;
}
