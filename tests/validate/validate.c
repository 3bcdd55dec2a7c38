/* radarflow validate: a Monte Carlo characterisation of detection and
 * estimation, from the project's simulator and the real processing chain
 * (the dwell engine), against theory computed here (theory.c) - what each
 * curve means and its sources: docs/detection.md.
 *
 *   validate [--quick] [--no-opencl] [--out DIR]
 *
 * Sections: false-alarm rate against design (every detector, 1D and 2D
 * windows, notch on and off, LFM and NLFM); Pd against post-processing SNR
 * per detector beside theory (Swerling 0 and 1), and the default
 * detector's loss against the ideal detector; RMS range, velocity and
 * azimuth errors against the Cramer-Rao bound of the tapered processing;
 * coverage of a declared transmit beam; resolution of two targets; and
 * the OpenCL engine against the CPU engine on the same captures. Writes
 * DIR/report.json and PNG plots in DIR, prints a table, and exits 1 when a value
 * leaves its tolerance (2 on bad usage, 3 when it could not run). */
#include "validate.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../host/rf_cl.h"
#include "../../host/rf_files.h"
#include "../../io/rf_plotdraw.h"
#include "theory.h"

/* ---- checks and table ------------------------------------------------------------------ */

void vr_check_add(vr_ctx *v, const char *section, const char *name, double measured, double expected,
                  double tolerance, int mode, const char *rule) {
  if (v->nchecks == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 64;
    v->checks = realloc(v->checks, v->cap * sizeof *v->checks);
  }
  vr_check *c = &v->checks[v->nchecks++];
  memset(c, 0, sizeof *c);
  snprintf(c->section, sizeof c->section, "%s", section);
  snprintf(c->name, sizeof c->name, "%s", name);
  snprintf(c->rule, sizeof c->rule, "%s", rule);
  c->measured = measured;
  c->expected = expected;
  c->tolerance = tolerance;
  c->pass = mode == 0 ? fabs(measured - expected) <= tolerance : mode == 1 ? measured <= expected : measured >= expected;
  if (!isfinite(measured)) c->pass = 0;
}

static void vr_table(const vr_ctx *v) {
  printf("\n%-11s %-58s %12s %12s  %-26s %s\n", "section", "check", "measured", "expected", "rule", "");
  for (size_t i = 0; i < v->nchecks; i++) {
    const vr_check *c = &v->checks[i];
    printf("%-11s %-58s %12.5g %12.5g  %-26s %s\n", c->section, c->name, c->measured, c->expected, c->rule,
           c->pass ? "ok" : "FAIL");
  }
}

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *const vr_kinds[4] = {"CA", "GO", "SO", "OS"};

/* Coherent gain of n taper samples, (sum t)^2 / sum t^2. */
static double vr_gain(int kind, size_t n, const rf_config *cfg) {
  double *w = malloc(n * sizeof *w), s = 0, s2 = 0;
  rf_taper_fill(kind, cfg->taylor_sll_db, cfg->taylor_nbar, n, w);
  for (size_t i = 0; i < n; i++) s += w[i], s2 += w[i] * w[i];
  free(w);
  return s * s / s2;
}

/* The compressed noise's amplitude correlation, computed here from the
 * replica and its taper by direct sums: rho(k) = sum_m h(m + k) conj h(m)
 * / sum |h|^2. Returns the independent cells n^2 / sum |rho_ij|^2 of a
 * window of tr cells a side beyond gr guard cells. */
static double vr_neff(int custom, int taper, const rf_config *cfg, int tr, int gr) {
  double complex h[VR_M];
  double *t = malloc(VR_M * sizeof *t);
  rf_taper_fill(taper, cfg->taylor_sll_db, cfg->taylor_nbar, VR_M, t);
  for (int m = 0; m < VR_M; m++) {
    double ph = custom ? vr_nlfm_phase_deg(m) * RF_PI / 180.0
                       : RF_PI * (VR_B_HZ / VR_T_S) * (m / VR_FS_HZ) * (m / VR_FS_HZ) - RF_PI * VR_B_HZ * m / VR_FS_HZ;
    h[m] = t[m] * cexp(I * ph);
  }
  free(t);
  double r2[VR_M], r0 = 0;
  for (int m = 0; m < VR_M; m++) r0 += creal(h[m] * conj(h[m]));
  for (int k = 0; k < VR_M; k++) {
    double complex r = 0;
    for (int m = 0; m + k < VR_M; m++) r += h[m + k] * conj(h[m]);
    r2[k] = creal(r * conj(r)) / (r0 * r0);
  }
  double num = 4.0 * tr * tr, den = 0;
  for (int i = -tr - gr; i <= tr + gr; i++)
    for (int j = -tr - gr; j <= tr + gr; j++) {
      if (abs(i) <= gr || abs(j) <= gr) continue;
      int d = abs(i - j);
      den += d < VR_M ? r2[d] : 0;
    }
  return num / den;
}

/* The CFAR window the engine resolves for a capture (engine's log at -v
 * prints the same): read back through rf_cfar_resolve with the same inputs
 * is not independent; the settings are instead taken from the engine's
 * rule documented in docs/cfar.md and recomputed here. */
typedef struct vr_window {
  int tr, gr;
  double neff;
} vr_window;
static vr_window vr_resolve_1d(int custom, int taper, const rf_config *cfg) {
  /* guard: the larger of the noise correlation's extent (|rho|^2 >= 1e-3)
   * and the main lobe; training: the fewest cells a side reaching
   * RF_CFAR_INDEPENDENT independent cells */
  vr_window w = {0, 0, 0};
  double complex h[VR_M], y[2 * VR_M];
  double *t = malloc(VR_M * sizeof *t);
  rf_taper_fill(taper, cfg->taylor_sll_db, cfg->taylor_nbar, VR_M, t);
  double complex s[VR_M];
  for (int m = 0; m < VR_M; m++) {
    double ph = custom ? vr_nlfm_phase_deg(m) * RF_PI / 180.0
                       : RF_PI * (VR_B_HZ / VR_T_S) * (m / VR_FS_HZ) * (m / VR_FS_HZ) - RF_PI * VR_B_HZ * m / VR_FS_HZ;
    s[m] = cexp(I * ph);
    h[m] = t[m] * s[m];
  }
  free(t);
  double r0 = 0;
  for (int m = 0; m < VR_M; m++) r0 += creal(h[m] * conj(h[m]));
  int ge = 0, ml = 0;
  for (int k = 1; k < VR_M; k++) {
    double complex r = 0;
    for (int m = 0; m + k < VR_M; m++) r += h[m + k] * conj(h[m]);
    if (creal(r * conj(r)) / (r0 * r0) >= 1e-3) ge = k;
  }
  for (int k = -VR_M + 1; k < VR_M; k++) { /* signal response: replica through the filter */
    double complex r = 0;
    for (int m = 0; m < VR_M; m++)
      if (m + k >= 0 && m + k < VR_M) r += s[m + k] * conj(h[m]);
    y[k + VR_M - 1] = r;
  }
  double y0 = creal(y[VR_M - 1] * conj(y[VR_M - 1]));
  for (int side = -1; side <= 1; side += 2) {
    int k = 1;
    while (k < VR_M - 1) {
      double a = creal(y[side * k + VR_M - 1] * conj(y[side * k + VR_M - 1])) / y0;
      double b = creal(y[side * (k + 1) + VR_M - 1] * conj(y[side * (k + 1) + VR_M - 1])) / y0;
      if (a < 1e-3 || b >= a) break;
      k++;
    }
    if (k - 1 > ml) ml = k - 1;
  }
  w.gr = ge > ml ? ge : ml;
  for (w.tr = 1; w.tr < 2000; w.tr++)
    if ((w.neff = vr_neff(custom, taper, cfg, w.tr, w.gr)) >= RF_CFAR_INDEPENDENT) break;
  return w;
}

