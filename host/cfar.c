/* radarflow stage 5: CFAR detection on one Doppler x range power map.
 * Square-law noise, complex Gaussian before detection but correlated:
 * across range by the pulse-compression filter, across Doppler bins by the
 * slow-time window (and the clutter filter). The threshold factor of each
 * training-window shape comes from that correlation: exact for CA (the
 * eigenvalues of the training cells' covariance), calibrated by importance
 * sampling for GO, SO and OS. Blanked Doppler bins (the notch) and range
 * cells past `valid_cells` (the echo only partly inside the receive window)
 * are a detection mask: never a cell under test, never a training cell.
 * Formulas and sources: docs/cfar.md, docs/detection.md. */
#include "rf_rng.h"
#include "rf_stages.h"

#include <math.h>
#include <fftw3.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (Hermitian eigenvalues, Cholesky) and BLAS, both from OpenBLAS. */
extern void zheev_(const char *jobz, const char *uplo, const int *n, double complex *a, const int *lda, double *w,
                   double complex *work, const int *lwork, double *rwork, int *info);
extern void cgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float complex *alpha,
                   const float complex *a, const int *lda, const float complex *b, const int *ldb,
                   const float complex *beta, float complex *c, const int *ldc);

#define RF__NCLASS 3          /* column classes: both sides, lead only, lag only */
#define RF__MC_BLOCK 1024     /* calibration samples per random stream */
#define RF__MC_PILOT 2048     /* first calibration pass */
#define RF__MC_FINAL 8192     /* second pass, tilted at the first pass's factor ... */
#define RF__MC_MAX 65536      /* ... doubled up to this until its error is below: */
#define RF__MC_RSE 0.03       /* relative standard error of the calibrated Pfa */
#define RF__CUT_CORR 1e-3     /* |corr|^2 with the CUT below this: independent */

/* One training-window shape: which rows, which columns, and its factor. */
typedef struct rf__shape {
  int cls;               /* RF_CFAR_BOTH / _LEAD / _LAG */
  uint64_t rowmask;      /* window rows used (bit dk + dko) */
  double *dsub;          /* [rows x rows] Doppler covariance of the rows / CUT variance */
  size_t n, nside;       /* training cells; GO/SO: cells per side */
  size_t os_k;           /* OS rank (1-based) */
  double alpha, os_norm; /* factor; OS: mean of the k-th smallest of n unit exponentials */
  double rse;            /* calibration: relative standard error of the Pfa estimate (0: exact) */
} rf__shape;

struct rf_cfar {
  rf_cfar_config cfg;
  size_t bins, cells, sv;  /* map, cells that may be used */
  size_t w, gr, dko, dkg, rows;
  double complex *acf;     /* [acf_len] range amplitude correlation (copied) */
  size_t acf_len;
  double complex *dband;   /* [bins][2 band + 1] Doppler covariance D(k, k + d), mean diagonal 1 */
  size_t band;             /* 2 dko: the largest row offset within a window */
  double *var;             /* [bins] its diagonal */
  float *inv_var;          /* [bins] 1 / var (noise level histogram) */
  int *blank;              /* [bins] 1: blanked */
  rf__shape *shapes;
  size_t nshapes, cap_shapes;
  int *shape_of;           /* [bins][RF__NCLASS]: shape index or -1 */
  size_t tested;           /* cells under test per map */
  double *dscratch;        /* [rows x rows x 2] a shape's Doppler covariance being keyed */
  double *acc, *gacc;      /* [cells] sums over window rows / guard rows */
  double *pa, *pt;         /* [cells + 1] prefix sums of acc / acc + gacc */
  float *scratch;          /* OS: [threads][nmax] training cells of one CUT */
  float *xbuf;             /* OS: [bins][cells] the k-th smallest of each CUT */
  int threads;
  size_t nmax;
  int cut_correlated;      /* some shape's training cells correlate with its CUT */
};

/* ---- closed forms for independent cells ------------------------------------------ */

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
  case RF_CFAR_CA: return exp(-(double)n * log1p(alpha / n));
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

/* Root of a falling function f(alpha) = pfa on (0, inf): bracket by
 * doubling, then the Illinois (modified regula falsi) method on
 * log f - log pfa, to a relative tolerance of 1e-12 (f is smooth and
 * log-convex-ish, so this takes some ten evaluations - f may be an
 * eigenvalue problem or a Monte Carlo average). */
typedef double (*rf__pfa_fn)(double alpha, void *ctx);
static double rf__solve(rf__pfa_fn f, void *ctx, double pfa, double guess) {
  const double lp = log(pfa);
  double lo = 0.0, hi = guess > 0 ? guess : 1.0, flo = -lp, fhi = log(f(hi, ctx)) - lp; /* f(0) = 1 */
  while (fhi > 0 && hi < 1e300) {
    lo = hi;
    flo = fhi;
    hi *= 2.0;
    fhi = log(f(hi, ctx)) - lp;
  }
  while (lo == 0.0 && hi > 1e-300) { /* shrink from above while still past the root */
    double h2 = 0.5 * hi, f2 = log(f(h2, ctx)) - lp;
    if (f2 > 0) {
      lo = h2;
      flo = f2;
      break;
    }
    hi = h2;
    fhi = f2;
  }
  if (!isfinite(fhi)) fhi = -1e300;
  int side = 0;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
    double x = (flo * hi - fhi * lo) / (flo - fhi);
    if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
    double fx = log(f(x, ctx)) - lp;
    if (!isfinite(fx)) fx = -1e300;
    if (fx > 0) {
      lo = x;
      flo = fx;
      if (side == -1) fhi *= 0.5;
      side = -1;
    } else {
      hi = x;
      fhi = fx;
      if (side == 1) flo *= 0.5;
      side = 1;
    }
    if (fx == 0) return x;
  }
  return 0.5 * (lo + hi);
}

typedef struct rf__closed {
  int kind, n, k;
} rf__closed;
static double rf__closed_fn(double a, void *ctx) {
  const rf__closed *c = ctx;
  return rf__pfa(c->kind, c->n, c->k, a);
}

static int rf__default_rank(int n) {
  int k = (int)lround(0.75 * (double)n);
  return k < 1 ? 1 : (k > n ? n : k);
}

int rf_cfar_alpha(int kind, double pfa, int n, int os_rank, double *alpha) {
  if (!alpha) return rf__err(RF_EINVAL, "cfar: alpha: NULL output");
  if (kind < RF_CFAR_CA || kind > RF_CFAR_OS) return rf__err(RF_EINVAL, "cfar: unknown kind %d", kind);
  if (!(pfa > 0.0 && pfa < 0.5)) return rf__err(RF_EINVAL, "cfar: pfa must be in (0, 0.5) (got %g)", pfa);
  if (n < 1) return rf__err(RF_EINVAL, "cfar: training cells must be >= 1 (got %d)", n);
  if ((kind == RF_CFAR_GO || kind == RF_CFAR_SO) && n % 2)
    return rf__err(RF_EINVAL, "cfar: GO/SO need an even number of training cells (got %d)", n);
  if (kind == RF_CFAR_OS && (os_rank < 0 || os_rank > n))
    return rf__err(RF_EINVAL, "cfar: os_rank must be in [0, %d] (got %d)", n, os_rank);
  if (kind == RF_CFAR_CA) {
    *alpha = (double)n * expm1(-log(pfa) / (double)n); /* Pfa = (1 + alpha/n)^-n */
    return 0;
  }
  rf__closed c = {kind, n, os_rank ? os_rank : rf__default_rank(n)};
  *alpha = rf__solve(rf__closed_fn, &c, pfa, 1.0);
  return 0;
}

/* E[k-th smallest of n unit exponentials] = sum_{i=n-k+1}^{n} 1/i. */
static double rf__os_norm(size_t n, size_t k) {
  double e = 0.0;
  for (size_t i = n - k + 1; i <= n; i++) e += 1.0 / (double)i;
  return e;
}

/* ---- the noise model --------------------------------------------------------------- */

static double complex rf__rho(const rf_cfar *c, long d) {
  size_t a = (size_t)labs(d);
  if (a >= c->acf_len) return 0.0;
  return d >= 0 ? c->acf[a] : conj(c->acf[a]);
}

