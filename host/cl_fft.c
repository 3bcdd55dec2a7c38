/* radarflow: device FFTs through VkFFT's OpenCL backend (Debian
 * libvkfft-dev, header only). One application per shape, in place, with
 * VkFFT's zero padding so the padded tail of each sequence is neither read
 * (forward) nor written (inverse). The device memory VkFFT allocates for
 * itself is asked of VkFFT (a one-batch plan), not guessed, and counted in
 * the context's budget. */
#include "rf_cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  int from_cache;       /* the kernels came from the plan cache */
  char name[2][64];     /* for RF_CL_PROFILE: forward, inverse */
};

int rf_cl_fft_cached(const rf_cl_fft *f) { return f->from_cache; }

/* ---- plan cache -----------------------------------------------------------------------
 * VkFFT compiles its kernels at plan time (about 1.4 to 2 s a plan on PoCL,
 * even with PoCL's own kernel cache). Its saveApplicationToString writes
 * each program binary with "%s", which cuts a binary holding zero bytes
 * (PoCL's do), so the binaries are taken from the plan's axes instead, in
 * the order VkFFT compiles them (the inverse plan's axes, then the forward
 * plan's; dimension by dimension, upload by upload), and framed as VkFFT's
 * loader reads them: "<n + 2>\n" then the n bytes (the loader copies size
 * - 2 bytes and moves on by size + floor(log10(size)), which is exactly
 * this record). The file adds the record count and an FNV-1a hash of the
 * records, checked before VkFFT sees them. Plans using Bluestein's
 * algorithm or R2C decomposition (never made here today) are not cached. */
#define RF__PLAN_HEADER "vkfft-plan records=%zu fnv=%016llx\n"

/* VkFFT 1.2.26's loader copies a record into malloc(size - 1) bytes and
 * hands OpenCL size bytes: OpenCL reads one byte past VkFFT's copy. Off
 * under AddressSanitizer, which stops there; elsewhere a record whose copy
 * would end exactly at a page end (a large malloc is its own mapping, 16
 * bytes of header before it) gets one more zero byte, so that byte is
 * always mapped. */
#if defined(__SANITIZE_ADDRESS__)
#define RF__PLAN_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF__PLAN_CACHE 0
#endif
#endif
#ifndef RF__PLAN_CACHE
#define RF__PLAN_CACHE 1
#endif

int rf_cl_fft_cache_enabled(void) { return RF__PLAN_CACHE; }

