/* radarflow pipelines/: the tracker's products - run the tracker over a
 * plot list or a plot file, dwell by dwell, and stream tracks.h5,
 * tracks.csv, plots.ast, tracks.ast, plots.pcap and tracks.pcap: all six or
 * none. Memory does not grow with the number of dwells. */
#include "rf_tracker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../host/rf_files.h"
#include "../io/rf_asterix.h"
#include "../io/rf_plot_reader.h"

const char *const rf_track_product_names[RF_TRACK_PRODUCTS] = {"tracks.h5",  "tracks.csv", "plots.ast",
                                                                 "tracks.ast", "plots.pcap", "tracks.pcap"};
enum { RF__P_TH5, RF__P_TCSV, RF__P_PAST, RF__P_TAST, RF__P_PPCAP, RF__P_TPCAP };

/* Plots of the input in a slice when streaming a plot file (more when a
 * single dwell is larger); two slices are held, one being read ahead. */
#define RF__STREAM_PLOTS 32768

/* ---- the six product files -------------------------------------------------------- */
typedef struct rf__track_out {
  char path[RF_TRACK_PRODUCTS][4200];
  rf_tracks_writer *tw;
  rf_asterix_writer *pw, *rw; /* plots feed, tracks feed */
} rf__track_out;

static void rf__out_abort(rf__track_out *o) {
  rf_tracks_writer_abort(o->tw);
  rf_asterix_writer_abort(o->pw);
  rf_asterix_writer_abort(o->rw);
  o->tw = NULL, o->pw = o->rw = NULL;
}

static int rf__out_open(rf__track_out *o, const char *outdir, const rf_config *cfg, const rf_track_sensor *s,
                        const rf_product_info *info) {
  memset(o, 0, sizeof *o);
  int st = rf_mkdirs(outdir);
  if (st) return st;
  for (int k = 0; k < RF_TRACK_PRODUCTS; k++)
    if ((st = rf_path_join(o->path[k], sizeof o->path[k], outdir, rf_track_product_names[k]))) return st;
  rf_asterix_source src = {cfg->ast_sac, cfg->ast_sic, cfg->ast_service};
  rf_geo_site site;
  rf_geo_site_init(&site, s->site_latitude_deg, s->site_longitude_deg, s->site_altitude_m);
  if ((st = rf_tracks_writer_create(&o->tw, o->path[RF__P_TH5], o->path[RF__P_TCSV], info)) ||
      (st = rf_asterix_writer_create(&o->pw, o->path[RF__P_PAST], o->path[RF__P_PPCAP], &src, &site)) ||
      (st = rf_asterix_writer_create(&o->rw, o->path[RF__P_TAST], o->path[RF__P_TPCAP], &src, &site)))
    rf__out_abort(o);
  return st;
}

/* Renames all six into place; when one fails, removes those this call
 * already renamed (all or none). */
static int rf__out_commit(rf__track_out *o) {
  size_t n015 = 0, no048 = 0;
  rf_asterix_writer_counts(o->pw, &n015, NULL);
  rf_asterix_writer_counts(o->rw, NULL, &no048);
  int st = rf_tracks_writer_commit(o->tw);
  o->tw = NULL;
  int done = st ? 0 : 2;
  if (!st) {
    st = rf_asterix_writer_commit(o->pw);
    o->pw = NULL;
    if (!st) done = 4;
  }
  if (!st) {
    st = rf_asterix_writer_commit(o->rw);
    o->rw = NULL;
    if (!st) done = 6;
  }
  if (st) {
    rf__out_abort(o);
    static const int order[] = {RF__P_TH5, RF__P_TCSV, RF__P_PAST, RF__P_PPCAP};
    for (int k = 0; k < done && k < 4; k++) remove(o->path[order[k]]);
    return st;
  }
  if (n015 || no048)
    rf_log(1, "asterix: %zu plots beyond CAT048's 256 NM went to CAT015; %zu track rows beyond it are in "
              "CAT062 only", n015, no048);
  return 0;
}

/* ---- counts by track id ----------------------------------------------------------- */
/* Per id: 1 seen, 2 ever confirmed (or coasting after it), 4 last row
 * deleted; grown as ids appear (ids count up from 1). */
