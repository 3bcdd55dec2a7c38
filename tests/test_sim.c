/* radarflow tests: scenario parser and echo simulator (datasets/). The echo
 * is checked against the formula of formats.md evaluated here, independently
 * of datasets/simulate.c. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../datasets/rf_sim.h"
#include "../io/rf_capture.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* Echo against the direct formula: samples are stored as float32 and the
 * simulator sums float32 products, ~1e-6 relative; 1e-4 leaves margin. */
#define SIM_TOL_ECHO_REL 1e-4
/* Truth geometry is double precision throughout; 1e-9 relative covers the
 * rounding of epoch times (1e3 s, resolution 1e-13 s) and of sqrt/atan2. */
#define SIM_TOL_TRUTH_REL 1e-9
/* Calibrated data vs an error-free run: float32 products, as for the echo. */
#define SIM_TOL_CAL_REL 1e-4

static const char *tmp_dir(void) {
  const char *d = getenv("RF_TMP");
  if (!d || !*d) d = "build/test-tmp";
  char cmd[600];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
  if (system(cmd) != 0) ck_abort_msg("cannot create %s", d);
  return d;
}

/* Writes text to RF_TMP/name; returns the path (static buffer per slot). */
static const char *write_tmp(const char *name, const char *text) {
  static char paths[4][512];
  static int slot;
  char *p = paths[slot++ % 4];
  snprintf(p, 512, "%s/%s", tmp_dir(), name);
  FILE *f = fopen(p, "w");
  ck_assert_msg(f != NULL, "cannot write %s: %s", p, strerror(errno));
  fputs(text, f);
  fclose(f);
  return p;
}

static const char *tmp_path(const char *name) {
  static char paths[4][512];
  static int slot;
  char *p = paths[slot++ % 4];
  snprintf(p, 512, "%s/%s", tmp_dir(), name);
  return p;
}

/* Loads text as a scenario, expecting RF_EFORMAT and a message naming the
 * file, the line and the key. */
static void expect_parse_error(const char *text, int line, const char *key) {
  const char *path = write_tmp("sim-bad.ini", text);
  rf_scenario *sc = (rf_scenario *)1;
  int st = rf_scenario_load(&sc, path);
  ck_assert_int_eq(st, RF_EFORMAT);
  ck_assert_ptr_null(sc);
  const char *msg = rf_errmsg();
  char where[600];
  snprintf(where, sizeof where, "%s:%d:", path, line);
  ck_assert_msg(strstr(msg, where) != NULL, "message '%s' lacks '%s'", msg, where);
  ck_assert_msg(strstr(msg, key) != NULL, "message '%s' lacks key '%s'", msg, key);
}

/* The tiny scenario: 4-element ULA, 64 samples, noise off. */
#define TINY_HEAD                                                     \
  "[radar]\ncenter_frequency_hz = 1e9\n"                              \
  "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\n"            \
  "sample_rate_hz = 4e6\npri_s = 100e-6\nrange_gate_delay_s = 10e-6\n" \
  "samples = 64\n"                                                    \
  "[array]\nlayout = ula\nelements = 4\nface_azimuth_deg = 10\n"      \
  "[scan]\ndwells = 2\npulses_per_dwell = 4\nazimuth_deg = 20, 25\n"  \
  "elevation_deg = 5\nstart_time_s = 1000\ndwell_gap_s = 1e-3\n"

#define TINY_TARGET                                                   \
  "[target a]\nrange_m = 2500\nazimuth_deg = 21\nelevation_deg = 4\n" \
  "velocity_enu_mps = 10, -25, 3\nsnr_db = 20\n"

/* Loads and simulates, then opens the capture. */
static rf_capture *simulate_text(const char *name, const char *text, uint64_t seed) {
  char ini[128], h5[128];
  snprintf(ini, sizeof ini, "%s.ini", name);
  snprintf(h5, sizeof h5, "%s.h5", name);
  const char *path = write_tmp(ini, text);
  rf_scenario *sc = NULL;
  int st = rf_scenario_load(&sc, path);
  ck_assert_msg(st == 0, "load: %s", rf_errmsg());
  const char *out = tmp_path(h5);
  remove(out); /* this test's scratch file, maybe from an older build (the writer replaces only its own) */
  st = rf_simulate(sc, out, seed);
  ck_assert_msg(st == 0, "simulate: %s", rf_errmsg());
  rf_scenario_destroy(sc);
  rf_capture *cap = NULL;
  st = rf_capture_open(&cap, out);
  ck_assert_msg(st == 0, "open: %s", rf_errmsg());
  return cap;
}