/* Doppler covariance of the bins, from the slow-time window w[pout] (as the
 * Doppler stage applies it), the clutter filter and K: y = F W M x with M
 * the canceller (notch: I - 11'/P, the slow-time mean removed; mti2/3:
 * differences), fftshifted. Kept as a band, D(k, k + d) for |d| <= band,
 * normalised to a mean diagonal of 1. NULL window: white (identity).
 * D(k1, k2) = sum_{i,j} w_i w_j c(i, j) e^{-j th f1 i} e^{+j th f2 j},
 * th = 2 pi / K, with c the canceller's covariance: banded (|i - j| <= 2)
 * plus, for the notch, the rank-one -1/P. */
static int rf__doppler_cov(const rf_cfar_config *cf, size_t K, size_t band, double complex *db) {
  const size_t nb = 2 * band + 1;
  memset(db, 0, K * nb * sizeof *db);
  if (!cf->doppler_window || cf->doppler_pulses_out < 1) {
    for (size_t k = 0; k < K; k++) db[k * nb + band] = 1.0;
    return 0;
  }
  const size_t po = cf->doppler_pulses_out, P = cf->doppler_pulses;
  const float *w = cf->doppler_window;
  const int cl = cf->doppler_clutter;
  double g[3] = {1, 0, 0};
  int ng = 1;
  if (cl == RF_CLUTTER_MTI2) g[0] = -1, g[1] = 1, ng = 2;
  if (cl == RF_CLUTTER_MTI3) g[0] = 1, g[1] = -2, g[2] = 1, ng = 3;
  /* diagonals m = 0, +-1, +-2 of c: cm[m] = sum_a g[a] g[a + m] */
  double cm[5] = {0};
  for (int m = -2; m <= 2; m++)
    for (int a = 0; a < ng; a++)
      if (a + m >= 0 && a + m < ng) cm[m + 2] += g[a] * g[a + m];
  /* A[m][d]: sum_i w_i w_{i+m} c_m e^{-j th d i}, d in [-band, band] */
  double complex *A = rf__calloc(5 * nb, sizeof *A), *wh = NULL;
  if (!A) return RF_ENOMEM;
  const double th = 2.0 * RF_PI / (double)K;
  for (int m = -2; m <= 2; m++) {
    if (cm[m + 2] == 0.0) continue;
    for (size_t di = 0; di < nb; di++) {
      long d = (long)di - (long)band;
      double complex s = 0;
      for (size_t i = 0; i < po; i++) {
        long j = (long)i + m;
        if (j < 0 || j >= (long)po) continue;
        s += (double)w[i] * (double)w[j] * cexp(-I * th * (double)((d * (long)i) % (long)K));
      }
      A[(size_t)(m + 2) * nb + di] = cm[m + 2] * s;
    }
  }
  if (cl == RF_CLUTTER_NOTCH) { /* W(f) = sum_i w_i e^{-j th f i} at every bin */
    if (!(wh = rf__malloc(K * sizeof *wh))) {
      rf__free(A);
      return RF_ENOMEM;
    }
    fftwf_complex *x = fftwf_malloc(K * sizeof *x);
    fftwf_plan pl = x ? fftwf_plan_dft_1d((int)K, x, x, FFTW_FORWARD, FFTW_ESTIMATE) : NULL;
    if (!pl) {
      if (x) fftwf_free(x);
      rf__free(A);
      rf__free(wh);
      return RF_ENOMEM;
    }
    for (size_t f = 0; f < K; f++) x[f] = f < po ? w[f] : 0.0f;
    fftwf_execute(pl);
    for (size_t f = 0; f < K; f++) wh[f] = (double complex)x[f];
    fftwf_destroy_plan(pl);
    fftwf_free(x);
  }
  double tr = 0;
  for (size_t k = 0; k < K; k++) {
    size_t f1 = (k + K / 2) % K;
    for (size_t di = 0; di < nb; di++) {
      long d = (long)di - (long)band;
      size_t k2 = (size_t)(((long)k + d) % (long)K + (long)K) % K, f2 = (k2 + K / 2) % K;
      /* f1 - f2 = -d mod K: the diagonals' transforms at -d */
      double complex s = 0;
      for (int m = -2; m <= 2; m++) {
        if (cm[m + 2] == 0.0) continue;
        s += A[(size_t)(m + 2) * nb + (size_t)(-d + (long)band)] * cexp(I * th * (double)((f2 * (size_t)(m + 2)) % K)) *
             cexp(-I * th * (double)((f2 * 2) % K));
      }
      if (wh) s -= wh[f1] * conj(wh[f2]) / (double)P;
      db[k * nb + di] = s;
    }
    tr += creal(db[k * nb + band]);
  }
  tr /= (double)K;
  for (size_t i = 0; i < K * nb; i++) db[i] /= tr > 0 ? tr : 1.0;
  rf__free(A);
  rf__free(wh);
  return 0;
}

/* D(k1, k2) from the band (|k2 - k1| <= band, modulo K). */
static double complex rf__dcov(const rf_cfar *c, size_t k1, size_t k2) {
  const long K = (long)c->bins, B = (long)c->band;
  long d = ((long)k2 - (long)k1) % K;
  if (d > K / 2) d -= K;
  if (d < -K / 2) d += K;
  if (labs(d) > B) return 0.0;
  return c->dband[k1 * (2 * (size_t)B + 1) + (size_t)(d + B)];
}

/* ---- window shapes ------------------------------------------------------------------- */

/* Offsets of a shape's training cells: (dk, dc) pairs into off[2 n]; lead
 * side first for GO/SO (so cells [0, nside) are the lead side). */
static size_t rf__offsets(const rf_cfar *c, int kind, int cls, uint64_t rowmask, long *off) {
  const long W = (long)c->w, gr = (long)c->gr, dko = (long)c->dko, dkg = (long)c->dkg;
  size_t n = 0;
  for (int side = 0; side < 2; side++) { /* lead strip, lag strip */
    if ((side == 0 && cls == RF_CFAR_LAG) || (side == 1 && cls == RF_CFAR_LEAD)) continue;
    for (long dk = -dko; dk <= dko; dk++) {
      if (!(rowmask >> (dk + dko) & 1)) continue;
      for (long d = gr + 1; d <= W; d++) {
        off[2 * n] = dk;
        off[2 * n + 1] = side ? d : -d;
        n++;
      }
    }
  }
  /* CA and OS with both sides also train on the centre strip of the rows
   * outside the guard rows (2D windows). */
  if (cls == RF_CFAR_BOTH && kind != RF_CFAR_GO && kind != RF_CFAR_SO)
    for (long dk = -dko; dk <= dko; dk++) {
      if (labs(dk) <= dkg || !(rowmask >> (dk + dko) & 1)) continue;
      for (long d = -gr; d <= gr; d++) {
        off[2 * n] = dk;
        off[2 * n + 1] = d;
        n++;
      }
    }
  return n;
}

/* Training covariance of a shape at CUT bin k, normalised by the CUT's
 * variance: C[i][j] = D(k_i, k_j) rho(dc_i - dc_j) / D(k, k); cut[i] its
 * covariance with the CUT. */
static void rf__cov(const rf_cfar *c, size_t k, const long *off, size_t n, double complex *C, double complex *cut) {
  const size_t K = c->bins;
  double v0 = c->var[k];
  for (size_t i = 0; i < n; i++) {
    size_t ki = (size_t)(((long)k + off[2 * i] + (long)K) % (long)K);
    for (size_t j = 0; j < n; j++) {
      size_t kj = (size_t)(((long)k + off[2 * j] + (long)K) % (long)K);
      C[i * n + j] = rf__dcov(c, ki, kj) * rf__rho(c, off[2 * i + 1] - off[2 * j + 1]) / v0;
    }
    if (cut) cut[i] = rf__dcov(c, ki, k) * rf__rho(c, off[2 * i + 1]) / v0;
  }
}

/* Eigenvalues (ascending) and, with vec, eigenvectors (columns) of a
 * Hermitian n x n matrix a (overwritten). 0, RF_ENOMEM or RF_EINVAL (LAPACK
 * failed). */
static int rf__eig(double complex *a, int n, double *w, int vec) {
  int lwork = -1, info = 0;
  double complex q;
  double *rwork = rf__malloc((size_t)(3 * n + 1) * sizeof *rwork);
  if (!rwork) return RF_ENOMEM;
  zheev_(vec ? "V" : "N", "L", &n, a, &n, w, &q, &lwork, rwork, &info);
  lwork = info == 0 ? (int)creal(q) : 2 * n;
  if (lwork < 2 * n) lwork = 2 * n;
  double complex *work = rf__malloc((size_t)lwork * sizeof *work);
  if (!work) {
    rf__free(rwork);
    return RF_ENOMEM;
  }
  zheev_(vec ? "V" : "N", "L", &n, a, &n, w, work, &lwork, rwork, &info);
  rf__free(work);
  rf__free(rwork);
  return info == 0 ? 0 : RF_EINVAL;
}

