/* radarflow: per-dwell wiring of the CPU stages. Pulses are read, converted
 * and compressed in blocks and beamformed straight into the dwell's beam
 * cube, so memory is bounded by the beam cube plus one block, not by the
 * dwell's raw size. */
#include "rf_pipeline.h"

#include <math.h>
#include <string.h>

const char *const rf_stage_names[RF_STAGE_COUNT] = {
#define RF__STAGE_NAME(s) #s,
    RF_STAGES(RF__STAGE_NAME)
#undef RF__STAGE_NAME
};

/* Stages that depend on the dwell length. */
typedef struct rf__per_len {
  size_t pulses, bins;
  rf_doppler *doppler;
  rf_cfar *cfar;
} rf__per_len;

struct rf_pipeline {
  rf_config cfg;
  const rf_capture_meta *meta;
  size_t n, s, beams, beams_az, beams_el, max_pulses, max_bins, block_pulses;
  int estimate_el;
  double lambda;
  rf_pc *pc;
  rf_bf *bf;
  rf_extract *extract;
  rf__per_len *len;
  size_t nlen;
  void *raw;                  /* block of raw pulses */
  float complex *rows;        /* block of compressed rows [bp][N][S] */
  float complex *cube;        /* [B][maxP][S] */
  float *power;               /* [B][maxK][S] */
  float complex *weights;     /* [B][N] */
  double *beam_az, *beam_el;  /* [B] */
  rf_cfar_hit *hits;          /* [B][max_hits] */
  const rf_cfar_hit **hitp;   /* [B] */
  size_t *nhits;              /* [B] */
  size_t max_hits;
  rf_detection *det;          /* [max_plots] */
  rf_dwell_geom geom;
  size_t last_bins;
  double bw_az, bw_el;
  double t[RF_STAGE_COUNT];
  int host_only;
};

size_t rf_pipeline_bins(const rf_config *cfg, size_t pulses) {
  if (cfg->doppler_fft > 0) return (size_t)cfg->doppler_fft;
  size_t k = 1;
  while (k < pulses) k <<= 1;
  return k;
}

size_t rf_pipeline_beams(const rf_pipeline *pl) { return pl->beams; }
const double *rf_pipeline_times(const rf_pipeline *pl) { return pl->t; }

void rf_pipeline_destroy(rf_pipeline *pl) {
  if (!pl) return;
  for (size_t i = 0; i < pl->nlen; i++) {
    rf_doppler_destroy(pl->len[i].doppler);
    rf_cfar_destroy(pl->len[i].cfar);
  }
  rf__free(pl->len);
  rf_pc_destroy(pl->pc);
  rf_bf_destroy(pl->bf);
  rf_extract_destroy(pl->extract);
  rf__free_aligned(pl->raw);
  rf__free_aligned(pl->rows);
  rf__free_aligned(pl->cube);
  rf__free_aligned(pl->power);
  rf__free(pl->weights);
  rf__free(pl->beam_az);
  rf__free(pl->beam_el);
  rf__free(pl->hits);
  rf__free(pl->hitp);
  rf__free(pl->nhits);
  rf__free(pl->det);
  rf__free(pl);
}

static rf__per_len *rf__find_len(rf_pipeline *pl, size_t pulses) {
  for (size_t i = 0; i < pl->nlen; i++)
    if (pl->len[i].pulses == pulses) return &pl->len[i];
  return NULL;
}

int rf_pipeline_create(rf_pipeline **out, const rf_config *cfg, const rf_capture_meta *m) {
  return rf__pipeline_create(out, cfg, m, 0);
}