/* All pulses as complex samples, scaled. Caller frees. */
static float complex *read_all(rf_capture *cap) {
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  size_t n = m->pulses * m->channels * m->samples;
  void *raw = malloc(m->pulses * rf_capture_pulse_bytes(m));
  float complex *x = malloc(n * sizeof *x);
  ck_assert(raw && x);
  ck_assert_int_eq(rf_capture_read_pulses(cap, 0, m->pulses, raw), 0);
  for (size_t i = 0; i < n; i++) {
    if (m->sample_type == RF_SAMPLE_INT16) {
      const int16_t *r = raw;
      x[i] = (float complex)(m->scale * r[2 * i] + I * m->scale * r[2 * i + 1]);
    } else {
      const float *r = raw;
      x[i] = (float complex)(m->scale * r[2 * i] + I * m->scale * r[2 * i + 1]);
    }
  }
  free(raw);
  return x;
}

/* ---- parser ------------------------------------------------------------------- */
START_TEST(test_parse_unknown_key) {
  expect_parse_error("[radar]\ncenter_frequency_hz = 3e9\nbogus_key = 1\n", 3, "bogus_key");
}
END_TEST

START_TEST(test_parse_bad_number) {
  expect_parse_error(TINY_HEAD "[target a]\nrange_m = 2500\nazimuth_deg = 2x1\nsnr_db = 3\n",
                     23, "azimuth_deg");
  expect_parse_error("[radar]\ncenter_frequency_hz = 3e9\n[waveform]\nsample_rate_hz = 1e6\npri_s = nan\n", 5,
                     "pri_s");
}
END_TEST

START_TEST(test_parse_missing_key) {
  /* pri_s missing: reported at the [waveform] section's first key line. */
  expect_parse_error("[radar]\ncenter_frequency_hz = 1e9\n"
                     "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\nsample_rate_hz = 4e6\n"
                     "samples = 64\n",
                     4, "pri_s");
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "[waveform]"));
}
END_TEST

START_TEST(test_parse_other_errors) {
  /* duplicate scalar key */
  expect_parse_error("[radar]\ncenter_frequency_hz = 3e9\ncenter_frequency_hz = 2e9\n", 3,
                     "center_frequency_hz");
  /* unknown section */
  expect_parse_error("[radar]\ncenter_frequency_hz = 3e9\n[radr]\nname = x\n", 4, "radr");
  /* a line longer than libinih's buffer */
  char text[600] = "[radar]\nname = ";
  memset(text + strlen(text), 'x', 300);
  strcat(text, "\n");
  expect_parse_error(text, 2, "line longer");
  /* pulse longer than the PRI names the key */
  expect_parse_error("[radar]\ncenter_frequency_hz = 1e9\n[waveform]\nbandwidth_hz = 2e6\n"
                     "pulse_width_s = 2e-4\nsample_rate_hz = 4e6\npri_s = 1e-4\nsamples = 64\n",
                     5, "pulse_width_s");
}
END_TEST

START_TEST(test_parse_lists_continue) {
  /* Lists may continue on indented lines; the cycle then has 3 entries. */
  const char *text =
      "[radar]\ncenter_frequency_hz = 1e9\n"
      "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\nsample_rate_hz = 4e6\n"
      "pri_s = 100e-6\nsamples = 64\n"
      "[array]\nlayout = custom\npositions_enu_m = 0, 0, 0,\n  0.1, 0, 0\n  0.2, 0, 0.1\n"
      "[scan]\ndwells = 5\npulses_per_dwell = 2, 3\nazimuth_deg = 10, 20,\n  30\n";
  rf_scenario *sc = NULL;
  ck_assert_msg(rf_scenario_load(&sc, write_tmp("sim-list.ini", text)) == 0, "%s", rf_errmsg());
  rf_scenario_summary s;
  rf_scenario_get_summary(sc, &s);
  ck_assert_uint_eq(s.channels, 3);
  ck_assert_uint_eq(s.dwells, 5);
  ck_assert_uint_eq(s.pulses, 2 + 3 + 2 + 3 + 2);
  rf_scenario_destroy(sc);
}
END_TEST

START_TEST(test_parse_oom_sweep) {
  const char *path = write_tmp("sim-oom.ini", TINY_HEAD TINY_TARGET);
  int ok = 0;
  for (size_t n = 1; n < 500 && !ok; n++) {
    rf_scenario *sc = NULL;
    rf_alloc_fail_after(n, 1);
    int st = rf_scenario_load(&sc, path);
    rf_alloc_fail_after(0, 0);
    if (st == 0) {
      ok = 1;
      ck_assert_ptr_nonnull(sc);
    } else {
      ck_assert_int_eq(st, RF_ENOMEM);
      ck_assert_ptr_null(sc);
    }
    rf_scenario_destroy(sc);
  }
  ck_assert(ok);
}
END_TEST