typedef struct rf__tally {
  unsigned char *f;
  size_t cap;
} rf__tally;

static int rf__tally_add(rf__tally *t, const rf_track_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int32_t id = rows[i].track_id;
    if (id <= 0) continue;
    if ((size_t)id >= t->cap) {
      size_t cap = t->cap ? t->cap : 1024;
      while (cap <= (size_t)id) cap *= 2;
      unsigned char *f = rf__realloc(t->f, cap);
      if (!f) return rf__err(RF_ENOMEM, "tracker: out of memory");
      memset(f + t->cap, 0, cap - t->cap);
      t->f = f, t->cap = cap;
    }
    int s = rows[i].status;
    t->f[id] = (unsigned char)((t->f[id] & 3) | 1 | (s == RF_TRACK_CONFIRMED || s == RF_TRACK_COASTING ? 2 : 0) |
                               (s == RF_TRACK_DELETED ? 4 : 0));
  }
  return 0;
}

static void rf__tally_done(rf__tally *t, rf_track_counts *c) {
  memset(c, 0, sizeof *c);
  for (size_t id = 1; id < t->cap; id++) {
    if (!t->f[id]) continue;
    c->ids++;
    if (t->f[id] & 2) c->confirmed++;
    else c->tentative++;
    if (t->f[id] & 4) c->deleted++;
  }
  rf__free(t->f);
  t->f = NULL, t->cap = 0;
}

/* ---- the run ------------------------------------------------------------------------ */
struct rf__writer;

/* Where the plots come from: a list in memory, or a plots.h5 read in
 * slices of cap rows (rows [base, base + nbuf) of the file at buf). Two
 * slice buffers, each with room for a dwell cut by the end of a slice in
 * front (room rows): while the tracker works through one, the writer
 * thread reads the next slice into the other (rf__ahead_*). */
typedef struct rf__psrc {
  const rf_plot *mem;
  rf_plot_reader *rd;
  size_t n;                 /* rows in all */
  rf_plot *buf;
  size_t cap, base, nbuf;
  rf_plot *slice[2];        /* [room + cap] each; buf lies in slice[cur] */
  size_t room;
  int cur;
  struct rf__writer *w;     /* reads ahead (NULL: every slice read here) */
  size_t ahead;             /* rows asked of the writer at slice[!cur] + room, from base + nbuf */
} rf__psrc;

static int rf__ahead_ask(struct rf__writer *w, rf_plot_reader *rd, size_t first, size_t n, rf_plot *dst);
static int rf__ahead_take(struct rf__writer *w);
static void rf__ahead_drop(struct rf__writer *w);

/* Rows [i, i + k) in one piece, k <= room (the largest dwell); *p points
 * at row i. Rows are taken in order: a call never asks for rows before the
 * previous call's i. */
static int rf__psrc_get(rf__psrc *s, size_t i, size_t k, const rf_plot **p) {
  if (s->mem) {
    *p = s->mem + i;
    return 0;
  }
  if (i < s->base || i + k > s->base + s->nbuf) {
    const size_t end = s->base + s->nbuf, keep = i < end && i >= s->base ? end - i : 0;
    rf_plot *nb = s->slice[!s->cur];
    int st;
    if (s->ahead && i >= s->base && i <= end) {
      /* The slice read ahead starts at end: the rows of [i, end) move in
       * front of it. */
      if ((st = rf__ahead_take(s->w))) {
        s->ahead = 0;
        return st;
      }
      if (keep) memcpy(nb + s->room - keep, s->buf + (i - s->base), keep * sizeof *nb);
      s->buf = nb + s->room - keep, s->base = i, s->nbuf = keep + s->ahead;
    } else {
      if (s->ahead) rf__ahead_drop(s->w);
      size_t m = s->n - i < s->cap ? s->n - i : s->cap;
      if ((st = rf_plot_reader_read(s->rd, i, m, nb + s->room))) {
        s->ahead = 0;
        return st;
      }
      s->buf = nb + s->room, s->base = i, s->nbuf = m;
    }
    s->cur = !s->cur;
    s->ahead = 0;
    size_t next = s->base + s->nbuf, m = s->n - next < s->cap ? s->n - next : s->cap;
    if (m && s->w && !rf__ahead_ask(s->w, s->rd, next, m, s->slice[!s->cur] + s->room)) s->ahead = m;
  }
  *p = s->buf + (i - s->base);
  return 0;
}

