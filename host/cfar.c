/* radarflow stage 5: CFAR detection on one Doppler x range power map.
 * Square-law (exponential) noise. CA, GO, SO and OS detectors with a 1D
 * (range) or 2D (range x Doppler) training window; Doppler wraps, range does
 * not. Threshold factors and their sources: docs/cfar.md. */
#include "rf_stages.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rf_cfar {
  rf_cfar_config cfg;
  size_t bins, cells;
  size_t w;              /* guard_range + train_range: range half-extent */
  size_t gr;             /* guard_range */
  size_t dko, dkg;       /* Doppler half-extent of the window / of the guard rows */
  size_t rows, grows;    /* 2 dko + 1, 2 dkg + 1 */
  size_t nmax;           /* training cells of a full (interior) window */
  size_t nhalf;          /* GO/SO: cells on one range side of a full window */
  double alpha_both;     /* GO/SO factor with both sides full */
  double alpha_side;     /* GO/SO: CA factor on one full side */
  double *alpha;         /* [nmax + 1] CA/OS factor by available cell count */
  double looks;          /* independent looks per training cell, (0, 1] */
  double *os_norm;       /* [nmax + 1] OS: E[k-th smallest of n unit exponentials] */
  size_t *os_k;          /* [nmax + 1] OS rank used with n cells */
  double *acc, *gacc;    /* [cells] sums over window rows / guard rows */
  double *pa, *pg;       /* [cells + 1] prefix sums of acc / gacc */
  float *scratch;        /* OS: [nmax] training cells of one CUT */
};

/* ---- threshold factors ------------------------------------------------------ */

/* Pfa of GO/SO with m cells per side and a = alpha / m (Gandhi & Kassam 1988;
 * Richards, Fundamentals of Radar Signal Processing, CFAR):
 *   Pfa_SO = 2 sum_{j=0}^{m-1} C(m-1+j, j) (2+a)^-(m+j)
 *   Pfa_GO = 2 (1+a)^-m - Pfa_SO                                           */
static double rf__pfa_so(int m, double a) {
  double s = 0.0, l2a = log(2.0 + a), lgm = lgamma((double)m);
  for (int j = 0; j < m; j++)
    s += exp(lgamma((double)(m + j)) - lgamma((double)j + 1.0) - lgm - (double)(m + j) * l2a);
  return 2.0 * s;
}

static double rf__pfa(int kind, int n, int k, double alpha) {
  switch (kind) {
  case RF_CFAR_GO: {
    int m = n / 2;
    double a = alpha / m;
    return 2.0 * exp(-(double)m * log1p(a)) - rf__pfa_so(m, a);
  }
  case RF_CFAR_SO: return rf__pfa_so(n / 2, alpha / (n / 2));
  default: { /* OS: prod_{i<k} (n-i) / (n-i+alpha)  (Rohling 1983) */
    double l = 0.0;
    for (int i = 0; i < k; i++) l += log((double)(n - i)) - log((double)(n - i) + alpha);
    return exp(l);
  }
  }
}

