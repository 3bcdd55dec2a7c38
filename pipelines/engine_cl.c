/* radarflow: the OpenCL backend of the dwell engine. A capture is cut into
 * blocks of pulses (a whole dwell unless it does not fit the device
 * budget); a reader thread reads block k+1 from HDF5 into pinned memory
 * (double buffered) while the device converts, compresses and beamforms
 * block k, and after the last block of a dwell runs Doppler, CFAR and
 * candidate compaction. Three in-order queues: uploads, compute, readback.
 * Candidates of dwell d-1 come back and are extracted into plots while
 * dwell d computes. Only the reader thread calls HDF5. */
#include "engine_internal.h"
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

/* The device stages of each dwell length (same order as the engine's). */
typedef struct rf__len_cl {
  rf_doppler_cl *dop;
  rf_cfar_cl *cfar;
} rf__len_cl;

/* The reader thread: the only caller of HDF5 while the engine streams. */
typedef struct rf__reader {
  pthread_t th;
  int started;
  rf_capture *cap;
  const int64_t *first_pulse;  /* [dwells] */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int filled[2], stop, status;
  char msg[1024];
  double seconds;
} rf__reader;

typedef struct rf__clbe {
  rf_cl *cl;
  size_t groups, cap, pulse_bytes, nblocks, next; /* next: the block to run */
  rf__block *blocks;
  rf_pc_cl *pc;
  rf_bf_cl *bf;
  rf__len_cl *len;              /* [nlen] */
  cl_mem raw_dev[2], raw_pin[2];
  void *raw_host[2];
  cl_mem dop, power;
  cl_mem cand[2], count[2], cand_pin[2], count_pin[2], hist[2], hist_pin[2];
  rf_cl_cand *cand_host[2];
  cl_uint *count_host[2], *hist_host[2];
  float complex *weights;       /* [B][N], staged for rf_bf_cl_set_weights */
  rf_cfar_hit *hits;            /* [cap] */
  float *nb;                    /* [cap][8] */
  const rf_cfar_hit **hitp;     /* [B] */
  const float **nbp;            /* [B] */
  size_t *nhits;                /* [B] */
  cl_event ev_up[RF__RING], ev_pc0[RF__RING], ev_pc[RF__RING], ev_bf[RF__RING];
  cl_event ev_dop0[2], ev_dop[2], ev_cfar[2], ev_cnt[2], ev_hist[2];
  long pending;                 /* dwell whose candidates are still on the device */
  int finished;
  rf__reader rd;
} rf__clbe;

static void rf__release_events(rf__clbe *c) {
  for (int i = 0; i < RF__RING; i++) {
    rf_cl_release(&c->ev_up[i]);
    rf_cl_release(&c->ev_pc0[i]);
    rf_cl_release(&c->ev_pc[i]);
    rf_cl_release(&c->ev_bf[i]);
  }
  for (int i = 0; i < 2; i++) {
    rf_cl_release(&c->ev_dop0[i]);
    rf_cl_release(&c->ev_dop[i]);
    rf_cl_release(&c->ev_cfar[i]);
    rf_cl_release(&c->ev_cnt[i]);
    rf_cl_release(&c->ev_hist[i]);
  }
}

static void rf__reader_stop(rf__clbe *c);

static void rf__cl_destroy(rf_engine *e) {
  rf__clbe *c = e->be;
  if (!c) return;
  rf__reader_stop(c);
  for (int q = 0; q < RF_CL_QUEUES; q++) clFinish(rf_cl_queue(c->cl, q));
  rf__release_events(c);
  for (size_t i = 0; c->len && i < e->nlen; i++) {
    rf_doppler_cl_destroy(c->len[i].dop);
    rf_cfar_cl_destroy(c->len[i].cfar);
  }
  rf__free(c->len);
  rf_pc_cl_destroy(c->pc);
  rf_bf_cl_destroy(c->bf);
  for (int i = 0; i < 2; i++) {
    rf_cl_free(c->cl, c->raw_dev[i]);
    rf_cl_pinned_free(c->cl, c->raw_pin[i], c->raw_host[i]);
    rf_cl_free(c->cl, c->cand[i]);
    rf_cl_free(c->cl, c->count[i]);
    rf_cl_pinned_free(c->cl, c->cand_pin[i], c->cand_host[i]);
    rf_cl_pinned_free(c->cl, c->count_pin[i], c->count_host[i]);
    rf_cl_free(c->cl, c->hist[i]);
    rf_cl_pinned_free(c->cl, c->hist_pin[i], c->hist_host[i]);
  }
  rf_cl_free(c->cl, c->dop);
  rf_cl_free(c->cl, c->power);
  rf__free(c->weights);
  rf__free(c->hits);
  rf__free(c->nb);
  rf__free(c->hitp);
  rf__free(c->nbp);
  rf__free(c->nhits);
  rf__free(c->blocks);
  rf__free(c);
  e->be = NULL;
}

