/* Tests for stage 5, CFAR (host/cfar.c): threshold factors against
 * independent integrals, measured false-alarm rates on large noise maps,
 * every kind against a slow window-enumerating reference, detection,
 * argument checks and an out-of-memory sweep. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/rf_stages.h"

/* Factors are solved by bisection to ~1e-15; the Simpson integrals below
 * are good to ~1e-9 relative, so 1e-6 leaves wide margin. */
#define TOL_ALPHA_REL 1e-6
/* Measured false-alarm rate vs design: >= 1e6 cells at Pfa 1e-3 give ~1000
 * alarms, a ~3% standard deviation (inflated a little by shared training
 * cells); 20% is over 5 sigma. */
#define TOL_PFA_REL 0.20
/* Thresholds vs the slow reference: float storage (6e-8) plus double sums
 * in a different order. */
#define TOL_THR_REL 1e-5
/* Noise estimate at a strong target: 32 training cells give ~18% spread. */
#define NOISE_LO 0.5
#define NOISE_HI 2.0

/* ---- helpers ------------------------------------------------------------------- */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s; }
static uint64_t rng_next(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform in (0, 1] */
static double rng_unif(void) { return ((double)(rng_next() >> 11) + 1.0) * 0x1.0p-53; }
/* unit-mean exponential: |complex Gaussian|^2 of unit power */
static float *exp_map(size_t n, uint64_t seed) {
  float *m = malloc(n * sizeof *m);
  ck_assert_ptr_nonnull(m);
  rng_seed(seed);
  for (size_t i = 0; i < n; i++) m[i] = (float)-log(rng_unif());
  return m;
}

static rf_cfar_config cfg_make(int kind, double pfa, int tr, int gr, int td, int gd, int rank) {
  rf_cfar_config c = {.kind = kind, .pfa = pfa, .train_range = tr, .guard_range = gr,
                      .train_doppler = td, .guard_doppler = gd, .os_rank = rank};
  return c;
}

static size_t run_cfar(const rf_cfar_config *cfg, size_t bins, size_t cells, const float *map,
                       rf_cfar_hit *hits, size_t max_hits) {
  rf_cfar *c = NULL;
  size_t nh = 0;
  ck_assert_int_eq(rf_cfar_create(&c, cfg, bins, cells), 0);
  ck_assert_int_eq(rf_cfar_execute(c, map, hits, max_hits, &nh), 0);
  rf_cfar_destroy(c);
  return nh;
}

/* Simpson's rule on [0, hi] with n (even) intervals. */
static double simpson(double (*f)(double, const double *), const double *p, double hi, int n) {
  double h = hi / n, s = f(0.0, p) + f(hi, p);
  for (int i = 1; i < n; i++) s += (i % 2 ? 4.0 : 2.0) * f(i * h, p);
  return s * h / 3.0;
}

/* Gamma(m, 1) pdf and upper tail Q(m, z) = e^-z sum_{i<m} z^i / i!. */
static double gamma_pdf(double z, int m) { return exp((m - 1) * log(z > 0 ? z : 1e-300) - z - lgamma(m)); }
static double gamma_q(double z, int m) {
  double t = 1.0, s = 1.0;
  for (int i = 1; i < m; i++) s += (t *= z / i);
  return exp(-z) * s;
}
/* p = {m, a}. GO: P(Z > a max(X, Y)) = int e^{-a z} 2 f(z) F(z) dz, X, Y ~ Gamma(m). */
static double go_integrand(double z, const double *p) {
  int m = (int)p[0];
  return exp(-p[1] * z) * 2.0 * gamma_pdf(z, m) * (1.0 - gamma_q(z, m));
}
static double so_integrand(double z, const double *p) {
  int m = (int)p[0];
  return exp(-p[1] * z) * 2.0 * gamma_pdf(z, m) * gamma_q(z, m);
}
/* p = {n, k, alpha}: density of the k-th smallest of n unit exponentials times e^{-alpha x}. */
static double os_integrand(double x, const double *p) {
  int n = (int)p[0], k = (int)p[1];
  double lc = lgamma(n + 1.0) - lgamma((double)k) - lgamma((double)(n - k + 1));
  double F = -expm1(-x);
  return exp(lc + (k - 1) * log(F > 0 ? F : 1e-300) - x * (n - k + 1) - p[2] * x);
}

/* ---- (1) threshold factors ---------------------------------------------------------- */

START_TEST(test_alpha_values) {
  const double pfas[] = {1e-3, 1e-6};
  for (int ip = 0; ip < 2; ip++) {
    double pfa = pfas[ip], alpha;
    /* CA: closed form */
    const int ns[] = {1, 8, 32, 100};
    for (int i = 0; i < 4; i++) {
      ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, pfa, ns[i], 0, &alpha), 0);
      double want = ns[i] * (pow(pfa, -1.0 / ns[i]) - 1.0);
      ck_assert_double_eq_tol(alpha, want, 1e-12 * want);
    }
    /* GO / SO: integrate over the side sums, independent of the closed form */
    const int ms[] = {2, 8, 16};
    for (int i = 0; i < 3; i++) {
      int m = ms[i];
      double hi = m + 40.0 * sqrt(m) + 60.0; /* integrands decay as e^{-(1+a) z} */
      ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_GO, pfa, 2 * m, 0, &alpha), 0);
      double p[2] = {m, alpha / m};
      ck_assert_double_eq_tol(simpson(go_integrand, p, hi / (1.0 + p[1]), 40000), pfa, TOL_ALPHA_REL * pfa);
      double a_go = alpha;
      ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_SO, pfa, 2 * m, 0, &alpha), 0);
      p[1] = alpha / m;
      ck_assert_double_eq_tol(simpson(so_integrand, p, hi / (1.0 + p[1]), 40000), pfa, TOL_ALPHA_REL * pfa);
      /* GO needs the larger factor, SO the smaller, CA in between */
      double a_ca;
      ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, pfa, 2 * m, 0, &a_ca), 0);
      ck_assert(alpha > a_ca && a_ca > a_go);
      /* Pfa_GO(a) + Pfa_SO(a) = 2 (1 + a)^-m at any a */
      double a = 0.37, q[2] = {m, a};
      ck_assert_double_eq_tol(simpson(go_integrand, q, hi, 40000) + simpson(so_integrand, q, hi, 40000),
                              2.0 * pow(1.0 + a, -m), 1e-9);
    }
    /* OS: integrate over the order statistic's density */
    const int on[][2] = {{24, 18}, {32, 0}, {16, 1}, {9, 9}};
    for (int i = 0; i < 4; i++) {
      int n = on[i][0], k = on[i][1] ? on[i][1] : (int)lround(0.75 * n);
      ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_OS, pfa, n, on[i][1], &alpha), 0);
      double p[3] = {n, k, alpha};
      double hi = (k + 10.0 * sqrt(k) + 40.0) / (n - k + 1 + alpha); /* decays as e^{-(n-k+1+alpha) x} */
      ck_assert_double_eq_tol(simpson(os_integrand, p, hi, 40000), pfa, TOL_ALPHA_REL * pfa);
    }
  }
}
END_TEST

