/* radarflow: stage 4 on an OpenCL device (kernels/doppler.cl), twin of
 * rf_doppler_execute. Per block of pulses, rf_doppler_input forms the
 * Doppler FFT's input: beamforming fused in (the weights of an rf_bf_cl),
 * the clutter canceller, the slow-time window and the notch's slow-time
 * sums, straight into the slow-time rows of dop [B][K][S]. After a dwell's
 * last block: VkFFT along slow time (rows [pout, K) are zero padding, never
 * read), then rf_doppler_power: notch mean removal in the frequency domain,
 * fftshift, |.|^2. The window comes from an rf_doppler object and its
 * spectrum W[k] is computed here in double. Pulses of a block are split into
 * groups so that small range extents still fill a GPU; groups carry their
 * own notch sums (added in rf_doppler_power). */
#include "rf_cl.h"

#include <math.h>

struct rf_doppler_cl {
  rf_cl *cl;
  rf_doppler *ref;
  rf_doppler_config cfg;
  size_t beams, pout, groups, tb;
  cl_mem win, wft;
  cl_mem sums;             /* [groups][B][S] */
  cl_mem state[2];         /* [2][B][S] each: canceller history, in / out per block */
  int scur;
  cl_kernel input, power;
  rf_cl_fft *fft;
};

size_t rf_doppler_cl_groups(const rf_cl *cl, size_t cells, size_t beams, size_t pulses) {
  const rf_cl_tuning *t = rf_cl_tuning_get(cl);
  size_t items = cells * ((beams + t->bf_tb - 1) / t->bf_tb), groups = 1;
  /* double while there are too few work-items and each group keeps >= 8 pulses */
  while (groups * 2 <= t->max_groups && items * groups < t->target_items && pulses / (groups * 2) >= 8)
    groups *= 2;
  return groups;
}

void rf_doppler_cl_destroy(rf_doppler_cl *d) {
  if (!d) return;
  rf_cl_fft_destroy(d->fft);
  if (d->input) clReleaseKernel(d->input);
  if (d->power) clReleaseKernel(d->power);
  rf_cl_free(d->cl, d->win);
  rf_cl_free(d->cl, d->wft);
  rf_cl_free(d->cl, d->sums);
  rf_cl_free(d->cl, d->state[0]);
  rf_cl_free(d->cl, d->state[1]);
  rf_doppler_destroy(d->ref);
  rf__free(d);
}

int rf_doppler_cl_create(rf_doppler_cl **out, rf_cl *cl, const rf_doppler_config *cfg, size_t beams,
                         size_t groups, cl_mem dop) {
  *out = NULL;
  if (!beams) return rf__err(RF_EINVAL, "doppler (opencl): no beams");
  rf_doppler_cl *d = rf__calloc(1, sizeof *d);
  float *wft = NULL;
  if (!d) return rf__err(RF_ENOMEM, "doppler (opencl): out of memory");
  d->cl = cl;
  d->cfg = *cfg;
  d->beams = beams;
  d->tb = rf_cl_tuning_get(cl)->bf_tb;
  d->groups = groups ? groups : rf_doppler_cl_groups(cl, cfg->cells, beams, cfg->pulses);
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
  size_t plane = beams * cfg->cells * 8;
  if ((st = rf_cl_alloc(cl, d->pout * sizeof(float), CL_MEM_READ_ONLY, "Doppler window", &d->win)) ||
      (st = rf_cl_alloc(cl, k * 8, CL_MEM_READ_ONLY, "window spectrum", &d->wft)) ||
      (st = rf_cl_alloc(cl, d->groups * plane, CL_MEM_READ_WRITE, "notch sums", &d->sums)) ||
      (st = rf_cl_alloc(cl, 2 * plane, CL_MEM_READ_WRITE, "canceller state", &d->state[0])) ||
      (st = rf_cl_alloc(cl, 2 * plane, CL_MEM_READ_WRITE, "canceller state", &d->state[1])))
    goto fail;
  cl_int e = clEnqueueWriteBuffer(q, d->win, CL_TRUE, 0, d->pout * sizeof(float), win, 0, NULL, NULL);
  if (e == CL_SUCCESS) e = clEnqueueWriteBuffer(q, d->wft, CL_TRUE, 0, k * 8, wft, 0, NULL, NULL);
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "doppler: upload");
    goto fail;
  }
  rf_cl_fft_shape shape = {.len = k, .outer = cfg->cells, .zero_from = d->pout, .forward_only = 1};
  if ((st = rf_cl_kernel(cl, "rf_doppler_input", &d->input)) ||
      (st = rf_cl_kernel(cl, "rf_doppler_power", &d->power)) ||
      (st = rf_cl_fft_create(cl, &d->fft, &shape, beams, dop)))
    goto fail;
  rf__free(wft);
  *out = d;
  return 0;
