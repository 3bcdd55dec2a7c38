/* radarflow: stages 1 and 2 - sample conversion and calibration, then pulse
 * compression by fast convolution with the conjugated (tapered) replica.
 * Rows are independent: each thread converts a row into its own zero-padded
 * scratch, transforms it, multiplies and transforms back (FFTW new-array
 * execute on one plan pair, which is thread-safe). */
#include "rf_stages.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <string.h>

struct rf_pc {
  size_t n, s, m, l;         /* channels, samples, replica length, FFT length */
  int sample_type;
  float *gain;               /* [N][2]: scale * calibration */
  float *h;                  /* [L][2]: conj(FFT(tapered replica)) / (L ||h||) */
  float *scratch;            /* [threads][L][2] */
  int threads;
  fftwf_plan fwd, inv;
  double corr[RF_PC_MAX_CORR]; /* |r(k)|^2 / |r(0)|^2 of the output noise */
  size_t corr_len;
  double complex acf[RF_PC_MAX_ACF]; /* r(k) / r(0) */
  size_t acf_len;
  /* Point-target response |y(x)|^2 / |y(0)|^2: fine table over |x| <=
   * RF_PC_FINE_CELLS in 1/RF_PC_FINE_STEPS cells, integer lags (-m, m). */
  float *resp_fine;          /* [2 RF_PC_FINE_CELLS RF_PC_FINE_STEPS + 1] */
  float *resp_int;           /* [2 m - 1], lag k at index k + m - 1 */
  size_t mainlobe;           /* lags either side inside the main lobe */
};

static int rf__good_len(size_t n) {
  static const size_t f[] = {2, 3, 5, 7};
  for (size_t i = 0; i < 4; i++)
    while (n % f[i] == 0) n /= f[i];
  return n == 1;
}

size_t rf_pc_fft_len(size_t s, size_t m) {
  size_t l = s + m - 1;
  while (!rf__good_len(l)) l++;
  return l;
}

void rf_pc_correlate_ref(const float complex *x, size_t s, const float complex *h, size_t m,
                         float complex *y) {
  for (size_t r = 0; r < s; r++) {
    double complex acc = 0;
    for (size_t k = 0; k < m && r + k < s; k++) acc += (double complex)x[r + k] * conj(h[k]);
    y[r] = (float complex)acc;
  }
}

/* Output noise autocorrelation for white input: r = IFFT(|FFT(h)|^2), with
 * h's transform in pc->h (before conjugation and scaling). Uses the first
 * thread's scratch. Keeps lags down to 1e-4 of lag 0 (intensity), and the
 * complex amplitude correlation down to |r(k) / r(0)|^2 < 1e-7. */
static void rf__pc_noise_corr(rf_pc *pc) {
  float *x = pc->scratch;
  for (size_t k = 0; k < pc->l; k++) {
    x[2 * k] = pc->h[2 * k] * pc->h[2 * k] + pc->h[2 * k + 1] * pc->h[2 * k + 1];
    x[2 * k + 1] = 0.0f;
  }
  fftwf_execute_dft(pc->inv, (fftwf_complex *)x, (fftwf_complex *)x);
  double r0 = (double)x[0] * x[0] + (double)x[1] * x[1];
  pc->corr_len = 0;
  for (size_t k = 0; k < RF_PC_MAX_CORR && k < pc->m; k++) {
    double rk = ((double)x[2 * k] * x[2 * k] + (double)x[2 * k + 1] * x[2 * k + 1]) / r0;
    if (k > 0 && rk < 1e-4) break;
    pc->corr[pc->corr_len++] = rk;
  }
  pc->acf_len = 0;
  double complex c0 = x[0] + I * x[1];
  for (size_t k = 0; k < RF_PC_MAX_ACF && k < pc->m; k++) {
    double complex rk = (x[2 * k] + I * x[2 * k + 1]) / c0;
    if (k > 0 && creal(rk * conj(rk)) < 1e-7) break;
    pc->acf[pc->acf_len++] = rk;
  }
}

/* The point-target response: y(x) = sum_m s(m + x) conj(h(m)) for the
 * band-limited replica s and the filter h = taper s, from Y = S conj(H) on
 * a grid of l2 >= 2m points; fractional lags by the band-limited sum
 * y(x) = 1/l2 sum_f Y(f) exp(j 2 pi f x / l2), f in (-l2/2, l2/2]. */