START_TEST(test_alpha_invalid) {
  double a;
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, 1e-3, 0, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, 0.0, 8, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, 0.5, 8, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, NAN, 8, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_GO, 1e-3, 7, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_OS, 1e-3, 8, 9, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(4, 1e-3, 8, 0, &a), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_alpha(RF_CFAR_CA, 1e-3, 8, 0, NULL), RF_EINVAL);
}
END_TEST

/* ---- (2) measured false-alarm rate ------------------------------------------------- */

static void check_pfa(size_t bins, size_t cells, uint64_t seed, const rf_cfar_config *cfgs, int ncfg) {
  float *map = exp_map(bins * cells, seed);
  for (int i = 0; i < ncfg; i++) {
    size_t nh = run_cfar(&cfgs[i], bins, cells, map, NULL, 0);
    double rate = (double)nh / (double)(bins * cells);
    if (fabs(rate / cfgs[i].pfa - 1.0) >= TOL_PFA_REL)
      ck_abort_msg("kind %d (tr %d gr %d td %d gd %d) on %zu x %zu: rate %g vs design %g", cfgs[i].kind,
                   cfgs[i].train_range, cfgs[i].guard_range, cfgs[i].train_doppler,
                   cfgs[i].guard_doppler, bins, cells, rate, cfgs[i].pfa);
  }
  free(map);
}

