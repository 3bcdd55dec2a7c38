/* radarflow: the echo simulator behind `radarflow simulate` (model in
 * docs/scenarios.md). Pulses are made dwell by dwell in blocks of at most
 * RF__BLOCK_BYTES and handed to the capture writer, so memory does not grow
 * with the capture. Every random stream is derived from (seed, purpose,
 * index), so the output does not depend on the number of threads. */
#include "sim_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#define RF__BLOCK_BYTES ((size_t)32 << 20) /* raw bytes handed to the writer at once */

/* Stream purposes, mixed into the seed. */
enum { RF__RNG_NOISE = 1, RF__RNG_TARGET = 2, RF__RNG_CLUTTER = 3, RF__RNG_CAL = 4, RF__RNG_FLUCT = 5 };

/* ---- PRNG: xoshiro256** seeded by splitmix64 -------------------------------- */
typedef struct rf__rng {
  uint64_t s[4];
} rf__rng;

static uint64_t rf__splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void rf__rng_init(rf__rng *r, uint64_t seed, uint64_t purpose, uint64_t index) {
  uint64_t x = seed;
  x = rf__splitmix64(&x) ^ (purpose * 0xD1B54A32D192ED03ull);
  x = rf__splitmix64(&x) ^ index;
  for (int i = 0; i < 4; i++) r->s[i] = rf__splitmix64(&x);
}

static inline uint64_t rf__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rf__rng_next(rf__rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rf__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rf__rotl(s[3], 45);
  return out;
}

