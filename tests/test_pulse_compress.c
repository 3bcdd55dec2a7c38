/* Pulse compression: FFT fast convolution against the direct correlation,
 * plus impulse, noise-gain and argument checks. */
#include <check.h>
#include <string.h>

#include "../host/rf_stages.h"
#include "../io/rf_capture.h"
#include "rf_tolerances.h"

/* Max |a - b| over max |b|. */
static double rel_err(const float complex *a, const float complex *b, size_t n) {
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = cabsf(a[i] - b[i]), v = cabsf(b[i]);
    if (d > e) e = d;
    if (v > m) m = v;
  }
  return m > 0 ? e / m : e;
}

static void check_against_direct(int sample_type, int window, int with_cal) {
  enum { N = 3, S = 300, M = 41, P = 4 };
  uint64_t seed = 11 + (uint64_t)sample_type * 7 + (uint64_t)window;
  float complex ref[M], cal[N];
  for (int i = 0; i < M; i++) ref[i] = (float)rf_test_gauss(&seed) + I * (float)rf_test_gauss(&seed);
  for (int i = 0; i < N; i++) cal[i] = 0.8f + 0.1f * i + I * (0.2f - 0.1f * i);
  const double scale = sample_type == RF_SAMPLE_INT16 ? 0.01 : 1.5;
  int16_t raw16[P * N * S * 2];
  float raw32[P * N * S * 2];
  for (int i = 0; i < P * N * S * 2; i++) {
    double g = rf_test_gauss(&seed);
    raw16[i] = (int16_t)lrint(1000 * g);
    raw32[i] = (float)g;
  }
  rf_pc_config cfg = {.channels = N, .samples = S, .sample_type = sample_type, .scale = scale,
                      .calibration = with_cal ? cal : NULL, .reference = ref, .ref_len = M,
                      .window = window, .taylor_sll_db = 35, .taylor_nbar = 4, .max_pulses = P};
  rf_pc *pc;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), 0);
  static float complex out[P * N * S], want[P * N * S];
  const void *raw = sample_type == RF_SAMPLE_INT16 ? (const void *)raw16 : (const void *)raw32;
  ck_assert_int_eq(rf_pc_execute(pc, raw, P, out), 0);
  /* Reference: convert by hand, taper and normalise the replica, correlate. */
  double w[M], e = 0;
  rf_taper_fill(window, 35, 4, M, w);
  float complex h[M];
  for (int i = 0; i < M; i++) {
    h[i] = (float)w[i] * ref[i];
    e += w[i] * w[i] * (double)(crealf(ref[i]) * crealf(ref[i]) + cimagf(ref[i]) * cimagf(ref[i]));
  }
  for (int i = 0; i < M; i++) h[i] /= (float)sqrt(e);
  for (int row = 0; row < P * N; row++) {
    float complex x[S];
    for (int s = 0; s < S; s++) {
      int k = (row * S + s) * 2;
      double re = sample_type == RF_SAMPLE_INT16 ? raw16[k] : raw32[k];
      double im = sample_type == RF_SAMPLE_INT16 ? raw16[k + 1] : raw32[k + 1];
      x[s] = (float complex)(scale * (re + I * im) * (with_cal ? cal[row % N] : 1.0f));
    }
    rf_pc_correlate_ref(x, S, h, M, want + row * S);
  }
  ck_assert_double_lt(rel_err(out, want, P * N * S), RF_TOL_STAGE_REL);
  rf_pc_destroy(pc);
}

START_TEST(pc_float32_matches_direct) { check_against_direct(RF_SAMPLE_FLOAT32, RF_TAPER_NONE, 0); }
END_TEST
START_TEST(pc_int16_calibrated_matches_direct) { check_against_direct(RF_SAMPLE_INT16, RF_TAPER_NONE, 1); }
END_TEST
START_TEST(pc_tapered_matches_direct) {
  check_against_direct(RF_SAMPLE_FLOAT32, RF_TAPER_HAMMING, 1);
  check_against_direct(RF_SAMPLE_INT16, RF_TAPER_TAYLOR, 0);
}
END_TEST

/* An echo of the replica starting at sample r0 peaks at cell r0 with
 * amplitude sqrt(M) (unit-modulus LFM replica, energy-normalised filter). */