/* Largest group of plots the tracker takes at once, from the key columns
 * fed in slices, checking the order the run needs (time never decreasing;
 * with a dwell table, dwells in the table and never decreasing). */
typedef struct rf__scan {
  const rf_track_sensor *s;
  const char *what;
  size_t row, run, maxg;     /* rows seen, length of the current group, largest */
  double t;
  int32_t d;
} rf__scan;

static int rf__scan_keys(rf__scan *g, const double *t, const int32_t *d, size_t n) {
  const int table = g->s->dwells > 0 && g->s->dwell_time_s != NULL;
  for (size_t i = 0; i < n; i++, g->row++) {
    if (table && (d[i] < 0 || (size_t)d[i] >= g->s->dwells))
      return rf__err(RF_EINVAL, "%s: plot %zu: dwell %d is not in the dwell table", g->what, g->row, (int)d[i]);
    if (g->row && (t[i] < g->t || (table && d[i] < g->d)))
      return rf__err(RF_EINVAL, "%s: plot %zu: plots must be ordered by %s", g->what, g->row,
                     table ? "dwell" : "time");
    int same = g->row && d[i] == g->d && (table || t[i] == g->t);
    g->run = same ? g->run + 1 : 1;
    if (g->run > g->maxg) g->maxg = g->run;
    g->t = t[i], g->d = d[i];
  }
  return 0;
}

/* ---- the writer thread ------------------------------------------------------------- */
/* The tracker runs a dwell ahead of the writers: dwell d is tracked (on
 * the OpenMP threads, or with the writer's help on two cores) while the
 * products of dwell d - 1 are written on a thread of its own. A slot holds
 * one dwell's plots (copied: the plot buffer moves on) and track rows. */
#define RF__SLOTS 3

typedef struct rf__slot {
  rf_plot *plots;
  rf_track_row *rows;
  size_t nplots, nrows;
  int derived; /* the rows' derived columns are filled (else the writer fills them) */
} rf__slot;

typedef struct rf__writer {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  rf__slot slot[RF__SLOTS];
  size_t head, tail; /* dwells handed over / written (slot = count % RF__SLOTS) */
  int closing;       /* no more dwells will come */
  int st;            /* the writer's first failure, its message in msg */
  char msg[1024];
  rf__track_out *out;
  rf__tally *tally;
  rf_tracker *t;       /* its rows' derived columns are filled here (rf_tracker_defer_derived) */
  int help;            /* while it waits, the writer helps the tracker (rf_tracker_set_helper) */
  unsigned long jobs;  /* tracker jobs opened so far */
  /* The plot file's next slice, read ahead (rf__psrc): before any dwell
   * waiting to be written, since the tracker will wait for it. */
  enum { RF__AHEAD_NONE, RF__AHEAD_ASKED, RF__AHEAD_READING, RF__AHEAD_DONE } ahead;
  rf_plot_reader *ahead_rd;
  size_t ahead_first, ahead_n;
  rf_plot *ahead_dst;
  int ahead_st;         /* the read's status, its message in ahead_msg */
  char ahead_msg[1024];
} rf__writer;

static int rf__write_slot(rf__writer *w, rf__slot *sl) {
  int st;
  if (!sl->derived) rf_tracker_derive_rows(w->t, sl->rows, sl->nrows);
  if ((st = rf_asterix_writer_plots(w->out->pw, sl->plots, sl->nplots)) ||
      (st = rf_tracks_writer_add(w->out->tw, sl->rows, sl->nrows)) ||
      (st = rf_asterix_writer_tracks(w->out->rw, sl->rows, sl->nrows)))
    return st;
  return rf__tally_add(w->tally, sl->rows, sl->nrows);
}

