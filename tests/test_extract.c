/* Tests for stage 6, plot extraction (host/extract.c): synthetic power cubes
 * with peaks at known fractional positions in range, Doppler and beam. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/rf_stages.h"

/* Gaussian lobes have an exactly parabolic log, so parabolic interpolation
 * is exact up to float storage (~1e-7 cell) and the unit floor under a 1e8
 * peak (~1e-7): 1e-4 of a cell/bin/beam spacing leaves wide margin. */
#define TOL_GAUSS_FRAC 1e-4
/* sinc^2 main lobe sampled at 2 cells per null-to-peak width: the worst-case
 * bias of log-parabolic interpolation over offsets in [-0.5, 0.5] is 0.021
 * cell (computed offline); allow 0.03. */
#define TOL_SINC_CELL 0.03
/* SNR is computed in double from float inputs. */
#define TOL_SNR_DB 1e-6
/* End to end through CFAR: 60 dB target, so noise moves the peak's
 * neighbours by ~1e-3 relative; 0.02 cell is far outside that. */
#define TOL_E2E_FRAC 0.02
/* SNR through CFAR: 32-cell CA noise estimate has ~18% (0.8 dB) spread. */
#define TOL_E2E_SNR_DB 3.0

#define K 64
#define S 128
#define MAXB 9
#define MAXH 20000

typedef struct fixture {
  rf_dwell_geom g;
  double az[MAXB], el[MAXB];
  float *cube;
  rf_cfar_hit hits[MAXB][2048];
  const rf_cfar_hit *hp[MAXB];
  size_t nh[MAXB];
  rf_detection det[64];
  size_t ndet;
} fixture;

/* Beams: azimuth -10 (baz-1)/2 ... in 10 degree steps, elevation 0, 5, 10 ... */
static fixture *fx_new(size_t baz, size_t bel) {
  fixture *f = calloc(1, sizeof *f);
  ck_assert_ptr_nonnull(f);
  for (size_t ie = 0; ie < bel; ie++)
    for (size_t ia = 0; ia < baz; ia++) {
      f->az[ie * baz + ia] = 10.0 * ((double)ia - (double)(baz - 1) / 2.0);
      f->el[ie * baz + ia] = 5.0 * (double)ie;
    }
  f->g = (rf_dwell_geom){.time_s = 1.7e9, .dwell = 3, .range_gate_delay_s = 2e-6, .sample_rate_hz = 10e6,
                         .lambda_m = 0.03, .pri_s = 1e-3, .cells = S, .bins = K, .beams_az = baz,
                         .beams_el = bel, .beam_az_deg = f->az, .beam_el_deg = f->el,
                         .estimate_elevation = bel > 1};
  f->cube = malloc(baz * bel * K * S * sizeof *f->cube);
  ck_assert_ptr_nonnull(f->cube);
  for (size_t i = 0; i < baz * bel * K * S; i++) f->cube[i] = 1.0f;
  return f;
}

static void fx_free(fixture *f) {
  free(f->cube);
  free(f);
}

static size_t nbeams(const fixture *f) { return f->g.beams_az * f->g.beams_el; }

/* Doppler distance k - k0 wrapped into [-K/2, K/2). */
static double kdist(double k, double k0) { return rf_wrap(k - k0, K / 2.0); }

/* Gaussian lobe in range (sigma 1 cell), Doppler (sigma 1 bin) and
 * direction (sigma 8 degrees), peak amplitude a. */
static void add_gauss(fixture *f, double s0, double k0, double az0, double el0, double a) {
  for (size_t b = 0; b < nbeams(f); b++) {
    double da = f->az[b] - az0, de = f->el[b] - el0;
    double gb = exp(-(da * da + de * de) / (2.0 * 8.0 * 8.0));
    for (size_t k = 0; k < K; k++) {
      double dk = kdist((double)k, k0);
      for (size_t s = 0; s < S; s++) {
        double ds = (double)s - s0;
        f->cube[(b * K + k) * S + s] += (float)(a * gb * exp(-0.5 * (dk * dk + ds * ds)));
      }
    }
  }
}

