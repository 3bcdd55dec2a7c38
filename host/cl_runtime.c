/* radarflow: OpenCL runtime - discovery, selection, context and queues,
 * program build through an on-disk binary cache, budgeted buffer pool,
 * pinned host memory, error names and profiling helpers. */
#include "rf_cl.h"

#include <CL/cl_ext.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- error names -------------------------------------------------------------- */
#define RF__CL_ERRORS(X)                                                                         \
  X(CL_SUCCESS, 0) X(CL_DEVICE_NOT_FOUND, -1) X(CL_DEVICE_NOT_AVAILABLE, -2)                      \
  X(CL_COMPILER_NOT_AVAILABLE, -3) X(CL_MEM_OBJECT_ALLOCATION_FAILURE, -4)                        \
  X(CL_OUT_OF_RESOURCES, -5) X(CL_OUT_OF_HOST_MEMORY, -6) X(CL_PROFILING_INFO_NOT_AVAILABLE, -7)  \
  X(CL_MEM_COPY_OVERLAP, -8) X(CL_IMAGE_FORMAT_MISMATCH, -9)                                      \
  X(CL_IMAGE_FORMAT_NOT_SUPPORTED, -10) X(CL_BUILD_PROGRAM_FAILURE, -11) X(CL_MAP_FAILURE, -12)   \
  X(CL_MISALIGNED_SUB_BUFFER_OFFSET, -13) X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -14)    \
  X(CL_COMPILE_PROGRAM_FAILURE, -15) X(CL_LINKER_NOT_AVAILABLE, -16)                              \
  X(CL_LINK_PROGRAM_FAILURE, -17) X(CL_DEVICE_PARTITION_FAILED, -18)                              \
  X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE, -19) X(CL_INVALID_VALUE, -30)                               \
  X(CL_INVALID_DEVICE_TYPE, -31) X(CL_INVALID_PLATFORM, -32) X(CL_INVALID_DEVICE, -33)            \
  X(CL_INVALID_CONTEXT, -34) X(CL_INVALID_QUEUE_PROPERTIES, -35)                                  \
  X(CL_INVALID_COMMAND_QUEUE, -36) X(CL_INVALID_HOST_PTR, -37) X(CL_INVALID_MEM_OBJECT, -38)      \
  X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR, -39) X(CL_INVALID_IMAGE_SIZE, -40)                        \
  X(CL_INVALID_SAMPLER, -41) X(CL_INVALID_BINARY, -42) X(CL_INVALID_BUILD_OPTIONS, -43)           \
  X(CL_INVALID_PROGRAM, -44) X(CL_INVALID_PROGRAM_EXECUTABLE, -45)                                \
  X(CL_INVALID_KERNEL_NAME, -46) X(CL_INVALID_KERNEL_DEFINITION, -47) X(CL_INVALID_KERNEL, -48)   \
  X(CL_INVALID_ARG_INDEX, -49) X(CL_INVALID_ARG_VALUE, -50) X(CL_INVALID_ARG_SIZE, -51)           \
  X(CL_INVALID_KERNEL_ARGS, -52) X(CL_INVALID_WORK_DIMENSION, -53)                                \
  X(CL_INVALID_WORK_GROUP_SIZE, -54) X(CL_INVALID_WORK_ITEM_SIZE, -55)                            \
  X(CL_INVALID_GLOBAL_OFFSET, -56) X(CL_INVALID_EVENT_WAIT_LIST, -57) X(CL_INVALID_EVENT, -58)    \
  X(CL_INVALID_OPERATION, -59) X(CL_INVALID_GL_OBJECT, -60) X(CL_INVALID_BUFFER_SIZE, -61)        \
  X(CL_INVALID_MIP_LEVEL, -62) X(CL_INVALID_GLOBAL_WORK_SIZE, -63) X(CL_INVALID_PROPERTY, -64)    \
  X(CL_INVALID_IMAGE_DESCRIPTOR, -65) X(CL_INVALID_COMPILER_OPTIONS, -66)                         \
  X(CL_INVALID_LINKER_OPTIONS, -67) X(CL_INVALID_DEVICE_PARTITION_COUNT, -68)                     \
  X(CL_INVALID_PIPE_SIZE, -69) X(CL_INVALID_DEVICE_QUEUE, -70) X(CL_INVALID_SPEC_ID, -71)         \
  X(CL_MAX_SIZE_RESTRICTION_EXCEEDED, -72) X(CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR, -1000)       \
  X(CL_PLATFORM_NOT_FOUND_KHR, -1001) X(CL_INVALID_D3D10_DEVICE_KHR, -1002)                       \
  X(CL_INVALID_D3D10_RESOURCE_KHR, -1003) X(CL_D3D10_RESOURCE_ALREADY_ACQUIRED_KHR, -1004)        \
  X(CL_D3D10_RESOURCE_NOT_ACQUIRED_KHR, -1005) X(CL_INVALID_D3D11_DEVICE_KHR, -1006)              \
  X(CL_INVALID_D3D11_RESOURCE_KHR, -1007) X(CL_D3D11_RESOURCE_ALREADY_ACQUIRED_KHR, -1008)        \
  X(CL_D3D11_RESOURCE_NOT_ACQUIRED_KHR, -1009) X(CL_INVALID_DX9_MEDIA_ADAPTER_KHR, -1010)         \
  X(CL_INVALID_DX9_MEDIA_SURFACE_KHR, -1011) X(CL_DX9_MEDIA_SURFACE_ALREADY_ACQUIRED_KHR, -1012)  \
  X(CL_DX9_MEDIA_SURFACE_NOT_ACQUIRED_KHR, -1013) X(CL_DEVICE_PARTITION_FAILED_EXT, -1057)        \
  X(CL_INVALID_PARTITION_COUNT_EXT, -1058) X(CL_INVALID_PARTITION_NAME_EXT, -1059)                \
  X(CL_EGL_RESOURCE_NOT_ACQUIRED_KHR, -1092) X(CL_INVALID_EGL_OBJECT_KHR, -1093)                  \
  X(CL_INVALID_ACCELERATOR_INTEL, -1094) X(CL_INVALID_ACCELERATOR_TYPE_INTEL, -1095)              \
  X(CL_INVALID_ACCELERATOR_DESCRIPTOR_INTEL, -1096) X(CL_ACCELERATOR_TYPE_NOT_SUPPORTED_INTEL, -1097) \
  X(CL_INVALID_VA_API_MEDIA_ADAPTER_INTEL, -1098) X(CL_INVALID_VA_API_MEDIA_SURFACE_INTEL, -1099) \
  X(CL_VA_API_MEDIA_SURFACE_ALREADY_ACQUIRED_INTEL, -1100)                                       \
  X(CL_VA_API_MEDIA_SURFACE_NOT_ACQUIRED_INTEL, -1101)

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

