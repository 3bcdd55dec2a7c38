/* radarflow: the numbers `radarflow inspect` derives from a capture (see
 * rf_inspect.h and docs/import.md). */
#include "rf_inspect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../host/rf_stages.h"
#include "rf_pipeline.h"
#include "rf_tracker.h"

static int rf__cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Taper loss in dB of n samples of a taper kind. */
static double rf__taper_loss(int kind, const rf_config *cfg, size_t n) {
  if (n == 0 || kind == RF_TAPER_NONE) return 0;
  double *w = rf__malloc(n * sizeof *w);
  if (!w) return NAN;
  rf_taper_fill(kind, cfg->taylor_sll_db, cfg->taylor_nbar, n, w);
  double l = rf_taper_loss_db(w, n);
  rf__free(w);
  return l;
}

int rf_inspect_derive(const rf_capture_meta *m, const rf_config *cfg, const double *tx_bw_az_deg,
                      const double *tx_bw_el_deg, rf_inspect *o) {
  memset(o, 0, sizeof *o);
  const double c = RF_C_MPS;
  o->lambda_m = c / m->center_frequency_hz;
  o->prf_hz = 1.0 / m->pri_s;
  o->duty = m->pulse_width_s / m->pri_s;
  o->time_bandwidth = m->bandwidth_hz * m->pulse_width_s;
  o->replica_samples = m->reference_len;
  size_t M = m->reference_len, S = m->samples;
  o->range_cell_m = c / (2 * m->sample_rate_hz);
  o->range_resolution_m = c / (2 * m->bandwidth_hz);
  o->range_first_m = c / 2 * m->range_gate_delay_s;
  o->range_last_m = c / 2 * (m->range_gate_delay_s + (double)(S - 1) / m->sample_rate_hz);
  o->range_full_m = c / 2 * (m->range_gate_delay_s + (double)(S >= M ? S - M : 0) / m->sample_rate_hz);
  o->unambiguous_range_m = c * m->pri_s / 2;
  o->eclipse_m = c * m->pulse_width_s / 2;
  o->velocity_interval_mps = o->lambda_m / (2 * m->pri_s);

  /* Dwells: lengths, Doppler bins, directions, transmit beams. */
  o->dwell_pulses_min = SIZE_MAX;
  double az0 = m->azimuth_deg[0], dmin = 0, dmax = 0;
  o->el_min_deg = o->el_max_deg = m->elevation_deg[0];
  o->tx_bw_az_min_deg = o->tx_bw_el_min_deg = INFINITY;
  o->tx_bw_az_max_deg = o->tx_bw_el_max_deg = 0;
  double sa_min = INFINITY, sa_max = -INFINITY, se_min = INFINITY, se_max = -INFINITY;
  rf_track_sensor sen;
  rf_track_sensor_from_meta(&sen, m, cfg);
  o->beamwidth_az_deg = sen.beamwidth_az_deg;
  o->beamwidth_el_deg = sen.beamwidth_el_deg;
  o->planar = sen.beamwidth_el_deg > 0;
  o->fan_half_az_deg = sen.coverage_az_deg;
  o->fan_half_el_deg = sen.coverage_el_deg;
  o->has_tx_beamwidth = tx_bw_az_deg || tx_bw_el_deg;
  o->fan_covers_tx = 1;
  for (size_t d = 0; d < m->dwells; d++) {
    size_t k = (size_t)m->num_pulses[d];
    if (k < o->dwell_pulses_min) o->dwell_pulses_min = k;
    if (k > o->dwell_pulses_max) o->dwell_pulses_max = k;
    double rel = rf_wrap(m->azimuth_deg[d] - az0, 180.0);
    if (rel < dmin) dmin = rel;
    if (rel > dmax) dmax = rel;
    double el = m->elevation_deg[d];
    if (el < o->el_min_deg) o->el_min_deg = el;
    if (el > o->el_max_deg) o->el_max_deg = el;
    /* Transmit half-widths: given, else the receive array's own beam. */
    double ha = 0.5 * (tx_bw_az_deg ? tx_bw_az_deg[d] : sen.beamwidth_az_deg);
    double he = 0.5 * (tx_bw_el_deg ? tx_bw_el_deg[d] : sen.beamwidth_el_deg);
    if (tx_bw_az_deg) {
      if (tx_bw_az_deg[d] < o->tx_bw_az_min_deg) o->tx_bw_az_min_deg = tx_bw_az_deg[d];
      if (tx_bw_az_deg[d] > o->tx_bw_az_max_deg) o->tx_bw_az_max_deg = tx_bw_az_deg[d];
    }
    if (tx_bw_el_deg) {
      if (tx_bw_el_deg[d] < o->tx_bw_el_min_deg) o->tx_bw_el_min_deg = tx_bw_el_deg[d];
      if (tx_bw_el_deg[d] > o->tx_bw_el_max_deg) o->tx_bw_el_max_deg = tx_bw_el_deg[d];
    }
    if (rel - ha < sa_min) sa_min = rel - ha;
    if (rel + ha > sa_max) sa_max = rel + ha;
    if (el - he < se_min) se_min = el - he;
    if (el + he > se_max) se_max = el + he;
    if (ha > o->fan_half_az_deg * (1 + 1e-9) || (o->planar && he > o->fan_half_el_deg * (1 + 1e-9)))
      o->fan_covers_tx = 0;
  }
  if (!tx_bw_az_deg) o->tx_bw_az_min_deg = o->tx_bw_az_max_deg = 0;
  if (!tx_bw_el_deg) o->tx_bw_el_min_deg = o->tx_bw_el_max_deg = 0;
  o->az_min_deg = az0 + dmin;
  o->az_max_deg = az0 + dmax;
  o->sector_az_min_deg = az0 + sa_min;
  o->sector_az_max_deg = az0 + sa_max;
  o->sector_el_min_deg = se_min;
  o->sector_el_max_deg = se_max;
  o->doppler_bins_min = rf_pipeline_bins(cfg, o->dwell_pulses_min);
  o->doppler_bins_max = rf_pipeline_bins(cfg, o->dwell_pulses_max);
  double K = (double)o->dwell_pulses_max;
  o->velocity_resolution_mps = o->lambda_m / (2 * K * m->pri_s);
  o->doppler_cell_mps = o->lambda_m / (2 * (double)o->doppler_bins_max * m->pri_s);
  o->dwell_duration_s = K * m->pri_s;

  /* Aperture. */
  for (int k = 0; k < 3; k++) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t n = 0; n < m->channels; n++) {
      lo = fmin(lo, m->element_position_m[n][k]);
      hi = fmax(hi, m->element_position_m[n][k]);
    }
    o->aperture_m[k] = hi - lo;
  }

  /* Gain: matched filter M, coherent Doppler integration over the pulses,
   * N channels, each less its taper's coherent loss. */
  o->gain_compression_db = 10 * log10((double)M);
  o->gain_doppler_db = 10 * log10(K);
  o->gain_array_db = 10 * log10((double)m->channels);
  o->loss_range_taper_db = rf__taper_loss(cfg->range_window, cfg, M);
  o->loss_doppler_taper_db = rf__taper_loss(cfg->doppler_window, cfg, (size_t)K);
  float complex *w = rf__malloc(m->channels * sizeof *w);
  if (!w) return rf__err(RF_ENOMEM, "inspect: out of memory");
  double el0 = m->elevation_deg[0];
  rf_beam_weights((const double(*)[3])m->element_position_m, m->channels, o->lambda_m, &az0, &el0, 1,
                  cfg->array_taper, cfg->taylor_sll_db, cfg->taylor_nbar, w);
  double g = rf_beam_gain((const double(*)[3])m->element_position_m, m->channels, o->lambda_m, w, az0, el0);
  rf__free(w);
  o->loss_array_taper_db = g > 0 ? -10 * log10(g) : 0;
  o->gain_total_db = o->gain_compression_db + o->gain_doppler_db + o->gain_array_db - o->loss_range_taper_db -
                     o->loss_doppler_taper_db - o->loss_array_taper_db;

  /* Time. */
  o->first_time_s = INFINITY;
  o->last_time_s = -INFINITY;
  for (size_t p = 0; p < m->pulses; p++) {
    o->first_time_s = fmin(o->first_time_s, m->pulse_time_s[p]);
    o->last_time_s = fmax(o->last_time_s, m->pulse_time_s[p]);
  }
  /* Each dwell's mean spacing (first to last pulse: float64 epoch times
   * resolve only 0.24 us, a single spacing is that coarse), then the median
   * over the dwells. */
  double *dt = rf__malloc((m->dwells ? m->dwells : 1) * sizeof *dt);
  if (!dt) return rf__err(RF_ENOMEM, "inspect: out of memory");
  size_t nd = 0;
  for (size_t d = 0; d < m->dwells; d++) {
    size_t p0 = (size_t)m->first_pulse[d], k = (size_t)m->num_pulses[d];
    for (size_t i = 1; i < k; i++)
      if (!(m->pulse_time_s[p0 + i] > m->pulse_time_s[p0 + i - 1])) o->times_not_increasing++;
    if (k > 1) dt[nd++] = (m->pulse_time_s[p0 + k - 1] - m->pulse_time_s[p0]) / (double)(k - 1);
  }
  if (nd) {
    qsort(dt, nd, sizeof *dt, rf__cmp_double);
    o->pri_measured_s = dt[nd / 2];
  }
  rf__free(dt);
  return 0;
}
