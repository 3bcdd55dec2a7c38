/* radarflow: status table, error messages, allocation hook, logging, tapers
 * and frame helpers. */
#define _POSIX_C_SOURCE 200809L
#include "rf_common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
/* SLEEF's two-lane double functions take SSE2's __m128d on x86-64. */
#if defined(__SSE2__)
#include <emmintrin.h>
#include <sleef.h>
#define RF_HAVE_SLEEF_X2 1
#else
#define RF_HAVE_SLEEF_X2 0
#endif

const char *rf_err_name(int status) {
  switch (status) {
  case RF_OK: return "RF_OK";
#define RF__XX(name, val, text) case RF_##name: return "RF_" #name;
    RF_ERRNO_MAP(RF__XX)
#undef RF__XX
  }
  return "RF_EUNKNOWN";
}

const char *rf_strerror(int status) {
  switch (status) {
  case RF_OK: return "success";
#define RF__XX(name, val, text) case RF_##name: return text;
    RF_ERRNO_MAP(RF__XX)
#undef RF__XX
  }
  return "unknown error";
}

static _Thread_local char rf__msg[1024];

const char *rf_errmsg(void) { return rf__msg; }
void rf_errmsg_clear(void) { rf__msg[0] = 0; }

int rf__err(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rf__msg, sizeof rf__msg, fmt, ap);
  va_end(ap);
  return status;
}

/* ---- allocation hook ---------------------------------------------------- */
static size_t rf__alloc_count, rf__alloc_fail_at;
static int rf__alloc_sticky;

size_t rf_alloc_fail_after(size_t n, int sticky) {
  size_t c = rf__alloc_count;
  rf__alloc_count = 0;
  rf__alloc_fail_at = n;
  rf__alloc_sticky = sticky;
  return c;
}

static int rf__alloc_should_fail(void) {
  /* Atomic: track's writer thread allocates beside the main thread. */
  size_t k = __atomic_add_fetch(&rf__alloc_count, 1, __ATOMIC_RELAXED);
  if (rf__alloc_fail_at == 0) return 0;
  if (k == rf__alloc_fail_at) return 1;
  return rf__alloc_sticky && k > rf__alloc_fail_at;
}

void *rf__malloc(size_t size) {
  if (rf__alloc_should_fail()) return NULL;
  return malloc(size ? size : 1);
}

void *rf__calloc(size_t n, size_t size) {
  if (rf__alloc_should_fail()) return NULL;
  return calloc(n ? n : 1, size ? size : 1);
}

void *rf__realloc(void *p, size_t size) {
  if (rf__alloc_should_fail()) return NULL;
  return realloc(p, size ? size : 1);
}

void rf__free(void *p) { free(p); }

void *rf__malloc_aligned(size_t size) {
  if (rf__alloc_should_fail()) return NULL;
  size_t sz = (size + 63) / 64 * 64;
  return aligned_alloc(64, sz ? sz : 64);
}

void rf__free_aligned(void *p) { free(p); }

char *rf__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = rf__malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

int rf__mul_size(size_t a, size_t b, size_t *out) {
  if (a && b > SIZE_MAX / a) return -1;
  *out = a * b;
  return 0;
}

int rf_parse_doubles(const char *text, double **v, size_t *n, size_t *bad) {
  *v = NULL;
  *n = 0;
  size_t cap = 1, k = 0;
  for (const char *c = text; *c; c++) cap += (*c == ',' || isspace((unsigned char)*c));
  double *out = rf__malloc(cap * sizeof *out);
  if (!out) return RF_ENOMEM;
  for (const char *c = text;;) {
    while (*c == ',' || isspace((unsigned char)*c)) c++;
    if (!*c) break;
    char *end;
    errno = 0;
    double x = strtod(c, &end);
    if (end == c || errno == ERANGE || !isfinite(x) || (*end && *end != ',' && !isspace((unsigned char)*end))) {
      rf__free(out);
      *bad = k;
      return RF_EFORMAT;
    }
    out[k++] = x;
    c = end;
  }
  if (!k) {
    rf__free(out);
    out = NULL;
  }
  *v = out;
  *n = k;
  return 0;
}

/* ---- logging ------------------------------------------------------------- */
int rf_log_level = 1;
volatile sig_atomic_t rf_cancel = 0;

void (*rf__log_before)(void) = NULL;