START_TEST(test_pfa_large_map) { /* 256 x 4096 = 1.05e6 cells, edges included */
  const rf_cfar_config cfgs[] = {
      cfg_make(RF_CFAR_CA, 1e-3, 16, 2, 0, 0, 0), cfg_make(RF_CFAR_GO, 1e-3, 16, 2, 0, 0, 0),
      cfg_make(RF_CFAR_SO, 1e-3, 16, 2, 0, 0, 0), cfg_make(RF_CFAR_OS, 1e-3, 16, 2, 0, 0, 0),
      cfg_make(RF_CFAR_CA, 1e-3, 6, 2, 2, 1, 0),  cfg_make(RF_CFAR_OS, 1e-3, 6, 2, 2, 1, 0),
      cfg_make(RF_CFAR_GO, 1e-3, 6, 2, 2, 1, 0),  cfg_make(RF_CFAR_SO, 1e-3, 6, 2, 2, 1, 0)};
  check_pfa(256, 4096, 12345, cfgs, (int)(sizeof cfgs / sizeof cfgs[0]));
}
END_TEST

/* A map just as wide as the window: every cell but the middle one has a
 * clipped window, so this checks the edge factors. 32768 x 37 = 1.2e6 cells. */
START_TEST(test_pfa_edges) {
  const rf_cfar_config cfgs[] = {
      cfg_make(RF_CFAR_CA, 1e-3, 16, 2, 0, 0, 0), cfg_make(RF_CFAR_GO, 1e-3, 16, 2, 0, 0, 0),
      cfg_make(RF_CFAR_SO, 1e-3, 16, 2, 0, 0, 0), cfg_make(RF_CFAR_OS, 1e-3, 16, 2, 0, 0, 0)};
  check_pfa(32768, 37, 777, cfgs, 4);
  const rf_cfar_config cfgs2[] = {cfg_make(RF_CFAR_CA, 1e-3, 5, 1, 1, 1, 0),
                                  cfg_make(RF_CFAR_OS, 1e-3, 5, 1, 1, 1, 0)};
  check_pfa(65536, 13, 778, cfgs2, 2);
}
END_TEST

/* ---- (3) against a slow reference -------------------------------------------------- */

/* Threshold and noise at (k, j) by explicit enumeration of the window. */
static double alpha_cache[4][4096];
static double cached_alpha(int kind, double pfa, int n, int rank) {
  double *a = &alpha_cache[kind][n];
  if (*a == 0.0) ck_assert_int_eq(rf_cfar_alpha(kind, pfa, n, rank, a), 0);
  return *a;
}
static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static void slow_ref(const rf_cfar_config *cfg, size_t bins, size_t cells, const float *map, size_t k,
                     size_t j, double *thr, double *noise) {
  int W = cfg->train_range + cfg->guard_range, gr = cfg->guard_range;
  int dko = cfg->train_doppler ? cfg->train_doppler + cfg->guard_doppler : 0;
  int dkg = cfg->train_doppler ? cfg->guard_doppler : 0;
  int nfull = (2 * dko + 1) * (2 * W + 1) - (2 * dkg + 1) * (2 * gr + 1);
  float v[4096];
  double sl = 0, sr = 0;
  int n = 0, nl = 0, nr = 0;
  for (int dk = -dko; dk <= dko; dk++) {
    size_t row = (size_t)(((long)k + dk + (long)bins) % (long)bins);
    for (int dc = -W; dc <= W; dc++) {
      long col = (long)j + dc;
      if (abs(dk) <= dkg && abs(dc) <= gr) continue;
      if (col < 0 || col >= (long)cells) continue;
      float p = map[row * cells + (size_t)col];
      v[n++] = p;
      if (dc < 0) sl += p, nl++;
      if (dc > 0) sr += p, nr++;
    }
  }
  int m = W * (2 * dko + 1) - gr * (2 * dkg + 1); /* cells on a full side */
  int lead = (long)j - W >= 0, lag = j + (size_t)W < cells;
  ck_assert(!lead || nl == m);
  ck_assert(!lag || nr == m);
  switch (cfg->kind) {
  case RF_CFAR_CA: {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *noise = s / n;
    *thr = cached_alpha(RF_CFAR_CA, cfg->pfa, n, 0) * *noise;
    break;
  }
  case RF_CFAR_GO:
  case RF_CFAR_SO:
    if (lead && lag) {
      double a = sl / m, b = sr / m;
      *noise = cfg->kind == RF_CFAR_GO ? fmax(a, b) : fmin(a, b);
      *thr = cached_alpha(cfg->kind, cfg->pfa, 2 * m, 0) * *noise;
    } else {
      *noise = lead ? sl / m : sr / m;
      *thr = cached_alpha(RF_CFAR_CA, cfg->pfa, m, 0) * *noise;
    }
    break;
  default: {
    int k0 = cfg->os_rank ? cfg->os_rank : (int)lround(0.75 * nfull);
    int kr = (int)lround((double)k0 * n / nfull);
    kr = kr < 1 ? 1 : (kr > n ? n : kr);
    qsort(v, (size_t)n, sizeof v[0], cmp_float);
    double e = 0;
    for (int i = n - kr + 1; i <= n; i++) e += 1.0 / i;
    *noise = v[kr - 1] / e;
    *thr = cached_alpha(RF_CFAR_OS, cfg->pfa, n, kr) * v[kr - 1];
  }
  }
}

