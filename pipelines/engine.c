/* radarflow: the dwell engine's interface (rf_engine.h) and the part both
 * backends share: dwell lengths, the beam fan, CFAR per dwell length, plot
 * extraction, times. */
#include "engine_internal.h"
#include "rf_pipeline.h"

#include <string.h>

/* Hits kept per beam and dwell: CFAR crossings past this are reported and
 * dropped (a map this full is noise, not targets). */
#define RF__MAX_HITS_PER_BEAM 65536

void rf_engine_fan_config(const rf_capture_meta *m, const rf_config *cfg, rf_fan_config *fc) {
  *fc = (rf_fan_config){.element_position_m = (const double(*)[3])m->element_position_m,
                        .channels = m->channels,
                        .lambda_m = RF_C_MPS / m->center_frequency_hz,
                        .beams_az = cfg->beams_az,
                        .beams_el = cfg->beams_el,
                        .spacing_az_deg = cfg->spacing_az_deg,
                        .spacing_el_deg = cfg->spacing_el_deg,
                        .taper = cfg->array_taper,
                        .taylor_sll_db = cfg->taylor_sll_db,
                        .taylor_nbar = cfg->taylor_nbar,
                        .dwells = m->dwells,
                        .azimuth_deg = m->azimuth_deg,
                        .elevation_deg = m->elevation_deg,
                        .tx_beamwidth_az_deg = m->tx_beamwidth_az_deg,
                        .tx_beamwidth_el_deg = m->tx_beamwidth_el_deg,
                        .per_channel = cfg->bf_mode == RF_BF_MODE_CHANNELS};
}

const char *const rf_stage_names[RF_STAGE_COUNT] = {
#define RF__STAGE_NAME(s) #s,
    RF_STAGES(RF__STAGE_NAME)
#undef RF__STAGE_NAME
};

size_t rf_pipeline_bins(const rf_config *cfg, size_t pulses) {
  if (cfg->doppler_fft > 0) return (size_t)cfg->doppler_fft;
  size_t k = 1;
  while (k < pulses) k <<= 1;
  return k;
}

/* ---- the interface ------------------------------------------------------------------- */
int rf_engine_dwell(rf_engine *e, size_t d, rf_plot_list *plots) {
  if (d >= e->m->dwells) return rf__err(RF_EINVAL, "%s: dwell %zu: out of range", rf_capture_path(e->cap), d);
  return e->ops->dwell(e, d, plots);
}

int rf_engine_finish(rf_engine *e, rf_plot_list *plots) { return e->ops->finish ? e->ops->finish(e, plots) : 0; }

void rf_engine_destroy(rf_engine *e) {
  if (!e) return;
  if (e->ops && e->ops->destroy) e->ops->destroy(e);
  rf__engine_free(e);
}

const rf_engine_times *rf_engine_get_times(const rf_engine *e) { return &e->times; }
const char *rf_engine_backend(const rf_engine *e) { return e->ops->name; }
size_t rf_engine_block_pulses(const rf_engine *e) { return e->block_pulses; }

int rf_engine_last_dwell(const rf_engine *e, rf_dwell_view *v) {
  const rf_dwell_geom *g = e->plots ? rf_dwell_plots_geom(e->plots) : NULL;
  if (e->last < 0 || !g) return rf__err(RF_EINVAL, "engine: no dwell finished yet");
  rf_fan_view fv;
  int st = rf_fan_dwell(e->fan, (size_t)e->last, &fv);
  if (st) return st;
  v->dwell = (size_t)e->last;
  v->beams = e->beams;
  v->bins = e->last_bins;
  v->cells = e->cells;
  v->geom = g;
  v->beamwidth_az_deg = fv.beamwidth_az_deg;
  v->beamwidth_el_deg = fv.beamwidth_el_deg;
  v->power = e->host_power;
  return 0;
}

int rf_engine_cfar_config(const rf_engine *e, size_t d, rf_cfar_config *cc) {
  if (d >= e->m->dwells || !e->len[0].cfar) return rf__err(RF_EINVAL, "engine: dwell %zu: out of range", d);
  *cc = rf__engine_len(e, d)->cfar_cfg;
  return 0;
}

int rf_engine_read_power(rf_engine *e, float *power, size_t len) {
  if (e->last < 0) return rf__err(RF_EINVAL, "engine: no dwell finished yet");
  if (len < e->beams * e->last_bins * e->cells)
    return rf__err(RF_EINVAL, "engine: power buffer of %zu floats, the cube has %zu", len,
                   e->beams * e->last_bins * e->cells);
  return e->ops->read_power(e, power, len);
}