static int rf__pc_response(rf_pc *pc, const float complex *ref, const double *taper) {
  const size_t m = pc->m, l2 = rf_pc_fft_len(2 * m, 1), nf = 2 * RF_PC_FINE_CELLS * RF_PC_FINE_STEPS + 1;
  fftwf_complex *a = fftwf_malloc(l2 * sizeof *a), *b = fftwf_malloc(l2 * sizeof *b);
  double complex *y = rf__malloc(l2 * sizeof *y);
  fftwf_plan pa = NULL, pb = NULL;
  int st = -1;
  pc->resp_fine = rf__malloc(nf * sizeof *pc->resp_fine);
  pc->resp_int = rf__malloc((2 * m - 1) * sizeof *pc->resp_int);
  if (!a || !b || !y || !pc->resp_fine || !pc->resp_int) goto done;
  pa = fftwf_plan_dft_1d((int)l2, a, a, FFTW_FORWARD, FFTW_ESTIMATE);
  pb = fftwf_plan_dft_1d((int)l2, b, b, FFTW_FORWARD, FFTW_ESTIMATE);
  if (!pa || !pb) goto done;
  memset(a, 0, l2 * sizeof *a);
  memset(b, 0, l2 * sizeof *b);
  for (size_t k = 0; k < m; k++) {
    a[k] = ref[k];
    b[k] = (float)taper[k] * ref[k];
  }
  fftwf_execute(pa);
  fftwf_execute(pb);
  for (size_t f = 0; f < l2; f++) y[f] = (double complex)a[f] * conj((double complex)b[f]) / (double)l2;
  /* Fine: direct band-limited sums (a few hundred points). */
  double y0 = 0;
  for (size_t i = 0; i < nf; i++) {
    double x = ((double)i - (double)(nf / 2)) / RF_PC_FINE_STEPS;
    double complex v = 0;
    for (size_t f = 0; f < l2; f++) {
      double fr = f <= l2 / 2 ? (double)f : (double)f - (double)l2;
      v += y[f] * cexp(I * 2.0 * RF_PI * fr * x / (double)l2);
    }
    pc->resp_fine[i] = (float)creal(v * conj(v));
    if (i == nf / 2) y0 = creal(v * conj(v));
  }
  if (!(y0 > 0)) goto done;
  /* Integer lags: the inverse transform (as the forward one of the conjugate). */
  for (size_t f = 0; f < l2; f++) b[f] = (float complex)conj(y[f]);
  fftwf_execute(pb);
  for (long k = -(long)m + 1; k < (long)m; k++) {
    double complex v = conj((double complex)b[(size_t)((k + (long)l2) % (long)l2)]);
    pc->resp_int[k + (long)m - 1] = (float)(creal(v * conj(v)) / y0);
  }
  for (size_t i = 0; i < nf; i++) pc->resp_fine[i] = (float)(pc->resp_fine[i] / y0);
  /* Main lobe: lags to the first local minimum (or -30 dB) on either side. */
  pc->mainlobe = 0;
  for (int side = -1; side <= 1; side += 2) {
    size_t k = 1;
    while (k < m) {
      double v = pc->resp_int[side * (long)k + (long)m - 1];
      double nx = k + 1 < m ? pc->resp_int[side * (long)(k + 1) + (long)m - 1] : 0.0;
      if (v < 1e-3 || nx >= v) break;
      k++;
    }
    if (k - 1 > pc->mainlobe) pc->mainlobe = k - 1;
  }
  st = 0;
done:
  if (pa) fftwf_destroy_plan(pa);
  if (pb) fftwf_destroy_plan(pb);
  fftwf_free(a);
  fftwf_free(b);
  rf__free(y);
  return st;
}

size_t rf_pc_noise_acf(const rf_pc *pc, const double complex **acf) {
  *acf = pc->acf;
  return pc->acf_len;
}

size_t rf_pc_replica_len(const rf_pc *pc) { return pc->m; }

size_t rf_pc_mainlobe(const rf_pc *pc) { return pc->mainlobe; }

double rf_pc_response(const rf_pc *pc, double x) {
  const double span = RF_PC_FINE_CELLS;
  if (fabs(x) <= span) {
    double u = (x + span) * RF_PC_FINE_STEPS;
    size_t i = (size_t)floor(u);
    size_t nmax = 2 * RF_PC_FINE_CELLS * RF_PC_FINE_STEPS;
    if (i >= nmax) return pc->resp_fine[nmax];
    double f = u - (double)i;
    return (1.0 - f) * pc->resp_fine[i] + f * pc->resp_fine[i + 1];
  }
  /* Sidelobes: the largest integer-lag value within one cell (an envelope
   * for targets between cells); 0 past the replica. */
  long k0 = (long)floor(x) - 1, k1 = (long)ceil(x) + 1, m = (long)pc->m;
  double v = 0;
  for (long k = k0; k <= k1; k++)
    if (k > -m && k < m && pc->resp_int[k + m - 1] > v) v = pc->resp_int[k + m - 1];
  return v;
}

size_t rf_pc_noise_corr(const rf_pc *pc, const double **corr) {
  *corr = pc->corr;
  return pc->corr_len;
}

