/* radarflow: the CPU backend of the dwell engine. Pulses are read,
 * converted and compressed in blocks and beamformed straight into the
 * dwell's beam cube, so memory is bounded by the beam cube plus one block,
 * not by the dwell's raw size. FFTW + OpenMP stages of host/. */
#include "engine_internal.h"

#include <string.h>

/* The Doppler stage of each dwell length (same order as the engine's). */
typedef struct rf__cpu {
  rf_pc *pc;
  rf_bf *bf;
  rf_doppler **doppler;       /* [nlen] */
  void *raw;                  /* block of raw pulses */
  float complex *rows;        /* block of compressed rows [bp][N][S] */
  float complex *cube;        /* [B][maxP][S] */
  float *power;               /* [B][maxK][S] */
  float complex *weights;     /* [B][N] */
  rf_cfar_hit *hits;          /* [B][max_hits] */
  const rf_cfar_hit **hitp;   /* [B] */
  size_t *nhits;              /* [B] */
  uint32_t *hist;             /* [B][RF_CFAR_HIST] noise-level histograms */
} rf__cpu;

static void rf__cpu_destroy(rf_engine *e) {
  rf__cpu *c = e->be;
  if (!c) return;
  for (size_t i = 0; c->doppler && i < e->nlen; i++) rf_doppler_destroy(c->doppler[i]);
  rf__free(c->doppler);
  rf_pc_destroy(c->pc);
  rf_bf_destroy(c->bf);
  rf__free_aligned(c->raw);
  rf__free_aligned(c->rows);
  rf__free_aligned(c->cube);
  rf__free_aligned(c->power);
  rf__free(c->weights);
  rf__free(c->hits);
  rf__free(c->hitp);
  rf__free(c->nhits);
  rf__free(c->hist);
  rf__free(c);
  e->be = NULL;
}

/* Adds the time since *t0 to stage i and restarts the clock. */
static void rf__lap(rf_engine *e, int i, double *t0) {
  double t1 = rf_now_s();
  e->times.stage_s[i] += t1 - *t0;
  *t0 = t1;
}

/* Read, compress and beamform dwell d block by block into the beam cube. */
static int rf__cpu_beams(rf_engine *e, rf__cpu *c, size_t d, double *t0) {
  const size_t p = (size_t)e->m->num_pulses[d], s = e->cells, p0 = (size_t)e->m->first_pulse[d];
  int st;
  for (size_t i = 0; i < p; i += e->block_pulses) {
    size_t cnt = p - i < e->block_pulses ? p - i : e->block_pulses;
    if ((st = rf_capture_read_pulses(e->cap, p0 + i, cnt, c->raw))) return st;
    rf__lap(e, RF_STAGE_read, t0);
    if ((st = rf_pc_execute(c->pc, c->raw, cnt, c->rows))) return st;
    rf__lap(e, RF_STAGE_pulse_compression, t0);
    /* Per-channel mode: no weights, beam b is channel b. */
    const float complex *w = e->cfg.bf_mode == RF_BF_MODE_CHANNELS ? NULL : c->weights;
    if ((st = rf_bf_execute(c->bf, w, c->rows, cnt, c->cube + i * s, p * s))) return st;
    rf__lap(e, RF_STAGE_beamforming, t0);
  }
  return 0;
}

static int rf__cpu_dwell(rf_engine *e, size_t d, rf_plot_list *plots) {
  rf__cpu *c = e->be;
  const rf__dwell_len *l = rf__engine_len(e, d);
  const size_t p = l->pulses, s = e->cells, k = l->bins;
  rf_doppler *dop = c->doppler[l - e->len];
  double t0 = rf_now_s();
  int st;
  if ((st = rf_fan_weights(e->fan, d, c->weights)) || (st = rf__cpu_beams(e, c, d, &t0))) return st;
  for (size_t b = 0; b < e->beams; b++)
    if ((st = rf_doppler_execute(dop, c->cube + b * p * s, c->power + b * k * s))) return st;
  rf__lap(e, RF_STAGE_doppler, &t0);
  for (size_t b = 0; b < e->beams; b++) {
    if ((st = rf_cfar_execute(l->cfar, c->power + b * k * s, c->hits + b * e->max_hits, e->max_hits, &c->nhits[b])))
      return st;
    if (c->nhits[b] > e->max_hits) {
      rf_warn("dwell %zu beam %zu: %zu CFAR crossings, kept the first %zu", d, b, c->nhits[b], e->max_hits);
      c->nhits[b] = e->max_hits;
    }
    rf_cfar_hist_ref(l->cfar, c->power + b * k * s, c->hist + b * RF_CFAR_HIST);
  }
  rf__lap(e, RF_STAGE_cfar, &t0);
  return rf__engine_plots(e, d, c->hitp, c->nhits, c->power, NULL, c->hist, plots);
}

