/* radarflow: shared definitions - status codes, error messages, allocation
 * hook, logging and small numeric helpers. Every other header includes this. */
#ifndef RF_COMMON_H
#define RF_COMMON_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#define RF_VERSION "0.1.0"

/* Physical constants. */
#define RF_C_MPS 299792458.0 /* speed of light, m/s */
#define RF_PI 3.14159265358979323846

/* Status codes: 0 or negative. One table gives name, value and text. [libuv]
 * EFORMAT is bad input data (file or field); EINVAL a bad argument or setting;
 * EIO an I/O failure on an output or a system call; EDEVICE a compute-device
 * failure. */
#define RF_ERRNO_MAP(XX)                                    \
  XX(EINVAL, -1, "invalid argument")                        \
  XX(ENOMEM, -2, "out of memory")                           \
  XX(EIO, -3, "input/output error")                         \
  XX(EFORMAT, -4, "bad input file")                         \
  XX(ERANGE, -5, "value out of range")                      \
  XX(EUNSUP, -6, "not supported")                           \
  XX(EDEVICE, -7, "compute device error")                   \
  XX(EINTR, -8, "interrupted")

enum rf_status {
  RF_OK = 0,
#define RF__XX(name, val, text) RF_##name = (val),
  RF_ERRNO_MAP(RF__XX)
#undef RF__XX
};

/* Name ("RF_EFORMAT") and text of a status code. */
const char *rf_err_name(int status);
const char *rf_strerror(int status);

/* The message of the last failure on this thread: composed once, where the
 * failure happened, naming the file and field. Empty when none. */
const char *rf_errmsg(void);
void rf_errmsg_clear(void);

/* Sets the thread's message (printf-style) and returns status, so that
 * `return rf__err(RF_EFORMAT, "%s: /iq: ...", path);` reports and fails. */
int rf__err(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation: all heap goes through these so tests can inject failures.
 * rf__malloc_aligned returns 64-byte-aligned memory (fftwf_malloc-compatible
 * alignment) to be released with rf__free_aligned. Returned memory from
 * rf__malloc/rf__calloc is released with rf__free. On failure they return
 * NULL; they do not set the error message. */
void *rf__malloc(size_t size);
void *rf__calloc(size_t n, size_t size);
void *rf__realloc(void *p, size_t size);
void rf__free(void *p);
void *rf__malloc_aligned(size_t size);
void rf__free_aligned(void *p);
char *rf__strdup(const char *s);

/* Test hook: make the n-th allocation from now fail (n >= 1), and every one
 * after it while `sticky` is set; n = 0 turns injection off. Returns the
 * number of allocations made since the last call. */
size_t rf_alloc_fail_after(size_t n, int sticky);

/* Multiplies a*b into *out unless it overflows size_t; returns 0 or -1. */
int rf__mul_size(size_t a, size_t b, size_t *out);

/* The numbers of text, separated by commas or blanks (config and scenario
 * lists): *v (rf__malloc'd; NULL when there are none) and *n. 0; RF_ENOMEM;
 * RF_EFORMAT when an item is not a finite number, *bad its index from 0.
 * No message is set: the caller names the file and the field. */
int rf_parse_doubles(const char *text, double **v, size_t *n, size_t *bad);

/* Logging to stderr. Level 0 quiet (errors only), 1 normal, 2 verbose. */
extern int rf_log_level;
void rf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning at level >= 1: "radarflow: warning: <message>", one line. */
void rf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Called (when set) before rf_log and rf_warn write: a live progress line
 * clears itself here (host/progress.c). */
extern void (*rf__log_before)(void);

/* Cancellation: a signal handler sets rf_cancel (SIGINT/SIGTERM); long loops
 * check it between dwells and stop with RF_EINTR, leaving no partial product. */
#include <signal.h>
extern volatile sig_atomic_t rf_cancel;

/* Monotonic wall clock in seconds. */
double rf_now_s(void);
/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (len >= 21). */
void rf_utc_now(char *out, size_t len);
/* Peak resident memory of this process image, bytes: VmHWM of
 * /proc/self/status (per address space, so not inflated by a parent before
 * exec, unlike ru_maxrss); getrusage elsewhere. */
double rf_peak_rss_bytes(void);

/* FNV-1a, 64 bits: h' = (h ^ byte) * 0x100000001b3 over the bytes; start
 * from RF_FNV1A64_INIT, chain calls to hash several pieces. */
#define RF_FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t rf_fnv1a64(uint64_t h, const void *data, size_t n);

/* Sorts n elements of `size` bytes in place by cmp (negative, 0, positive
 * as for qsort_r; ctx is passed through). Heapsort: O(n log n), never
 * allocates (execute-time code may sort), not stable - give cmp a total
 * order where ties matter. */
void rf_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
             void *ctx);

/* Tapers. kind: RF_TAPER_*; x in [-0.5, 0.5] is the normalised position
 * across the aperture; returns the (unnormalised) weight. The Taylor taper
 * uses sidelobe level sll_db (> 0, e.g. 35) and nbar (>= 1). */
enum rf_taper { RF_TAPER_NONE = 0, RF_TAPER_HAMMING = 1, RF_TAPER_TAYLOR = 2 };
double rf_taper_at(int kind, double x, double sll_db, int nbar);
/* The same with the coefficients computed once, for many evaluations:
 * rf_taper_eval(&t, x) == rf_taper_at(kind, x, sll_db, nbar), bit for bit. */
#define RF_TAPER_MAX_COEF 64 /* Taylor F_m kept for m < 64; higher ones computed per call */
typedef struct rf_taper_plan {
  int kind, nbar;
  double sll_db;
  double fm[RF_TAPER_MAX_COEF];
} rf_taper_plan;
void rf_taper_init(rf_taper_plan *t, int kind, double sll_db, int nbar);
double rf_taper_eval(const rf_taper_plan *t, double x);
/* n samples of the taper at x_i = (i + 0.5) / n - 0.5. */
void rf_taper_fill(int kind, double sll_db, int nbar, size_t n, double *w);
/* Coherent gain loss of a taper, in dB (>= 0): -10 log10(|sum w|^2 / (n sum w^2)). */
double rf_taper_loss_db(const double *w, size_t n);

/* Direction unit vector of formats.md: (cos el sin az, cos el cos az, sin el). */
void rf_direction(double az_deg, double el_deg, double d[3]);
/* Inverse: range, azimuth in [0, 360), elevation of an ENU vector. */
void rf_enu_to_rae(const double enu[3], double *range_m, double *az_deg, double *el_deg);

/* Wraps v into [-half, +half). */
double rf_wrap(double v, double half);

/* atan2(y[0], x[0]) and atan2(y[1], x[1]) at once (SLEEF's two-lane
 * atan2, within 1 ulp; glibc's atan2 where SLEEF has no two-lane double
 * vector). Every angle the tracker's rows and the geodetic conversions give
 * comes from here, so a value is the same whichever path computed it. */
void rf_atan2x2(const double y[2], const double x[2], double out[2]);

/* The file utilities (mkdir -p, atomic writes, ...) come with this header. */
#include "rf_files.h"

#endif
