/* Beamforming: the blocked product against a plain loop, steering and
 * beamwidth against array theory. */
#include <check.h>

#include "../host/rf_stages.h"
#include "rf_tolerances.h"

START_TEST(bf_matches_loop) {
  enum { N = 7, B = 4, P = 3, S = 600 }; /* S not a multiple of the tile */
  uint64_t seed = 3;
  static float complex in[P * N * S], out[B * P * S];
  float complex w[B * N];
  for (int i = 0; i < P * N * S; i++) in[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int i = 0; i < B * N; i++) w[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  rf_bf *bf;
  ck_assert_int_eq(rf_bf_create(&bf, N, B, S), 0);
  ck_assert_int_eq(rf_bf_execute(bf, w, in, P, out, P * S), 0);
  double err = 0, mx = 0;
  for (int b = 0; b < B; b++)
    for (int p = 0; p < P; p++)
      for (int s = 0; s < S; s++) {
        double complex acc = 0;
        for (int n = 0; n < N; n++) acc += (double complex)w[b * N + n] * in[(p * N + n) * S + s];
        double e = cabs(acc - (double complex)out[b * P * S + p * S + s]);
        if (e > err) err = e;
        if (cabs(acc) > mx) mx = cabs(acc);
      }
  ck_assert_double_lt(err / mx, RF_TOL_STAGE_REL);
  rf_bf_destroy(bf);
}
END_TEST

static void ula(double (*pos)[3], int n, double d, double face_az_deg) {
  double a = face_az_deg * RF_PI / 180.0;
  for (int i = 0; i < n; i++) {
    double x = (i - 0.5 * (n - 1)) * d;
    pos[i][0] = x * cos(a);
    pos[i][1] = -x * sin(a);
    pos[i][2] = 0;
  }
}

/* A plane wave from the beam direction (phases of formats.md) adds up to
 * sqrt(N) times its amplitude with untapered weights; gain is 1 on axis. */
START_TEST(bf_steering_is_coherent) {
  enum { N = 16 };
  double pos[N][3], lambda = 0.1;
  ula(pos, N, lambda / 2, 30);
  double az = 35, el = 2;
  float complex w[N];
  rf_beam_weights(pos, N, lambda, &az, &el, 1, RF_TAPER_NONE, 35, 4, w);
  double d[3];
  rf_direction(az, el, d);
  double complex y = 0;
  for (int n = 0; n < N; n++) {
    double ph = 2 * RF_PI / lambda * (pos[n][0] * d[0] + pos[n][1] * d[1] + pos[n][2] * d[2]);
    y += (double complex)w[n] * cexp(I * ph);
  }
  ck_assert_double_eq_tol(cabs(y), 4.0, 1e-5);
  ck_assert_double_eq_tol(rf_beam_gain(pos, N, lambda, w, az, el), 1.0, 1e-6);
  /* Off axis the gain falls. */
  ck_assert_double_lt(rf_beam_gain(pos, N, lambda, w, az + 5, el), 0.5);
}
END_TEST

START_TEST(bf_beamwidth_matches_theory) {
  enum { N = 16 };
  double pos[N][3], lambda = 0.1;
  ula(pos, N, lambda / 2, 0);
  /* Broadside uniform ULA: 0.886 lambda / (N d) radians. */
  double want = 0.886 * lambda / (N * lambda / 2) * 180.0 / RF_PI;
  double got = rf_beamwidth_deg(pos, N, lambda, 0, 0, 0, RF_TAPER_NONE, 35, 4);
  ck_assert_double_eq_tol(got, want, RF_TOL_BEAMWIDTH_REL * want);
  /* Tapers widen the beam; a linear array has no elevation beamwidth. */
  ck_assert_double_gt(rf_beamwidth_deg(pos, N, lambda, 0, 0, 0, RF_TAPER_HAMMING, 35, 4), 1.3 * want);
  ck_assert_double_eq(rf_beamwidth_deg(pos, N, lambda, 0, 0, 1, RF_TAPER_NONE, 35, 4), 0.0);
  /* Hamming-tapered 16-element line: 9.345 deg (numerical array factor),
   * and the same looking 1 deg up (the taper is applied once, along the
   * line, not again across the sliver of aperture the line shows there). */
  double ham = rf_beamwidth_deg(pos, N, lambda, 0, 1, 0, RF_TAPER_HAMMING, 35, 4);
  ck_assert_double_eq_tol(ham, 9.345, 0.01 * 9.345);
  /* Scanned 60 deg off broadside it widens by 1 / cos 60. */
  double scanned = rf_beamwidth_deg(pos, N, lambda, 60, 0, 0, RF_TAPER_NONE, 35, 4);
  ck_assert_double_eq_tol(scanned, 2 * got, 0.05 * got);
}
END_TEST

START_TEST(bf_rejects_bad_sizes_and_survives_oom) {
  rf_bf *bf = (rf_bf *)1;
  ck_assert_int_eq(rf_bf_create(&bf, 0, 1, 1), RF_EINVAL);
  ck_assert_ptr_null(bf);
  for (size_t k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_bf_create(&bf, 4, 3, 100);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
  }
  rf_bf_destroy(bf);
  rf_bf_destroy(NULL);
}
END_TEST

Suite *test_bf_suite(void) {
  Suite *s = suite_create("test_bf_suite");
  TCase *tc = tcase_create("beamforming");
  tcase_add_test(tc, bf_matches_loop);
  tcase_add_test(tc, bf_steering_is_coherent);
  tcase_add_test(tc, bf_beamwidth_matches_theory);
  tcase_add_test(tc, bf_rejects_bad_sizes_and_survives_oom);
  suite_add_tcase(s, tc);
  return s;
}
