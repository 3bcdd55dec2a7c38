/* radarflow: the echo simulator behind `radarflow simulate` (model in
 * docs/scenarios.md). Pulses are made dwell by dwell in blocks of at most
 * RF__BLOCK_BYTES and handed to the capture writer, so memory does not grow
 * with the capture. Every random stream is derived from (seed, purpose,
 * index), so the output does not depend on the number of threads. */
#include "sim_internal.h"

#include "../host/rf_geodesy.h"
#include "../host/rf_rng.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#define RF__BLOCK_BYTES ((size_t)32 << 20) /* raw bytes handed to the writer at once */

/* Stream purposes, mixed into the seed. */
enum { RF__RNG_NOISE = 1, RF__RNG_TARGET = 2, RF__RNG_CLUTTER = 3, RF__RNG_CAL = 4, RF__RNG_FLUCT = 5 };

/* ---- PRNG (host/rf_rng.h): one stream per purpose and index ------------------ */
static void rf__rng_init(rf_rng *r, uint64_t seed, uint64_t purpose, uint64_t index) {
  uint64_t x = seed;
  x = rf_splitmix64(&x) ^ (purpose * 0xD1B54A32D192ED03ull);
  x = rf_splitmix64(&x) ^ index;
  rf_rng_seed(r, x);
}

/* ---- physics ------------------------------------------------------------------- */
/* ---- Keplerian motion ------------------------------------------------------------- */
/* Stumpff functions c2(z) = C(z), c3(z) = S(z) of the universal-variable
 * Kepler problem; series near z = 0, where the closed forms cancel. */
static void rf__stumpff(double z, double *c, double *s) {
  if (fabs(z) < 0.1) {
    /* C = sum (-z)^k / (2k+2)!, S = sum (-z)^k / (2k+3)!: 9 terms leave
     * |z|^9 / 20! < 1e-27. */
    double tc = 0.5, ts = 1.0 / 6.0, sc = 0, ss = 0;
    for (int k = 0; k < 9; k++) {
      sc += tc;
      ss += ts;
      tc *= -z / ((2.0 * k + 3) * (2.0 * k + 4));
      ts *= -z / ((2.0 * k + 4) * (2.0 * k + 5));
    }
    *c = sc, *s = ss;
  } else if (z > 0) {
    double q = sqrt(z);
    *c = (1.0 - cos(q)) / z;
    *s = (q - sin(q)) / (z * q);
  } else {
    double q = sqrt(-z);
    *c = (cosh(q) - 1.0) / -z;
    *s = (sinh(q) - q) / (-z * q);
  }
}

/* Two-body motion about a point mass of parameter RF_SIM_GM: (r0, v0)
 * geocentric and inertial at time 0 to (r, v) at time t, exactly (Lagrange
 * f and g with the universal variable solved by Newton; Curtis, "Orbital
 * Mechanics for Engineering Students", algorithms 3.3 and 3.4). */
static void rf__kepler(const double r0[3], const double v0[3], double t, double r[3], double v[3]) {
  const double mu = RF_SIM_GM, smu = sqrt(mu);
  double r0n = sqrt(r0[0] * r0[0] + r0[1] * r0[1] + r0[2] * r0[2]);
  double v02 = v0[0] * v0[0] + v0[1] * v0[1] + v0[2] * v0[2];
  double vr0 = (r0[0] * v0[0] + r0[1] * v0[1] + r0[2] * v0[2]) / r0n;
  double alpha = 2.0 / r0n - v02 / mu; /* 1 / semi-major axis */
  double chi = smu * fabs(alpha) * t, c = 0.5, s = 1.0 / 6.0, z = 0;
  if (!(chi != 0)) chi = smu * t / r0n;
  for (int it = 0; it < 50; it++) {
    z = alpha * chi * chi;
    rf__stumpff(z, &c, &s);
    double f = r0n * vr0 / smu * chi * chi * c + (1.0 - alpha * r0n) * chi * chi * chi * s + r0n * chi -
               smu * t;
    double df = r0n * vr0 / smu * chi * (1.0 - z * s) + (1.0 - alpha * r0n) * chi * chi * c + r0n;
    double step = f / df;
    chi -= step;
    if (fabs(step) <= 1e-15 * (fabs(chi) + 1e-300)) break;
  }
  z = alpha * chi * chi;
  rf__stumpff(z, &c, &s);
  double f = 1.0 - chi * chi / r0n * c, g = t - chi * chi * chi / smu * s;
  for (int k = 0; k < 3; k++) r[k] = f * r0[k] + g * v0[k];
  double rn = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  double fd = smu / (rn * r0n) * (z * chi * s - chi), gd = 1.0 - chi * chi / rn * c;
  for (int k = 0; k < 3; k++) v[k] = fd * r0[k] + gd * v0[k];
}