/* Uniform in (0, 1) (splitmix64): the scenes' random positions. */
static double vr_uniform(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

static int vr_mkdir(const char *p) {
  if (mkdir(p, 0777) && errno != EEXIST) return rf__err(RF_EIO, "%s: cannot create folder", p);
  return 0;
}

/* ---- false-alarm rate ------------------------------------------------------------------- */

/* Every detector on the maps of one engine run: the engine makes the maps
 * (pulse compression, Doppler, its CA) and gives its resolved CFAR
 * settings and noise model; each configuration's CFAR object is made from
 * them as the engine makes its own (rf_cfar_resolve, rf_cfar_create) and
 * run on every dwell's maps. The engine's own CA count must equal the
 * same configuration's here. The 1e-4 objects share their window and
 * noise statistic with the 1e-3 ones (only the factors differ), so their
 * crossings are the 1e-3 crossings above alpha_1e-4 / alpha_1e-3 times the
 * 1e-3 threshold (shape by shape): one pass over the maps for both. */
#define VR_MAXH 65536
int vr_pfa(vr_ctx *v) {
  const int nwave = v->o.quick ? 1 : 2, dwells = v->o.quick ? 6 : 48, npfa = v->o.quick ? 1 : 2;
  cJSON *arr = cJSON_AddArrayToObject(v->report, "pfa");
  double xs[64], ys[64], xd[64], yd[64];
  size_t np = 0, nd = 0;
  const double pfas[2] = {1e-3, 1e-4};
  int st = 0;
  for (int wv = 0; wv < nwave && !st; wv++) {
    vr_scene s = {.name = wv ? "pfa_nlfm" : "pfa_lfm", .custom = wv, .elements = 1, .dwells = dwells, .pulses = 32,
                  .samples = 8192, .pri_s = 2e-3, .rgd_s = 1e-4, .noise = 1, .int16 = 1};
    char cap[1200];
    vr_note("false alarms: simulating %s (%d dwells of noise)", s.name, dwells);
    if ((st = vr_simulate(v, &s, 11 + (unsigned)wv, cap, sizeof cap))) return st;
    for (int notch = 1; notch >= (v->o.quick ? 1 : 0) && !st; notch--) {
      rf_config cfg;
      rf_config_defaults(&cfg);
      cfg.pfa = pfas[0];
      cfg.clutter_filter = notch ? RF_CLUTTER_NOTCH : RF_CLUTTER_NONE;
      rf_capture *cp = NULL;
      rf_engine *e = NULL;
      enum { NC = 16 };
      rf_cfar *cf[NC] = {0};
      double hits[NC] = {0}, cells[NC] = {0};
      int ncf = 0, cfg_kind[NC], cfg_dim[NC], cfg_p[NC];
      rf_cfar_hit *hbuf = malloc(VR_MAXH * sizeof *hbuf);
      if ((st = rf_capture_open(&cp, cap)) || (st = rf_engine_create_cpu(&e, &cfg, cp))) goto next;
      rf_cfar_config base;
      double tc0 = rf_now_s();
      if ((st = rf_engine_cfar_config(e, 0, &base))) goto next;
      for (int ip = 0; ip < npfa; ip++)
        for (int dim = 0; dim < 2; dim++)
          for (int kind = 0; kind < 4; kind++) {
            rf_cfar_config cc = base;
            cc.kind = kind;
            cc.pfa = pfas[ip];
            cc.train_range = 0;
            cc.guard_range = -1;
            cc.train_doppler = dim ? 2 : 0;
            cc.guard_doppler = -1;
            rf_cfar_resolved rs;
            if ((st = rf_cfar_resolve(&cc, 32, 8192, &rs)) || (st = rf_cfar_create(&cf[ncf], &cc, 32, 8192))) goto next;
            cfg_kind[ncf] = kind, cfg_dim[ncf] = dim, cfg_p[ncf] = ip;
            ncf++;
          }
      double tc1 = rf_now_s(), tex = 0;
      for (int d = 0; d < dwells && !st; d++) {
        rf_plot_list pl = {0};
        if ((st = rf_engine_dwell(e, (size_t)d, &pl))) break;
        double td = rf_now_s();
        rf_plot_list_free(&pl);
        rf_dwell_view dv;
        if ((st = rf_engine_last_dwell(e, &dv))) break;
        for (int i = 0; i < ncf; i++) {
          if (cfg_p[i] != 0) continue; /* counted from the 1e-3 object's hits */
          int i4 = i + 8;              /* the same kind and window at 1e-4 */
          rf_cfar_tables t3, t4;
          rf_cfar_get_tables(cf[i], &t3);
          if (npfa > 1) rf_cfar_get_tables(cf[i4], &t4);
          for (size_t b = 0; b < dv.beams; b++) {
            size_t nh = 0;
            rf_cfar_execute(cf[i], dv.power + b * dv.bins * dv.cells, hbuf, VR_MAXH, &nh);
            if (nh > VR_MAXH) {
              st = rf__err(RF_EINVAL, "validate: more than %d crossings in a map", VR_MAXH);
              break;
            }
            hits[i] += (double)nh;
            cells[i] += (double)rf_cfar_cells_tested(cf[i]);
            if (npfa < 2) continue;
            for (size_t h = 0; h < nh; h++) {
              int cls = rf_cfar_class(cf[i], hbuf[h].cell);
              rf_cfar_shape_info s3, s4;
              rf_cfar_get_shape(cf[i], (size_t)t3.shape_of[hbuf[h].bin * 3 + (size_t)cls], &s3);
              rf_cfar_get_shape(cf[i4], (size_t)t4.shape_of[hbuf[h].bin * 3 + (size_t)cls], &s4);
              hits[i4] += (double)hbuf[h].power > s4.alpha / s3.alpha * (double)hbuf[h].threshold;
            }
            cells[i4] += (double)rf_cfar_cells_tested(cf[i4]);
          }
        }
        tex += rf_now_s() - td;
      }
      if (st) goto next;
      vr_note("false alarms: %s notch %s: detectors made in %.1f s, %d dwells in %.1f s (their CFAR %.1f s)",
              wv ? "NLFM" : "LFM", notch ? "on" : "off", tc1 - tc0, dwells, rf_now_s() - tc1, tex);
      const rf_engine_times *tm = rf_engine_get_times(e);
      char name[96];
      snprintf(name, sizeof name, "%s notch %s: engine's CA crossings = the same CA run here", wv ? "NLFM" : "LFM",
               notch ? "on" : "off");
      vr_check_add(v, "pfa", name, tm->cfar_crossings, hits[0], 0, 0, "equal");
      for (int i = 0; i < ncf; i++) {
        double rate = hits[i] / cells[i], design = pfas[cfg_p[i]];
        snprintf(name, sizeof name, "%s %s %s notch %s Pfa %.0e", wv ? "NLFM" : "LFM", vr_kinds[cfg_kind[i]],
                 cfg_dim[i] ? "2D" : "1D", notch ? "on" : "off", design);
        vr_check_add(v, "pfa", name, rate / design, 1.0, 0.2, 0, "ratio to design, +-20%");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "waveform", wv ? "nlfm" : "lfm");
        cJSON_AddStringToObject(o, "detector", vr_kinds[cfg_kind[i]]);
        cJSON_AddStringToObject(o, "window", cfg_dim[i] ? "2d" : "1d");
        cJSON_AddBoolToObject(o, "notch", notch);
        cJSON_AddNumberToObject(o, "design", design);
        cJSON_AddNumberToObject(o, "cells", cells[i]);
        cJSON_AddNumberToObject(o, "crossings", hits[i]);
        cJSON_AddNumberToObject(o, "measured", rate);
        cJSON_AddNumberToObject(o, "ratio", rate / design);
        cJSON_AddItemToArray(arr, o);
        if (cfg_p[i] == 0 && np < 64) xs[np] = (double)np, ys[np++] = rate / design;
        if (cfg_p[i] == 1 && nd < 64) xd[nd] = (double)nd, yd[nd++] = rate / design;
      }
      /* the OpenCL engine on the default detector: the same plots */
      if (v->o.opencl && notch && !v->o.quick) {
        rf_plot_list pc = {0}, pl = {0};
        if (!(st = vr_run(cap, &cfg, "cpu", &pl, NULL)) && !(st = vr_run(cap, &cfg, "opencl", &pc, NULL))) {
          double worst;
          int same = vr_same_plots(&pl, &pc, RF_C_MPS / (2 * VR_FS_HZ), 1.0, &worst);
          snprintf(name, sizeof name, "%s noise only: OpenCL plots = CPU plots (%zu)", wv ? "NLFM" : "LFM", pl.n);
          vr_check_add(v, "opencl", name, same, 1, 0, 0, "1 = same");
        }
        rf_plot_list_free(&pc);
        rf_plot_list_free(&pl);
      }
    next:
      free(hbuf);
      for (int i = 0; i < ncf; i++) rf_cfar_destroy(cf[i]);
      rf_engine_destroy(e);
      rf_capture_close(cp);
    }
    remove(cap);
  }
  if (st) return st;
  char png[1200];
  double bx[2] = {-1, 64}, lo[2] = {0.8, 0.8}, hi[2] = {1.2, 1.2}, one[2] = {1, 1};
  vr_series ser[5] = {{"design x 1.2, x 0.8", bx, hi, 2, -1, 1, 1}, {NULL, bx, lo, 2, -1, 1, 1},
                      {"design", bx, one, 2, -1, 0, 0}, {"Pfa 1e-3", xs, ys, np, RF_MARK_CIRCLE, 2, 0},
                      {"Pfa 1e-4", xd, yd, nd, RF_MARK_SQUARE, 3, 0}};
  snprintf(png, sizeof png, "%s/pfa.png", v->o.out);
  return vr_plot_png(png, "Measured false-alarm rate / design",
                     "per waveform (LFM, NLFM) and notch (on, off): 1D then 2D window, CA GO SO OS (report.json order)",
                     "configuration", "measured / design", -1, (double)(np > nd ? np : nd), 0.5, 1.5, ser, 5);
}

