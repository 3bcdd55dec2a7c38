/* radarflow: the OpenCL runtime - device discovery and selection, context
 * and queues, program build with an on-disk binary cache, a budgeted buffer
 * pool, pinned host memory, error strings and profiling. OpenCL 1.2 only
 * (NVIDIA's OpenCL stops there); kernels are OpenCL C 1.2 (kernels/ *.cl,
 * embedded at build time). docs/opencl.md describes the design. */
#ifndef RF_CL_H
#define RF_CL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "rf_common.h"
#include "rf_stages.h"

/* ---- embedded kernel sources (build/gen/rf_cl_kernels.c) ------------------- */
typedef struct rf_cl_source {
  const char *name; /* "cfar.cl" */
  const char *text;
  size_t len;
  const char *hash; /* SHA-256 prefix of the file */
} rf_cl_source;
extern const rf_cl_source rf_cl_sources[];
extern const size_t rf_cl_source_count;

/* Name of an OpenCL status ("CL_OUT_OF_RESOURCES"); every code of the 1.2
 * headers plus the common extension codes, "CL_UNKNOWN_ERROR" otherwise. */
const char *rf_cl_strerror(cl_int err);

/* ---- devices ---------------------------------------------------------------- */
typedef struct rf_cl_device_info {
  char id[32];                /* "opencl:P:D", what --device takes */
  unsigned platform, index;   /* P, D */
  cl_platform_id platform_id;
  cl_device_id device_id;
  char platform_name[128];
  char name[256], vendor[128], driver[128], version[128], c_version[128];
  unsigned compute_units;
  uint64_t global_mem_bytes, max_alloc_bytes, local_mem_bytes;
  int is_gpu;
} rf_cl_device_info;

/* Every device of every platform. *list is rf__malloc'd (rf__free). No
 * OpenCL platform (no ICD, empty OCL_ICD_VENDORS) is RF_EDEVICE with the
 * reason in the message. */
int rf_cl_devices(rf_cl_device_info **list, size_t *n);

/* Resolves a device spec: "opencl" (the first GPU, else the first device),
 * "opencl:P:D", "auto" (the first GPU only; RF_EUNSUP when there is none,
 * unless RF_CL_AUTO_ANY=1 lets it take any device), or a case-insensitive
 * part of a device name. RF_EDEVICE when OpenCL has no platform, RF_EINVAL
 * when the spec names no device. */
int rf_cl_select(const char *spec, rf_cl_device_info *out);

/* ---- context ------------------------------------------------------------------ */
typedef struct rf_cl rf_cl;
/* compute: kernels and FFTs; transfer: uploads; readback: results back. */
enum { RF_CL_QUEUE_COMPUTE = 0, RF_CL_QUEUE_TRANSFER = 1, RF_CL_QUEUE_READBACK = 2, RF_CL_QUEUES = 3 };

/* Context, three in-order profiling queues and the
 * program built from the embedded sources (or $RF_KERNEL_DIR/<name> when
 * set), through the binary cache. Failures are RF_EDEVICE naming the call
 * and the error; a build failure's message holds the build log. */
int rf_cl_create(rf_cl **cl, const rf_cl_device_info *dev);
void rf_cl_destroy(rf_cl *cl);
const rf_cl_device_info *rf_cl_device(const rf_cl *cl);
cl_context rf_cl_context(const rf_cl *cl);
cl_command_queue rf_cl_queue(const rf_cl *cl, int which);
/* A new kernel object of the program (release with clReleaseKernel). */
int rf_cl_kernel(rf_cl *cl, const char *name, cl_kernel *k);
/* 1 if the program came from the binary cache. */
int rf_cl_program_cached(const rf_cl *cl);

/* Cache folder: $RF_CACHE_DIR, else $XDG_CACHE_HOME/radarflow, else
 * ~/.cache/radarflow. Writes into out; 0 or RF_EINVAL. */
int rf_cl_cache_dir(char *out, size_t len);

/* ---- memory --------------------------------------------------------------------- */
/* Device budget: the lesser of 85% of global memory and $RF_CL_MAX_ALLOC_MB;
 * single buffers are also held under CL_DEVICE_MAX_MEM_ALLOC_SIZE. */
uint64_t rf_cl_budget(const rf_cl *cl);
uint64_t rf_cl_allocated(const rf_cl *cl);
/* A device buffer of `bytes`, zero filled so the allocation is real (an
 * out-of-memory shows here, not at the first kernel). Freed buffers of the
 * same size and flags are reused. RF_EDEVICE "out of device memory" naming
 * `what` when over budget or refused. */
int rf_cl_alloc(rf_cl *cl, size_t bytes, cl_mem_flags flags, const char *what, cl_mem *out);
void rf_cl_free(rf_cl *cl, cl_mem m);
/* Pinned host memory (CL_MEM_ALLOC_HOST_PTR, mapped once): *buf is the
 * buffer object, *ptr its host address. Counted against the host, not the
 * device budget. */
int rf_cl_pinned(rf_cl *cl, size_t bytes, const char *what, cl_mem *buf, void **ptr);
void rf_cl_pinned_free(rf_cl *cl, cl_mem buf, void *ptr);

/* Enqueues a kernel over a global range rounded up to the local size.
 * dims 1..3; local may be NULL. RF_EDEVICE naming the kernel on failure. */
int rf_cl_run(rf_cl *cl, cl_command_queue q, cl_kernel k, const char *name, cl_uint dims,
              const size_t *global, const size_t *local, cl_uint nwait, const cl_event *wait,
              cl_event *ev);
/* clSetKernelArg of a list: rf_cl_args(k, name, n, size0, ptr0, size1, ptr1...). */
int rf_cl_args(cl_kernel k, const char *name, int n, ...);