const char *rf_cl_strerror(cl_int err) {
  switch (err) {
#define RF__CL_CASE(name, val) case (val): return #name;
    RF__CL_ERRORS(RF__CL_CASE)
#undef RF__CL_CASE
  }
  return "CL_UNKNOWN_ERROR";
}

int rf__cl_err(cl_int err, const char *what) {
  return rf__err(RF_EDEVICE, "opencl: %s: %s (%d)", what, rf_cl_strerror(err), (int)err);
}

/* ---- discovery ------------------------------------------------------------------ */
#define RF__MAX_PLATFORMS 16
#define RF__MAX_DEVICES 64

static void rf__dev_str(cl_device_id d, cl_device_info what, char *out, size_t len) {
  out[0] = 0;
  if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS) out[0] = 0;
  out[len - 1] = 0;
}

int rf_cl_devices(rf_cl_device_info **list, size_t *n) {
  *list = NULL;
  *n = 0;
  cl_platform_id pf[RF__MAX_PLATFORMS];
  cl_uint np = 0;
  cl_int e = clGetPlatformIDs(RF__MAX_PLATFORMS, pf, &np);
  if (e == CL_PLATFORM_NOT_FOUND_KHR || (e == CL_SUCCESS && np == 0))
    return rf__err(RF_EDEVICE, "opencl: no OpenCL platform found (no ICD installed, or "
                               "OCL_ICD_VENDORS names none)");
  if (e != CL_SUCCESS) return rf__cl_err(e, "clGetPlatformIDs");
  if (np > RF__MAX_PLATFORMS) np = RF__MAX_PLATFORMS;
  rf_cl_device_info *v = rf__calloc(RF__MAX_DEVICES, sizeof *v);
  if (!v) return rf__err(RF_ENOMEM, "opencl: out of memory");
  size_t cnt = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_device_id dv[RF__MAX_DEVICES];
    cl_uint nd = 0;
    if (clGetDeviceIDs(pf[p], CL_DEVICE_TYPE_ALL, RF__MAX_DEVICES, dv, &nd) != CL_SUCCESS) continue;
    char pname[128] = "";
    clGetPlatformInfo(pf[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    pname[sizeof pname - 1] = 0;
    for (cl_uint d = 0; d < nd && d < RF__MAX_DEVICES && cnt < RF__MAX_DEVICES; d++) {
      rf_cl_device_info *x = &v[cnt++];
      snprintf(x->id, sizeof x->id, "opencl:%u:%u", p, d);
      x->platform = p;
      x->index = d;
      x->platform_id = pf[p];
      x->device_id = dv[d];
      memcpy(x->platform_name, pname, sizeof pname);
      rf__dev_str(dv[d], CL_DEVICE_NAME, x->name, sizeof x->name);
      rf__dev_str(dv[d], CL_DEVICE_VENDOR, x->vendor, sizeof x->vendor);
      rf__dev_str(dv[d], CL_DRIVER_VERSION, x->driver, sizeof x->driver);
      rf__dev_str(dv[d], CL_DEVICE_VERSION, x->version, sizeof x->version);
      rf__dev_str(dv[d], CL_DEVICE_OPENCL_C_VERSION, x->c_version, sizeof x->c_version);
      cl_uint cu = 0;
      cl_ulong gm = 0, ma = 0, lm = 0;
      cl_device_type t = 0;
      clGetDeviceInfo(dv[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
      clGetDeviceInfo(dv[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
      clGetDeviceInfo(dv[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL);
      clGetDeviceInfo(dv[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
      clGetDeviceInfo(dv[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
      x->compute_units = cu;
      x->global_mem_bytes = gm;
      x->max_alloc_bytes = ma;
      x->local_mem_bytes = lm;
      x->is_gpu = (t & CL_DEVICE_TYPE_GPU) != 0;
    }
  }
  if (!cnt) {
    rf__free(v);
    return rf__err(RF_EDEVICE, "opencl: %u platform(s) but no device", (unsigned)np);
  }
  *list = v;
  *n = cnt;
  return 0;
}

static int rf__icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (!n) return 0;
  for (; *hay; hay++)
    if (!strncasecmp(hay, needle, n)) return 1;
  return 0;
}

int rf_cl_select(const char *spec, rf_cl_device_info *out) {
  rf_cl_device_info *v = NULL;
  size_t n = 0;
  int st = rf_cl_devices(&v, &n);
  if (st) return st;
  long pick = -1;
  unsigned p, d;
  char tail;
  if (!strcmp(spec, "auto") || !strcmp(spec, "opencl")) {
    for (size_t i = 0; i < n && pick < 0; i++)
      if (v[i].is_gpu) pick = (long)i;
    const char *any = getenv("RF_CL_AUTO_ANY");
    if (pick < 0 && (!strcmp(spec, "opencl") || (any && !strcmp(any, "1")))) pick = 0;
    if (pick < 0) {
      st = rf__err(RF_EUNSUP, "opencl: no GPU among %zu OpenCL device(s) (first: %s)", n, v[0].name);
      goto done;
    }
  } else if (sscanf(spec, "opencl:%u:%u%c", &p, &d, &tail) == 2) {
    for (size_t i = 0; i < n; i++)
      if (v[i].platform == p && v[i].index == d) pick = (long)i;
    if (pick < 0) {
      st = rf__err(RF_EINVAL, "--device %s: no such OpenCL device ('radarflow devices' lists them)", spec);
      goto done;
    }
  } else {
    for (size_t i = 0; i < n && pick < 0; i++)
      if (rf__icontains(v[i].name, spec)) pick = (long)i;
    if (pick < 0) {
      st = rf__err(RF_EINVAL, "--device %s: no OpenCL device has that name ('radarflow devices' lists them)",
                   spec);
      goto done;
    }
  }
  *out = v[pick];
done:
  rf__free(v);
  return st;
}

/* ---- context ---------------------------------------------------------------------- */
typedef struct rf__cl_buf {
  cl_mem mem;
  size_t bytes;       /* what was asked for; the canary (if any) follows */
  cl_mem_flags flags;
  const char *what;
  int in_use;
} rf__cl_buf;

#define RF__CL_MAX_BUFS 256

/* How rf_cl_alloc fills a new buffer ($RF_CL_POISON). */
enum { RF__FILL_ZERO = 0, RF__FILL_POISON = 1, RF__FILL_NONE = 2 };

struct rf_cl {
  rf_cl_device_info dev;
  cl_context ctx;
  cl_command_queue q[RF_CL_QUEUES];
  cl_program prog;
  int cached;
  uint64_t budget, allocated;
  rf_cl_tuning tune;
  char opts[256];          /* build options: -cl-std and the tuning -Ds */
  int fill, canary;
  char canary_err[512];    /* first canary found damaged at rf_cl_free */
  rf__cl_buf bufs[RF__CL_MAX_BUFS];
  struct {
    rf_cl_fft_shape shape;
    uint64_t per_batch, fixed;
  } probes[16];            /* rf_cl_fft_scratch's answers */
  size_t nprobes;
  rf__cl_prof *prof;       /* $RF_CL_PROFILE, or NULL */
};

rf__cl_prof *rf__cl_profile(const rf_cl *cl) { return cl->prof; }

const rf_cl_device_info *rf_cl_device(const rf_cl *cl) { return &cl->dev; }
const rf_cl_tuning *rf_cl_tuning_get(const rf_cl *cl) { return &cl->tune; }
const char *rf_cl_build_options(const rf_cl *cl) { return cl->opts; }

/* ---- tuning ------------------------------------------------------------------------ *
 * One row per class of device, first match wins, the last row is the
 * default. A row is added only for a device it was measured on (make bench
 * BENCH_DEVICE=...); the values below are those the kernels were written
 * and measured with on PoCL (docs/opencl.md), the GPU row differing only in
 * splitting each range cell's pulses into groups so that small range
 * extents still give a GPU ~64k work-items. */
static const rf_cl_tuning rf__cl_tunings[] = {
    /* name      vendor gpu_only bf_tb cfar_tile wg max_groups target_items */
    {"gpu",      "",    1,       8,    128,      64, 16,        65536},
    {"default",  "",    0,       8,    128,      64, 1,         0},
};

static const rf_cl_tuning *rf__cl_tuning_row(const rf_cl_device_info *dev) {
  size_t n = sizeof rf__cl_tunings / sizeof rf__cl_tunings[0];
  for (size_t i = 0; i + 1 < n; i++) {
    const rf_cl_tuning *t = &rf__cl_tunings[i];
    if (t->gpu_only && !dev->is_gpu) continue;
    if (t->vendor[0] && !strstr(dev->vendor, t->vendor)) continue;
    return t;
  }
  return &rf__cl_tunings[n - 1];
}

/* $RF_CL_TUNING: "key=value,..." over the row's fields. */
static int rf__cl_tuning_env(rf_cl_tuning *t) {
  const char *e = getenv("RF_CL_TUNING");
  if (!e || !*e) return 0;
  static const struct {
    const char *key;
    size_t off;
    unsigned lo, hi;
  } keys[] = {{"bf_tb", offsetof(rf_cl_tuning, bf_tb), 1, 32},
              {"cfar_tile", offsetof(rf_cl_tuning, cfar_tile), 16, 1024},
              {"wg", offsetof(rf_cl_tuning, wg), 1, 1024},
              {"max_groups", offsetof(rf_cl_tuning, max_groups), 1, 64},
              {"target_items", offsetof(rf_cl_tuning, target_items), 0, 1u << 30}};
  char buf[256];
  if (strlen(e) >= sizeof buf) return rf__err(RF_EINVAL, "RF_CL_TUNING: too long");
  strcpy(buf, e);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '='), *end;
    size_t k = 0, nk = sizeof keys / sizeof keys[0];
    if (eq) {
      *eq = 0;
      while (k < nk && strcmp(keys[k].key, tok)) k++;
    }
    unsigned long v = eq ? strtoul(eq + 1, &end, 10) : 0;
    if (!eq || k == nk || end == eq + 1 || *end || v < keys[k].lo || v > keys[k].hi)
      return rf__err(RF_EINVAL, "RF_CL_TUNING: '%s%s%s' is not one of bf_tb, cfar_tile, wg, max_groups, "
                                "target_items = a number in range",
                     tok, eq ? "=" : "", eq ? eq + 1 : "");
    *(unsigned *)((char *)t + keys[k].off) = (unsigned)v;
  }
  return 0;
}
cl_context rf_cl_context(const rf_cl *cl) { return cl->ctx; }
cl_command_queue rf_cl_queue(const rf_cl *cl, int which) { return cl->q[which]; }
int rf_cl_program_cached(const rf_cl *cl) { return cl->cached; }
uint64_t rf_cl_budget(const rf_cl *cl) { return cl->budget; }
uint64_t rf_cl_allocated(const rf_cl *cl) { return cl->allocated; }

int rf_cl_cache_dir(char *out, size_t len) {
  const char *e = getenv("RF_CACHE_DIR");
  int n;
  if (e && *e) n = snprintf(out, len, "%s", e);
  else if ((e = getenv("XDG_CACHE_HOME")) && *e) n = snprintf(out, len, "%s/radarflow", e);
  else if ((e = getenv("HOME")) && *e) n = snprintf(out, len, "%s/.cache/radarflow", e);
  else return rf__err(RF_EINVAL, "opencl: no cache folder (set RF_CACHE_DIR)");
  if (n < 0 || (size_t)n >= len) return rf__err(RF_EINVAL, "opencl: cache folder path too long");
  return 0;
}

static uint64_t rf__fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Whole file into an rf__malloc'd, NUL-terminated buffer; NULL on failure. */
static char *rf__slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = NULL;
  long n;
  if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) goto fail;
  if (!(b = rf__malloc((size_t)n + 1))) goto fail;
  if (fread(b, 1, (size_t)n, f) != (size_t)n) goto fail;
  b[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return b;
fail:
  rf__free(b);
  fclose(f);
  return NULL;
}

/* Program text: every source in table order, from the binary or from
 * $RF_KERNEL_DIR; `key` gets the cache key material. */
static int rf__cl_sources(char **text, char *key, size_t keylen, const rf_cl_device_info *dev,
                          const char *opts) {
  const char *dir = getenv("RF_KERNEL_DIR");
  size_t total = 0, used = 0;
  char **disk = NULL;
  size_t *dlen = NULL;
  int st = 0;
  *text = NULL;
  if (dir && *dir) {
    disk = rf__calloc(rf_cl_source_count, sizeof *disk);
    dlen = rf__calloc(rf_cl_source_count, sizeof *dlen);
    if (!disk || !dlen) {
      st = rf__err(RF_ENOMEM, "opencl: out of memory");
      goto done;
    }
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < rf_cl_source_count; i++) {
    if (disk) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", dir, rf_cl_sources[i].name);
      if (!(disk[i] = rf__slurp(p, &dlen[i]))) {
        st = rf__err(RF_EDEVICE, "opencl: RF_KERNEL_DIR: cannot read %s: %s", p, strerror(errno));
        goto done;
      }
      h = rf__fnv(h, disk[i], dlen[i]);
      total += dlen[i] + 2;
    } else {
      h = rf__fnv(h, rf_cl_sources[i].hash, strlen(rf_cl_sources[i].hash));
      total += rf_cl_sources[i].len + 2;
    }
  }
  if (!(*text = rf__malloc(total + 1))) {
    st = rf__err(RF_ENOMEM, "opencl: out of memory");
    goto done;
  }
  for (size_t i = 0; i < rf_cl_source_count; i++) {
    const char *s = disk ? disk[i] : rf_cl_sources[i].text;
    size_t n = disk ? dlen[i] : rf_cl_sources[i].len;
    memcpy(*text + used, s, n);
    used += n;
    (*text)[used++] = '\n';
  }
  (*text)[used] = 0;
  snprintf(key, keylen, "src=%016llx opts=%s dev=%s vendor=%s driver=%s version=%s platform=%s",
           (unsigned long long)h, opts, dev->name, dev->vendor, dev->driver, dev->version,
           dev->platform_name);
done:
  if (disk)
    for (size_t i = 0; i < rf_cl_source_count; i++) rf__free(disk[i]);
  rf__free(disk);
  rf__free(dlen);
  return st;
}

/* ---- on-disk cache: compiled programs (kind "cl") and VkFFT plans
 * ("vkfft"). A file <kind>-<hash of key>.bin in the cache folder holds
 * "radarflow-<kind>-binary-1\n", the key text, "\n", then the payload;
 * written under a temporary name and renamed, so a reader never sees half
 * a file. */
static void rf__cache_path(char *out, size_t len, const char *dir, const char *kind, const char *key) {
  uint64_t h = rf__fnv(0xcbf29ce484222325ull, key, strlen(key));
  snprintf(out, len, "%s/%s-%016llx.bin", dir, kind, (unsigned long long)h);
}

void *rf__cl_cache_read(const char *kind, const char *key, size_t *len) {
  char dir[4096], path[4300], magic[64];
  if (rf_cl_cache_dir(dir, sizeof dir)) {
    rf_errmsg_clear();
    return NULL;
  }
  rf__cache_path(path, sizeof path, dir, kind, key);
  snprintf(magic, sizeof magic, "radarflow-%s-binary-1\n", kind);
  size_t n;
  char *b = rf__slurp(path, &n);
  if (!b) return NULL;
  size_t ml = strlen(magic), kl = strlen(key);
  if (n > ml + kl + 1 && !memcmp(b, magic, ml) && !memcmp(b + ml, key, kl) && b[ml + kl] == '\n') {
    *len = n - ml - kl - 1;
    memmove(b, b + ml + kl + 1, *len + 1); /* the payload, still NUL-terminated */
    return b;
  }
  rf_log(2, "opencl: cache %s does not match, rebuilding", path);
  rf__free(b);
  return NULL;
}

void rf__cl_cache_write(const char *kind, const char *key, const void *data, size_t len) {
  char dir[4096], path[4300], tmp[4400], magic[64];
  if (rf_cl_cache_dir(dir, sizeof dir)) {
    rf_errmsg_clear();
    return;
  }
  rf__cache_path(path, sizeof path, dir, kind, key);
  snprintf(magic, sizeof magic, "radarflow-%s-binary-1\n", kind);
  (void)rf_mkdirs(dir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return;
  int ok = fputs(magic, f) >= 0 && fputs(key, f) >= 0 && fputc('\n', f) != EOF && fwrite(data, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path)) remove(tmp);
}

/* Program from the cache, if it is there, matches the key and builds. */
static cl_program rf__cache_load(rf_cl *cl, const char *key) {
  size_t bl;
  unsigned char *b = rf__cl_cache_read("cl", key, &bl);
  if (!b) return NULL;
  cl_program prog = NULL;
  const unsigned char *bin = b;
  cl_int e, bs;
  prog = clCreateProgramWithBinary(cl->ctx, 1, &cl->dev.device_id, &bl, &bin, &bs, &e);
  if (e != CL_SUCCESS || bs != CL_SUCCESS) {
    if (prog) clReleaseProgram(prog);
    prog = NULL;
  } else if (clBuildProgram(prog, 1, &cl->dev.device_id, cl->opts, NULL, NULL) != CL_SUCCESS) {
    clReleaseProgram(prog);
    prog = NULL;
  }
  if (!prog) rf_log(2, "opencl: cached program unusable, rebuilding");
  rf__free(b);
  return prog;
}

/* Writes the program binary to the cache. */
static void rf__cache_save(rf_cl *cl, const char *key) {
  size_t bl = 0;
  if (clGetProgramInfo(cl->prog, CL_PROGRAM_BINARY_SIZES, sizeof bl, &bl, NULL) != CL_SUCCESS || !bl)
    return;
  unsigned char *bin = rf__malloc(bl);
  if (!bin) return;
  if (clGetProgramInfo(cl->prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
    rf__cl_cache_write("cl", key, bin, bl);
  rf__free(bin);
}

static int rf__cl_build(rf_cl *cl) {
  char key[2048];
  char *text = NULL;
  int st = rf__cl_sources(&text, key, sizeof key, &cl->dev, cl->opts);
  if (st) return st;
  rf_errmsg_clear();
  if ((cl->prog = rf__cache_load(cl, key))) {
    cl->cached = 1;
    rf__free(text);
    return 0;
  }
  cl_int e;
  const char *src = text;
  size_t len = strlen(text);
  cl->prog = clCreateProgramWithSource(cl->ctx, 1, &src, &len, &e);
  if (e != CL_SUCCESS) {
    rf__free(text);
    return rf__cl_err(e, "clCreateProgramWithSource");
  }
  double t0 = rf_now_s();
  e = clBuildProgram(cl->prog, 1, &cl->dev.device_id, cl->opts, NULL, NULL);
  rf__free(text);
  if (e != CL_SUCCESS) {
    size_t ll = 0;
    char *log = NULL;
    clGetProgramBuildInfo(cl->prog, cl->dev.device_id, CL_PROGRAM_BUILD_LOG, 0, NULL, &ll);
    if (ll && (log = rf__malloc(ll + 1))) {
      clGetProgramBuildInfo(cl->prog, cl->dev.device_id, CL_PROGRAM_BUILD_LOG, ll, log, NULL);
      log[ll] = 0;
      rf_log(2, "opencl: build log:\n%s", log);
    }
    /* The message keeps the first lines of the log: enough to find the error. */
    st = rf__err(RF_EDEVICE, "opencl: kernels failed to build on %s (%s): %.600s", cl->dev.name,
                 rf_cl_strerror(e), log ? log : "(no build log)");
    rf__free(log);
    return st;
  }
  rf_log(2, "opencl: built kernels for %s in %.2f s", cl->dev.name, rf_now_s() - t0);
  rf__cache_save(cl, key);
  return 0;
}

void rf_cl_destroy(rf_cl *cl) {
  if (!cl) return;
  for (int i = 0; i < RF_CL_QUEUES; i++)
    if (cl->q[i]) clFinish(cl->q[i]);
  rf__cl_prof_finish(cl->prof, &cl->dev);
  for (size_t i = 0; i < RF__CL_MAX_BUFS; i++)
    if (cl->bufs[i].mem) clReleaseMemObject(cl->bufs[i].mem);
  if (cl->prog) clReleaseProgram(cl->prog);
  for (int i = 0; i < RF_CL_QUEUES; i++)
    if (cl->q[i]) clReleaseCommandQueue(cl->q[i]);
  if (cl->ctx) clReleaseContext(cl->ctx);
  rf__free(cl);
}

int rf_cl_create(rf_cl **out, const rf_cl_device_info *dev) {
  *out = NULL;
  rf_cl *cl = rf__calloc(1, sizeof *cl);
  if (!cl) return rf__err(RF_ENOMEM, "opencl: out of memory");
  cl->dev = *dev;
  cl_int e;
  int st;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform_id, 0};
  cl->ctx = clCreateContext(props, 1, &dev->device_id, NULL, NULL, &e);
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "clCreateContext");
    goto fail;
  }
  for (int i = 0; i < RF_CL_QUEUES; i++) {
    cl->q[i] = clCreateCommandQueue(cl->ctx, dev->device_id, CL_QUEUE_PROFILING_ENABLE, &e);
    if (e != CL_SUCCESS) {
      st = rf__cl_err(e, "clCreateCommandQueue");
      goto fail;
    }
  }
  if ((st = rf__cl_prof_create(&cl->prof, getenv("RF_CL_PROFILE")))) goto fail;
  cl->budget = dev->global_mem_bytes / 20 * 17;
  const char *lim = getenv("RF_CL_MAX_ALLOC_MB");
  if (lim && *lim) {
    char *end;
    double mb = strtod(lim, &end);
    if (*end || !(mb >= 0)) {
      st = rf__err(RF_EINVAL, "RF_CL_MAX_ALLOC_MB: not a number of MiB: '%s'", lim);
      goto fail;
    }
    uint64_t b = (uint64_t)(mb * 1048576.0);
    if (b < cl->budget) cl->budget = b;
  }
  cl->tune = *rf__cl_tuning_row(dev);
  if ((st = rf__cl_tuning_env(&cl->tune))) goto fail;
  snprintf(cl->opts, sizeof cl->opts, "-cl-std=CL1.2 -DRF_BF_TB=%u -DRF_CFAR_TILE=%u", cl->tune.bf_tb,
           cl->tune.cfar_tile);
  const char *poison = getenv("RF_CL_POISON"), *canary = getenv("RF_CL_CANARY");
  if (!poison || !*poison || !strcmp(poison, "0")) cl->fill = RF__FILL_ZERO;
  else if (!strcmp(poison, "1")) cl->fill = RF__FILL_POISON;
  else if (!strcmp(poison, "uninit")) cl->fill = RF__FILL_NONE;
  else {
    st = rf__err(RF_EINVAL, "RF_CL_POISON: '%s' is not 0, 1 or uninit", poison);
    goto fail;
  }
  if (canary && *canary && strcmp(canary, "0")) {
    if (strcmp(canary, "1")) {
      st = rf__err(RF_EINVAL, "RF_CL_CANARY: '%s' is not 0 or 1", canary);
      goto fail;
    }
    cl->canary = 1;
  }
  if ((st = rf__cl_build(cl))) goto fail;
  *out = cl;
  return 0;
fail:
  rf_cl_destroy(cl);
  return st;
}

int rf_cl_kernel(rf_cl *cl, const char *name, cl_kernel *k) {
  cl_int e;
  *k = clCreateKernel(cl->prog, name, &e);
  if (e != CL_SUCCESS) {
    *k = NULL;
    return rf__err(RF_EDEVICE, "opencl: kernel %s: %s", name, rf_cl_strerror(e));
  }
  return 0;
}

/* ---- memory ------------------------------------------------------------------------ */
/* Where the canary starts: the size rounded up to a word. */
static size_t rf__cl_canary_at(size_t bytes) { return (bytes + 3) / 4 * 4; }

static int rf__oom(const rf_cl *cl, size_t bytes, const char *what) {
  return rf__err(RF_EDEVICE, "opencl: out of device memory: %s needs %.1f MiB, %.1f of %.1f MiB in use on %s",
                 what, (double)bytes / 1048576.0, (double)cl->allocated / 1048576.0,
                 (double)cl->budget / 1048576.0, cl->dev.name);
}

/* Fills the first `bytes` of m as the fill mode says (nothing for "uninit"),
 * and the canary after them; on queue q, not waited for. */
static cl_int rf__cl_fill(rf_cl *cl, cl_command_queue q, cl_mem m, size_t bytes) {
  cl_int e = CL_SUCCESS;
  if (cl->fill != RF__FILL_NONE) {
    const cl_uint word = cl->fill == RF__FILL_POISON ? RF_CL_POISON_WORD : 0;
    /* the word's bytes as a pattern of the largest size that divides bytes */
    size_t ps = bytes % 4 == 0 ? 4 : bytes % 2 == 0 ? 2 : 1;
    e = clEnqueueFillBuffer(q, m, &word, ps, 0, bytes, 0, NULL, NULL);
  }
  if (e == CL_SUCCESS && cl->canary) {
    const cl_uint c = RF_CL_CANARY_WORD;
    e = clEnqueueFillBuffer(q, m, &c, 4, rf__cl_canary_at(bytes), RF_CL_CANARY_BYTES, 0, NULL, NULL);
  }
  return e;
}

int rf_cl_alloc(rf_cl *cl, size_t bytes, cl_mem_flags flags, const char *what, cl_mem *out) {
  *out = NULL;
  if (!bytes) bytes = 64;
  cl_command_queue q = cl->q[RF_CL_QUEUE_COMPUTE];
  for (size_t i = 0; i < RF__CL_MAX_BUFS; i++) {
    rf__cl_buf *b = &cl->bufs[i];
    if (b->mem && !b->in_use && b->bytes == bytes && b->flags == flags) {
      cl_int e = rf__cl_fill(cl, q, b->mem, bytes); /* as good as new */
      if (e != CL_SUCCESS) return rf__cl_err(e, what);
      b->in_use = 1;
      b->what = what;
      cl->allocated += bytes;
      *out = b->mem;
      return 0;
    }
  }
  size_t total = cl->canary ? rf__cl_canary_at(bytes) + RF_CL_CANARY_BYTES : bytes;
  if (total > cl->dev.max_alloc_bytes || cl->allocated + bytes > cl->budget) {
    /* Drop idle pooled buffers before refusing. */
    for (size_t i = 0; i < RF__CL_MAX_BUFS; i++)
      if (cl->bufs[i].mem && !cl->bufs[i].in_use) {
        clReleaseMemObject(cl->bufs[i].mem);
        cl->bufs[i].mem = NULL;
      }
    return rf__oom(cl, bytes, what);
  }
  size_t slot = RF__CL_MAX_BUFS;
  for (size_t i = 0; i < RF__CL_MAX_BUFS && slot == RF__CL_MAX_BUFS; i++)
    if (!cl->bufs[i].mem) slot = i;
  if (slot == RF__CL_MAX_BUFS) return rf__err(RF_EDEVICE, "opencl: too many buffers (%s)", what);
  cl_int e;
  cl_mem m = clCreateBuffer(cl->ctx, flags, total, NULL, &e);
  if (e != CL_SUCCESS) return e == CL_INVALID_BUFFER_SIZE || e == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                     e == CL_OUT_OF_RESOURCES || e == CL_OUT_OF_HOST_MEMORY
                                 ? rf__oom(cl, bytes, what)
                                 : rf__cl_err(e, what);
  /* Fill it now: allocation is lazy in most drivers, and this is where an
   * out-of-memory should show. */
  e = rf__cl_fill(cl, q, m, bytes);
  if (e == CL_SUCCESS) e = clFinish(q);
  if (e != CL_SUCCESS) {
    clReleaseMemObject(m);
    return e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES ? rf__oom(cl, bytes, what)
                                                                             : rf__cl_err(e, what);
  }
  cl->bufs[slot] = (rf__cl_buf){m, bytes, flags, what, 1};
  cl->allocated += bytes;
  *out = m;
  return 0;
}

/* Checks one buffer's canary (all queues finished first); 0, or RF_EDEVICE
 * with the message, also kept as the context's first damage. */
static int rf__cl_canary_check(rf_cl *cl, const rf__cl_buf *b) {
  cl_uint t[RF_CL_CANARY_BYTES / 4];
  for (int i = 0; i < RF_CL_QUEUES; i++) clFinish(cl->q[i]);
  cl_int e = clEnqueueReadBuffer(cl->q[RF_CL_QUEUE_COMPUTE], b->mem, CL_TRUE, rf__cl_canary_at(b->bytes), sizeof t,
                                 t, 0, NULL, NULL);
  if (e != CL_SUCCESS) return rf__cl_err(e, "reading a canary");
  for (size_t i = 0; i < sizeof t / 4; i++)
    if (t[i] != RF_CL_CANARY_WORD) {
      int st = rf__err(RF_EDEVICE, "opencl: canary after %s (%zu bytes) overwritten: word %zu is 0x%08x",
                       b->what, b->bytes, i, (unsigned)t[i]);
      if (!cl->canary_err[0]) snprintf(cl->canary_err, sizeof cl->canary_err, "%s", rf_errmsg());
      return st;
    }
  return 0;
}

void rf_cl_free(rf_cl *cl, cl_mem m) {
  if (!cl || !m) return;
  for (size_t i = 0; i < RF__CL_MAX_BUFS; i++)
    if (cl->bufs[i].mem == m && cl->bufs[i].in_use) {
      if (cl->canary && rf__cl_canary_check(cl, &cl->bufs[i])) rf_log(0, "%s", cl->canary_err);
      cl->bufs[i].in_use = 0;
      cl->allocated -= cl->bufs[i].bytes;
      return;
    }
  clReleaseMemObject(m);
}

int rf_cl_check_canaries(rf_cl *cl) {
  if (!cl->canary) return 0;
  for (size_t i = 0; i < RF__CL_MAX_BUFS; i++) {
    int st;
    if (cl->bufs[i].mem && cl->bufs[i].in_use && (st = rf__cl_canary_check(cl, &cl->bufs[i]))) return st;
  }
  if (cl->canary_err[0]) return rf__err(RF_EDEVICE, "%s", cl->canary_err);
  return 0;
}

int rf_cl_poison(rf_cl *cl, cl_command_queue q, cl_uint nkeep, const cl_mem *keep) {
  if (cl->fill != RF__FILL_POISON) return 0;
  for (size_t i = 0; i < RF__CL_MAX_BUFS; i++) {
    const rf__cl_buf *b = &cl->bufs[i];
    if (!b->mem || !b->in_use || b->flags == CL_MEM_READ_ONLY) continue;
    cl_uint k = 0;
    while (k < nkeep && keep[k] != b->mem) k++;
    if (k < nkeep) continue;
    const cl_uint word = RF_CL_POISON_WORD;
    size_t ps = b->bytes % 4 == 0 ? 4 : b->bytes % 2 == 0 ? 2 : 1;
    cl_int e = clEnqueueFillBuffer(q, b->mem, &word, ps, 0, b->bytes, 0, NULL, NULL);
    if (e != CL_SUCCESS) return rf__cl_err(e, "poisoning buffers");
  }
  return 0;
}

void rf__cl_account(rf_cl *cl, int64_t bytes) { cl->allocated = (uint64_t)((int64_t)cl->allocated + bytes); }

static int rf__shape_eq(const rf_cl_fft_shape *a, const rf_cl_fft_shape *b) {
  return a->len == b->len && a->outer == b->outer && a->zero_from == b->zero_from &&
         !a->forward_only == !b->forward_only;
}

int rf__cl_fft_probe_find(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t *per_batch, uint64_t *fixed) {
  for (size_t i = 0; i < cl->nprobes; i++)
    if (rf__shape_eq(&cl->probes[i].shape, shape)) {
      *per_batch = cl->probes[i].per_batch;
      *fixed = cl->probes[i].fixed;
      return 1;
    }
  return 0;
}

void rf__cl_fft_probe_keep(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t per_batch, uint64_t fixed) {
  size_t n = sizeof cl->probes / sizeof cl->probes[0];
  size_t i = cl->nprobes < n ? cl->nprobes++ : n - 1; /* full: the last slot is reused */
  cl->probes[i].shape = *shape;
  cl->probes[i].per_batch = per_batch;
  cl->probes[i].fixed = fixed;
}

int rf_cl_pinned(rf_cl *cl, size_t bytes, const char *what, cl_mem *buf, void **ptr) {
  cl_int e;
  *ptr = NULL;
  *buf = clCreateBuffer(cl->ctx, CL_MEM_ALLOC_HOST_PTR | CL_MEM_READ_WRITE, bytes ? bytes : 64, NULL, &e);
  if (e != CL_SUCCESS) {
    *buf = NULL;
    return rf__err(RF_EDEVICE, "opencl: cannot allocate %.1f MiB of pinned host memory for %s: %s",
                   (double)bytes / 1048576.0, what, rf_cl_strerror(e));
  }
  *ptr = clEnqueueMapBuffer(cl->q[RF_CL_QUEUE_TRANSFER], *buf, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                            bytes ? bytes : 64, 0, NULL, NULL, &e);
  if (e != CL_SUCCESS) {
    clReleaseMemObject(*buf);
    *buf = NULL;
    *ptr = NULL;
    return rf__err(RF_EDEVICE, "opencl: cannot map pinned memory for %s: %s", what, rf_cl_strerror(e));
  }
  return 0;
}

void rf_cl_pinned_free(rf_cl *cl, cl_mem buf, void *ptr) {
  if (!buf) return;
  if (ptr) {
    clEnqueueUnmapMemObject(cl->q[RF_CL_QUEUE_TRANSFER], buf, ptr, 0, NULL, NULL);
    clFinish(cl->q[RF_CL_QUEUE_TRANSFER]);
  }
  clReleaseMemObject(buf);
}

/* ---- launching ---------------------------------------------------------------------- */
int rf_cl_run(rf_cl *cl, cl_command_queue q, cl_kernel k, const char *name, cl_uint dims,
              const size_t *global, const size_t *local, cl_uint nwait, const cl_event *wait,
              cl_event *ev) {
  if (rf_cancel) return rf__err(RF_EINTR, "interrupted before kernel %s; no products written", name);
  cl_event own = NULL;
  if (cl->prof && !ev) ev = &own; /* profiled: every launch gets an event */
  size_t g[3];
  for (cl_uint i = 0; i < dims; i++) {
    size_t l = local ? local[i] : 1;
    g[i] = (global[i] + l - 1) / l * l;
    if (!g[i]) g[i] = l;
  }
  cl_int e = clEnqueueNDRangeKernel(q, k, dims, NULL, g, local, nwait, nwait ? wait : NULL, ev);
  if (e != CL_SUCCESS) return rf__cl_err(e, name);
  if (cl->prof) rf__cl_prof_add(cl->prof, name, *ev, NULL);
  rf_cl_release(&own);
  /* Submitted at once: a device that runs commands when they are flushed
   * (oclgrind simulates them then, in this thread) reaches the check
   * above between kernels, so SIGTERM stops a dwell there. */
  clFlush(q);
  return 0;
}

int rf_cl_args(cl_kernel k, const char *name, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    size_t sz = va_arg(ap, size_t);
    const void *p = va_arg(ap, const void *);
    cl_int e = clSetKernelArg(k, (cl_uint)i, sz, p);
    if (e != CL_SUCCESS) {
      va_end(ap);
      return rf__err(RF_EDEVICE, "opencl: %s: argument %d: %s", name, i, rf_cl_strerror(e));
    }
  }
  va_end(ap);
  return 0;
}

/* ---- profiling ------------------------------------------------------------------------ */
double rf_cl_event_span(cl_event a, cl_event b) {
  if (!a || !b) return 0;
  cl_ulong t0 = 0, t1 = 0;
  if (clGetEventProfilingInfo(a, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) != CL_SUCCESS ||
      clGetEventProfilingInfo(b, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS || t1 < t0)
    return 0;
  return 1e-9 * (double)(t1 - t0);
}

void rf_cl_release(cl_event *ev) {
  if (*ev) clReleaseEvent(*ev);
  *ev = NULL;
}