START_TEST(test_shipped_scenarios) {
  rf_scenario *sc = NULL;
  rf_scenario_summary s;
  ck_assert_msg(rf_scenario_load(&sc, "datasets/scenarios/demo.ini") == 0, "%s", rf_errmsg());
  rf_scenario_get_summary(sc, &s);
  ck_assert_uint_eq(s.channels, 16);
  ck_assert_uint_eq(s.dwells, 8);
  ck_assert_uint_eq(s.samples, 1024);
  ck_assert_uint_eq(s.pulses, 256);
  ck_assert_uint_eq(s.targets, 3);
  ck_assert_double_eq(s.center_frequency_hz, 3e9);
  rf_scenario_destroy(sc);
  ck_assert_msg(rf_scenario_load(&sc, "datasets/scenarios/early-warning.ini") == 0, "%s", rf_errmsg());
  rf_scenario_get_summary(sc, &s);
  ck_assert_uint_eq(s.channels, 64);
  ck_assert_uint_eq(s.targets, 3);
  /* about 1 GB at most */
  ck_assert_uint_le(s.pulses * s.channels * s.samples * 4, (size_t)1 << 30);
  rf_scenario_destroy(sc);
}
END_TEST

/* ---- echo ---------------------------------------------------------------------- */
static const double c_mps = 299792458.0;

/* Direct evaluation of one target's echo (formats.md), up to the target's
 * random phase, for pulse p at time t (s after start) with beam d_beam. */
static double complex direct_echo(const rf_capture_meta *m, const double p0[3], const double v0[3],
                                  double t, double snr_db, const double d_beam[3], size_t n,
                                  size_t i, int barker_chip_samples) {
  static const int b13[13] = {1, 1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1};
  double x[3], r = 0, d[3];
  for (int k = 0; k < 3; k++) x[k] = p0[k] + v0[k] * t, r += x[k] * x[k];
  r = sqrt(r);
  for (int k = 0; k < 3; k++) d[k] = x[k] / r;
  double lam = c_mps / m->center_frequency_hz, tau = 2 * r / c_mps;
  double complex af = 0;
  for (size_t q = 0; q < m->channels; q++) {
    const double *pq = m->element_position_m[q];
    af += cexp(I * 2 * M_PI / lam *
               (pq[0] * (d[0] - d_beam[0]) + pq[1] * (d[1] - d_beam[1]) + pq[2] * (d[2] - d_beam[2])));
  }
  double snr = pow(10, snr_db / 10) * pow(cabs(af) / (double)m->channels, 2);
  double u = m->range_gate_delay_s + (double)i / m->sample_rate_hz - tau, T = m->pulse_width_s;
  if (u < 0 || u >= T) return 0;
  double complex s;
  if (barker_chip_samples) {
    s = b13[(int)floor(u * m->sample_rate_hz / barker_chip_samples)];
  } else {
    double B = m->bandwidth_hz;
    s = cexp(I * (M_PI * B / T * u * u - M_PI * B * u));
  }
  const double *pn = m->element_position_m[n];
  return sqrt(snr) * s * cexp(-I * 2 * M_PI * m->center_frequency_hz * tau) *
         cexp(I * 2 * M_PI / lam * (pn[0] * d[0] + pn[1] * d[1] + pn[2] * d[2]));
}