/* Pulses per block that fit the device budget next to the dwell-sized
 * buffers; *block 0 if not even one does. VkFFT's own buffers are asked of
 * VkFFT: per pulse-compressed row, and per Doppler plan (the longest
 * dwell's shape, an upper bound for the others). */
static int rf__fit_block(const rf_engine *e, const rf__clbe *c, size_t l, uint64_t budget, size_t *block) {
  const int cf = e->cfg.clutter_filter;
  const size_t pout = e->max_pulses - (cf == RF_CLUTTER_MTI2 ? 1 : cf == RF_CLUTTER_MTI3 ? 2 : 0);
  rf_cl_fft_shape rs = {.len = l, .outer = 1, .zero_from = e->cells},
                  ds = {.len = e->max_bins, .outer = e->cells, .zero_from = pout, .forward_only = 1};
  uint64_t row_fft, pc_fft, beam_fft, dop_fft;
  int st;
  *block = 0;
  if ((st = rf_cl_fft_scratch(c->cl, &rs, &row_fft, &pc_fft)) ||
      (st = rf_cl_fft_scratch(c->cl, &ds, &beam_fft, &dop_fft)))
    return st;
  uint64_t plane = (uint64_t)e->beams * e->cells * 8;
  /* dop + power; per dwell length: notch sums, canceller state, the plan's scratch */
  uint64_t fixed = plane * e->max_bins * 3 / 2 + e->nlen * (plane * (4 + c->groups) + beam_fft * e->beams + dop_fft) +
                   pc_fft + 2 * (uint64_t)c->cap * sizeof(rf_cl_cand) + ((uint64_t)4 << 20);
  /* per pulse: two raw buffers, the rows and VkFFT's scratch for them */
  uint64_t per = 2 * (uint64_t)c->pulse_bytes + (uint64_t)e->channels * (l * 8 + row_fft);
  if (budget <= fixed) return 0;
  uint64_t bp = (budget - fixed) / per;
  *block = bp > e->max_pulses ? e->max_pulses : (size_t)bp;
  return 0;
}

/* Candidates brought back per dwell, pulse groups per cell, pulses per
 * block and the blocks of every dwell. */
static int rf__cl_plan(rf_engine *e, rf__clbe *c) {
  const rf_capture_meta *m = e->m;
  const rf_cl_device_info *dev = rf_cl_device(c->cl);
  size_t map = e->max_bins * e->cells;
  c->pulse_bytes = rf_capture_pulse_bytes(m);
  c->cap = e->beams * e->max_hits;
  if (c->cap > RF__CAND_CAP_MAX) c->cap = RF__CAND_CAP_MAX;
  if (c->cap > e->beams * map) c->cap = e->beams * map;
  /* Pulse groups per cell (the tuning table's: a GPU wants ~64k work-items) */
  c->groups = rf_doppler_cl_groups(c->cl, e->cells, e->beams, e->max_pulses);
  size_t l = rf_pc_fft_len(e->cells, m->reference_len);
  int st = rf__fit_block(e, c, l, rf_cl_budget(c->cl) - rf_cl_allocated(c->cl), &e->block_pulses);
  if (st) return st;
  if (!e->block_pulses)
    return rf__err(RF_EDEVICE, "opencl: out of device memory: a dwell of %zu beams x %zu bins x %zu cells "
                               "does not fit the %.1f MiB budget of %s",
                   e->beams, e->max_bins, e->cells, (double)rf_cl_budget(c->cl) / 1048576.0, dev->name);
  const size_t bp = e->block_pulses;
  if (bp < e->max_pulses) rf_log(2, "opencl: dwells of %zu pulses split into blocks of %zu", e->max_pulses, bp);
  for (size_t d = 0; d < m->dwells; d++) c->nblocks += ((size_t)m->num_pulses[d] + bp - 1) / bp;
  if (!(c->blocks = rf__malloc(c->nblocks * sizeof *c->blocks))) return rf__err(RF_ENOMEM, "opencl: out of memory");
  for (size_t d = 0, j = 0; d < m->dwells; d++)
    for (size_t p = 0, np = (size_t)m->num_pulses[d]; p < np; p += bp, j++)
      c->blocks[j] = (rf__block){d, p, np - p < bp ? np - p : bp, p + bp >= np};
  return 0;
}