/* CA with the CUT independent: Pfa = prod_i (1 + alpha lambda_i / n)^-1. */
typedef struct rf__ca_eig {
  const double *lam;
  size_t n;
} rf__ca_eig;
static double rf__ca_eig_fn(double a, void *ctx) {
  const rf__ca_eig *e = ctx;
  double l = 0;
  for (size_t i = 0; i < e->n; i++) l -= log1p(a * fmax(e->lam[i], 0.0) / (double)e->n);
  return exp(l);
}

/* CA with the CUT correlated with its training cells: x = (CUT, training)
 * ~ CN(0, S), S = L L^H (any square root: L = V diag(sqrt lambda), which
 * also serves a singular S, e.g. bins next to a notch); q = |x0|^2 -
 * alpha/n sum |x_i|^2 = z^H L^H Q L z has one positive eigenvalue mu+ and
 * Pfa = P(q > 0) = prod_{j != +} (1 + |mu_j| / mu+)^-1. */
typedef struct rf__ca_gen {
  const double complex *L; /* [n+1]^2, column-major: L[r][i] at i * m + r */
  double complex *M;
  double *mu;
  size_t n;
  int fail;
} rf__ca_gen;
static double rf__ca_gen_fn(double a, void *ctx) {
  rf__ca_gen *g = ctx;
  const size_t m = g->n + 1;
  /* M = L^H Q L, Q = diag(1, -a/n, ...): M[i][j] = sum_r conj(L[r][i]) q_r L[r][j] */
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j <= i; j++) {
      double complex s = 0;
      for (size_t r = 0; r < m; r++) {
        double q = r == 0 ? 1.0 : -a / (double)g->n;
        s += conj(g->L[i * m + r]) * q * g->L[j * m + r];
      }
      g->M[j * m + i] = s; /* column-major: (i, j) at j*m + i */
      g->M[i * m + j] = conj(s);
    }
  int est = rf__eig(g->M, (int)m, g->mu, 0);
  if (est) {
    g->fail = est;
    return 0.0;
  }
  double mp = g->mu[m - 1], l = 0;
  if (!(mp > 0)) return 0.0;
  for (size_t j = 0; j + 1 < m; j++)
    if (g->mu[j] < 0) l -= log1p(-g->mu[j] / mp);
  return exp(l);
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

/* GO/SO/OS calibration by importance sampling. With the CUT exponential
 * and independent of its training cells x ~ CN(0, C), Pfa(alpha) =
 * E[exp(-alpha X)], X the detector's noise statistic. The training vectors
 * are drawn from a mixture of exponential tilts q_j of p: q_j = p
 * exp(-t_j X_j) / M_j, X_j the mean of the cells of set j (all cells, the
 * lead side or the lag side), M_j = E_p[exp(-t_j X_j)] = prod_i (1 + t_j
 * g_ji / n_j)^-1 (g_ji the eigenvalues of C on set j) - each a Gaussian,
 * drawn through a factor F_j (x = F_j z). Then
 *   Pfa(alpha) = E_q[w exp(-alpha X)],  1 / w = mean_j exp(-t_j X_j) / M_j.
 * The tilt of all cells makes CA's statistic exact (zero variance) and suits
 * GO and OS; SO's false alarms come from one side running low, so it mixes
 * the two one-sided tilts with it. */
#define RF__MC_MAXCOMP 3
typedef struct rf__mc_comp {
  int set;                 /* 0 all cells, 1 lead side, 2 lag side */
  double t, logm;          /* tilt; log M */
  float complex *F;        /* [n x n] column-major factor */
} rf__mc_comp;
typedef struct rf__mc {
  size_t ns;
  double *lw, *x;          /* [ns] log weight, statistic */
} rf__mc;
static double rf__mc_fn(double a, void *ctx) {
  const rf__mc *m = ctx;
  double s = 0;
  for (size_t i = 0; i < m->ns; i++) s += exp(m->lw[i] - a * m->x[i]);
  return s / (double)m->ns;
}

static double rf__stat(int kind, const float *u, size_t n, size_t nside, size_t k, float *tmp) {
  if (kind == RF_CFAR_OS) {
    memcpy(tmp, u, n * sizeof *tmp);
    return (double)rf__select(tmp, n, k - 1);
  }
  double l = 0, r = 0;
  for (size_t i = 0; i < nside; i++) l += u[i];
  for (size_t i = nside; i < n; i++) r += u[i];
  l /= (double)nside;
  r /= (double)(n - nside);
  return kind == RF_CFAR_GO ? fmax(l, r) : fmin(l, r);
}

/* Draws samples [s_begin, ns) into m: blocks of RF__MC_BLOCK draws, block
 * b from component b mod ncomp, x = F z by one single-precision matrix
 * product (BLAS cgemm; float is ample for a Monte Carlo average). buf: per
 * thread 2 n RF__MC_BLOCK complex values; ubuf per thread 2 n floats. */
static void rf__mc_draw(int kind, const rf__mc_comp *cp, int ncomp, size_t n, size_t nside, size_t k,
                        size_t s_begin, size_t ns, uint64_t seed, rf__mc *m, float complex *buf, float *ubuf) {
  m->ns = ns;
  const long b0 = (long)(s_begin / RF__MC_BLOCK), blocks = (long)((ns + RF__MC_BLOCK - 1) / RF__MC_BLOCK);
  const double logj = log((double)ncomp);
#pragma omp parallel for schedule(dynamic, 1)
  for (long bl = b0; bl < blocks; bl++) {
    int th = omp_get_thread_num();
    float complex *z = buf + (size_t)th * 2 * n * RF__MC_BLOCK, *x = z + n * RF__MC_BLOCK;
    float *u = ubuf + (size_t)th * 2 * n, *tmp = u + n;
    rf_rng r; /* fixed seeds: deterministic calibration */
    rf_rng_seed(&r, seed ^ ((uint64_t)(bl + 1) * 0xD1B54A32D192ED03ull));
    size_t s0 = (size_t)bl * RF__MC_BLOCK, s1 = s0 + RF__MC_BLOCK < ns ? s0 + RF__MC_BLOCK : ns;
    int nn = (int)n, nb = (int)(s1 - s0);
    for (size_t i = 0; i < (size_t)nb * n; i++) z[i] = (float complex)rf_rng_cgauss(&r, 1.0);
    const float complex one = 1.0f, zero = 0.0f;
    cgemm_("N", "N", &nn, &nb, &nn, &one, cp[bl % ncomp].F, &nn, z, &nn, &zero, x, &nn);
    for (int s = 0; s < nb; s++) {
      double sum[3] = {0, 0, 0};
      const float *xs = (const float *)(x + (size_t)s * n);
      for (size_t i = 0; i < n; i++) {
        u[i] = xs[2 * i] * xs[2 * i] + xs[2 * i + 1] * xs[2 * i + 1];
        sum[0] += u[i];
        sum[i < nside ? 1 : 2] += u[i];
      }
      double mean[3] = {sum[0] / (double)n, sum[1] / (double)nside, n > nside ? sum[2] / (double)(n - nside) : 0};
      /* log w = -log(mean_j exp(-t_j X_j - log M_j)) */
      double e[RF__MC_MAXCOMP], mx = -1e300, acc = 0;
      for (int j = 0; j < ncomp; j++) {
        e[j] = -cp[j].t * mean[cp[j].set] - cp[j].logm;
        mx = fmax(mx, e[j]);
      }
      for (int j = 0; j < ncomp; j++) acc += exp(e[j] - mx);
      m->lw[s0 + (size_t)s] = -(mx + log(acc)) + logj;
      m->x[s0 + (size_t)s] = rf__stat(kind, u, n, nside, k, tmp);
    }
  }
}

