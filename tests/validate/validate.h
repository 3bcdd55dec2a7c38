/* radarflow validate: the Monte Carlo characterisation of detection and
 * estimation (docs/detection.md), built from the project's simulator
 * (datasets/) and the real processing chain (the dwell engine). Shared
 * declarations of validate.c, scenes.c and plots.c. */
#ifndef RF_VALIDATE_H
#define RF_VALIDATE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "../../pipelines/rf_pipeline.h"

typedef struct vr_opts {
  int quick;          /* the reduced run of `make check` */
  int opencl;         /* compare with the OpenCL engine (0: skip) */
  const char *out;    /* output folder */
} vr_opts;

/* One row of the printed table and of report.json's "checks". */
typedef struct vr_check {
  char section[24], name[96];
  double measured, expected, tolerance; /* expected: theory or bound */
  char rule[64];                        /* how measured is compared */
  int pass;
} vr_check;

typedef struct vr_ctx {
  vr_opts o;
  cJSON *report;
  vr_check *checks;
  size_t nchecks, cap;
  char capdir[1024], scenedir[1024];
} vr_ctx;

/* Adds a check; pass = |measured - expected| <= tolerance (mode 0), measured
 * <= expected (mode 1), measured >= expected (mode 2). */
void vr_check_add(vr_ctx *v, const char *section, const char *name, double measured, double expected,
                  double tolerance, int mode, const char *rule);
/* rf_log-style progress to stderr. */
void vr_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The sections (validate.c). */
int vr_pfa(vr_ctx *v);
int vr_pd(vr_ctx *v);
int vr_estimation(vr_ctx *v);
int vr_coverage(vr_ctx *v);
int vr_resolution(vr_ctx *v);

/* Scenario files and captures (scenes.c). */
typedef struct vr_target {
  double range_m, azimuth_deg, radial_velocity_mps, snr_db;
  int swerling;
} vr_target;
typedef struct vr_scene {
  const char *name;
  int custom;              /* 0 LFM, 1 the NLFM custom reference */
  int elements;            /* ULA, lambda / 2 */
  int dwells, pulses;
  size_t samples;
  double pri_s, rgd_s, dwell_gap_s, tx_beamwidth_az_deg, azimuth_deg;
  int noise, int16;
  const vr_target *targets;
  int ntargets;
} vr_scene;
/* Writes the scenario INI (scenedir/name.ini), simulates it (seed) into
 * capdir/name.h5; path gets the capture's path. */
int vr_simulate(vr_ctx *v, const vr_scene *s, unsigned seed, char *path, size_t len);
/* Common waveform numbers. */
#define VR_FC_HZ 3e9
#define VR_FS_HZ 5e6
#define VR_B_HZ 4e6
#define VR_T_S 10e-6
#define VR_M 50
/* The NLFM reference's phases (degrees) at sample m of M (tangent FM). */
double vr_nlfm_phase_deg(int m);

/* Runs a capture through an engine ("cpu" or "opencl"); plots appended.
 * times: the engine's counts (may be NULL). RF status. */
int vr_run(const char *capture, const rf_config *cfg, const char *device, rf_plot_list *plots, rf_engine_times *times);
/* Compares two plot lists: same count, each plot within 1e-3 range cell,
 * 1e-3 Doppler bin, 1e-3 degree, 1e-3 dB. Returns 1 if equal. */
int vr_same_plots(const rf_plot_list *a, const rf_plot_list *b, double cell_m, double bin_mps, double *worst);

/* PNG plots (plots.c). */
typedef struct vr_series {
  const char *label;
  const double *x, *y;
  size_t n;
  int marker;   /* RF_MARK_* or -1: line */
  int colour;   /* palette index */
  int dashed;
} vr_series;
int vr_plot_png(const char *path, const char *title, const char *subtitle, const char *xlabel, const char *ylabel,
                double x0, double x1, double y0, double y1, const vr_series *s, size_t ns);

#endif