/* v rotated by angle a about the unit axis k (Rodrigues). */
static void rf__rotate(const double k[3], double a, const double v[3], double out[3]) {
  double c = cos(a), s = sin(a), kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  double kx[3] = {k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]};
  for (int i = 0; i < 3; i++) out[i] = v[i] * c + kx[i] * s + k[i] * kv * (1.0 - c);
}

static void rf__cross(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

int rf__sim_above_ground(const rf_scenario *sc, const rf_sim_target *t, const double pos[3]) {
  if (t->motion != RF_SIM_BALLISTIC) return 1;
  double lat, lon, h;
  rf_geo_enu_to_geodetic(&sc->site, pos, &lat, &lon, &h);
  return h >= 0;
}

void rf__sim_target_state(const rf_scenario *sc, const rf_sim_target *t, double t_rel, double pos[3],
                          double vel[3]) {
  if (t->motion != RF_SIM_BALLISTIC) {
    for (int k = 0; k < 3; k++) {
      pos[k] = t->p0[k] + t->v0[k] * t_rel;
      vel[k] = t->v0[k];
    }
    return;
  }
  /* Inertial Kepler orbit in the start instant's ENU axes, then into the
   * Earth-fixed ENU frame, which has turned by omega t about the Earth's
   * axis: p = R(-omega t) r + centre, v = R(-omega t) u - Omega x (p - centre). */
  const double *W = sc->earth_rate_enu_rps;
  double w = sqrt(W[0] * W[0] + W[1] * W[1] + W[2] * W[2]), axis[3] = {0, 0, 1};
  if (w > 0)
    for (int k = 0; k < 3; k++) axis[k] = W[k] / w;
  double r[3], u[3], rr[3], ur[3], wr[3];
  rf__kepler(t->r0_inertial, t->u0_inertial, t_rel, r, u);
  rf__rotate(axis, -w * t_rel, r, rr);
  rf__rotate(axis, -w * t_rel, u, ur);
  rf__cross(W, rr, wr);
  for (int k = 0; k < 3; k++) {
    pos[k] = rr[k] + sc->earth_centre_enu_m[k];
    vel[k] = ur[k] - wr[k];
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
  rf_rng r;
  rf__rng_init(&r, seed, RF__RNG_CLUTTER, k);
  double rmin = sc->clutter_rmin_m, rmax = sc->clutter_rmax_m;
  /* Mean scatterers within one pulse length of range: their summed power is
   * the clutter power of one fast-time sample. */
  double cell = RF_C_MPS * sc->pulse_width_s / 2.0;
  double n_cell = (double)sc->clutter_scatterers * fmin(1.0, cell / (rmax - rmin));
  if (n_cell < 1) n_cell = 1;
  double p0 = pow(10.0, sc->cnr_db / 10.0) / n_cell;
  for (size_t s = 0; s < sc->clutter_scatterers; s++) {
    double rng_m = rmin + (rmax - rmin) * rf_rng_uniform(&r);
    double az = sc->dwell_az_deg[k] + sc->clutter_az_spread_deg * (rf_rng_uniform(&r) - 0.5);
    double d[3];
    rf_direction(az, 0.0, d);
    double pw = p0 * pow(rng_m / rmin, -sc->clutter_range_exponent) * rf__sim_tx_pattern(sc, d, d_beam);
    double complex a = rf_rng_cgauss(&r, pw);
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
  rf_rng r;
  rf__rng_init(&r, c->seed, RF__RNG_FLUCT, (uint64_t)k * c->sc->targets + j);
  return rf_rng_cgauss(&r, 1.0);
}

/* Pulse p of dwell k into x [channels][samples] (unit-power noise domain). */
static void rf__make_pulse(const rf__sim_ctx *c, size_t p, size_t k, const double d_beam[3],
                           const float complex *cl, float complex *x, float complex *wave) {
  const rf_scenario *sc = c->sc;
  size_t ns = sc->channels * sc->samples;
  if (sc->noise_enabled) {
    rf_rng r;
    rf__rng_init(&r, c->seed, RF__RNG_NOISE, p);
    for (size_t i = 0; i < ns; i++) x[i] = (float complex)rf_rng_cgauss(&r, 1.0) + cl[i];
  } else {
    memcpy(x, cl, ns * sizeof *x);
  }
  double t = sc->t_rel_s[p];
  for (size_t j = 0; j < sc->targets; j++) {
    double pos[3], vel[3];
    rf__sim_target_state(sc, &sc->target[j], t, pos, vel);
    double rg = sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2]);
    if (rg < 1.0) continue; /* no line of sight at the phase centre */
    if (!rf__sim_above_ground(sc, &sc->target[j], pos)) continue; /* impact: no echo after it */
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
      rf__sim_target_state(sc, &sc->target[j], tm, pos, vel);
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
      if (rg > 0 && rf__sim_above_ground(sc, &sc->target[j], pos)) {
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
/* Everything rf_simulate needs, allocated before the first pulse. */
typedef struct rf__sim_run {
  rf__sim_ctx c;
  int nthr, int16;
  size_t ns, pulse_bytes, block_pulses, ref_len, wave_len;
  float complex *cal, *ref, *cl, *work, *wave;
  int64_t *first;
  int32_t *num;
  double *ptime;
  double *txbw[2]; /* [dwells] declared transmit beamwidths az, el, or NULL */
  void *block;
  rf_truth *truth;
  size_t clipped;
} rf__sim_run;

static void rf__sim_run_free(rf__sim_run *r) {
  rf_truth_free(r->truth);
  rf__free_aligned(r->block);
  rf__free_aligned(r->work);
  rf__free_aligned(r->cl);
  rf__free(r->wave);
  rf__free(r->ptime);
  rf__free(r->txbw[0]);
  rf__free(r->txbw[1]);
  rf__free(r->num);
  rf__free(r->first);
  rf__free(r->ref);
  rf__free(r->cal);
  rf__free(r->c.cal_err);
  rf__free(r->c.tgt_phase);
}

/* Sizes (pulses per write block, waveform length) and every buffer. */
static int rf__sim_alloc(rf__sim_run *r, const rf_scenario *sc, const char *out_path) {
  r->nthr = omp_get_max_threads();
  if (r->nthr < 1) r->nthr = 1;
  r->int16 = sc->sample_type == RF_SAMPLE_INT16;
  r->ns = sc->channels * sc->samples;
  r->pulse_bytes = r->ns * (r->int16 ? 2 * sizeof(int16_t) : 2 * sizeof(float));
  size_t max_ppd = 1;
  for (size_t k = 0; k < sc->dwells; k++)
    if (sc->num_pulses[k] > max_ppd) max_ppd = sc->num_pulses[k];
  r->block_pulses = RF__BLOCK_BYTES / r->pulse_bytes;
  if (r->block_pulses < 1) r->block_pulses = 1;
  if (r->block_pulses > max_ppd) r->block_pulses = max_ppd;
  r->ref_len = (size_t)llround(sc->pulse_width_s * sc->fs_hz);
  r->wave_len = r->ref_len + 2;
  int has_cal = sc->cal_amp_std_db > 0 || sc->cal_phase_std_deg > 0;
  r->c.tgt_phase = rf__calloc(sc->targets ? sc->targets : 1, sizeof *r->c.tgt_phase);
  r->cal = rf__calloc(sc->channels, sizeof *r->cal);
  r->ref = rf__calloc(r->ref_len, sizeof *r->ref);
  r->cl = rf__malloc_aligned(r->ns * sizeof *r->cl);
  r->wave = rf__malloc((size_t)(r->nthr + 1) * r->wave_len * sizeof *r->wave);
  r->first = rf__calloc(sc->dwells, sizeof *r->first);
  r->num = rf__calloc(sc->dwells, sizeof *r->num);
  r->ptime = rf__calloc(sc->pulses, sizeof *r->ptime);
  r->block = rf__malloc_aligned(r->block_pulses * r->pulse_bytes);
  if (r->int16) r->work = rf__malloc_aligned((size_t)r->nthr * r->ns * sizeof *r->work);
  if (has_cal) r->c.cal_err = rf__calloc(sc->channels, sizeof *r->c.cal_err);
  const int txa = sc->tx_bw_az_deg > 0, txe = sc->tx_bw_el_deg > 0;
  if (txa) r->txbw[0] = rf__malloc(sc->dwells * sizeof *r->txbw[0]);
  if (txe) r->txbw[1] = rf__malloc(sc->dwells * sizeof *r->txbw[1]);
  if (!r->c.tgt_phase || !r->cal || !r->ref || !r->cl || !r->wave || !r->first || !r->num || !r->ptime ||
      !r->block || (r->int16 && !r->work) || (has_cal && !r->c.cal_err) || (txa && !r->txbw[0]) ||
      (txe && !r->txbw[1]))
    return rf__err(RF_ENOMEM, "%s: out of memory for the simulation buffers", out_path);
  int st;
  if (sc->targets && (st = rf_truth_alloc(&r->truth, sc->dwells * sc->targets)) != 0)
    return rf__err(st, "%s: out of memory for /truth", out_path);
  return 0;
}

/* Seeded constants (target phases, channel errors), the replica, the
 * dwell and pulse tables. */
static void rf__sim_constants(rf__sim_run *r, const rf_scenario *sc, uint64_t seed) {
  rf_rng g;
  rf__rng_init(&g, seed, RF__RNG_TARGET, 0);
  for (size_t j = 0; j < sc->targets; j++) {
    double ph = 2.0 * RF_PI * rf_rng_uniform(&g);
    r->c.tgt_phase[j] = cos(ph) + I * sin(ph);
  }
  if (r->c.cal_err) {
    rf__rng_init(&g, seed, RF__RNG_CAL, 0);
    for (size_t n = 0; n < sc->channels; n++) {
      double g1 = creal(rf_rng_cgauss(&g, 2.0)), g2 = creal(rf_rng_cgauss(&g, 2.0)); /* N(0,1) */
      double amp = pow(10.0, sc->cal_amp_std_db * g1 / 20.0);
      double ph = sc->cal_phase_std_deg * g2 * RF_PI / 180.0;
      r->c.cal_err[n] = (float complex)(amp * (cos(ph) + I * sin(ph)));
      r->cal[n] = 1.0f / r->c.cal_err[n];
    }
  }
  /* int16: noise std per I and Q is noise_lsb LSB, and scale brings the
   * complex noise power back to 1. */
  r->c.scale = r->int16 ? 1.0 / (sc->noise_lsb * sqrt(2.0)) : 1.0;
  for (size_t i = 0; i < r->ref_len; i++) r->ref[i] = rf__sim_waveform(sc, (double)i / sc->fs_hz);
  if (sc->waveform_type == RF_WAVEFORM_CUSTOM) /* exact chips, free of rounding in i / fs */
    for (size_t i = 0; i < r->ref_len; i++) {
      double ph = sc->chip_phase_rad[i / sc->chip_samples];
      r->ref[i] = (float complex)(cos(ph) + I * sin(ph));
    }
  for (size_t k = 0; k < sc->dwells; k++) {
    r->first[k] = (int64_t)sc->first_pulse[k];
    r->num[k] = (int32_t)sc->num_pulses[k];
  }
  for (size_t p = 0; p < sc->pulses; p++) r->ptime[p] = sc->start_time_s + sc->t_rel_s[p];
  /* A spoiled transmit beam is declared per dwell (/dwell/tx_beamwidth_*). */
  const double txw[2] = {sc->tx_bw_az_deg, sc->tx_bw_el_deg};
  for (int a = 0; a < 2; a++)
    if (r->txbw[a])
      for (size_t k = 0; k < sc->dwells; k++) r->txbw[a][k] = txw[a];
}

/* The capture's metadata (arrays borrowed from sc and r). */
static void rf__sim_meta(const rf__sim_run *r, const rf_scenario *sc, rf_capture_meta *meta) {
  memset(meta, 0, sizeof *meta);
  snprintf(meta->radar_name, sizeof meta->radar_name, "%s", sc->name);
  meta->site_latitude_deg = sc->site_lat_deg;
  meta->site_longitude_deg = sc->site_lon_deg;
  meta->site_altitude_m = sc->site_alt_m;
  meta->waveform_type = sc->waveform_type;
  meta->center_frequency_hz = sc->fc_hz;
  meta->sample_rate_hz = sc->fs_hz;
  meta->bandwidth_hz = sc->bandwidth_hz;
  meta->pulse_width_s = sc->pulse_width_s;
  meta->pri_s = sc->pri_s;
  meta->range_gate_delay_s = sc->rgd_s;
  meta->reference_len = r->ref_len;
  meta->reference = r->ref;
  meta->channels = sc->channels;
  meta->element_position_m = sc->pos;
  meta->has_calibration = r->c.cal_err != NULL;
  meta->calibration = r->c.cal_err ? r->cal : NULL;
  meta->pulses = sc->pulses;
  meta->samples = sc->samples;
  meta->sample_type = sc->sample_type;
  meta->scale = r->c.scale;
  meta->dwells = sc->dwells;
  meta->first_pulse = r->first;
  meta->num_pulses = r->num;
  meta->azimuth_deg = sc->dwell_az_deg;
  meta->elevation_deg = sc->dwell_el_deg;
  meta->tx_beamwidth_az_deg = r->txbw[0];
  meta->tx_beamwidth_el_deg = r->txbw[1];
  meta->pulse_time_s = r->ptime;
  meta->has_truth = sc->targets > 0;
}

/* Every dwell's pulses, made in blocks (OpenMP over a block's pulses) and
 * handed to the writer. */
static int rf__sim_dwells(rf__sim_run *r, const rf_scenario *sc, uint64_t seed, rf_capture_writer *w) {
  const size_t ns = r->ns, wl = r->wave_len;
  double t0 = rf_now_s();
  for (size_t k = 0; k < sc->dwells; k++) {
    double db[3];
    rf_direction(sc->dwell_az_deg[k], sc->dwell_el_deg[k], db);
    rf__make_clutter(sc, seed, k, db, r->cl, r->wave + (size_t)r->nthr * wl);
    for (size_t b = 0; b < sc->num_pulses[k]; b += r->block_pulses) {
      size_t nb = sc->num_pulses[k] - b < r->block_pulses ? sc->num_pulses[k] - b : r->block_pulses;
      size_t p0 = sc->first_pulse[k] + b, clip = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : clip)
      for (size_t q = 0; q < nb; q++) {
        int th = omp_get_thread_num();
        float complex *wv = r->wave + (size_t)th * wl;
        if (r->int16) {
          float complex *x = r->work + (size_t)th * ns;
          rf__make_pulse(&r->c, p0 + q, k, db, r->cl, x, wv);
          clip += rf__quantise(x, ns, r->c.scale, (int16_t *)r->block + q * ns * 2);
        } else {
          /* float32 pairs have the layout of float complex */
          rf__make_pulse(&r->c, p0 + q, k, db, r->cl, (float complex *)r->block + q * ns, wv);
        }
      }
      r->clipped += clip;
      int st = rf_capture_writer_write_pulses(w, p0, nb, r->block);
      if (st) return st;
    }
    rf_log(2, "simulate: dwell %zu/%zu done (%.1f s)", k + 1, sc->dwells, rf_now_s() - t0);
  }
  if (r->clipped)
    rf_warn("simulate: %zu int16 values clipped (raise the dynamic range: lower "
            "noise_lsb or the target/clutter power)", r->clipped);
  return 0;
}

int rf_simulate(const rf_scenario *sc, const char *out_path, uint64_t seed) {
  rf__sim_run r;
  rf_capture_meta meta;
  rf_capture_writer *w = NULL;
  if (!sc || !out_path) return rf__err(RF_EINVAL, "rf_simulate: NULL argument");
  memset(&r, 0, sizeof r);
  r.c.sc = sc;
  r.c.seed = seed;
  int st = rf__sim_alloc(&r, sc, out_path);
  if (st) goto cleanup;
  rf__sim_constants(&r, sc, seed);
  rf__sim_meta(&r, sc, &meta);
  if ((st = rf_capture_writer_create(&w, out_path, &meta)) != 0) goto cleanup;
  if ((st = rf__sim_dwells(&r, sc, seed, w)) != 0) goto cleanup;
  if (sc->targets) {
    rf__fill_truth(sc, r.truth);
    if ((st = rf_capture_writer_write_truth(w, r.truth)) != 0) goto cleanup;
  }
  st = rf_capture_writer_close(w);
  w = NULL;
cleanup:
  rf_capture_writer_abort(w);
  rf__sim_run_free(&r);
  return st;
}