int rf__pipeline_create(rf_pipeline **out, const rf_config *cfg, const rf_capture_meta *m,
                        int host_only) {
  *out = NULL;
  int st = RF_ENOMEM;
  rf_pipeline *pl = rf__calloc(1, sizeof *pl);
  if (!pl) goto nomem;
  pl->cfg = *cfg;
  pl->meta = m;
  pl->n = m->channels;
  pl->s = m->samples;
  pl->lambda = RF_C_MPS / m->center_frequency_hz;

  /* Dwell lengths: one Doppler + CFAR stage per distinct length. */
  pl->len = rf__calloc(m->dwells, sizeof *pl->len);
  if (!pl->len) goto nomem;
  for (size_t d = 0; d < m->dwells; d++) {
    size_t p = (size_t)m->num_pulses[d];
    if (rf__find_len(pl, p)) continue;
    rf__per_len *l = &pl->len[pl->nlen++];
    l->pulses = p;
    l->bins = rf_pipeline_bins(cfg, p);
    if (p > pl->max_pulses) pl->max_pulses = p;
    if (l->bins > pl->max_bins) pl->max_bins = l->bins;
  }

  /* Beam fan. A linear array has no elevation aperture: one elevation beam. */
  double bw_el = rf_beamwidth_deg(m->element_position_m, pl->n, pl->lambda, m->azimuth_deg[0],
                                  m->elevation_deg[0], 1, cfg->array_taper, cfg->taylor_sll_db,
                                  cfg->taylor_nbar);
  pl->estimate_el = bw_el > 0;
  pl->beams_az = (size_t)cfg->beams_az;
  pl->beams_el = cfg->beams_el > 0 ? (size_t)cfg->beams_el : (pl->estimate_el ? 3 : 1);
  if (!pl->estimate_el) pl->beams_el = 1;
  pl->beams = pl->beams_az * pl->beams_el;

  /* Pulses per block: raw + compressed rows under block_mb. */
  size_t per_pulse = pl->n * pl->s * (rf_sample_pair_bytes(m->sample_type) + 8);
  size_t bp = ((size_t)cfg->block_mb << 20) / (per_pulse ? per_pulse : 1);
  pl->block_pulses = bp < 1 ? 1 : bp > pl->max_pulses ? pl->max_pulses : bp;

  size_t cube_cells, power_cells;
  if (rf__mul_size(pl->beams * pl->max_pulses, pl->s, &cube_cells) ||
      rf__mul_size(pl->beams * pl->max_bins, pl->s, &power_cells))
    goto nomem;
  pl->host_only = host_only;
  if (!host_only) { /* the OpenCL path keeps these on the device */
    pl->raw = rf__malloc_aligned(pl->block_pulses * rf_capture_pulse_bytes(m));
    pl->rows = rf__malloc_aligned(pl->block_pulses * pl->n * pl->s * sizeof(float complex));
    pl->cube = rf__malloc_aligned(cube_cells * sizeof(float complex));
    pl->power = rf__malloc_aligned(power_cells * sizeof(float));
    if (!pl->raw || !pl->rows || !pl->cube || !pl->power) goto nomem;
  }
  pl->weights = rf__malloc(pl->beams * pl->n * sizeof(float complex));
  pl->beam_az = rf__malloc(pl->beams * sizeof(double));
  pl->beam_el = rf__malloc(pl->beams * sizeof(double));
  size_t map = pl->max_bins * pl->s;
  pl->max_hits = map < 65536 ? map : 65536;
  pl->hits = rf__malloc(pl->beams * pl->max_hits * sizeof(rf_cfar_hit));
  pl->hitp = rf__malloc(pl->beams * sizeof(*pl->hitp));
  pl->nhits = rf__calloc(pl->beams, sizeof(size_t));
  pl->det = rf__malloc((size_t)cfg->max_plots * sizeof(rf_detection));
  if (!pl->weights || !pl->beam_az || !pl->beam_el || !pl->hits || !pl->hitp || !pl->nhits || !pl->det)
    goto nomem;
  for (size_t b = 0; b < pl->beams; b++) pl->hitp[b] = pl->hits + b * pl->max_hits;

  rf_pc_config pcc = {.channels = pl->n,
                      .samples = pl->s,
                      .sample_type = m->sample_type,
                      .scale = m->scale,
                      .calibration = m->calibration,
                      .reference = m->reference,
                      .ref_len = m->reference_len,
                      .window = cfg->range_window,
                      .taylor_sll_db = cfg->taylor_sll_db,
                      .taylor_nbar = cfg->taylor_nbar,
                      .max_pulses = pl->block_pulses};
  if ((st = rf_pc_create(&pl->pc, &pcc)) || (st = rf_bf_create(&pl->bf, pl->n, pl->beams, pl->s)) ||
      (st = rf_extract_create(&pl->extract, pl->beams, pl->max_bins, pl->s,
                              pl->beams * pl->max_hits)))
    goto fail;
  rf_cfar_config cc = {.kind = cfg->cfar_kind,
                       .pfa = cfg->pfa,
                       .train_range = cfg->train_range,
                       .guard_range = cfg->guard_range,
                       .train_doppler = cfg->train_doppler,
                       .guard_doppler = cfg->guard_doppler,
                       .os_rank = cfg->os_rank};
  cc.range_corr_len = rf_pc_noise_corr(pl->pc, &cc.range_corr);
  for (size_t i = 0; i < pl->nlen; i++) {
    rf__per_len *l = &pl->len[i];
    rf_doppler_config dc = {.pulses = l->pulses,
                            .cells = pl->s,
                            .nfft = l->bins,
                            .clutter = cfg->clutter_filter,
                            .notch_bins = cfg->notch_bins,
                            .window = cfg->doppler_window,
                            .taylor_sll_db = cfg->taylor_sll_db,
                            .taylor_nbar = cfg->taylor_nbar};
    if ((!host_only && (st = rf_doppler_create(&l->doppler, &dc))) ||
        (st = rf_cfar_create(&l->cfar, &cc, l->bins, pl->s)))
      goto fail;
  }
  *out = pl;
  return 0;
nomem:
  st = rf__err(RF_ENOMEM, "pipeline: out of memory");
fail:
  rf_pipeline_destroy(pl);
  return st;
}

