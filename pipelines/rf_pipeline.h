/* radarflow: a whole capture, as `radarflow process` runs it - open, every
 * dwell through the dwell engine (rf_engine.h), track, write the products. */
#ifndef RF_PIPELINE_H
#define RF_PIPELINE_H

#include "rf_engine.h"
#include "rf_tracker.h"

/* Doppler bins K the pipeline uses for a dwell of `pulses` pulses:
 * doppler.fft_size, or the next power of two >= pulses. */
size_t rf_pipeline_bins(const rf_config *cfg, size_t pulses);

typedef struct rf_run_summary {
  size_t dwells, plots, tracks;  /* tracks: distinct track ids */
  rf_track_counts track_counts;  /* confirmed, tentative, deleted (rf_tracker.h) */
  uint64_t input_bytes;
  uint64_t samples;             /* complex input samples processed */
  double seconds;               /* wall time, open to products written */
  double stage_s[RF_STAGE_COUNT]; /* the engine's (rf_engine_times.stage_s) */
  double write_s;
  double setup_s, stream_s;     /* wall: engine made (opencl: with its context,
                                   programs, plans, buffers); the dwells */
  rf_engine_times engine;       /* upload/download device times (opencl) */
  char device[64];              /* "cpu" or "opencl:P:D" */
  char device_name[256];
  char fallback_reason[512];    /* why auto fell back to the CPU; empty if it did not */
} rf_run_summary;
/* Reads capture_path, writes outdir/plots.h5, plots.csv, tracks.h5,
 * tracks.csv, plots.ast, tracks.ast, plots.pcap, tracks.pcap and finally run.json (each atomically;
 * outdir is created if missing), on the CPU path. On failure no product is
 * left and the message names the file and field. */
int rf_process_capture(const char *capture_path, const char *outdir, const rf_config *cfg,
                       rf_run_summary *sum);
/* The same into `dir`, an existing folder the caller owns (a temporary
 * folder; nothing is switched or removed outside it), failing (RF_EINVAL)
 * when the capture or a file it reads lies in guard_dir (the folder the
 * products will replace; NULL: none). rf_process_capture_on and batch
 * workers use it. */
int rf_process_capture_into(const char *capture_path, const char *dir, const char *guard_dir,
                            const rf_config *cfg, const char *device, rf_run_summary *sum);
/* The same on a device: "cpu", "auto" (the first OpenCL GPU, else the CPU;
 * if OpenCL is missing, its kernels fail to build or the device runs out of
 * memory, warns once and runs on the CPU, sum->fallback_reason says why),
 * "opencl", "opencl:P:D" or part of a device name (rf_cl_select; failures
 * are RF_EDEVICE, a spec naming no device RF_EINVAL). Between dwells it
 * stops on rf_cancel with RF_EINTR and writes nothing. All or none: the
 * products are written into a temporary folder beside outdir and switched
 * in (rf_outset, host/rf_files.h); a failure leaves outdir as it was, and
 * an outdir that is not empty and not a radarflow product folder, or that
 * holds the capture, is refused (RF_EINVAL) before any work. */
int rf_process_capture_on(const char *capture_path, const char *outdir, const rf_config *cfg,
                          const char *device, rf_run_summary *sum);

/* Most dwells a run takes (formats.md, "Checks and limits"): per-dwell work
 * (FFT plans are reused, but each dwell reads, transforms, detects and
 * extracts) makes millions of tiny dwells run for hours. */
#define RF_MAX_RUN_DWELLS (1u << 20)

/* The memory the CPU engine allocates for a capture (bytes): sample blocks
 * (raw, compressed rows), the range-pulse cube and power maps of the
 * longest dwell for every beam, hits, FFT scratch, Doppler and CFAR tables
 * per dwell length, the capture's tables. Plots are not counted (they grow
 * with detections, at most plots.max_per_dwell per dwell). */
typedef struct rf_memory_estimate {
  double total, raw, rows, cube, power, hits, fft, doppler, cfar, meta;
  size_t dwell;  /* the longest dwell (first of them) */
  size_t pulses, beams, bins;
} rf_memory_estimate;
void rf_process_memory_estimate(const rf_capture_meta *m, const rf_config *cfg, rf_memory_estimate *e);
/* run.memory_mb in bytes, or when 0: 3/4 of the smallest of physical
 * memory, the cgroup's memory.max and RLIMIT_AS. */
uint64_t rf_memory_budget_bytes(const rf_config *cfg);
/* Everything checked after rf_capture_open and before the first dwell:
 * dwell count (RF_MAX_RUN_DWELLS, RF_ERANGE), rf_config_check and
 * rf_config_check_maps against the capture (RF_EINVAL), the capture and its
 * source files outside guard_dir (may be NULL; RF_EINVAL), and the memory
 * estimate within the budget (RF_ERANGE naming the dwell and the sizes). */
int rf_process_validate(const rf_capture *cap, const rf_config *cfg, const char *guard_dir);

#endif