/* Relative standard error of the estimate at alpha. */
static double rf__mc_rse(const rf__mc *m, double a) {
  double s = 0, s2 = 0;
  for (size_t i = 0; i < m->ns; i++) {
    double v = exp(m->lw[i] - a * m->x[i]);
    s += v;
    s2 += v * v;
  }
  double mean = s / (double)m->ns, var = s2 / (double)m->ns - mean * mean;
  return mean > 0 ? sqrt(fmax(var, 0.0) / (double)m->ns) / mean : 1.0;
}

/* Component j's factor and log M for tilt t on cell set `set` of the
 * training covariance C = V diag(lam) V^H (V column-major): with G = P
 * V diag(sqrt lam) (P selecting the set's cells), B = G^H G = U diag(g) U^H,
 * the tilted covariance is V diag(sqrt lam) U diag(1 / (1 + t g / n_j))
 * U^H diag(sqrt lam) V^H. */
static int rf__mc_comp_make(const double complex *V, const double *lam, size_t n, size_t nside, rf__mc_comp *cp) {
  const size_t lo = cp->set == 2 ? nside : 0, hi = cp->set == 1 ? nside : n, nj = hi - lo;
  double complex *B = rf__calloc(n * n, sizeof *B), *W = rf__malloc(n * n * sizeof *W);
  double *g = rf__malloc(n * sizeof *g);
  int st = RF_ENOMEM;
  if (!B || !W || !g) goto done;
  /* W = V diag(sqrt lam) (column-major) */
  for (size_t j = 0; j < n; j++) {
    double sl = sqrt(fmax(lam[j], 0.0));
    for (size_t i = 0; i < n; i++) W[j * n + i] = V[j * n + i] * sl;
  }
  /* B[a][b] = sum_{i in set} conj(W[i][a]) W[i][b] */
  for (size_t bb = 0; bb < n; bb++)
    for (size_t aa = 0; aa < n; aa++) {
      double complex v = 0;
      for (size_t i = lo; i < hi; i++) v += conj(W[aa * n + i]) * W[bb * n + i];
      B[bb * n + aa] = v;
    }
  if ((st = rf__eig(B, (int)n, g, 1))) goto done;
  cp->logm = 0;
  for (size_t i = 0; i < n; i++) cp->logm -= log1p(cp->t * fmax(g[i], 0.0) / (double)nj);
  /* F = W U diag(1 / sqrt(1 + t g / nj)) */
  for (size_t j = 0; j < n; j++) {
    double d = 1.0 / sqrt(1.0 + cp->t * fmax(g[j], 0.0) / (double)nj);
    for (size_t i = 0; i < n; i++) {
      double complex v = 0;
      for (size_t r = 0; r < n; r++) v += W[r * n + i] * B[j * n + r];
      cp->F[j * n + i] = (float complex)(v * d);
    }
  }
  st = 0;
done:
  rf__free(B);
  rf__free(W);
  rf__free(g);
  return st;
}

/* The factor of one shape at CUT bin k. 0, RF_ENOMEM or RF_EINVAL. */
static int rf__shape_factor(rf_cfar *c, rf__shape *sh, size_t k, size_t shape_index) {
  const int kind = c->cfg.kind;
  const size_t n = sh->n;
  long *off = rf__malloc(2 * n * sizeof *off);
  double complex *C = rf__malloc(n * n * sizeof *C), *cut = rf__malloc(n * sizeof *cut);
  double *lam = rf__malloc(n * sizeof *lam);
  double complex *S = NULL, *M = NULL;
  double *mu = NULL, *mc_mem = NULL;
  float *ubuf = NULL;
  int st = RF_ENOMEM;
  if (!off || !C || !cut || !lam) goto done;
  rf__offsets(c, kind, sh->cls, sh->rowmask, off);
  rf__cov(c, k, off, n, C, cut);
  /* Independent unit cells: the closed forms. */
  int white = 1, corr_cut = 0;
  for (size_t i = 0; i < n && white; i++)
    for (size_t j = 0; j < n; j++) {
      double complex want = i == j ? 1.0 : 0.0;
      if (cabs(C[i * n + j] - want) > 1e-12) {
        white = 0;
        break;
      }
    }
  for (size_t i = 0; i < n; i++)
    if (creal(cut[i] * conj(cut[i])) > RF__CUT_CORR * creal(C[i * n + i])) corr_cut = 1;
  int eff_kind = kind;
  if ((kind == RF_CFAR_GO || kind == RF_CFAR_SO) && sh->cls != RF_CFAR_BOTH) eff_kind = RF_CFAR_CA;
  sh->os_norm = kind == RF_CFAR_OS ? rf__os_norm(n, sh->os_k) : 1.0;
  sh->rse = 0;
  if (white && !corr_cut) {
    rf__closed cl = {eff_kind, (int)n, (int)sh->os_k};
    sh->alpha = eff_kind == RF_CFAR_CA ? (double)n * expm1(-log(c->cfg.pfa) / (double)n)
                                       : rf__solve(rf__closed_fn, &cl, c->cfg.pfa, 1.0);
    st = 0;
    goto done;
  }
  if (eff_kind == RF_CFAR_CA && corr_cut) {
    /* The full covariance with the CUT first, its Cholesky factor. */
    const size_t m = n + 1;
    S = rf__malloc(m * m * sizeof *S);
    M = rf__malloc(m * m * sizeof *M);
    mu = rf__malloc(m * sizeof *mu);
    if (!S || !M || !mu) goto done;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < m; j++) {
        double complex v = i == 0 && j == 0 ? 1.0
                           : i == 0          ? conj(cut[j - 1])
                           : j == 0          ? cut[i - 1]
                                             : C[(i - 1) * n + (j - 1)];
        S[j * m + i] = v; /* column-major */
      }
    /* L = V diag(sqrt lambda) */
    if ((st = rf__eig(S, (int)m, mu, 1))) goto eigst;
    for (size_t j = 0; j < m; j++) {
      double sl = sqrt(fmax(mu[j], 0.0));
      for (size_t r = 0; r < m; r++) S[j * m + r] *= sl;
    }
    rf__ca_gen g = {S, M, mu, n, 0};
    rf__ca_eig ge;
    /* start from the independent solution */
    memcpy(M, C, n * n * sizeof *C);
    if ((st = rf__eig(M, (int)n, lam, 0))) goto eigst;
    ge = (rf__ca_eig){lam, n};
    double a0 = rf__solve(rf__ca_eig_fn, &ge, c->cfg.pfa, 1.0);
    sh->alpha = rf__solve(rf__ca_gen_fn, &g, c->cfg.pfa, a0);
    if ((st = g.fail)) goto eigst;
    c->cut_correlated = 1;
    st = 0;
    goto done;
  }
  /* Eigen decomposition of the training covariance. */
  if ((st = rf__eig(C, (int)n, lam, eff_kind != RF_CFAR_CA))) goto eigst;
  rf__ca_eig ce = {lam, n};
  double a_ca = rf__solve(rf__ca_eig_fn, &ce, c->cfg.pfa, 1.0);
  if (eff_kind == RF_CFAR_CA) {
    sh->alpha = a_ca;
    st = 0;
    goto done;
  }
  if (corr_cut) c->cut_correlated = 1; /* conservative: see docs/cfar.md */
  /* Importance sampling (above): a pilot at tilts from the CA factor, then
   * a final pass tilted at the pilot's answer, extended until the
   * estimate's relative standard error is below RF__MC_RSE (or RF__MC_MAX
   * draws). A tilt matches the statistic's scale: its mean on independent
   * cells. */
  const int nth = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
  float complex *buf = rf__malloc((size_t)nth * 2 * n * RF__MC_BLOCK * sizeof *buf);
  float complex *fmem = rf__malloc(RF__MC_MAXCOMP * n * n * sizeof *fmem);
  ubuf = rf__malloc((size_t)nth * 2 * n * sizeof *ubuf);
  mc_mem = rf__malloc(2 * RF__MC_MAX * sizeof *mc_mem);
  if (!buf || !fmem || !ubuf || !mc_mem) {
    rf__free(buf);
    rf__free(fmem);
    goto done;
  }
  double mean_x = 1.0;
  if (kind == RF_CFAR_OS) mean_x = sh->os_norm;
  else { /* GO / SO: 1 +- E|L - R| / 2, normal approximation for two means */
    double e = sqrt(2.0 / (double)sh->nside) * sqrt(2.0 / RF_PI);
    mean_x = kind == RF_CFAR_GO ? 1.0 + 0.5 * e : 1.0 - 0.5 * e;
  }
  rf__mc_comp cp[RF__MC_MAXCOMP];
  int ncomp = kind == RF_CFAR_SO ? 3 : 1;
  for (int j = 0; j < ncomp; j++) cp[j] = (rf__mc_comp){j, 0, 0, fmem + (size_t)j * n * n};
  rf__mc mc = {0, mc_mem, mc_mem + RF__MC_MAX};
  uint64_t seed = 0x52464346ull ^ ((uint64_t)shape_index << 20) ^ (uint64_t)n;
  double a = a_ca / mean_x;
  size_t have = 0;
  int mcst = 0;
  for (int pass = 0; pass < 2 && !mcst; pass++) {
    for (int j = 0; j < ncomp && !mcst; j++) {
      cp[j].t = cp[j].set ? a : a * mean_x;
      mcst = rf__mc_comp_make(C, lam, n, sh->nside, &cp[j]);
    }
    if (mcst) break;
    if (pass == 0) {
      rf__mc_draw(kind, cp, ncomp, n, sh->nside, sh->os_k, 0, RF__MC_PILOT, seed, &mc, buf, ubuf);
      a = rf__solve(rf__mc_fn, &mc, c->cfg.pfa, a);
      continue;
    }
    for (size_t want = RF__MC_FINAL; want <= RF__MC_MAX; want *= 2) {
      rf__mc_draw(kind, cp, ncomp, n, sh->nside, sh->os_k, have, want, seed + 1, &mc, buf, ubuf);
      have = want;
      a = rf__solve(rf__mc_fn, &mc, c->cfg.pfa, a);
      sh->rse = rf__mc_rse(&mc, a);
      if (sh->rse < RF__MC_RSE) break;
    }
  }
  rf__free(buf);
  rf__free(fmem);
  if (mcst == RF_ENOMEM) goto done;
  if (mcst) goto eigfail;
  sh->alpha = a;
  st = 0;
  goto done;