START_TEST(test_against_reference) {
  const size_t bins = 24, cells = 160;
  float *map = exp_map(bins * cells, 99);
  rng_seed(4242); /* a few strong cells so that the windows hold interferers */
  for (int i = 0; i < 60; i++) map[rng_next() % (bins * cells)] = (float)(20.0 + 200.0 * rng_unif());
  const int shapes[][5] = {/* tr gr td gd os_rank */
                           {4, 1, 0, 0, 0}, {3, 0, 0, 0, 0}, {3, 1, 2, 1, 0},
                           {2, 2, 1, 0, 0}, {5, 2, 0, 0, 3}, {3, 1, 2, 1, 7}};
  rf_cfar_hit *hits = malloc(bins * cells * sizeof *hits);
  ck_assert_ptr_nonnull(hits);
  size_t checked = 0;
  for (int kind = RF_CFAR_CA; kind <= RF_CFAR_OS; kind++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      if (shapes[s][4] && kind != RF_CFAR_OS) continue;
      rf_cfar_config cfg = cfg_make(kind, 2e-2, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3],
                                    shapes[s][4]);
      memset(alpha_cache, 0, sizeof alpha_cache);
      size_t nh = run_cfar(&cfg, bins, cells, map, hits, bins * cells), h = 0;
      ck_assert(nh > 0);
      for (size_t k = 0; k < bins; k++) {
        for (size_t j = 0; j < cells; j++) {
          double thr, noise;
          slow_ref(&cfg, bins, cells, map, k, j, &thr, &noise);
          double p = map[k * cells + j];
          int is_hit = h < nh && hits[h].bin == k && hits[h].cell == j;
          if (is_hit) {
            if (fabs(hits[h].threshold - thr) > TOL_THR_REL * thr ||
                fabs(hits[h].noise - noise) > TOL_THR_REL * noise)
              ck_abort_msg("kind %d shape %zu at (%zu, %zu): threshold %g noise %g, reference %g %g", kind,
                           s, k, j, (double)hits[h].threshold, (double)hits[h].noise, thr, noise);
            ck_assert(hits[h].power == map[k * cells + j]);
            h++;
            checked++;
          }
          /* a cell within the tolerance of its threshold may go either way */
          if (fabs(p - thr) > TOL_THR_REL * thr && is_hit != (p > thr))
            ck_abort_msg("kind %d shape %zu at (%zu, %zu): hit %d, reference threshold %g power %g", kind, s,
                         k, j, is_hit, thr, p);
        }
      }
      ck_assert_uint_eq(h, nh); /* every hit was met, so they were in map order */
    }
  }
  ck_assert(checked > 1000);
  free(hits);
  free(map);
}
END_TEST

/* ---- (4) detection ------------------------------------------------------------------- */

/* Range-correlated noise, as pulse compression with a tapered replica makes
 * it: white complex Gaussian filtered by a Hamming FIR, then squared. With
 * the correlation passed in, the measured Pfa stays within 20% of design
 * (CA); without it, it is far above design (the test's control). */