/* Beam directions of dwell d: a fan centred on the transmit direction,
 * spaced by half the 3 dB beamwidth unless configured. */
static void rf__beam_fan(rf_pipeline *pl, size_t d) {
  const rf_capture_meta *m = pl->meta;
  const rf_config *c = &pl->cfg;
  double az0 = m->azimuth_deg[d], el0 = m->elevation_deg[d];
  pl->bw_az = rf_beamwidth_deg(m->element_position_m, pl->n, pl->lambda, az0, el0, 0,
                               c->array_taper, c->taylor_sll_db, c->taylor_nbar);
  pl->bw_el = pl->estimate_el ? rf_beamwidth_deg(m->element_position_m, pl->n, pl->lambda, az0,
                                                 el0, 1, c->array_taper, c->taylor_sll_db,
                                                 c->taylor_nbar)
                              : 0.0;
  double sa = c->spacing_az_deg > 0 ? c->spacing_az_deg : 0.5 * pl->bw_az;
  double se = c->spacing_el_deg > 0 ? c->spacing_el_deg : 0.5 * pl->bw_el;
  for (size_t ie = 0; ie < pl->beams_el; ie++)
    for (size_t ia = 0; ia < pl->beams_az; ia++) {
      size_t b = ie * pl->beams_az + ia;
      pl->beam_az[b] = az0 + ((double)ia - 0.5 * (double)(pl->beams_az - 1)) * sa;
      pl->beam_el[b] = el0 + ((double)ie - 0.5 * (double)(pl->beams_el - 1)) * se;
    }
  rf_beam_weights(m->element_position_m, pl->n, pl->lambda, pl->beam_az, pl->beam_el, pl->beams,
                  c->array_taper, c->taylor_sll_db, c->taylor_nbar, pl->weights);
}

int rf_pipeline_process_dwell(rf_pipeline *pl, rf_capture *cap, size_t d, rf_plot_list *plots) {
  const rf_capture_meta *m = pl->meta;
  if (d >= m->dwells) return rf__err(RF_EINVAL, "dwell %zu: out of range", d);
  if (pl->host_only) return rf__err(RF_EINVAL, "pipeline: made without host buffers");
  const size_t p = (size_t)m->num_pulses[d], s = pl->s, p0 = (size_t)m->first_pulse[d];
  rf__per_len *l = rf__find_len(pl, p);
  int st;
  double t0 = rf_now_s(), t1;
  rf__beam_fan(pl, d);

  for (size_t i = 0; i < p; i += pl->block_pulses) {
    size_t cnt = p - i < pl->block_pulses ? p - i : pl->block_pulses;
    if ((st = rf_capture_read_pulses(cap, p0 + i, cnt, pl->raw))) return st;
    t1 = rf_now_s();
    pl->t[RF_STAGE_read] += t1 - t0;
    t0 = t1;
    if ((st = rf_pc_execute(pl->pc, pl->raw, cnt, pl->rows))) return st;
    t1 = rf_now_s();
    pl->t[RF_STAGE_pulse_compression] += t1 - t0;
    t0 = t1;
    if ((st = rf_bf_execute(pl->bf, pl->weights, pl->rows, cnt, pl->cube + i * s, p * s)))
      return st;
    t1 = rf_now_s();
    pl->t[RF_STAGE_beamforming] += t1 - t0;
    t0 = t1;
  }
  const size_t k = l->bins;
  for (size_t b = 0; b < pl->beams; b++)
    if ((st = rf_doppler_execute(l->doppler, pl->cube + b * p * s, pl->power + b * k * s)))
      return st;
  t1 = rf_now_s();
  pl->t[RF_STAGE_doppler] += t1 - t0;
  t0 = t1;
  for (size_t b = 0; b < pl->beams; b++) {
    if ((st = rf_cfar_execute(l->cfar, pl->power + b * k * s, pl->hits + b * pl->max_hits,
                              pl->max_hits, &pl->nhits[b])))
      return st;
    if (pl->nhits[b] > pl->max_hits) {
      rf_log(1, "dwell %zu beam %zu: %zu CFAR crossings, kept the first %zu", d, b,
             pl->nhits[b], pl->max_hits);
      pl->nhits[b] = pl->max_hits;
    }
  }
  t1 = rf_now_s();
  pl->t[RF_STAGE_cfar] += t1 - t0;
  return rf__pipeline_finish_dwell(pl, d, pl->hitp, pl->nhits, NULL, plots);
}

