/* radarflow: stage 3 on an OpenCL device - the beam weights. The
 * beamforming itself (kernels/beamform.cl rf_bf_pulse, twin of
 * rf_bf_execute) runs fused into the Doppler stage's input kernel
 * (rf_doppler_cl_input), which forms the beam outputs from these weights as
 * it walks each cell's pulses. Weights are padded to whole tiles of
 * RF_BF_TB beams (the tuning row's bf_tb) with zero rows. */
#include "rf_cl.h"

#include <string.h>

struct rf_bf_cl {
  rf_cl *cl;
  size_t n, b, rows;       /* channels, beams, weight rows (whole tiles) */
  cl_mem w[2];             /* [rows][N], alternating per dwell */
  float complex *wh[2];    /* host copies the non-blocking writes read from */
  int wcur;
  int per_channel;         /* set_weights(NULL): beam b is channel b */
};

int rf_bf_cl_per_channel(const rf_bf_cl *bf) { return bf->per_channel; }

cl_mem rf_bf_cl_weights(const rf_bf_cl *bf, size_t *channels, size_t *beams) {
  *channels = bf->n;
  *beams = bf->b;
  return bf->w[bf->wcur];
}

void rf_bf_cl_destroy(rf_bf_cl *bf) {
  if (!bf) return;
  for (int i = 0; i < 2; i++) {
    rf_cl_free(bf->cl, bf->w[i]);
    rf__free(bf->wh[i]);
  }
  rf__free(bf);
}

int rf_bf_cl_create(rf_bf_cl **out, rf_cl *cl, size_t channels, size_t beams) {
  *out = NULL;
  if (!channels || !beams) return rf__err(RF_EINVAL, "beamforming (opencl): invalid sizes");
  rf_bf_cl *bf = rf__calloc(1, sizeof *bf);
  if (!bf) return rf__err(RF_ENOMEM, "beamforming (opencl): out of memory");
  bf->cl = cl;
  bf->n = channels;
  bf->b = beams;
  const size_t tb = rf_cl_tuning_get(cl)->bf_tb;
  bf->rows = (beams + tb - 1) / tb * tb;
  int st;
  for (int i = 0; i < 2; i++) {
    if (!(bf->wh[i] = rf__calloc(bf->rows * channels, sizeof(float complex)))) {
      st = rf__err(RF_ENOMEM, "beamforming (opencl): out of memory");
      goto fail;
    }
    if ((st = rf_cl_alloc(cl, bf->rows * channels * 8, CL_MEM_READ_ONLY, "beam weights", &bf->w[i]))) goto fail;
  }
  *out = bf;
  return 0;
fail:
  rf_bf_cl_destroy(bf);
  return st;
}

int rf_bf_cl_set_weights(rf_bf_cl *bf, cl_command_queue q, const float complex *w) {
  if (!w) {
    if (bf->b > bf->n)
      return rf__err(RF_EINVAL, "beamforming (opencl): per-channel mode with %zu beams for %zu channels", bf->b,
                     bf->n);
    bf->per_channel = 1;
    return 0;
  }
  bf->per_channel = 0;
  bf->wcur ^= 1;
  float complex *h = bf->wh[bf->wcur];
  memcpy(h, w, bf->b * bf->n * sizeof *h); /* rows past B stay zero */
  cl_int e = clEnqueueWriteBuffer(q, bf->w[bf->wcur], CL_FALSE, 0, bf->rows * bf->n * 8, h, 0, NULL, NULL);
  return e == CL_SUCCESS ? 0 : rf__cl_err(e, "beamforming: weights upload");
}