static void check_echo(const char *name, const char *text, int barker_chip_samples) {
  rf_capture *cap = simulate_text(name, text, 42);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  ck_assert_uint_eq(m->channels, 4);
  ck_assert_uint_eq(m->samples, 64);
  ck_assert_uint_eq(m->pulses, 8);
  ck_assert_uint_eq(m->dwells, 2);
  float complex *x = read_all(cap);
  double p0[3], v0[3] = {10, -25, 3};
  double az = 21 * M_PI / 180, el = 4 * M_PI / 180;
  p0[0] = 2500 * cos(el) * sin(az), p0[1] = 2500 * cos(el) * cos(az), p0[2] = 2500 * sin(el);

  /* ULA geometry: centred, spacing lambda/2 along (cos faz, -sin faz, 0). */
  double lam = c_mps / 1e9, faz = 10 * M_PI / 180;
  for (size_t n = 0; n < 4; n++) {
    double off = ((double)n - 1.5) * lam / 2;
    ck_assert_double_eq_tol(m->element_position_m[n][0], off * cos(faz), 1e-12);
    ck_assert_double_eq_tol(m->element_position_m[n][1], -off * sin(faz), 1e-12);
    ck_assert_double_eq_tol(m->element_position_m[n][2], 0, 1e-12);
  }
  /* Pulse schedule: pri inside a dwell, pri + gap between dwells. */
  ck_assert_double_eq_tol(m->pulse_time_s[1] - m->pulse_time_s[0], 100e-6, 1e-9);
  ck_assert_double_eq_tol(m->pulse_time_s[4] - m->pulse_time_s[3], 100e-6 + 1e-3, 1e-9);

  /* x / direct must be one unit-modulus constant (the target's random
   * phase) across pulses, elements and samples. */
  double complex ph0 = 0;
  size_t checked = 0;
  double peak = 0;
  for (size_t p = 0; p < m->pulses; p++) {
    size_t k = p < 4 ? 0 : 1;
    double t = (p < 4) ? (double)p * 100e-6 : 3 * 100e-6 + 100e-6 + 1e-3 + (double)(p - 4) * 100e-6;
    double db[3], a = m->azimuth_deg[k] * M_PI / 180, e = m->elevation_deg[k] * M_PI / 180;
    db[0] = cos(e) * sin(a), db[1] = cos(e) * cos(a), db[2] = sin(e);
    for (size_t n = 0; n < m->channels; n++)
      for (size_t i = 0; i < m->samples; i++) {
        double complex want = direct_echo(m, p0, v0, t, 20, db, n, i, barker_chip_samples);
        double complex got = x[(p * m->channels + n) * m->samples + i];
        if (cabs(want) > peak) peak = cabs(want);
        if (cabs(want) == 0) {
          ck_assert_msg(cabs(got) < 1e-6, "p %zu n %zu i %zu: expected no echo, got %g", p, n, i, cabs(got));
          continue;
        }
        if (ph0 == 0) ph0 = got / want;
        ck_assert_msg(cabs(got - ph0 * want) < SIM_TOL_ECHO_REL * cabs(want),
                      "p %zu n %zu i %zu: got %g%+gj want %g%+gj", p, n, i, creal(got), cimag(got),
                      creal(ph0 * want), cimag(ph0 * want));
        checked++;
      }
  }
  ck_assert_uint_gt(checked, 8 * 4 * 20);
  ck_assert_double_eq_tol(cabs(ph0), 1.0, SIM_TOL_ECHO_REL);
  ck_assert_double_lt(peak, 10.0 + 1e-9); /* |a|^2 = SNR <= 20 dB */

  /* Correlating channel 0 of pulse 0 with the replica peaks at the echo's
   * delay: (tau - rgd) fs samples. */
  size_t M = m->reference_len;
  ck_assert_uint_eq(M, barker_chip_samples ? 13u * barker_chip_samples : 32u);
  size_t best = 0;
  double bestv = -1;
  for (size_t r = 0; r + M <= m->samples; r++) {
    double complex acc = 0;
    for (size_t q = 0; q < M; q++) acc += x[r + q] * conjf(m->reference[q]);
    if (cabs(acc) > bestv) bestv = cabs(acc), best = r;
  }
  double tau = 2 * 2500 / c_mps;
  ck_assert_double_eq_tol((double)best, (tau - 10e-6) * 4e6, 1.0);
  free(x);

  /* Truth: one row per target per dwell at the mid time. */
  rf_truth *tr = NULL;
  ck_assert_int_eq(rf_capture_read_truth(cap, &tr), 0);
  ck_assert_uint_eq(tr->rows, 2);
  for (size_t row = 0; row < 2; row++) {
    size_t f = (size_t)m->first_pulse[row], l = f + (size_t)m->num_pulses[row] - 1;
    double tm = 0.5 * (m->pulse_time_s[f] + m->pulse_time_s[l]);
    ck_assert_int_eq(tr->target_id[row], 1);
    ck_assert_int_eq(tr->dwell[row], (int)row);
    ck_assert_double_eq_tol(tr->time_s[row], tm, 1e-9);
    double x3[3], r = 0, vr = 0;
    for (int k = 0; k < 3; k++) {
      x3[k] = p0[k] + v0[k] * (tr->time_s[row] - 1000);
      ck_assert_double_eq_tol(tr->position_enu_m[row][k], x3[k], 2500 * SIM_TOL_TRUTH_REL);
      ck_assert_double_eq_tol(tr->velocity_enu_mps[row][k], v0[k], 1e-12);
      r += x3[k] * x3[k];
    }
    r = sqrt(r);
    for (int k = 0; k < 3; k++) vr += v0[k] * x3[k] / r;
    ck_assert_double_eq_tol(tr->range_m[row], r, r * SIM_TOL_TRUTH_REL);
    ck_assert_double_eq_tol(tr->radial_velocity_mps[row], vr, 1e-9);
    double azt = atan2(x3[0], x3[1]) * 180 / M_PI;
    ck_assert_double_eq_tol(tr->azimuth_deg[row], azt < 0 ? azt + 360 : azt, 1e-9);
    ck_assert_double_eq_tol(tr->elevation_deg[row], asin(x3[2] / r) * 180 / M_PI, 1e-9);
    ck_assert_double_lt(tr->snr_db[row], 20.0 + 1e-9); /* pattern loss off the axis */
    ck_assert_double_gt(tr->snr_db[row], 19.0);
  }
  rf_truth_free(tr);
  rf_capture_close(cap);
}

START_TEST(test_echo_lfm) {
  check_echo("sim-echo-lfm", TINY_HEAD "[noise]\nenabled = false\n" TINY_TARGET, 0);
}
END_TEST