/* ---- Pd against SNR --------------------------------------------------------------------- */

/* A model Pd curve tabulated on SNR (dB) [PD_LO, PD_HI] in PD_STEP steps. */
#define PD_LO 0.0
#define PD_HI 35.0
#define PD_STEP 0.1
enum { PD_N = 351 }; /* (PD_HI - PD_LO) / PD_STEP + 1 */
typedef struct vr_curve {
  double pd[PD_N];
} vr_curve;
static void vr_curve_make(vr_curve *c, int kind, int n, int k, double pfa, int sw) {
  double a = th_alpha(kind, n, k, pfa);
#pragma omp parallel for schedule(dynamic, 16)
  for (int i = 0; i < PD_N; i++) c->pd[i] = th_pd(kind, n, k, a, pow(10, (PD_LO + i * PD_STEP) / 10), sw);
}
static double vr_curve_at(const vr_curve *c, double snr_db) {
  double u = (snr_db - PD_LO) / PD_STEP;
  if (u <= 0) return c->pd[0];
  if (u >= PD_N - 1) return c->pd[PD_N - 1];
  int i = (int)u;
  return c->pd[i] + (u - i) * (c->pd[i + 1] - c->pd[i]);
}
static double vr_curve_snr(const vr_curve *c, double p) {
  for (int i = 1; i < PD_N; i++)
    if (c->pd[i] >= p) return PD_LO + (i - 1 + (p - c->pd[i - 1]) / (c->pd[i] - c->pd[i - 1])) * PD_STEP;
  return NAN;
}

/* The measured curve as the model shifted by d dB: maximum likelihood of
 * d over the levels (binomial), its standard error from the curvature. */
static double vr_fit_shift(const vr_curve *c, const double *snr, const int *k, const int *n, int nl, double *se,
                           double *chi2) {
  double best = 0, bl = -1e300;
  for (double d = -4; d <= 4; d += 0.01) {
    double l = 0;
    for (int i = 0; i < nl; i++) {
      double p = fmin(fmax(vr_curve_at(c, snr[i] - d), 1e-9), 1 - 1e-9);
      l += k[i] * log(p) + (n[i] - k[i]) * log(1 - p);
    }
    if (l > bl) bl = l, best = d;
  }
  double h = 0.02, lp = 0, lm = 0, fisher;
  for (int i = 0; i < nl; i++) {
    double pp = fmin(fmax(vr_curve_at(c, snr[i] - best - h), 1e-9), 1 - 1e-9);
    double pm = fmin(fmax(vr_curve_at(c, snr[i] - best + h), 1e-9), 1 - 1e-9);
    lp += k[i] * log(pp) + (n[i] - k[i]) * log(1 - pp);
    lm += k[i] * log(pm) + (n[i] - k[i]) * log(1 - pm);
  }
  fisher = -(lp + lm - 2 * bl) / (h * h);
  *se = fisher > 0 ? 1 / sqrt(fisher) : NAN;
  *chi2 = 0;
  for (int i = 0; i < nl; i++) {
    double p = fmin(fmax(vr_curve_at(c, snr[i] - best), 1e-9), 1 - 1e-9);
    *chi2 += pow(k[i] - n[i] * p, 2) / (n[i] * p * (1 - p));
  }
  return best;
}