/* Device buffers of the dwell, the raw blocks, candidates and counters. */
static int rf__cl_buffers(rf_engine *e, rf__clbe *c) {
  rf_cl *cl = c->cl;
  uint64_t plane = (uint64_t)e->beams * e->cells;
  size_t raw_bytes = e->block_pulses * c->pulse_bytes, counters = (1 + e->beams) * sizeof(cl_uint),
         hist = e->beams * RF_CFAR_HIST * sizeof(cl_uint);
  int st;
  if ((st = rf_cl_alloc(cl, plane * e->max_bins * 8, CL_MEM_READ_WRITE, "Doppler cube", &c->dop)) ||
      (st = rf_cl_alloc(cl, plane * e->max_bins * 4, CL_MEM_READ_WRITE, "power maps", &c->power)))
    return st;
  for (int i = 0; i < 2; i++)
    if ((st = rf_cl_alloc(cl, raw_bytes, CL_MEM_READ_ONLY, "raw pulses", &c->raw_dev[i])) ||
        (st = rf_cl_alloc(cl, c->cap * sizeof(rf_cl_cand), CL_MEM_WRITE_ONLY, "candidates", &c->cand[i])) ||
        (st = rf_cl_alloc(cl, counters, CL_MEM_READ_WRITE, "counters", &c->count[i])) ||
        (st = rf_cl_pinned(cl, raw_bytes, "raw pulses", &c->raw_pin[i], &c->raw_host[i])) ||
        (st = rf_cl_pinned(cl, c->cap * sizeof(rf_cl_cand), "candidates", &c->cand_pin[i],
                           (void **)&c->cand_host[i])) ||
        (st = rf_cl_pinned(cl, counters, "counters", &c->count_pin[i], (void **)&c->count_host[i])) ||
        (st = rf_cl_alloc(cl, hist, CL_MEM_READ_WRITE, "noise histograms", &c->hist[i])) ||
        (st = rf_cl_pinned(cl, hist, "noise histograms", &c->hist_pin[i], (void **)&c->hist_host[i])))
      return st;
  return 0;
}

/* Host arrays the candidates are cut into, and the weights staging. */
static int rf__cl_host_arrays(rf_engine *e, rf__clbe *c) {
  c->weights = rf__malloc(e->beams * e->channels * sizeof *c->weights);
  c->hits = rf__malloc(c->cap * sizeof *c->hits);
  c->nb = rf__malloc(c->cap * 8 * sizeof *c->nb);
  c->hitp = rf__calloc(e->beams, sizeof *c->hitp);
  c->nbp = rf__calloc(e->beams, sizeof *c->nbp);
  c->nhits = rf__calloc(e->beams, sizeof *c->nhits);
  c->len = rf__calloc(e->nlen, sizeof *c->len);
  return c->weights && c->hits && c->nb && c->hitp && c->nbp && c->nhits && c->len
             ? 0
             : rf__err(RF_ENOMEM, "pipeline (opencl): out of memory");
}

static int rf__cl_dwell(rf_engine *e, size_t d, rf_plot_list *plots);
static int rf__cl_finish(rf_engine *e, rf_plot_list *plots);
static int rf__cl_read_power(rf_engine *e, float *power, size_t len);
static const rf__engine_ops rf__cl_ops = {"opencl", rf__cl_dwell, rf__cl_finish, rf__cl_read_power,
                                          rf__cl_destroy};

