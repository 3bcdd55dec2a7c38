/* radarflow: stage 3 - receive digital beamforming as a complex matrix
 * product, out[b][p][c] = sum_n w[b][n] in[p][n][c]: one OpenBLAS CGEMM
 * (B x N weights times the pulse's N x S rows) per pulse or per slice of a
 * pulse's range cells, the slices shared among OpenMP threads. OpenBLAS is
 * the OpenMP build (libopenblas0-openmp, found first through the rpath the
 * Makefile sets), which runs single-threaded inside our parallel region, so
 * its threads never compete with ours and wait passively like them.
 * rf_bf_execute_ref is the plain loop: the oracle and the OpenCL kernel's
 * twin. */
#include "rf_stages.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <strings.h>

#define RF_BF_TILE 256 /* range cells per tile: N * 256 * 8 bytes of input */

struct rf_bf {
  size_t n, b, cells;
  int threads;
  float *acc; /* [threads][B][TILE][2] */
};

/* Projected aperture (metres) of the array along unit vector u:
 * sqrt(12 var(p . u)), which is N d for a uniform line of N elements. */
static double rf__aperture(const double (*pos)[3], size_t n, const double u[3]) {
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double x = pos[i][0] * u[0] + pos[i][1] * u[1] + pos[i][2] * u[2];
    s += x;
    s2 += x * x;
  }
  double var = s2 / (double)n - (s / (double)n) * (s / (double)n);
  return var > 0 ? sqrt(12.0 * var) : 0.0;
}

/* Horizontal and vertical unit vectors across the look direction. */
static void rf__look_axes(double az_deg, double el_deg, double uh[3], double uv[3]) {
  double az = az_deg * RF_PI / 180.0, el = el_deg * RF_PI / 180.0;
  uh[0] = cos(az);
  uh[1] = -sin(az);
  uh[2] = 0;
  uv[0] = -sin(el) * sin(az);
  uv[1] = -sin(el) * cos(az);
  uv[2] = cos(el);
}

/* What every element's weight of one beam needs: its direction, the look
 * axes and apertures, the taper and the wavelength. */
typedef struct rf__steer {
  double d[3], uh[3], uv[3], ah, av, lambda_m;
  rf_taper_plan taper;
} rf__steer;

static void rf__steer_init(rf__steer *s, const double (*pos)[3], size_t n, double lambda_m, double az_deg,
                           double el_deg, int taper, double taylor_sll_db, int taylor_nbar) {
  rf_direction(az_deg, el_deg, s->d);
  rf__look_axes(az_deg, el_deg, s->uh, s->uv);
  s->ah = rf__aperture(pos, n, s->uh);
  s->av = rf__aperture(pos, n, s->uv);
  s->lambda_m = lambda_m;
  rf_taper_init(&s->taper, taper, taylor_sll_db, taylor_nbar);
}

/* Taper of element p over the normalised position across each aperture
 * axis that the array really spans (a line array seen off its plane has a
 * sliver of "vertical" aperture that must not be tapered again). */
static double rf__steer_taper(const rf__steer *s, const double p[3]) {
  double t = 1.0;
  if (s->ah >= 0.25 * s->lambda_m) {
    double x = (p[0] * s->uh[0] + p[1] * s->uh[1]) / s->ah;
    t *= rf_taper_eval(&s->taper, x);
  }
  if (s->av >= 0.25 * s->lambda_m) {
    double x = (p[0] * s->uv[0] + p[1] * s->uv[1] + p[2] * s->uv[2]) / s->av;
    t *= rf_taper_eval(&s->taper, x);
  }
  return t;
}

/* Element p's weight before normalisation: t exp(-j 2 pi / lambda p . d). */
static float complex rf__steer_weight(const rf__steer *s, const double p[3], double t) {
  double ph = -2.0 * RF_PI / s->lambda_m * (p[0] * s->d[0] + p[1] * s->d[1] + p[2] * s->d[2]);
  return (float complex)(t * cexp(I * ph));
}

void rf_beam_weights(const double (*pos_m)[3], size_t channels, double lambda_m,
                     const double *az_deg, const double *el_deg, size_t beams, int taper,
                     double taylor_sll_db, int taylor_nbar, float complex *w) {
  for (size_t b = 0; b < beams; b++) {
    rf__steer s;
    rf__steer_init(&s, pos_m, channels, lambda_m, az_deg[b], el_deg[b], taper, taylor_sll_db, taylor_nbar);
    double norm = 0;
    for (size_t n = 0; n < channels; n++) {
      double t = rf__steer_taper(&s, pos_m[n]);
      w[b * channels + n] = rf__steer_weight(&s, pos_m[n], t);
      norm += t * t;
    }
    float k = (float)(1.0 / sqrt(norm));
    for (size_t n = 0; n < channels; n++) w[b * channels + n] *= k;
  }
}