/* Hits: cells above thr, in map order, noise 1. */
static void make_hits(fixture *f, float thr) {
  for (size_t b = 0; b < nbeams(f); b++) {
    f->nh[b] = 0;
    f->hp[b] = f->hits[b];
    for (size_t k = 0; k < K; k++)
      for (size_t s = 0; s < S; s++) {
        float p = f->cube[(b * K + k) * S + s];
        if (p > thr) {
          ck_assert_uint_lt(f->nh[b], 2048);
          f->hits[b][f->nh[b]++] = (rf_cfar_hit){(uint32_t)s, (uint32_t)k, p, 1.0f, thr};
        }
      }
  }
}

static void run(fixture *f, size_t max_out) {
  rf_extract *x = NULL;
  ck_assert_int_eq(rf_extract_create(&x, nbeams(f), K, S, MAXH), 0);
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, f->det, max_out, &f->ndet), 0);
  ck_assert_uint_le(f->ndet, max_out);
  rf_extract_destroy(x);
}

static double range_of(const fixture *f, double s) {
  return RF_C_MPS / 2.0 * (f->g.range_gate_delay_s + s / f->g.sample_rate_hz);
}
static double vel_of(const fixture *f, double k) {
  double fd = (k - K / 2) / (K * f->g.pri_s);
  return rf_wrap(-fd * f->g.lambda_m / 2.0, f->g.lambda_m / (4.0 * f->g.pri_s));
}
static double cell_m(const fixture *f) { return RF_C_MPS / 2.0 / f->g.sample_rate_hz; }
static double bin_mps(const fixture *f) { return f->g.lambda_m / (2.0 * K * f->g.pri_s); }

/* ---- refinement ------------------------------------------------------------------- */

START_TEST(test_refine_gauss) {
  const double pos[][3] = {/* cell, bin, azimuth */
                           {40.3, 20.6, 3.7}, {70.49, 45.49, -4.9}, {100.0, 33.0, 0.0},
                           {12.8, 9.2, -13.2}, {90.45, 50.45, 14.9}};
  for (int t = 0; t < 5; t++) {
    fixture *f = fx_new(5, 1);
    add_gauss(f, pos[t][0], pos[t][1], pos[t][2], 0.0, 1e8);
    make_hits(f, 1e3f);
    run(f, 64);
    ck_assert_uint_eq(f->ndet, 1);
    const rf_detection *d = &f->det[0];
    ck_assert_uint_eq(d->cell, (uint32_t)lround(pos[t][0]));
    ck_assert_uint_eq(d->bin, (uint32_t)lround(pos[t][1]));
    ck_assert_uint_eq(d->beam, (uint32_t)lround(pos[t][2] / 10.0 + 2.0));
    ck_assert_double_eq_tol(d->range_m, range_of(f, pos[t][0]), TOL_GAUSS_FRAC * cell_m(f));
    ck_assert_double_eq_tol(d->radial_velocity_mps, vel_of(f, pos[t][1]), TOL_GAUSS_FRAC * bin_mps(f));
    ck_assert_double_eq_tol(d->azimuth_deg, pos[t][2], TOL_GAUSS_FRAC * 10.0);
    ck_assert_double_eq(d->elevation_deg, 0.0); /* linear array: the beam's */
    float peak = f->cube[(d->beam * K + d->bin) * S + d->cell];
    ck_assert_double_eq_tol(d->snr_db, 10.0 * log10(peak - 1.0), TOL_SNR_DB);
    fx_free(f);
  }
}
END_TEST

/* Receding targets sit below K/2, approaching above (f_d = -2 v / lambda). */
START_TEST(test_velocity_sign) {
  fixture *f = fx_new(3, 1);
  add_gauss(f, 30.0, 20.0, 0.0, 0.0, 1e8);
  add_gauss(f, 90.0, 44.0, 0.0, 0.0, 1e8);
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 2);
  ck_assert_uint_eq(f->det[0].bin, 20);
  ck_assert(f->det[0].radial_velocity_mps > 0.0);
  ck_assert_double_eq_tol(f->det[0].radial_velocity_mps, 12.0 * bin_mps(f), 1e-9);
  ck_assert(f->det[1].radial_velocity_mps < 0.0);
  fx_free(f);
}
END_TEST