/* Pfa falls monotonically from 1 at alpha = 0: bracket, then bisect. */
static double rf__alpha_solve(int kind, int n, int k, double pfa) {
  double lo = 0.0, hi = 1.0;
  while (rf__pfa(kind, n, k, hi) > pfa && hi < 1e300) {
    lo = hi;
    hi *= 2.0;
  }
  for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    double mid = 0.5 * (lo + hi);
    if (rf__pfa(kind, n, k, mid) > pfa) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

static double rf__alpha_ca(int n, double pfa) {
  /* Pfa = (1 + alpha/n)^-n  =>  alpha = n (Pfa^(-1/n) - 1) */
  return (double)n * expm1(-log(pfa) / (double)n);
}

/* CA factor for a real-valued effective count n_e: the mean of correlated
 * cells is taken as Gamma(n_e, 1/n_e), so Pfa = (1 + alpha/n_e)^-n_e. */
static double rf__alpha_ca_eff(double ne, double pfa) {
  return ne * (pow(pfa, -1.0 / ne) - 1.0);
}

static int rf__default_rank(int n) {
  int k = (int)lround(0.75 * (double)n);
  return k < 1 ? 1 : (k > n ? n : k);
}

int rf_cfar_alpha(int kind, double pfa, int n, int os_rank, double *alpha) {
  if (!alpha) return rf__err(RF_EINVAL, "cfar: alpha: NULL output");
  if (kind < RF_CFAR_CA || kind > RF_CFAR_OS)
    return rf__err(RF_EINVAL, "cfar: unknown kind %d", kind);
  if (!(pfa > 0.0 && pfa < 0.5))
    return rf__err(RF_EINVAL, "cfar: pfa must be in (0, 0.5) (got %g)", pfa);
  if (n < 1) return rf__err(RF_EINVAL, "cfar: training cells must be >= 1 (got %d)", n);
  if ((kind == RF_CFAR_GO || kind == RF_CFAR_SO) && n % 2)
    return rf__err(RF_EINVAL, "cfar: GO/SO need an even number of training cells (got %d)", n);
  if (kind == RF_CFAR_OS && (os_rank < 0 || os_rank > n))
    return rf__err(RF_EINVAL, "cfar: os_rank must be in [0, %d] (got %d)", n, os_rank);
  if (kind == RF_CFAR_CA) *alpha = rf__alpha_ca(n, pfa);
  else *alpha = rf__alpha_solve(kind, n, os_rank ? os_rank : rf__default_rank(n), pfa);
  return 0;
}

/* ---- create / destroy ------------------------------------------------------- */

/* Independent looks per cell of a full range window: for n cells at offsets
 * o_i, n_eff = n^2 / sum_ij rho(|o_i - o_j|) (the shape of the Gamma law
 * that matches the mean and variance of their sum; Doppler rows are taken
 * as independent). Returns n_eff / n, 1 for white noise. */
static double rf__looks(const rf_cfar_config *cfg) {
  if (!cfg->range_corr || cfg->range_corr_len < 2) return 1.0;
  long w = cfg->train_range + cfg->guard_range, g = cfg->guard_range;
  double num = 0.0, den = 0.0;
  for (long i = -w; i <= w; i++) {
    if (labs(i) <= g) continue;
    num += 1.0;
    for (long j = -w; j <= w; j++) {
      if (labs(j) <= g) continue;
      size_t lag = (size_t)labs(i - j);
      if (lag < cfg->range_corr_len) den += cfg->range_corr[lag];
    }
  }
  double q = num / den;
  return q > 1.0 ? 1.0 : q;
}

/* Effective (integer, >= 1) count of n correlated cells: rounded down, so
 * the factor errs towards fewer false alarms. */
static int rf__eff(const rf_cfar *c, size_t n) {
  long e = (long)floor(c->looks * (double)n + 1e-9);
  return e < 1 ? 1 : (int)e;
}

/* Training cells available to a CUT at range cell col (clipped at the edges). */
static size_t rf__count(const rf_cfar *c, size_t col) {
  size_t lo = col >= c->w ? col - c->w : 0, hi = col + c->w < c->cells ? col + c->w : c->cells - 1;
  size_t glo = col >= c->gr ? col - c->gr : 0, ghi = col + c->gr < c->cells ? col + c->gr : c->cells - 1;
  return c->rows * (hi - lo + 1) - c->grows * (ghi - glo + 1);
}

/* Checks the settings against the map and fills the window geometry of c
 * (w, gr, dko, dkg, rows, grows, nmax, nhalf) and its OS rank. */
static int rf__cfar_window(const rf_cfar_config *cfg, size_t bins, size_t cells, rf_cfar *c) {
  if (cfg->kind < RF_CFAR_CA || cfg->kind > RF_CFAR_OS) return rf__err(RF_EINVAL, "cfar: unknown kind %d", cfg->kind);
  if (!(cfg->pfa > 0.0 && cfg->pfa < 0.5))
    return rf__err(RF_EINVAL, "cfar: pfa must be in (0, 0.5) (got %g)", cfg->pfa);
  if (cfg->train_range < 1)
    return rf__err(RF_EINVAL, "cfar: train_range must be >= 1 (got %d)", cfg->train_range);
  if (cfg->guard_range < 0 || cfg->train_doppler < 0 || cfg->guard_doppler < 0)
    return rf__err(RF_EINVAL, "cfar: guard_range, train_doppler, guard_doppler must be >= 0");
  if (bins < 1 || cells < 1) return rf__err(RF_EINVAL, "cfar: empty map (%zu x %zu)", bins, cells);
  if (cfg->train_range > (1 << 24) || cfg->guard_range > (1 << 24) ||
      cfg->train_doppler > (1 << 24) || cfg->guard_doppler > (1 << 24))
    return rf__err(RF_EINVAL, "cfar: window sizes must be <= 2^24");
  size_t w = (size_t)cfg->train_range + (size_t)cfg->guard_range;
  if (cells < 2 * w + 1)
    return rf__err(RF_EINVAL, "cfar: range window (2 x %zu + 1 cells) wider than the map (%zu cells)",
                   w, cells);
  size_t dko = 0, dkg = 0;
  if (cfg->train_doppler > 0) {
    dko = (size_t)cfg->train_doppler + (size_t)cfg->guard_doppler;
    dkg = (size_t)cfg->guard_doppler;
    if (bins < 2 * dko + 1)
      return rf__err(RF_EINVAL, "cfar: Doppler window (2 x %zu + 1 bins) wider than the map (%zu bins)",
                     dko, bins);
  }
  size_t rows = 2 * dko + 1, grows = 2 * dkg + 1, gr = (size_t)cfg->guard_range;
  size_t nmax = rows * (2 * w + 1) - grows * (2 * gr + 1);
  if (nmax > (size_t)1 << 30) return rf__err(RF_EINVAL, "cfar: training window too large (%zu cells)", nmax);
  int os_rank = 0;
  if (cfg->kind == RF_CFAR_OS) {
    if (cfg->os_rank < 0 || (size_t)cfg->os_rank > nmax)
      return rf__err(RF_EINVAL, "cfar: os_rank must be in [0, %zu] (got %d)", nmax, cfg->os_rank);
    os_rank = cfg->os_rank ? cfg->os_rank : rf__default_rank((int)nmax);
  }
  c->cfg = *cfg;
  c->cfg.os_rank = os_rank;
  c->cfg.range_corr = NULL; /* not kept */
  c->cfg.range_corr_len = 0;
  c->bins = bins;
  c->cells = cells;
  c->w = w;
  c->gr = gr;
  c->dko = dko;
  c->dkg = dkg;
  c->rows = rows;
  c->grows = grows;
  c->nmax = nmax;
  c->nhalf = rows * w - grows * gr;
  c->looks = rf__looks(cfg);
  return 0;
}

/* The threshold factor table for the cell counts that occur (near the range
 * edges the window is clipped); GO/SO need only the full-side factors. */
static void rf__cfar_factors(rf_cfar *c) {
  const rf_cfar_config *cfg = &c->cfg;
  for (size_t n = 0; n <= c->nmax; n++) c->alpha[n] = NAN;
  if (cfg->kind == RF_CFAR_GO || cfg->kind == RF_CFAR_SO) {
    c->alpha_side = rf__alpha_ca_eff(c->looks * (double)c->nhalf, cfg->pfa);
    c->alpha_both = rf__alpha_solve(cfg->kind, 2 * rf__eff(c, c->nhalf), 0, cfg->pfa);
    return;
  }
  for (size_t col = 0; col < c->cells; col++) {
    size_t n = rf__count(c, col);
    if (!isnan(c->alpha[n])) continue;
    if (cfg->kind == RF_CFAR_CA) {
      c->alpha[n] = rf__alpha_ca_eff(c->looks * (double)n, cfg->pfa);
      continue;
    }
    /* OS: rank scaled with the cell count */
    long k = lround((double)cfg->os_rank * (double)n / (double)c->nmax);
    if (k < 1) k = 1;
    if (k > (long)n) k = (long)n;
    double e = 0.0;
    for (size_t i = n - (size_t)k + 1; i <= n; i++) e += 1.0 / (double)i;
    c->os_k[n] = (size_t)k;
    c->os_norm[n] = e;
    int ne = rf__eff(c, n);
    long ke = lround((double)k * (double)ne / (double)n);
    c->alpha[n] = rf__alpha_solve(RF_CFAR_OS, ne, (int)(ke < 1 ? 1 : ke > ne ? ne : ke), cfg->pfa);
  }
}

int rf_cfar_create(rf_cfar **out, const rf_cfar_config *cfg, size_t bins, size_t cells) {
  if (!out || !cfg) return rf__err(RF_EINVAL, "cfar: NULL argument");
  *out = NULL;
  rf_cfar probe;
  memset(&probe, 0, sizeof probe);
  int st = rf__cfar_window(cfg, bins, cells, &probe);
  if (st) return st;
  rf_cfar *c = rf__calloc(1, sizeof *c);
  if (!c) goto fail;
  *c = probe;
  const size_t nmax = c->nmax;
  if (!(c->alpha = rf__malloc((nmax + 1) * sizeof *c->alpha))) goto fail;
  if (!(c->acc = rf__malloc(cells * sizeof *c->acc))) goto fail;
  if (!(c->gacc = rf__malloc(cells * sizeof *c->gacc))) goto fail;
  if (!(c->pa = rf__malloc((cells + 1) * sizeof *c->pa))) goto fail;
  if (!(c->pg = rf__malloc((cells + 1) * sizeof *c->pg))) goto fail;
  if (cfg->kind == RF_CFAR_OS) {
    if (!(c->os_norm = rf__malloc((nmax + 1) * sizeof *c->os_norm))) goto fail;
    if (!(c->os_k = rf__malloc((nmax + 1) * sizeof *c->os_k))) goto fail;
    if (!(c->scratch = rf__malloc(nmax * sizeof *c->scratch))) goto fail;
  }
  rf__cfar_factors(c);
  *out = c;
  return 0;
fail:
  rf_cfar_destroy(c);
  return rf__err(RF_ENOMEM, "cfar: out of memory (%zu x %zu map)", bins, cells);
}

void rf_cfar_destroy(rf_cfar *c) {
  if (!c) return;
  rf__free(c->scratch);
  rf__free(c->os_k);
  rf__free(c->os_norm);
  rf__free(c->pg);
  rf__free(c->pa);
  rf__free(c->gacc);
  rf__free(c->acc);
  rf__free(c->alpha);
  rf__free(c);
}

/* ---- execute ------------------------------------------------------------------ */

static void rf__emit(rf_cfar_hit *hits, size_t max_hits, size_t *nh, size_t k, size_t col,
                     float p, double noise, double thr) {
  if (*nh < max_hits) {
    rf_cfar_hit *h = &hits[*nh];
    h->cell = (uint32_t)col;
    h->bin = (uint32_t)k;
    h->power = p;
    h->noise = (float)noise;
    h->threshold = (float)thr;
  }
  (*nh)++;
}

static size_t rf__row(const rf_cfar *c, size_t k, long dk) {
  long r = ((long)k + dk) % (long)c->bins;
  return (size_t)(r < 0 ? r + (long)c->bins : r);
}

/* CA, GO, SO: per Doppler bin, column sums over the window rows (acc) and
 * the guard rows (gacc), then prefix sums along range: O(rows) per cell. */
static int rf__cfar_mean(rf_cfar *c, int kind, const float *power, rf_cfar_hit *hits,
                         size_t max_hits, size_t *nhits) {
  const size_t S = c->cells, W = c->w, gr = c->gr;
  size_t nh = 0;
  double *pa = c->pa, *pg = c->rows == 1 ? c->pa : c->pg;
  for (size_t k = 0; k < c->bins; k++) {
    const float *cut = power + k * S;
    if (c->rows == 1) {
      pa[0] = 0.0;
      for (size_t j = 0; j < S; j++) pa[j + 1] = pa[j] + (double)cut[j];
    } else {
      memset(c->acc, 0, S * sizeof *c->acc);
      memset(c->gacc, 0, S * sizeof *c->gacc);
      for (long dk = -(long)c->dko; dk <= (long)c->dko; dk++) {
        const float *row = power + rf__row(c, k, dk) * S;
        double *dst = (size_t)labs(dk) <= c->dkg ? c->gacc : c->acc;
        for (size_t j = 0; j < S; j++) dst[j] += (double)row[j];
      }
      pa[0] = pg[0] = 0.0;
      for (size_t j = 0; j < S; j++) {
        pg[j + 1] = pg[j] + c->gacc[j];
        pa[j + 1] = pa[j] + c->acc[j] + c->gacc[j];
      }
    }
    for (size_t j = 0; j < S; j++) {
      double noise, alpha;
      int lead = j >= W, lag = j + W < S;
      if (kind == RF_CFAR_CA) {
        size_t lo = lead ? j - W : 0, hi = lag ? j + W : S - 1;
        size_t glo = j >= gr ? j - gr : 0, ghi = j + gr < S ? j + gr : S - 1;
        size_t n = c->rows * (hi - lo + 1) - c->grows * (ghi - glo + 1);
        noise = ((pa[hi + 1] - pa[lo]) - (pg[ghi + 1] - pg[glo])) / (double)n;
        alpha = c->alpha[n];
      } else {
        double ml = 0.0, mr = 0.0;
        if (lead) ml = ((pa[j] - pa[j - W]) - (pg[j] - pg[j - gr])) / (double)c->nhalf;
        if (lag) mr = ((pa[j + W + 1] - pa[j + 1]) - (pg[j + gr + 1] - pg[j + 1])) / (double)c->nhalf;
        if (lead && lag) {
          noise = kind == RF_CFAR_GO ? fmax(ml, mr) : fmin(ml, mr);
          alpha = c->alpha_both;
        } else { /* one side only (the window fits, so one is always full) */
          noise = lead ? ml : mr;
          alpha = c->alpha_side;
        }
      }
      double thr = alpha * noise;
      if ((double)cut[j] > thr) rf__emit(hits, max_hits, &nh, k, j, cut[j], noise, thr);
    }
  }
  *nhits = nh;
  return 0;
}

/* k-th smallest (0-based) of a[0..n-1], reordering a (Hoare's selection,
 * Wirth's FIND with a median-of-three pivot). */
static float rf__select(float *a, size_t n, size_t kk) {
  long lo = 0, hi = (long)n - 1, k = (long)kk;
  while (lo < hi) {
    long mid = lo + (hi - lo) / 2;
    float x = a[lo], y = a[mid], z = a[hi];
    float piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < piv) i++;
      while (a[j] > piv) j--;
      if (i <= j) {
        float t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break; /* a[j+1 .. i-1] all equal the pivot */
  }
  return a[k];
}

static int rf__check_exec(const rf_cfar *c, int kind, const float *power, const rf_cfar_hit *hits,
                          size_t max_hits, const size_t *nhits) {
  if (!c || !power || !nhits || (max_hits && !hits))
    return rf__err(RF_EINVAL, "cfar: execute: NULL argument");
  if (c->cfg.kind != kind)
    return rf__err(RF_EINVAL, "cfar: object made for kind %d, run as kind %d", c->cfg.kind, kind);
  return 0;
}

int rf_cfar_ca_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  int st = rf__check_exec(c, RF_CFAR_CA, power, hits, max_hits, nhits);
  return st ? st : rf__cfar_mean(c, RF_CFAR_CA, power, hits, max_hits, nhits);
}

