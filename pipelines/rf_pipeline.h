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
 * tracks.csv, plots.ast, tracks.ast and finally run.json (each atomically;
 * outdir is created if missing), on the CPU path. On failure no product is
 * left and the message names the file and field. */
int rf_process_capture(const char *capture_path, const char *outdir, const rf_config *cfg,
                       rf_run_summary *sum);
/* The same on a device: "cpu", "auto" (the first OpenCL GPU, else the CPU;
 * if OpenCL is missing, its kernels fail to build or the device runs out of
 * memory, warns once and runs on the CPU, sum->fallback_reason says why),
 * "opencl", "opencl:P:D" or part of a device name (rf_cl_select; failures
 * are RF_EDEVICE, a spec naming no device RF_EINVAL). Between dwells it
 * stops on rf_cancel with RF_EINTR and writes nothing. */
int rf_process_capture_on(const char *capture_path, const char *outdir, const rf_config *cfg,
                          const char *device, rf_run_summary *sum);

#endif