/* 3 x 3 beam grid: elevation from the column of beams when asked. */
START_TEST(test_refine_elevation) {
  for (int est = 0; est <= 1; est++) {
    fixture *f = fx_new(3, 3);
    f->g.estimate_elevation = est;
    add_gauss(f, 50.2, 30.3, 1.2, 6.1, 1e8);
    make_hits(f, 1e3f);
    run(f, 64);
    ck_assert_uint_eq(f->ndet, 1);
    ck_assert_uint_eq(f->det[0].beam, 4); /* centre beam: az 0, el 5 */
    ck_assert_double_eq_tol(f->det[0].azimuth_deg, 1.2, TOL_GAUSS_FRAC * 10.0);
    ck_assert_double_eq_tol(f->det[0].elevation_deg, est ? 6.1 : 5.0, TOL_GAUSS_FRAC * 5.0);
    fx_free(f);
  }
}
END_TEST

START_TEST(test_refine_sinc) {
  for (int i = 0; i <= 18; i++) {
    double s0 = 60.0 - 0.45 + 0.05 * i;
    fixture *f = fx_new(1, 1);
    for (size_t s = 0; s < S; s++) { /* sinc^2 main lobe, null-to-peak 2 cells */
      double x = ((double)s - s0) / 2.0;
      if (fabs(x) < 1.0) {
        double v = x == 0.0 ? 1.0 : sin(RF_PI * x) / (RF_PI * x);
        f->cube[10 * S + s] += (float)(1e8 * v * v);
      }
    }
    make_hits(f, 1e3f);
    run(f, 64);
    ck_assert_uint_eq(f->ndet, 1);
    ck_assert_double_eq_tol(f->det[0].range_m, range_of(f, s0), TOL_SINC_CELL * cell_m(f));
    fx_free(f);
  }
}
END_TEST

/* A peak between bins K-1 and 0 (k0 = -0.3): the Doppler neighbours wrap,
 * the cluster joins across the wrap, and the velocity wraps to the band's
 * lower edge. */
START_TEST(test_velocity_wrap) {
  const double vmax = 0.03 / (4.0 * 1e-3);
  const double k0s[] = {-0.3, K - 0.6, 0.45};
  for (int t = 0; t < 3; t++) {
    fixture *f = fx_new(3, 1);
    add_gauss(f, 64.0, k0s[t], 0.0, 0.0, 1e8);
    make_hits(f, 1e3f);
    ck_assert(f->nh[1] > 0 && f->hits[1][0].bin == 0 && f->hits[1][f->nh[1] - 1].bin == K - 1);
    run(f, 64);
    ck_assert_uint_eq(f->ndet, 1);
    double v = f->det[0].radial_velocity_mps;
    ck_assert(v >= -vmax && v < vmax);
    double want = vel_of(f, k0s[t]);
    ck_assert_double_eq_tol(v, want, TOL_GAUSS_FRAC * bin_mps(f));
    if (t == 0) ck_assert_double_eq_tol(v, -vmax + 0.3 * bin_mps(f), TOL_GAUSS_FRAC * bin_mps(f));
    fx_free(f);
  }
}
END_TEST

/* ---- grouping ------------------------------------------------------------------------ */

START_TEST(test_two_targets) {
  fixture *f = fx_new(5, 1);
  add_gauss(f, 30.0, 10.0, -10.0, 0.0, 1e6);
  add_gauss(f, 40.0, 10.0, -10.0, 0.0, 1e7); /* 10 cells apart: separate clusters */
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 2);
  ck_assert_uint_eq(f->det[0].cell, 30);
  ck_assert_uint_eq(f->det[1].cell, 40);
  ck_assert_uint_eq(f->det[0].beam, 1);
  fx_free(f);
}
END_TEST

