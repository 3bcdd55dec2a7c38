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

/* Tunables of one class of device: a row of the table in cl_runtime.c
 * (CLBlast style: first matching row, the last row is the default). The
 * kernel ones reach the kernels as -D build options, so the host and the
 * kernels cannot disagree. $RF_CL_TUNING ("bf_tb=4,cfar_tile=64") overrides
 * fields of the chosen row (experiments, tests). */
typedef struct rf_cl_tuning {
  const char *name;      /* the row's name */
  const char *vendor;    /* part of CL_DEVICE_VENDOR it applies to ("": any) */
  int gpu_only;          /* 1: CL_DEVICE_TYPE_GPU devices only */
  unsigned bf_tb;        /* -DRF_BF_TB: beams per work-item in rf_doppler_input, 1..32 */
  unsigned cfar_tile;    /* -DRF_CFAR_TILE: cells per CA/GO/SO work-group (its size), 16..1024 */
  unsigned wg;           /* work-group size of the other kernels (dimension 0), 1..1024 */
  unsigned max_groups;   /* most pulse groups per range cell in rf_doppler_input, 1..64 */
  unsigned target_items; /* work-items the pulse groups aim to fill (0: one group) */
} rf_cl_tuning;

/* Context, three in-order profiling queues and the program built from the
 * embedded sources (or $RF_KERNEL_DIR/<name> when set) with the tuning
 * row's -D options, through the binary cache. Reads $RF_CL_POISON,
 * $RF_CL_CANARY and $RF_CL_TUNING (a bad value is RF_EINVAL naming the
 * variable). Failures are RF_EDEVICE naming the call and the error; a
 * build failure's message holds the build log. */
int rf_cl_create(rf_cl **cl, const rf_cl_device_info *dev);
void rf_cl_destroy(rf_cl *cl);
const rf_cl_device_info *rf_cl_device(const rf_cl *cl);
cl_context rf_cl_context(const rf_cl *cl);
cl_command_queue rf_cl_queue(const rf_cl *cl, int which);
/* A new kernel object of the program (release with clReleaseKernel). */
int rf_cl_kernel(rf_cl *cl, const char *name, cl_kernel *k);
/* 1 if the program came from the binary cache. */
int rf_cl_program_cached(const rf_cl *cl);
/* The tuning in force (row plus $RF_CL_TUNING) and the build options made
 * from it ("-cl-std=CL1.2 -DRF_BF_TB=8 ..."). */
const rf_cl_tuning *rf_cl_tuning_get(const rf_cl *cl);
const char *rf_cl_build_options(const rf_cl *cl);

/* Cache folder: $RF_CACHE_DIR, else $XDG_CACHE_HOME/radarflow, else
 * ~/.cache/radarflow. Writes into out; 0 or RF_EINVAL. */
int rf_cl_cache_dir(char *out, size_t len);
/* The payload of cache file <kind>-<hash of key>.bin if it exists and
 * holds exactly this key (rf__malloc'd, NUL-terminated, *len bytes), else
 * NULL. Writing: under a temporary name, then renamed; failures are
 * silent (the cache is an optimisation). */
void *rf__cl_cache_read(const char *kind, const char *key, size_t *len);
void rf__cl_cache_write(const char *kind, const char *key, const void *data, size_t len);

/* ---- memory --------------------------------------------------------------------- */
/* Device budget: the lesser of 85% of global memory and $RF_CL_MAX_ALLOC_MB;
 * single buffers are also held under CL_DEVICE_MAX_MEM_ALLOC_SIZE. */
uint64_t rf_cl_budget(const rf_cl *cl);
uint64_t rf_cl_allocated(const rf_cl *cl);
/* A device buffer of `bytes`, filled at once so the allocation is real (an
 * out-of-memory shows here, not at the first kernel): with zeros, or by
 * $RF_CL_POISON (docs/opencl.md): 1 fills it with RF_CL_POISON_WORD (a NaN),
 * "uninit" leaves it unfilled (for memory checkers: oclgrind then sees every
 * byte no command wrote as uninitialised). Freed buffers of the same size
 * and flags are reused and filled again. With $RF_CL_CANARY=1 every buffer
 * gets RF_CL_CANARY_BYTES of RF_CL_CANARY_WORD past its end, checked when it
 * is freed and by rf_cl_check_canaries. RF_EDEVICE "out of device memory"
 * naming `what` when over budget or refused. */