/* ---- the shared part ------------------------------------------------------------------ */
void rf__engine_free(rf_engine *e) {
  for (size_t i = 0; i < e->nlen; i++) {
    rf_cfar_destroy(e->len[i].cfar);
    rf__free(e->len[i].dop_resp);
    rf__free(e->len[i].dop_win);
  }
  rf__free(e->noise_level);
  rf__free(e->len);
  rf_dwell_plots_destroy(e->plots);
  rf_fan_destroy(e->fan);
  rf__free(e);
}

const rf__dwell_len *rf__engine_len(const rf_engine *e, size_t d) {
  size_t p = (size_t)e->m->num_pulses[d];
  for (size_t i = 0; i < e->nlen; i++)
    if (e->len[i].pulses == p) return &e->len[i];
  return NULL; /* not reached: every dwell's length is in the table */
}

/* One entry per distinct dwell length. */
static int rf__engine_lengths(rf_engine *e) {
  const rf_capture_meta *m = e->m;
  if (!(e->len = rf__calloc(m->dwells, sizeof *e->len))) return -1;
  for (size_t d = 0; d < m->dwells; d++) {
    size_t p = (size_t)m->num_pulses[d], i = 0;
    while (i < e->nlen && e->len[i].pulses != p) i++;
    if (i < e->nlen) continue;
    rf__dwell_len *l = &e->len[e->nlen++];
    l->pulses = p;
    l->bins = rf_pipeline_bins(&e->cfg, p);
    if (p > e->max_pulses) e->max_pulses = p;
    if (l->bins > e->max_bins) e->max_bins = l->bins;
  }
  return 0;
}

int rf__engine_new(rf_engine **out, const rf__engine_ops *ops, const rf_config *cfg, rf_capture *cap) {
  *out = NULL;
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  rf_engine *e = rf__calloc(1, sizeof *e);
  if (!e) return rf__err(RF_ENOMEM, "engine: out of memory");
  e->cfg = *cfg;
  e->cap = cap;
  e->m = m;
  e->last = -1;
  e->channels = m->channels;
  e->cells = m->samples;
  int st;
  if (rf__engine_lengths(e)) {
    st = rf__err(RF_ENOMEM, "engine: out of memory");
    goto fail;
  }
  rf_fan_config fc;
  rf_engine_fan_config(m, cfg, &fc);
  if ((st = rf_fan_create(&e->fan, &fc))) goto fail;
  e->beams = rf_fan_beams(e->fan);
  if (!(e->noise_level = rf__calloc(e->beams, sizeof *e->noise_level))) {
    st = rf__err(RF_ENOMEM, "engine: out of memory");
    goto fail;
  }
  size_t map = e->max_bins * e->cells;
  e->max_hits = map < RF__MAX_HITS_PER_BEAM ? map : RF__MAX_HITS_PER_BEAM;
  e->ops = ops;
  *out = e;
  return 0;
fail:
  rf__engine_free(e);
  return st;
}

/* Main-lobe half-width of a response table (steps per unit): units before
 * its first minimum or -30 dB. */
static size_t rf__mainlobe(const float *resp, size_t n, size_t steps) {
  size_t i = steps;
  while (i + steps < n && resp[i] >= 1e-3 && resp[i + steps] < resp[i]) i += steps;
  return i / steps - 1;
}

