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

/* A whole capture, as `radarflow process` does it. */
typedef struct rf_run_summary {
  size_t dwells, plots;
  uint64_t input_bytes;
  uint64_t samples;             /* complex input samples processed */
  double seconds;               /* wall time, open to products written */
  double stage_s[RF_STAGE_COUNT];
  double write_s;
} rf_run_summary;
/* Reads capture_path, writes outdir/plots.h5, plots.csv and run.json (each
 * atomically; outdir is created if missing). On failure nothing is written
 * and the message names the file and field. */
int rf_process_capture(const char *capture_path, const char *outdir, const rf_config *cfg,
                       rf_run_summary *sum);

#endif