START_TEST(test_echo_barker) {
  /* Barker 13 with 2 samples per chip: pulse_width_s is derived (26 / fs). */
  const char *text =
      "[radar]\ncenter_frequency_hz = 1e9\n"
      "[waveform]\ntype = custom\ncode = barker13\nchip_samples = 2\n"
      "sample_rate_hz = 4e6\npri_s = 100e-6\nrange_gate_delay_s = 10e-6\nsamples = 64\n"
      "[array]\nlayout = ula\nelements = 4\nface_azimuth_deg = 10\n"
      "[scan]\ndwells = 2\npulses_per_dwell = 4\nazimuth_deg = 20, 25\n"
      "elevation_deg = 5\nstart_time_s = 1000\ndwell_gap_s = 1e-3\n"
      "[noise]\nenabled = false\n" TINY_TARGET;
  check_echo("sim-echo-barker", text, 2);
}
END_TEST

START_TEST(test_truth_snr_radar_equation) {
  /* rcs_m2 on the beam axis: the radar equation evaluated here. */
  const char *text =
      "[radar]\ncenter_frequency_hz = 1e9\npeak_power_w = 1e5\nnoise_figure_db = 4\n"
      "system_loss_db = 2\nelement_gain_dbi = 5\n"
      "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\nsample_rate_hz = 4e6\n"
      "pri_s = 100e-6\nrange_gate_delay_s = 10e-6\nsamples = 64\n"
      "[array]\nlayout = ula\nelements = 4\nface_azimuth_deg = 10\n"
      "[scan]\ndwells = 1\npulses_per_dwell = 3\nazimuth_deg = 21\nelevation_deg = 4\n"
      "start_time_s = 1000\n"
      "[noise]\nenabled = false\n"
      "[target a]\nrange_m = 2500\nazimuth_deg = 21\nelevation_deg = 4\nrcs_m2 = 2\n";
  rf_capture *cap = simulate_text("sim-rcs", text, 1);
  rf_truth *tr = NULL;
  ck_assert_int_eq(rf_capture_read_truth(cap, &tr), 0);
  double lam = c_mps / 1e9, ge = pow(10, 0.5), n = 4;
  double snr = 1e5 * (n * ge) * ge * lam * lam * 2 /
               (pow(4 * M_PI, 3) * pow(2500, 4) * 1.380649e-23 * 290 * pow(10, 0.6) * 4e6);
  ck_assert_double_eq_tol(tr->snr_db[0], 10 * log10(snr), 1e-6);
  /* the echo amplitude is sqrt(SNR) */
  float complex *x = read_all(cap);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  size_t i = (size_t)ceil((2 * 2500 / c_mps - 10e-6) * 4e6) + 3;
  ck_assert_double_eq_tol(cabsf(x[i]), sqrt(snr), sqrt(snr) * SIM_TOL_ECHO_REL);
  ck_assert_uint_eq(m->samples, 64);
  free(x);
  rf_truth_free(tr);
  rf_capture_close(cap);
}
END_TEST

/* A spoiled transmit beam: written per dwell to /dwell/tx_beamwidth_az_deg,
 * read back; the truth SNR of a target 10 degrees off the axis of a 20
 * degree beam is the Gaussian pattern's 2^-(2 * 10 / 20)^2 = 1/2 (-3.01
 * dB) below the on-axis one, computed here. Swerling 1: with the noise off
 * the echo's power per dwell is exponential with the truth's mean (mean
 * and standard deviation within 12% over 400 dwells, sampling error 5%);
 * Swerling 0 keeps it constant. */
START_TEST(test_tx_beamwidth_and_swerling) {
  const char *text =
      "[radar]\ncenter_frequency_hz = 1e9\n"
      "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\nsample_rate_hz = 4e6\n"
      "pri_s = 100e-6\nrange_gate_delay_s = 10e-6\nsamples = 64\n"
      "[array]\nlayout = ula\nelements = 1\n"
      "[scan]\ndwells = 400\npulses_per_dwell = 1\nazimuth_deg = 30\ntx_beamwidth_az_deg = 20\n"
      "[noise]\nenabled = false\n"
      "[target on]\nrange_m = 1600\nazimuth_deg = 30\nsnr_db = 10\nswerling = 1\n"
      "[target off]\nrange_m = 3500\nazimuth_deg = 40\nsnr_db = 10\n";
  rf_capture *cap = simulate_text("sim-txbw", text, 5);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  ck_assert_ptr_nonnull(m->tx_beamwidth_az_deg);
  ck_assert_ptr_null(m->tx_beamwidth_el_deg);
  for (size_t d = 0; d < m->dwells; d++) ck_assert_double_eq(m->tx_beamwidth_az_deg[d], 20.0);
  rf_truth *tr = NULL;
  ck_assert_int_eq(rf_capture_read_truth(cap, &tr), 0);
  ck_assert_double_eq_tol(tr->snr_db[0], 10.0, 1e-9);
  ck_assert_double_eq_tol(tr->snr_db[1], 10.0 + 10 * log10(0.5), 1e-6);
  float complex *x = read_all(cap);
  size_t i1 = (size_t)ceil((2 * 1600 / c_mps - 10e-6) * 4e6) + 3, i2 = (size_t)ceil((2 * 3500 / c_mps - 10e-6) * 4e6) + 3;
  double s1 = 0, s2 = 0, t1 = 0, t2 = 0;
  for (size_t d = 0; d < m->dwells; d++) {
    double p1 = crealf(x[d * m->samples + i1] * conjf(x[d * m->samples + i1]));
    double p2 = crealf(x[d * m->samples + i2] * conjf(x[d * m->samples + i2]));
    s1 += p1, s2 += p1 * p1, t1 += p2, t2 += p2 * p2;
  }
  double n = (double)m->dwells, mean = s1 / n, sd = sqrt(s2 / n - mean * mean);
  ck_assert_msg(fabs(mean / 10.0 - 1) < 0.12 && fabs(sd / 10.0 - 1) < 0.12, "Swerling 1: mean %.3f sd %.3f", mean, sd);
  double mean2 = t1 / n, sd2 = sqrt(fmax(t2 / n - mean2 * mean2, 0));
  ck_assert_double_eq_tol(mean2, 5.0, 5.0 * SIM_TOL_ECHO_REL);
  ck_assert_double_lt(sd2, 5.0 * SIM_TOL_ECHO_REL);
  free(x);
  rf_truth_free(tr);
  rf_capture_close(cap);
  expect_parse_error("[radar]\ncenter_frequency_hz = 1e9\n[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\n"
                     "sample_rate_hz = 4e6\npri_s = 100e-6\nsamples = 64\n[array]\nelements = 1\n"
                     "[scan]\ndwells = 1\npulses_per_dwell = 1\ntx_beamwidth_az_deg = 0\n",
                     14, "tx_beamwidth_az_deg");
}
END_TEST