static uint64_t rf__plan_fnv(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Everything the compiled kernels depend on. */
static void rf__plan_key(char *key, size_t len, const VkFFTConfiguration *c, const rf_cl_device_info *d) {
  snprintf(key, len,
           "vkfft=%d dim=%llu size=%llux%llu omit=%llu batches=%llu zp=%llu:%llu-%llu fwd_only=%llu u64=%llu "
           "dev=%s vendor=%s driver=%s version=%s platform=%s",
           VkFFTGetVersion(), (unsigned long long)c->FFTdim, (unsigned long long)c->size[0],
           (unsigned long long)c->size[1], (unsigned long long)c->omitDimension[0],
           (unsigned long long)c->numberBatches, (unsigned long long)c->performZeropadding[c->FFTdim - 1],
           (unsigned long long)c->fft_zeropad_left[c->FFTdim - 1],
           (unsigned long long)c->fft_zeropad_right[c->FFTdim - 1], (unsigned long long)c->makeForwardPlanOnly,
           (unsigned long long)c->useUint64, d->name, d->vendor, d->driver, d->version, d->platform_name);
}

/* The records of a plan made with saveApplicationToString, or NULL (a plan
 * not cached, or out of memory). */
static char *rf__plan_records(const VkFFTApplication *app, size_t *len, size_t *count) {
  const VkFFTConfiguration *c = &app->configuration;
  const VkFFTPlan *plans[2] = {c->makeForwardPlanOnly ? NULL : app->localFFTPlan_inverse,
                               c->makeInversePlanOnly ? NULL : app->localFFTPlan};
  size_t total = 0;
  *count = 0;
  for (uint64_t i = 0; i < c->FFTdim; i++) {
    if (app->useBluesteinFFT[i]) return NULL;
    for (int k = 0; k < 2; k++) {
      if (!plans[k]) continue;
      if (plans[k]->multiUploadR2C) return NULL;
      for (uint64_t j = 0; j < plans[k]->numAxisUploads[i]; j++) {
        if (!plans[k]->axes[i][j].binary || !plans[k]->axes[i][j].binarySize) return NULL;
        total += plans[k]->axes[i][j].binarySize + 25;
      }
    }
  }
  char *out = rf__malloc(total + 1);
  if (!out) return NULL;
  size_t n = 0;
  for (int k = 0; k < 2; k++) {
    if (!plans[k]) continue;
    for (uint64_t i = 0; i < c->FFTdim; i++)
      for (uint64_t j = 0; j < plans[k]->numAxisUploads[i]; j++) {
        const VkFFTAxis *ax = &plans[k]->axes[i][j];
        size_t bytes = ax->binarySize + ((ax->binarySize + 1 + 16) % 4096 == 0); /* VkFFT copies bytes + 1 */
        n += (size_t)snprintf(out + n, 24, "%llu\n", (unsigned long long)bytes + 2);
        memcpy(out + n, ax->binary, ax->binarySize);
        if (bytes > ax->binarySize) out[n + ax->binarySize] = 0;
        n += bytes;
        (*count)++;
      }
  }
  *len = n;
  return out;
}

/* The records of a cache file, checked (count, framing, hash); NULL if
 * there is none or it is damaged. The payload is returned; *recs points
 * into it. */
static char *rf__plan_load(const char *key, const char **recs) {
  size_t len;
  char *b = rf__cl_cache_read("vkfft", key, &len);
  if (!b) return NULL;
  size_t count, n = 0;
  unsigned long long h;
  int hl = 0;
  if (sscanf(b, "vkfft-plan records=%zu fnv=%llx\n%n", &count, &h, &hl) != 2 || hl <= 0) goto bad;
  const unsigned char *r = (const unsigned char *)b + hl;
  size_t rl = len - (size_t)hl;
  if (rf__plan_fnv(r, rl) != h) goto bad;
  for (size_t pos = 0; pos < rl; n++) { /* each record: "<size + 2>\n" then size bytes */
    char *end;
    unsigned long long sz = strtoull((const char *)r + pos, &end, 10);
    size_t hdr = (size_t)(end - (const char *)r - pos);
    if (*end != '\n' || sz < 3 || sz - 2 > rl - pos - hdr - 1) goto bad;
    pos += hdr + 1 + (size_t)(sz - 2);
  }
  if (n != count || !count) goto bad;
  *recs = (const char *)r;
  return b;
bad:
  rf_log(2, "opencl: VkFFT plan cache entry damaged, planning again");
  rf__free(b);
  return NULL;
}

static void rf__plan_save(const VkFFTApplication *app, const char *key) {
  size_t len, count;
  char *recs = rf__plan_records(app, &len, &count);
  if (!recs) return;
  char head[96];
  int hl = snprintf(head, sizeof head, RF__PLAN_HEADER, count,
                    (unsigned long long)rf__plan_fnv((const unsigned char *)recs, len));
  char *file = rf__malloc((size_t)hl + len);
  if (file) {
    memcpy(file, head, (size_t)hl);
    memcpy(file + hl, recs, len);
    rf__cl_cache_write("vkfft", key, file, (size_t)hl + len);
  }
  rf__free(file);
  rf__free(recs);
}

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
  for (int i = 0; i < 2; i++)
    snprintf(f->name[i], sizeof f->name[i], "VkFFT %s length %zu%s", i ? "inverse" : "forward", len,
             outer > 1 ? " (strided)" : "");
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
  /* From the plan cache if it holds this plan; else planned (and saved). */
  char key[1400];
  const char *recs = NULL;
  rf__plan_key(key, sizeof key, &c, d);
  char *cached = RF__PLAN_CACHE ? rf__plan_load(key, &recs) : NULL;
  VkFFTResult r = VKFFT_ERROR_FAILED_TO_CREATE_PROGRAM;
  if (cached) {
    VkFFTConfiguration lc = c;
    lc.loadApplicationFromString = 1;
    lc.loadApplicationString = (void *)recs;
    r = initializeVkFFT(&f->app, lc); /* deletes its half-made plan on failure */
    rf__free(cached);
    if (r != VKFFT_SUCCESS) {
      rf_log(2, "opencl: VkFFT plan cache entry refused (VkFFT error %d), planning again", (int)r);
      memset(&f->app, 0, sizeof f->app);
    } else {
      f->from_cache = 1;
    }
  }
  if (r != VKFFT_SUCCESS) {
    c.saveApplicationToString = RF__PLAN_CACHE;
    r = initializeVkFFT(&f->app, c);
    if (r == VKFFT_SUCCESS && RF__PLAN_CACHE) rf__plan_save(&f->app, key);
  }
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
  /* RF_CL_PROFILE: the transform's span between two markers (in-order queue). */
  rf__cl_prof *prof = rf__cl_profile(f->cl);
  cl_event m0 = NULL, m1 = NULL;
  if (prof) clEnqueueMarkerWithWaitList(q, 0, NULL, &m0);
  VkFFTResult r = VkFFTAppend(&f->app, inverse ? 1 : -1, &lp);
  if (prof && r == VKFFT_SUCCESS && clEnqueueMarkerWithWaitList(q, 0, NULL, &m1) == CL_SUCCESS)
    rf__cl_prof_add(prof, f->name[inverse ? 1 : 0], m0, m1);
  rf_cl_release(&m0);
  rf_cl_release(&m1);
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