eigst:
  if (st == RF_ENOMEM) goto done;
eigfail:
  st = rf__err(RF_EINVAL, "cfar: eigenvalues of a training window's noise covariance failed (LAPACK)");
done:
  rf__free(off);
  rf__free(C);
  rf__free(cut);
  rf__free(lam);
  rf__free(S);
  rf__free(M);
  rf__free(mu);
  rf__free(ubuf);
  rf__free(mc_mem);
  return st;
}

/* ---- settings, defaults ------------------------------------------------------------- */

/* Correlation extent: the largest lag whose intensity correlation is at
 * least `lim`. */
static size_t rf__extent(const double complex *acf, size_t len, double lim) {
  size_t e = 0;
  for (size_t k = 1; k < len; k++)
    if (creal(acf[k] * conj(acf[k])) >= lim) e = k;
  return e;
}

/* Effective number of independent cells of n cells with covariance C
 * (unit diagonal): n^2 / sum_ij |C_ij|^2. */
static double rf__neff(const double complex *C, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n * n; i++) s += creal(C[i] * conj(C[i]));
  return s > 0 ? (double)n * (double)n / s : 0.0;
}

static int rf__is_blank(const rf_cfar_config *cfg, size_t bins, size_t k) {
  long off = (long)k - (long)(bins / 2);
  return labs(off) < cfg->blank_bins;
}

/* ---- create ------------------------------------------------------------------------- */

static int rf__check(const rf_cfar_config *cfg, size_t bins, size_t cells) {
  if (cfg->kind < RF_CFAR_CA || cfg->kind > RF_CFAR_OS) return rf__err(RF_EINVAL, "cfar: unknown kind %d", cfg->kind);
  if (!(cfg->pfa > 0.0 && cfg->pfa < 0.5))
    return rf__err(RF_EINVAL, "cfar: pfa must be in (0, 0.5) (got %g)", cfg->pfa);
  if (cfg->train_range < 1)
    return rf__err(RF_EINVAL, "cfar: train_range must be >= 1 (got %d)", cfg->train_range);
  if (cfg->guard_range < 0 || cfg->train_doppler < 0 || cfg->guard_doppler < 0)
    return rf__err(RF_EINVAL, "cfar: guard_range, train_doppler, guard_doppler must be >= 0");
  if (bins < 1 || cells < 1) return rf__err(RF_EINVAL, "cfar: empty map (%zu x %zu)", bins, cells);
  if (cfg->train_range > (1 << 16) || cfg->guard_range > (1 << 16) || cfg->train_doppler > 31 ||
      cfg->guard_doppler > 31 || (cfg->train_doppler && cfg->train_doppler + cfg->guard_doppler > 31))
    return rf__err(RF_EINVAL, "cfar: window too large (range cells <= 65536 each side, Doppler rows <= 31)");
  if (cfg->valid_cells > cells) return rf__err(RF_EINVAL, "cfar: valid_cells %zu > cells %zu", cfg->valid_cells, cells);
  if (cfg->doppler_window && (cfg->doppler_pulses_out < 1 || cfg->doppler_pulses < cfg->doppler_pulses_out ||
                              cfg->doppler_pulses_out > bins))
    return rf__err(RF_EINVAL, "cfar: Doppler window of %zu pulses does not fit %zu bins", cfg->doppler_pulses_out, bins);
  size_t sv = cfg->valid_cells ? cfg->valid_cells : cells;
  size_t w = (size_t)cfg->train_range + (size_t)cfg->guard_range;
  if (sv < w + 1)
    return rf__err(RF_EINVAL, "cfar: range window (%zu cells on a side) longer than the %zu usable cells", w, sv);
  if (cfg->train_doppler > 0 && bins < 2 * (size_t)(cfg->train_doppler + cfg->guard_doppler) + 1)
    return rf__err(RF_EINVAL, "cfar: Doppler window (2 x %d + 1 bins) wider than the map (%zu bins)",
                   cfg->train_doppler + cfg->guard_doppler, bins);
  if (cfg->kind == RF_CFAR_OS && cfg->os_rank < 0) return rf__err(RF_EINVAL, "cfar: os_rank must be >= 0");
  if (cfg->blank_bins < 0 || (size_t)cfg->blank_bins > bins / 2)
    return rf__err(RF_EINVAL, "cfar: blank_bins must be in [0, %zu] (got %d)", bins / 2, cfg->blank_bins);
  return 0;
}

void rf_cfar_destroy(rf_cfar *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nshapes; i++) rf__free(c->shapes[i].dsub);
  rf__free(c->shapes);
  rf__free(c->shape_of);
  rf__free(c->acf);
  rf__free(c->dband);
  rf__free(c->var);
  rf__free(c->inv_var);
  rf__free(c->blank);
  rf__free(c->dscratch);
  rf__free(c->scratch);
  rf__free(c->xbuf);
  rf__free(c->pt);
  rf__free(c->pa);
  rf__free(c->gacc);
  rf__free(c->acc);
  rf__free(c);
}

/* Shape index for (bin k, class), adding a new shape when no existing one
 * has the same rows, class and (normalised) Doppler covariance. */