const float complex *rf__pipeline_begin_dwell(rf_pipeline *pl, size_t d) {
  rf__beam_fan(pl, d);
  return pl->weights;
}

int rf__pipeline_finish_dwell(rf_pipeline *pl, size_t d, const rf_cfar_hit *const *hits,
                              const size_t *nhits, const float *const *nb, rf_plot_list *plots) {
  const rf_capture_meta *m = pl->meta;
  const size_t p = (size_t)m->num_pulses[d], s = pl->s, p0 = (size_t)m->first_pulse[d];
  const size_t k = rf__find_len(pl, p)->bins;
  int st;
  double t0 = rf_now_s();
  rf_dwell_geom *g = &pl->geom;
  g->time_s = 0.5 * (m->pulse_time_s[p0] + m->pulse_time_s[p0 + p - 1]);
  g->dwell = (int32_t)d;
  g->range_gate_delay_s = m->range_gate_delay_s;
  g->sample_rate_hz = m->sample_rate_hz;
  g->lambda_m = pl->lambda;
  g->pri_s = m->pri_s;
  g->cells = s;
  g->bins = k;
  g->beams_az = pl->beams_az;
  g->beams_el = pl->beams_el;
  g->beam_az_deg = pl->beam_az;
  g->beam_el_deg = pl->beam_el;
  g->estimate_elevation = pl->estimate_el;
  pl->last_bins = k;
  size_t ndet = 0;
  st = nb ? rf_extract_execute_nb(pl->extract, g, hits, nhits, nb, pl->det, (size_t)pl->cfg.max_plots, &ndet)
          : rf_extract_execute(pl->extract, g, pl->power, hits, nhits, pl->det, (size_t)pl->cfg.max_plots,
                               &ndet);
  if (st) return st;
  for (size_t i = 0; i < ndet; i++) {
    const rf_detection *dt = &pl->det[i];
    rf_plot pt = {.time_s = g->time_s,
                  .dwell = (int32_t)d,
                  .range_m = dt->range_m,
                  .radial_velocity_mps = dt->radial_velocity_mps,
                  .azimuth_deg = fmod(fmod(dt->azimuth_deg, 360.0) + 360.0, 360.0),
                  .elevation_deg = dt->elevation_deg,
                  .snr_db = dt->snr_db};
    double u[3];
    rf_direction(pt.azimuth_deg, pt.elevation_deg, u);
    pt.east_m = dt->range_m * u[0];
    pt.north_m = dt->range_m * u[1];
    pt.up_m = dt->range_m * u[2];
    if (rf_plot_list_push(plots, &pt)) return rf__err(RF_ENOMEM, "plots: out of memory");
  }
  pl->t[RF_STAGE_extraction] += rf_now_s() - t0;
  return 0;
}

void rf_pipeline_last_dwell(const rf_pipeline *pl, rf_dwell_view *v) {
  v->power = pl->power;
  v->beams = pl->beams;
  v->bins = pl->last_bins;
  v->cells = pl->s;
  v->geom = &pl->geom;
  v->beamwidth_az_deg = pl->bw_az;
  v->beamwidth_el_deg = pl->bw_el;
}

double *rf__pipeline_times_mut(rf_pipeline *pl) { return pl->t; }

void rf__pipeline_shape(const rf_pipeline *pl, rf__pipeline_shape_t *sh) {
  sh->channels = pl->n;
  sh->cells = pl->s;
  sh->beams = pl->beams;
  sh->beams_az = pl->beams_az;
  sh->beams_el = pl->beams_el;
  sh->max_pulses = pl->max_pulses;
  sh->max_bins = pl->max_bins;
  sh->max_hits = pl->max_hits;
  sh->nlen = pl->nlen;
}

void rf__pipeline_len(const rf_pipeline *pl, size_t i, size_t *pulses, size_t *bins, const rf_cfar **cfar) {
  *pulses = pl->len[i].pulses;
  *bins = pl->len[i].bins;
  *cfar = pl->len[i].cfar;
}

const rf_pc *rf__pipeline_pc(const rf_pipeline *pl) { return pl->pc; }