/* ---- noise ---------------------------------------------------------------------- */
#define NOISE_TEXT(type)                                                         \
  "[radar]\ncenter_frequency_hz = 1e9\n"                                         \
  "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\nsample_rate_hz = 4e6\n" \
  "pri_s = 400e-6\nsamples = 1024\n"                                             \
  "[array]\nlayout = ula\nelements = 4\n"                                        \
  "[scan]\ndwells = 2\npulses_per_dwell = 8\n"                                   \
  "[noise]\nsample_type = " type "\n"

static void check_noise_power(const char *name, const char *text, int int16) {
  rf_capture *cap = simulate_text(name, text, 3);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  ck_assert_int_eq(m->sample_type, int16 ? RF_SAMPLE_INT16 : RF_SAMPLE_FLOAT32);
  if (int16) ck_assert_double_eq_tol(m->scale, 1.0 / (8 * sqrt(2.0)), 1e-15);
  else ck_assert_double_eq(m->scale, 1.0);
  float complex *x = read_all(cap);
  size_t n = m->pulses * m->channels * m->samples;
  ck_assert_uint_ge(n, 1u << 16);
  double pw = 0, pi = 0, pq = 0;
  double complex mean = 0;
  for (size_t i = 0; i < n; i++) {
    pw += crealf(x[i] * conjf(x[i]));
    pi += crealf(x[i]) * crealf(x[i]);
    pq += cimagf(x[i]) * cimagf(x[i]);
    mean += x[i];
  }
  pw /= (double)n, pi /= (double)n, pq /= (double)n, mean /= (double)n;
  ck_assert_double_eq_tol(pw, 1.0, RF_TOL_NOISE_POWER);
  ck_assert_double_eq_tol(pi, 0.5, RF_TOL_NOISE_POWER / 2);
  ck_assert_double_eq_tol(pq, 0.5, RF_TOL_NOISE_POWER / 2);
  ck_assert_double_lt(cabs(mean), RF_TOL_NOISE_POWER);
  /* no truth without targets */
  ck_assert_int_eq(m->has_truth, 0);
  free(x);
  rf_capture_close(cap);
}

START_TEST(test_noise_float32) { check_noise_power("sim-noise-f32", NOISE_TEXT("float32"), 0); }
END_TEST

START_TEST(test_noise_int16) { check_noise_power("sim-noise-i16", NOISE_TEXT("int16"), 1); }
END_TEST

START_TEST(test_seed_determinism) {
  const char *text = TINY_HEAD "[noise]\nsample_type = int16\n" TINY_TARGET;
  rf_capture *a = simulate_text("sim-seed-a", text, 11);
  rf_capture *b = simulate_text("sim-seed-b", text, 11);
  rf_capture *c = simulate_text("sim-seed-c", text, 12);
  const rf_capture_meta *m = rf_capture_get_meta(a);
  size_t bytes = m->pulses * rf_capture_pulse_bytes(m);
  void *ra = malloc(bytes), *rb = malloc(bytes), *rc = malloc(bytes);
  ck_assert(ra && rb && rc);
  ck_assert_int_eq(rf_capture_read_pulses(a, 0, m->pulses, ra), 0);
  ck_assert_int_eq(rf_capture_read_pulses(b, 0, m->pulses, rb), 0);
  ck_assert_int_eq(rf_capture_read_pulses(c, 0, m->pulses, rc), 0);
  ck_assert_int_eq(memcmp(ra, rb, bytes), 0);
  ck_assert_int_ne(memcmp(ra, rc, bytes), 0);
  free(ra), free(rb), free(rc);
  rf_capture_close(a), rf_capture_close(b), rf_capture_close(c);
}
END_TEST