#define RF_CL_POISON_WORD 0x7FC0DEADu /* a quiet NaN as float; 2143346349 as a count */
#define RF_CL_CANARY_WORD 0xA5A5A5A5u
#define RF_CL_CANARY_BYTES 1024
int rf_cl_alloc(rf_cl *cl, size_t bytes, cl_mem_flags flags, const char *what, cl_mem *out);
void rf_cl_free(rf_cl *cl, cl_mem m);
/* Poison mode ($RF_CL_POISON=1) only, else a no-op: enqueues on q a fill
 * with RF_CL_POISON_WORD of every buffer in use that kernels may write
 * (flags other than CL_MEM_READ_ONLY: the read-only ones are tables and
 * uploads the host writes), except the nkeep buffers in keep (results
 * still to be read back). Called between dwells. */
int rf_cl_poison(rf_cl *cl, cl_command_queue q, cl_uint nkeep, const cl_mem *keep);
/* Canary mode only (else 0): waits for every queue, then checks the canary
 * of every buffer in use and the result of those freed since create.
 * RF_EDEVICE naming the buffer and the first damaged word. */
int rf_cl_check_canaries(rf_cl *cl);
/* Device bytes allocated outside rf_cl_alloc (VkFFT's own buffers), added
 * to rf_cl_allocated: +bytes when made, -bytes when released. */
void rf__cl_account(rf_cl *cl, int64_t bytes);
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
/* Per-kernel device times ($RF_CL_PROFILE=DIR, host/cl_profile.c): NULL
 * when off. rf_cl_run and rf_cl_fft_enqueue add each launch (the span from
 * a's start to b's end, b NULL: a's own; the events are retained); the
 * context's destroy writes DIR/cl-profile-<pid>-<n>.json. */
typedef struct rf__cl_prof rf__cl_prof;
int rf__cl_prof_create(rf__cl_prof **p, const char *dir);
void rf__cl_prof_add(rf__cl_prof *p, const char *name, cl_event a, cl_event b);
void rf__cl_prof_finish(rf__cl_prof *p, const rf_cl_device_info *dev);
rf__cl_prof *rf__cl_profile(const rf_cl *cl);
/* Seconds from the start of `a` to the end of `b` (profiling queues); 0 if
 * either is NULL or has no timestamps. */
double rf_cl_event_span(cl_event a, cl_event b);
/* Releases an event if non-NULL and clears it. */
void rf_cl_release(cl_event *ev);

/* Reports an OpenCL failure: RF_EDEVICE, "opencl: <what>: <CL_ERROR_NAME>". */
int rf__cl_err(cl_int err, const char *what);

/* ---- FFT (VkFFT, OpenCL backend) --------------------------------------------------- */
typedef struct rf_cl_fft rf_cl_fft;
/* The shape of a batched in-place FFT on `batches` x `outer` x `len`
 * complex floats (outer = 1: rows of len contiguous samples; outer > 1:
 * transforms along the middle axis, stride outer, e.g. [B][K][S] Doppler
 * columns with outer = S). zero_from < len: input samples [zero_from, len)
 * are taken as zero (not read) by the forward transform and not written by
 * the inverse. forward_only: no inverse plan (not compiled). */
typedef struct rf_cl_fft_shape {
  size_t len, outer, zero_from;
  int forward_only;
} rf_cl_fft_shape;
int rf_cl_fft_create(rf_cl *cl, rf_cl_fft **f, const rf_cl_fft_shape *shape, size_t batches, cl_mem buf);
/* Device memory VkFFT allocates for a plan of this shape besides the data:
 * per_batch bytes per batch (its reorder buffer, long transforms only) and
 * fixed bytes (Bluestein's buffers, lengths with a prime factor > 13).
 * Asked of VkFFT: a plan of one batch is made (once per shape and context,
 * then remembered) and its buffers read. */
int rf_cl_fft_scratch(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t *per_batch, uint64_t *fixed);
/* What this plan's own buffers take (counted in rf_cl_allocated). */
uint64_t rf_cl_fft_device_bytes(const rf_cl_fft *f);
/* 1 if the plan's kernels came from the on-disk plan cache (files
 * vkfft-<hash>.bin in rf_cl_cache_dir, keyed by the plan's shape, VkFFT's
 * version and the device and driver), 0 if VkFFT compiled them (and saved
 * them there). */
