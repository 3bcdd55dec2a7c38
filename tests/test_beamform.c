/* Beamforming: the OpenBLAS product and the plain loop against a double sum, the
 * beamwidth against array theory, the beam fan (centred, spaced by half the
 * theoretical beamwidth, per transmit direction; covering a declared
 * transmit beam), and its monopulse-style direction estimate against beam
 * powers computed here from the formats.md steering vector. */
#include <check.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../host/rf_stages.h"
#include "rf_tolerances.h"

/* Largest |got - want| / max |want| over the B x P x S outputs, want the
 * product summed in double here (an independent loop). */
static double bf_rel_err(const float complex *w, const float complex *in, int nch, int nb, int np, int ns,
                         const float complex *out) {
  double err = 0, mx = 0;
  for (int b = 0; b < nb; b++)
    for (int p = 0; p < np; p++)
      for (int s = 0; s < ns; s++) {
        double complex acc = 0;
        for (int n = 0; n < nch; n++) acc += (double complex)w[b * nch + n] * in[(p * nch + n) * ns + s];
        double e = cabs(acc - (double complex)out[b * np * ns + p * ns + s]);
        if (e > err) err = e;
        if (cabs(acc) > mx) mx = cabs(acc);
      }
  return err / mx;
}

/* The OpenBLAS path (rf_bf_execute) and the plain loop (rf_bf_execute_ref,
 * the OpenCL kernel's twin) against a double-precision sum, and against
 * each other: many pulses (one CGEMM per pulse) and fewer pulses than
 * threads (each pulse's cells cut into slices). */
START_TEST(bf_matches_loop) {
  enum { N = 7, B = 4, P = 3, S = 600 }; /* S not a multiple of the tile */
  uint64_t seed = 3;
  static float complex in[P * N * S], out[B * P * S], ref[B * P * S];
  float complex w[B * N];
  for (int i = 0; i < P * N * S; i++) in[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int i = 0; i < B * N; i++) w[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int np = 1; np <= P; np += P - 1) {
    rf_bf *bf;
    ck_assert_int_eq(rf_bf_create(&bf, N, B, S), 0);
    ck_assert_int_eq(rf_bf_execute(bf, w, in, np, out, np * S), 0);
    ck_assert_int_eq(rf_bf_execute_ref(bf, w, in, np, ref, np * S), 0);
    ck_assert_double_lt(bf_rel_err(w, in, N, B, np, S, out), RF_TOL_STAGE_REL);
    ck_assert_double_lt(bf_rel_err(w, in, N, B, np, S, ref), RF_TOL_STAGE_REL);
    rf_bf_destroy(bf);
  }
}
END_TEST