static int rf__shape_for(rf_cfar *c, size_t k, int cls, int *out) {
  const size_t K = c->bins, R = c->rows;
  const long dko = (long)c->dko;
  uint64_t mask = 0;
  for (long dk = -dko; dk <= dko; dk++)
    if (!c->blank[((long)k + dk + (long)K) % (long)K]) mask |= (uint64_t)1 << (dk + dko);
  double *ds = c->dscratch;
  for (long a = -dko; a <= dko; a++)
    for (long b = -dko; b <= dko; b++) {
      size_t ka = (size_t)(((long)k + a + (long)K) % (long)K), kb = (size_t)(((long)k + b + (long)K) % (long)K);
      double complex v = (mask >> (a + dko) & 1) && (mask >> (b + dko) & 1) ? rf__dcov(c, ka, kb) / c->var[k] : 0;
      size_t i = (size_t)(a + dko) * R + (size_t)(b + dko);
      ds[2 * i] = creal(v);
      ds[2 * i + 1] = cimag(v);
    }
  /* The same rows reversed (a bin mirrored about zero Doppler) have the
   * conjugate covariance, so the same statistics. */
  uint64_t rmask = 0;
  for (size_t r = 0; r < R; r++)
    if (mask >> r & 1) rmask |= (uint64_t)1 << (R - 1 - r);
  for (size_t s = 0; s < c->nshapes; s++) {
    const rf__shape *sh = &c->shapes[s];
    if (sh->cls != cls || (sh->rowmask != mask && sh->rowmask != rmask)) continue;
    int same = sh->rowmask == mask, mirror = sh->rowmask == rmask;
    for (size_t a = 0; a < R && (same || mirror); a++)
      for (size_t b = 0; b < R; b++) {
        const double *p = sh->dsub + 2 * (a * R + b), *q = ds + 2 * (a * R + b),
                     *qm = ds + 2 * ((R - 1 - a) * R + (R - 1 - b));
        if (fabs(p[0] - q[0]) > 1e-9 || fabs(p[1] - q[1]) > 1e-9) same = 0;
        if (fabs(p[0] - qm[0]) > 1e-9 || fabs(p[1] + qm[1]) > 1e-9) mirror = 0;
      }
    if (same || mirror) {
      *out = (int)s;
      return 0;
    }
  }
  if (c->nshapes == c->cap_shapes) {
    size_t ncap = c->cap_shapes ? 2 * c->cap_shapes : 8;
    rf__shape *ns = rf__realloc(c->shapes, ncap * sizeof *ns);
    if (!ns) return RF_ENOMEM;
    c->shapes = ns;
    c->cap_shapes = ncap;
  }
  double *own = rf__malloc(R * R * 2 * sizeof *own);
  if (!own) return RF_ENOMEM;
  memcpy(own, ds, R * R * 2 * sizeof *own);
  ds = own;
  rf__shape *sh = &c->shapes[c->nshapes];
  memset(sh, 0, sizeof *sh);
  sh->cls = cls;
  sh->rowmask = mask;
  sh->dsub = ds; /* owned by the shape */
  c->nshapes++;
  long *tmp = rf__malloc(2 * c->nmax * sizeof *tmp);
  if (!tmp) return RF_ENOMEM;
  sh->n = rf__offsets(c, c->cfg.kind, cls, mask, tmp);
  size_t lead = 0;
  for (size_t i = 0; i < sh->n; i++) lead += tmp[2 * i + 1] < 0;
  sh->nside = cls == RF_CFAR_BOTH ? lead : sh->n;
  rf__free(tmp);
  if (sh->n == 0) {
    *out = -1;
    return 0;
  }
  if (c->cfg.kind == RF_CFAR_OS) {
    size_t full = c->nmax;
    long kk = lround((double)(c->cfg.os_rank ? (size_t)c->cfg.os_rank : (size_t)rf__default_rank((int)full)) *
                     (double)sh->n / (double)full);
    sh->os_k = (size_t)(kk < 1 ? 1 : kk > (long)sh->n ? (long)sh->n : kk);
  }
  /* The lag side alone mirrors the lead side alone (the range covariance
   * is Hermitian Toeplitz: the same eigenvalues): the same factor. */
  for (size_t s = 0; cls == RF_CFAR_LAG && s + 1 < c->nshapes; s++) {
    const rf__shape *o = &c->shapes[s];
    if (o->cls != RF_CFAR_LEAD || o->rowmask != mask || o->n != sh->n) continue;
    int same = 1;
    for (size_t i = 0; i < 2 * R * R && same; i++)
      if (fabs(o->dsub[i] - ds[i]) > 1e-9) same = 0;
    if (!same) continue;
    sh->alpha = o->alpha;
    sh->os_norm = o->os_norm;
    sh->rse = o->rse;
    *out = (int)(c->nshapes - 1);
    return 0;
  }
  int st = rf__shape_factor(c, sh, k, c->nshapes - 1);
  if (st) return st;
  *out = (int)(c->nshapes - 1);
  return 0;
}

int rf_cfar_create(rf_cfar **out, const rf_cfar_config *cfg, size_t bins, size_t cells) {
  if (!out || !cfg) return rf__err(RF_EINVAL, "cfar: NULL argument");
  *out = NULL;
  int st = rf__check(cfg, bins, cells);
  if (st) return st;
  rf_cfar *c = rf__calloc(1, sizeof *c);
  if (!c) return rf__err(RF_ENOMEM, "cfar: out of memory");
  c->cfg = *cfg;
  c->bins = bins;
  c->cells = cells;
  c->sv = cfg->valid_cells ? cfg->valid_cells : cells;
  c->gr = (size_t)cfg->guard_range;
  c->w = (size_t)cfg->train_range + c->gr;
  if (cfg->train_doppler > 0) {
    c->dko = (size_t)(cfg->train_doppler + cfg->guard_doppler);
    c->dkg = (size_t)cfg->guard_doppler;
  }
  c->rows = 2 * c->dko + 1;
  c->threads = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
  c->nmax = c->rows * (2 * c->w + 1) - (2 * c->dkg + 1) * (2 * c->gr + 1);
  if (cfg->kind == RF_CFAR_OS && (size_t)cfg->os_rank > c->nmax) {
    st = rf__err(RF_EINVAL, "cfar: os_rank must be in [0, %zu] (got %d)", c->nmax, cfg->os_rank);
    rf_cfar_destroy(c);
    return st;
  }
  c->cfg.range_acf = NULL;
  c->cfg.doppler_window = NULL; /* not kept: the covariance below is */
  c->acf_len = cfg->range_acf && cfg->range_acf_len ? cfg->range_acf_len : 1;
  c->band = 2 * c->dko;
  if (!(c->acf = rf__malloc(c->acf_len * sizeof *c->acf)) ||
      !(c->dband = rf__malloc(bins * (2 * c->band + 1) * sizeof *c->dband)) ||
      !(c->var = rf__malloc(bins * sizeof *c->var)) || !(c->inv_var = rf__malloc(bins * sizeof *c->inv_var)) ||
      !(c->blank = rf__malloc(bins * sizeof *c->blank)) ||
      !(c->dscratch = rf__malloc(c->rows * c->rows * 2 * sizeof *c->dscratch)) ||
      !(c->shape_of = rf__malloc(bins * RF__NCLASS * sizeof *c->shape_of)) ||
      !(c->acc = rf__malloc(cells * sizeof *c->acc)) || !(c->gacc = rf__malloc(cells * sizeof *c->gacc)) ||
      !(c->pa = rf__malloc((cells + 1) * sizeof *c->pa)) || !(c->pt = rf__malloc((cells + 1) * sizeof *c->pt)) ||
      (cfg->kind == RF_CFAR_OS && (!(c->scratch = rf__malloc((size_t)c->threads * c->nmax * sizeof *c->scratch)) ||
                                   !(c->xbuf = rf__malloc(bins * cells * sizeof *c->xbuf)))))
    goto nomem;
  if (cfg->range_acf && cfg->range_acf_len) {
    for (size_t i = 0; i < c->acf_len; i++) c->acf[i] = cfg->range_acf[i] / cfg->range_acf[0];
  } else {
    c->acf[0] = 1.0;
  }
  if ((st = rf__doppler_cov(cfg, bins, c->band, c->dband))) goto fail;
  for (size_t k = 0; k < bins; k++) {
    c->var[k] = creal(c->dband[k * (2 * c->band + 1) + c->band]);
    c->inv_var[k] = c->var[k] > 0 ? (float)(1.0 / c->var[k]) : 0.0f;
    c->blank[k] = rf__is_blank(cfg, bins, k) || !(c->var[k] > 1e-9);
  }
  /* Shapes of every (bin, class) that occurs. */
  for (size_t k = 0; k < bins; k++)
    for (int cls = 0; cls < RF__NCLASS; cls++) {
      int s = -1;
      if (!c->blank[k] && (st = rf__shape_for(c, k, cls, &s))) goto fail;
      c->shape_of[k * RF__NCLASS + (size_t)cls] = s;
    }
  for (size_t k = 0; k < bins; k++)
    for (size_t j = 0; j < c->sv && !c->blank[k]; j++) {
      int cls = rf_cfar_class(c, j);
      c->tested += cls >= 0 && c->shape_of[k * RF__NCLASS + (size_t)cls] >= 0;
    }
  if (c->cut_correlated)
    rf_log(2, "cfar: training cells correlate with the cell under test (guard shorter than the noise "
              "correlation): CA's factor accounts for it, GO/SO/OS run below their design false-alarm rate");
  *out = c;
  return 0;
nomem:
  st = RF_ENOMEM;
fail:
  rf_cfar_destroy(c);
  return st == RF_ENOMEM ? rf__err(RF_ENOMEM, "cfar: out of memory (%zu x %zu map)", bins, cells) : st;
}