/* Reads the slice asked for (w->mu held, w->ahead RF__AHEAD_ASKED). */
static void rf__ahead_read(rf__writer *w) {
  w->ahead = RF__AHEAD_READING;
  pthread_mutex_unlock(&w->mu);
  int st = rf_plot_reader_read(w->ahead_rd, w->ahead_first, w->ahead_n, w->ahead_dst);
  pthread_mutex_lock(&w->mu);
  w->ahead_st = st;
  if (st) snprintf(w->ahead_msg, sizeof w->ahead_msg, "%s", rf_errmsg());
  w->ahead = RF__AHEAD_DONE;
  pthread_cond_broadcast(&w->cv);
}

/* Asks the writer thread to read rows [first, first + n) into dst; 0, or
 * -1 when it cannot (it failed: the rows are then read when needed). */
static int rf__ahead_ask(rf__writer *w, rf_plot_reader *rd, size_t first, size_t n, rf_plot *dst) {
  pthread_mutex_lock(&w->mu);
  int ok = !w->st && w->ahead == RF__AHEAD_NONE;
  if (ok) {
    w->ahead = RF__AHEAD_ASKED;
    w->ahead_rd = rd, w->ahead_first = first, w->ahead_n = n, w->ahead_dst = dst;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return ok ? 0 : -1;
}

/* The rows asked for, once read (here, if the writer has not begun); the
 * read's status, its message raised on this thread. */
static int rf__ahead_take(rf__writer *w) {
  pthread_mutex_lock(&w->mu);
  if (w->ahead == RF__AHEAD_ASKED) rf__ahead_read(w);
  while (w->ahead != RF__AHEAD_DONE) pthread_cond_wait(&w->cv, &w->mu);
  int st = w->ahead_st;
  w->ahead = RF__AHEAD_NONE;
  pthread_mutex_unlock(&w->mu);
  return st ? rf__err(st, "%s", w->ahead_msg) : 0;
}

/* Forgets the rows asked for (waits for a read under way). */
static void rf__ahead_drop(rf__writer *w) {
  pthread_mutex_lock(&w->mu);
  while (w->ahead == RF__AHEAD_READING) pthread_cond_wait(&w->cv, &w->mu);
  w->ahead = RF__AHEAD_NONE;
  pthread_mutex_unlock(&w->mu);
}

static void *rf__writer_main(void *arg) {
  rf__writer *w = arg;
#ifdef _OPENMP
  /* The tracker's OpenMP threads have the cores; printing here stays on
   * this thread. */
  omp_set_num_threads(1);
#endif
  pthread_mutex_lock(&w->mu);
  for (;;) {
    if (w->ahead == RF__AHEAD_ASKED) {
      rf__ahead_read(w);
      continue;
    }
    while (w->tail == w->head && !w->closing && w->ahead != RF__AHEAD_ASKED) {
      if (w->help) {
        unsigned long seen = w->jobs;
        pthread_mutex_unlock(&w->mu);
        size_t did = rf_tracker_help(w->t);
        pthread_mutex_lock(&w->mu);
        /* Anything that came while the lock was free (a job, a dwell, a
         * read, the close) was announced then: look again instead of
         * waiting. */
        if (did || w->jobs != seen || w->tail != w->head || w->closing || w->ahead == RF__AHEAD_ASKED) continue;
      }
      pthread_cond_wait(&w->cv, &w->mu);
    }
    if (w->ahead == RF__AHEAD_ASKED) continue;
    if (w->tail == w->head) break;
    rf__slot *sl = &w->slot[w->tail % RF__SLOTS];
    int failed = w->st;
    pthread_mutex_unlock(&w->mu);
    int st = failed ? 0 : rf__write_slot(w, sl);
    pthread_mutex_lock(&w->mu);
    if (st && !w->st) {
      w->st = st;
      snprintf(w->msg, sizeof w->msg, "%s", rf_errmsg());
    }
    w->tail++;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* The slot for the next dwell, once the writer has finished with it; the
 * writer's failure (0: none) in *st. The slot says who fills the rows'
 * derived columns: the writer, unless it is behind (dwells still waiting
 * for it besides the one it writes), when the tracker does. */
static rf__slot *rf__writer_free_slot(rf__writer *w, int *st) {
  pthread_mutex_lock(&w->mu);
  while (w->head - w->tail == RF__SLOTS && !w->st) pthread_cond_wait(&w->cv, &w->mu);
  *st = w->st;
  rf__slot *sl = &w->slot[w->head % RF__SLOTS];
  sl->derived = w->head - w->tail >= 2;
  pthread_mutex_unlock(&w->mu);
  return sl;
}

/* The tracker opened a job (rf_tracker_set_helper). */
static void rf__writer_wake(void *arg) {
  rf__writer *w = arg;
  pthread_mutex_lock(&w->mu);
  w->jobs++;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void rf__writer_push(rf__writer *w) {
  pthread_mutex_lock(&w->mu);
  w->head++;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* Waits for the writer to write what it was given (or to skip it after a
 * failure) and stop; its failure, re-raised on this thread, or 0. */
static int rf__writer_join(rf__writer *w) {
  pthread_mutex_lock(&w->mu);
  if (w->ahead == RF__AHEAD_ASKED) w->ahead = RF__AHEAD_NONE; /* no longer wanted */
  w->closing = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->th, NULL);
  return w->st ? rf__err(w->st, "%s", w->msg) : 0;
}

static void rf__writer_free(rf__writer *w) {
  for (int k = 0; k < RF__SLOTS; k++) {
    rf__free(w->slot[k].plots);
    rf__free(w->slot[k].rows);
  }
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}

/* ---- the run ------------------------------------------------------------------------ */
/* Tracks every group of src and streams the products. */
static int rf__run(rf__psrc *src, size_t maxg, const rf_config *cfg, const rf_track_sensor *s,
                   const rf_product_info *info, const char *outdir, rf_track_counts *counts) {
  rf_tracker *t = NULL;
  rf__track_out out;
  rf__tally tally = {0};
  rf__writer w;
#ifdef _OPENMP
  const int omp_threads = omp_get_max_threads();
#endif
  memset(counts, 0, sizeof *counts);
  memset(&w, 0, sizeof w);
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  w.out = &out, w.tally = &tally;
  size_t maxt = src->n + 1; /* capped at tracker.max_tracks by the tracker */
  int st = rf_tracker_create(&t, cfg, s, maxt, maxg), writer_failed = 0;
  if (st) goto done;
  w.t = t;
#ifdef _OPENMP
  /* Two cores: the writer helps the tracker's loops while it waits (an
   * OpenMP thread beside it would be a third on two cores and make the
   * loops wait for it); more: the tracker's OpenMP threads take the cores
   * the writer leaves. */
  if (omp_threads == 2) {
    w.help = 1;
    if ((st = rf_tracker_set_helper(t, rf__writer_wake, &w))) goto done;
  } else if (omp_threads > 2) {
    omp_set_num_threads(omp_threads - 1);
  }
#endif
  size_t mr = rf_tracker_max_rows(t);
  for (int k = 0; k < RF__SLOTS; k++)
    if (!(w.slot[k].rows = rf__malloc(mr * sizeof *w.slot[k].rows)) ||
        !(w.slot[k].plots = rf__malloc(maxg * sizeof *w.slot[k].plots))) {
      st = rf__err(RF_ENOMEM, "tracker: out of memory");
      goto done;
    }
  if ((st = rf__out_open(&out, outdir, cfg, s, info))) goto done;
  if (pthread_create(&w.th, NULL, rf__writer_main, &w)) {
    rf__out_abort(&out);
    st = rf__err(RF_ENOMEM, "%s: cannot start the writer thread", outdir);
    goto done;
  }
  if (!src->mem) src->w = &w; /* it reads the plot file ahead */
  /* With a dwell table (with times) every dwell is processed, so a dwell
   * without plots still counts as a look. Without one, each run of plots
   * with the same dwell and time is a dwell. */
  const int table = s->dwells > 0 && s->dwell_time_s != NULL;
  size_t i = 0, d = 0;
  while (!st && (table ? d < s->dwells : i < src->n)) {
    const rf_plot *p = NULL, *q;
    size_t k = 0;
    /* The group: plots of dwell d (table) or of one dwell and time. */
    if (i < src->n && (st = rf__psrc_get(src, i, 1, &p))) break;
    while (i + k < src->n) {
      if ((st = rf__psrc_get(src, i, k + 1, &p))) break;
      q = p + k;
      if (table ? q->dwell != (int32_t)d : (q->dwell != p->dwell || q->time_s != p->time_s)) break;
      k++;
    }
    if (st) break;
    double now = table ? s->dwell_time_s[d] : p->time_s;
    int32_t dw = table ? (int32_t)d : p->dwell;
    d++;
    rf__slot *sl = rf__writer_free_slot(&w, &st);
    if (st) {
      writer_failed = 1; /* its message is raised by the join */
      break;
    }
    rf_tracker_defer_derived(t, !sl->derived);
    if ((st = rf_tracker_process_dwell(t, now, dw, k ? p : NULL, k, sl->rows, mr, &sl->nrows))) break;
    if (k) memcpy(sl->plots, p, k * sizeof *p);
    sl->nplots = k;
    rf__writer_push(&w);
    i += k;
    if (rf_cancel) st = rf__err(RF_EINTR, "%s: interrupted; no track products written", outdir);
  }
  {
    /* This thread's own failure wins over the writer's (the writer skips
     * the rest once it failed); the join re-raises the writer's. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rf_errmsg());
    int wst = rf__writer_join(&w);
    if (st && !writer_failed) st = rf__err(st, "%s", msg);
    else if (!st) st = wst;
  }
  if (st) rf__out_abort(&out);
  else st = rf__out_commit(&out);
  if (!st) rf__tally_done(&tally, counts);
done:
#ifdef _OPENMP
  omp_set_num_threads(omp_threads);
#endif
  if (st) memset(counts, 0, sizeof *counts);
  rf__free(tally.f);
  rf__writer_free(&w);
  rf_tracker_destroy(t);
  return st;
}


int rf_track_products_sensor(const rf_plot *plots, size_t n, const rf_config *cfg,
                             const rf_track_sensor *s, const rf_product_info *info,
                             const char *outdir, size_t *ntracks) {
  rf_track_counts c;
  int st = rf_track_products_counted(plots, n, cfg, s, info, outdir, &c);
  if (ntracks) *ntracks = st ? 0 : c.ids;
  return st;
}

int rf_track_products_counted(const rf_plot *plots, size_t n, const rf_config *cfg,
                              const rf_track_sensor *s, const rf_product_info *info,
                              const char *outdir, rf_track_counts *counts) {
  memset(counts, 0, sizeof *counts);
  if (!outdir || (n && !plots) || !cfg || !s) return rf__err(RF_EINVAL, "track products: bad arguments");
  rf__scan g = {.s = s, .what = "tracker", .maxg = 1};
  for (size_t i = 0; i < n; i++) {
    int st = rf__scan_keys(&g, &plots[i].time_s, &plots[i].dwell, 1);
    if (st) return st;
  }
  static const rf_plot none;
  rf__psrc src = {.mem = plots ? plots : &none, .n = n};
  return rf__run(&src, g.maxg, cfg, s, info, outdir, counts);
}

/* rf_plot_reader's presence bits as RF_TRACK_HAS_* (the site needs all
 * three of its attributes). */
static unsigned rf__present(unsigned bits, const rf_plots_attrs *a) {
  unsigned p = 0;
  if ((bits & 7u) == 7u) p |= RF_TRACK_HAS_SITE;
  if (bits & 8u) p |= RF_TRACK_HAS_VELOCITY_INTERVAL;
  if ((bits & 16u) && a->range_cell_m > 0) p |= RF_TRACK_HAS_RANGE_CELL;
  if ((bits & 32u) && a->doppler_cell_mps > 0) p |= RF_TRACK_HAS_DOPPLER_CELL;
  if ((bits & 64u) && a->beamwidth_az_deg > 0) p |= RF_TRACK_HAS_BEAMWIDTH_AZ;
  if (bits & 128u) p |= RF_TRACK_HAS_BEAMWIDTH_EL;
  return p;
}

int rf_track_file(const char *path, const rf_config *cfg, const char *outdir, size_t *nplots, rf_track_counts *counts,
                  char *capture, size_t capture_len) {
  rf_plot_reader *rd = NULL;
  rf_plots_attrs at;
  rf_plot_list plots = {0};
  rf_product_info info = {.source_path = path, .radar_name = ""};
  rf_track_sensor s;
  double *tk = NULL;
  int32_t *dk = NULL;
  rf_plot *buf = NULL;
  unsigned bits = 0;
  size_t n = 0, maxg = 1;
  int st;
  memset(&at, 0, sizeof at);
  if (nplots) *nplots = 0;
  memset(counts, 0, sizeof *counts);
  if (capture && capture_len) capture[0] = 0;
  const int is_h5 = rf_has_ext(path, ".h5");
  if (is_h5) {
    if ((st = rf_plot_reader_open(&rd, path, &bits)) || (st = rf_plots_read_attrs(path, &at))) goto done;
    n = rf_plot_reader_rows(rd);
    info.radar_name = at.radar_name;
    if (capture && capture_len) snprintf(capture, capture_len, "%s", at.source_path);
    info.site_latitude_deg = at.site_latitude_deg;
    info.site_longitude_deg = at.site_longitude_deg;
    info.site_altitude_m = at.site_altitude_m;
    info.radial_velocity_interval_mps = at.radial_velocity_interval_mps;
    info.range_cell_m = at.range_cell_m;
    info.doppler_cell_mps = at.doppler_cell_mps;
    info.beamwidth_az_deg = at.beamwidth_az_deg;
    info.beamwidth_el_deg = at.beamwidth_el_deg;
    info.coverage_az_deg = at.coverage_az_deg;
    info.coverage_el_deg = at.coverage_el_deg;
    info.dwells = at.dwells;
    info.dwell_time_s = at.dwell_time_s;
    info.dwell_azimuth_deg = at.dwell_azimuth_deg;
    info.dwell_elevation_deg = at.dwell_elevation_deg;
  } else if ((st = rf_plots_read(path, &plots))) {
    goto done;
  } else {
    n = plots.n;
  }
  if ((st = rf_track_sensor_from_info(&s, &info, rf__present(bits, &at), cfg, path))) goto done;
  /* tracks.h5 records the site the tracker used. */
  info.site_latitude_deg = s.site_latitude_deg;
  info.site_longitude_deg = s.site_longitude_deg;
  info.site_altitude_m = s.site_altitude_m;
  if (nplots) *nplots = n;
  if (!is_h5) {
    st = rf_track_products_counted(plots.v, plots.n, cfg, &s, &info, outdir, counts);
    goto done;
  }
  /* First pass over the key columns, in slices: order and the largest dwell. */
  if (!(tk = rf__malloc(RF__STREAM_PLOTS * sizeof *tk)) || !(dk = rf__malloc(RF__STREAM_PLOTS * sizeof *dk))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  rf__scan g = {.s = &s, .what = path, .maxg = 1};
  for (size_t i = 0; i < n; i += RF__STREAM_PLOTS) {
    size_t m = n - i < RF__STREAM_PLOTS ? n - i : RF__STREAM_PLOTS;
    if ((st = rf_plot_reader_read_keys(rd, i, m, tk, dk)) || (st = rf__scan_keys(&g, tk, dk, m))) goto done;
  }
  maxg = g.maxg;
  /* Two slices, each with room for a dwell in front. */
  size_t cap = RF__STREAM_PLOTS > maxg ? RF__STREAM_PLOTS : maxg;
  if (!(buf = rf__malloc(2 * (maxg + cap) * sizeof *buf))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  rf__psrc src = {.rd = rd, .n = n, .buf = buf, .cap = cap, .room = maxg, .slice = {buf, buf + maxg + cap}};
  st = rf__run(&src, maxg, cfg, &s, &info, outdir, counts);
done:
  rf__free(buf);
  rf__free(tk);
  rf__free(dk);
  rf_plot_list_free(&plots);
  rf_plots_attrs_free(&at);
  rf_plot_reader_close(rd);
  return st;
}