int rf_engine_create_cl(rf_engine **out, rf_cl *cl, const rf_config *cfg, rf_capture *cap) {
  *out = NULL;
  rf_engine *e;
  int st = rf__engine_new(&e, &rf__cl_ops, cfg, cap);
  if (st) return st;
  rf__clbe *c = rf__calloc(1, sizeof *c);
  e->be = c;
  if (!c) {
    st = rf__err(RF_ENOMEM, "pipeline (opencl): out of memory");
    goto fail;
  }
  c->cl = cl;
  c->pending = -1;
  rf_pc_config pcc;
  if ((st = rf__cl_plan(e, c)) || (st = rf__cl_buffers(e, c))) goto fail;
  rf__engine_pc_config(e, e->block_pulses, &pcc);
  if ((st = rf_pc_cl_create(&c->pc, cl, &pcc)) ||
      (st = rf_bf_cl_create(&c->bf, cl, e->channels, e->beams)) ||
      (st = rf__cl_host_arrays(e, c)) || (st = rf__engine_detection(e, rf_pc_cl_ref(c->pc))))
    goto fail;
  rf_fan_view fv;
  if ((st = rf_fan_dwell(e->fan, 0, &fv))) goto fail;
  for (size_t i = 0; i < e->nlen; i++) {
    rf_doppler_config dc;
    rf__engine_doppler_config(e, &e->len[i], &dc);
    if ((st = rf_doppler_cl_create(&c->len[i].dop, cl, &dc, e->beams, c->groups, c->dop)) ||
        (st = rf_cfar_cl_create(&c->len[i].cfar, cl, e->len[i].cfar, e->beams, fv.beams_az)))
      goto fail;
  }
  *out = e;
  return 0;
fail:
  rf_engine_destroy(e);
  return st;
}