int rf_cfar_go_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  int st = rf__check_exec(c, RF_CFAR_GO, power, hits, max_hits, nhits);
  return st ? st : rf__cfar_mean(c, RF_CFAR_GO, power, hits, max_hits, nhits);
}

int rf_cfar_so_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  int st = rf__check_exec(c, RF_CFAR_SO, power, hits, max_hits, nhits);
  return st ? st : rf__cfar_mean(c, RF_CFAR_SO, power, hits, max_hits, nhits);
}

/* OS: gather the CUT's training cells into scratch, select the rank. */
int rf_cfar_os_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  int st = rf__check_exec(c, RF_CFAR_OS, power, hits, max_hits, nhits);
  if (st) return st;
  const size_t S = c->cells, W = c->w, gr = c->gr;
  size_t nh = 0;
  for (size_t k = 0; k < c->bins; k++) {
    for (size_t j = 0; j < S; j++) {
      size_t lo = j >= W ? j - W : 0, hi = j + W < S ? j + W : S - 1, n = 0;
      for (long dk = -(long)c->dko; dk <= (long)c->dko; dk++) {
        const float *row = power + rf__row(c, k, dk) * S;
        if ((size_t)labs(dk) <= c->dkg) { /* guard rows: skip |dc| <= gr */
          for (size_t i = lo; i + gr < j; i++) c->scratch[n++] = row[i];
          for (size_t i = j + gr + 1; i <= hi; i++) c->scratch[n++] = row[i];
        } else {
          for (size_t i = lo; i <= hi; i++) c->scratch[n++] = row[i];
        }
      }
      double x = (double)rf__select(c->scratch, n, c->os_k[n] - 1);
      double thr = c->alpha[n] * x;
      float p = power[k * S + j];
      if ((double)p > thr) rf__emit(hits, max_hits, &nh, k, j, p, x / c->os_norm[n], thr);
    }
  }
  *nhits = nh;
  return 0;
}

int rf_cfar_execute(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits,
                    size_t *nhits) {
  if (!c) return rf__err(RF_EINVAL, "cfar: execute: NULL object");
  switch (c->cfg.kind) {
  case RF_CFAR_CA: return rf_cfar_ca_ref(c, power, hits, max_hits, nhits);
  case RF_CFAR_GO: return rf_cfar_go_ref(c, power, hits, max_hits, nhits);
  case RF_CFAR_SO: return rf_cfar_so_ref(c, power, hits, max_hits, nhits);
  default: return rf_cfar_os_ref(c, power, hits, max_hits, nhits);
  }
}

void rf_cfar_get_tables(const rf_cfar *c, rf_cfar_tables *t) {
  t->kind = c->cfg.kind;
  t->bins = c->bins;
  t->cells = c->cells;
  t->w = c->w;
  t->gr = c->gr;
  t->dko = c->dko;
  t->dkg = c->dkg;
  t->rows = c->rows;
  t->grows = c->grows;
  t->nmax = c->nmax;
  t->nhalf = c->nhalf;
  t->alpha = c->alpha;
  t->alpha_both = c->alpha_both;
  t->alpha_side = c->alpha_side;
  t->os_norm = c->os_norm;
  t->os_k = c->os_k;
}