#define PD_LEVELS 10
int vr_pd(vr_ctx *v) {
  const int quick = v->o.quick;
  const int reps = quick ? 4 : 6;
  cJSON *arr = cJSON_AddArrayToObject(v->report, "pd");
  const double pfa = 1e-6;
  int st = 0;
  for (int wv = 0; wv < (quick ? 1 : 2); wv++)
    for (int sw = 0; sw < (quick ? 1 : 2); sw++) {
      /* Swerling 1 curves are flatter: more trials for the same precision */
      const int dwells = quick ? 24 : sw ? 100 : 72;
      rf_config cfg;
      rf_config_defaults(&cfg);
      cfg.pfa = pfa;
      int taper = wv ? RF_TAPER_NONE : RF_TAPER_HAMMING; /* pulse_compression.window = auto */
      /* post-processing SNR = element SNR x compression gain x Doppler gain (one element) */
      double g_db = 10 * log10(vr_gain(taper, VR_M, &cfg) * vr_gain(cfg.doppler_window, 32, &cfg));
      double lv[PD_LEVELS];
      for (int i = 0; i < PD_LEVELS; i++) lv[i] = sw ? 9.0 + 2.0 * i : 8.0 + 1.0 * i;
      /* Targets approach one range cell per dwell (the dwell period is set
       * so), at Doppler bin K/2 + 4 (on the bin), on the cell: each dwell
       * is a fresh trial at the same SNR, and the slots stay apart. */
      const int K = 32, slot = 170, nt = PD_LEVELS * reps;
      const double cell = RF_C_MPS / (2 * VR_FS_HZ), lambda = RF_C_MPS / VR_FC_HZ;
      size_t S = (size_t)(dwells + 100 + nt * slot + 150);
      double pri = ceil((1e-4 + S / VR_FS_HZ) * 1e4) / 1e4 + 1e-4;
      double vr = -4.0 * lambda / (2.0 * K * pri); /* bin K/2 + 4 */
      double period = cell / fabs(vr), gap = period - 32 * pri;
      vr_target *t = calloc((size_t)nt, sizeof *t);
      for (int i = 0; i < nt; i++) {
        int lvl = i % PD_LEVELS;
        /* LFM: on the cell (less a hair, so the first sample is inside the
         * pulse). The custom waveform is simulated as chips held for a
         * sample each: an echo delayed by an integer plus half a sample is
         * the reference shifted by a whole sample, and stays so while the
         * target moves its +-0.003 cell within the dwell (on the cell, half
         * the pulses would shift by one sample more). */
        double c0 = (double)(dwells + 100 + i * slot) - (wv ? 0.5 : 1e-6), tmid = 15.5 * pri;
        t[i] = (vr_target){0.5 * RF_C_MPS * (1e-4 + c0 / VR_FS_HZ) - vr * tmid, 0, vr, lv[lvl] - g_db, sw};
      }
      vr_scene s = {.name = "pd", .custom = wv, .elements = 1, .dwells = dwells, .pulses = 32, .samples = S,
                    .pri_s = pri, .rgd_s = 1e-4, .dwell_gap_s = gap, .noise = 1, .int16 = 1, .targets = t,
                    .ntargets = nt};
      char name[96], cap[1200];
      snprintf(name, sizeof name, "pd_%s_sw%d", wv ? "nlfm" : "lfm", sw);
      s.name = name;
      vr_note("Pd: simulating %s (%d dwells x %d targets)", name, dwells, nt);
      if ((st = vr_simulate(v, &s, 21 + (unsigned)(2 * wv + sw), cap, sizeof cap))) {
        free(t);
        return st;
      }
      rf_capture *cp;
      rf_truth *tr = NULL;
      if ((st = rf_capture_open(&cp, cap)) || (st = rf_capture_read_truth(cp, &tr))) {
        free(t);
        return st;
      }
      rf_capture_close(cp);
      vr_window win = vr_resolve_1d(wv, taper, &cfg);
      int n_ind = (int)lround(win.neff);
      n_ind += n_ind % 2; /* GO/SO: two equal sides */
      vr_curve *ideal = malloc(sizeof *ideal), *model = malloc(sizeof *model), *ca = malloc(sizeof *ca);
      vr_curve_make(ideal, 4, 0, 0, pfa, sw);
      vr_curve_make(ca, 0, n_ind, 0, pfa, sw);
      double xs[4][PD_LEVELS], ys[4][PD_LEVELS], cx[PD_N], cy_i[PD_N], cy_c[PD_N], cy_m[4][PD_N];
      for (int i = 0; i < PD_N; i++) cx[i] = PD_LO + i * PD_STEP, cy_i[i] = ideal->pd[i], cy_c[i] = ca->pd[i];
      for (int kind = 0; kind < (quick ? 1 : 4); kind++) {
        cfg.cfar_kind = kind;
        rf_plot_list pl = {0};
        if ((st = vr_run(cap, &cfg, "cpu", &pl, NULL))) break;
        int kos = (int)lround(0.75 * n_ind);
        vr_curve_make(model, kind, n_ind, kos, pfa, sw);
        for (int i = 0; i < PD_N; i++) cy_m[kind][i] = model->pd[i];
        /* a trial is detected when a plot of its dwell lies within 1 cell
         * and 1 bin of the truth */
        int kd[PD_LEVELS] = {0}, nn[PD_LEVELS] = {0}, fals = 0;
        const double vbin = lambda / (2.0 * K * pri);
        char *used = calloc(pl.n + 1, 1);
        for (size_t r = 0; r < tr->rows; r++) {
          int lvl = (tr->target_id[r] - 1) % PD_LEVELS, hit = 0;
          nn[lvl]++;
          for (size_t j = 0; j < pl.n && !hit; j++) {
            if (pl.v[j].dwell != tr->dwell[r]) continue;
            if (fabs(pl.v[j].range_m - tr->range_m[r]) <= cell &&
                fabs(rf_wrap(pl.v[j].radial_velocity_mps - tr->radial_velocity_mps[r], lambda / (4 * pri))) <= vbin)
              hit = 1, used[j] = 1;
          }
          kd[lvl] += hit;
        }
        for (size_t j = 0; j < pl.n; j++) fals += !used[j];
        free(used);
        double fit_se, chi2, shift = vr_fit_shift(model, lv, kd, nn, PD_LEVELS, &fit_se, &chi2);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "waveform", wv ? "nlfm" : "lfm");
        cJSON_AddNumberToObject(o, "swerling", sw);
        cJSON_AddStringToObject(o, "detector", vr_kinds[kind]);
        cJSON_AddNumberToObject(o, "independent_cells", n_ind);
        cJSON_AddNumberToObject(o, "train_range", win.tr);
        cJSON_AddNumberToObject(o, "guard_range", win.gr);
        cJSON *lvs = cJSON_AddArrayToObject(o, "levels");
        for (int i = 0; i < PD_LEVELS; i++) {
          cJSON *e = cJSON_CreateObject();
          cJSON_AddNumberToObject(e, "snr_db", lv[i]);
          cJSON_AddNumberToObject(e, "trials", nn[i]);
          cJSON_AddNumberToObject(e, "detected", kd[i]);
          cJSON_AddNumberToObject(e, "pd", (double)kd[i] / nn[i]);
          cJSON_AddNumberToObject(e, "pd_model", vr_curve_at(model, lv[i]));
          cJSON_AddNumberToObject(e, "pd_ideal", vr_curve_at(ideal, lv[i]));
          cJSON_AddItemToArray(lvs, e);
          xs[kind][i] = lv[i];
          ys[kind][i] = (double)kd[i] / nn[i];
        }
        cJSON_AddNumberToObject(o, "shift_from_model_db", shift);
        cJSON_AddNumberToObject(o, "shift_se_db", fit_se);
        cJSON_AddNumberToObject(o, "chi2", chi2);
        cJSON_AddNumberToObject(o, "chi2_dof", PD_LEVELS - 1);
        cJSON_AddNumberToObject(o, "false_plots", fals);
        const double ps[2] = {0.5, 0.9};
        for (int q = 0; q < 2; q++) {
          double loss = vr_curve_snr(model, ps[q]) + shift - vr_curve_snr(ideal, ps[q]);
          double loss_model = vr_curve_snr(model, ps[q]) - vr_curve_snr(ideal, ps[q]);
          char key[48];
          snprintf(key, sizeof key, "loss_db_at_pd_%.1f", ps[q]);
          cJSON_AddNumberToObject(o, key, loss);
          snprintf(key, sizeof key, "model_loss_db_at_pd_%.1f", ps[q]);
          cJSON_AddNumberToObject(o, key, loss_model);
          if (kind == 0) {
            snprintf(name, sizeof name, "%s SW%d default (CA) loss vs ideal at Pd %.1f, dB", wv ? "NLFM" : "LFM", sw,
                     ps[q]);
            vr_check_add(v, "pd", name, loss, quick ? 1.5 : 1.0, 0, 1, quick ? "<= 1.5 (quick)" : "<= 1.0");
          }
        }
        snprintf(name, sizeof name, "%s SW%d %s curve vs its model (%d ind. cells): shift dB", wv ? "NLFM" : "LFM", sw,
                 vr_kinds[kind], n_ind);
        vr_check_add(v, "pd", name, shift, 0, quick ? 1.0 : 0.5, 0, quick ? "|shift| <= 1.0" : "|shift| <= 0.5");
        cJSON_AddItemToArray(arr, o);
        /* the OpenCL engine on the default detector: the same plots */
        if (v->o.opencl && kind == 0 && sw == 0 && !quick) {
          rf_plot_list pc = {0};
          if ((st = vr_run(cap, &cfg, "opencl", &pc, NULL))) break;
          double worst;
          int same = vr_same_plots(&pl, &pc, cell, vbin, &worst);
          snprintf(name, sizeof name, "pd %s SW%d: OpenCL plots = CPU plots (%zu)", wv ? "NLFM" : "LFM", sw, pl.n);
          vr_check_add(v, "opencl", name, same, 1, 0, 0, "1 = same");
          rf_plot_list_free(&pc);
        }
        rf_plot_list_free(&pl);
      }
      if (!st) {
        char png[1200], title[128];
        snprintf(png, sizeof png, "%s/pd_%s_sw%d.png", v->o.out, wv ? "nlfm" : "lfm", sw);
        snprintf(title, sizeof title, "Pd vs post-processing SNR: %s, Swerling %d, Pfa 1e-6", wv ? "NLFM (no taper)" : "LFM (Hamming)", sw);
        vr_series ser[14];
        size_t ns = 0;
        ser[ns++] = (vr_series){"ideal (known noise)", cx, cy_i, PD_N, -1, 0, 0};
        ser[ns++] = (vr_series){"CA, n independent cells", cx, cy_c, PD_N, -1, 1, 0};
        char lab[4][48];
        for (int kind = 0; kind < (quick ? 1 : 4); kind++) {
          snprintf(lab[kind], sizeof lab[kind], "%s theory, %d cells", vr_kinds[kind], n_ind);
          ser[ns++] = (vr_series){lab[kind], cx, cy_m[kind], PD_N, -1, 2 + kind, 1};
          ser[ns++] = (vr_series){vr_kinds[kind], xs[kind], ys[kind], PD_LEVELS, RF_MARK_CIRCLE + kind, 2 + kind, 0};
        }
        char sub[160];
        snprintf(sub, sizeof sub, "%d trials per level; theory: n = %d independent cells (the window's n^2 / sum rho^2)",
                 dwells * reps, n_ind);
        st = vr_plot_png(png, title, sub, "post-processing SNR, dB", "Pd", lv[0] - 1, lv[PD_LEVELS - 1] + 1, 0, 1, ser, ns);
      }
      free(ideal);
      free(model);
      free(ca);
      free(t);
      rf_truth_free(tr);
      remove(cap);
      if (st) return st;
    }
  return 0;
}

