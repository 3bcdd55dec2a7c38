/* Doppler stage: against a direct DFT, tone placement, clutter removal and
 * noise normalisation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../host/rf_stages.h"
#include "rf_tolerances.h"

static rf_doppler *make(size_t p, size_t s, size_t k, int clutter, int window) {
  rf_doppler_config c = {.pulses = p, .cells = s, .nfft = k, .clutter = clutter, .notch_bins = 1,
                         .window = window, .taylor_sll_db = 35, .taylor_nbar = 4};
  rf_doppler *d = NULL;
  ck_assert_int_eq(rf_doppler_create(&d, &c), 0);
  return d;
}

START_TEST(doppler_matches_direct_dft) {
  enum { P = 24, S = 150, K = 32 }; /* S has a partial block */
  uint64_t seed = 9;
  static float complex in[P * S];
  static float pw[K * S];
  for (int i = 0; i < P * S; i++) in[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  rf_doppler *d = make(P, S, K, RF_CLUTTER_NONE, RF_TAPER_HAMMING);
  ck_assert_int_eq(rf_doppler_execute(d, in, pw), 0);
  double w[P], e = 0;
  rf_taper_fill(RF_TAPER_HAMMING, 35, 4, P, w);
  for (int i = 0; i < P; i++) e += w[i] * w[i];
  double err = 0, mx = 0;
  for (int j = 0; j < K; j++)
    for (int s = 0; s < S; s++) {
      int kk = (j + K / 2) % K;
      double complex acc = 0;
      for (int p = 0; p < P; p++) acc += w[p] * (double complex)in[p * S + s] * cexp(-2 * I * RF_PI * kk * p / K);
      double want = creal(acc * conj(acc)) / e;
      if (fabs(want - pw[j * S + s]) > err) err = fabs(want - pw[j * S + s]);
      if (want > mx) mx = want;
    }
  ck_assert_double_lt(err / mx, RF_TOL_STAGE_REL);
  rf_doppler_destroy(d);
}
END_TEST

/* A tone at f = (k - K/2) / (K pri) lands in shifted bin k. */
START_TEST(doppler_tone_lands_in_its_bin) {
  enum { P = 32, S = 8, K = 64 };
  static float complex in[P * S];
  static float pw[K * S];
  rf_doppler *d = make(P, S, K, RF_CLUTTER_NOTCH, RF_TAPER_TAYLOR);
  for (int want = 3; want < K; want += 11) {
    if (abs(want - K / 2) <= 1) continue;
    for (int p = 0; p < P; p++)
      for (int s = 0; s < S; s++) in[p * S + s] = cexpf(2 * I * (float)RF_PI * (float)(want - K / 2) * p / K);
    rf_doppler_execute(d, in, pw);
    int best = 0;
    for (int j = 1; j < K; j++)
      if (pw[j * S + 5] > pw[best * S + 5]) best = j;
    ck_assert_int_eq(best, want);
  }
  rf_doppler_destroy(d);
}
END_TEST

/* Stationary clutter (the same every pulse) is removed by the notch and by
 * the cancellers; a moving target survives. */
START_TEST(doppler_cancels_stationary_clutter) {
  enum { P = 16, S = 70, K = 16 };
  static float complex in[P * S];
  static float pw[K * S];
  uint64_t seed = 4;
  for (int s = 0; s < S; s++) {
    float complex c = 1000.0f * ((float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed));
    for (int p = 0; p < P; p++)
      in[p * S + s] = c + (s == 40 ? cexpf(2 * I * (float)RF_PI * 0.3f * p) : 0);
  }
  const int modes[] = {RF_CLUTTER_NOTCH, RF_CLUTTER_MTI2, RF_CLUTTER_MTI3};
  for (int m = 0; m < 3; m++) {
    rf_doppler *d = make(P, S, K, modes[m], RF_TAPER_HAMMING);
    rf_doppler_execute(d, in, pw);
    double mx = 0, tgt = 0;
    for (int j = 0; j < K; j++)
      for (int s = 0; s < S; s++) {
        if (s == 40) {
          if (pw[j * S + s] > tgt) tgt = pw[j * S + s];
        } else if (pw[j * S + s] > mx)
          mx = pw[j * S + s];
      }
    /* Clutter was 1e6 in power per pulse; its residue is float rounding. */
    ck_assert_double_lt(mx, 1e-3);
    ck_assert_double_gt(tgt, 1.0);
    rf_doppler_destroy(d);
  }
}
END_TEST

START_TEST(doppler_noise_keeps_unit_power) {
  enum { P = 64, S = 1024, K = 64 };
  static float complex in[P * S];
  static float pw[K * S];
  uint64_t seed = 21;
  const int modes[] = {RF_CLUTTER_NONE, RF_CLUTTER_MTI2, RF_CLUTTER_MTI3};
  for (int m = 0; m < 3; m++) {
    for (int i = 0; i < P * S; i++)
      in[i] = (float)(sqrt(0.5) * rf_test_gauss(&seed)) + I * (float)(sqrt(0.5) * rf_test_gauss(&seed));
    rf_doppler *d = make(P, S, K, modes[m], RF_TAPER_HAMMING);
    rf_doppler_execute(d, in, pw);
    double sum = 0;
    for (int i = 0; i < K * S; i++) sum += pw[i];
    ck_assert_double_eq_tol(sum / (K * S), 1.0, RF_TOL_NOISE_POWER);
    rf_doppler_destroy(d);
  }
}
END_TEST

START_TEST(doppler_rejects_bad_config) {
  rf_doppler_config c = {.pulses = 2, .cells = 10, .nfft = 4, .clutter = RF_CLUTTER_MTI3};
  rf_doppler *d = (rf_doppler *)1;
  ck_assert_int_eq(rf_doppler_create(&d, &c), RF_EINVAL);
  ck_assert_ptr_null(d);
  c.clutter = RF_CLUTTER_NONE;
  c.nfft = 1;
  ck_assert_int_eq(rf_doppler_create(&d, &c), RF_EINVAL);
  c.nfft = 8;
  for (size_t k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_doppler_create(&d, &c);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
  }
  rf_doppler_destroy(d);
}
END_TEST

Suite *test_doppler_suite(void) {
  Suite *s = suite_create("test_doppler_suite");
  TCase *tc = tcase_create("doppler");
  tcase_add_test(tc, doppler_matches_direct_dft);
  tcase_add_test(tc, doppler_tone_lands_in_its_bin);
  tcase_add_test(tc, doppler_cancels_stationary_clutter);
  tcase_add_test(tc, doppler_noise_keeps_unit_power);
  tcase_add_test(tc, doppler_rejects_bad_config);
  suite_add_tcase(s, tc);
  return s;
}