void rf_bf_destroy(rf_bf *bf) {
  if (!bf) return;
  rf__free_aligned(bf->acc);
  rf__free(bf);
}

int rf_bf_create(rf_bf **out, size_t channels, size_t beams, size_t cells) {
  *out = NULL;
  if (channels < 1 || beams < 1 || cells < 1)
    return rf__err(RF_EINVAL, "beamforming: invalid sizes");
  rf_bf *bf = rf__calloc(1, sizeof *bf);
  if (!bf) return rf__err(RF_ENOMEM, "beamforming: out of memory");
  bf->n = channels;
  bf->b = beams;
  bf->cells = cells;
  bf->threads = omp_get_max_threads();
  /* A pthreads OpenBLAS (another build than the Makefile links) would start
   * threads of its own under ours: one thread per call instead. */
  if (openblas_get_parallel() == 1) openblas_set_num_threads(1);
  bf->acc = rf__malloc_aligned((size_t)bf->threads * beams * RF_BF_TILE * 2 * sizeof(float));
  if (!bf->acc) {
    rf_bf_destroy(bf);
    return rf__err(RF_ENOMEM, "beamforming: out of memory");
  }
  *out = bf;
  return 0;
}

const char *rf_bf_blas_core_hint(void) {
  /* OpenBLAS falls back to its Prescott (SSE3) kernels on an x86 CPU its
   * table does not know (0.3.21: e.g. family 6 model 207, a 5th-generation
   * Xeon), which made CGEMM 2 to 3 times slower here. */
  const char *core = openblas_get_corename();
  if (!core || strcasecmp(core, "prescott")) return NULL;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return NULL;
}

/* The plain loop, blocked over range cells so a tile of every channel stays
 * in cache. */
int rf_bf_execute_ref(rf_bf *bf, const float complex *w, const float complex *in, size_t pulses,
                      float complex *out, size_t beam_stride) {
  const size_t n = bf->n, nb = bf->b, cells = bf->cells;
  const size_t tiles = (cells + RF_BF_TILE - 1) / RF_BF_TILE;
  const long jobs = (long)(pulses * tiles);
  const float *wf = (const float *)w;
#pragma omp parallel for schedule(static) num_threads(bf->threads)
  for (long job = 0; job < jobs; job++) {
    size_t p = (size_t)job / tiles, c0 = ((size_t)job % tiles) * RF_BF_TILE;
    size_t len = cells - c0 < RF_BF_TILE ? cells - c0 : RF_BF_TILE;
    float *acc = bf->acc + (size_t)omp_get_thread_num() * nb * RF_BF_TILE * 2;
    memset(acc, 0, nb * RF_BF_TILE * 2 * sizeof(float));
    for (size_t ch = 0; ch < n; ch++) {
      const float *x = (const float *)(in + (p * n + ch) * cells + c0);
      for (size_t b = 0; b < nb; b++) {
        const float wr = wf[2 * (b * n + ch)], wi = wf[2 * (b * n + ch) + 1];
        float *a = acc + b * RF_BF_TILE * 2;
        for (size_t c = 0; c < len; c++) {
          a[2 * c] += wr * x[2 * c] - wi * x[2 * c + 1];
          a[2 * c + 1] += wr * x[2 * c + 1] + wi * x[2 * c];
        }
      }
    }
    for (size_t b = 0; b < nb; b++)
      memcpy(out + b * beam_stride + p * cells + c0, acc + b * RF_BF_TILE * 2,
             len * 2 * sizeof(float));
  }
  return 0;
}

/* Per-channel mode (w NULL): beam b is channel b, copied. */
static void rf__bf_channels(const rf_bf *bf, const float complex *in, size_t pulses, float complex *out,
                            size_t beam_stride) {
  const size_t n = bf->n, cells = bf->cells;
  const long jobs = (long)(pulses * bf->b);
#pragma omp parallel for schedule(static) num_threads(bf->threads)
  for (long job = 0; job < jobs; job++) {
    size_t p = (size_t)job / bf->b, b = (size_t)job % bf->b;
    memcpy(out + b * beam_stride + p * cells, in + (p * n + b) * cells, cells * sizeof *out);
  }
}

int rf_bf_execute(rf_bf *bf, const float complex *w, const float complex *in, size_t pulses,
                  float complex *out, size_t beam_stride) {
  if (!w) {
    if (bf->b > bf->n)
      return rf__err(RF_EINVAL, "beamforming: per-channel mode with %zu beams for %zu channels", bf->b, bf->n);
    rf__bf_channels(bf, in, pulses, out, beam_stride);
    return 0;
  }
  const size_t n = bf->n, nb = bf->b, cells = bf->cells;
  /* Jobs: every pulse, cut into as many slices of range cells as it takes
   * to give each thread one (a block of fewer pulses than threads). */
  const size_t threads = (size_t)bf->threads;
  const size_t slices = pulses >= threads ? 1 : (threads + pulses - 1) / pulses;
  const size_t width = (cells + slices - 1) / slices;
  const long jobs = (long)(pulses * slices);
  static const float complex one = 1.0f, zero = 0.0f;
#pragma omp parallel for schedule(static) num_threads(bf->threads)
  for (long job = 0; job < jobs; job++) {
    size_t p = (size_t)job / slices, c0 = ((size_t)job % slices) * width;
    if (c0 >= cells) continue;
    size_t len = cells - c0 < width ? cells - c0 : width;
    cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nb, (blasint)len, (blasint)n, &one, w,
                (blasint)n, in + p * n * cells + c0, (blasint)cells, &zero, out + p * cells + c0,
                (blasint)beam_stride);
  }
  return 0;
}