int rf__engine_detection(rf_engine *e, const rf_pc *pc) {
  const rf_config *cfg = &e->cfg;
  const rf_capture_meta *m = e->m;
  int st = 0;
  double *w = NULL;
  float *wf = NULL;
  size_t M = rf_pc_replica_len(pc);
  for (size_t i = 0; i < e->nlen; i++) {
    rf__dwell_len *l = &e->len[i];
    /* The slow-time window as the Doppler stage applies it (its scale does
     * not matter here). */
    size_t drop = cfg->clutter_filter == RF_CLUTTER_MTI2 ? 1 : cfg->clutter_filter == RF_CLUTTER_MTI3 ? 2 : 0;
    size_t pout = l->pulses > drop ? l->pulses - drop : 1, nresp = l->bins / 2 * RF_EXTRACT_DOP_STEPS + 1;
    w = rf__malloc(pout * sizeof *w);
    wf = rf__malloc(pout * sizeof *wf);
    l->dop_resp = rf__malloc(nresp * sizeof *l->dop_resp);
    if (!w || !wf || !l->dop_resp) {
      st = rf__err(RF_ENOMEM, "engine: out of memory");
      goto done;
    }
    rf_taper_fill(cfg->doppler_window, cfg->taylor_sll_db, cfg->taylor_nbar, pout, w);
    for (size_t p = 0; p < pout; p++) wf[p] = (float)w[p];
    rf_extract_doppler_response(wf, pout, l->bins, l->dop_resp);
    rf_cfar_config cc = {.kind = cfg->cfar_kind,
                         .pfa = cfg->pfa,
                         .train_range = cfg->train_range,
                         .guard_range = cfg->guard_range,
                         .train_doppler = cfg->train_doppler,
                         .guard_doppler = cfg->guard_doppler,
                         .os_rank = cfg->os_rank,
                         .doppler_window = wf,
                         .doppler_pulses_out = pout,
                         .doppler_pulses = l->pulses,
                         .doppler_clutter = cfg->clutter_filter,
                         .blank_bins = cfg->clutter_filter == RF_CLUTTER_NOTCH ? cfg->notch_bins + 1 : 0,
                         .valid_cells = e->cells >= M ? e->cells - M + 1 : 1,
                         .mainlobe_range = rf_pc_mainlobe(pc),
                         .mainlobe_doppler = rf__mainlobe(l->dop_resp, nresp, RF_EXTRACT_DOP_STEPS)};
    cc.range_acf_len = rf_pc_noise_acf(pc, &cc.range_acf);
    if ((st = rf_cfar_resolve(&cc, l->bins, e->cells, &l->resolved))) goto done;
    if (l->resolved.short_window)
      rf_log(2, "%s: cfar: only %d training cells a side fit the %zu usable range cells (%.1f independent cells, "
                "fewer than the %.0f wanted)", rf_capture_path(e->cap), cc.train_range, cc.valid_cells,
             l->resolved.independent, RF_CFAR_INDEPENDENT);
    rf_log(2, "cfar (%zu pulses): train %d, guard %d in range; train %d, guard %d in Doppler; %.1f independent "
              "cells; %zu usable range cells of %zu", l->pulses, cc.train_range, cc.guard_range, cc.train_doppler,
           cc.guard_doppler, l->resolved.independent, cc.valid_cells, e->cells);
    if ((st = rf_cfar_create(&l->cfar, &cc, l->bins, e->cells))) goto done;
    l->dop_win = wf;
    l->cfar_cfg = cc;
    rf__free(w);
    w = NULL;
    wf = NULL;
  }
  (void)m;
  st = rf_dwell_plots_create(&e->plots, e->m, e->fan, pc, e->max_bins, e->beams * e->max_hits, (size_t)cfg->max_plots);
done:
  rf__free(w);
  rf__free(wf);
  return st;
}

void rf__engine_pc_config(const rf_engine *e, size_t max_pulses, rf_pc_config *pcc) {
  const rf_capture_meta *m = e->m;
  *pcc = (rf_pc_config){.channels = m->channels,
                        .samples = m->samples,
                        .sample_type = m->sample_type,
                        .scale = m->scale,
                        .calibration = m->calibration,
                        .reference = m->reference,
                        .ref_len = m->reference_len,
                        .window = e->cfg.range_window != RF_RANGE_WINDOW_AUTO ? e->cfg.range_window
                                  : m->waveform_type == RF_WAVEFORM_LFM     ? RF_TAPER_HAMMING
                                                                            : RF_TAPER_NONE,
                        .taylor_sll_db = e->cfg.taylor_sll_db,
                        .taylor_nbar = e->cfg.taylor_nbar,
                        .max_pulses = max_pulses};
}

void rf__engine_doppler_config(const rf_engine *e, const rf__dwell_len *l, rf_doppler_config *dc) {
  *dc = (rf_doppler_config){.pulses = l->pulses,
                            .cells = e->cells,
                            .nfft = l->bins,
                            .clutter = e->cfg.clutter_filter,
                            .notch_bins = e->cfg.notch_bins,
                            .window = e->cfg.doppler_window,
                            .taylor_sll_db = e->cfg.taylor_sll_db,
                            .taylor_nbar = e->cfg.taylor_nbar};
}

int rf__engine_plots(rf_engine *e, size_t d, const rf_cfar_hit *const *hits, const size_t *nhits,
                     const float *power, const float *const *nb, const uint32_t *hist, rf_plot_list *plots) {
  const rf__dwell_len *l = rf__engine_len(e, d);
  for (size_t b = 0; b < e->beams; b++) {
    e->noise_level[b] = hist ? rf_cfar_hist_level(hist + b * RF_CFAR_HIST) : 0.0;
    e->times.cfar_crossings += (double)nhits[b];
  }
  e->times.cfar_cells += (double)e->beams * (double)rf_cfar_cells_tested(l->cfar);
  int st = rf_dwell_plots_execute(e->plots, d, l->bins, l->cfar, l->dop_resp, hits, nhits, power, nb,
                                  hist ? e->noise_level : NULL, plots, &e->times.stage_s[RF_STAGE_extraction],
                                  &e->times.peaks_outside_fan);
  if (st) return st;
  e->last = (long)d;
  e->last_bins = l->bins;
  return 0;
}
