/* radarflow: the OpenCL dwell engine. A capture is cut into blocks of
 * pulses (a whole dwell unless it does not fit the device budget); a reader
 * thread reads block k+1 from HDF5 into pinned memory (double buffered)
 * while the device converts, compresses and beamforms block k, and after
 * the last block of a dwell runs Doppler, CFAR and candidate compaction.
 * Three in-order queues: uploads, compute, readback. Candidates of dwell
 * d-1 come back and are extracted into plots while dwell d computes. Only
 * the reader thread calls HDF5. */
#include "rf_pipeline.h"
#include "../host/rf_cl.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define RF__CAND_CAP_MAX ((size_t)1 << 18) /* candidates per dwell brought back */
#define RF__RING 4                         /* blocks whose events are kept */

typedef struct rf__block {
  size_t dwell, first, count; /* dwell, first pulse within it, pulses */
  int last;                   /* last block of its dwell */
} rf__block;

typedef struct rf__len_cl {
  size_t pulses, bins;
  rf_doppler_cl *dop;
  rf_cfar_cl *cfar;
} rf__len_cl;

typedef struct rf__reader {
  pthread_t th;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int filled[2], stop, status;
  char msg[1024];
  double seconds;
} rf__reader;

struct rf_pipeline_cl {
  rf_cl *cl;
  rf_pipeline *host;
  const rf_capture_meta *m;
  rf_config cfg;
  rf__pipeline_shape_t sh;
  size_t block, groups, cap, pulse_bytes, nblocks;
  rf__block *blocks;
  rf_pc_cl *pc;
  rf_bf_cl *bf;
  rf__len_cl *len;
  size_t nlen;
  cl_mem raw_dev[2], raw_pin[2];
  void *raw_host[2];
  cl_mem dop, power;
  cl_mem cand[2], count[2], cand_pin[2], count_pin[2];
  rf_cl_cand *cand_host[2];
  cl_uint *count_host[2];
  rf_cfar_hit *hits;            /* [cap] */
  float *nb;                    /* [cap][8] */
  const rf_cfar_hit **hitp;     /* [B] */
  const float **nbp;            /* [B] */
  size_t *nhits;                /* [B] */
  cl_event ev_up[RF__RING], ev_pc0[RF__RING], ev_pc[RF__RING], ev_bf[RF__RING];
  cl_event ev_dop0[2], ev_dop[2], ev_cfar[2], ev_cnt[2];
  size_t last_bins;
  rf__reader rd;
  rf_capture *capture;
  rf_cl_times times;
};

const rf_cl_times *rf_pipeline_cl_times(const rf_pipeline_cl *pl) { return &pl->times; }
size_t rf_pipeline_cl_block_pulses(const rf_pipeline_cl *pl) { return pl->block; }

static rf__len_cl *rf__len(rf_pipeline_cl *pl, size_t pulses) {
  for (size_t i = 0; i < pl->nlen; i++)
    if (pl->len[i].pulses == pulses) return &pl->len[i];
  return NULL;
}

static void rf__release_events(rf_pipeline_cl *pl) {
  for (int i = 0; i < RF__RING; i++) {
    rf_cl_release(&pl->ev_up[i]);
    rf_cl_release(&pl->ev_pc0[i]);
    rf_cl_release(&pl->ev_pc[i]);
    rf_cl_release(&pl->ev_bf[i]);
  }
  for (int i = 0; i < 2; i++) {
    rf_cl_release(&pl->ev_dop0[i]);
    rf_cl_release(&pl->ev_dop[i]);
    rf_cl_release(&pl->ev_cfar[i]);
    rf_cl_release(&pl->ev_cnt[i]);
  }
}