int rf_cfar_class(const rf_cfar *c, size_t col) {
  int lead = col >= c->w, lag = col + c->w < c->sv;
  if (col >= c->sv) return -1;
  return lead && lag ? RF_CFAR_BOTH : lead ? RF_CFAR_LEAD : lag ? RF_CFAR_LAG : -1;
}

/* ---- execute ------------------------------------------------------------------------ */

static void rf__emit(rf_cfar_hit *hits, size_t max_hits, size_t *nh, size_t k, size_t col, float p, double noise,
                     double thr) {
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

/* CA, GO, SO: per Doppler bin, column sums over the usable window rows
 * outside the guard rows (acc) and inside them (gacc), prefix sums along
 * range; each side and the centre strip is a difference of prefix sums. */
static int rf__cfar_mean(rf_cfar *c, int kind, const float *power, rf_cfar_hit *hits, size_t max_hits,
                         size_t *nhits) {
  const size_t S = c->cells, sv = c->sv, W = c->w, gr = c->gr;
  size_t nh = 0;
  double *pa = c->pa, *pt = c->pt;
  for (size_t k = 0; k < c->bins; k++) {
    if (c->blank[k]) continue;
    memset(c->acc, 0, sv * sizeof *c->acc);
    memset(c->gacc, 0, sv * sizeof *c->gacc);
    for (long dk = -(long)c->dko; dk <= (long)c->dko; dk++) {
      size_t r = rf__row(c, k, dk);
      if (c->blank[r]) continue;
      const float *row = power + r * S;
      double *dst = (size_t)labs(dk) <= c->dkg ? c->gacc : c->acc;
      for (size_t j = 0; j < sv; j++) dst[j] += (double)row[j];
    }
    pa[0] = pt[0] = 0.0;
    for (size_t j = 0; j < sv; j++) {
      pa[j + 1] = pa[j] + c->acc[j];
      pt[j + 1] = pt[j] + c->acc[j] + c->gacc[j];
    }
    const float *cut = power + k * S;
    const int *so = c->shape_of + k * RF__NCLASS;
    for (size_t j = 0; j < sv; j++) {
      int cls = rf_cfar_class(c, j);
      if (cls < 0 || so[cls] < 0) continue;
      const rf__shape *sh = &c->shapes[so[cls]];
      double lead = cls != RF_CFAR_LAG ? pt[j - gr] - pt[j - W] : 0.0;
      double lag = cls != RF_CFAR_LEAD ? pt[j + W + 1] - pt[j + gr + 1] : 0.0;
      double noise;
      if (kind == RF_CFAR_CA) {
        double centre = cls == RF_CFAR_BOTH ? pa[j + gr + 1] - pa[j - gr] : 0.0;
        noise = (lead + lag + centre) / (double)sh->n;
      } else if (cls == RF_CFAR_BOTH) {
        double ml = lead / (double)sh->nside, mr = lag / (double)(sh->n - sh->nside);
        noise = kind == RF_CFAR_GO ? fmax(ml, mr) : fmin(ml, mr);
      } else {
        noise = (lead + lag) / (double)sh->n;
      }
      double thr = sh->alpha * noise;
      if ((double)cut[j] > thr) rf__emit(hits, max_hits, &nh, k, j, cut[j], noise, thr);
    }
  }
  *nhits = nh;
  return 0;
}

static int rf__check_exec(const rf_cfar *c, int kind, const float *power, const rf_cfar_hit *hits,
                          size_t max_hits, const size_t *nhits) {
  if (!c || !power || !nhits || (max_hits && !hits)) return rf__err(RF_EINVAL, "cfar: execute: NULL argument");
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

/* Position of v in the sorted a[0..n-1] (the first element >= v). */
static size_t rf__lower(const float *a, size_t n, float v) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int rf__cmp_f(const void *pa, const void *pb) {
  float a = *(const float *)pa, b = *(const float *)pb;
  return a < b ? -1 : a > b;
}

/* The k-th smallest of the 1D window of every CUT of row k with both sides
 * (cells [W, sv - W)): a sorted copy of the window slides along the row,
 * each step taking out the two cells that leave and putting in the two
 * that enter (binary search and a move of the array's tail): the same
 * values as selecting in each window. */
static void rf__os_slide(rf_cfar *c, const float *row, size_t k, size_t kk, float *win) {
  const size_t W = c->w, gr = c->gr, n = 2 * (W - gr);
  size_t m = 0;
  for (size_t i = 0; i < W - gr; i++) win[m++] = row[i];          /* lead of j = W */
  for (size_t i = W + gr + 1; i <= 2 * W; i++) win[m++] = row[i]; /* lag of j = W */
  qsort(win, n, sizeof *win, rf__cmp_f);
  for (size_t j = W; j + W < c->sv; j++) {
    c->xbuf[k * c->cells + j] = win[kk];
    if (j + W + 1 >= c->sv) break;
    const float out[2] = {row[j - W], row[j + gr + 1]}, in[2] = {row[j - gr], row[j + W + 1]};
    for (int q = 0; q < 2; q++) {
      size_t at = rf__lower(win, n, out[q]); /* present: it entered before */
      memmove(win + at, win + at + 1, (n - at - 1) * sizeof *win);
      at = rf__lower(win, n - 1, in[q]);
      memmove(win + at + 1, win + at, (n - 1 - at) * sizeof *win);
      win[at] = in[q];
    }
  }
}

/* OS: per CUT, gather the shape's training cells into the thread's scratch
 * and select the rank (bins in parallel, into xbuf; 1D windows with both
 * sides slide a sorted window instead); then emit the hits in map order. */
int rf_cfar_os_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  int st = rf__check_exec(c, RF_CFAR_OS, power, hits, max_hits, nhits);
  if (st) return st;
  const size_t S = c->cells, W = c->w, gr = c->gr;
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
  for (long kk = 0; kk < (long)c->bins; kk++) {
    const size_t k = (size_t)kk;
    if (c->blank[k]) continue;
    float *scratch = c->scratch + (size_t)omp_get_thread_num() * c->nmax;
    const int *so = c->shape_of + k * RF__NCLASS;
    const int slide = c->dko == 0 && so[RF_CFAR_BOTH] >= 0 && 2 * W + 1 <= c->sv;
    for (size_t j = 0; j < c->sv; j++) {
      int cls = rf_cfar_class(c, j);
      if (cls < 0 || so[cls] < 0 || (slide && cls == RF_CFAR_BOTH)) continue;
      const rf__shape *sh = &c->shapes[so[cls]];
      size_t n = 0;
      for (long dk = -(long)c->dko; dk <= (long)c->dko; dk++) {
        size_t r = rf__row(c, k, dk);
        if (c->blank[r]) continue;
        const float *row = power + r * S;
        if (cls != RF_CFAR_LAG)
          for (size_t i = j - W; i < j - gr; i++) scratch[n++] = row[i];
        if (cls != RF_CFAR_LEAD)
          for (size_t i = j + gr + 1; i <= j + W; i++) scratch[n++] = row[i];
        if (cls == RF_CFAR_BOTH && (size_t)labs(dk) > c->dkg)
          for (size_t i = j - gr; i <= j + gr; i++) scratch[n++] = row[i];
      }
      c->xbuf[k * S + j] = rf__select(scratch, n, sh->os_k - 1);
    }
    if (slide) rf__os_slide(c, power + k * S, k, c->shapes[so[RF_CFAR_BOTH]].os_k - 1, scratch);
  }
  size_t nh = 0;
  for (size_t k = 0; k < c->bins; k++) {
    if (c->blank[k]) continue;
    const int *so = c->shape_of + k * RF__NCLASS;
    for (size_t j = 0; j < c->sv; j++) {
      int cls = rf_cfar_class(c, j);
      if (cls < 0 || so[cls] < 0) continue;
      const rf__shape *sh = &c->shapes[so[cls]];
      double x = (double)c->xbuf[k * S + j], thr = sh->alpha * x;
      float p = power[k * S + j];
      if ((double)p > thr) rf__emit(hits, max_hits, &nh, k, j, p, x / sh->os_norm, thr);
    }
  }
  *nhits = nh;
  return 0;
}

int rf_cfar_execute(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits) {
  if (!c) return rf__err(RF_EINVAL, "cfar: execute: NULL object");
  switch (c->cfg.kind) {
  case RF_CFAR_CA: return rf_cfar_ca_ref(c, power, hits, max_hits, nhits);
  case RF_CFAR_GO: return rf_cfar_go_ref(c, power, hits, max_hits, nhits);
  case RF_CFAR_SO: return rf_cfar_so_ref(c, power, hits, max_hits, nhits);
  default: return rf_cfar_os_ref(c, power, hits, max_hits, nhits);
  }
}

/* ---- noise level ---------------------------------------------------------------------- */

void rf_cfar_hist_ref(const rf_cfar *c, const float *power, uint32_t *hist) {
  memset(hist, 0, RF_CFAR_HIST * sizeof *hist);
  for (size_t k = 0; k < c->bins; k++) {
    if (c->blank[k]) continue;
    const float *row = power + k * c->cells;
    const float iv = c->inv_var[k];
    for (size_t j = 0; j < c->sv; j++) {
      float v = row[j] * iv;
      uint32_t b;
      memcpy(&b, &v, sizeof b);
      hist[(b >> RF_CFAR_HIST_SHIFT) & (RF_CFAR_HIST - 1)]++;
    }
  }
}

double rf_cfar_hist_level(const uint32_t *hist) {
  uint64_t tot = 0;
  for (size_t i = 0; i < RF_CFAR_HIST / 2; i++) tot += hist[i]; /* non-negative floats */
  if (!tot) return 0.0;
  uint64_t half = (tot + 1) / 2, acc = 0;
  for (uint32_t i = 0; i < RF_CFAR_HIST / 2; i++) {
    if (acc + hist[i] < half) {
      acc += hist[i];
      continue;
    }
    uint32_t lo_b = i << RF_CFAR_HIST_SHIFT, hi_b = (i + 1) << RF_CFAR_HIST_SHIFT;
    float lo, hi;
    memcpy(&lo, &lo_b, sizeof lo);
    memcpy(&hi, &hi_b, sizeof hi);
    double f = ((double)(half - acc) - 0.5) / (double)hist[i];
    double med = (double)lo + (f < 0 ? 0 : f > 1 ? 1 : f) * ((double)hi - (double)lo);
    return med / log(2.0); /* exponential: median = ln 2 x mean */
  }
  return 0.0;
}

double rf_cfar_variance(const rf_cfar *c, size_t bin) { return bin < c->bins ? c->var[bin] : 0.0; }

int rf_cfar_blanked(const rf_cfar *c, size_t bin) { return bin < c->bins ? c->blank[bin] : 1; }

size_t rf_cfar_cells_tested(const rf_cfar *c) { return c->tested; }

size_t rf_cfar_valid_cells(const rf_cfar *c) { return c->sv; }

/* ---- defaults --------------------------------------------------------------------------- */

int rf_cfar_resolve(rf_cfar_config *cfg, size_t bins, size_t cells, rf_cfar_resolved *out) {
  memset(out, 0, sizeof *out);
  const rf_cfar_config c0 = *cfg;
  const size_t sv = cfg->valid_cells ? cfg->valid_cells : cells;
  double complex one = 1.0;
  int st = 0;
  /* Range guard: the noise correlation (|rho|^2 >= 1e-3) and the target's main lobe. */
  size_t ge = cfg->range_acf ? rf__extent(cfg->range_acf, cfg->range_acf_len, 1e-3) : 0;
  if (cfg->guard_range < 0) cfg->guard_range = (int)(ge > cfg->mainlobe_range ? ge : cfg->mainlobe_range);
  /* The Doppler covariance near the reference bin 0 (farthest from zero
   * Doppler), 31 bins a side. */
  rf_cfar t;
  memset(&t, 0, sizeof t);
  t.bins = bins;
  t.band = bins > 63 ? 31 : (bins - 1) / 2;
  t.acf = cfg->range_acf ? (double complex *)cfg->range_acf : &one;
  t.acf_len = cfg->range_acf ? cfg->range_acf_len : 1;
  t.dband = rf__malloc(bins * (2 * t.band + 1) * sizeof *t.dband);
  t.var = rf__malloc(bins * sizeof *t.var);
  if (!t.dband || !t.var || rf__doppler_cov(cfg, bins, t.band, t.dband)) {
    st = rf__err(RF_ENOMEM, "cfar: out of memory");
    goto done;
  }
  for (size_t k = 0; k < bins; k++) t.var[k] = creal(t.dband[k * (2 * t.band + 1) + t.band]);
  double complex dacf[32];
  size_t dlen = t.band + 1;
  for (size_t d = 0; d < dlen; d++) dacf[d] = rf__dcov(&t, 0, d) / (t.var[0] > 0 ? t.var[0] : 1.0);
  size_t gde = rf__extent(dacf, dlen, 1e-3);
  if (cfg->train_doppler > 0 && cfg->guard_doppler < 0)
    cfg->guard_doppler = (int)(gde > cfg->mainlobe_doppler ? gde : cfg->mainlobe_doppler);
  if (cfg->guard_doppler < 0) cfg->guard_doppler = 0;
  if (cfg->train_doppler > 0 && (size_t)(cfg->train_doppler + cfg->guard_doppler) > t.band) {
    st = rf__err(RF_EINVAL, "cfar: Doppler window (%d bins a side) too wide for %zu bins",
                 cfg->train_doppler + cfg->guard_doppler, bins);
    goto done;
  }
  /* Training: the fewest range cells a side giving min_independent cells
   * (n^2 / sum |C_ij|^2 over the full window), within the usable cells. */
  t.gr = (size_t)cfg->guard_range;
  t.dko = cfg->train_doppler > 0 ? (size_t)(cfg->train_doppler + cfg->guard_doppler) : 0;
  t.dkg = cfg->train_doppler > 0 ? (size_t)cfg->guard_doppler : 0;
  t.rows = 2 * t.dko + 1;
  double want = cfg->min_independent > 0 ? cfg->min_independent : RF_CFAR_INDEPENDENT;
  int tr = cfg->train_range > 0 ? cfg->train_range : 1;
  for (;; tr++) {
    t.w = t.gr + (size_t)tr;
    t.nmax = t.rows * (2 * t.w + 1) - (2 * t.dkg + 1) * (2 * t.gr + 1);
    long *off = rf__malloc(2 * t.nmax * sizeof *off);
    double complex *C = rf__malloc(t.nmax * t.nmax * sizeof *C);
    if (!off || !C) {
      rf__free(off);
      rf__free(C);
      st = rf__err(RF_ENOMEM, "cfar: out of memory");
      goto done;
    }
    size_t n = rf__offsets(&t, RF_CFAR_CA, RF_CFAR_BOTH, ~(uint64_t)0, off);
    rf__cov(&t, 0, off, n, C, NULL);
    out->independent = rf__neff(C, n);
    rf__free(off);
    rf__free(C);
    if (cfg->train_range > 0 || out->independent >= want) break;
    if (2 * (t.w + 1) + 1 > sv || tr >= 4096) { /* the next one would not fit */
      out->short_window = 1;
      break;
    }
  }
  cfg->train_range = tr;
  out->guard_range = cfg->guard_range;
  out->train_range = cfg->train_range;
  out->guard_doppler = cfg->guard_doppler;
  out->train_doppler = cfg->train_doppler;
  out->changed = c0.guard_range != cfg->guard_range || c0.train_range != cfg->train_range ||
                 c0.guard_doppler != cfg->guard_doppler;
done:
  rf__free(t.dband);
  rf__free(t.var);
  return st;
}

void rf_cfar_get_tables(const rf_cfar *c, rf_cfar_tables *t) {
  t->kind = c->cfg.kind;
  t->bins = c->bins;
  t->cells = c->cells;
  t->valid_cells = c->sv;
  t->w = c->w;
  t->gr = c->gr;
  t->dko = c->dko;
  t->dkg = c->dkg;
  t->nmax = c->nmax;
  t->blank_bins = c->cfg.blank_bins;
  t->blank = c->blank;
  t->inv_var = c->inv_var;
  t->shape_of = c->shape_of;
  t->nshapes = c->nshapes;
}

void rf_cfar_get_shape(const rf_cfar *c, size_t s, rf_cfar_shape_info *i) {
  const rf__shape *sh = &c->shapes[s];
  i->cls = sh->cls;
  i->rowmask = sh->rowmask;
  i->n = sh->n;
  i->nside = sh->nside;
  i->os_k = sh->os_k;
  i->alpha = sh->alpha;
  i->os_norm = sh->os_norm;
  i->rse = sh->rse;
}