void rf_pc_destroy(rf_pc *pc) {
  if (!pc) return;
  if (pc->fwd) fftwf_destroy_plan(pc->fwd);
  if (pc->inv) fftwf_destroy_plan(pc->inv);
  rf__free_aligned(pc->scratch);
  rf__free_aligned(pc->h);
  rf__free(pc->resp_fine);
  rf__free(pc->resp_int);
  rf__free(pc->gain);
  rf__free(pc);
}

int rf_pc_create(rf_pc **out, const rf_pc_config *cfg) {
  *out = NULL;
  if (!cfg || cfg->channels < 1 || cfg->samples < 1 || !cfg->reference || cfg->ref_len < 1 ||
      cfg->ref_len > cfg->samples ||
      (cfg->sample_type != RF_SAMPLE_INT16 && cfg->sample_type != RF_SAMPLE_FLOAT32) ||
      !isfinite(cfg->scale))
    return rf__err(RF_EINVAL, "pulse compression: invalid configuration");
  int status = RF_ENOMEM;
  double *taper = NULL;
  rf_pc *pc = rf__calloc(1, sizeof *pc);
  if (!pc) goto fail;
  pc->n = cfg->channels;
  pc->s = cfg->samples;
  pc->m = cfg->ref_len;
  pc->l = rf_pc_fft_len(pc->s, pc->m);
  pc->sample_type = cfg->sample_type;
  pc->threads = omp_get_max_threads();
  pc->gain = rf__malloc(pc->n * 2 * sizeof(float));
  pc->h = rf__malloc_aligned(pc->l * 2 * sizeof(float));
  pc->scratch = rf__malloc_aligned((size_t)pc->threads * pc->l * 2 * sizeof(float));
  taper = rf__malloc(pc->m * sizeof(double));
  if (!pc->gain || !pc->h || !pc->scratch || !taper) goto fail;

  for (size_t i = 0; i < pc->n; i++) {
    float complex g = (float)cfg->scale * (cfg->calibration ? cfg->calibration[i] : 1.0f);
    pc->gain[2 * i] = crealf(g);
    pc->gain[2 * i + 1] = cimagf(g);
  }
  fftwf_complex *h = (fftwf_complex *)pc->h;
  pc->fwd = fftwf_plan_dft_1d((int)pc->l, h, h, FFTW_FORWARD, FFTW_ESTIMATE);
  pc->inv = fftwf_plan_dft_1d((int)pc->l, h, h, FFTW_BACKWARD, FFTW_ESTIMATE);
  if (!pc->fwd || !pc->inv) goto fail;

  /* Tapered replica, normalised so white noise keeps unit power. */
  rf_taper_fill(cfg->window, cfg->taylor_sll_db, cfg->taylor_nbar, pc->m, taper);
  double e = 0;
  for (size_t k = 0; k < pc->m; k++) {
    double complex v = taper[k] * (double complex)cfg->reference[k];
    e += creal(v * conj(v));
  }
  if (!(e > 0)) {
    status = rf__err(RF_EINVAL, "pulse compression: replica has no energy");
    goto fail;
  }
  double norm = 1.0 / ((double)pc->l * sqrt(e));
  memset(pc->h, 0, pc->l * 2 * sizeof(float));
  for (size_t k = 0; k < pc->m; k++) {
    float complex v = (float complex)(taper[k] * (double complex)cfg->reference[k]);
    pc->h[2 * k] = crealf(v);
    pc->h[2 * k + 1] = cimagf(v);
  }
  fftwf_execute(pc->fwd);
  rf__pc_noise_corr(pc);
  if (rf__pc_response(pc, cfg->reference, taper)) goto fail;
  for (size_t k = 0; k < pc->l; k++) {
    pc->h[2 * k] = (float)(pc->h[2 * k] * norm);
    pc->h[2 * k + 1] = (float)(-pc->h[2 * k + 1] * norm);
  }
  rf__free(taper);
  *out = pc;
  return 0;
fail:
  rf__free(taper);
  rf_pc_destroy(pc);
  return status == RF_ENOMEM ? rf__err(RF_ENOMEM, "pulse compression: out of memory") : status;
}

/* The per-row loops, four complex samples at a time (GCC vector types,
 * an AVX2 clone picked at load time where the CPU has it). Each lane does
 * the scalar arithmetic, in the same order, with no fused multiply-add, so
 * every clone gives the same bits as the plain loop: re = ar br - ai bi,
 * im = ai br + ar bi. */
typedef float rf__v8f __attribute__((vector_size(32)));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RF__PC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RF__PC_CLONES
#endif

/* *a *= *b, four complex lanes (by pointer: a 32-byte vector passed by
 * value would change the ABI of the baseline clone). */