void rf_pipeline_cl_destroy(rf_pipeline_cl *pl) {
  if (!pl) return;
  for (int q = 0; q < RF_CL_QUEUES; q++) clFinish(rf_cl_queue(pl->cl, q));
  rf__release_events(pl);
  for (size_t i = 0; i < pl->nlen; i++) {
    rf_doppler_cl_destroy(pl->len[i].dop);
    rf_cfar_cl_destroy(pl->len[i].cfar);
  }
  rf__free(pl->len);
  rf_pc_cl_destroy(pl->pc);
  rf_bf_cl_destroy(pl->bf);
  for (int i = 0; i < 2; i++) {
    rf_cl_free(pl->cl, pl->raw_dev[i]);
    rf_cl_pinned_free(pl->cl, pl->raw_pin[i], pl->raw_host[i]);
    rf_cl_free(pl->cl, pl->cand[i]);
    rf_cl_free(pl->cl, pl->count[i]);
    rf_cl_pinned_free(pl->cl, pl->cand_pin[i], pl->cand_host[i]);
    rf_cl_pinned_free(pl->cl, pl->count_pin[i], pl->count_host[i]);
  }
  rf_cl_free(pl->cl, pl->dop);
  rf_cl_free(pl->cl, pl->power);
  rf__free(pl->hits);
  rf__free(pl->nb);
  rf__free(pl->hitp);
  rf__free(pl->nbp);
  rf__free(pl->nhits);
  rf__free(pl->blocks);
  rf_pipeline_destroy(pl->host);
  rf__free(pl);
}

/* Pulses per block that fit the device budget next to the dwell-sized
 * buffers; *block 0 if not even one does. VkFFT's own buffers are asked of
 * VkFFT: per pulse-compressed row, and per Doppler plan (the longest
 * dwell's shape, an upper bound for the others). */
static int rf__fit_block(rf_pipeline_cl *pl, size_t l, uint64_t budget, size_t *block) {
  const rf__pipeline_shape_t *sh = &pl->sh;
  const int c = pl->cfg.clutter_filter;
  const size_t pout = sh->max_pulses - (c == RF_CLUTTER_MTI2 ? 1 : c == RF_CLUTTER_MTI3 ? 2 : 0);
  rf_cl_fft_shape rs = {.len = l, .outer = 1, .zero_from = sh->cells},
                  ds = {.len = sh->max_bins, .outer = sh->cells, .zero_from = pout, .forward_only = 1};
  uint64_t row_fft, pc_fft, beam_fft, dop_fft;
  int st;
  *block = 0;
  if ((st = rf_cl_fft_scratch(pl->cl, &rs, &row_fft, &pc_fft)) ||
      (st = rf_cl_fft_scratch(pl->cl, &ds, &beam_fft, &dop_fft)))
    return st;
  uint64_t plane = (uint64_t)sh->beams * sh->cells * 8;
  /* dop + power; per dwell length: notch sums, canceller state, the plan's scratch */
  uint64_t fixed = plane * sh->max_bins * 3 / 2 + sh->nlen * (plane * (4 + pl->groups) + beam_fft * sh->beams + dop_fft) +
                   pc_fft + 2 * (uint64_t)pl->cap * sizeof(rf_cl_cand) + ((uint64_t)4 << 20);
  /* per pulse: two raw buffers, the rows and VkFFT's scratch for them */
  uint64_t per = 2 * (uint64_t)pl->pulse_bytes + (uint64_t)sh->channels * (l * 8 + row_fft);
  if (budget <= fixed) return 0;
  uint64_t bp = (budget - fixed) / per;
  *block = bp > sh->max_pulses ? sh->max_pulses : (size_t)bp;
  return 0;
}

