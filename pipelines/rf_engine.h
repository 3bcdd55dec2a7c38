/* radarflow: the dwell engine - one interface, two backends.
 *
 * An engine turns the dwells of one capture into plots. Both backends run
 * the same stages (docs/pipeline.md) and share two objects made at create:
 * the receive beam fan (host rf_fan: beams, weights, beamwidths per
 * distinct transmit direction) and the plot extraction (CFAR hits into
 * plot rows, pipelines/dwell_plots.c), plus one CFAR object per distinct
 * dwell length. What differs is theirs:
 *   cpu     (engine_cpu.c) FFTW + OpenMP stages of host/, blocks of pulses
 *           read, compressed and beamformed into a host beam cube.
 *   opencl  (engine_cl.c)  the OpenCL twins of host/ (<stage>_cl.c) on a device; a reader
 *           thread reads block k+1 into pinned memory while the device works
 *           on block k; only CFAR candidates come back, and dwell d-1's
 *           plots are extracted while dwell d computes.
 * The caller owns the dwell loop (pipelines/process.c: one loop, one
 * cancellation point between dwells):
 *
 *   rf_engine_create_cpu(&e, &cfg, cap);       (or _create_cl with a device)
 *   for (d = 0; d < dwells; d++) rf_engine_dwell(e, d, &plots);
 *   rf_engine_finish(e, &plots);               (the dwells still in flight)
 *   rf_engine_destroy(e);
 *
 * create allocates everything (plans, buffers, kernels, the fan, CFAR
 * tables); rf_engine_dwell allocates nothing but the growth of the caller's
 * plot list (and, on opencl, the reader thread it starts at the first
 * dwell). From the first rf_engine_dwell to rf_engine_finish or destroy,
 * the engine is the only user of the capture: HDF5 is not thread-safe and
 * the opencl reader thread reads ahead. */
#ifndef RF_ENGINE_H
#define RF_ENGINE_H

#include "../host/rf_stages.h"
#include "../io/rf_capture.h"
#include "../io/rf_products.h"
#include "rf_config.h"

/* The beam fan settings of a capture under a configuration (the transmit
 * beamwidths from the capture). */
void rf_engine_fan_config(const rf_capture_meta *m, const rf_config *cfg, rf_fan_config *fc);

/* Seconds spent per stage, accumulated over the dwells processed. */
#define RF_STAGES(X) X(read) X(pulse_compression) X(beamforming) X(doppler) X(cfar) X(extraction)
enum rf_stage_id {
#define RF__STAGE_ID(s) RF_STAGE_##s,
  RF_STAGES(RF__STAGE_ID)
#undef RF__STAGE_ID
  RF_STAGE_COUNT
};
extern const char *const rf_stage_names[RF_STAGE_COUNT];

typedef struct rf_engine_times {
  /* cpu: wall time per stage. opencl: device time per device stage
   * (profiling events); read and extraction are host wall time. */
  double stage_s[RF_STAGE_COUNT];
  double upload_s, download_s;         /* opencl: device time of host<->device copies */
  double upload_bytes, download_bytes; /* opencl: bytes copied */
  /* Detection counts: CFAR cells under test and crossings (all beams),
   * peaks dropped because the fan does not support their direction. */
  double cfar_cells, cfar_crossings;
  uint64_t peaks_outside_fan;
} rf_engine_times;

typedef struct rf_engine rf_engine;
typedef struct rf_cl rf_cl; /* host/rf_cl.h */

/* The CPU backend for capture cap (borrowed, with its meta, for the engine's
 * life). RF_EINVAL / RF_ENOMEM with the message set. */
int rf_engine_create_cpu(rf_engine **e, const rf_config *cfg, rf_capture *cap);
/* The OpenCL backend on cl (borrowed; destroy the engine before cl).
 * Dwells whose pulses do not fit the device budget are split into blocks
 * of pulses; RF_EDEVICE when not even one pulse fits, or on any device
 * failure (message: the OpenCL call and error name). */
int rf_engine_create_cl(rf_engine **e, rf_cl *cl, const rf_config *cfg, rf_capture *cap);
/* Stops a reader thread still running, waits for the device; NULL: no-op. */
void rf_engine_destroy(rf_engine *e);

/* Processes dwell d and appends the plots of every dwell it finished, in
 * dwell order. The cpu backend finishes d before it returns and takes the
 * dwells in any order; the opencl backend streams - it returns once d is
 * queued, with the plots of d - 1 - and takes dwells in capture order 0, 1,
 * 2, ... (another order is RF_EINVAL). */
int rf_engine_dwell(rf_engine *e, size_t d, rf_plot_list *plots);
/* Finishes the dwells still in flight, appending their plots; afterwards
 * the times are complete. */
int rf_engine_finish(rf_engine *e, rf_plot_list *plots);

const rf_engine_times *rf_engine_get_times(const rf_engine *e);
/* "cpu" or "opencl". */
const char *rf_engine_backend(const rf_engine *e);
/* Pulses per block (the whole longest dwell unless it had to be split). */
size_t rf_engine_block_pulses(const rf_engine *e);

/* The last finished dwell: its geometry (beam directions, cells, bins),
 * the fan's beamwidths at its transmit direction, and its power cube
 * [beams][bins][cells] in units of the noise power when it is on the host
 * (cpu; NULL on opencl: see rf_engine_read_power). Borrowed until the next
 * call. RF_EINVAL before any dwell finished. */
typedef struct rf_dwell_view {
  size_t dwell, beams, bins, cells;
  const rf_dwell_geom *geom;
  double beamwidth_az_deg, beamwidth_el_deg;
  const float *power;
} rf_dwell_view;
int rf_engine_last_dwell(const rf_engine *e, rf_dwell_view *v);
/* Copies the last computed dwell's power cube into power (len floats, at
 * least beams * bins * cells of rf_engine_last_dwell after
 * rf_engine_finish). opencl: read back from the device. */
int rf_engine_read_power(rf_engine *e, float *power, size_t len);
/* The CFAR settings used for dwell d's maps, with the automatic window
 * filled in and the noise model (pointers into the engine, valid for its
 * life): for tools that run other detectors on the same maps (make
 * validate). RF_EINVAL for a dwell out of range. */
int rf_engine_cfar_config(const rf_engine *e, size_t d, rf_cfar_config *cc);

/* Device-resident timing (opencl only; `radarflow bench`, as MatX is
 * measured): dwell d's pulses are read and uploaded once, then its device
 * stages (compression, beamforming + Doppler input, Doppler, CFAR +
 * compaction; no readback) run once to warm up and `repeats` times back to
 * back. Per repeat, the device span from the first kernel's start to the
 * last one's end (profiling events); per stage, the mean device time. On an
 * engine that has not streamed, and it cannot stream after. RF_EUNSUP when
 * the dwell does not fit the device at once. */
#define RF_ENGINE_RESIDENT_MAX 1000
typedef struct rf_engine_resident {
  int repeats;
  size_t pulses, candidates;           /* of the dwell; CFAR crossings of the last repeat */
  double cpi_s[RF_ENGINE_RESIDENT_MAX]; /* per repeat */
  double back_to_back_s;               /* first start to last end / repeats */
  double stage_s[RF_STAGE_COUNT];      /* mean device time per stage (read, extraction: 0) */
} rf_engine_resident;
int rf_engine_cl_resident(rf_engine *e, size_t d, int repeats, rf_engine_resident *out);

#endif