/* Per-channel mode (no weights): beam b is channel b, exactly. */
START_TEST(bf_channels_copies) {
  enum { N = 5, P = 4, S = 300 };
  uint64_t seed = 9;
  static float complex in[P * N * S], out[N * P * S];
  for (int i = 0; i < P * N * S; i++) in[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  rf_bf *bf;
  ck_assert_int_eq(rf_bf_create(&bf, N, N, S), 0);
  ck_assert_int_eq(rf_bf_execute(bf, NULL, in, P, out, P * S), 0);
  for (int b = 0; b < N; b++)
    for (int p = 0; p < P; p++)
      ck_assert_int_eq(memcmp(out + (b * P + p) * S, in + (p * N + b) * S, S * sizeof *out), 0);
  rf_bf_destroy(bf);
  ck_assert_int_eq(rf_bf_create(&bf, N, N + 1, S), 0);
  ck_assert_int_eq(rf_bf_execute(bf, NULL, in, P, out, P * S), RF_EINVAL);
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

/* More channels than the old 65536-element limit: still the textbook
 * width (it was 0 there, silently). */
START_TEST(bf_beamwidth_large_array) {
  enum { N = 70000 };
  static double pos[N][3];
  double lambda = 0.1;
  ula(pos, N, lambda / 2, 0);
  double want = 0.886 * lambda / (N * lambda / 2) * 180.0 / RF_PI;
  double got = rf_beamwidth_deg(pos, N, lambda, 0, 0, 0, RF_TAPER_NONE, 35, 4);
  ck_assert_double_eq_tol(got, want, RF_TOL_BEAMWIDTH_REL * want);
}
END_TEST

/* 8 x 8 planar array in the x-z plane facing north, lambda / 2 spacing. */
static void upa8(double (*pos)[3], double lambda) {
  for (int i = 0; i < 64; i++) {
    pos[i][0] = (i % 8 - 3.5) * lambda / 2;
    pos[i][1] = 0;
    pos[i][2] = (i / 8 - 3.5) * lambda / 2;
  }
}

/* The fan of each dwell: centred on its transmit direction, beams spaced by
 * half the 3 dB beamwidth (textbook 0.886 lambda / (N d) on a uniform
 * aperture, widened 1 / cos(az) off broadside), three rows on a planar
 * array and one on a line; weights steer each beam at its own direction. */
START_TEST(bf_fan_geometry) {
  enum { N = 16 };
  double pos[N][3], lambda = 0.1;
  ula(pos, N, lambda / 2, 0);
  const double az[3] = {0, 30, 0}, el[3] = {0, 0, 0};
  rf_fan_config fc = {.element_position_m = (const double(*)[3])pos, .channels = N, .lambda_m = lambda,
                      .beams_az = 5, .taper = RF_TAPER_NONE, .taylor_sll_db = 35, .taylor_nbar = 4,
                      .dwells = 3, .azimuth_deg = az, .elevation_deg = el};
  rf_fan *f;
  ck_assert_int_eq(rf_fan_create(&f, &fc), 0);
  ck_assert_uint_eq(rf_fan_beams(f), 5);
  const double bw0 = 0.886 * lambda / (N * lambda / 2) * 180.0 / RF_PI;
  for (size_t d = 0; d < 3; d++) {
    rf_fan_view v;
    ck_assert_int_eq(rf_fan_dwell(f, d, &v), 0);
    ck_assert_uint_eq(v.beams_el, 1);
    ck_assert_int_eq(v.estimate_elevation, 0);
    ck_assert_double_eq(v.beamwidth_el_deg, 0.0);
    double want = bw0 / cos(az[d] * RF_PI / 180.0);
    ck_assert_double_eq_tol(v.beamwidth_az_deg, want, 0.05 * want); /* scan broadening, as above */
    ck_assert_double_eq_tol(v.beam_az_deg[2], az[d], 1e-12);
    for (size_t b = 1; b < 5; b++)
      ck_assert_double_eq_tol(v.beam_az_deg[b] - v.beam_az_deg[b - 1], 0.5 * v.beamwidth_az_deg, 1e-9);
    float complex w[5 * N];
    ck_assert_int_eq(rf_fan_weights(f, d, w), 0);
    for (size_t b = 0; b < 5; b++) /* untapered: unit gain on its own axis */
      ck_assert_double_eq_tol(rf_beam_gain(pos, N, lambda, w + b * N, v.beam_az_deg[b], v.beam_el_deg[b]), 1.0, 1e-5);
  }
  /* the same direction twice: the same fan */
  rf_fan_view v0, v2;
  rf_fan_dwell(f, 0, &v0);
  rf_fan_dwell(f, 2, &v2);
  ck_assert_ptr_eq(v0.beam_az_deg, v2.beam_az_deg);
  rf_fan_view v;
  ck_assert_int_eq(rf_fan_dwell(f, 3, &v), RF_EINVAL);
  ck_assert_int_eq(rf_fan_weights(f, 3, NULL), RF_EINVAL);
  rf_fan_destroy(f);

  /* planar array: three rows by default, spaced half the elevation beamwidth */
  double p2[64][3];
  upa8(p2, lambda);
  const double el1 = 10;
  rf_fan_config fp = fc;
  fp.element_position_m = (const double(*)[3])p2;
  fp.channels = 64;
  fp.dwells = 1;
  fp.elevation_deg = &el1;
  ck_assert_int_eq(rf_fan_create(&f, &fp), 0);
  ck_assert_int_eq(rf_fan_dwell(f, 0, &v), 0);
  ck_assert_uint_eq(v.beams_el, 3);
  ck_assert_uint_eq(v.beams, 15);
  ck_assert_int_eq(v.estimate_elevation, 1);
  double want_el = 0.886 * lambda / (8 * lambda / 2) * 180.0 / RF_PI / cos(el1 * RF_PI / 180.0);
  ck_assert_double_eq_tol(v.beamwidth_el_deg, want_el, 0.1 * want_el); /* N = 8: the formula is coarse */
  ck_assert_double_eq_tol(v.beam_el_deg[7], el1, 1e-12);
  ck_assert_double_eq_tol(v.beam_el_deg[12] - v.beam_el_deg[7], 0.5 * v.beamwidth_el_deg, 1e-9);
  rf_fan_destroy(f);
}
END_TEST

START_TEST(bf_fan_rejects_and_survives_oom) {
  enum { N = 8 };
  double pos[N][3], lambda = 0.1, az[2] = {0, 5}, el[2] = {0, 0}, bad = NAN;
  ula(pos, N, lambda / 2, 0);
  rf_fan_config fc = {.element_position_m = (const double(*)[3])pos, .channels = N, .lambda_m = lambda,
                      .beams_az = 3, .taper = RF_TAPER_TAYLOR, .taylor_sll_db = 35, .taylor_nbar = 4,
                      .dwells = 2, .azimuth_deg = az, .elevation_deg = el};
  rf_fan *f = (rf_fan *)1;
  rf_fan_config c = fc;
  c.beams_az = -1;
  ck_assert_int_eq(rf_fan_create(&f, &c), RF_EINVAL);
  ck_assert_ptr_null(f);
  const double tx_bad[2] = {12, 0};
  c = fc;
  c.tx_beamwidth_az_deg = tx_bad;
  ck_assert_int_eq(rf_fan_create(&f, &c), RF_EINVAL);
  ck_assert_ptr_null(f);
  c = fc;
  c.elevation_deg = &bad;
  c.dwells = 1;
  ck_assert_int_eq(rf_fan_create(&f, &c), RF_EINVAL);
  for (size_t k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_fan_create(&f, &fc);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(f);
  }
  rf_fan_destroy(f);
  rf_fan_destroy(NULL);
}
END_TEST

/* Beam powers of a point target at (az, el) in dwell d's beams, computed
 * here: |sum_n w_bn a_n|^2 (the beamformer's y = w x) with a_n = exp(+j 2 pi /
 * lambda p_n . u) (formats.md)
 * and the fan's weights. */
static void beam_powers(const rf_fan *f, size_t d, const double (*pos)[3], size_t n, double lambda, double az,
                        double el, double *pw) {
  size_t B = rf_fan_beams(f);
  float complex *w = malloc(B * n * sizeof *w);
  rf_fan_weights(f, d, w);
  double u[3];
  rf_direction(az, el, u);
  for (size_t b = 0; b < B; b++) {
    double complex s = 0;
    for (size_t i = 0; i < n; i++) {
      double ph = 2 * RF_PI / lambda * (pos[i][0] * u[0] + pos[i][1] * u[1] + pos[i][2] * u[2]);
      s += (double complex)w[b * n + i] * cexp(I * ph); /* y = sum_n w_n x_n */
    }
    pw[b] = creal(s * conj(s));
  }
  free(w);
}

/* Coverage: without a declared transmit beam, 3 beams half a beamwidth
 * apart; with a 20 degree transmit beam the derived fan reaches its 3 dB
 * edges (outer beams at >= 10 degrees) and supports half a spacing more.
 * Direction: for targets across the supported span the estimate from the
 * beam powers (computed here, noise-free) is within 1% of a beamwidth;
 * past the support it is refused. */
START_TEST(bf_fan_covers_and_estimates) {
  enum { N = 16 };
  double pos[N][3], lambda = 0.1;
  ula(pos, N, lambda / 2, 0);
  const double az[2] = {0, 25}, el[2] = {0, 0}, tx[2] = {20, 20};
  rf_fan_config fc = {.element_position_m = (const double(*)[3])pos, .channels = N, .lambda_m = lambda,
                      .taper = RF_TAPER_TAYLOR, .taylor_sll_db = 35, .taylor_nbar = 4, .dwells = 2,
                      .azimuth_deg = az, .elevation_deg = el};
  rf_fan *f;
  ck_assert_int_eq(rf_fan_create(&f, &fc), 0);
  ck_assert_uint_eq(rf_fan_beams(f), 3);
  rf_fan_destroy(f);
  fc.tx_beamwidth_az_deg = tx;
  ck_assert_int_eq(rf_fan_create(&f, &fc), 0);
  size_t B = rf_fan_beams(f);
  ck_assert(B % 2 == 1 && B >= 5);
  for (size_t d = 0; d < 2; d++) {
    rf_fan_view v;
    ck_assert_int_eq(rf_fan_dwell(f, d, &v), 0);
    double s = v.extent.spacing_az_deg, bw = v.beamwidth_az_deg;
    ck_assert_double_eq_tol(s, 0.5 * bw, 1e-9);
    ck_assert(v.beam_az_deg[B - 1] - az[d] >= 10.0 - 1e-9 && az[d] - v.beam_az_deg[0] >= 10.0 - 1e-9);
    ck_assert_double_eq_tol(v.support_az_deg[1], v.beam_az_deg[B - 1] + 0.5 * s, 1e-9);
    double pw[64], worst = 0;
    for (double off = -v.extent.half_az_deg + 0.01; off < v.extent.half_az_deg; off += 0.05) {
      double taz = az[d] + off;
      beam_powers(f, d, pos, N, lambda, taz, 0, pw);
      size_t b = 0;
      for (size_t i = 1; i < B; i++)
        if (pw[i] > pw[b]) b = i;
      float p[5] = {(float)pw[b], b > 0 ? (float)pw[b - 1] : 0, b + 1 < B ? (float)pw[b + 1] : 0, 0, 0};
      double eaz, eel;
      ck_assert_msg(rf_fan_direction(f, d, b, p, &eaz, &eel) == 0, "dwell %zu: %.2f deg off axis refused", d, off);
      worst = fmax(worst, fabs(eaz - taz));
    }
    ck_assert_msg(worst < 0.01 * bw, "dwell %zu: worst direction error %.4f deg (beamwidth %.2f)", d, worst, bw);
    /* past the support: refused */
    double taz = v.support_az_deg[1] + 0.3 * s;
    beam_powers(f, d, pos, N, lambda, taz, 0, pw);
    float p[5] = {(float)pw[B - 1], (float)pw[B - 2], 0, 0, 0};
    double eaz, eel;
    ck_assert_int_eq(rf_fan_direction(f, d, B - 1, p, &eaz, &eel), 1);
  }
  rf_fan_destroy(f);
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

Suite *test_beamform_suite(void) {
  Suite *s = suite_create("test_beamform_suite");
  TCase *tc = tcase_create("beamforming");
  tcase_add_test(tc, bf_matches_loop);
  tcase_add_test(tc, bf_channels_copies);
  tcase_add_test(tc, bf_steering_is_coherent);
  tcase_add_test(tc, bf_beamwidth_matches_theory);
  tcase_add_test(tc, bf_beamwidth_large_array);
  tcase_add_test(tc, bf_fan_geometry);
  tcase_add_test(tc, bf_fan_covers_and_estimates);
  tcase_add_test(tc, bf_fan_rejects_and_survives_oom);
  tcase_add_test(tc, bf_rejects_bad_sizes_and_survives_oom);
  suite_add_tcase(s, tc);
  return s;
}