/* ---- reader thread ------------------------------------------------------------------ */
static void *rf__reader_main(void *arg) {
  rf__clbe *c = arg;
  rf__reader *r = &c->rd;
  for (size_t j = 0; j < c->nblocks; j++) {
    int slot = (int)(j % 2);
    pthread_mutex_lock(&r->mu);
    while (r->filled[slot] && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop) break;
    const rf__block *b = &c->blocks[j];
    double t0 = rf_now_s();
    int st = rf_capture_read_pulses(r->cap, (size_t)r->first_pulse[b->dwell] + b->first, b->count, c->raw_host[slot]);
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

static int rf__reader_start(rf_engine *e, rf__clbe *c) {
  rf__reader *r = &c->rd;
  memset(r, 0, sizeof *r);
  r->cap = e->cap;
  r->first_pulse = e->m->first_pulse;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (pthread_create(&r->th, NULL, rf__reader_main, c)) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return rf__err(RF_EIO, "pipeline (opencl): cannot start the reader thread");
  }
  r->started = 1;
  return 0;
}

/* Waits for block j's slot; the reader's failure comes back as its status. */
static int rf__wait_block(rf__clbe *c, size_t j) {
  rf__reader *r = &c->rd;
  int slot = (int)(j % 2), st = 0;
  pthread_mutex_lock(&r->mu);
  while (!r->filled[slot] && !r->status) pthread_cond_wait(&r->cv, &r->mu);
  if (!r->filled[slot]) st = rf__err(r->status, "%s", r->msg);
  pthread_mutex_unlock(&r->mu);
  return st;
}

static void rf__release_slot(rf__clbe *c, size_t j) {
  pthread_mutex_lock(&c->rd.mu);
  c->rd.filled[j % 2] = 0;
  pthread_cond_broadcast(&c->rd.cv);
  pthread_mutex_unlock(&c->rd.mu);
}

static void rf__reader_stop(rf__clbe *c) {
  if (!c->rd.started) return;
  pthread_mutex_lock(&c->rd.mu);
  c->rd.stop = 1;
  pthread_cond_broadcast(&c->rd.cv);
  pthread_mutex_unlock(&c->rd.mu);
  pthread_join(c->rd.th, NULL);
  c->rd.started = 0;
  pthread_cond_destroy(&c->rd.cv);
  pthread_mutex_destroy(&c->rd.mu);
}

/* ---- per-dwell results -------------------------------------------------------------- */
/* Map order: beam, bin, cell. */
static int rf__cand_cmp(const void *pa, const void *pb, void *ctx) {
  const rf_cl_cand *a = pa, *b = pb;
  (void)ctx;
  if (a->beam != b->beam) return a->beam < b->beam ? -1 : 1;
  if (a->bin != b->bin) return a->bin < b->bin ? -1 : 1;
  if (a->cell != b->cell) return a->cell < b->cell ? -1 : 1;
  return 0;
}

static void rf__time_add(double *acc, cl_event a, cl_event b) { *acc += rf_cl_event_span(a, b); }

/* Cuts the sorted candidates v[total] per beam like the CPU path (at most
 * max_hits a beam) into hits and neighbour tables. */
static void rf__cut_candidates(rf_engine *e, rf__clbe *c, size_t d, const rf_cl_cand *v, size_t total) {
  size_t i = 0;
  for (size_t b = 0; b < e->beams; b++) {
    size_t start = i, n = 0;
    while (i < total && v[i].beam == b) {
      if (n < e->max_hits) {
        rf_cfar_hit *h = &c->hits[start + n];
        h->cell = v[i].cell;
        h->bin = v[i].bin;
        h->power = v[i].power;
        h->noise = v[i].noise;
        h->threshold = v[i].threshold;
        memcpy(c->nb + 8 * (start + n), v[i].nb, 8 * sizeof(float));
        n++;
      }
      i++;
    }
    if (i - start > n) rf_warn("dwell %zu beam %zu: %zu CFAR crossings, kept the first %zu", d, b, i - start, n);
    c->hitp[b] = c->hits + start;
    c->nbp[b] = c->nb + 8 * start;
    c->nhits[b] = n;
  }
}

/* Dwell d's candidates: counts, then the list, sorted, cut per beam,
 * extracted into plots. */
static int rf__finish_dwell(rf_engine *e, rf__clbe *c, size_t d, rf_plot_list *plots) {
  const int s2 = (int)(d % 2);
  rf_engine_times *t = &e->times;
  cl_int err = clWaitForEvents(1, &c->ev_cnt[s2]);
  if (err != CL_SUCCESS) return rf__cl_err(err, "waiting for CFAR results");
  size_t total = c->count_host[s2][0];
  if (total > c->cap)
    return rf__err(RF_EDEVICE, "opencl: dwell %zu: %zu CFAR crossings, more than the %zu brought back "
                               "(raise cfar.pfa's threshold, or use --device cpu)", d, total, c->cap);
  cl_event ev = NULL;
  if (total) {
    err = clEnqueueReadBuffer(rf_cl_queue(c->cl, RF_CL_QUEUE_READBACK), c->cand[s2], CL_TRUE, 0,
                              total * sizeof(rf_cl_cand), c->cand_host[s2], 1, &c->ev_cfar[s2], &ev);
    if (err != CL_SUCCESS) return rf__cl_err(err, "reading candidates");
  }
  double t0 = rf_now_s();
  t->download_s += rf_cl_event_span(ev, ev) + rf_cl_event_span(c->ev_cnt[s2], c->ev_cnt[s2]);
  t->download_bytes += (double)(total * sizeof(rf_cl_cand) + (1 + e->beams) * sizeof(cl_uint));
  rf_cl_release(&ev);
  rf__time_add(&t->stage_s[RF_STAGE_doppler], c->ev_dop0[s2], c->ev_dop[s2]);
  rf__time_add(&t->stage_s[RF_STAGE_cfar], c->ev_cfar[s2], c->ev_cfar[s2]);
  rf_cl_release(&c->ev_dop0[s2]);
  rf_cl_release(&c->ev_dop[s2]);
  rf_cl_release(&c->ev_cfar[s2]);
  rf_cl_release(&c->ev_cnt[s2]);
  if ((err = clWaitForEvents(1, &c->ev_hist[s2])) != CL_SUCCESS) return rf__cl_err(err, "reading noise histograms");
  t->download_s += rf_cl_event_span(c->ev_hist[s2], c->ev_hist[s2]);
  t->download_bytes += (double)(e->beams * RF_CFAR_HIST * sizeof(cl_uint));
  rf_cl_release(&c->ev_hist[s2]);
  rf_sort(c->cand_host[s2], total, sizeof(rf_cl_cand), rf__cand_cmp, NULL);
  rf__cut_candidates(e, c, d, c->cand_host[s2], total);
  t->stage_s[RF_STAGE_extraction] += rf_now_s() - t0;
  return rf__engine_plots(e, d, c->hitp, c->nhits, NULL, c->nbp, c->hist_host[s2], plots);
}

/* Block events of ring entry r: wait (they are done or nearly), add their
 * device times, release. */
static int rf__retire_block(rf_engine *e, rf__clbe *c, int r) {
  cl_event evs[4];
  cl_uint n = 0;
  if (c->ev_up[r]) evs[n++] = c->ev_up[r];
  if (c->ev_pc[r]) evs[n++] = c->ev_pc[r];
  if (c->ev_bf[r]) evs[n++] = c->ev_bf[r];
  if (n) {
    cl_int err = clWaitForEvents(n, evs);
    if (err != CL_SUCCESS) return rf__cl_err(err, "waiting for a block");
  }
  e->times.upload_s += rf_cl_event_span(c->ev_up[r], c->ev_up[r]);
  rf__time_add(&e->times.stage_s[RF_STAGE_pulse_compression], c->ev_pc0[r], c->ev_pc[r]);
  rf__time_add(&e->times.stage_s[RF_STAGE_beamforming], c->ev_bf[r], c->ev_bf[r]);
  rf_cl_release(&c->ev_up[r]);
  rf_cl_release(&c->ev_pc0[r]);
  rf_cl_release(&c->ev_pc[r]);
  rf_cl_release(&c->ev_bf[r]);
  return 0;
}

/* After a dwell's last block: Doppler, CFAR and the counters' readback. */
static int rf__enqueue_detection(rf_engine *e, rf__clbe *c, size_t d, const rf__len_cl *len) {
  cl_command_queue qc = rf_cl_queue(c->cl, RF_CL_QUEUE_COMPUTE), qr = rf_cl_queue(c->cl, RF_CL_QUEUE_READBACK);
  const int s2 = (int)(d % 2);
  cl_int err = clEnqueueMarkerWithWaitList(qc, 0, NULL, &c->ev_dop0[s2]);
  if (err != CL_SUCCESS) return rf__cl_err(err, "marker");
  int st;
  if ((st = rf_doppler_cl_execute(len->dop, qc, c->dop, c->power, 0, NULL, &c->ev_dop[s2])) ||
      (st = rf_cfar_cl_execute(len->cfar, qc, c->power, c->cand[s2], c->cap, c->count[s2], c->hist[s2], 0, NULL,
                               &c->ev_cfar[s2])))
    return st;
  err = clEnqueueReadBuffer(qr, c->count[s2], CL_FALSE, 0, (1 + e->beams) * sizeof(cl_uint), c->count_host[s2], 1,
                            &c->ev_cfar[s2], &c->ev_cnt[s2]);
  if (err == CL_SUCCESS)
    err = clEnqueueReadBuffer(qr, c->hist[s2], CL_FALSE, 0, e->beams * RF_CFAR_HIST * sizeof(cl_uint),
                              c->hist_host[s2], 1, &c->ev_cfar[s2], &c->ev_hist[s2]);
  return err == CL_SUCCESS ? 0 : rf__cl_err(err, "reading counters");
}

/* Block j: upload, compress and beamform; after a dwell's last block its
 * detection, and the previous dwell's plots. */
static int rf__cl_block(rf_engine *e, rf__clbe *c, size_t j, rf_plot_list *plots) {
  cl_command_queue qc = rf_cl_queue(c->cl, RF_CL_QUEUE_COMPUTE), qt = rf_cl_queue(c->cl, RF_CL_QUEUE_TRANSFER),
                   qr = rf_cl_queue(c->cl, RF_CL_QUEUE_READBACK);
  const rf__block *b = &c->blocks[j];
  const int slot = (int)(j % 2), r = (int)(j % RF__RING);
  const rf__dwell_len *l = rf__engine_len(e, b->dwell);
  const rf__len_cl *len = &c->len[l - e->len];
  int st;
  cl_int err;
  if ((st = rf__wait_block(c, j)) || (st = rf__retire_block(e, c, r))) return st;
  /* RF_CL_POISON=1: poison what kernels write, but the previous dwell's
   * results, not read back yet */
  cl_mem keep[3] = {c->cand[(b->dwell + 1) % 2], c->count[(b->dwell + 1) % 2], c->hist[(b->dwell + 1) % 2]};
  if (b->first == 0 && (st = rf_cl_poison(c->cl, qc, 3, keep))) return st;
  /* Per-channel mode: no weights, beam b is channel b. */
  const int per_channel = e->cfg.bf_mode == RF_BF_MODE_CHANNELS;
  if (b->first == 0 && ((st = rf_fan_weights(e->fan, b->dwell, c->weights)) ||
                        (st = rf_bf_cl_set_weights(c->bf, qc, per_channel ? NULL : c->weights))))
    return st;
  /* Upload into raw slot `slot` once block j-2's compression has read it. */
  cl_event prev = j >= 2 ? c->ev_pc[(j - 2) % RF__RING] : NULL;
  err = clEnqueueWriteBuffer(qt, c->raw_dev[slot], CL_FALSE, 0, b->count * c->pulse_bytes, c->raw_host[slot],
                             prev ? 1 : 0, prev ? &prev : NULL, &c->ev_up[r]);
  if (err != CL_SUCCESS) return rf__cl_err(err, "uploading pulses");
  clFlush(qt);
  e->times.upload_bytes += (double)(b->count * c->pulse_bytes);
  if ((st = rf_pc_cl_execute(c->pc, qc, c->raw_dev[slot], b->count, 1, &c->ev_up[r], &c->ev_pc0[r], &c->ev_pc[r])) ||
      (st = rf_doppler_cl_input(len->dop, qc, c->bf, rf_pc_cl_rows(c->pc), rf_pc_cl_row_stride(c->pc), b->count,
                                b->first, c->dop, 0, NULL, &c->ev_bf[r])))
    return st;
  if (b->last && (st = rf__enqueue_detection(e, c, b->dwell, len))) return st;
  clFlush(qc);
  clFlush(qr);
  /* The staging slot is free again once its upload is done. */
  if ((err = clWaitForEvents(1, &c->ev_up[r])) != CL_SUCCESS) return rf__cl_err(err, "uploading pulses");
  rf__release_slot(c, j);
  if (b->last) {
    if (c->pending >= 0 && (st = rf__finish_dwell(e, c, (size_t)c->pending, plots))) return st;
    c->pending = (long)b->dwell;
  }
  return 0;
}

static int rf__cl_dwell(rf_engine *e, size_t d, rf_plot_list *plots) {
  rf__clbe *c = e->be;
  int st;
  if (c->finished || c->next >= c->nblocks || c->blocks[c->next].dwell != d)
    return rf__err(RF_EINVAL, "%s: dwell %zu: the opencl engine takes the dwells in capture order%s",
                   rf_capture_path(e->cap), d, c->finished ? " and once" : "");
  if (!c->rd.started && (st = rf__reader_start(e, c))) return st;
  for (; c->next < c->nblocks && c->blocks[c->next].dwell == d; c->next++)
    if ((st = rf__cl_block(e, c, c->next, plots))) return st;
  return 0;
}

static int rf__cl_finish(rf_engine *e, rf_plot_list *plots) {
  rf__clbe *c = e->be;
  if (c->finished) return 0;
  c->finished = 1;
  int st = c->pending >= 0 ? rf__finish_dwell(e, c, (size_t)c->pending, plots) : 0;
  c->pending = -1;
  rf__reader_stop(c);
  e->times.stage_s[RF_STAGE_read] += c->rd.seconds;
  for (int q = 0; q < RF_CL_QUEUES; q++) clFinish(rf_cl_queue(c->cl, q));
  for (int r = 0; r < RF__RING; r++)
    if (!st) st = rf__retire_block(e, c, r);
  rf__release_events(c);
  if (!st) st = rf_cl_check_canaries(c->cl); /* RF_CL_CANARY=1 only */
  return st;
}

static int rf__cl_read_power(rf_engine *e, float *power, size_t len) {
  rf__clbe *c = e->be;
  (void)len;
  cl_command_queue q = rf_cl_queue(c->cl, RF_CL_QUEUE_COMPUTE);
  size_t n = e->beams * e->last_bins * e->cells;
  cl_int err = clEnqueueReadBuffer(q, c->power, CL_TRUE, 0, n * sizeof(float), power, 0, NULL, NULL);
  return err == CL_SUCCESS ? 0 : rf__cl_err(err, "reading power maps");
}

/* ---- device-resident timing (bench) ------------------------------------------------ */
int rf_engine_cl_resident(rf_engine *e, size_t d, int repeats, rf_engine_resident *out) {
  memset(out, 0, sizeof *out);
  if (strcmp(e->ops->name, "opencl"))
    return rf__err(RF_EINVAL, "engine: device-resident timing needs the opencl backend");
  rf__clbe *c = e->be;
  if (c->rd.started || c->next || c->finished)
    return rf__err(RF_EINVAL, "engine: device-resident timing on an engine that has streamed");
  if (d >= e->m->dwells || repeats < 1 || repeats > RF_ENGINE_RESIDENT_MAX)
    return rf__err(RF_EINVAL, "engine: device-resident timing of dwell %zu, %d repeats", d, repeats);
  const rf__dwell_len *l = rf__engine_len(e, d);
  const rf__len_cl *len = &c->len[l - e->len];
  const size_t p = l->pulses;
  if (p > e->block_pulses)
    return rf__err(RF_EUNSUP, "engine: a dwell of %zu pulses does not fit the device at once (blocks of %zu)", p,
                   e->block_pulses);
  cl_command_queue qc = rf_cl_queue(c->cl, RF_CL_QUEUE_COMPUTE);
  const int per_channel = e->cfg.bf_mode == RF_BF_MODE_CHANNELS;
  cl_event *ev = rf__calloc((size_t)(repeats + 1) * 6, sizeof *ev);
  if (!ev) return rf__err(RF_ENOMEM, "engine: out of memory");
  int st;
  cl_int err;
  /* The dwell is read and uploaded once (not timed). */
  if ((st = rf_capture_read_pulses(e->cap, (size_t)e->m->first_pulse[d], p, c->raw_host[0])) ||
      (st = rf_fan_weights(e->fan, d, c->weights)) ||
      (st = rf_bf_cl_set_weights(c->bf, qc, per_channel ? NULL : c->weights)))
    goto done;
  err = clEnqueueWriteBuffer(qc, c->raw_dev[0], CL_TRUE, 0, p * c->pulse_bytes, c->raw_host[0], 0, NULL, NULL);
  if (err != CL_SUCCESS) {
    st = rf__cl_err(err, "uploading pulses");
    goto done;
  }
  /* Repeat 0 warms up; repeats 1..n are queued back to back. Per repeat:
   * compression start/end, beamforming + Doppler input, Doppler start/end,
   * CFAR + compaction. */
  for (int r = 0; r <= repeats; r++) {
    cl_event *v = ev + 6 * r;
    if ((st = rf_pc_cl_execute(c->pc, qc, c->raw_dev[0], p, 0, NULL, &v[0], &v[1])) ||
        (st = rf_doppler_cl_input(len->dop, qc, c->bf, rf_pc_cl_rows(c->pc), rf_pc_cl_row_stride(c->pc), p, 0,
                                  c->dop, 0, NULL, &v[2])))
      goto done;
    if ((err = clEnqueueMarkerWithWaitList(qc, 0, NULL, &v[3])) != CL_SUCCESS) {
      st = rf__cl_err(err, "marker");
      goto done;
    }
    if ((st = rf_doppler_cl_execute(len->dop, qc, c->dop, c->power, 0, NULL, &v[4])) ||
        (st = rf_cfar_cl_execute(len->cfar, qc, c->power, c->cand[0], c->cap, c->count[0], c->hist[0], 0, NULL,
                                    &v[5])))
      goto done;
    if (r == 0 && (err = clFinish(qc)) != CL_SUCCESS) {
      st = rf__cl_err(err, "warm-up");
      goto done;
    }
  }
  if ((err = clFinish(qc)) != CL_SUCCESS) {
    st = rf__cl_err(err, "device-resident repeats");
    goto done;
  }
  out->repeats = repeats;
  out->pulses = p;
  for (int r = 1; r <= repeats; r++) {
    const cl_event *v = ev + 6 * r;
    out->cpi_s[r - 1] = rf_cl_event_span(v[0], v[5]);
    out->stage_s[RF_STAGE_pulse_compression] += rf_cl_event_span(v[0], v[1]) / repeats;
    out->stage_s[RF_STAGE_beamforming] += rf_cl_event_span(v[2], v[2]) / repeats;
    out->stage_s[RF_STAGE_doppler] += rf_cl_event_span(v[3], v[4]) / repeats;
    out->stage_s[RF_STAGE_cfar] += rf_cl_event_span(v[5], v[5]) / repeats;
  }
  /* back to back: first start to last end, per repeat (MatX's measure) */
  out->back_to_back_s = rf_cl_event_span(ev[6], ev[6 * repeats + 5]) / repeats;
  cl_uint cnt = 0;
  err = clEnqueueReadBuffer(qc, c->count[0], CL_TRUE, 0, sizeof cnt, &cnt, 0, NULL, NULL);
  if (err != CL_SUCCESS) {
    st = rf__cl_err(err, "reading counters");
    goto done;
  }
  out->candidates = cnt;
  c->finished = 1; /* the engine's buffers hold this dwell now: no streaming after */
done:
  clFinish(qc);
  for (int i = 0; i < (repeats + 1) * 6; i++) rf_cl_release(&ev[i]);
  rf__free(ev);
  return st;
}