int rf_pipeline_cl_create(rf_pipeline_cl **out, rf_cl *cl, const rf_config *cfg, const rf_capture_meta *m) {
  *out = NULL;
  rf_pipeline_cl *pl = rf__calloc(1, sizeof *pl);
  if (!pl) return rf__err(RF_ENOMEM, "pipeline (opencl): out of memory");
  int st;
  pl->cl = cl;
  pl->m = m;
  pl->cfg = *cfg;
  if ((st = rf__pipeline_create(&pl->host, cfg, m, 1))) goto fail;
  rf__pipeline_shape(pl->host, &pl->sh);
  const rf__pipeline_shape_t *sh = &pl->sh;
  const rf_cl_device_info *dev = rf_cl_device(cl);
  pl->pulse_bytes = rf_capture_pulse_bytes(m);
  size_t map = sh->max_bins * sh->cells;
  pl->cap = sh->beams * sh->max_hits;
  if (pl->cap > RF__CAND_CAP_MAX) pl->cap = RF__CAND_CAP_MAX;
  if (pl->cap > sh->beams * map) pl->cap = sh->beams * map;
  /* Pulse groups per cell (the tuning table's: a GPU wants ~64k work-items) */
  pl->groups = rf_doppler_cl_groups(cl, sh->cells, sh->beams, sh->max_pulses);
  size_t l = rf_pc_fft_len(sh->cells, m->reference_len);
  if ((st = rf__fit_block(pl, l, rf_cl_budget(cl) - rf_cl_allocated(cl), &pl->block))) goto fail;
  if (!pl->block) {
    st = rf__err(RF_EDEVICE, "opencl: out of device memory: a dwell of %zu beams x %zu bins x %zu cells "
                             "does not fit the %.1f MiB budget of %s",
                 sh->beams, sh->max_bins, sh->cells, (double)rf_cl_budget(cl) / 1048576.0, dev->name);
    goto fail;
  }
  if (pl->block < sh->max_pulses)
    rf_log(2, "opencl: dwells of %zu pulses split into blocks of %zu", sh->max_pulses, pl->block);

  /* Blocks of every dwell. */
  for (size_t d = 0; d < m->dwells; d++) pl->nblocks += ((size_t)m->num_pulses[d] + pl->block - 1) / pl->block;
  if (!(pl->blocks = rf__malloc(pl->nblocks * sizeof *pl->blocks))) goto nomem;
  for (size_t d = 0, j = 0; d < m->dwells; d++)
    for (size_t p = 0, np = (size_t)m->num_pulses[d]; p < np; p += pl->block, j++)
      pl->blocks[j] = (rf__block){d, p, np - p < pl->block ? np - p : pl->block, p + pl->block >= np};

  rf_pc_config pcc = {.channels = sh->channels, .samples = sh->cells, .sample_type = m->sample_type,
                      .scale = m->scale, .calibration = m->calibration, .reference = m->reference,
                      .ref_len = m->reference_len, .window = cfg->range_window,
                      .taylor_sll_db = cfg->taylor_sll_db, .taylor_nbar = cfg->taylor_nbar,
                      .max_pulses = pl->block};
  uint64_t plane = (uint64_t)sh->beams * sh->cells;
  size_t raw_bytes = pl->block * pl->pulse_bytes;
  if ((st = rf_cl_alloc(cl, plane * sh->max_bins * 8, CL_MEM_READ_WRITE, "Doppler cube", &pl->dop)) ||
      (st = rf_cl_alloc(cl, plane * sh->max_bins * 4, CL_MEM_READ_WRITE, "power maps", &pl->power)) ||
      (st = rf_pc_cl_create(&pl->pc, cl, &pcc)) ||
      (st = rf_bf_cl_create(&pl->bf, cl, sh->channels, sh->beams)))
    goto fail;
  for (int i = 0; i < 2; i++) {
    if ((st = rf_cl_alloc(cl, raw_bytes, CL_MEM_READ_ONLY, "raw pulses", &pl->raw_dev[i])) ||
        (st = rf_cl_alloc(cl, pl->cap * sizeof(rf_cl_cand), CL_MEM_WRITE_ONLY, "candidates", &pl->cand[i])) ||
        (st = rf_cl_alloc(cl, (1 + sh->beams) * sizeof(cl_uint), CL_MEM_READ_WRITE, "counters", &pl->count[i])) ||
        (st = rf_cl_pinned(cl, raw_bytes, "raw pulses", &pl->raw_pin[i], &pl->raw_host[i])) ||
        (st = rf_cl_pinned(cl, pl->cap * sizeof(rf_cl_cand), "candidates", &pl->cand_pin[i],
                           (void **)&pl->cand_host[i])) ||
        (st = rf_cl_pinned(cl, (1 + sh->beams) * sizeof(cl_uint), "counters", &pl->count_pin[i],
                           (void **)&pl->count_host[i])))
      goto fail;
  }
  if (!(pl->len = rf__calloc(sh->nlen, sizeof *pl->len))) goto nomem;
  for (size_t i = 0; i < sh->nlen; i++) {
    rf__len_cl *x = &pl->len[pl->nlen++];
    const rf_cfar *cf;
    rf__pipeline_len(pl->host, i, &x->pulses, &x->bins, &cf);
    rf_doppler_config dc = {.pulses = x->pulses, .cells = sh->cells, .nfft = x->bins,
                            .clutter = cfg->clutter_filter, .notch_bins = cfg->notch_bins,
                            .window = cfg->doppler_window, .taylor_sll_db = cfg->taylor_sll_db,
                            .taylor_nbar = cfg->taylor_nbar};
    if ((st = rf_doppler_cl_create(&x->dop, cl, &dc, sh->beams, pl->groups, pl->dop)) ||
        (st = rf_cfar_cl_create(&x->cfar, cl, cf, sh->beams, sh->beams_az)))
      goto fail;
  }
  pl->hits = rf__malloc(pl->cap * sizeof *pl->hits);
  pl->nb = rf__malloc(pl->cap * 8 * sizeof *pl->nb);
  pl->hitp = rf__calloc(sh->beams, sizeof *pl->hitp);
  pl->nbp = rf__calloc(sh->beams, sizeof *pl->nbp);
  pl->nhits = rf__calloc(sh->beams, sizeof *pl->nhits);
  if (!pl->hits || !pl->nb || !pl->hitp || !pl->nbp || !pl->nhits) goto nomem;
  *out = pl;
  return 0;
nomem:
  st = rf__err(RF_ENOMEM, "pipeline (opencl): out of memory");
fail:
  rf_pipeline_cl_destroy(pl);
  return st;
}