static inline void rf__cmul4(rf__v8f *a, const rf__v8f *b) {
  const rf__v8f sg = {-1, 1, -1, 1, -1, 1, -1, 1};
  rf__v8f br = __builtin_shufflevector(*b, *b, 0, 0, 2, 2, 4, 4, 6, 6);
  rf__v8f bi = __builtin_shufflevector(*b, *b, 1, 1, 3, 3, 5, 5, 7, 7);
  rf__v8f as = __builtin_shufflevector(*a, *a, 1, 0, 3, 2, 5, 4, 7, 6);
  *a = *a * br + as * (bi * sg);
}

/* x[i] = (in[2i], in[2i+1]) * g for i < s (float32 or int16 pairs). */
RF__PC_CLONES static void rf__pc_load_f32(const float *in, size_t s, const float *g, float *x) {
  const rf__v8f gv = {g[0], g[1], g[0], g[1], g[0], g[1], g[0], g[1]};
  size_t i = 0;
  for (; i + 4 <= s; i += 4) {
    rf__v8f v;
    memcpy(&v, in + 2 * i, sizeof v);
    rf__cmul4(&v, &gv);
    memcpy(x + 2 * i, &v, sizeof v);
  }
  for (; i < s; i++) {
    float a = in[2 * i], b = in[2 * i + 1];
    x[2 * i] = a * g[0] - b * g[1];
    x[2 * i + 1] = b * g[0] + a * g[1];
  }
}

RF__PC_CLONES static void rf__pc_load_i16(const int16_t *in, size_t s, const float *g, float *x) {
  const rf__v8f gv = {g[0], g[1], g[0], g[1], g[0], g[1], g[0], g[1]};
  size_t i = 0;
  for (; i + 4 <= s; i += 4) {
    typedef int16_t v8s __attribute__((vector_size(16)));
    v8s w;
    memcpy(&w, in + 2 * i, sizeof w);
    rf__v8f v = __builtin_convertvector(w, rf__v8f);
    rf__cmul4(&v, &gv);
    memcpy(x + 2 * i, &v, sizeof v);
  }
  for (; i < s; i++) {
    float a = in[2 * i], b = in[2 * i + 1];
    x[2 * i] = a * g[0] - b * g[1];
    x[2 * i + 1] = b * g[0] + a * g[1];
  }
}

/* x[k] *= h[k] for k < l. */
RF__PC_CLONES static void rf__pc_mul(float *x, const float *h, size_t l) {
  size_t k = 0;
  for (; k + 4 <= l; k += 4) {
    rf__v8f v, w;
    memcpy(&v, x + 2 * k, sizeof v);
    memcpy(&w, h + 2 * k, sizeof w);
    rf__cmul4(&v, &w);
    memcpy(x + 2 * k, &v, sizeof v);
  }
  for (; k < l; k++) {
    float a = x[2 * k], b = x[2 * k + 1], c = h[2 * k], d = h[2 * k + 1];
    x[2 * k] = a * c - b * d;
    x[2 * k + 1] = b * c + a * d;
  }
}

/* Converts one raw row (S pairs) into x (L pairs), zero padded, times g. */
static void rf__pc_load(const rf_pc *pc, const void *raw, size_t row, const float *g, float *x) {
  const size_t s = pc->s;
  if (pc->sample_type == RF_SAMPLE_INT16)
    rf__pc_load_i16((const int16_t *)raw + row * s * 2, s, g, x);
  else
    rf__pc_load_f32((const float *)raw + row * s * 2, s, g, x);
  memset(x + 2 * s, 0, (pc->l - s) * 2 * sizeof(float));
}

int rf_pc_execute(rf_pc *pc, const void *raw, size_t pulses, float complex *out) {
  const long rows = (long)(pulses * pc->n);
  const size_t l = pc->l, s = pc->s;
#pragma omp parallel for schedule(static) num_threads(pc->threads)
  for (long row = 0; row < rows; row++) {
    float *x = pc->scratch + (size_t)omp_get_thread_num() * l * 2;
    rf__pc_load(pc, raw, (size_t)row, pc->gain + 2 * ((size_t)row % pc->n), x);
    fftwf_execute_dft(pc->fwd, (fftwf_complex *)x, (fftwf_complex *)x);
    rf__pc_mul(x, pc->h, l);
    fftwf_execute_dft(pc->inv, (fftwf_complex *)x, (fftwf_complex *)x);
    memcpy(out + (size_t)row * s, x, s * 2 * sizeof(float));
  }
  return 0;
}

void rf_pc_tables(const rf_pc *pc, const float **h, size_t *l, const float **gain) {
  *h = pc->h;
  *l = pc->l;
  *gain = pc->gain;
}
