/* radarflow: stage 4 on an OpenCL device - VkFFT transform along slow time
 * of dop [B][K][S] (rows [pout, K) are zero padding, never read), then
 * kernels/doppler.cl: notch mean removal in the frequency domain, fftshift,
 * |.|^2. Twin of rf_doppler_execute; the window comes from an rf_doppler
 * object and its spectrum W[k] is computed here in double. */
#include "rf_cl.h"

#include <math.h>

struct rf_doppler_cl {
  rf_cl *cl;
  rf_doppler *ref;
  rf_doppler_config cfg;
  size_t beams, pout;
  cl_mem win, wft;
  cl_kernel k;
  rf_cl_fft *fft;
};

cl_mem rf_doppler_cl_window(const rf_doppler_cl *d) { return d->win; }

void rf_doppler_cl_destroy(rf_doppler_cl *d) {
  if (!d) return;
  rf_cl_fft_destroy(d->fft);
  if (d->k) clReleaseKernel(d->k);
  rf_cl_free(d->cl, d->win);
  rf_cl_free(d->cl, d->wft);
  rf_doppler_destroy(d->ref);
  rf__free(d);
}

int rf_doppler_cl_create(rf_doppler_cl **out, rf_cl *cl, const rf_doppler_config *cfg, size_t beams,
                         cl_mem dop) {
  *out = NULL;
  rf_doppler_cl *d = rf__calloc(1, sizeof *d);
  float *wft = NULL;
  if (!d) return rf__err(RF_ENOMEM, "doppler (opencl): out of memory");
  d->cl = cl;
  d->cfg = *cfg;
  d->beams = beams;
  int st;
  /* The reference object (for the window) needs only one range cell. */
  rf_doppler_config c1 = *cfg;
  c1.cells = 1;
  if ((st = rf_doppler_create(&d->ref, &c1))) goto fail;
  const float *win;
  rf_doppler_tables(d->ref, &win, &d->pout);
  const size_t k = cfg->nfft;
  if (!(wft = rf__malloc(k * 2 * sizeof *wft))) {
    st = rf__err(RF_ENOMEM, "doppler (opencl): out of memory");
    goto fail;
  }
  for (size_t j = 0; j < k; j++) { /* W[j] = sum_p w[p] exp(-2 pi i j p / K) */
    double re = 0, im = 0;
    for (size_t p = 0; p < d->pout; p++) {
      double ph = -2.0 * RF_PI * (double)((j * p) % k) / (double)k;
      re += win[p] * cos(ph);
      im += win[p] * sin(ph);
    }
    wft[2 * j] = (float)re;
    wft[2 * j + 1] = (float)im;
  }
  cl_command_queue q = rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE);
  if ((st = rf_cl_alloc(cl, d->pout * sizeof(float), CL_MEM_READ_ONLY, "Doppler window", &d->win)) ||
      (st = rf_cl_alloc(cl, k * 8, CL_MEM_READ_ONLY, "window spectrum", &d->wft)))
    goto fail;
  cl_int e = clEnqueueWriteBuffer(q, d->win, CL_TRUE, 0, d->pout * sizeof(float), win, 0, NULL, NULL);
  if (e == CL_SUCCESS) e = clEnqueueWriteBuffer(q, d->wft, CL_TRUE, 0, k * 8, wft, 0, NULL, NULL);
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "doppler: upload");
    goto fail;
  }
  if ((st = rf_cl_kernel(cl, "rf_doppler_power", &d->k)) ||
      (st = rf_cl_fft_create(cl, &d->fft, k, cfg->cells, beams, d->pout, dop)))
    goto fail;
  rf__free(wft);
  *out = d;
  return 0;
fail:
  rf__free(wft);
  rf_doppler_cl_destroy(d);
  return st;
}

int rf_doppler_cl_execute(rf_doppler_cl *d, cl_command_queue q, cl_mem dop, cl_mem sums, size_t groups,
                          cl_mem power, cl_uint nwait, const cl_event *wait, cl_event *done) {
  int st;
  if (nwait) {
    cl_int e = clEnqueueBarrierWithWaitList(q, nwait, wait, NULL);
    if (e != CL_SUCCESS) return rf__cl_err(e, "doppler: barrier");
  }
  if ((st = rf_cl_fft_enqueue(d->fft, q, 0, dop))) return st;
  cl_uint ag = (cl_uint)groups, ap = (cl_uint)d->cfg.pulses, ak = (cl_uint)d->cfg.nfft,
          as = (cl_uint)d->cfg.cells, ab = (cl_uint)d->beams;
  cl_int acl = d->cfg.clutter, anb = d->cfg.notch_bins;
  if ((st = rf_cl_args(d->k, "rf_doppler_power", 11, sizeof(cl_mem), &dop, sizeof(cl_mem), &sums, sizeof ag,
                       &ag, sizeof ap, &ap, sizeof(cl_mem), &d->wft, sizeof acl, &acl, sizeof anb, &anb,
                       sizeof ak, &ak, sizeof as, &as, sizeof ab, &ab, sizeof(cl_mem), &power)))
    return st;
  size_t g[3] = {d->cfg.cells, d->cfg.nfft, d->beams}, loc[3] = {64, 1, 1};
  return rf_cl_run(d->cl, q, d->k, "rf_doppler_power", 3, g, loc, 0, NULL, done);
}