/* One broad target over many beams, bins and cells gives one detection. */
START_TEST(test_one_spread_target) {
  fixture *f = fx_new(5, 1);
  for (size_t b = 0; b < 5; b++) /* diagonal ridge in (bin, cell), 3 beams wide */
    for (int i = 0; i < 6; i++) {
      float a = (b == 2 ? 1e5f : (b == 1 || b == 3 ? 1e4f : 0.0f)) * (float)(1 + i);
      f->cube[(b * K + 20 + (size_t)i) * S + 50 + (size_t)i] += a;
      f->cube[(b * K + 20 + (size_t)i) * S + 51 + (size_t)i] += a / 2;
    }
  make_hits(f, 1e3f);
  ck_assert(f->nh[1] >= 12 && f->nh[2] >= 12 && f->nh[3] >= 12 && f->nh[0] == 0);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 1);
  ck_assert_uint_eq(f->det[0].beam, 2);
  ck_assert_uint_eq(f->det[0].bin, 25);
  ck_assert_uint_eq(f->det[0].cell, 55);
  fx_free(f);
}
END_TEST

/* Same cell in beams 0 and 2 but not 1: not neighbours, two detections;
 * diagonal beams on a grid are not neighbours either. */
START_TEST(test_beam_adjacency) {
  fixture *f = fx_new(3, 1);
  f->cube[(0 * K + 5) * S + 9] = 1e4f;
  f->cube[(2 * K + 5) * S + 9] = 2e4f;
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 2);
  f->cube[(1 * K + 6) * S + 10] = 3e4f; /* bridges them through beam 1 */
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 1);
  ck_assert_uint_eq(f->det[0].beam, 1);
  fx_free(f);
  f = fx_new(3, 3);
  f->cube[(0 * K + 5) * S + 9] = 1e4f; /* (ia 0, ie 0) and (ia 1, ie 1) */
  f->cube[(4 * K + 5) * S + 9] = 2e4f;
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 2);
  f->cube[(3 * K + 5) * S + 9] = 3e3f; /* (ia 0, ie 1) joins both */
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 1);
  ck_assert_uint_eq(f->det[0].beam, 4);
  fx_free(f);
}
END_TEST

/* Peaks on the fan's edge beams report the beam's direction; at the range
 * edges no range interpolation. */
START_TEST(test_edges) {
  fixture *f = fx_new(5, 1);
  add_gauss(f, 0.3, 10.0, -23.0, 0.0, 1e8);
  add_gauss(f, S - 1.3, 40.0, 24.0, 0.0, 1e8);
  make_hits(f, 1e3f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 2);
  ck_assert_uint_eq(f->det[0].beam, 0);
  ck_assert_double_eq(f->det[0].azimuth_deg, -20.0);
  ck_assert_uint_eq(f->det[0].cell, 0);
  ck_assert_double_eq_tol(f->det[0].range_m, range_of(f, 0.0), 1e-9);
  ck_assert_uint_eq(f->det[1].beam, 4);
  ck_assert_double_eq(f->det[1].azimuth_deg, 20.0);
  ck_assert_uint_eq(f->det[1].cell, S - 1);
  ck_assert_double_eq_tol(f->det[1].range_m, range_of(f, S - 1.0), 1e-9);
  fx_free(f);
}
END_TEST

/* Output is ordered by peak, not by discovery: the cluster first met in
 * beam 0 peaks in beam 1 at bin 30, after a target in beam 1 at bin 5. */