START_TEST(test_pfa_correlated_noise) {
  enum { K = 128, S = 4096, T = 6 };
  static float map[K * S];
  double h[T], rho[T];
  for (int i = 0; i < T; i++) h[i] = 0.54 - 0.46 * cos(2 * RF_PI * (i + 0.5) / T);
  double r0 = 0;
  for (int i = 0; i < T; i++) r0 += h[i] * h[i];
  for (int k = 0; k < T; k++) {
    double r = 0;
    for (int i = 0; i + k < T; i++) r += h[i] * h[i + k];
    rho[k] = (r / r0) * (r / r0);
  }
  rng_seed(1234);
  for (int b = 0; b < K; b++) {
    double xr[S + T], xi[S + T];
    for (int i = 0; i < S + T; i++) {
      double u = rng_unif(), v = rng_unif();
      xr[i] = sqrt(-log(u)) * cos(2 * RF_PI * v);
      xi[i] = sqrt(-log(u)) * sin(2 * RF_PI * v);
    }
    for (int s = 0; s < S; s++) {
      double yr = 0, yi = 0;
      for (int i = 0; i < T; i++) yr += h[i] * xr[s + i], yi += h[i] * xi[s + i];
      map[b * S + s] = (float)((yr * yr + yi * yi) / r0);
    }
  }
  const double pfa = 1e-3;
  const size_t max_hits = K * S;
  rf_cfar_hit *hits = malloc(max_hits * sizeof *hits);
  rf_cfar_config cfg = {.kind = RF_CFAR_CA, .pfa = pfa, .train_range = 16, .guard_range = 3,
                        .range_corr = rho, .range_corr_len = T};
  double rate = (double)run_cfar(&cfg, K, S, map, hits, max_hits) / (double)(K * S);
  ck_assert_msg(fabs(rate / pfa - 1.0) < 0.2, "correlated noise: Pfa %.3g vs design %.3g", rate, pfa);
  cfg.range_corr = NULL;
  cfg.range_corr_len = 0;
  double naive = (double)run_cfar(&cfg, K, S, map, hits, max_hits) / (double)(K * S);
  ck_assert_msg(naive > 1.3 * pfa, "control: ignoring correlation gave Pfa %.3g", naive);
  free(hits);
}
END_TEST

START_TEST(test_detects_target) {
  const size_t bins = 64, cells = 1024;
  const size_t tk[] = {20, 0, 63}, tc[] = {500, 0, 1023}; /* interior and both range edges */
  float *map = exp_map(bins * cells, 2024);
  for (int t = 0; t < 3; t++) map[tk[t] * cells + tc[t]] = 1000.0f; /* 30 dB over unit noise */
  rf_cfar_hit hits[256];
  for (int kind = RF_CFAR_CA; kind <= RF_CFAR_OS; kind++) {
    for (int td = 0; td <= 2; td += 2) {
      rf_cfar_config cfg = cfg_make(kind, 1e-6, 16, 2, td, td ? 1 : 0, 0);
      size_t nh = run_cfar(&cfg, bins, cells, map, hits, 256);
      ck_assert_uint_le(nh, 256);
      for (int t = 0; t < 3; t++) {
        size_t i = 0;
        while (i < nh && !(hits[i].bin == tk[t] && hits[i].cell == tc[t])) i++;
        if (i == nh) ck_abort_msg("kind %d td %d: target at (%zu, %zu) missed", kind, td, tk[t], tc[t]);
        ck_assert_float_eq(hits[i].power, 1000.0f);
        ck_assert(hits[i].noise > NOISE_LO && hits[i].noise < NOISE_HI);
        ck_assert(hits[i].threshold > hits[i].noise && hits[i].threshold < hits[i].power);
      }
    }
  }
  free(map);
}
END_TEST

/* Zeroed cells (a Doppler notch) never detect; too small a hit buffer keeps
 * the first hits in map order and still counts all. */
START_TEST(test_zeros_and_truncation) {
  const size_t bins = 16, cells = 256;
  float *map = exp_map(bins * cells, 5);
  for (size_t j = 0; j < cells; j++) map[8 * cells + j] = 0.0f;
  memset(map, 0, 2 * cells * sizeof *map); /* two whole rows of zeros */
  rf_cfar_hit all[4096], few[3];
  for (int kind = RF_CFAR_CA; kind <= RF_CFAR_OS; kind++) {
    rf_cfar_config cfg = cfg_make(kind, 0.05, 4, 1, 1, 0, 0);
    size_t n_all = run_cfar(&cfg, bins, cells, map, all, 4096);
    for (size_t i = 0; i < n_all; i++) ck_assert(all[i].power > 0.0f);
    for (size_t i = 1; i < n_all; i++)
      ck_assert(all[i].bin > all[i - 1].bin || (all[i].bin == all[i - 1].bin && all[i].cell > all[i - 1].cell));
    ck_assert_uint_gt(n_all, 3);
    size_t n_few = run_cfar(&cfg, bins, cells, map, few, 3);
    ck_assert_uint_eq(n_few, n_all);
    ck_assert_mem_eq(few, all, sizeof few);
  }
  free(map);
}
END_TEST