/* ---- motion, clutter, calibration ------------------------------------------------ */
/* Keplerian truth, computed here by an independent method
 * (rf_test_ballistic_integrate, tests/testutil.c: the equations of motion
 * in the rotating site ENU frame integrated by RK4 at 0.05 s steps); the
 * simulator instead propagates the orbit in closed form (universal-variable
 * Kepler) in an inertial frame and rotates it into ENU. RK4 at 0.05 s
 * leaves < 1e-6 m over 1000 s (local error ~ r (n h)^5 / 120 with
 * n ~ 1.2e-3 /s); the tolerances cover float64 rounding of coordinates
 * ~7e6 m. */
#define SIM_TOL_KEPLER_POS_M 1e-3
#define SIM_TOL_KEPLER_VEL_MPS 1e-6

START_TEST(test_ballistic_motion) {
  /* Eight dwells a minute apart at a northern site: an object 1200 km out
   * and 400 km up coming in at 3.6 km/s flies its arc for 7 minutes; one
   * launched steeply nearby comes down in about 4. */
  const char *text =
      "[radar]\ncenter_frequency_hz = 1e9\nsite_latitude_deg = 54.36\nsite_longitude_deg = -0.67\n"
      "site_altitude_m = 260\n"
      "[waveform]\nbandwidth_hz = 2e6\npulse_width_s = 8e-6\n"
      "sample_rate_hz = 4e6\npri_s = 100e-6\nrange_gate_delay_s = 10e-6\nsamples = 64\n"
      "[array]\nlayout = ula\nelements = 4\nface_azimuth_deg = 10\n"
      "[scan]\ndwells = 8\npulses_per_dwell = 4\nazimuth_deg = 20\n"
      "elevation_deg = 5\nstart_time_s = 1000\ndwell_gap_s = 60\n"
      "[noise]\nenabled = false\n"
      "[target rv]\nmotion = ballistic\nposition_enu_m = 300e3, 1200e3, 400e3\n"
      "velocity_enu_mps = -800, -3400, 900\nsnr_db = 0\n"
      "[target plane]\nposition_enu_m = -500, 2500, 100\nspeed_mps = 200\nheading_deg = 90\n"
      "climb_deg = 10\nsnr_db = 0\n"
      "[target lob]\nmotion = ballistic\nposition_enu_m = 20e3, 30e3, 5e3\n"
      "velocity_enu_mps = 100, 200, 1000\nsnr_db = 0\n";
  rf_capture *cap = simulate_text("sim-ballistic", text, 5);
  rf_truth *tr = NULL;
  ck_assert_int_eq(rf_capture_read_truth(cap, &tr), 0);
  ck_assert_uint_eq(tr->rows, 24);
  rf_test_earth g = rf_test_earth_at(54.36, -0.67, 260);
  const double y0[2][6] = {{300e3, 1200e3, 400e3, -800, -3400, 900}, {20e3, 30e3, 5e3, 100, 200, 1000}};
  double sp[3] = {200 * cos(10 * M_PI / 180), 0, 200 * sin(10 * M_PI / 180)}; /* heading east */
  double worst_p = 0, worst_v = 0;
  int fallen = 0, flying = 0;
  for (size_t row = 0; row < tr->rows; row++) {
    double t = tr->time_s[row] - 1000;
    int id = tr->target_id[row];
    if (id == 2) {
      ck_assert_double_eq_tol(tr->position_enu_m[row][0], -500 + sp[0] * t, 1e-6);
      ck_assert_double_eq_tol(tr->position_enu_m[row][1], 2500, 1e-6);
      ck_assert_double_eq_tol(tr->position_enu_m[row][2], 100 + sp[2] * t, 1e-6);
      continue;
    }
    double y[6];
    memcpy(y, y0[id == 1 ? 0 : 1], sizeof y);
    rf_test_ballistic_integrate(&g, y, t);
    for (int k = 0; k < 3; k++) {
      double ep = fabs(tr->position_enu_m[row][k] - y[k]), ev = fabs(tr->velocity_enu_mps[row][k] - y[3 + k]);
      if (ep > worst_p) worst_p = ep;
      if (ev > worst_v) worst_v = ev;
      ck_assert_msg(ep < SIM_TOL_KEPLER_POS_M, "target %d at %.1f s: position %d off by %g m", id, t, k, ep);
      ck_assert_msg(ev < SIM_TOL_KEPLER_VEL_MPS, "target %d at %.1f s: velocity %d off by %g m/s", id, t, k, ev);
    }
    /* Below the ellipsoid (WGS-84 height < 0, here: up well below the
     * tangent plane near the site) the object has hit the ground: no echo,
     * truth SNR -300 dB. */
    if (id == 3 && y[2] < -100) {
      fallen++;
      ck_assert_double_le(tr->snr_db[row], -299);
    } else if (id == 3 && y[2] > 100) {
      flying++;
      ck_assert_double_gt(tr->snr_db[row], -299);
    }
  }
  ck_assert_int_gt(fallen, 0);
  ck_assert_int_gt(flying, 0);
  fprintf(stderr, "simulate: Keplerian truth vs RK4 in the rotating frame: worst %.2g m, %.2g m/s over 7 min\n",
          worst_p, worst_v);
  rf_truth_free(tr);
  rf_capture_close(cap);
}
END_TEST

