/* radarflow: stage 3 on an OpenCL device, fused with the canceller, the
 * slow-time window and the notch sums (kernels/beamform.cl). Twin of
 * rf_bf_execute plus the first half of rf_doppler_execute. Pulses of a
 * block are split into groups so that small range extents still fill a
 * GPU; groups carry their own notch sums (added in rf_doppler_power). */
#include "rf_cl.h"

#include <string.h>

#define RF_BF_TB 8 /* beams per work-item: kernels/beamform.cl */

struct rf_bf_cl {
  rf_cl *cl;
  size_t n, b, cells, tiles, groups;
  cl_mem w[2];             /* [tiles * TB][N], alternating per dwell */
  float complex *wh[2];    /* host copies the non-blocking writes read from */
  int wcur;
  cl_mem sums;             /* [groups][B][S] */
  cl_mem state[2];         /* [2][B][S] each: alternate in / out per block */
  int scur;
  cl_kernel k;
};

cl_mem rf_bf_cl_sums(const rf_bf_cl *bf, size_t *groups) {
  *groups = bf->groups;
  return bf->sums;
}

void rf_bf_cl_destroy(rf_bf_cl *bf) {
  if (!bf) return;
  if (bf->k) clReleaseKernel(bf->k);
  for (int i = 0; i < 2; i++) {
    rf_cl_free(bf->cl, bf->w[i]);
    rf_cl_free(bf->cl, bf->state[i]);
    rf__free(bf->wh[i]);
  }
  rf_cl_free(bf->cl, bf->sums);
  rf__free(bf);
}

int rf_bf_cl_create(rf_bf_cl **out, rf_cl *cl, size_t channels, size_t beams, size_t cells,
                    size_t max_groups) {
  *out = NULL;
  if (!channels || !beams || !cells) return rf__err(RF_EINVAL, "beamforming (opencl): invalid sizes");
  rf_bf_cl *bf = rf__calloc(1, sizeof *bf);
  if (!bf) return rf__err(RF_ENOMEM, "beamforming (opencl): out of memory");
  bf->cl = cl;
  bf->n = channels;
  bf->b = beams;
  bf->cells = cells;
  bf->tiles = (beams + RF_BF_TB - 1) / RF_BF_TB;
  bf->groups = max_groups ? max_groups : 1;
  int st;
  size_t wbytes = bf->tiles * RF_BF_TB * channels * 8, plane = beams * cells * 8;
  for (int i = 0; i < 2; i++) {
    if (!(bf->wh[i] = rf__calloc(bf->tiles * RF_BF_TB * channels, sizeof(float complex)))) {
      st = rf__err(RF_ENOMEM, "beamforming (opencl): out of memory");
      goto fail;
    }
    if ((st = rf_cl_alloc(cl, wbytes, CL_MEM_READ_ONLY, "beam weights", &bf->w[i])) ||
        (st = rf_cl_alloc(cl, 2 * plane, CL_MEM_READ_WRITE, "canceller state", &bf->state[i])))
      goto fail;
  }
  if ((st = rf_cl_alloc(cl, bf->groups * plane, CL_MEM_READ_WRITE, "notch sums", &bf->sums)) ||
      (st = rf_cl_kernel(cl, "rf_bf_doppler", &bf->k)))
    goto fail;
  *out = bf;
  return 0;
fail:
  rf_bf_cl_destroy(bf);
  return st;
}

int rf_bf_cl_set_weights(rf_bf_cl *bf, cl_command_queue q, const float complex *w) {
  bf->wcur ^= 1;
  float complex *h = bf->wh[bf->wcur];
  memcpy(h, w, bf->b * bf->n * sizeof *h); /* rows past B stay zero */
  cl_int e = clEnqueueWriteBuffer(q, bf->w[bf->wcur], CL_FALSE, 0, bf->tiles * RF_BF_TB * bf->n * 8, h, 0,
                                  NULL, NULL);
  return e == CL_SUCCESS ? 0 : rf__cl_err(e, "beamforming: weights upload");
}

int rf_bf_cl_execute(rf_bf_cl *bf, cl_command_queue q, cl_mem rows, size_t row_stride, size_t pcount,
                     size_t p_first, size_t pulses, int clutter, cl_mem win, size_t bins, cl_mem dop,
                     cl_uint nwait, const cl_event *wait, cl_event *done) {
  (void)pulses;
  if (p_first == 0) bf->scur = 0;
  cl_mem sin = bf->state[bf->scur], sout = bf->state[bf->scur ^ 1];
  bf->scur ^= 1;
  /* Every block uses all the groups (sums are per group); a group with no
   * pulse of a short block returns at once. */
  cl_uint ar_n = (cl_uint)bf->n, ar_s = (cl_uint)bf->cells, ar_stride = (cl_uint)row_stride,
          ar_b = (cl_uint)bf->b, ar_pc = (cl_uint)pcount, ar_pf = (cl_uint)p_first, ar_g = (cl_uint)bf->groups,
          ar_k = (cl_uint)bins;
  cl_int ar_cl = clutter;
  int st = rf_cl_args(bf->k, "rf_bf_doppler", 16, sizeof(cl_mem), &rows, sizeof ar_stride, &ar_stride,
                      sizeof ar_n, &ar_n, sizeof ar_s, &ar_s, sizeof(cl_mem), &bf->w[bf->wcur], sizeof ar_b,
                      &ar_b, sizeof ar_pc, &ar_pc, sizeof ar_pf, &ar_pf, sizeof ar_g, &ar_g, sizeof ar_cl,
                      &ar_cl, sizeof(cl_mem), &win, sizeof ar_k, &ar_k, sizeof(cl_mem), &dop, sizeof(cl_mem),
                      &bf->sums, sizeof(cl_mem), &sin, sizeof(cl_mem), &sout);
  if (st) return st;
  size_t g[3] = {bf->cells, bf->tiles, bf->groups}, loc[3] = {64, 1, 1};
  return rf_cl_run(bf->cl, q, bf->k, "rf_bf_doppler", 3, g, loc, nwait, wait, done);
}