/* Adds element p with weight w to the array factor toward unit vector d. */
static void rf__gain_add(const double p[3], double lambda_m, const double d[3], float complex w,
                         double complex *s, double *e) {
  double ph = 2.0 * RF_PI / lambda_m * (p[0] * d[0] + p[1] * d[1] + p[2] * d[2]);
  *s += (double complex)w * cexp(I * ph);
  *e += creal(w * conjf(w));
}

static double rf__gain_ratio(double complex s, double e, size_t channels) {
  return e > 0 ? creal(s * conj(s)) / ((double)channels * e) : 0.0;
}

double rf_beam_gain(const double (*pos_m)[3], size_t channels, double lambda_m,
                    const float complex *w, double az_deg, double el_deg) {
  double d[3];
  rf_direction(az_deg, el_deg, d);
  double complex s = 0;
  double e = 0;
  for (size_t n = 0; n < channels; n++) rf__gain_add(pos_m[n], lambda_m, d, w[n], &s, &e);
  return rf__gain_ratio(s, e, channels);
}

/* rf_beam_gain of the beam st (normalised by k) toward (az, el), its
 * weights made element by element as rf_beam_weights makes them, so no
 * weight array is needed. */
static double rf__steer_gain(const rf__steer *st, float k, const double (*pos_m)[3], size_t channels,
                             double az_deg, double el_deg) {
  double d[3];
  rf_direction(az_deg, el_deg, d);
  double complex s = 0;
  double e = 0;
  for (size_t n = 0; n < channels; n++) {
    float complex w = rf__steer_weight(st, pos_m[n], rf__steer_taper(st, pos_m[n]));
    w *= k;
    rf__gain_add(pos_m[n], st->lambda_m, d, w, &s, &e);
  }
  return rf__gain_ratio(s, e, channels);
}

double rf_beam_pattern(const double (*pos_m)[3], size_t channels, double lambda_m, double beam_az_deg,
                       double beam_el_deg, int taper, double taylor_sll_db, int taylor_nbar, double az_deg,
                       double el_deg) {
  rf__steer st;
  rf__steer_init(&st, pos_m, channels, lambda_m, beam_az_deg, beam_el_deg, taper, taylor_sll_db, taylor_nbar);
  double norm = 0;
  for (size_t n = 0; n < channels; n++) {
    double t = rf__steer_taper(&st, pos_m[n]);
    norm += t * t;
  }
  return norm > 0 ? rf__steer_gain(&st, (float)(1.0 / sqrt(norm)), pos_m, channels, az_deg, el_deg) : 0.0;
}

double rf_beamwidth_deg(const double (*pos_m)[3], size_t channels, double lambda_m,
                        double az_deg, double el_deg, int axis, int taper,
                        double taylor_sll_db, int taylor_nbar) {
  rf__steer st;
  rf__steer_init(&st, pos_m, channels, lambda_m, az_deg, el_deg, taper, taylor_sll_db, taylor_nbar);
  double ap = axis ? st.av : st.ah;
  if (ap < 0.25 * lambda_m) return 0.0;
  double norm = 0;
  for (size_t n = 0; n < channels; n++) {
    double t = rf__steer_taper(&st, pos_m[n]);
    norm += t * t;
  }
  const float k = (float)(1.0 / sqrt(norm));
  double g0 = rf__steer_gain(&st, k, pos_m, channels, az_deg, el_deg);
  /* Half-power points on each side by bisection between the peak and the
   * first-null estimate 2 lambda / aperture (generous for any taper). */
  double width = 0;
  for (int side = -1; side <= 1; side += 2) {
    double lo = 0.0, hi = 2.0 * lambda_m / ap * 180.0 / RF_PI;
    for (int it = 0; it < 60; it++) {
      double mid = 0.5 * (lo + hi), off = side * mid;
      double g = axis ? rf__steer_gain(&st, k, pos_m, channels, az_deg, el_deg + off)
                      : rf__steer_gain(&st, k, pos_m, channels, az_deg + off / cos(el_deg * RF_PI / 180.0), el_deg);
      if (g > 0.5 * g0)
        lo = mid;
      else
        hi = mid;
    }
    width += lo;
  }
  return axis ? width : width / cos(el_deg * RF_PI / 180.0);
}