fail:
  rf__free(wft);
  rf_doppler_cl_destroy(d);
  return st;
}

int rf_doppler_cl_input(rf_doppler_cl *d, cl_command_queue q, const rf_bf_cl *bf, cl_mem rows, size_t row_stride,
                        size_t pcount, size_t p_first, cl_mem dop, cl_uint nwait, const cl_event *wait,
                        cl_event *done) {
  size_t n, b;
  cl_mem w = rf_bf_cl_weights(bf, &n, &b);
  cl_uint ar_pch = (cl_uint)rf_bf_cl_per_channel(bf);
  if (b != d->beams || p_first + pcount > d->cfg.pulses)
    return rf__err(RF_EINVAL, "doppler (opencl): %zu beams, pulses [%zu, %zu), made for %zu beams, %zu pulses", b,
                   p_first, p_first + pcount, d->beams, d->cfg.pulses);
  if (p_first == 0) d->scur = 0;
  cl_mem sin = d->state[d->scur], sout = d->state[d->scur ^ 1];
  d->scur ^= 1;
  /* Every block uses all the groups (sums are per group). */
  cl_uint ar_n = (cl_uint)n, ar_s = (cl_uint)d->cfg.cells, ar_stride = (cl_uint)row_stride, ar_b = (cl_uint)b,
          ar_pc = (cl_uint)pcount, ar_pf = (cl_uint)p_first, ar_g = (cl_uint)d->groups, ar_k = (cl_uint)d->cfg.nfft;
  cl_int ar_cl = d->cfg.clutter;
  int st = rf_cl_args(d->input, "rf_doppler_input", 17, sizeof(cl_mem), &rows, sizeof ar_stride, &ar_stride,
                      sizeof ar_n, &ar_n, sizeof ar_s, &ar_s, sizeof(cl_mem), &w, sizeof ar_pch, &ar_pch,
                      sizeof ar_b, &ar_b, sizeof ar_pc,
                      &ar_pc, sizeof ar_pf, &ar_pf, sizeof ar_g, &ar_g, sizeof ar_cl, &ar_cl, sizeof(cl_mem),
                      &d->win, sizeof ar_k, &ar_k, sizeof(cl_mem), &dop, sizeof(cl_mem), &d->sums,
                      sizeof(cl_mem), &sin, sizeof(cl_mem), &sout);
  if (st) return st;
  size_t g[3] = {d->cfg.cells, (b + d->tb - 1) / d->tb, d->groups}, loc[3] = {rf_cl_tuning_get(d->cl)->wg, 1, 1};
  return rf_cl_run(d->cl, q, d->input, "rf_doppler_input", 3, g, loc, nwait, wait, done);
}

int rf_doppler_cl_execute(rf_doppler_cl *d, cl_command_queue q, cl_mem dop, cl_mem power, cl_uint nwait,
                          const cl_event *wait, cl_event *done) {
  int st;
  if (nwait) {
    cl_int e = clEnqueueBarrierWithWaitList(q, nwait, wait, NULL);
    if (e != CL_SUCCESS) return rf__cl_err(e, "doppler: barrier");
  }
  if ((st = rf_cl_fft_enqueue(d->fft, q, 0, dop))) return st;
  cl_uint ag = (cl_uint)d->groups, ap = (cl_uint)d->cfg.pulses, ak = (cl_uint)d->cfg.nfft,
          as = (cl_uint)d->cfg.cells, ab = (cl_uint)d->beams;
  cl_int acl = d->cfg.clutter, anb = d->cfg.notch_bins;
  if ((st = rf_cl_args(d->power, "rf_doppler_power", 11, sizeof(cl_mem), &dop, sizeof(cl_mem), &d->sums,
                       sizeof ag, &ag, sizeof ap, &ap, sizeof(cl_mem), &d->wft, sizeof acl, &acl, sizeof anb, &anb,
                       sizeof ak, &ak, sizeof as, &as, sizeof ab, &ab, sizeof(cl_mem), &power)))
    return st;
  size_t g[3] = {d->cfg.cells, d->cfg.nfft, d->beams}, loc[3] = {rf_cl_tuning_get(d->cl)->wg, 1, 1};
  return rf_cl_run(d->cl, q, d->power, "rf_doppler_power", 3, g, loc, 0, NULL, done);
}
