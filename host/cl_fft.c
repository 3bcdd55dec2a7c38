/* radarflow: device FFTs through VkFFT's OpenCL backend (Debian
 * libvkfft-dev, header only). One application per shape, in place, with
 * VkFFT's zero padding so the padded tail of each sequence is neither read
 * (forward) nor written (inverse). */
#include "rf_cl.h"

#define VKFFT_BACKEND 3
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include <vkFFT.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

struct rf_cl_fft {
  VkFFTApplication app;
  int inited;
  cl_device_id dev;
  cl_context ctx;
  cl_platform_id pf;
  cl_command_queue q;
  uint64_t bytes;
  size_t len, outer, batches;
};

int rf_cl_fft_create(rf_cl *cl, rf_cl_fft **out, size_t len, size_t outer, size_t batches,
                     size_t zero_from, cl_mem buf) {
  *out = NULL;
  if (!len || !outer || !batches) return rf__err(RF_EINVAL, "opencl fft: empty shape");
  rf_cl_fft *f = rf__calloc(1, sizeof *f);
  if (!f) return rf__err(RF_ENOMEM, "opencl fft: out of memory");
  const rf_cl_device_info *d = rf_cl_device(cl);
  f->dev = d->device_id;
  f->ctx = rf_cl_context(cl);
  f->pf = d->platform_id;
  f->q = rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE);
  f->bytes = (uint64_t)len * outer * batches * 8;
  f->len = len;
  f->outer = outer;
  f->batches = batches;
  VkFFTConfiguration c = {0};
  if (outer == 1) {
    c.FFTdim = 1;
    c.size[0] = len;
    c.numberBatches = batches;
  } else {
    /* [batches][len][outer]: transform axis 1 only. */
    c.FFTdim = 2;
    c.size[0] = outer;
    c.size[1] = len;
    c.omitDimension[0] = 1;
    c.numberBatches = batches;
  }
  int axis = outer == 1 ? 0 : 1;
  if (zero_from > 0 && zero_from < len) {
    c.performZeropadding[axis] = 1;
    c.fft_zeropad_left[axis] = zero_from;
    c.fft_zeropad_right[axis] = len;
  }
  c.platform = &f->pf;
  c.device = &f->dev;
  c.context = &f->ctx;
  c.commandQueue = &f->q;
  c.bufferSize = &f->bytes;
  c.buffer = &buf;
  if (f->bytes > ((uint64_t)1 << 31)) c.useUint64 = 1;
  VkFFTResult r = initializeVkFFT(&f->app, c);
  if (r != VKFFT_SUCCESS) {
    rf__free(f);
    return rf__err(RF_EDEVICE, "opencl: VkFFT plan (length %zu x %zu x %zu) failed: VkFFT error %d", len,
                   outer, batches, (int)r);
  }
  f->inited = 1;
  *out = f;
  return 0;
}

int rf_cl_fft_enqueue(rf_cl_fft *f, cl_command_queue q, int inverse, cl_mem buf) {
  VkFFTLaunchParams lp = {0};
  lp.commandQueue = &q;
  lp.buffer = &buf;
  VkFFTResult r = VkFFTAppend(&f->app, inverse ? 1 : -1, &lp);
  if (r != VKFFT_SUCCESS)
    return rf__err(RF_EDEVICE, "opencl: VkFFT %s transform (length %zu) failed: VkFFT error %d",
                   inverse ? "inverse" : "forward", f->len, (int)r);
  return 0;
}

void rf_cl_fft_destroy(rf_cl_fft *f) {
  if (!f) return;
  if (f->inited) deleteVkFFT(&f->app);
  rf__free(f);
}