START_TEST(pc_lfm_echo_peaks_at_its_delay) {
  enum { S = 512, R0 = 123 };
  const double fs = 10e6, bw = 8e6, tp = 6e-6;
  size_t m = (size_t)lround(tp * fs);
  float complex ref[64];
  rf_lfm_replica(bw, tp, fs, m, ref);
  static float raw[S * 2];
  memset(raw, 0, sizeof raw);
  for (size_t i = 0; i < m; i++) {
    raw[2 * (R0 + i)] = crealf(ref[i]);
    raw[2 * (R0 + i) + 1] = cimagf(ref[i]);
  }
  rf_pc_config cfg = {.channels = 1, .samples = S, .sample_type = RF_SAMPLE_FLOAT32, .scale = 1,
                      .reference = ref, .ref_len = m, .window = RF_TAPER_NONE, .max_pulses = 1};
  rf_pc *pc;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), 0);
  float complex out[S];
  rf_pc_execute(pc, raw, 1, out);
  size_t best = 0;
  for (size_t i = 1; i < S; i++)
    if (cabsf(out[i]) > cabsf(out[best])) best = i;
  ck_assert_uint_eq(best, R0);
  ck_assert_double_eq_tol(cabsf(out[R0]), sqrt((double)m), 1e-3 * sqrt((double)m));
  rf_pc_destroy(pc);
}
END_TEST

START_TEST(pc_noise_keeps_unit_power) {
  enum { S = 4096, P = 16 };
  uint64_t seed = 5;
  float complex ref[50];
  for (int i = 0; i < 50; i++) ref[i] = cexpf(I * (float)(6.283 * rf_test_uniform(&seed)));
  static float raw[P * S * 2];
  for (int i = 0; i < P * S * 2; i++) raw[i] = (float)(rf_test_gauss(&seed) * sqrt(0.5));
  rf_pc_config cfg = {.channels = 1, .samples = S, .sample_type = RF_SAMPLE_FLOAT32, .scale = 1,
                      .reference = ref, .ref_len = 50, .window = RF_TAPER_HAMMING,
                      .taylor_sll_db = 35, .taylor_nbar = 4, .max_pulses = P};
  rf_pc *pc;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), 0);
  static float complex out[P * S];
  rf_pc_execute(pc, raw, P, out);
  double pw = 0;
  size_t n = 0;
  for (int p = 0; p < P; p++)
    for (int s = 0; s < S - 50; s++, n++) pw += crealf(out[p * S + s] * conjf(out[p * S + s]));
  ck_assert_double_eq_tol(pw / (double)n, 1.0, RF_TOL_NOISE_POWER);
  rf_pc_destroy(pc);
}
END_TEST

START_TEST(pc_rejects_bad_arguments_and_survives_oom) {
  float complex ref[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  rf_pc_config cfg = {.channels = 2, .samples = 4, .sample_type = RF_SAMPLE_FLOAT32, .scale = 1,
                      .reference = ref, .ref_len = 8, .max_pulses = 1};
  rf_pc *pc = (rf_pc *)1;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), RF_EINVAL); /* replica longer than the window */
  ck_assert_ptr_null(pc);
  cfg.samples = 64;
  cfg.sample_type = 99;
  ck_assert_int_eq(rf_pc_create(&pc, &cfg), RF_EINVAL);
  cfg.sample_type = RF_SAMPLE_INT16;
  for (size_t k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_pc_create(&pc, &cfg);
    rf_alloc_fail_after(0, 0);
    if (st == 0) {
      rf_pc_destroy(pc);
      ck_assert_uint_gt(k, 1);
      break;
    }
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(pc);
  }
  ck_assert_uint_eq(rf_pc_fft_len(1000, 1000), 2000);
  ck_assert_uint_eq(rf_pc_fft_len(9000, 1000), 10000);
}
END_TEST

Suite *test_pulse_compress_suite(void) {
  Suite *s = suite_create("test_pulse_compress_suite");
  TCase *tc = tcase_create("pulse_compression");
  tcase_add_test(tc, pc_float32_matches_direct);
  tcase_add_test(tc, pc_int16_calibrated_matches_direct);
  tcase_add_test(tc, pc_tapered_matches_direct);
  tcase_add_test(tc, pc_lfm_echo_peaks_at_its_delay);
  tcase_add_test(tc, pc_noise_keeps_unit_power);
  tcase_add_test(tc, pc_rejects_bad_arguments_and_survives_oom);
  suite_add_tcase(s, tc);
  return s;
}