/* ---- profiling -------------------------------------------------------------------- */
/* Seconds from the start of `a` to the end of `b` (profiling queues); 0 if
 * either is NULL or has no timestamps. */
double rf_cl_event_span(cl_event a, cl_event b);
/* Releases an event if non-NULL and clears it. */
void rf_cl_release(cl_event *ev);

/* Reports an OpenCL failure: RF_EDEVICE, "opencl: <what>: <CL_ERROR_NAME>". */
int rf__cl_err(cl_int err, const char *what);

/* ---- FFT (VkFFT, OpenCL backend) --------------------------------------------------- */
typedef struct rf_cl_fft rf_cl_fft;
/* Batched complex FFTs in place on a buffer of `batches` x `outer` x `len`
 * complex floats (outer = 1: rows of len contiguous samples; outer > 1:
 * transforms along the middle axis, stride outer, e.g. [B][K][S] Doppler
 * columns with outer = S). zero_from < len: input samples [zero_from, len)
 * are taken as zero (not read) by the forward transform and not written by
 * the inverse. */
int rf_cl_fft_create(rf_cl *cl, rf_cl_fft **f, size_t len, size_t outer, size_t batches,
                     size_t zero_from, cl_mem buf);
/* inverse = 0: forward (exp(-j...)); 1: inverse, unnormalised. */
int rf_cl_fft_enqueue(rf_cl_fft *f, cl_command_queue q, int inverse, cl_mem buf);
void rf_cl_fft_destroy(rf_cl_fft *f);

/* ---- the stages on the device (host/ *_cl.c) -------------------------------------------
 * Twins of the C stages in rf_stages.h; each takes its tables from a C
 * stage object so both apply the same numbers. execute only enqueues (on
 * the queue given, after `wait`), never allocates, and gives an event that
 * completes with the stage. */
/* A CFAR crossing and its neighbours' powers (kernels/common.cl rf_cand). */
typedef struct rf_cl_cand {
  uint32_t beam, bin, cell;
  float power, noise, threshold;
  float nb[8];
} rf_cl_cand;

/* 1+2: raw [pulses][N][S] pairs -> rows [max_pulses * N][L] complex (first S
 * of each row valid), L = rf_pc_fft_len. */
typedef struct rf_pc_cl rf_pc_cl;
int rf_pc_cl_create(rf_pc_cl **pc, rf_cl *cl, const rf_pc_config *cfg);
cl_mem rf_pc_cl_rows(const rf_pc_cl *pc);
size_t rf_pc_cl_row_stride(const rf_pc_cl *pc);
const rf_pc *rf_pc_cl_ref(const rf_pc_cl *pc);
int rf_pc_cl_execute(rf_pc_cl *pc, cl_command_queue q, cl_mem raw, size_t pulses, cl_uint nwait,
                     const cl_event *wait, cl_event *start, cl_event *done);
void rf_pc_cl_destroy(rf_pc_cl *pc);

/* 3 (+ canceller, window, notch sums): rows of one block of pulses -> slow
 * rows of dop [B][K][S]. max_groups bounds the pulse groups run in
 * parallel per cell (1 = one work-item walks every pulse). */
typedef struct rf_bf_cl rf_bf_cl;
int rf_bf_cl_create(rf_bf_cl **bf, rf_cl *cl, size_t channels, size_t beams, size_t cells,
                    size_t max_groups);
/* Weights [B][N] for the next dwell (copied; two alternating device copies). */
int rf_bf_cl_set_weights(rf_bf_cl *bf, cl_command_queue q, const float complex *w);
/* Notch sums [groups][B][S] of the current dwell (for rf_doppler_cl). */
cl_mem rf_bf_cl_sums(const rf_bf_cl *bf, size_t *groups);
int rf_bf_cl_execute(rf_bf_cl *bf, cl_command_queue q, cl_mem rows, size_t row_stride,
                     size_t pcount, size_t p_first, size_t pulses, int clutter, cl_mem win, size_t bins,
                     cl_mem dop, cl_uint nwait, const cl_event *wait, cl_event *done);
void rf_bf_cl_destroy(rf_bf_cl *bf);

/* 4: VkFFT Doppler transform of dop [B][K][S] (rows [pout, K) taken as
 * zero), notch mean removal, fftshift, |.|^2 -> power [B][K][S]. dop and
 * power are borrowed (at least B K S entries). */
typedef struct rf_doppler_cl rf_doppler_cl;
int rf_doppler_cl_create(rf_doppler_cl **d, rf_cl *cl, const rf_doppler_config *cfg, size_t beams,
                         cl_mem dop);
cl_mem rf_doppler_cl_window(const rf_doppler_cl *d);
int rf_doppler_cl_execute(rf_doppler_cl *d, cl_command_queue q, cl_mem dop, cl_mem sums,
                          size_t groups, cl_mem power, cl_uint nwait, const cl_event *wait,
                          cl_event *done);
void rf_doppler_cl_destroy(rf_doppler_cl *d);

/* 5 + compaction: CFAR of every beam's map of power [B][K][S], crossings
 * appended to cand (cap entries) with count[0] all, count[1 + b] per beam
 * (count is zeroed first). ref gives the window and factors. */
typedef struct rf_cfar_cl rf_cfar_cl;
int rf_cfar_cl_create(rf_cfar_cl **c, rf_cl *cl, const rf_cfar *ref, size_t beams, size_t beams_az);
int rf_cfar_cl_execute(rf_cfar_cl *c, cl_command_queue q, cl_mem power, cl_mem cand, size_t cap,
                       cl_mem count, cl_uint nwait, const cl_event *wait, cl_event *done);
void rf_cfar_cl_destroy(rf_cfar_cl *c);

#endif