/* ---- estimation against the Cramer-Rao bound ------------------------------------------ */

/* Taper-weighted variance of positions x over n: sum t^2 x^2 / sum t^2 - mean^2. */
static double vr_wvar(const double *t, const double *x, size_t n) {
  double s = 0, sx = 0, sxx = 0;
  for (size_t i = 0; i < n; i++) s += t[i] * t[i], sx += t[i] * t[i] * x[i], sxx += t[i] * t[i] * x[i] * x[i];
  return sxx / s - (sx / s) * (sx / s);
}

int vr_estimation(vr_ctx *v) {
  const int quick = v->o.quick, dwells = quick ? 4 : 60, reps = quick ? 6 : 12, N = 16, P = 32, K = 32;
  const double levels[3] = {20, 25, 30};
  rf_config cfg;
  rf_config_defaults(&cfg);
  const double lambda = RF_C_MPS / VR_FC_HZ, cell = RF_C_MPS / (2 * VR_FS_HZ);
  /* Gains and bounds of the tapered processing (docs/detection.md). */
  double *t = malloc(512 * sizeof *t), *x = malloc(512 * sizeof *x);
  rf_taper_fill(RF_TAPER_HAMMING, 35, 4, VR_M, t);
  double g_r = vr_gain(RF_TAPER_HAMMING, VR_M, &cfg), g_d = vr_gain(cfg.doppler_window, P, &cfg),
         g_a = vr_gain(cfg.array_taper, N, &cfg);
  /* range: the tapered replica's spectrum, its second moment (cycles/sample)^2 */
  const int Z = 4096;
  double sf = 0, sff = 0, s0 = 0;
  for (int f = 0; f < Z; f++) {
    double fr = (f < Z / 2 ? f : f - Z) / (double)Z;
    double complex H = 0;
    for (int m = 0; m < VR_M; m++) {
      double tm = m / VR_FS_HZ, ph = RF_PI * (VR_B_HZ / VR_T_S) * tm * tm - RF_PI * VR_B_HZ * tm;
      H += t[m] * cexp(I * (ph - 2 * RF_PI * fr * m));
    }
    double p = creal(H * conj(H));
    s0 += p, sf += p * fr, sff += p * fr * fr;
  }
  double var_f = sff / s0 - (sf / s0) * (sf / s0);
  /* the same untapered: the true bound's bandwidth */
  sf = sff = s0 = 0;
  for (int f = 0; f < Z; f++) {
    double fr = (f < Z / 2 ? f : f - Z) / (double)Z;
    double complex H = 0;
    for (int m = 0; m < VR_M; m++) {
      double tm = m / VR_FS_HZ, ph = RF_PI * (VR_B_HZ / VR_T_S) * tm * tm - RF_PI * VR_B_HZ * tm;
      H += cexp(I * (ph - 2 * RF_PI * fr * m));
    }
    double p = creal(H * conj(H));
    s0 += p, sf += p * fr, sff += p * fr * fr;
  }
  double var_f0 = sff / s0 - (sf / s0) * (sf / s0);
  rf_taper_fill(cfg.doppler_window, 35, 4, P, t);
  for (int p = 0; p < P; p++) x[p] = p;
  double var_p = vr_wvar(t, x, (size_t)P), var_p0 = ((double)P * P - 1) / 12.0;
  rf_taper_fill(cfg.array_taper, cfg.taylor_sll_db, cfg.taylor_nbar, (size_t)N, t);
  for (int n = 0; n < N; n++) x[n] = (n - 0.5 * (N - 1)) * 0.5; /* lambda / 2 spacing, in wavelengths */
  double var_x = vr_wvar(t, x, (size_t)N), var_x0 = 0.25 * ((double)N * N - 1) / 12.0;
  free(t);
  free(x);
  /* targets: random sub-cell range, Doppler between bins, azimuth within
   * half a receive beamwidth of the transmit axis */
  const int nt = 3 * reps, slot = 200;
  double pri = 1.2e-3;
  size_t S = (size_t)(150 + nt * slot);
  pri = ceil((1e-4 + S / VR_FS_HZ) * 1e4) / 1e4 + 1e-4;
  const double vbin = lambda / (2.0 * K * pri);
  double pos[16][3];
  for (int n = 0; n < N; n++) pos[n][0] = (n - 0.5 * (N - 1)) * lambda / 2, pos[n][1] = 0, pos[n][2] = 0;
  const double bw_rx = rf_beamwidth_deg((const double(*)[3])pos, (size_t)N, lambda, 0, 0, 0, cfg.array_taper,
                                        cfg.taylor_sll_db, cfg.taylor_nbar);
  uint64_t seed = 777;
  vr_target *tg = calloc((size_t)nt, sizeof *tg);
  double *az = calloc((size_t)nt, sizeof *az);
  for (int i = 0; i < nt; i++) {
    int lvl = i % 3;
    double c0 = 100 + i * slot + vr_uniform(&seed);
    double kb = (vr_uniform(&seed) < 0.5 ? -1 : 1) * (3 + 9 * vr_uniform(&seed));
    double vr = -kb * vbin;
    az[i] = (vr_uniform(&seed) - 0.5) * bw_rx;
    /* element SNR for the level's post-processing SNR on the beam axis;
     * the transmit pattern and beam straddle lower it off axis (the bound
     * below uses each trial's own SNR) */
    double snr_el = levels[lvl] - 10 * log10(g_r * g_d * g_a);
    tg[i] = (vr_target){0.5 * RF_C_MPS * (1e-4 + c0 / VR_FS_HZ), az[i], vr, snr_el, 0};
  }
  vr_scene s = {.name = "estimation", .elements = N, .dwells = dwells, .pulses = P, .samples = S, .pri_s = pri,
                .rgd_s = 1e-4, .noise = 1, .int16 = 0, .targets = tg, .ntargets = nt};
  char cap[1200];
  vr_note("estimation: simulating (%d dwells x %d targets)", dwells, nt);
  int st = vr_simulate(v, &s, 31, cap, sizeof cap);
  rf_plot_list pl = {0};
  rf_truth *tr = NULL;
  rf_capture *cp = NULL;
  if (!st) st = vr_run(cap, &cfg, "cpu", &pl, NULL);
  if (!st && !(st = rf_capture_open(&cp, cap))) st = rf_capture_read_truth(cp, &tr);
  rf_capture_close(cp);
  if (st) goto done;
  double se[3][3] = {{0}}, crb[3][3] = {{0}}, crb0[3][3] = {{0}};
  int cnt[3] = {0}, missed[3] = {0};
  for (size_t r = 0; r < tr->rows; r++) {
    int i = tr->target_id[r] - 1, lvl = i % 3;
    /* post-processing SNR of this trial: element SNR (with the transmit
     * pattern: truth) x the gains, through an ideal beam at its direction */
    double snr = pow(10, tr->snr_db[r] / 10) * g_r * g_d * g_a;
    int best = -1;
    double bd = 1e30;
    for (size_t j = 0; j < pl.n; j++) {
      if (pl.v[j].dwell != tr->dwell[r]) continue;
      double dr = (pl.v[j].range_m - tr->range_m[r]) / cell;
      double dv = rf_wrap(pl.v[j].radial_velocity_mps - tr->radial_velocity_mps[r], lambda / (4 * pri)) / vbin;
      if (fabs(dr) > 2 || fabs(dv) > 2) continue;
      if (dr * dr + dv * dv < bd) bd = dr * dr + dv * dv, best = (int)j;
    }
    if (best < 0) {
      missed[lvl]++;
      continue;
    }
    const rf_plot *p = &pl.v[best];
    double er = (p->range_m - tr->range_m[r]) / cell;
    double ev = rf_wrap(p->radial_velocity_mps - tr->radial_velocity_mps[r], lambda / (4 * pri)) / vbin;
    double ea = rf_wrap(p->azimuth_deg - tr->azimuth_deg[r], 180.0);
    se[lvl][0] += er * er;
    se[lvl][1] += ev * ev;
    se[lvl][2] += ea * ea;
    /* bounds (variances): range in cells (samples), Doppler in bins, azimuth in degrees */
    crb[lvl][0] += 1.0 / (2 * snr * 4 * RF_PI * RF_PI * var_f);
    crb[lvl][1] += (double)K * K / (2 * snr * 4 * RF_PI * RF_PI * var_p);
    double cu = 1.0 / (2 * snr * 4 * RF_PI * RF_PI * var_x), c = cos(tr->azimuth_deg[r] * RF_PI / 180.0);
    crb[lvl][2] += cu / (c * c) * pow(180.0 / RF_PI, 2);
    /* the true bound: matched-filter SNR (no taper losses), untapered widths */
    double snr0 = pow(10, tr->snr_db[r] / 10) * VR_M * P * N;
    crb0[lvl][0] += 1.0 / (2 * snr0 * 4 * RF_PI * RF_PI * var_f0);
    crb0[lvl][1] += (double)K * K / (2 * snr0 * 4 * RF_PI * RF_PI * var_p0);
    crb0[lvl][2] += 1.0 / (2 * snr0 * 4 * RF_PI * RF_PI * var_x0) / (c * c) * pow(180.0 / RF_PI, 2);
    cnt[lvl]++;
  }
  cJSON *arr = cJSON_AddArrayToObject(v->report, "estimation");
  static const char *const dims[3] = {"range (cells)", "velocity (bins)", "azimuth (deg)"};
  double lx[3], ly[3][3];
  for (int lvl = 0; lvl < 3; lvl++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "snr_db", levels[lvl]);
    cJSON_AddNumberToObject(o, "trials", cnt[lvl]);
    cJSON_AddNumberToObject(o, "missed", missed[lvl]);
    lx[lvl] = levels[lvl];
    for (int d = 0; d < 3; d++) {
      double rms = sqrt(se[lvl][d] / cnt[lvl]), bound = sqrt(crb[lvl][d] / cnt[lvl]);
      char key[64], name[96];
      snprintf(key, sizeof key, "%s_rms", d == 0 ? "range_cells" : d == 1 ? "velocity_bins" : "azimuth_deg");
      cJSON_AddNumberToObject(o, key, rms);
      snprintf(key, sizeof key, "%s_crb", d == 0 ? "range_cells" : d == 1 ? "velocity_bins" : "azimuth_deg");
      cJSON_AddNumberToObject(o, key, bound);
      snprintf(key, sizeof key, "%s_crb_untapered", d == 0 ? "range_cells" : d == 1 ? "velocity_bins" : "azimuth_deg");
      cJSON_AddNumberToObject(o, key, sqrt(crb0[lvl][d] / cnt[lvl]));
      snprintf(name, sizeof name, "%.0f dB: RMS %s / CRB", levels[lvl], dims[d]);
      vr_check_add(v, "crb", name, rms / bound, 2.0, 0, 1, "<= 2");
      snprintf(name, sizeof name, "%.0f dB: RMS %s / untapered CRB", levels[lvl], dims[d]);
      vr_check_add(v, "crb", name, rms / sqrt(crb0[lvl][d] / cnt[lvl]), 0, 0, 2, "(reported)");
      ly[d][lvl] = rms / bound;
    }
    char name[96];
    snprintf(name, sizeof name, "%.0f dB: targets missed of %d", levels[lvl], cnt[lvl] + missed[lvl]);
    vr_check_add(v, "crb", name, missed[lvl], 0, 0, 1, "0");
    cJSON_AddItemToArray(arr, o);
  }
  char png[1200];
  snprintf(png, sizeof png, "%s/crb.png", v->o.out);
  double two[2] = {2, 2}, one[2] = {1, 1}, bx[2] = {18, 32};
  vr_series ser[5] = {{"2 x CRB", bx, two, 2, -1, 3, 1}, {"CRB", bx, one, 2, -1, 0, 1},
                      {"range", lx, ly[0], 3, RF_MARK_CIRCLE, 2, 0}, {"velocity", lx, ly[1], 3, RF_MARK_SQUARE, 4, 0},
                      {"azimuth", lx, ly[2], 3, RF_MARK_DIAMOND, 5, 0}};
  st = vr_plot_png(png, "RMS error / Cramer-Rao bound (tapered processing)",
                   "LFM + Hamming, Hamming Doppler window, Taylor array taper; random sub-cell positions",
                   "post-processing SNR, dB", "RMS error / CRB", 18, 32, 0, 3, ser, 5);
  if (!st && v->o.opencl && !quick) {
    rf_plot_list pc = {0};
    if (!(st = vr_run(cap, &cfg, "opencl", &pc, NULL))) {
      double worst;
      int same = vr_same_plots(&pl, &pc, cell, vbin, &worst);
      char name[96];
      snprintf(name, sizeof name, "estimation: OpenCL plots = CPU plots (%zu)", pl.n);
      vr_check_add(v, "opencl", name, same, 1, 0, 0, "1 = same");
    }
    rf_plot_list_free(&pc);
  }
