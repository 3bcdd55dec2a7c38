/* radarflow: inside the dwell engine (rf_engine.h) - what the two backends
 * share. Included by pipelines/engine*.c and dwell_plots.c only. */
#ifndef RF_ENGINE_INTERNAL_H
#define RF_ENGINE_INTERNAL_H

#include "rf_engine.h"

/* ---- plot extraction, shared by the backends (dwell_plots.c) ----------------------
 * CFAR hits of a dwell into plot rows: the dwell's geometry (capture timing,
 * the fan's beams at its transmit direction) and rf_extract give the
 * detections, which become rf_plot rows (azimuth in [0, 360), east/north/up
 * from range and direction, the dwell's mid time). */
typedef struct rf_dwell_plots rf_dwell_plots;
/* m, fan and pc (the range response) borrowed for the object's life;
 * max_hits bounds the hits of a dwell over all beams, max_plots the plots
 * kept per dwell (the strongest). */
int rf_dwell_plots_create(rf_dwell_plots **x, const rf_capture_meta *m, const rf_fan *fan, const rf_pc *pc,
                          size_t max_bins, size_t max_hits, size_t max_plots);
void rf_dwell_plots_destroy(rf_dwell_plots *x);
/* Dwell d with `bins` Doppler bins, its CFAR object (blanked bins,
 * variances) and Doppler response table (rf_extract_doppler_response):
 * hits[b] / nhits[b] per beam in map order, with the power cube
 * [B][bins][S] (power) or each hit's eight neighbour powers (nb,
 * rf_extract_execute_nb; exactly one of the two), and each beam map's
 * noise level. Appends the plots; adds its wall time to *seconds and the
 * peaks the fan does not support to *dropped. */
int rf_dwell_plots_execute(rf_dwell_plots *x, size_t d, size_t bins, const rf_cfar *cfar, const float *dop_resp,
                           const rf_cfar_hit *const *hits, const size_t *nhits, const float *power,
                           const float *const *nb, const double *noise_level, rf_plot_list *plots, double *seconds,
                           uint64_t *dropped);
/* Geometry of the last executed dwell (borrowed; NULL before the first). */
const rf_dwell_geom *rf_dwell_plots_geom(const rf_dwell_plots *x);

/* ---- the engine ---------------------------------------------------------------------- */
/* Stages that depend on the dwell length: one per distinct pulse count. */
typedef struct rf__dwell_len {
  size_t pulses, bins;
  rf_cfar *cfar;
  float *dop_resp;             /* Doppler response table (rf_extract_doppler_response) */
  float *dop_win;              /* the slow-time window (CFAR's noise model) */
  rf_cfar_config cfar_cfg;     /* the settings, resolved (rf_engine_cfar_config) */
  rf_cfar_resolved resolved;
} rf__dwell_len;

typedef struct rf__engine_ops {
  const char *name;
  int (*dwell)(rf_engine *e, size_t d, rf_plot_list *plots);
  int (*finish)(rf_engine *e, rf_plot_list *plots); /* NULL: nothing in flight */
  int (*read_power)(rf_engine *e, float *power, size_t len);
  void (*destroy)(rf_engine *e);                    /* the backend's part */
} rf__engine_ops;

/* The shared part; the backend's state hangs off `be`. */
struct rf_engine {
  const rf__engine_ops *ops;
  void *be;
  rf_config cfg;
  rf_capture *cap;
  const rf_capture_meta *m;
  size_t channels, cells, beams, max_pulses, max_bins, max_hits, block_pulses;
  rf__dwell_len *len;          /* [nlen] */
  size_t nlen;
  rf_fan *fan;
  rf_dwell_plots *plots;
  double *noise_level;         /* [beams] of the dwell being extracted */
  const float *host_power;     /* the backend's power cube on the host, or NULL */
  long last;                   /* last finished dwell, -1 none */
  size_t last_bins;
  rf_engine_times times;
};

/* Makes the shared part for cap: the dwell lengths and their bins, the fan,
 * the shapes (max_hits per beam: min(K S, 65536)). */
int rf__engine_new(rf_engine **e, const rf__engine_ops *ops, const rf_config *cfg, rf_capture *cap);
/* Then, once the backend has its pulse-compression filter: the CFAR object
 * of each dwell length (threshold factors from the filter's range
 * correlation) and the plot extraction. */
int rf__engine_detection(rf_engine *e, const rf_pc *pc);
/* The dwell length entry of dwell d. */
const rf__dwell_len *rf__engine_len(const rf_engine *e, size_t d);
/* The pulse-compression settings of the capture, for blocks of max_pulses. */
void rf__engine_pc_config(const rf_engine *e, size_t max_pulses, rf_pc_config *pcc);
/* Dwell d's Doppler settings for a dwell length. */
void rf__engine_doppler_config(const rf_engine *e, const rf__dwell_len *l, rf_doppler_config *dc);
/* Extracts dwell d's plots (rf_dwell_plots_execute) and records it as the
 * last finished dwell; hist[b * RF_CFAR_HIST] each beam map's noise-level
 * histogram (rf_cfar_hist_ref or the kernel's). Counts the cells tested and
 * the crossings (sum of nhits). */
int rf__engine_plots(rf_engine *e, size_t d, const rf_cfar_hit *const *hits, const size_t *nhits,
                     const float *power, const float *const *nb, const uint32_t *hist, rf_plot_list *plots);
/* rf_engine_destroy of the shared part. */
void rf__engine_free(rf_engine *e);

#endif
