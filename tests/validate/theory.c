/* radarflow validate: detection theory (theory.h). Independent of the
 * processing code: no radarflow function is used here. */
#include "theory.h"

#include <math.h>

/* exp(-x) I0(x) for x >= 0 (Abramowitz & Stegun 9.8.1, 9.8.2; |error| < 2e-7
 * relative). */
static double i0e(double x) {
  if (x < 3.75) {
    double t = x / 3.75, t2 = t * t;
    double i0 = 1.0 + t2 * (3.5156229 + t2 * (3.0899424 + t2 * (1.2067492 + t2 * (0.2659732 + t2 * (0.0360768 + t2 * 0.0045813)))));
    return i0 * exp(-x);
  }
  double t = 3.75 / x;
  return (0.39894228 + t * (0.01328592 + t * (0.00225319 + t * (-0.00157565 + t * (0.00916281 + t * (-0.02057706 +
         t * (0.02635537 + t * (-0.01647633 + t * 0.00392377)))))))) / sqrt(x);
}

double th_marcum_q1(double a, double b) {
  if (b <= 0) return 1.0;
  if (a <= 0) return exp(-0.5 * b * b);
  /* integrand x exp(-(x - a)^2 / 2) i0e(a x): its mass lies within a few
   * units of x = a; integrate [b, max(b, a) + 12] */
  double hi = (b > a ? b : a) + 12.0;
  if (b >= hi) return 0.0;
  int n = 600;
  double h = (hi - b) / n, s = 0;
  for (int i = 0; i <= n; i++) {
    double x = b + i * h;
    double f = x * exp(-0.5 * (x - a) * (x - a)) * i0e(a * x);
    s += (i == 0 || i == n ? 1 : i % 2 ? 4 : 2) * f;
  }
  return s * h / 3.0;
}

static double pfa_so(int m, double a) {
  double s = 0.0, l2a = log(2.0 + a), lgm = lgamma((double)m);
  for (int j = 0; j < m; j++)
    s += exp(lgamma((double)(m + j)) - lgamma((double)j + 1.0) - lgm - (double)(m + j) * l2a);
  return 2.0 * s;
}

double th_pfa(int kind, int n, int k, double alpha) {
  switch (kind) {
  case 0: return pow(1.0 + alpha / n, -n);
  case 1: return 2.0 * pow(1.0 + alpha / (n / 2), -(n / 2)) - pfa_so(n / 2, alpha / (n / 2));
  case 2: return pfa_so(n / 2, alpha / (n / 2));
  case 3: {
    double l = 0;
    for (int i = 0; i < k; i++) l += log((double)(n - i)) - log((double)(n - i) + alpha);
    return exp(l);
  }
  default: return exp(-alpha);
  }
}

double th_alpha(int kind, int n, int k, double pfa) {
  if (kind == 4) return -log(pfa);
  double lo = 0, hi = 1;
  while (th_pfa(kind, n, k, hi) > pfa) lo = hi, hi *= 2;
  for (int it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi);
    if (th_pfa(kind, n, k, mid) > pfa) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* Density of the noise statistic z (its scale: the threshold is alpha z):
 * CA mean of n ~ Gamma(n, 1/n); GO/SO max/min of two means of n/2; OS the
 * k-th smallest of n unit exponentials. */
static double lgamma_cdf(int m, double x) { /* regularised lower incomplete gamma P(m, x), integer m */
  double t = 1.0, s = 1.0;
  for (int i = 1; i < m; i++) s += (t *= x / i);
  return 1.0 - exp(-x) * s;
}
static double stat_pdf(int kind, int n, int k, double z) {
  if (z <= 0) return 0;
  if (kind == 0) return exp(n * log((double)n) + (n - 1) * log(z) - n * z - lgamma(n));
  if (kind == 1 || kind == 2) {
    int m = n / 2;
    double f = exp(m * log((double)m) + (m - 1) * log(z) - m * z - lgamma(m)), F = lgamma_cdf(m, m * z);
    return 2.0 * f * (kind == 1 ? F : 1.0 - F);
  }
  double F = -expm1(-z);
  return exp(lgamma(n + 1.0) - lgamma((double)k) - lgamma((double)(n - k + 1)) + (k - 1) * log(F > 0 ? F : 1e-300) -
             z * (n - k + 1));
}

double th_pd(int kind, int n, int k, double alpha, double snr, int swerling) {
  if (swerling == 1) return th_pfa(kind, n, k, alpha / (1.0 + snr));
  double a = sqrt(2.0 * snr);
  if (kind == 4) return th_marcum_q1(a, sqrt(2.0 * alpha));
  /* integrate Q1(a, sqrt(2 alpha z)) over the statistic's density */
  double zmax = kind == 3 ? 12.0 : 4.0, h = zmax / 800, s = 0;
  for (int i = 0; i <= 800; i++) {
    double z = i * h;
    double f = stat_pdf(kind, n, k, z);
    if (f == 0 && i) continue;
    s += (i == 0 || i == 800 ? 1 : i % 2 ? 4 : 2) * f * th_marcum_q1(a, sqrt(2.0 * alpha * z));
  }
  return s * h / 3.0;
}

double th_snr_at(int kind, int n, int k, double alpha, int swerling, double p, double lo, double hi) {
  for (int it = 0; it < 60; it++) {
    double mid = 0.5 * (lo + hi);
    if (th_pd(kind, n, k, alpha, pow(10, mid / 10), swerling) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