/* ---- reader thread ------------------------------------------------------------------ */
static void *rf__reader_main(void *arg) {
  rf_pipeline_cl *pl = arg;
  rf__reader *r = &pl->rd;
  for (size_t j = 0; j < pl->nblocks; j++) {
    int slot = (int)(j % 2);
    pthread_mutex_lock(&r->mu);
    while (r->filled[slot] && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop) break;
    const rf__block *b = &pl->blocks[j];
    double t0 = rf_now_s();
    int st = rf_capture_read_pulses(pl->capture, (size_t)pl->m->first_pulse[b->dwell] + b->first, b->count,
                                    pl->raw_host[slot]);
    double dt = rf_now_s() - t0;
    pthread_mutex_lock(&r->mu);
    r->seconds += dt;
    if (st) {
      r->status = st;
      snprintf(r->msg, sizeof r->msg, "%s", rf_errmsg());
      r->stop = 1;
    } else {
      r->filled[slot] = 1;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (st) break;
  }
  return NULL;
}

/* Waits for block j's slot; the reader's failure comes back as its status. */
static int rf__wait_block(rf_pipeline_cl *pl, size_t j) {
  rf__reader *r = &pl->rd;
  int slot = (int)(j % 2), st = 0;
  pthread_mutex_lock(&r->mu);
  while (!r->filled[slot] && !r->status) pthread_cond_wait(&r->cv, &r->mu);
  if (!r->filled[slot]) st = rf__err(r->status, "%s", r->msg);
  pthread_mutex_unlock(&r->mu);
  return st;
}

static void rf__release_slot(rf_pipeline_cl *pl, size_t j) {
  pthread_mutex_lock(&pl->rd.mu);
  pl->rd.filled[j % 2] = 0;
  pthread_cond_broadcast(&pl->rd.cv);
  pthread_mutex_unlock(&pl->rd.mu);
}

static void rf__reader_stop(rf_pipeline_cl *pl) {
  if (!pl->rd.started) return;
  pthread_mutex_lock(&pl->rd.mu);
  pl->rd.stop = 1;
  pthread_cond_broadcast(&pl->rd.cv);
  pthread_mutex_unlock(&pl->rd.mu);
  pthread_join(pl->rd.th, NULL);
  pl->rd.started = 0;
  pthread_cond_destroy(&pl->rd.cv);
  pthread_mutex_destroy(&pl->rd.mu);
}

/* ---- per-dwell results -------------------------------------------------------------- */
static int rf__cand_cmp(const rf_cl_cand *a, const rf_cl_cand *b) {
  if (a->beam != b->beam) return a->beam < b->beam ? -1 : 1;
  if (a->bin != b->bin) return a->bin < b->bin ? -1 : 1;
  if (a->cell != b->cell) return a->cell < b->cell ? -1 : 1;
  return 0;
}

/* In-place heapsort into map order (no allocation). */
static void rf__cand_sort(rf_cl_cand *v, size_t n) {
  if (n < 2) return;
  for (size_t start = n / 2, end = n;;) {
    size_t root;
    if (start > 0) root = --start;
    else {
      if (--end == 0) return;
      rf_cl_cand t = v[0];
      v[0] = v[end];
      v[end] = t;
      root = 0;
    }
    for (;;) {
      size_t c = 2 * root + 1;
      if (c >= end) break;
      if (c + 1 < end && rf__cand_cmp(&v[c], &v[c + 1]) < 0) c++;
      if (rf__cand_cmp(&v[root], &v[c]) >= 0) break;
      rf_cl_cand t = v[root];
      v[root] = v[c];
      v[c] = t;
      root = c;
    }
  }
}

static void rf__time_add(double *acc, cl_event a, cl_event b) { *acc += rf_cl_event_span(a, b); }

/* Dwell d's candidates: counts, then the list, sorted, cut per beam like
 * the CPU path, extracted into plots. */
static int rf__finish_dwell(rf_pipeline_cl *pl, size_t d, rf_plot_list *plots) {
  const int s2 = (int)(d % 2);
  const size_t B = pl->sh.beams;
  cl_int e = clWaitForEvents(1, &pl->ev_cnt[s2]);
  if (e != CL_SUCCESS) return rf__cl_err(e, "waiting for CFAR results");
  size_t total = pl->count_host[s2][0];
  if (total > pl->cap)
    return rf__err(RF_EDEVICE, "opencl: dwell %zu: %zu CFAR crossings, more than the %zu brought back "
                               "(raise cfar.pfa's threshold, or use --device cpu)", d, total, pl->cap);
  cl_event ev = NULL;
  if (total) {
    e = clEnqueueReadBuffer(rf_cl_queue(pl->cl, RF_CL_QUEUE_READBACK), pl->cand[s2], CL_TRUE, 0,
                            total * sizeof(rf_cl_cand), pl->cand_host[s2], 1, &pl->ev_cfar[s2], &ev);
    if (e != CL_SUCCESS) return rf__cl_err(e, "reading candidates");
  }
  double t0 = rf_now_s();
  pl->times.download_s += rf_cl_event_span(ev, ev) + rf_cl_event_span(pl->ev_cnt[s2], pl->ev_cnt[s2]);
  pl->times.download_bytes += (double)(total * sizeof(rf_cl_cand) + (1 + B) * sizeof(cl_uint));
  rf_cl_release(&ev);
  rf__time_add(&pl->times.stage_s[RF_STAGE_doppler], pl->ev_dop0[s2], pl->ev_dop[s2]);
  rf__time_add(&pl->times.stage_s[RF_STAGE_cfar], pl->ev_cfar[s2], pl->ev_cfar[s2]);
  rf_cl_release(&pl->ev_dop0[s2]);
  rf_cl_release(&pl->ev_dop[s2]);
  rf_cl_release(&pl->ev_cfar[s2]);
  rf_cl_release(&pl->ev_cnt[s2]);

  rf_cl_cand *v = pl->cand_host[s2];
  rf__cand_sort(v, total);
  size_t i = 0;
  for (size_t b = 0; b < B; b++) {
    size_t start = i, n = 0;
    while (i < total && v[i].beam == b) {
      if (n < pl->sh.max_hits) {
        rf_cfar_hit *h = &pl->hits[start + n];
        h->cell = v[i].cell;
        h->bin = v[i].bin;
        h->power = v[i].power;
        h->noise = v[i].noise;
        h->threshold = v[i].threshold;
        memcpy(pl->nb + 8 * (start + n), v[i].nb, 8 * sizeof(float));
        n++;
      }
      i++;
    }
    if (i - start > n)
      rf_log(1, "dwell %zu beam %zu: %zu CFAR crossings, kept the first %zu", d, b, i - start, n);
    pl->hitp[b] = pl->hits + start;
    pl->nbp[b] = pl->nb + 8 * start;
    pl->nhits[b] = n;
  }
  double t1 = rf_now_s();
  rf__pipeline_begin_dwell(pl->host, d); /* the beam fan of dwell d */
  int st = rf__pipeline_finish_dwell(pl->host, d, pl->hitp, pl->nhits, pl->nbp, plots);
  pl->times.stage_s[RF_STAGE_extraction] += (t1 - t0) + rf__pipeline_times_mut(pl->host)[RF_STAGE_extraction];
  rf__pipeline_times_mut(pl->host)[RF_STAGE_extraction] = 0;
  pl->last_bins = rf__len(pl, (size_t)pl->m->num_pulses[d])->bins;
  return st;
}

/* Block events of ring entry r: wait (they are done or nearly), add their
 * device times, release. */
static int rf__retire_block(rf_pipeline_cl *pl, int r) {
  cl_event evs[4];
  cl_uint n = 0;
  if (pl->ev_up[r]) evs[n++] = pl->ev_up[r];
  if (pl->ev_pc[r]) evs[n++] = pl->ev_pc[r];
  if (pl->ev_bf[r]) evs[n++] = pl->ev_bf[r];
  if (n) {
    cl_int e = clWaitForEvents(n, evs);
    if (e != CL_SUCCESS) return rf__cl_err(e, "waiting for a block");
  }
  pl->times.upload_s += rf_cl_event_span(pl->ev_up[r], pl->ev_up[r]);
  rf__time_add(&pl->times.stage_s[RF_STAGE_pulse_compression], pl->ev_pc0[r], pl->ev_pc[r]);
  rf__time_add(&pl->times.stage_s[RF_STAGE_beamforming], pl->ev_bf[r], pl->ev_bf[r]);
  rf_cl_release(&pl->ev_up[r]);
  rf_cl_release(&pl->ev_pc0[r]);
  rf_cl_release(&pl->ev_pc[r]);
  rf_cl_release(&pl->ev_bf[r]);
  return 0;
}

int rf_pipeline_cl_run(rf_pipeline_cl *pl, rf_capture *cap, rf_plot_list *plots) {
  cl_command_queue qc = rf_cl_queue(pl->cl, RF_CL_QUEUE_COMPUTE), qt = rf_cl_queue(pl->cl, RF_CL_QUEUE_TRANSFER),
                   qr = rf_cl_queue(pl->cl, RF_CL_QUEUE_READBACK);
  const rf_capture_meta *m = pl->m;
  const size_t B = pl->sh.beams;
  int st = 0;
  cl_int e;
  long pending = -1; /* dwell whose candidates are still on the device */
  memset(&pl->rd, 0, sizeof pl->rd);
  pl->capture = cap;
  pthread_mutex_init(&pl->rd.mu, NULL);
  pthread_cond_init(&pl->rd.cv, NULL);
  if (pthread_create(&pl->rd.th, NULL, rf__reader_main, pl)) {
    pthread_cond_destroy(&pl->rd.cv);
    pthread_mutex_destroy(&pl->rd.mu);
    return rf__err(RF_EIO, "pipeline (opencl): cannot start the reader thread");
  }
  pl->rd.started = 1;
  for (size_t j = 0; j < pl->nblocks; j++) {
    const rf__block *b = &pl->blocks[j];
    const int slot = (int)(j % 2), r = (int)(j % RF__RING);
    const size_t np = (size_t)m->num_pulses[b->dwell];
    rf__len_cl *len = rf__len(pl, np);
    if (b->first == 0 && rf_cancel) {
      st = rf__err(RF_EINTR, "%s: interrupted after %zu of %zu dwells; no products written",
                   rf_capture_path(cap), b->dwell, m->dwells);
      break;
    }
    if ((st = rf__wait_block(pl, j)) || (st = rf__retire_block(pl, r))) break;
    /* RF_CL_POISON=1: poison what kernels write, but the previous dwell's
     * results, not read back yet */
    cl_mem keep[2] = {pl->cand[(b->dwell + 1) % 2], pl->count[(b->dwell + 1) % 2]};
    if (b->first == 0 && (st = rf_cl_poison(pl->cl, qc, 2, keep))) break;
    if (b->first == 0 && (st = rf_bf_cl_set_weights(pl->bf, qc, rf__pipeline_begin_dwell(pl->host, b->dwell))))
      break;
    /* Upload into raw slot `slot` once block j-2's compression has read it. */
    cl_event prev = j >= 2 ? pl->ev_pc[(j - 2) % RF__RING] : NULL;
    e = clEnqueueWriteBuffer(qt, pl->raw_dev[slot], CL_FALSE, 0, b->count * pl->pulse_bytes, pl->raw_host[slot],
                             prev ? 1 : 0, prev ? &prev : NULL, &pl->ev_up[r]);
    if (e != CL_SUCCESS) {
      st = rf__cl_err(e, "uploading pulses");
      break;
    }
    clFlush(qt);
    pl->times.upload_bytes += (double)(b->count * pl->pulse_bytes);
    if ((st = rf_pc_cl_execute(pl->pc, qc, pl->raw_dev[slot], b->count, 1, &pl->ev_up[r], &pl->ev_pc0[r],
                               &pl->ev_pc[r])) ||
        (st = rf_doppler_cl_input(len->dop, qc, pl->bf, rf_pc_cl_rows(pl->pc), rf_pc_cl_row_stride(pl->pc),
                                  b->count, b->first, pl->dop, 0, NULL, &pl->ev_bf[r])))
      break;
    if (b->last) {
      const int s2 = (int)(b->dwell % 2);
      e = clEnqueueMarkerWithWaitList(qc, 0, NULL, &pl->ev_dop0[s2]);
      if (e != CL_SUCCESS) {
        st = rf__cl_err(e, "marker");
        break;
      }
      if ((st = rf_doppler_cl_execute(len->dop, qc, pl->dop, pl->power, 0, NULL, &pl->ev_dop[s2])) ||
          (st = rf_cfar_cl_execute(len->cfar, qc, pl->power, pl->cand[s2], pl->cap, pl->count[s2], 0, NULL,
                                   &pl->ev_cfar[s2])))
        break;
      e = clEnqueueReadBuffer(qr, pl->count[s2], CL_FALSE, 0, (1 + B) * sizeof(cl_uint), pl->count_host[s2], 1,
                              &pl->ev_cfar[s2], &pl->ev_cnt[s2]);
      if (e != CL_SUCCESS) {
        st = rf__cl_err(e, "reading counters");
        break;
      }
    }
    clFlush(qc);
    clFlush(qr);
    /* The staging slot is free again once its upload is done. */
    if ((e = clWaitForEvents(1, &pl->ev_up[r])) != CL_SUCCESS) {
      st = rf__cl_err(e, "uploading pulses");
      break;
    }
    rf__release_slot(pl, j);
    if (b->last) {
      if (pending >= 0 && (st = rf__finish_dwell(pl, (size_t)pending, plots))) break;
      pending = (long)b->dwell;
    }
  }
  if (!st && pending >= 0) st = rf__finish_dwell(pl, (size_t)pending, plots);
  rf__reader_stop(pl);
  pl->times.stage_s[RF_STAGE_read] += pl->rd.seconds;
  for (int q = 0; q < RF_CL_QUEUES; q++) clFinish(rf_cl_queue(pl->cl, q));
  for (int r = 0; r < RF__RING; r++)
    if (!st) st = rf__retire_block(pl, r);
  rf__release_events(pl);
  if (!st) st = rf_cl_check_canaries(pl->cl); /* RF_CL_CANARY=1 only */
  return st;
}

int rf_pipeline_cl_read_power(rf_pipeline_cl *pl, float *power, size_t *bins) {
  cl_command_queue q = rf_cl_queue(pl->cl, RF_CL_QUEUE_COMPUTE);
  *bins = pl->last_bins;
  size_t n = pl->sh.beams * pl->last_bins * pl->sh.cells;
  cl_int e = clEnqueueReadBuffer(q, pl->power, CL_TRUE, 0, n * sizeof(float), power, 0, NULL, NULL);
  return e == CL_SUCCESS ? 0 : rf__cl_err(e, "reading power maps");
}