/* Uniform in (0, 1). */
static inline double rf__rng_uniform(rf__rng *r) {
  return ((double)(rf__rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Complex Gaussian of the given power (Box-Muller: E|z|^2 = power). */
static inline double complex rf__rng_cgauss(rf__rng *r, double power) {
  double u = rf__rng_uniform(r), ph = 2.0 * RF_PI * rf__rng_uniform(r);
  double a = sqrt(-power * log(u));
  return a * cos(ph) + I * a * sin(ph);
}

/* ---- physics ------------------------------------------------------------------- */
void rf__sim_target_state(const rf_sim_target *t, double t_rel, double pos[3], double vel[3]) {
  for (int k = 0; k < 3; k++) {
    pos[k] = t->p0[k] + t->v0[k] * t_rel;
    vel[k] = t->v0[k];
  }
  if (t->motion == RF_SIM_BALLISTIC) {
    pos[2] -= 0.5 * RF_SIM_G_MPS2 * t_rel * t_rel;
    vel[2] -= RF_SIM_G_MPS2 * t_rel;
  }
}

/* |AF(d)|^2 / N^2 of the uniform array steered to d_beam. */
static double rf__array_pattern(const rf_scenario *sc, const double d[3], const double d_beam[3]) {
  double re = 0, im = 0, k = 2.0 * RF_PI / sc->lambda_m;
  for (size_t n = 0; n < sc->channels; n++) {
    const double *p = sc->pos[n];
    double ph = k * (p[0] * (d[0] - d_beam[0]) + p[1] * (d[1] - d_beam[1]) + p[2] * (d[2] - d_beam[2]));
    re += cos(ph);
    im += sin(ph);
  }
  double n2 = (double)sc->channels * (double)sc->channels;
  return (re * re + im * im) / n2;
}

double rf__sim_tx_pattern(const rf_scenario *sc, const double d[3], const double d_beam[3]) {
  if (!(sc->tx_bw_az_deg > 0) && !(sc->tx_bw_el_deg > 0)) return rf__array_pattern(sc, d, d_beam);
  /* A spoiled beam: per axis a Gaussian of the given 3 dB width in that
   * angle, else the array's pattern cut along that axis. */
  double r, az, el, azb, elb, u[3];
  rf_enu_to_rae(d, &r, &az, &el);
  rf_enu_to_rae(d_beam, &r, &azb, &elb);
  double daz = rf_wrap(az - azb, 180.0), del = el - elb, g = 1.0;
  if (sc->tx_bw_az_deg > 0) {
    g *= pow(2.0, -4.0 * daz * daz / (sc->tx_bw_az_deg * sc->tx_bw_az_deg));
  } else {
    rf_direction(az, elb, u);
    g *= rf__array_pattern(sc, u, d_beam);
  }
  if (sc->tx_bw_el_deg > 0) {
    g *= pow(2.0, -4.0 * del * del / (sc->tx_bw_el_deg * sc->tx_bw_el_deg));
  } else {
    rf_direction(azb, el, u);
    g *= rf__array_pattern(sc, u, d_beam);
  }
  return g;
}

double rf__sim_snr(const rf_scenario *sc, const rf_sim_target *t, double r_m, const double d[3],
                   const double d_beam[3]) {
  double pat = rf__sim_tx_pattern(sc, d, d_beam);
  if (!t->use_rcs) return pow(10.0, t->snr_db / 10.0) * pat;
  /* SNR = Pt Gtx Ge lambda^2 sigma / ((4 pi)^3 R^4 k T0 F L fs),
   * Gtx = N Ge |AF|^2 / N^2. */
  double ge = pow(10.0, sc->element_gain_dbi / 10.0);
  double gtx = (double)sc->channels * ge * pat;
  double fl = pow(10.0, (sc->noise_figure_db + sc->system_loss_db) / 10.0);
  double fourpi3 = pow(4.0 * RF_PI, 3.0);
  double r2 = r_m * r_m;
  return sc->peak_power_w * gtx * ge * sc->lambda_m * sc->lambda_m * t->rcs_m2 /
         (fourpi3 * r2 * r2 * RF_SIM_K_BOLTZMANN * RF_SIM_T0_K * fl * sc->fs_hz);
}

float complex rf__sim_waveform(const rf_scenario *sc, double u) {
  double T = sc->pulse_width_s;
  if (!(u >= 0 && u < T)) return 0;
  if (sc->waveform_type == RF_WAVEFORM_LFM) {
    double B = sc->bandwidth_hz;
    double ph = RF_PI * (B / T) * u * u - RF_PI * B * u;
    return (float complex)(cos(ph) + I * sin(ph));
  }
  size_t k = (size_t)floor(u * sc->fs_hz / (double)sc->chip_samples);
  if (k >= sc->chips) k = sc->chips - 1;
  double ph = sc->chip_phase_rad[k];
  return (float complex)(cos(ph) + I * sin(ph));
}

/* Adds a * s(t_i - tau) * exp(-j 2 pi fc tau) * exp(+j 2 pi / lambda dot(p_n, d))
 * to x[n][i] for every element n and every sample i the echo touches.
 * wave is scratch of at least round(T fs) + 2 samples. */
static void rf__add_echo(const rf_scenario *sc, double complex a, double tau, const double d[3],
                         float complex *x, float complex *wave) {
  double fs = sc->fs_hz, S = (double)sc->samples;
  double lo = ceil((tau - sc->rgd_s) * fs), hi = ceil((tau + sc->pulse_width_s - sc->rgd_s) * fs);
  if (lo < 0) lo = 0;
  if (hi > S) hi = S;
  if (hi <= lo) return;
  size_t i0 = (size_t)lo, m = (size_t)hi - i0;
  double cyc = fmod(sc->fc_hz * tau, 1.0);
  double complex c = a * (cos(2.0 * RF_PI * cyc) - I * sin(2.0 * RF_PI * cyc));
  for (size_t i = 0; i < m; i++) {
    double u = sc->rgd_s + (double)(i0 + i) / fs - tau;
    wave[i] = (float complex)(c * rf__sim_waveform(sc, u));
  }
  double k = 2.0 * RF_PI / sc->lambda_m;
  for (size_t n = 0; n < sc->channels; n++) {
    const double *p = sc->pos[n];
    double ph = k * (p[0] * d[0] + p[1] * d[1] + p[2] * d[2]);
    float complex e = (float complex)(cos(ph) + I * sin(ph));
    float complex *row = x + n * sc->samples + i0;
    for (size_t i = 0; i < m; i++) row[i] += e * wave[i];
  }
}

/* ---- per-dwell and per-pulse work ----------------------------------------- */
/* Stationary clutter of dwell k into cl [channels][samples]: point
 * scatterers on the horizontal plane, uniform in range and in azimuth around
 * the beam, Rayleigh amplitudes with mean power falling as R^-exponent. */
static void rf__make_clutter(const rf_scenario *sc, uint64_t seed, size_t k, const double d_beam[3],
                             float complex *cl, float complex *wave) {
  memset(cl, 0, sc->channels * sc->samples * sizeof *cl);
  if (!sc->clutter_enabled) return;
  rf__rng r;
  rf__rng_init(&r, seed, RF__RNG_CLUTTER, k);
  double rmin = sc->clutter_rmin_m, rmax = sc->clutter_rmax_m;
  /* Mean scatterers within one pulse length of range: their summed power is
   * the clutter power of one fast-time sample. */
  double cell = RF_C_MPS * sc->pulse_width_s / 2.0;
  double n_cell = (double)sc->clutter_scatterers * fmin(1.0, cell / (rmax - rmin));
  if (n_cell < 1) n_cell = 1;
  double p0 = pow(10.0, sc->cnr_db / 10.0) / n_cell;
  for (size_t s = 0; s < sc->clutter_scatterers; s++) {
    double rng_m = rmin + (rmax - rmin) * rf__rng_uniform(&r);
    double az = sc->dwell_az_deg[k] + sc->clutter_az_spread_deg * (rf__rng_uniform(&r) - 0.5);
    double d[3];
    rf_direction(az, 0.0, d);
    double pw = p0 * pow(rng_m / rmin, -sc->clutter_range_exponent) * rf__sim_tx_pattern(sc, d, d_beam);
    double complex a = rf__rng_cgauss(&r, pw);
    rf__add_echo(sc, a, 2.0 * rng_m / RF_C_MPS, d, cl, wave);
  }
}

typedef struct rf__sim_ctx {
  const rf_scenario *sc;
  uint64_t seed;
  double complex *tgt_phase;  /* [targets] random initial phase factors */
  float complex *cal_err;     /* [channels] applied channel errors, or NULL */
  double scale;               /* raw = x / scale for int16 */
} rf__sim_ctx;

/* Swerling 1: the complex amplitude factor of target j in dwell k, unit
 * mean power, Rayleigh magnitude (its own stream per target and dwell). */
static double complex rf__fluct(const rf__sim_ctx *c, size_t j, size_t k) {
  if (c->sc->target[j].swerling != 1) return 1.0;
  rf__rng r;
  rf__rng_init(&r, c->seed, RF__RNG_FLUCT, (uint64_t)k * c->sc->targets + j);
  return rf__rng_cgauss(&r, 1.0);
}

/* Pulse p of dwell k into x [channels][samples] (unit-power noise domain). */
static void rf__make_pulse(const rf__sim_ctx *c, size_t p, size_t k, const double d_beam[3],
                           const float complex *cl, float complex *x, float complex *wave) {
  const rf_scenario *sc = c->sc;
  size_t ns = sc->channels * sc->samples;
  if (sc->noise_enabled) {
    rf__rng r;
    rf__rng_init(&r, c->seed, RF__RNG_NOISE, p);
    for (size_t i = 0; i < ns; i++) x[i] = (float complex)rf__rng_cgauss(&r, 1.0) + cl[i];
  } else {
    memcpy(x, cl, ns * sizeof *x);
  }
  double t = sc->t_rel_s[p];
  for (size_t j = 0; j < sc->targets; j++) {
    double pos[3], vel[3];
    rf__sim_target_state(&sc->target[j], t, pos, vel);
    double rg = sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2]);
    if (rg < 1.0) continue; /* no line of sight at the phase centre */
    double d[3] = {pos[0] / rg, pos[1] / rg, pos[2] / rg};
    double snr = rf__sim_snr(sc, &sc->target[j], rg, d, d_beam);
    rf__add_echo(sc, sqrt(snr) * c->tgt_phase[j] * rf__fluct(c, j, k), 2.0 * rg / RF_C_MPS, d, x, wave);
  }
  if (c->cal_err)
    for (size_t n = 0; n < sc->channels; n++)
      for (size_t i = 0; i < sc->samples; i++) x[n * sc->samples + i] *= c->cal_err[n];
}

/* Rounds x / scale into int16 pairs; returns the number of clipped values. */
static size_t rf__quantise(const float complex *x, size_t n, double scale, int16_t *out) {
  size_t clipped = 0;
  double g = 1.0 / scale;
  for (size_t i = 0; i < n; i++) {
    double v[2] = {crealf(x[i]) * g, cimagf(x[i]) * g};
    for (int q = 0; q < 2; q++) {
      double r = nearbyint(v[q]);
      if (r > 32767) r = 32767, clipped++;
      if (r < -32767) r = -32767, clipped++;
      out[2 * i + q] = (int16_t)r;
    }
  }
  return clipped;
}

/* ---- truth --------------------------------------------------------------------- */
static void rf__fill_truth(const rf_scenario *sc, rf_truth *t) {
  size_t row = 0;
  for (size_t k = 0; k < sc->dwells; k++) {
    size_t f = sc->first_pulse[k], l = f + sc->num_pulses[k] - 1;
    double tm = 0.5 * (sc->t_rel_s[f] + sc->t_rel_s[l]);
    double db[3];
    rf_direction(sc->dwell_az_deg[k], sc->dwell_el_deg[k], db);
    for (size_t j = 0; j < sc->targets; j++, row++) {
      double pos[3], vel[3], rg, az, el;
      rf__sim_target_state(&sc->target[j], tm, pos, vel);
      rf_enu_to_rae(pos, &rg, &az, &el);
      t->target_id[row] = (int32_t)(j + 1);
      t->dwell[row] = (int32_t)k;
      t->time_s[row] = sc->start_time_s + tm;
      memcpy(t->position_enu_m[row], pos, sizeof pos);
      memcpy(t->velocity_enu_mps[row], vel, sizeof vel);
      t->range_m[row] = rg;
      t->azimuth_deg[row] = az;
      t->elevation_deg[row] = el;
      double vr = 0, snr = 0;
      if (rg > 0) {
        double d[3] = {pos[0] / rg, pos[1] / rg, pos[2] / rg};
        vr = vel[0] * d[0] + vel[1] * d[1] + vel[2] * d[2];
        snr = rf__sim_snr(sc, &sc->target[j], rg, d, db);
      }
      t->radial_velocity_mps[row] = vr;
      t->snr_db[row] = 10.0 * log10(fmax(snr, 1e-30)); /* -300 dB in a pattern null */
    }
  }
}

/* ---- driver -------------------------------------------------------------------- */
int rf_simulate(const rf_scenario *sc, const char *out_path, uint64_t seed) {
  int st = 0, nthr = omp_get_max_threads();
  rf_capture_meta meta;
  rf_capture_writer *w = NULL;
  rf_truth *truth = NULL;
  rf__sim_ctx c = {.sc = sc, .seed = seed};
  float complex *cal = NULL, *ref = NULL, *cl = NULL, *work = NULL, *wave = NULL;
  int64_t *first = NULL;
  int32_t *num = NULL;
  double *ptime = NULL, *txbw[2] = {NULL, NULL};
  void *block = NULL;
  size_t clipped = 0;
  if (!sc || !out_path) return rf__err(RF_EINVAL, "rf_simulate: NULL argument");
  if (nthr < 1) nthr = 1;

  size_t ns = sc->channels * sc->samples;
  size_t pair = sc->sample_type == RF_SAMPLE_INT16 ? 2 * sizeof(int16_t) : 2 * sizeof(float);
  size_t pulse_bytes = ns * pair;
  size_t max_ppd = 1;
  for (size_t k = 0; k < sc->dwells; k++)
    if (sc->num_pulses[k] > max_ppd) max_ppd = sc->num_pulses[k];
  size_t block_pulses = RF__BLOCK_BYTES / pulse_bytes;
  if (block_pulses < 1) block_pulses = 1;
  if (block_pulses > max_ppd) block_pulses = max_ppd;
  size_t ref_len = (size_t)llround(sc->pulse_width_s * sc->fs_hz);
  size_t wave_len = ref_len + 2;
  int int16 = sc->sample_type == RF_SAMPLE_INT16;

  /* Everything is allocated here, before the first pulse. */
  c.tgt_phase = rf__calloc(sc->targets ? sc->targets : 1, sizeof *c.tgt_phase);
  cal = rf__calloc(sc->channels, sizeof *cal);
  ref = rf__calloc(ref_len, sizeof *ref);
  cl = rf__malloc_aligned(ns * sizeof *cl);
  wave = rf__malloc((size_t)(nthr + 1) * wave_len * sizeof *wave);
  first = rf__calloc(sc->dwells, sizeof *first);
  num = rf__calloc(sc->dwells, sizeof *num);
  ptime = rf__calloc(sc->pulses, sizeof *ptime);
  block = rf__malloc_aligned(block_pulses * pulse_bytes);
  if (int16) work = rf__malloc_aligned((size_t)nthr * ns * sizeof *work);
  if (!c.tgt_phase || !cal || !ref || !cl || !wave || !first || !num || !ptime || !block ||
      (int16 && !work)) {
    st = rf__err(RF_ENOMEM, "%s: out of memory for the simulation buffers", out_path);
    goto cleanup;
  }
  if (sc->targets && (st = rf_truth_alloc(&truth, sc->dwells * sc->targets)) != 0) {
    st = rf__err(st, "%s: out of memory for /truth", out_path);
    goto cleanup;
  }

  /* Seeded constants: target phases and channel errors. */
  rf__rng r;
  rf__rng_init(&r, seed, RF__RNG_TARGET, 0);
  for (size_t j = 0; j < sc->targets; j++) {
    double ph = 2.0 * RF_PI * rf__rng_uniform(&r);
    c.tgt_phase[j] = cos(ph) + I * sin(ph);
  }
  int has_cal = sc->cal_amp_std_db > 0 || sc->cal_phase_std_deg > 0;
  if (has_cal) {
    c.cal_err = rf__calloc(sc->channels, sizeof *c.cal_err);
    if (!c.cal_err) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", out_path);
      goto cleanup;
    }
    rf__rng_init(&r, seed, RF__RNG_CAL, 0);
    for (size_t n = 0; n < sc->channels; n++) {
      double g1 = creal(rf__rng_cgauss(&r, 2.0)), g2 = creal(rf__rng_cgauss(&r, 2.0)); /* N(0,1) */
      double amp = pow(10.0, sc->cal_amp_std_db * g1 / 20.0);
      double ph = sc->cal_phase_std_deg * g2 * RF_PI / 180.0;
      c.cal_err[n] = (float complex)(amp * (cos(ph) + I * sin(ph)));
      cal[n] = 1.0f / c.cal_err[n];
    }
  }
  /* int16: noise std per I and Q is noise_lsb LSB, and scale brings the
   * complex noise power back to 1. */
  c.scale = int16 ? 1.0 / (sc->noise_lsb * sqrt(2.0)) : 1.0;

  for (size_t i = 0; i < ref_len; i++) ref[i] = rf__sim_waveform(sc, (double)i / sc->fs_hz);
  if (sc->waveform_type == RF_WAVEFORM_CUSTOM) /* exact chips, free of rounding in i / fs */
    for (size_t i = 0; i < ref_len; i++) {
      double ph = sc->chip_phase_rad[i / sc->chip_samples];
      ref[i] = (float complex)(cos(ph) + I * sin(ph));
    }
  for (size_t k = 0; k < sc->dwells; k++) {
    first[k] = (int64_t)sc->first_pulse[k];
    num[k] = (int32_t)sc->num_pulses[k];
  }
  for (size_t p = 0; p < sc->pulses; p++) ptime[p] = sc->start_time_s + sc->t_rel_s[p];
  /* A spoiled transmit beam is declared per dwell (/dwell/tx_beamwidth_*). */
  const double txw[2] = {sc->tx_bw_az_deg, sc->tx_bw_el_deg};
  for (int a = 0; a < 2; a++) {
    if (!(txw[a] > 0)) continue;
    if (!(txbw[a] = rf__malloc(sc->dwells * sizeof *txbw[a]))) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", out_path);
      goto cleanup;
    }
    for (size_t k = 0; k < sc->dwells; k++) txbw[a][k] = txw[a];
  }

  memset(&meta, 0, sizeof meta);
  snprintf(meta.radar_name, sizeof meta.radar_name, "%s", sc->name);
  meta.site_latitude_deg = sc->site_lat_deg;
  meta.site_longitude_deg = sc->site_lon_deg;
  meta.site_altitude_m = sc->site_alt_m;
  meta.waveform_type = sc->waveform_type;
  meta.center_frequency_hz = sc->fc_hz;
  meta.sample_rate_hz = sc->fs_hz;
  meta.bandwidth_hz = sc->bandwidth_hz;
  meta.pulse_width_s = sc->pulse_width_s;
  meta.pri_s = sc->pri_s;
  meta.range_gate_delay_s = sc->rgd_s;
  meta.reference_len = ref_len;
  meta.reference = ref;
  meta.channels = sc->channels;
  meta.element_position_m = sc->pos;
  meta.has_calibration = has_cal;
  meta.calibration = has_cal ? cal : NULL;
  meta.pulses = sc->pulses;
  meta.samples = sc->samples;
  meta.sample_type = sc->sample_type;
  meta.scale = c.scale;
  meta.dwells = sc->dwells;
  meta.first_pulse = first;
  meta.num_pulses = num;
  meta.azimuth_deg = sc->dwell_az_deg;
  meta.elevation_deg = sc->dwell_el_deg;
  meta.tx_beamwidth_az_deg = txbw[0];
  meta.tx_beamwidth_el_deg = txbw[1];
  meta.pulse_time_s = ptime;
  meta.has_truth = sc->targets > 0;

  if ((st = rf_capture_writer_create(&w, out_path, &meta)) != 0) goto cleanup;

  double t0 = rf_now_s();
  for (size_t k = 0; k < sc->dwells; k++) {
    double db[3];
    rf_direction(sc->dwell_az_deg[k], sc->dwell_el_deg[k], db);
    rf__make_clutter(sc, seed, k, db, cl, wave + (size_t)nthr * wave_len);
    for (size_t b = 0; b < sc->num_pulses[k]; b += block_pulses) {
      size_t nb = sc->num_pulses[k] - b < block_pulses ? sc->num_pulses[k] - b : block_pulses;
      size_t p0 = sc->first_pulse[k] + b, clip = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : clip)
      for (size_t q = 0; q < nb; q++) {
        int th = omp_get_thread_num();
        float complex *wv = wave + (size_t)th * wave_len;
        if (int16) {
          float complex *x = work + (size_t)th * ns;
          rf__make_pulse(&c, p0 + q, k, db, cl, x, wv);
          clip += rf__quantise(x, ns, c.scale, (int16_t *)block + q * ns * 2);
        } else {
          /* float32 pairs have the layout of float complex */
          rf__make_pulse(&c, p0 + q, k, db, cl, (float complex *)block + q * ns, wv);
        }
      }
      clipped += clip;
      if ((st = rf_capture_writer_write_pulses(w, p0, nb, block)) != 0) goto cleanup;
    }
    rf_log(2, "simulate: dwell %zu/%zu done (%.1f s)", k + 1, sc->dwells, rf_now_s() - t0);
  }
  if (clipped)
    rf_warn("simulate: %zu int16 values clipped (raise the dynamic range: lower "
            "noise_lsb or the target/clutter power)", clipped);

  if (sc->targets) {
    rf__fill_truth(sc, truth);
    if ((st = rf_capture_writer_write_truth(w, truth)) != 0) goto cleanup;
  }
  st = rf_capture_writer_close(w);
  w = NULL;
cleanup:
  rf_capture_writer_abort(w);
  rf_truth_free(truth);
  rf__free_aligned(block);
  rf__free_aligned(work);
  rf__free_aligned(cl);
  rf__free(wave);
  rf__free(ptime);
  rf__free(txbw[0]);
  rf__free(txbw[1]);
  rf__free(num);
  rf__free(first);
  rf__free(ref);
  rf__free(cal);
  rf__free(c.cal_err);
  rf__free(c.tgt_phase);
  return st;
}