START_TEST(test_order_deterministic) {
  fixture *f = fx_new(3, 1);
  add_gauss(f, 20.0, 30.0, 2.0, 0.0, 1e8); /* reaches beam 0, peaks in beam 1 */
  f->cube[(1 * K + 5) * S + 100] = 1e5f;
  f->cube[(2 * K + 2) * S + 7] = 1e5f;
  make_hits(f, 1e3f);
  ck_assert(f->nh[0] > 0);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 3);
  ck_assert_uint_eq(f->det[0].beam, 1);
  ck_assert_uint_eq(f->det[0].bin, 5);
  ck_assert_uint_eq(f->det[1].beam, 1);
  ck_assert_uint_eq(f->det[1].bin, 30);
  ck_assert_uint_eq(f->det[2].beam, 2);
  rf_detection first[3];
  memcpy(first, f->det, sizeof first);
  /* same object twice, then a fresh one: identical output */
  rf_extract *x = NULL;
  ck_assert_int_eq(rf_extract_create(&x, 3, K, S, MAXH), 0);
  for (int r = 0; r < 2; r++) {
    memset(f->det, 0, sizeof f->det);
    ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, f->det, 64, &f->ndet), 0);
    ck_assert_uint_eq(f->ndet, 3);
    ck_assert_mem_eq(f->det, first, sizeof first);
  }
  rf_extract_destroy(x);
  fx_free(f);
}
END_TEST

START_TEST(test_max_out) {
  fixture *f = fx_new(3, 1);
  const double amp[] = {1e5, 1e8, 1e6, 1e7, 1e4}; /* cells 10, 30, ... 90 */
  for (int t = 0; t < 5; t++) add_gauss(f, 10.0 + 20.0 * t, 16.0, 0.0, 0.0, amp[t]);
  make_hits(f, 1e2f);
  run(f, 64);
  ck_assert_uint_eq(f->ndet, 5);
  run(f, 2);
  ck_assert_uint_eq(f->ndet, 2); /* the two strongest, in order */
  ck_assert_uint_eq(f->det[0].cell, 30);
  ck_assert_uint_eq(f->det[1].cell, 70);
  rf_extract *x = NULL;
  ck_assert_int_eq(rf_extract_create(&x, 3, K, S, MAXH), 0);
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, NULL, 0, &f->ndet), 0);
  ck_assert_uint_eq(f->ndet, 0);
  rf_extract_destroy(x);
  fx_free(f);
}
END_TEST

/* ---- through CFAR ---------------------------------------------------------------------- */