int rf_cl_fft_cached(const rf_cl_fft *f);
/* 0 when the plan cache is built out (AddressSanitizer builds: VkFFT
 * 1.2.26's loader reads one byte past its own copy of a binary). */
int rf_cl_fft_cache_enabled(void);
/* rf_cl_fft_scratch's answers, remembered per context and shape. */
int rf__cl_fft_probe_find(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t *per_batch, uint64_t *fixed);
void rf__cl_fft_probe_keep(rf_cl *cl, const rf_cl_fft_shape *shape, uint64_t per_batch, uint64_t fixed);
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

/* 3: beamforming weights. The beamforming itself (a complex matrix
 * product per pulse, kernels/beamform.cl rf_bf_pulse) runs fused into the
 * Doppler stage's input kernel, rf_doppler_cl_input, which forms each beam
 * output from the rows and these weights as it walks the pulses. */
typedef struct rf_bf_cl rf_bf_cl;
int rf_bf_cl_create(rf_bf_cl **bf, rf_cl *cl, size_t channels, size_t beams);
/* Weights [B][N] for the next dwell (copied; two alternating device copies).
 * w NULL: per-channel mode, beam b is channel b (B <= N, else RF_EINVAL). */
int rf_bf_cl_set_weights(rf_bf_cl *bf, cl_command_queue q, const float complex *w);
/* 1 after set_weights(NULL). */
int rf_bf_cl_per_channel(const rf_bf_cl *bf);
/* The current weights, [tiles * RF_BF_TB][N] (rows past B zero); N, B. */
cl_mem rf_bf_cl_weights(const rf_bf_cl *bf, size_t *channels, size_t *beams);
void rf_bf_cl_destroy(rf_bf_cl *bf);

/* 4: the Doppler stage of one dwell length. input: per block of pulses,
 * beamforming (fused, from an rf_bf_cl's weights) + clutter canceller +
 * slow-time window + the notch's slow-time sums, into slow-time rows
 * [p_first - drop, ...) of dop [B][K][S] (drop: 1 for MTI2, 2 for MTI3).
 * execute: VkFFT transform along slow time (rows [pout, K) taken as zero,
 * never read), notch mean removal, fftshift, |.|^2 -> power [B][K][S].
 * groups: pulse groups per range cell run in parallel (0: as the tuning
 * row says, rf_doppler_cl_groups). dop and power are borrowed (at least
 * B K S entries). The canceller history and the notch sums live in the
 * object and carry across the blocks of a dwell (p_first = 0 starts one). */
typedef struct rf_doppler_cl rf_doppler_cl;
int rf_doppler_cl_create(rf_doppler_cl **d, rf_cl *cl, const rf_doppler_config *cfg, size_t beams,
                         size_t groups, cl_mem dop);
/* Pulse groups the tuning row gives for this many cells, beams and pulses. */
size_t rf_doppler_cl_groups(const rf_cl *cl, size_t cells, size_t beams, size_t pulses);
int rf_doppler_cl_input(rf_doppler_cl *d, cl_command_queue q, const rf_bf_cl *bf, cl_mem rows,
                        size_t row_stride, size_t pcount, size_t p_first, cl_mem dop, cl_uint nwait,
                        const cl_event *wait, cl_event *done);
int rf_doppler_cl_execute(rf_doppler_cl *d, cl_command_queue q, cl_mem dop, cl_mem power, cl_uint nwait,
                          const cl_event *wait, cl_event *done);
void rf_doppler_cl_destroy(rf_doppler_cl *d);

/* 5 + compaction: CFAR of every beam's map of power [B][K][S], crossings
 * appended to cand (cap entries) with count[0] all, count[1 + b] per beam
 * (count is zeroed first), and each beam map's noise-level histogram into
 * hist [B][RF_CFAR_HIST] (rf_cfar_hist_ref; zeroed first). ref gives the
 * window, the mask and the factors. */
typedef struct rf_cfar_cl rf_cfar_cl;
int rf_cfar_cl_create(rf_cfar_cl **c, rf_cl *cl, const rf_cfar *ref, size_t beams, size_t beams_az);
int rf_cfar_cl_execute(rf_cfar_cl *c, cl_command_queue q, cl_mem power, cl_mem cand, size_t cap,
                       cl_mem count, cl_mem hist, cl_uint nwait, const cl_event *wait, cl_event *done);
void rf_cfar_cl_destroy(rf_cfar_cl *c);

#endif