/* ---- (5) invalid arguments ---------------------------------------------------------- */

START_TEST(test_invalid_args) {
  rf_cfar *c = (rf_cfar *)&c; /* must be reset to NULL on failure */
  rf_cfar_config ok = cfg_make(RF_CFAR_CA, 1e-4, 8, 2, 0, 0, 0), bad;
  bad = ok, bad.train_range = 0;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  ck_assert_ptr_null(c);
  bad = ok, bad.pfa = 0.0;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  bad = ok, bad.pfa = 0.5;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  bad = ok, bad.pfa = NAN;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  bad = ok, bad.guard_range = -1;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  bad = ok, bad.kind = 9;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  /* range window 2 * 10 + 1 = 21 cells */
  ck_assert_int_eq(rf_cfar_create(&c, &ok, 16, 20), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_create(&c, &ok, 16, 21), 0);
  rf_cfar_destroy(c);
  /* Doppler window 2 * 3 + 1 = 7 bins */
  bad = ok, bad.train_doppler = 2, bad.guard_doppler = 1;
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 6, 100), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 7, 100), 0);
  rf_cfar_destroy(c);
  bad = ok, bad.kind = RF_CFAR_OS, bad.os_rank = 17; /* 16 cells */
  ck_assert_int_eq(rf_cfar_create(&c, &bad, 16, 100), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_create(NULL, &ok, 16, 100), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_create(&c, NULL, 16, 100), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_create(&c, &ok, 0, 100), RF_EINVAL);
  /* execute */
  float map[16 * 100] = {0};
  size_t nh;
  rf_cfar_hit h[4];
  ck_assert_int_eq(rf_cfar_create(&c, &ok, 16, 100), 0);
  ck_assert_int_eq(rf_cfar_execute(c, NULL, h, 4, &nh), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_execute(c, map, NULL, 4, &nh), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_execute(c, map, h, 4, NULL), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_execute(NULL, map, h, 4, &nh), RF_EINVAL);
  ck_assert_int_eq(rf_cfar_os_ref(c, map, h, 4, &nh), RF_EINVAL); /* made for CA */
  ck_assert_int_eq(rf_cfar_execute(c, map, NULL, 0, &nh), 0);
  ck_assert_uint_eq(nh, 0);
  rf_cfar_destroy(c);
  rf_cfar_destroy(NULL);
}
END_TEST

/* ---- (6) out of memory -------------------------------------------------------------- */

START_TEST(test_create_oom) {
  const rf_cfar_config cfgs[] = {cfg_make(RF_CFAR_OS, 1e-4, 8, 2, 2, 1, 0),
                                 cfg_make(RF_CFAR_CA, 1e-4, 8, 2, 0, 0, 0),
                                 cfg_make(RF_CFAR_GO, 1e-4, 8, 2, 1, 0, 0)};
  for (int i = 0; i < 3; i++) {
    for (int sticky = 0; sticky <= 1; sticky++) {
      size_t n;
      for (n = 1; n < 100; n++) {
        rf_cfar *c = (rf_cfar *)&c;
        rf_alloc_fail_after(n, sticky);
        int st = rf_cfar_create(&c, &cfgs[i], 32, 200);
        rf_alloc_fail_after(0, 0);
        if (st == 0) {
          ck_assert_ptr_nonnull(c);
          rf_cfar_destroy(c);
          break;
        }
        ck_assert_int_eq(st, RF_ENOMEM);
        ck_assert_ptr_null(c);
      }
      ck_assert_uint_gt(n, 5); /* create makes at least 5 allocations */
      ck_assert_uint_lt(n, 100);
    }
  }
}
END_TEST

Suite *test_cfar_suite(void) {
  Suite *s = suite_create("test_cfar_suite");
  TCase *tc = tcase_create("cfar");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_alpha_values);
  tcase_add_test(tc, test_alpha_invalid);
  tcase_add_test(tc, test_pfa_large_map);
  tcase_add_test(tc, test_pfa_edges);
  tcase_add_test(tc, test_against_reference);
  tcase_add_test(tc, test_pfa_correlated_noise);
  tcase_add_test(tc, test_detects_target);
  tcase_add_test(tc, test_zeros_and_truncation);
  tcase_add_test(tc, test_invalid_args);
  tcase_add_test(tc, test_create_oom);
  suite_add_tcase(s, tc);
  return s;
}