START_TEST(test_with_cfar) {
  fixture *f = fx_new(5, 1);
  uint64_t st = 31337;
  for (size_t i = 0; i < 5 * K * S; i++) { /* unit exponential noise, splitmix64 */
    uint64_t z = (st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    f->cube[i] = (float)-log(((double)(z >> 11) + 1.0) * 0x1.0p-53);
  }
  add_gauss(f, 77.35, 40.7, -6.4, 0.0, 1e6);
  rf_cfar_config cfg = {.kind = RF_CFAR_CA, .pfa = 1e-6, .train_range = 16,
                        .guard_range = 6}; /* guard past the lobe */
  rf_cfar *c = NULL;
  ck_assert_int_eq(rf_cfar_create(&c, &cfg, K, S), 0);
  for (size_t b = 0; b < 5; b++) {
    ck_assert_int_eq(rf_cfar_execute(c, f->cube + b * K * S, f->hits[b], 2048, &f->nh[b]), 0);
    f->hp[b] = f->hits[b];
  }
  rf_cfar_destroy(c);
  run(f, 64);
  size_t i = 0;
  while (i < f->ndet && !(f->det[i].bin == 41 && f->det[i].cell == 77)) i++;
  ck_assert_uint_lt(i, f->ndet);
  const rf_detection *d = &f->det[i];
  ck_assert_uint_eq(d->beam, 1);
  ck_assert_double_eq_tol(d->range_m, range_of(f, 77.35), TOL_E2E_FRAC * cell_m(f));
  ck_assert_double_eq_tol(d->radial_velocity_mps, vel_of(f, 40.7), TOL_E2E_FRAC * bin_mps(f));
  ck_assert_double_eq_tol(d->azimuth_deg, -6.4, TOL_E2E_FRAC * 10.0);
  float peak = f->cube[(d->beam * K + d->bin) * S + d->cell];
  ck_assert_double_eq_tol(d->snr_db, 10.0 * log10(peak), TOL_E2E_SNR_DB);
  fx_free(f);
}
END_TEST

/* ---- arguments and memory ---------------------------------------------------------------- */

START_TEST(test_invalid_args) {
  fixture *f = fx_new(3, 1);
  add_gauss(f, 40.0, 20.0, 0.0, 0.0, 1e8);
  make_hits(f, 1e3f);
  rf_extract *x = (rf_extract *)&x;
  ck_assert_int_eq(rf_extract_create(&x, 0, K, S, 10), RF_EINVAL);
  ck_assert_ptr_null(x);
  ck_assert_int_eq(rf_extract_create(&x, 3, K, S, 0), RF_EINVAL);
  ck_assert_int_eq(rf_extract_create(NULL, 3, K, S, 10), RF_EINVAL);
  ck_assert_int_eq(rf_extract_create(&x, 3, K, S, MAXH), 0);
  size_t n;
  rf_dwell_geom g = f->g;
  g.beams_az = 4; /* 4 x 1 beams vs 3 */
  ck_assert_int_eq(rf_extract_execute(x, &g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  g = f->g, g.pri_s = 0.0;
  ck_assert_int_eq(rf_extract_execute(x, &g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  g = f->g, g.bins = K + 1;
  ck_assert_int_eq(rf_extract_execute(x, &g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  ck_assert_int_eq(rf_extract_execute(x, &f->g, NULL, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, NULL, 64, &n), RF_EINVAL);
  /* hits out of map order, outside the map, too many */
  rf_cfar_hit save = f->hits[1][1];
  f->hits[1][1] = f->hits[1][0];
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  f->hits[1][1] = save;
  f->hits[1][f->nh[1] - 1].cell = S;
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  make_hits(f, 1e3f);
  rf_extract *small = NULL;
  ck_assert_int_eq(rf_extract_create(&small, 3, K, S, f->nh[1]), 0);
  ck_assert_int_eq(rf_extract_execute(small, &f->g, f->cube, f->hp, f->nh, f->det, 64, &n), RF_EINVAL);
  rf_extract_destroy(small);
  /* failures left nothing behind: a valid call still gives the one target */
  ck_assert_int_eq(rf_extract_execute(x, &f->g, f->cube, f->hp, f->nh, f->det, 64, &n), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(f->det[0].cell, 40);
  rf_extract_destroy(x);
  rf_extract_destroy(NULL);
  fx_free(f);
}
END_TEST

START_TEST(test_create_oom) {
  for (int sticky = 0; sticky <= 1; sticky++) {
    size_t n;
    for (n = 1; n < 50; n++) {
      rf_extract *x = (rf_extract *)&x;
      rf_alloc_fail_after(n, sticky);
      int st = rf_extract_create(&x, 4, K, S, 1000);
      rf_alloc_fail_after(0, 0);
      if (st == 0) {
        rf_extract_destroy(x);
        break;
      }
      ck_assert_int_eq(st, RF_ENOMEM);
      ck_assert_ptr_null(x);
    }
    ck_assert_uint_eq(n, 5); /* four allocations, each failed once */
  }
}
END_TEST

Suite *test_extract_suite(void) {
  Suite *s = suite_create("test_extract_suite");
  TCase *tc = tcase_create("extract");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_refine_gauss);
  tcase_add_test(tc, test_velocity_sign);
  tcase_add_test(tc, test_refine_elevation);
  tcase_add_test(tc, test_refine_sinc);
  tcase_add_test(tc, test_velocity_wrap);
  tcase_add_test(tc, test_two_targets);
  tcase_add_test(tc, test_one_spread_target);
  tcase_add_test(tc, test_beam_adjacency);
  tcase_add_test(tc, test_edges);
  tcase_add_test(tc, test_order_deterministic);
  tcase_add_test(tc, test_max_out);
  tcase_add_test(tc, test_with_cfar);
  tcase_add_test(tc, test_invalid_args);
  tcase_add_test(tc, test_create_oom);
  suite_add_tcase(s, tc);
  return s;
}
