/* radarflow: plot extraction shared by both engine backends
 * (engine_internal.h) - a dwell's CFAR hits into plot rows. */
#include "engine_internal.h"

#include <math.h>

struct rf_dwell_plots {
  const rf_capture_meta *m;
  const rf_fan *fan;
  const rf_pc *pc;
  rf_extract *extract;
  rf_detection *det;   /* [max_plots] */
  size_t max_plots;
  rf_dwell_geom geom;
  int have_geom;
};

void rf_dwell_plots_destroy(rf_dwell_plots *x) {
  if (!x) return;
  rf_extract_destroy(x->extract);
  rf__free(x->det);
  rf__free(x);
}

int rf_dwell_plots_create(rf_dwell_plots **out, const rf_capture_meta *m, const rf_fan *fan, const rf_pc *pc,
                          size_t max_bins, size_t max_hits, size_t max_plots) {
  *out = NULL;
  rf_dwell_plots *x = rf__calloc(1, sizeof *x);
  if (!x) return rf__err(RF_ENOMEM, "plot extraction: out of memory");
  x->m = m;
  x->fan = fan;
  x->pc = pc;
  x->max_plots = max_plots;
  int st = rf_extract_create(&x->extract, rf_fan_beams(fan), max_bins, m->samples, max_hits);
  if (!st && !(x->det = rf__malloc((max_plots ? max_plots : 1) * sizeof *x->det)))
    st = rf__err(RF_ENOMEM, "plot extraction: out of memory");
  if (st) {
    rf_dwell_plots_destroy(x);
    return st;
  }
  *out = x;
  return 0;
}

const rf_dwell_geom *rf_dwell_plots_geom(const rf_dwell_plots *x) { return x->have_geom ? &x->geom : NULL; }

/* Dwell d's geometry: the capture's timing and the fan's beams. */
static int rf__dwell_geom(rf_dwell_plots *x, size_t d, size_t bins) {
  const rf_capture_meta *m = x->m;
  rf_fan_view fv;
  int st = rf_fan_dwell(x->fan, d, &fv);
  if (st) return st;
  const size_t p = (size_t)m->num_pulses[d], p0 = (size_t)m->first_pulse[d];
  rf_dwell_geom *g = &x->geom;
  g->time_s = 0.5 * (m->pulse_time_s[p0] + m->pulse_time_s[p0 + p - 1]);
  g->dwell = (int32_t)d;
  g->range_gate_delay_s = m->range_gate_delay_s;
  g->sample_rate_hz = m->sample_rate_hz;
  g->lambda_m = RF_C_MPS / m->center_frequency_hz;
  g->pri_s = m->pri_s;
  g->cells = m->samples;
  g->bins = bins;
  g->beams_az = fv.beams_az;
  g->beams_el = fv.beams_el;
  g->beam_az_deg = fv.beam_az_deg;
  g->beam_el_deg = fv.beam_el_deg;
  g->estimate_elevation = fv.estimate_elevation;
  g->fan = x->fan;
  g->pc = x->pc;
  x->have_geom = 1;
  return 0;
}

/* A detection as a plot row of the dwell. */
static void rf__plot_of(const rf_dwell_geom *g, const rf_detection *dt, rf_plot *pt) {
  *pt = (rf_plot){.time_s = g->time_s,
                  .dwell = g->dwell,
                  .range_m = dt->range_m,
                  .radial_velocity_mps = dt->radial_velocity_mps,
                  .azimuth_deg = fmod(fmod(dt->azimuth_deg, 360.0) + 360.0, 360.0),
                  .elevation_deg = dt->elevation_deg,
                  .snr_db = dt->snr_db};
  double u[3];
  rf_direction(pt->azimuth_deg, pt->elevation_deg, u);
  pt->east_m = dt->range_m * u[0];
  pt->north_m = dt->range_m * u[1];
  pt->up_m = dt->range_m * u[2];
}

int rf_dwell_plots_execute(rf_dwell_plots *x, size_t d, size_t bins, const rf_cfar *cfar, const float *dop_resp,
                           const rf_cfar_hit *const *hits, const size_t *nhits, const float *power,
                           const float *const *nb, const double *noise_level, rf_plot_list *plots, double *seconds,
                           uint64_t *dropped) {
  double t0 = rf_now_s();
  size_t ndet = 0;
  int st = rf__dwell_geom(x, d, bins);
  if (st) return st;
  x->geom.cfar = cfar;
  x->geom.doppler_response = dop_resp;
  x->geom.noise_level = noise_level;
  if (nb) st = rf_extract_execute_nb(x->extract, &x->geom, hits, nhits, nb, x->det, x->max_plots, &ndet);
  else st = rf_extract_execute(x->extract, &x->geom, power, hits, nhits, x->det, x->max_plots, &ndet);
  if (st) return st;
  *dropped += rf_extract_dropped(x->extract);
  for (size_t i = 0; i < ndet; i++) {
    rf_plot pt;
    rf__plot_of(&x->geom, &x->det[i], &pt);
    if (rf_plot_list_push(plots, &pt)) return rf__err(RF_ENOMEM, "plots: out of memory");
  }
  *seconds += rf_now_s() - t0;
  return 0;
}