START_TEST(test_clutter_stationary) {
  const char *text = TINY_HEAD "[noise]\nenabled = false\n"
                               "[clutter]\nenabled = true\ncnr_db = 20\nrange_min_m = 1600\n"
                               "range_max_m = 3500\nscatterers = 50\n";
  rf_capture *cap = simulate_text("sim-clutter", text, 9);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  float complex *x = read_all(cap);
  size_t ps = m->channels * m->samples;
  double pw = 0;
  for (size_t i = 0; i < ps; i++) pw += crealf(x[i] * conjf(x[i]));
  ck_assert_double_gt(pw / (double)ps, 1.0); /* clutter is there */
  /* identical in every pulse of a dwell, different between the two dwells */
  for (size_t p = 1; p < 4; p++) ck_assert_int_eq(memcmp(x, x + p * ps, ps * sizeof *x), 0);
  for (size_t p = 5; p < 8; p++) ck_assert_int_eq(memcmp(x + 4 * ps, x + p * ps, ps * sizeof *x), 0);
  ck_assert_int_ne(memcmp(x, x + 4 * ps, ps * sizeof *x), 0);
  free(x);
  rf_capture_close(cap);
}
END_TEST

START_TEST(test_calibration_restores_ideal) {
  const char *base = TINY_HEAD "[noise]\nenabled = true\n" TINY_TARGET;
  char text[2048];
  snprintf(text, sizeof text, "%s", base);
  char *a = strstr(text, "face_azimuth_deg = 10\n");
  ck_assert_ptr_nonnull(a);
  const char *ins = "calibration_amplitude_std_db = 1\ncalibration_phase_std_deg = 20\n";
  a += strlen("face_azimuth_deg = 10\n");
  memmove(a + strlen(ins), a, strlen(a) + 1);
  memcpy(a, ins, strlen(ins));
  rf_capture *ideal = simulate_text("sim-cal-ideal", base, 21);
  rf_capture *bad = simulate_text("sim-cal-bad", text, 21);
  const rf_capture_meta *mi = rf_capture_get_meta(ideal), *mb = rf_capture_get_meta(bad);
  ck_assert_int_eq(mi->has_calibration, 0);
  ck_assert_int_eq(mb->has_calibration, 1);
  float complex *xi = read_all(ideal), *xb = read_all(bad);
  double maxd = 0, maxv = 0, maxraw = 0;
  for (size_t p = 0; p < mb->pulses; p++)
    for (size_t n = 0; n < mb->channels; n++)
      for (size_t i = 0; i < mb->samples; i++) {
        size_t j = (p * mb->channels + n) * mb->samples + i;
        maxd = fmax(maxd, cabsf(xb[j] * mb->calibration[n] - xi[j]));
        maxraw = fmax(maxraw, cabsf(xb[j] - xi[j]));
        maxv = fmax(maxv, cabsf(xi[j]));
      }
  ck_assert_double_lt(maxd, SIM_TOL_CAL_REL * maxv);
  ck_assert_double_gt(maxraw, 0.05 * maxv); /* the errors were really applied */
  free(xi), free(xb);
  rf_capture_close(ideal), rf_capture_close(bad);
}
END_TEST

Suite *test_sim_suite(void) {
  Suite *s = suite_create("test_sim_suite");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, test_parse_unknown_key);
  tcase_add_test(tc, test_parse_bad_number);
  tcase_add_test(tc, test_parse_missing_key);
  tcase_add_test(tc, test_parse_other_errors);
  tcase_add_test(tc, test_parse_lists_continue);
  tcase_add_test(tc, test_parse_oom_sweep);
  tcase_add_test(tc, test_shipped_scenarios);
  suite_add_tcase(s, tc);
  tc = tcase_create("simulate");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_echo_lfm);
  tcase_add_test(tc, test_echo_barker);
  tcase_add_test(tc, test_truth_snr_radar_equation);
  tcase_add_test(tc, test_tx_beamwidth_and_swerling);
  tcase_add_test(tc, test_noise_float32);
  tcase_add_test(tc, test_noise_int16);
  tcase_add_test(tc, test_seed_determinism);
  tcase_add_test(tc, test_ballistic_motion);
  tcase_add_test(tc, test_clutter_stationary);
  tcase_add_test(tc, test_calibration_restores_ideal);
  suite_add_tcase(s, tc);
  return s;
}
