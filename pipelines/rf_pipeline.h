/* radarflow: the pulse-Doppler pipeline - how the stages are wired per dwell
 * and per capture. */
#ifndef RF_PIPELINE_H
#define RF_PIPELINE_H

#include "../host/rf_stages.h"
#include "../io/rf_capture.h"
#include "../io/rf_products.h"
#include "rf_config.h"

/* Seconds spent per stage, accumulated over the dwells processed. */
#define RF_STAGES(X) X(read) X(pulse_compression) X(beamforming) X(doppler) X(cfar) X(extraction)
enum rf_stage_id {
#define RF__STAGE_ID(s) RF_STAGE_##s,
  RF_STAGES(RF__STAGE_ID)
#undef RF__STAGE_ID
  RF_STAGE_COUNT
};
extern const char *const rf_stage_names[RF_STAGE_COUNT];

typedef struct rf_pipeline rf_pipeline;

/* Makes every stage for the capture described by meta (borrowed for the
 * pipeline's life): FFTW plans, buffers, CFAR tables for each distinct dwell
 * length. */
int rf_pipeline_create(rf_pipeline **pl, const rf_config *cfg, const rf_capture_meta *meta);
void rf_pipeline_destroy(rf_pipeline *pl);

/* Processes dwell `dwell` of cap and appends its plots. */
int rf_pipeline_process_dwell(rf_pipeline *pl, rf_capture *cap, size_t dwell,
                              rf_plot_list *plots);

/* Per-stage seconds so far. */
const double *rf_pipeline_times(const rf_pipeline *pl);

/* The last processed dwell: its power cube [beams][bins][cells] (in units of
 * the noise power), beam directions and geometry. Borrowed. */
typedef struct rf_dwell_view {
  const float *power;
  size_t beams, bins, cells;
  const rf_dwell_geom *geom;
  double beamwidth_az_deg, beamwidth_el_deg;
} rf_dwell_view;
void rf_pipeline_last_dwell(const rf_pipeline *pl, rf_dwell_view *v);

/* Beams and Doppler bins the pipeline uses for a dwell of `pulses` pulses. */
size_t rf_pipeline_beams(const rf_pipeline *pl);
size_t rf_pipeline_bins(const rf_config *cfg, size_t pulses);

/* ---- the OpenCL dwell engine (pipelines/pipeline_cl.c) ------------------------
 * Streams a whole capture through the device: a reader thread reads block
 * k+1 from HDF5 into pinned memory while the device works on block k and
 * the host extracts plots from dwell k-1's candidates. Dwells whose pulses
 * do not fit the device budget are split into blocks of pulses. */
typedef struct rf_cl rf_cl;
typedef struct rf_pipeline_cl rf_pipeline_cl;
/* Device time per stage and per transfer direction, seconds (profiling
 * events), plus host time for reading and extraction. */
typedef struct rf_cl_times {
  double stage_s[RF_STAGE_COUNT]; /* read, extraction: host; others: device */
  double upload_s, download_s;    /* device time of host<->device copies */
  double upload_bytes, download_bytes;
  double setup_s, run_s;          /* wall: context, programs, plans, buffers; the streamed dwells */
} rf_cl_times;
int rf_pipeline_cl_create(rf_pipeline_cl **pl, rf_cl *cl, const rf_config *cfg,
                          const rf_capture_meta *meta);
void rf_pipeline_cl_destroy(rf_pipeline_cl *pl);
/* Every dwell of cap, plots appended in dwell order. */
int rf_pipeline_cl_run(rf_pipeline_cl *pl, rf_capture *cap, rf_plot_list *plots);
const rf_cl_times *rf_pipeline_cl_times(const rf_pipeline_cl *pl);
/* Pulses per device block (the whole longest dwell unless it had to be split). */
size_t rf_pipeline_cl_block_pulses(const rf_pipeline_cl *pl);
/* The last dwell's power cube [beams][bins][cells] read back from the device
 * (tests); power must hold beams * max bins * cells floats. */
int rf_pipeline_cl_read_power(rf_pipeline_cl *pl, float *power, size_t *bins);

/* A whole capture, as `radarflow process` does it. */
typedef struct rf_run_summary {
  size_t dwells, plots, tracks;  /* tracks: distinct track ids */
  uint64_t input_bytes;
  uint64_t samples;             /* complex input samples processed */
  double seconds;               /* wall time, open to products written */
  double stage_s[RF_STAGE_COUNT];
  double write_s;
  char device[64];              /* "cpu" or "opencl:P:D" */
  char device_name[256];
  char fallback_reason[512];    /* why auto fell back to the CPU; empty if it did not */
  rf_cl_times cl;               /* OpenCL runs: device times */
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
 * are RF_EDEVICE, a spec naming no device RF_EINVAL). */
int rf_process_capture_on(const char *capture_path, const char *outdir, const rf_config *cfg,
                          const char *device, rf_run_summary *sum);

/* ---- internal: host parts shared by the CPU and OpenCL paths ----------------- */
/* host_only: no raw/rows/cube/power buffers and no Doppler objects (the
 * device holds those); rf_pipeline_process_dwell then refuses. */
int rf__pipeline_create(rf_pipeline **pl, const rf_config *cfg, const rf_capture_meta *meta,
                        int host_only);
/* Beam fan and weights [B][N] of dwell d (borrowed until the next call). */
const float complex *rf__pipeline_begin_dwell(rf_pipeline *pl, size_t d);
/* Geometry, plot extraction (from the power cube when nb is NULL, else
 * from candidates: rf_extract_execute_nb) and plots of dwell d, whose beam
 * fan must be the current one. */
int rf__pipeline_finish_dwell(rf_pipeline *pl, size_t d, const rf_cfar_hit *const *hits,
                              const size_t *nhits, const float *const *nb, rf_plot_list *plots);
typedef struct rf__pipeline_shape_t {
  size_t channels, cells, beams, beams_az, beams_el, max_pulses, max_bins, max_hits, nlen;
} rf__pipeline_shape_t;
void rf__pipeline_shape(const rf_pipeline *pl, rf__pipeline_shape_t *sh);
/* Distinct dwell length i: pulses, Doppler bins, its CFAR object. */
void rf__pipeline_len(const rf_pipeline *pl, size_t i, size_t *pulses, size_t *bins, const rf_cfar **cfar);
const rf_pc *rf__pipeline_pc(const rf_pipeline *pl);
double *rf__pipeline_times_mut(rf_pipeline *pl);

#endif
