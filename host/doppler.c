/* radarflow: stage 4 - clutter filter (slow-time mean removal plus a blanked
 * notch, or a 2/3-pulse MTI canceller), slow-time window, Doppler FFT across
 * the CPI, fftshift and square law. Threads take blocks of range cells; each
 * block is filtered, windowed and transformed in place in one [K][S] work
 * buffer (FFTW many-plan with stride S, new-array execute per block). */
#include "rf_stages.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#define RF_DOP_BLOCK 64 /* range cells per block (multiple of 8: plan alignment) */

struct rf_doppler {
  rf_doppler_config cfg;
  size_t pout;               /* pulses after the canceller */
  float *win;                /* [pout] window / sqrt(noise gain) */
  float *work;               /* [K][S][2] */
  fftwf_plan plan_block, plan_tail;
  size_t tail;               /* S % block */
  int threads;
};

void rf_doppler_destroy(rf_doppler *d) {
  if (!d) return;
  if (d->plan_block) fftwf_destroy_plan(d->plan_block);
  if (d->plan_tail) fftwf_destroy_plan(d->plan_tail);
  rf__free_aligned(d->work);
  rf__free(d->win);
  rf__free(d);
}

static fftwf_plan rf__dop_plan(float *work, size_t k, size_t s, size_t howmany) {
  int n = (int)k;
  fftwf_complex *a = (fftwf_complex *)work;
  return fftwf_plan_many_dft(1, &n, (int)howmany, a, NULL, (int)s, 1, a, NULL, (int)s, 1,
                             FFTW_FORWARD, FFTW_ESTIMATE);
}

int rf_doppler_create(rf_doppler **out, const rf_doppler_config *cfg) {
  *out = NULL;
  size_t drop = cfg->clutter == RF_CLUTTER_MTI2 ? 1 : cfg->clutter == RF_CLUTTER_MTI3 ? 2 : 0;
  if (cfg->pulses < 1 + drop || cfg->cells < 1 || cfg->nfft < cfg->pulses - drop ||
      cfg->clutter < RF_CLUTTER_NONE || cfg->clutter > RF_CLUTTER_MTI3 || cfg->notch_bins < 0)
    return rf__err(RF_EINVAL, "doppler: invalid configuration (pulses %zu, bins %zu)",
                   cfg->pulses, cfg->nfft);
  rf_doppler *d = rf__calloc(1, sizeof *d);
  double *w = NULL;
  if (!d) goto nomem;
  d->cfg = *cfg;
  d->pout = cfg->pulses - drop;
  d->threads = omp_get_max_threads();
  d->tail = cfg->cells % RF_DOP_BLOCK;
  d->win = rf__malloc(d->pout * sizeof(float));
  w = rf__malloc(d->pout * sizeof(double));
  d->work = rf__malloc_aligned(cfg->nfft * cfg->cells * 2 * sizeof(float));
  if (!d->win || !w || !d->work) goto nomem;
  /* Window scaled so unit-power white noise gives unit mean power per bin:
   * divide by sqrt(sum w^2 * canceller noise gain). */
  rf_taper_fill(cfg->window, cfg->taylor_sll_db, cfg->taylor_nbar, d->pout, w);
  double g = cfg->clutter == RF_CLUTTER_MTI2 ? 2.0 : cfg->clutter == RF_CLUTTER_MTI3 ? 6.0 : 1.0;
  double e = 0;
  for (size_t i = 0; i < d->pout; i++) e += w[i] * w[i];
  for (size_t i = 0; i < d->pout; i++) d->win[i] = (float)(w[i] / sqrt(e * g));
  rf__free(w);
  w = NULL;
  if (cfg->cells >= RF_DOP_BLOCK) {
    d->plan_block = rf__dop_plan(d->work, cfg->nfft, cfg->cells, RF_DOP_BLOCK);
    if (!d->plan_block) goto nomem;
  }
  if (d->tail) {
    d->plan_tail = rf__dop_plan(d->work, cfg->nfft, cfg->cells, d->tail);
    if (!d->plan_tail) goto nomem;
  }
  *out = d;
  return 0;
nomem:
  rf__free(w);
  rf_doppler_destroy(d);
  return rf__err(RF_ENOMEM, "doppler: out of memory");
}

int rf_doppler_execute(rf_doppler *d, const float complex *in, float *power) {
  const size_t s = d->cfg.cells, k = d->cfg.nfft, p = d->cfg.pulses, pout = d->pout;
  const size_t blocks = (s + RF_DOP_BLOCK - 1) / RF_DOP_BLOCK;
  const int clutter = d->cfg.clutter;
  const long notch = d->cfg.notch_bins;
  const float *x = (const float *)in;
#pragma omp parallel for schedule(static) num_threads(d->threads)
  for (long bl = 0; bl < (long)blocks; bl++) {
    size_t c0 = (size_t)bl * RF_DOP_BLOCK;
    size_t len = s - c0 < RF_DOP_BLOCK ? s - c0 : RF_DOP_BLOCK;
    float *wk = d->work;
    float mean[2 * RF_DOP_BLOCK];
    memset(mean, 0, sizeof mean);
    if (clutter == RF_CLUTTER_NOTCH) {
      for (size_t i = 0; i < p; i++)
        for (size_t c = 0; c < 2 * len; c++) mean[c] += x[2 * (i * s + c0) + c];
      for (size_t c = 0; c < 2 * len; c++) mean[c] /= (float)p;
    }
    for (size_t i = 0; i < pout; i++) {
      const float *a = x + 2 * (i * s + c0);
      float *o = wk + 2 * (i * s + c0);
      const float wi = d->win[i];
      if (clutter == RF_CLUTTER_MTI2) {
        const float *b = a + 2 * s;
        for (size_t c = 0; c < 2 * len; c++) o[c] = wi * (b[c] - a[c]);
      } else if (clutter == RF_CLUTTER_MTI3) {
        const float *b = a + 2 * s, *e = a + 4 * s;
        for (size_t c = 0; c < 2 * len; c++) o[c] = wi * (e[c] - 2.0f * b[c] + a[c]);
      } else {
        for (size_t c = 0; c < 2 * len; c++) o[c] = wi * (a[c] - mean[c]);
      }
    }
    for (size_t i = pout; i < k; i++) memset(wk + 2 * (i * s + c0), 0, 2 * len * sizeof(float));
    fftwf_plan plan = len == RF_DOP_BLOCK ? d->plan_block : d->plan_tail;
    fftwf_execute_dft(plan, (fftwf_complex *)(wk + 2 * c0), (fftwf_complex *)(wk + 2 * c0));
    /* fftshift: output bin j holds FFT bin (j + K/2) mod K. */
    for (size_t j = 0; j < k; j++) {
      const float *v = wk + 2 * (((j + k / 2) % k) * s + c0);
      float *pw = power + j * s + c0;
      long off = (long)j - (long)(k / 2);
      if (clutter == RF_CLUTTER_NOTCH && off >= -notch && off <= notch) {
        memset(pw, 0, len * sizeof(float));
        continue;
      }
      for (size_t c = 0; c < len; c++) pw[c] = v[2 * c] * v[2 * c] + v[2 * c + 1] * v[2 * c + 1];
    }
  }
  return 0;
}

void rf_doppler_tables(const rf_doppler *d, const float **win, size_t *pout) {
  *win = d->win;
  *pout = d->pout;
}