static int rf__cpu_read_power(rf_engine *e, float *power, size_t len) {
  rf__cpu *c = e->be;
  (void)len;
  memcpy(power, c->power, e->beams * e->last_bins * e->cells * sizeof *power);
  return 0;
}

static const rf__engine_ops rf__cpu_ops = {"cpu", rf__cpu_dwell, NULL, rf__cpu_read_power, rf__cpu_destroy};

/* Buffers of one block, the dwell's cube and maps, hits. */
static int rf__cpu_buffers(rf_engine *e, rf__cpu *c) {
  const rf_capture_meta *m = e->m;
  size_t cube_cells, power_cells;
  if (rf__mul_size(e->beams * e->max_pulses, e->cells, &cube_cells) ||
      rf__mul_size(e->beams * e->max_bins, e->cells, &power_cells))
    return -1;
  c->raw = rf__malloc_aligned(e->block_pulses * rf_capture_pulse_bytes(m));
  c->rows = rf__malloc_aligned(e->block_pulses * e->channels * e->cells * sizeof(float complex));
  c->cube = rf__malloc_aligned(cube_cells * sizeof(float complex));
  c->power = rf__malloc_aligned(power_cells * sizeof(float));
  c->weights = rf__malloc(e->beams * e->channels * sizeof(float complex));
  c->hits = rf__malloc(e->beams * e->max_hits * sizeof(rf_cfar_hit));
  c->hitp = rf__malloc(e->beams * sizeof *c->hitp);
  c->nhits = rf__calloc(e->beams, sizeof(size_t));
  c->doppler = rf__calloc(e->nlen, sizeof *c->doppler);
  c->hist = rf__malloc(e->beams * RF_CFAR_HIST * sizeof *c->hist);
  if (!c->raw || !c->rows || !c->cube || !c->power || !c->weights || !c->hits || !c->hitp || !c->nhits ||
      !c->doppler || !c->hist)
    return -1;
  for (size_t b = 0; b < e->beams; b++) c->hitp[b] = c->hits + b * e->max_hits;
  e->host_power = c->power;
  return 0;
}

int rf_engine_create_cpu(rf_engine **out, const rf_config *cfg, rf_capture *cap) {
  *out = NULL;
  rf_engine *e;
  int st = rf__engine_new(&e, &rf__cpu_ops, cfg, cap);
  if (st) return st;
  rf__cpu *c = rf__calloc(1, sizeof *c);
  e->be = c;
  if (!c) goto nomem;
  /* Pulses per block: raw + compressed rows under block_mb. */
  size_t per_pulse = e->channels * e->cells * (rf_sample_pair_bytes(e->m->sample_type) + 8);
  size_t bp = ((size_t)cfg->block_mb << 20) / (per_pulse ? per_pulse : 1);
  e->block_pulses = bp < 1 ? 1 : bp > e->max_pulses ? e->max_pulses : bp;
  if (rf__cpu_buffers(e, c)) goto nomem;
  rf_pc_config pcc;
  rf__engine_pc_config(e, e->block_pulses, &pcc);
  if ((st = rf_pc_create(&c->pc, &pcc)) || (st = rf_bf_create(&c->bf, e->channels, e->beams, e->cells)) ||
      (st = rf__engine_detection(e, c->pc)))
    goto fail;
  for (size_t i = 0; i < e->nlen; i++) {
    rf_doppler_config dc;
    rf__engine_doppler_config(e, &e->len[i], &dc);
    if ((st = rf_doppler_create(&c->doppler[i], &dc))) goto fail;
  }
  *out = e;
  return 0;
nomem:
  st = rf__err(RF_ENOMEM, "pipeline: out of memory");
fail:
  rf_engine_destroy(e);
  return st;
}