done:
  rf_plot_list_free(&pl);
  rf_truth_free(tr);
  free(tg);
  free(az);
  remove(cap);
  return st;
}

/* ---- coverage of a declared transmit beam ------------------------------------------- */

int vr_coverage(vr_ctx *v) {
  const int quick = v->o.quick, dwells = quick ? 4 : 20, N = 16, P = 32, K = 32, nin = 13;
  rf_config cfg;
  rf_config_defaults(&cfg);
  const double lambda = RF_C_MPS / VR_FC_HZ, cell = RF_C_MPS / (2 * VR_FS_HZ), tx_bw = 24.0;
  double pos[16][3];
  for (int n = 0; n < N; n++) pos[n][0] = (n - 0.5 * (N - 1)) * lambda / 2, pos[n][1] = 0, pos[n][2] = 0;
  const double bw = rf_beamwidth_deg((const double(*)[3])pos, (size_t)N, lambda, 0, 0, 0, cfg.array_taper,
                                     cfg.taylor_sll_db, cfg.taylor_nbar);
  /* the fan the engine will make (host/fan.c's documented rule) */
  const double az0 = 0, el0 = 0;
  rf_fan_config fc = {.element_position_m = (const double(*)[3])pos, .channels = (size_t)N, .lambda_m = lambda,
                      .taper = cfg.array_taper, .taylor_sll_db = cfg.taylor_sll_db, .taylor_nbar = cfg.taylor_nbar,
                      .dwells = 1, .azimuth_deg = &az0, .elevation_deg = &el0, .tx_beamwidth_az_deg = &tx_bw};
  rf_fan_extent fx;
  rf_fan_extent_at(&fc, 0, &fx);
  const double g_db = 10 * log10(vr_gain(RF_TAPER_HAMMING, VR_M, &cfg) * vr_gain(cfg.doppler_window, P, &cfg) *
                                 vr_gain(cfg.array_taper, (size_t)N, &cfg));
  const int nt = nin + 2, slot = 200;
  size_t S = (size_t)(150 + nt * slot);
  double pri = ceil((1e-4 + S / VR_FS_HZ) * 1e4) / 1e4 + 1e-4;
  const double vbin = lambda / (2.0 * K * pri);
  vr_target tg[16];
  double off[16];
  for (int i = 0; i < nt; i++) {
    off[i] = i < nin ? -0.5 * tx_bw + tx_bw * i / (nin - 1) : (i == nin ? -1 : 1) * (fx.half_az_deg + 0.4 * fx.spacing_az_deg);
    double post = i < nin ? 20.0 : 30.0;
    double txg = pow(2.0, -4.0 * off[i] * off[i] / (tx_bw * tx_bw)); /* the simulator's spoiled beam */
    double c0 = 100 + i * slot - 1e-6;
    tg[i] = (vr_target){0.5 * RF_C_MPS * (1e-4 + c0 / VR_FS_HZ), off[i], -6 * vbin, post - g_db - 10 * log10(txg), 0};
  }
  vr_scene s = {.name = "coverage", .elements = N, .dwells = dwells, .pulses = P, .samples = S, .pri_s = pri,
                .rgd_s = 1e-4, .noise = 1, .tx_beamwidth_az_deg = tx_bw, .targets = tg, .ntargets = nt};
  char cap[1200];
  vr_note("coverage: simulating a %.0f degree transmit beam (%d dwells)", tx_bw, dwells);
  int st = vr_simulate(v, &s, 41, cap, sizeof cap);
  rf_plot_list pl = {0};
  rf_engine_times tm;
  if (!st) st = vr_run(cap, &cfg, "cpu", &pl, &tm);
  if (st) return st;
  int found[16] = {0}, many[16] = {0};
  double worst[16] = {0}, ex[16 * 64], ey[16 * 64];
  size_t ne = 0, outside_support = 0;
  for (size_t j = 0; j < pl.n; j++) {
    double a = rf_wrap(pl.v[j].azimuth_deg - az0, 180.0);
    if (a < -fx.half_az_deg - 1e-9 || a > fx.half_az_deg + 1e-9) outside_support++;
  }
  for (int d = 0; d < dwells; d++)
    for (int i = 0; i < nt; i++) {
      int n = 0;
      for (size_t j = 0; j < pl.n; j++) {
        if (pl.v[j].dwell != d) continue;
        double c = (pl.v[j].range_m / (0.5 * RF_C_MPS) - 1e-4) * VR_FS_HZ;
        if (fabs(c - (100 + i * slot)) > 3) continue;
        n++;
        double e = rf_wrap(pl.v[j].azimuth_deg - off[i], 180.0);
        if (fabs(e) > worst[i]) worst[i] = fabs(e);
        if (i < nin && ne < 16 * 64) ex[ne] = off[i], ey[ne++] = e;
      }
      found[i] += n >= 1;
      many[i] += n > 1;
    }
  cJSON *o = cJSON_AddObjectToObject(v->report, "coverage");
  cJSON_AddNumberToObject(o, "tx_beamwidth_az_deg", tx_bw);
  cJSON_AddNumberToObject(o, "rx_beamwidth_az_deg", bw);
  cJSON_AddNumberToObject(o, "beams_az", (double)fx.beams_az);
  cJSON_AddNumberToObject(o, "spacing_az_deg", fx.spacing_az_deg);
  cJSON_AddNumberToObject(o, "support_half_az_deg", fx.half_az_deg);
  cJSON_AddNumberToObject(o, "peaks_outside_fan", (double)tm.peaks_outside_fan);
  cJSON *ta = cJSON_AddArrayToObject(o, "targets");
  int all = 1, none_out = 1;
  double worst_in = 0;
  for (int i = 0; i < nt; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "offset_deg", off[i]);
    cJSON_AddNumberToObject(e, "dwells_found", found[i]);
    cJSON_AddNumberToObject(e, "worst_azimuth_error_deg", worst[i]);
    cJSON_AddItemToArray(ta, e);
    if (i < nin) {
      all &= found[i] == dwells && !many[i];
      worst_in = fmax(worst_in, worst[i]);
    } else {
      none_out &= found[i] == 0;
    }
  }
  char name[96];
  snprintf(name, sizeof name, "%d targets across the %.0f deg transmit beam found every dwell", nin, tx_bw);
  vr_check_add(v, "coverage", name, all, 1, 0, 0, "1 = all, once");
  snprintf(name, sizeof name, "worst |azimuth error| at 20 dB / 3 dB beamwidth");
  vr_check_add(v, "coverage", name, worst_in / bw, 0.25, 0, 1, "< 1/4");
  vr_check_add(v, "coverage", "plots outside the supported span", (double)outside_support, 0, 0, 1, "0");
  vr_check_add(v, "coverage", "targets past the support: plots", none_out ? 0 : 1, 0, 0, 1, "0");
  vr_check_add(v, "coverage", "targets past the support: peaks counted dropped", (double)tm.peaks_outside_fan, 1, 0, 2,
               ">= 1");
  char png[1200];
  snprintf(png, sizeof png, "%s/coverage.png", v->o.out);
  double bx[2] = {-tx_bw / 2 - 2, tx_bw / 2 + 2}, hi[2] = {bw / 4, bw / 4}, lo[2] = {-bw / 4, -bw / 4};
  vr_series ser[3] = {{"+-1/4 beamwidth", bx, hi, 2, -1, 3, 1}, {NULL, bx, lo, 2, -1, 3, 1},
                      {"azimuth error, each dwell", ex, ey, ne, RF_MARK_CIRCLE, 2, 0}};
  char sub[160];
  snprintf(sub, sizeof sub, "16-element ULA (3 dB beamwidth %.1f deg), %zu beams %.2f deg apart, 20 dB", bw,
           fx.beams_az, fx.spacing_az_deg);
  if (!(st = vr_plot_png(png, "Azimuth error across a 24 degree transmit beam", sub, "target azimuth offset, deg",
                         "azimuth error, deg", bx[0], bx[1], -bw / 2, bw / 2, ser, 3)) &&
      v->o.opencl) {
    rf_plot_list pc = {0};
    if (!(st = vr_run(cap, &cfg, "opencl", &pc, NULL))) {
      double w;
      int same = vr_same_plots(&pl, &pc, cell, vbin, &w);
      snprintf(name, sizeof name, "coverage: OpenCL plots = CPU plots (%zu)", pl.n);
      vr_check_add(v, "opencl", name, same, 1, 0, 0, "1 = same");
    }
    rf_plot_list_free(&pc);
  }
  rf_plot_list_free(&pl);
  remove(cap);
  return st;
}

