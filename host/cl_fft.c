/* radarflow: device FFTs through VkFFT's OpenCL backend (Debian
 * libvkfft-dev, header only). One application per shape, in place, with
 * VkFFT's zero padding so the padded tail of each sequence is neither read
 * (forward) nor written (inverse). The device memory VkFFT allocates for
 * itself is asked of VkFFT (a one-batch plan), not guessed, and counted in
 * the context's budget. */
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
  rf_cl *cl;
  cl_device_id dev;
  cl_context ctx;
  cl_platform_id pf;
  cl_command_queue q;
  uint64_t bytes, own_bytes;
  size_t len, outer, batches;
};

/* VkFFT's own buffers: its reorder buffer (multi-pass transforms) and
 * Bluestein's chirp buffers (three, or two for a one-way plan). Its twiddle
 * tables (useLUT; only some vendors, single precision) are O(length) and
 * not counted. */
static uint64_t rf__vkfft_own_bytes(const VkFFTApplication *app) {
  uint64_t n = 0;
  if (app->configuration.allocateTempBuffer && app->configuration.tempBufferSize)
    n += app->configuration.tempBufferSize[0];
  int dirs = !app->configuration.makeInversePlanOnly + !app->configuration.makeForwardPlanOnly;
  for (int a = 0; a < 3; a++)
    if (app->useBluesteinFFT[a]) n += app->bufferBluesteinSize[a] * (uint64_t)(1 + dirs);
  return n;
}

static int rf__fft_plan(rf_cl_fft *f, rf_cl *cl, cl_context ctx, cl_command_queue q, const rf_cl_fft_shape *shape,
                        size_t batches, cl_mem buf) {
  const size_t len = shape->len, outer = shape->outer;
  const rf_cl_device_info *d = rf_cl_device(cl);
  f->cl = cl;
  f->dev = d->device_id;
  f->ctx = ctx;
  f->pf = d->platform_id;
  f->q = q;
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
  if (shape->zero_from > 0 && shape->zero_from < len) {
    c.performZeropadding[axis] = 1;
    c.fft_zeropad_left[axis] = shape->zero_from;
    c.fft_zeropad_right[axis] = len;
  }
  c.makeForwardPlanOnly = shape->forward_only ? 1 : 0;
  c.platform = &f->pf;
  c.device = &f->dev;
  c.context = &f->ctx;
  c.commandQueue = &f->q;
  c.bufferSize = &f->bytes;
  c.buffer = &buf;
  if (f->bytes > ((uint64_t)1 << 31)) c.useUint64 = 1;
  VkFFTResult r = initializeVkFFT(&f->app, c);
  if (r != VKFFT_SUCCESS)
    return rf__err(RF_EDEVICE, "opencl: VkFFT plan (length %zu x %zu x %zu) failed: VkFFT error %d", len, outer,
                   batches, (int)r);
  f->inited = 1;
  f->own_bytes = rf__vkfft_own_bytes(&f->app);
  rf__cl_account(cl, (int64_t)f->own_bytes);
  return 0;
}

int rf_cl_fft_create(rf_cl *cl, rf_cl_fft **out, const rf_cl_fft_shape *shape, size_t batches, cl_mem buf) {
  *out = NULL;
  if (!shape->len || !shape->outer || !batches) return rf__err(RF_EINVAL, "opencl fft: empty shape");
  rf_cl_fft *f = rf__calloc(1, sizeof *f);
  if (!f) return rf__err(RF_ENOMEM, "opencl fft: out of memory");
  int st = rf__fft_plan(f, cl, rf_cl_context(cl), rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE), shape, batches, buf);
  if (st) {
    rf_cl_fft_destroy(f);
    return st;
  }
  *out = f;
  return 0;
}

uint64_t rf_cl_fft_device_bytes(const rf_cl_fft *f) { return f->own_bytes; }

int rf_cl_fft_scratch(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t *per_batch, uint64_t *fixed) {
  *per_batch = *fixed = 0;
  if (rf__cl_fft_probe_find(cl, shape, per_batch, fixed)) return 0;
  if (!shape->len || !shape->outer) return rf__err(RF_EINVAL, "opencl fft: empty shape");
  /* VkFFT sizes its reorder buffer as the data (all batches) and
   * Bluestein's buffers by the padded length alone: one batch shows both.
   * The plan is made in a context of its own, so that nothing of it stays
   * in the caller's (oclgrind 21.10 mixed its state into later plans). */
  const rf_cl_device_info *d = rf_cl_device(cl);
  cl_int e;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform_id, 0};
  cl_context ctx = clCreateContext(props, 1, &d->device_id, NULL, NULL, &e);
  cl_command_queue q = NULL;
  cl_mem buf = NULL;
  rf_cl_fft *f = NULL;
  int st = 0;
  if (e == CL_SUCCESS) q = clCreateCommandQueue(ctx, d->device_id, 0, &e);
  if (e == CL_SUCCESS) buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, shape->len * shape->outer * 8, NULL, &e);
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "VkFFT scratch probe");
    goto done;
  }
  if (!(f = rf__calloc(1, sizeof *f))) {
    st = rf__err(RF_ENOMEM, "opencl fft: out of memory");
    goto done;
  }
  if ((st = rf__fft_plan(f, cl, ctx, q, shape, 1, buf))) goto done;
  const VkFFTApplication *app = &f->app;
  *per_batch = app->configuration.allocateTempBuffer && app->configuration.tempBufferSize
                   ? app->configuration.tempBufferSize[0]
                   : 0;
  *fixed = f->own_bytes - *per_batch;
  rf__cl_fft_probe_keep(cl, shape, *per_batch, *fixed);
done:
  rf_cl_fft_destroy(f);
  if (buf) clReleaseMemObject(buf);
  if (q) clReleaseCommandQueue(q);
  if (ctx) clReleaseContext(ctx);
  return st;
}

int rf_cl_fft_enqueue(rf_cl_fft *f, cl_command_queue q, int inverse, cl_mem buf) {
  if (rf_cancel) return rf__err(RF_EINTR, "interrupted before an FFT; no products written");
  VkFFTLaunchParams lp = {0};
  lp.commandQueue = &q;
  lp.buffer = &buf;
  VkFFTResult r = VkFFTAppend(&f->app, inverse ? 1 : -1, &lp);
  if (r != VKFFT_SUCCESS)
    return rf__err(RF_EDEVICE, "opencl: VkFFT %s transform (length %zu) failed: VkFFT error %d",
                   inverse ? "inverse" : "forward", f->len, (int)r);
  clFlush(q); /* as rf_cl_run: a cancel check between kernels under oclgrind */
  return 0;
}

void rf_cl_fft_destroy(rf_cl_fft *f) {
  if (!f) return;
  if (f->inited) {
    deleteVkFFT(&f->app);
    rf__cl_account(f->cl, -(int64_t)f->own_bytes);
  }
  rf__free(f);
}