void rf_log(int level, const char *fmt, ...) {
  if (level > rf_log_level) return;
  if (rf__log_before) rf__log_before();
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void rf_warn(const char *fmt, ...) {
  if (rf_log_level < 1) return;
  if (rf__log_before) rf__log_before();
  va_list ap;
  va_start(ap, fmt);
  fputs("radarflow: warning: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

double rf_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void rf_utc_now(char *out, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double rf_peak_rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    if (kb >= 0) return 1024.0 * (double)kb;
  }
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? 1024.0 * (double)ru.ru_maxrss : 0.0;
}

uint64_t rf_fnv1a64(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* ---- sorting ------------------------------------------------------------------ */
static void rf__swap(unsigned char *a, unsigned char *b, size_t size) {
  unsigned char t[64];
  while (size) {
    size_t k = size < sizeof t ? size : sizeof t;
    memcpy(t, a, k);
    memcpy(a, b, k);
    memcpy(b, t, k);
    a += k, b += k, size -= k;
  }
}

/* Moves element root down the heap v[0, n) until its children are not larger. */
static void rf__sift(unsigned char *v, size_t root, size_t n, size_t size,
                     int (*cmp)(const void *, const void *, void *), void *ctx) {
  for (;;) {
    size_t c = 2 * root + 1;
    if (c >= n) return;
    if (c + 1 < n && cmp(v + c * size, v + (c + 1) * size, ctx) < 0) c++;
    if (cmp(v + root * size, v + c * size, ctx) >= 0) return;
    rf__swap(v + root * size, v + c * size, size);
    root = c;
  }
}

void rf_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
             void *ctx) {
  unsigned char *v = base;
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) rf__sift(v, i, n, size, cmp, ctx);
  for (size_t end = n - 1; end > 0; end--) {
    rf__swap(v, v + end * size, size);
    rf__sift(v, 0, end, size, cmp, ctx);
  }
}

/* ---- tapers ---------------------------------------------------------------- */
/* Taylor coefficients F_m, m = 1..nbar-1 (Carrara et al., "Spotlight SAR",
 * app. D): A = acosh(10^(sll/20)) / pi, sigma^2 = nbar^2 / (A^2 + (nbar-1/2)^2). */
static double rf__taylor_fm(int m, double sll_db, int nbar) {
  double a = acosh(pow(10.0, sll_db / 20.0)) / RF_PI;
  double s2 = (double)nbar * nbar / (a * a + ((double)nbar - 0.5) * ((double)nbar - 0.5));
  double num = 1.0, den = 1.0;
  for (int i = 1; i < nbar; i++) {
    num *= 1.0 - (double)m * m / (s2 * (a * a + ((double)i - 0.5) * ((double)i - 0.5)));
    if (i != m) den *= 1.0 - (double)m * m / ((double)i * i);
  }
  double sign = (m % 2) ? 1.0 : -1.0; /* (-1)^(m+1) */
  return sign * num / (2.0 * den);
}

void rf_taper_init(rf_taper_plan *t, int kind, double sll_db, int nbar) {
  t->kind = kind;
  t->sll_db = sll_db;
  t->nbar = nbar;
  if (kind != RF_TAPER_TAYLOR) return;
  for (int m = 1; m < nbar && m < RF_TAPER_MAX_COEF; m++) t->fm[m] = rf__taylor_fm(m, sll_db, nbar);
}

double rf_taper_eval(const rf_taper_plan *t, double x) {
  switch (t->kind) {
  case RF_TAPER_HAMMING: return 0.54 + 0.46 * cos(2.0 * RF_PI * x);
  case RF_TAPER_TAYLOR: {
    double g = 1.0;
    for (int m = 1; m < t->nbar; m++) {
      double fm = m < RF_TAPER_MAX_COEF ? t->fm[m] : rf__taylor_fm(m, t->sll_db, t->nbar);
      g += 2.0 * fm * cos(2.0 * RF_PI * m * x);
    }
    return g;
  }
  default: return 1.0;
  }
}

double rf_taper_at(int kind, double x, double sll_db, int nbar) {
  rf_taper_plan t;
  rf_taper_init(&t, kind, sll_db, nbar);
  return rf_taper_eval(&t, x);
}

void rf_taper_fill(int kind, double sll_db, int nbar, size_t n, double *w) {
  rf_taper_plan t;
  rf_taper_init(&t, kind, sll_db, nbar);
  for (size_t i = 0; i < n; i++) w[i] = rf_taper_eval(&t, ((double)i + 0.5) / (double)n - 0.5);
}

double rf_taper_loss_db(const double *w, size_t n) {
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  if (n == 0 || s2 <= 0) return 0;
  return -10.0 * log10(s * s / ((double)n * s2));
}

/* ---- frames ---------------------------------------------------------------- */
void rf_direction(double az_deg, double el_deg, double d[3]) {
  double az = az_deg * RF_PI / 180.0, el = el_deg * RF_PI / 180.0;
  d[0] = cos(el) * sin(az);
  d[1] = cos(el) * cos(az);
  d[2] = sin(el);
}

void rf_enu_to_rae(const double enu[3], double *range_m, double *az_deg, double *el_deg) {
  double h = hypot(enu[0], enu[1]);
  double r = hypot(h, enu[2]);
  double az = atan2(enu[0], enu[1]) * 180.0 / RF_PI;
  if (az < 0) az += 360.0;
  if (az >= 360.0) az -= 360.0;
  *range_m = r;
  *az_deg = az;
  *el_deg = atan2(enu[2], h) * 180.0 / RF_PI;
}

void rf_atan2x2(const double y[2], const double x[2], double out[2]) {
#if RF_HAVE_SLEEF_X2
  _mm_storeu_pd(out, Sleef_atan2d2_u10(_mm_loadu_pd(y), _mm_loadu_pd(x)));
#else
  out[0] = atan2(y[0], x[0]);
  out[1] = atan2(y[1], x[1]);
#endif
}

double rf_wrap(double v, double half) {
  double p = 2.0 * half, w = v + half;
  if (!(w >= 0 && w < p)) { /* fmod is slow, and w is mostly in range */
    w = fmod(w, p);
    if (w < 0) w += p;
  }
  return w - half;
}