/* ---- resolution ---------------------------------------------------------------------------- */

int vr_resolution(vr_ctx *v) {
  const int quick = v->o.quick, dwells = quick ? 6 : 24, P = 32, K = 32, pairs = 8, ntypes = 4;
  rf_config cfg;
  rf_config_defaults(&cfg);
  const double lambda = RF_C_MPS / VR_FC_HZ, cell = RF_C_MPS / (2 * VR_FS_HZ), res = VR_FS_HZ / VR_B_HZ;
  const double g_db = 10 * log10(vr_gain(RF_TAPER_HAMMING, VR_M, &cfg) * vr_gain(cfg.doppler_window, P, &cfg));
  const int nt = 2 * pairs * ntypes, slot = 200;
  size_t S = (size_t)(150 + nt / 2 * slot);
  double pri = ceil((1e-4 + S / VR_FS_HZ) * 1e4) / 1e4 + 1e-4;
  const double vbin = lambda / (2.0 * K * pri);
  /* types: 3.5 resolution cells, 4 bins, 1.5 cells, 2 bins */
  const double dcell[4] = {3.5 * res, 0, 1.5 * res, 0}, dbin[4] = {0, 4, 0, 2};
  vr_target *tg = calloc((size_t)nt, sizeof *tg);
  double cells[128], bins[128];
  uint64_t seed = 99;
  for (int ty = 0; ty < ntypes; ty++)
    for (int p = 0; p < pairs; p++) {
      int i = 2 * (ty * pairs + p);
      double c0 = 100 + (ty * pairs + p) * slot + vr_uniform(&seed), b0 = 6 + vr_uniform(&seed) - 0.5;
      for (int q = 0; q < 2; q++) {
        cells[i + q] = c0 + q * dcell[ty];
        bins[i + q] = b0 + q * dbin[ty];
        tg[i + q] = (vr_target){0.5 * RF_C_MPS * (1e-4 + cells[i + q] / VR_FS_HZ), 0, -bins[i + q] * vbin, 20 - g_db, 0};
      }
    }
  vr_scene s = {.name = "resolution", .elements = 1, .dwells = dwells, .pulses = P, .samples = S, .pri_s = pri,
                .rgd_s = 1e-4, .noise = 1, .targets = tg, .ntargets = nt};
  char cap[1200];
  vr_note("resolution: simulating %d target pairs (%d dwells)", nt / 2, dwells);
  int st = vr_simulate(v, &s, 51, cap, sizeof cap);
  rf_plot_list pl = {0};
  rf_truth *tr = NULL;
  rf_capture *cp = NULL;
  if (!st) st = vr_run(cap, &cfg, "cpu", &pl, NULL);
  if (!st && !(st = rf_capture_open(&cp, cap))) st = rf_capture_read_truth(cp, &tr);
  rf_capture_close(cp);
  if (st) {
    free(tg);
    return st;
  }
  int both[4] = {0}, dup[4] = {0}, total[4] = {0};
  for (int d = 0; d < dwells; d++)
    for (int ty = 0; ty < ntypes; ty++)
      for (int p = 0; p < pairs; p++) {
        int i = 2 * (ty * pairs + p), cnt[2] = {0, 0};
        /* each plot to the nearest of the pair (truth of this dwell), within 1.5 cells and 1 bin */
        size_t r0 = 0;
        while (r0 < tr->rows && !(tr->dwell[r0] == d && tr->target_id[r0] == i + 1)) r0++;
        size_t r1 = 0;
        while (r1 < tr->rows && !(tr->dwell[r1] == d && tr->target_id[r1] == i + 2)) r1++;
        for (size_t j = 0; j < pl.n; j++) {
          if (pl.v[j].dwell != d) continue;
          int best = -1;
          double bd = 1e30;
          for (int q = 0; q < 2; q++) {
            size_t r = q ? r1 : r0;
            double dc = (pl.v[j].range_m - tr->range_m[r]) / cell;
            double dv = rf_wrap(pl.v[j].radial_velocity_mps - tr->radial_velocity_mps[r], lambda / (4 * pri)) / vbin;
            if (fabs(dc) < 1.5 && fabs(dv) < 1.0 && dc * dc + dv * dv < bd) bd = dc * dc + dv * dv, best = q;
          }
          if (best >= 0) cnt[best]++;
        }
        total[ty]++;
        both[ty] += cnt[0] == 1 && cnt[1] == 1;
        dup[ty] += cnt[0] > 1 || cnt[1] > 1;
      }
  cJSON *o = cJSON_AddArrayToObject(v->report, "resolution");
  static const char *const what[4] = {"3.5 range resolution cells", "4 Doppler bins", "1.5 range resolution cells",
                                      "2 Doppler bins"};
  for (int ty = 0; ty < ntypes; ty++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "separation", what[ty]);
    cJSON_AddNumberToObject(e, "pair_dwells", total[ty]);
    cJSON_AddNumberToObject(e, "both_reported", both[ty]);
    cJSON_AddNumberToObject(e, "duplicates", dup[ty]);
    cJSON_AddItemToArray(o, e);
    char name[96];
    snprintf(name, sizeof name, "two equal 20 dB targets %s apart: both, of %d", what[ty], total[ty]);
    if (ty < 2) vr_check_add(v, "resolution", name, both[ty], total[ty], 0, 0, "all");
    else vr_check_add(v, "resolution", name, (double)both[ty] / total[ty], 0, 0, 2, "rate (reported)");
    snprintf(name, sizeof name, "%s apart: targets with more than one plot", what[ty]);
    vr_check_add(v, "resolution", name, dup[ty], 0, 0, 1, "0");
  }
  if (v->o.opencl) {
    rf_plot_list pc = {0};
    if (!(st = vr_run(cap, &cfg, "opencl", &pc, NULL))) {
      double w;
      int same = vr_same_plots(&pl, &pc, cell, vbin, &w);
      char name[96];
      snprintf(name, sizeof name, "resolution: OpenCL plots = CPU plots (%zu)", pl.n);
      vr_check_add(v, "opencl", name, same, 1, 0, 0, "1 = same");
    }
    rf_plot_list_free(&pc);
  }
  rf_plot_list_free(&pl);
  rf_truth_free(tr);
  free(tg);
  remove(cap);
  return st;
}

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  vr_ctx v;
  memset(&v, 0, sizeof v);
  v.o.out = "build/validate";
  v.o.opencl = 1;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) v.o.quick = 1;
    else if (!strcmp(argv[i], "--no-opencl")) v.o.opencl = 0;
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) v.o.out = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: validate [--quick] [--no-opencl] [--out DIR] [--only SECTION]\n");
      return 2;
    }
  }
  setenv("RF_CL_AUTO_ANY", "1", 0);
  rf_log_level = 0;
  int st = rf_mkdirs(v.o.out);
  snprintf(v.capdir, sizeof v.capdir, "%s/captures", v.o.out);
  snprintf(v.scenedir, sizeof v.scenedir, "%s/scenes", v.o.out);
  if (!st && !(st = vr_mkdir(v.capdir))) st = vr_mkdir(v.scenedir);
  if (st) {
    fprintf(stderr, "validate: %s\n", rf_errmsg());
    return 3;
  }
  if (v.o.opencl) { /* no OpenCL device: the comparison is skipped, and said so */
    rf_cl_device_info info;
    if (rf_cl_select("opencl", &info)) {
      vr_note("no OpenCL device (%s): CPU/OpenCL comparison skipped", rf_errmsg());
      v.o.opencl = 0;
    }
  }
  v.report = cJSON_CreateObject();
  cJSON_AddStringToObject(v.report, "program", "radarflow validate");
  cJSON_AddStringToObject(v.report, "version", RF_VERSION);
  cJSON_AddBoolToObject(v.report, "quick", v.o.quick);
  cJSON_AddBoolToObject(v.report, "opencl_compared", v.o.opencl);
  double t0 = rf_now_s();
  int (*const sections[])(vr_ctx *) = {vr_coverage, vr_resolution, vr_estimation, vr_pfa, vr_pd};
  static const char *const snames[] = {"coverage", "resolution", "estimation", "false alarms", "Pd"};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0] && !st; i++) {
    if (only && !strstr(snames[i], only)) continue;
    double ts = rf_now_s();
    st = sections[i](&v);
    vr_note("%s: %.1f s", snames[i], rf_now_s() - ts);
  }
  if (st) {
    fprintf(stderr, "validate: %s\n", rf_errmsg());
    cJSON_Delete(v.report);
    return 3;
  }
  cJSON_AddNumberToObject(v.report, "seconds", rf_now_s() - t0);
  cJSON *ch = cJSON_AddArrayToObject(v.report, "checks");
  int fails = 0;
  for (size_t i = 0; i < v.nchecks; i++) {
    const vr_check *c = &v.checks[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "section", c->section);
    cJSON_AddStringToObject(o, "check", c->name);
    cJSON_AddNumberToObject(o, "measured", c->measured);
    cJSON_AddNumberToObject(o, "expected", c->expected);
    cJSON_AddNumberToObject(o, "tolerance", c->tolerance);
    cJSON_AddStringToObject(o, "rule", c->rule);
    cJSON_AddBoolToObject(o, "pass", c->pass);
    cJSON_AddItemToArray(ch, o);
    fails += !c->pass;
  }
  cJSON_AddNumberToObject(v.report, "failed", fails);
  char *json = cJSON_Print(v.report), path[1200];
  snprintf(path, sizeof path, "%s/report.json", v.o.out);
  st = json ? rf_write_file_atomic(path, json, strlen(json)) : RF_ENOMEM;
  cJSON_free(json);
  cJSON_Delete(v.report);
  vr_table(&v);
  printf("\n%zu checks, %d failed, %.0f s; report %s\n", v.nchecks, fails, rf_now_s() - t0, path);
  free(v.checks);
  if (st) {
    fprintf(stderr, "validate: %s\n", rf_errmsg());
    return 3;
  }
  return fails ? 1 : 0;
}
