/* radarflow: quick-look pictures of product folders (rf_quicklook.h).
 * Drawing goes through io/rf_plotdraw.h (cairo); this file reads the
 * products, recomputes the range-Doppler map of one dwell with the same
 * pipeline and settings, lays out the pictures and writes index.html. */
#include "rf_quicklook.h"
#include "rf_pipeline.h"
#include "../io/rf_tracks.h"
#include "../host/rf_files.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RF__PATH 4096
/* Largest run.json / summary.json read. */
#define RF__JSON_MAX ((size_t)256 << 20)

/* Track status colours, by enum rf_track_status (tentative, confirmed,
 * coasting, deleted). */
static const rf_rgb rf__status_col[RF_TRACK_STATUS_COUNT] = {
    {0.96, 0.56, 0.10}, {0.80, 0.10, 0.12}, {0.15, 0.45, 0.80}, {0.55, 0.55, 0.55}};

/* Everything read from one product folder. */
typedef struct rf__products {
  char dir[RF__PATH];
  char capture[RF__PATH];   /* run.json input.path */
  char name[256];           /* capture file name */
  char radar[256];
  rf_config cfg;
  rf_plot_list plots;
  rf_track_list tracks;         /* sorted by track, then time */
  size_t nids, nconfirmed;      /* track ids; of them, confirmed at some update */
  /* From run.json, for the index row; NaN / "" when absent. */
  double dwells, seconds;
  char device[64];
} rf__products;

/* ---- small helpers --------------------------------------------------------------- */
static int rf__is_file(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

static const char *rf__basename(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* Copies src (NULL: "") into dst, cut to len - 1 bytes. */
static void rf__copy(char *dst, size_t len, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= len) n = len - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = 0;
}

/* UTC text of an epoch time, to the millisecond. */
static void rf__utc(double t, char *out, size_t len) {
  if (!isfinite(t)) {
    rf__copy(out, len, "?");
    return;
  }
  time_t s = (time_t)floor(t);
  struct tm tm;
  gmtime_r(&s, &tm);
  char b[40];
  strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out, len, "%s.%03d UTC", b, (int)((t - floor(t)) * 1000));
}

static double rf__nice_ceil(double v, double step) { return ceil(v / step - 1e-9) * step; }

/* ---- reading the products -------------------------------------------------------- */
static int rf__cmp_track(const void *a, const void *b) {
  const rf_track_row *x = a, *y = b;
  if (x->track_id != y->track_id) return x->track_id < y->track_id ? -1 : 1;
  return x->time_s < y->time_s ? -1 : x->time_s > y->time_s;
}

/* tracks.csv (io/tracks.c's reader), sorted by track and time. A missing
 * file is no tracks. */
static int rf__read_tracks(rf__products *p) {
  char path[RF__PATH + 32];
  int st;
  if ((st = rf_path_join(path, sizeof path, p->dir, "tracks.csv"))) return st;
  if (!rf__is_file(path)) return 0;
  if ((st = rf_tracks_read(path, &p->tracks))) return st;
  rf_track_row *v = p->tracks.v;
  qsort(v, p->tracks.n, sizeof *v, rf__cmp_track);
  for (size_t i = 0, conf = 0; i < p->tracks.n; i++) {
    if (i == 0 || v[i].track_id != v[i - 1].track_id) p->nids++, conf = 0;
    if (!conf && (v[i].status == RF_TRACK_CONFIRMED || v[i].status == RF_TRACK_COASTING)) p->nconfirmed++, conf = 1;
  }
  return 0;
}

/* Applies run.json "config" (section -> key -> value: a number, a word or
 * a boolean; older files: text) over the defaults. A setting this build
 * does not know is warned about and skipped. */
static void rf__apply_config(rf_config *cfg, const cJSON *c, const char *path) {
  const cJSON *sec, *key;
  cJSON_ArrayForEach(sec, c) {
    if (!cJSON_IsObject(sec)) continue;
    cJSON_ArrayForEach(key, sec) {
      char a[512], v[64];
      if (cJSON_IsString(key)) snprintf(v, sizeof v, "%s", key->valuestring);
      else if (cJSON_IsNumber(key)) snprintf(v, sizeof v, "%.17g", key->valuedouble);
      else if (cJSON_IsBool(key)) snprintf(v, sizeof v, "%s", cJSON_IsTrue(key) ? "true" : "false");
      else continue;
      snprintf(a, sizeof a, "%s.%s=%s", sec->string, key->string, v);
      if (rf_config_set(cfg, a)) {
        rf_warn("%s: /config: setting %s.%s skipped: %s", path, sec->string, key->string, rf_errmsg());
        rf_errmsg_clear();
      }
    }
  }
}

static const char *rf__jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double rf__json_num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int rf__load(rf__products *p, const char *dir) {
  char path[RF__PATH + 32];
  char *txt = NULL;
  cJSON *root = NULL;
  int st;
  if (strlen(dir) >= sizeof p->dir) return rf__err(RF_EINVAL, "%s: path too long", dir);
  rf__copy(p->dir, sizeof p->dir, dir);
  rf_config_defaults(&p->cfg);
  if ((st = rf_path_join(path, sizeof path, dir, "run.json")) || (st = rf_slurp(path, RF__JSON_MAX, &txt, NULL)))
    return st;
  if (!(root = cJSON_Parse(txt)) || !cJSON_IsObject(root)) {
    st = rf__err(RF_EFORMAT, "%s: not a JSON object", path);
    goto done;
  }
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
  const cJSON *ip = cJSON_GetObjectItemCaseSensitive(in, "path");
  if (!cJSON_IsString(ip) || !ip->valuestring[0]) {
    st = rf__err(RF_EFORMAT, "%s: /input/path: missing", path);
    goto done;
  }
  if (strlen(ip->valuestring) >= sizeof p->capture) {
    st = rf__err(RF_EFORMAT, "%s: /input/path: longer than %zu bytes", path, sizeof p->capture - 1);
    goto done;
  }
  /* A `radarflow track` run: the input is a plot file, the capture (for
   * the map) the one it came from, when known. */
  const char *kind = rf__jstr(in, "kind"), *cap = ip->valuestring;
  int from_plots = kind && !strcmp(kind, "plots");
  if (from_plots) cap = rf__jstr(in, "capture_path") ? rf__jstr(in, "capture_path") : "";
  rf__copy(p->capture, sizeof p->capture, cap);
  rf__copy(p->name, sizeof p->name, rf__basename(ip->valuestring));
  const cJSON *rn = cJSON_GetObjectItemCaseSensitive(in, "radar_name");
  rf__copy(p->radar, sizeof p->radar, cJSON_IsString(rn) ? rn->valuestring : "");
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
  rf__copy(p->device, sizeof p->device, cJSON_IsString(dev) ? dev->valuestring : "");
  p->dwells = rf__json_num(root, "dwells");
  p->seconds = rf__json_num(root, "seconds");
  rf__apply_config(&p->cfg, cJSON_GetObjectItemCaseSensitive(root, "config"), path);

  if ((st = rf_path_join(path, sizeof path, dir, "plots.csv"))) goto done;
  if (!rf__is_file(path) && (st = rf_path_join(path, sizeof path, dir, "plots.h5"))) goto done;
  if (!rf__is_file(path) && from_plots) rf__copy(path, sizeof path, ip->valuestring);
  if (!rf__is_file(path)) {
    st = rf__err(RF_EFORMAT, "%s: no plots.csv or plots.h5%s", dir, from_plots ? ", nor the plot file run.json names" : "");
    goto done;
  }
  if ((st = rf_plots_read(path, &p->plots))) goto done;
  st = rf__read_tracks(p);
done:
  cJSON_Delete(root);
  rf__free(txt);
  return st;
}

static void rf__unload(rf__products *p) {
  rf_plot_list_free(&p->plots);
  rf_track_list_free(&p->tracks);
}

/* Strongest plot, of dwell d (d < 0: of all); NULL when none. */
static const rf_plot *rf__strongest(const rf_plot_list *l, long d) {
  const rf_plot *best = NULL;
  for (size_t i = 0; i < l->n; i++)
    if ((d < 0 || l->v[i].dwell == d) && (!best || l->v[i].snr_db > best->snr_db)) best = &l->v[i];
  return best;
}

/* Beam of the view nearest a direction. */
static size_t rf__nearest_beam(const rf_dwell_view *v, double az, double el) {
  size_t best = 0;
  double bd = INFINITY;
  for (size_t b = 0; b < v->beams; b++) {
    double da = rf_wrap(az - v->geom->beam_az_deg[b], 180.0), de = el - v->geom->beam_el_deg[b];
    double dd = da * da + (v->geom->beams_el > 1 ? de * de : 0);
    if (dd < bd) bd = dd, best = b;
  }
  return best;
}

/* ---- the range-Doppler map --------------------------------------------------------- */
/* Opens the capture named by the products (or opts), warning and returning 1
 * when it cannot be opened. */
static int rf__open_capture(const rf__products *p, const rf_quicklook_opts *o, rf_capture **cap) {
  char alt[2 * RF__PATH];
  const char *path = o->capture ? o->capture : p->capture;
  /* A relative capture path may be relative to the product folder. */
  if (!o->capture && p->capture[0] != '/' && !rf__is_file(path)) {
    if (!rf_path_join(alt, sizeof alt, p->dir, p->capture) && rf__is_file(alt)) path = alt;
    rf_errmsg_clear();
  }
  if (!path[0]) { /* a track run whose plots do not name their capture */
    rf_warn("quicklook: %s: no range-Doppler map: run.json names no capture", p->dir);
    return 1;
  }
  int st = rf_capture_open(cap, path);
  /* A capture asked for by name must open; the one run.json names may
   * have moved since, and the other pictures need none. */
  if (st == RF_ENOMEM || (st && o->capture)) return st;
  if (st) {
    rf_warn("quicklook: %s: no range-Doppler map: %s", p->dir, rf_errmsg());
    rf_errmsg_clear();
    return 1;
  }
  return 0;
}

/* Dwell d of the capture through the CPU engine (the quick look needs its
 * power cube): its plots in dp, the engine kept for the view. */
static int rf__rd_dwell(const rf__products *p, rf_capture *cap, long d, rf_engine **e, rf_plot_list *dp,
                        rf_dwell_view *v) {
  int st;
  if ((st = rf_engine_create_cpu(e, &p->cfg, cap)) || (st = rf_engine_dwell(*e, (size_t)d, dp)) ||
      (st = rf_engine_finish(*e, dp)))
    return st;
  return rf_engine_last_dwell(*e, v);
}

/* The map's frame: range (km) across, radial velocity up. Bin k is f_d =
 * (k - K/2) / (K pri), v = -f_d lambda / 2, so bin 0 (v = +lambda / (4
 * pri)) is the top row. */
static rf_plot_frame rf__rd_frame(const rf_dwell_view *v) {
  const rf_dwell_geom *g = v->geom;
  const size_t S = v->cells, K = v->bins;
  const double cell_km = RF_C_MPS / (2 * g->sample_rate_hz) / 1e3;
  const double r0_km = RF_C_MPS / 2 * g->range_gate_delay_s / 1e3;
  const double dv = g->lambda_m / (2.0 * (double)K * g->pri_s);
  const double vtop = -((0.0 - (double)K / 2) / ((double)K * g->pri_s)) * g->lambda_m / 2;
  return (rf_plot_frame){110, 80, RF_QL_RD_WIDTH - 360, RF_QL_RD_HEIGHT - 90,
                         r0_km - 0.5 * cell_km, r0_km + ((double)S - 0.5) * cell_km,
                         vtop - ((double)K - 0.5) * dv, vtop + 0.5 * dv};
}

/* Beam b's map reduced, peak-preserving, to at most one value per pixel of
 * frame f, in dB (*pool, rf__malloc'd, nx by ny); the blanked notch (power
 * exactly 0) stays NaN and is drawn grey. *peak: the largest value. */
static int rf__rd_pool(const rf_dwell_view *v, size_t b, const rf_plot_frame *f, float **pool, size_t *nx,
                       size_t *ny, double *peak) {
  const size_t S = v->cells, K = v->bins;
  const size_t wpx = (size_t)(f->px1 - f->px0), hpx = (size_t)(f->py1 - f->py0);
  *nx = S < wpx ? S : wpx;
  *ny = K < hpx ? K : hpx;
  if (!(*pool = rf__malloc(*nx * *ny * sizeof **pool))) return rf__err(RF_ENOMEM, "range-Doppler map: out of memory");
  const float *pw = v->power + b * K * S;
  *peak = -INFINITY;
  for (size_t j = 0; j < *ny; j++)
    for (size_t i = 0; i < *nx; i++) {
      float best = -INFINITY;
      for (size_t k = j * K / *ny; k < (j + 1) * K / *ny; k++)
        for (size_t r = i * S / *nx; r < (i + 1) * S / *nx; r++)
          if (pw[k * S + r] > best) best = pw[k * S + r];
      float *q = &(*pool)[j * *nx + i];
      *q = best > 0 ? 10.0f * log10f(best) : NAN;
      if (best > 0 && *q > *peak) *peak = *q;
    }
  return 0;
}

/* Truth (red squares), then the dwell's plots: white rings for beam b,
 * grey for plots that another beam peaked on (both leave the centre open),
 * and their legend. */
static void rf__rd_markers(rf_canvas *cv, const rf_plot_frame *f, const rf__products *p, const rf_truth *truth,
                           long d, const rf_plot_list *dp, const rf_dwell_view *v, long b) {
  const rf_dwell_geom *g = v->geom;
  const double vmax_amb = g->lambda_m / (4 * g->pri_s);
  size_t ntruth = 0;
  for (size_t i = 0; truth && i < truth->rows; i++) {
    if (truth->dwell[i] != d) continue;
    ntruth++;
    rf_draw_marker(cv, f, truth->range_m[i] / 1e3, rf_wrap(truth->radial_velocity_mps[i], vmax_amb),
                   RF_MARK_SQUARE, 22, RF_RGB_RED, 2);
  }
  size_t here = 0, other = 0;
  for (size_t i = 0; i < dp->n; i++) {
    int mine = rf__nearest_beam(v, dp->v[i].azimuth_deg, dp->v[i].elevation_deg) == (size_t)b;
    mine ? here++ : other++;
    rf_draw_marker(cv, f, dp->v[i].range_m / 1e3, dp->v[i].radial_velocity_mps, RF_MARK_CIRCLE, mine ? 14 : 11,
                   mine ? RF_RGB_WHITE : (rf_rgb){0.7, 0.7, 0.7}, mine ? 2 : 1.5);
  }
  rf_legend_entry le[4];
  size_t nl = 0;
  char l0[64], l1[64], l2[64];
  snprintf(l0, sizeof l0, "plot, this beam (%zu)", here);
  snprintf(l1, sizeof l1, "plot, other beam (%zu)", other);
  snprintf(l2, sizeof l2, "truth (%zu)", ntruth);
  le[nl++] = (rf_legend_entry){l0, RF_MARK_CIRCLE, RF_RGB_WHITE};
  le[nl++] = (rf_legend_entry){l1, RF_MARK_CIRCLE, {0.7, 0.7, 0.7}};
  if (truth) le[nl++] = (rf_legend_entry){l2, RF_MARK_SQUARE, RF_RGB_RED};
  if (p->cfg.clutter_filter == RF_CLUTTER_NOTCH)
    le[nl++] = (rf_legend_entry){"clutter notch (blanked)", RF_MARK_DOT, {0.85, 0.85, 0.85}};
  rf_draw_legend(cv, f->px1 + 125, f->py0, le, nl, 1);
}

/* The dwell and beam of the map: the options', else the strongest plot's
 * (of the capture, then of the dwell). */
static int rf__rd_pick(const rf__products *p, const rf_quicklook_opts *o, const rf_capture *cap, long *d) {
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  *d = o->dwell;
  if (*d < 0) {
    const rf_plot *s = rf__strongest(&p->plots, -1);
    *d = s && s->dwell >= 0 && (size_t)s->dwell < m->dwells ? s->dwell : 0;
  }
  if ((size_t)*d >= m->dwells)
    return rf__err(RF_EINVAL, "%s: --dwell %ld: the capture has %zu dwells (0 to %zu)", rf_capture_path(cap), *d,
                   m->dwells, m->dwells - 1);
  return 0;
}

static int rf__rd_beam(const rf__products *p, const rf_quicklook_opts *o, const rf_capture *cap, long d,
                       const rf_dwell_view *v, long *b) {
  *b = o->beam;
  if (*b < 0) {
    const rf_plot *s = rf__strongest(&p->plots, d);
    *b = s ? (long)rf__nearest_beam(v, s->azimuth_deg, s->elevation_deg) : (long)(v->beams / 2);
  }
  if ((size_t)*b >= v->beams)
    return rf__err(RF_EINVAL, "%s: --beam %ld: dwell %ld has %zu beams (0 to %zu)", rf_capture_path(cap), *b, d,
                   v->beams, v->beams - 1);
  return 0;
}

static int rf__draw_rd(const rf__products *p, const rf_quicklook_opts *o, const char *qdir,
                       rf_quicklook_result *res) {
  rf_capture *cap = NULL;
  rf_engine *e = NULL;
  rf_truth *truth = NULL;
  rf_canvas *cv = NULL;
  rf_plot_list dp = {0};
  float *pool = NULL;
  rf_dwell_view v;
  long d, b;
  size_t nx, ny;
  double peak = -INFINITY;
  int st = rf__open_capture(p, o, &cap);
  if (st) return st > 0 ? 0 : st;
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  if ((st = rf__rd_pick(p, o, cap, &d)) || (st = rf__rd_dwell(p, cap, d, &e, &dp, &v)) ||
      (m->has_truth && (st = rf_capture_read_truth(cap, &truth))) || (st = rf__rd_beam(p, o, cap, d, &v, &b)))
    goto done;
  const rf_plot_frame f = rf__rd_frame(&v);
  if ((st = rf__rd_pool(&v, (size_t)b, &f, &pool, &nx, &ny, &peak))) goto done;
  /* Colour scale: from a little under the noise floor (mean power 1 = 0 dB
   * in these units) to the map's peak, in 5 dB steps, at least 30 dB. */
  double vmin = -10, vmax = isfinite(peak) ? rf__nice_ceil(peak, 5) : 30;
  if (vmax < vmin + 30) vmax = vmin + 30;
  res->rd = f;
  res->rd_vmin_db = vmin;
  res->rd_vmax_db = vmax;

  if ((st = rf_canvas_create(&cv, RF_QL_RD_WIDTH, RF_QL_RD_HEIGHT))) goto done;
  const rf_dwell_geom *g = v.geom;
  char title[600], sub[600], tb[64];
  snprintf(title, sizeof title, "Range-Doppler map \xe2\x80\x94 %s", p->name);
  rf__utc(g->time_s, tb, sizeof tb);
  snprintf(sub, sizeof sub,
           "dwell %ld of %zu, beam %ld of %zu (az %.1f\xc2\xb0, el %.1f\xc2\xb0), %d pulses, "
           "%zu Doppler bins, %s",
           d, m->dwells, b, v.beams, g->beam_az_deg[b], g->beam_el_deg[b], (int)m->num_pulses[d], v.bins, tb);
  rf_draw_title(cv, title, sub);
  if ((st = rf_draw_heatmap(cv, &f, pool, nx, ny, vmin, vmax))) goto done;
  rf_draw_axes(cv, &f, "range (km)", "radial velocity (m/s, + receding)", 0);
  rf_draw_colorbar(cv, f.px1 + 30, f.py0, 22, f.py1 - f.py0, vmin, vmax, "power / noise (dB)");
  rf__rd_markers(cv, &f, p, truth, d, &dp, &v, b);

  snprintf(res->rd_png, sizeof res->rd_png, "rd_dwell%ld_beam%ld.png", d, b);
  char path[RF__PATH + 128];
  if ((st = rf_path_join(path, sizeof path, qdir, res->rd_png)) || (st = rf_canvas_write_png(cv, path))) {
    res->rd_png[0] = 0;
    goto done;
  }
  res->has_rd = 1;
  res->dwell = d;
  res->beam = b;
done:
  rf_canvas_destroy(cv);
  rf__free(pool);
  rf_plot_list_free(&dp);
  rf_truth_free(truth);
  rf_engine_destroy(e);
  rf_capture_close(cap);
  return st;
}

/* ---- plan view and time plots ------------------------------------------------------- */
/* Plots' SNR colour scale, dB. */
static void rf__snr_scale(const rf_plot_list *l, double *lo, double *hi) {
  double mx = 0;
  for (size_t i = 0; i < l->n; i++)
    if (isfinite(l->v[i].snr_db) && l->v[i].snr_db > mx) mx = l->v[i].snr_db;
  *lo = 0;
  *hi = rf__nice_ceil(mx > 20 ? mx : 20, 5);
}

static rf_rgb rf__snr_col(double snr, double lo, double hi) {
  uint8_t c[3];
  rf_colormap_viridis((snr - lo) / (hi - lo), c);
  return (rf_rgb){c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}

/* Draws every track as segments coloured by the status at their end.
 * xy(row, &x, &y) gives a row's coordinates; fold > 0 wraps y into
 * [-fold/2, fold/2) (velocities as the radar measures them) and marks each
 * update with a cross instead: a line between folded values means nothing. */
typedef void (*rf__xy_fn)(const rf_track_row *r, double t0, double *x, double *y);
static void rf__draw_tracks(rf_canvas *cv, const rf_plot_frame *f, const rf__products *p, double t0, rf__xy_fn xy,
                            double fold) {
  for (size_t i = 0; i < p->tracks.n; i++) {
    const rf_track_row *r = &p->tracks.v[i];
    double x[2], y[2];
    xy(r, t0, &x[1], &y[1]);
    if (fold > 0) {
      rf_draw_marker(cv, f, x[1], rf_wrap(y[1], fold / 2), RF_MARK_CROSS, 9, rf__status_col[r->status], 2);
      continue;
    }
    int first = i == 0 || p->tracks.v[i - 1].track_id != r->track_id;
    int last = i + 1 == p->tracks.n || p->tracks.v[i + 1].track_id != r->track_id;
    if (!first) {
      xy(&p->tracks.v[i - 1], t0, &x[0], &y[0]);
      rf_draw_polyline(cv, f, x, y, 2, rf__status_col[r->status], 2.5);
    }
    if (first && last) rf_draw_marker(cv, f, x[1], y[1], RF_MARK_DIAMOND, 9, rf__status_col[r->status], 2);
  }
}

/* Each track's id at its last update, where the label collides with no
 * other label nor anything reserved in l. *omitted: labels with no room. */
static int rf__label_tracks(rf_canvas *cv, rf_labels *l, const rf_plot_frame *f, const rf__products *p, double t0,
                            rf__xy_fn xy, double fold, size_t *omitted) {
  for (size_t i = 0; i < p->tracks.n; i++) {
    const rf_track_row *r = &p->tracks.v[i];
    if (i + 1 < p->tracks.n && p->tracks.v[i + 1].track_id == r->track_id) continue;
    double x, y;
    char id[32];
    xy(r, t0, &x, &y);
    if (fold > 0) y = rf_wrap(y, fold / 2);
    if (x < fmin(f->x0, f->x1) || x > fmax(f->x0, f->x1) || y < fmin(f->y0, f->y1) || y > fmax(f->y0, f->y1))
      continue;
    snprintf(id, sizeof id, "T%d", (int)r->track_id);
    int k = rf_label_place(cv, l, f, x, y, id, 13, rf__status_col[r->status]);
    if (k < 0) return k;
    if (k == 0 && omitted) (*omitted)++;
  }
  return 0;
}

static void rf__xy_en(const rf_track_row *r, double t0, double *x, double *y) {
  (void)t0;
  *x = r->east_m / 1e3;
  *y = r->north_m / 1e3;
}
static void rf__xy_tr(const rf_track_row *r, double t0, double *x, double *y) {
  *x = r->time_s - t0;
  *y = r->range_m / 1e3;
}
static void rf__xy_tv(const rf_track_row *r, double t0, double *x, double *y) {
  *x = r->time_s - t0;
  *y = r->radial_velocity_mps;
}

/* Legend of the track statuses present, after `pre` entries. */
static size_t rf__status_legend(const rf__products *p, rf_legend_entry *le, size_t n) {
  for (int s = 0; s < RF_TRACK_STATUS_COUNT; s++)
    for (size_t i = 0; i < p->tracks.n; i++)
      if (p->tracks.v[i].status == s) {
        le[n++] = (rf_legend_entry){rf_track_status_name(s), -1, rf__status_col[s]};
        break;
      }
  return n;
}

/* Instrumented range (km) and unambiguous velocity (m/s) from the capture,
 * when it can be opened, else NaN. */
typedef struct rf__extent {
  double range_km, vmax_mps;
} rf__extent;

static void rf__capture_extent(const rf__products *p, const rf_quicklook_opts *o, rf__extent *e) {
  e->range_km = e->vmax_mps = NAN;
  rf_capture *cap = NULL;
  int saved = rf_log_level;
  rf_log_level = -1; /* rf__draw_rd already warned */
  int st = rf__open_capture(p, o, &cap);
  rf_log_level = saved;
  if (st) return;
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  e->range_km = RF_C_MPS / 2 * (m->range_gate_delay_s + (double)m->samples / m->sample_rate_hz) / 1e3;
  e->vmax_mps = RF_C_MPS / m->center_frequency_hz / (4 * m->pri_s);
  rf_capture_close(cap);
}

/* Reserves the box of text drawn by rf_draw_text at (px, py). */
static int rf__reserve_text(rf_canvas *cv, rf_labels *l, double px, double py, const char *text, double size,
                            int align, int bold) {
  double w = rf_text_width(cv, text, size, bold);
  double x0 = align == 1 ? px - w / 2 : align == 2 ? px - w : px;
  return rf_labels_reserve(l, x0 - 2, py - size / 2 - 2, x0 + w + 2, py + size / 2 + 2);
}

static int rf__draw_ppi(const rf__products *p, const rf__extent *ext, const char *qdir,
                        rf_quicklook_result *res) {
  rf_canvas *cv = NULL;
  rf_labels lab = {0};
  int st;
  double rmax = isfinite(ext->range_km) ? ext->range_km : 0;
  for (size_t i = 0; i < p->plots.n; i++) rmax = fmax(rmax, p->plots.v[i].range_m / 1e3);
  for (size_t i = 0; i < p->tracks.n; i++)
    rmax = fmax(rmax, hypot(p->tracks.v[i].east_m, p->tracks.v[i].north_m) / 1e3);
  if (!(rmax > 0)) rmax = 10;
  double ring = rf_nice_step(rmax, 5);
  double R = rf__nice_ceil(rmax * 1.02, ring);
  rf_plot_frame f = {120, 80, 120 + 800, 80 + 800, -R, R, -R, R};
  res->ppi = f;
  if ((st = rf_canvas_create(&cv, RF_QL_PPI_WIDTH, RF_QL_PPI_HEIGHT))) return st;
  rf_draw_axes(cv, &f, "east (km)", "north (km)", 0);
  const rf_rgb grid = {0.72, 0.72, 0.72}, faint = {0.45, 0.45, 0.45};
  /* Ring and bearing labels, the site and the legend are laid out first:
   * track labels go where none of them is. */
  for (double r = ring; r <= R + 1e-9 && !st; r += ring) {
    rf_draw_circle(cv, &f, 0, 0, r, grid, 1, 0);
    char lab_r[32];
    double px, py;
    snprintf(lab_r, sizeof lab_r, "%g km", r);
    rf_draw_text_at(cv, &f, r * sin(RF_PI * 0.75), r * cos(RF_PI * 0.75), 3, 8, lab_r, 11, faint);
    rf_plot_frame_pixel(&f, r * sin(RF_PI * 0.75), r * cos(RF_PI * 0.75), &px, &py);
    st = rf__reserve_text(cv, &lab, px + 3, py + 8, lab_r, 11, 0, 1);
  }
  for (int az = 0; az < 360 && !st; az += 30) {
    double sn = sin(az * RF_PI / 180), cs = cos(az * RF_PI / 180);
    rf_draw_segment(cv, &f, 0, 0, R * sn, R * cs, grid, 1, 4);
    char lab_a[16];
    snprintf(lab_a, sizeof lab_a, "%d\xc2\xb0", az);
    double px, py;
    rf_plot_frame_pixel(&f, 0.93 * R * sn, 0.93 * R * cs, &px, &py);
    rf_draw_text(cv, px, py, lab_a, 12, 1, 1, 0, 0, faint);
    st = rf__reserve_text(cv, &lab, px, py, lab_a, 12, 1, 0);
  }
  double cx, cy, lw, lh, lo, hi;
  rf_plot_frame_pixel(&f, 0, 0, &cx, &cy);
  rf__snr_scale(&p->plots, &lo, &hi);
  rf_legend_entry le[6] = {{"plot (colour: SNR)", RF_MARK_DOT, rf__snr_col(hi, lo, hi)},
                           {"site", RF_MARK_DIAMOND, RF_RGB_BLACK}};
  size_t nl = rf__status_legend(p, le, 2), omitted = 0;
  rf_legend_size(cv, le, nl, &lw, &lh);
  if (!st) st = rf_labels_reserve(&lab, cx - 8, cy - 8, cx + 8, cy + 8);
  if (!st) st = rf_labels_reserve(&lab, f.px0 + 8, f.py0 + 8, f.px0 + 8 + lw, f.py0 + 8 + lh);
  rf_draw_marker(cv, &f, 0, 0, RF_MARK_DIAMOND, 12, RF_RGB_BLACK, 2);
  rf__draw_tracks(cv, &f, p, 0, rf__xy_en, 0);
  for (size_t i = 0; i < p->plots.n; i++)
    rf_draw_marker(cv, &f, p->plots.v[i].east_m / 1e3, p->plots.v[i].north_m / 1e3, RF_MARK_DOT, 7,
                   rf__snr_col(p->plots.v[i].snr_db, lo, hi), 1);
  if (!st) st = rf__label_tracks(cv, &lab, &f, p, 0, rf__xy_en, 0, &omitted);
  rf_draw_colorbar(cv, f.px1 + 30, f.py0, 20, f.py1 - f.py0, lo, hi, "plot SNR (dB)");
  rf_draw_legend(cv, f.px0 + 8, f.py0 + 8, le, nl, 0);
  char title[600], sub[600];
  snprintf(title, sizeof title, "Plan view \xe2\x80\x94 %s", p->name);
  snprintf(sub, sizeof sub, "%zu plots, %zu confirmed tracks (%zu track ids); site at the centre, rings every %g km",
           p->plots.n, p->nconfirmed, p->nids, ring);
  if (omitted) {
    size_t l = strlen(sub);
    snprintf(sub + l, sizeof sub - l, "; %zu track labels left out where they would overlap", omitted);
  }
  rf_draw_title(cv, title, sub);
  char path[RF__PATH + 64];
  if (!st && !(st = rf_path_join(path, sizeof path, qdir, RF_QL_PPI_PNG))) st = rf_canvas_write_png(cv, path);
  rf_labels_free(&lab);
  rf_canvas_destroy(cv);
  return st;
}

/* The velocity ambiguity (half-width of the interval the plots' radial
 * velocity is folded into), m/s: the capture's lambda / (4 PRI), else half
 * plots.h5's radial_velocity_interval_mps; NaN when neither is known. */
static double rf__ambiguity(const rf__products *p, const rf__extent *ext) {
  if (isfinite(ext->vmax_mps) && ext->vmax_mps > 0) return ext->vmax_mps;
  char path[RF__PATH + 32];
  rf_plots_attrs at;
  double v = NAN;
  if (!rf_path_join(path, sizeof path, p->dir, "plots.h5") && rf__is_file(path) && !rf_plots_read_attrs(path, &at)) {
    if (at.radial_velocity_interval_mps > 0) v = at.radial_velocity_interval_mps / 2;
    rf_plots_attrs_free(&at);
  }
  rf_errmsg_clear();
  return v;
}

/* The colour of the velocity ambiguity's dashed lines. */
static const rf_rgb rf__amb_col = {0.10, 0.10, 0.35};

static void rf__amb_lines(rf_canvas *cv, const rf_plot_frame *f, double vamb) {
  if (!(vamb > 0) || vamb > f->y1) return;
  const rf_rgb c = rf__amb_col;
  rf_draw_segment(cv, f, f->x0, vamb, f->x1, vamb, c, 1, 5);
  rf_draw_segment(cv, f, f->x0, -vamb, f->x1, -vamb, c, 1, 5);
}

static int rf__draw_time(const rf__products *p, const rf__extent *ext, const char *qdir,
                         rf_quicklook_result *res) {
  rf_canvas *cv = NULL;
  rf_labels lab = {0};
  int st;
  double t0 = INFINITY, t1 = -INFINITY, rmax = isfinite(ext->range_km) ? ext->range_km : 0;
  const double vamb = rf__ambiguity(p, ext);
  double vm = vamb > 0 ? vamb : 0, vtrack = 0;
  for (size_t i = 0; i < p->plots.n; i++) {
    const rf_plot *q = &p->plots.v[i];
    t0 = fmin(t0, q->time_s), t1 = fmax(t1, q->time_s);
    rmax = fmax(rmax, q->range_m / 1e3);
    vm = fmax(vm, fabs(q->radial_velocity_mps));
  }
  for (size_t i = 0; i < p->tracks.n; i++) {
    const rf_track_row *r = &p->tracks.v[i];
    t0 = fmin(t0, r->time_s), t1 = fmax(t1, r->time_s);
    rmax = fmax(rmax, r->range_m / 1e3);
    if (isfinite(r->radial_velocity_mps)) vtrack = fmax(vtrack, fabs(r->radial_velocity_mps));
  }
  /* Tracks faster than the ambiguity: the plots' velocities are folded and
   * the tracks' are not, so each gets its own panel; else one panel. */
  const int folded = vamb > 0 && vtrack > vamb;
  if (!folded) vm = fmax(vm, vtrack);
  if (!isfinite(t0)) t0 = t1 = 0;
  double span = t1 - t0, pad = span > 0 ? 0.03 * span : 0.5;
  if (!(rmax > 0)) rmax = 10;
  if (!(vm > 0)) vm = 10;
  if (!(vtrack > 0)) vtrack = 10;
  rmax = rf__nice_ceil(rmax, rf_nice_step(rmax, 5));
  const double x1 = RF_QL_TIME_WIDTH - 350;
  rf_plot_frame fr = {110, 80, x1, folded ? 330 : 430, -pad, span + pad, 0, rmax};
  rf_plot_frame fv = {110, folded ? 390 : 510, x1, folded ? 600 : 860, -pad, span + pad, -vm * 1.05, vm * 1.05};
  rf_plot_frame ft = {110, 660, x1, 860, -pad, span + pad, -vtrack * 1.05, vtrack * 1.05};
  res->range_t = fr;
  res->vel_t = fv;
  res->vel_track_t = folded ? ft : fv;
  res->vel_folded = folded;
  res->vel_ambiguity_mps = vamb;
  res->time0_s = t0;
  if ((st = rf_canvas_create(&cv, RF_QL_TIME_WIDTH, RF_QL_TIME_HEIGHT))) return st;
  char title[600], sub[600], tb[64], xl[128], vl[160];
  snprintf(title, sizeof title, "Range and radial velocity against time \xe2\x80\x94 %s", p->name);
  rf__utc(t0, tb, sizeof tb);
  snprintf(sub, sizeof sub, "%zu plots, %zu confirmed tracks (%zu track ids, %zu updates), from %s", p->plots.n,
           p->nconfirmed, p->nids, p->tracks.n, tb);
  rf_draw_title(cv, title, sub);
  snprintf(xl, sizeof xl, "time since %s (s)", tb);
  rf_draw_axes(cv, &fr, NULL, "range (km)", 1);
  /* Each velocity panel says what it shows above it. */
  const rf_rgb cap_col = {0.2, 0.2, 0.2};
  if (folded) {
    rf_draw_axes(cv, &fv, NULL, "radial velocity (m/s)", 1);
    rf_draw_axes(cv, &ft, xl, "radial velocity (m/s)", 1);
    snprintf(vl, sizeof vl,
             "As measured: plots, and tracks (crosses), folded into \xc2\xb1%.4g m/s, the velocity ambiguity "
             "\xce\xbb/(4 PRI)",
             vamb);
    rf_draw_text(cv, fv.px0, fv.py0 - 10, vl, 13, 0, 0, 0, 1, cap_col);
    rf_draw_text(cv, ft.px0, ft.py0 - 10, "Tracks: radial velocity of the estimated state, unfolded", 13, 0, 0, 0, 1,
                 cap_col);
  } else {
    rf_draw_axes(cv, &fv, xl, "radial velocity (m/s)", 1);
    if (vamb > 0)
      snprintf(vl, sizeof vl, "Plots and tracks; unambiguous within \xc2\xb1%.4g m/s, \xce\xbb/(4 PRI)", vamb);
    else
      snprintf(vl, sizeof vl, "Plots and tracks");
    rf_draw_text(cv, fv.px0, fv.py0 - 10, vl, 13, 0, 0, 0, 1, cap_col);
  }
  rf__amb_lines(cv, &fv, vamb);
  /* Tracks under the plots, so the plots they follow stay visible. In the
   * measured panel the tracks are folded as the radar folds them. */
  rf__draw_tracks(cv, &fr, p, t0, rf__xy_tr, 0);
  rf__draw_tracks(cv, &fv, p, t0, rf__xy_tv, folded ? 2 * vamb : 0);
  if (folded) rf__draw_tracks(cv, &ft, p, t0, rf__xy_tv, 0);
  double lo, hi;
  rf__snr_scale(&p->plots, &lo, &hi);
  for (size_t i = 0; i < p->plots.n; i++) {
    const rf_plot *q = &p->plots.v[i];
    rf_rgb c = rf__snr_col(q->snr_db, lo, hi);
    rf_draw_marker(cv, &fr, q->time_s - t0, q->range_m / 1e3, RF_MARK_DOT, 7, c, 1);
    rf_draw_marker(cv, &fv, q->time_s - t0, q->radial_velocity_mps, RF_MARK_DOT, 7, c, 1);
  }
  st = rf__label_tracks(cv, &lab, &fr, p, t0, rf__xy_tr, 0, NULL);
  if (!st) st = rf__label_tracks(cv, &lab, &fv, p, t0, rf__xy_tv, folded ? 2 * vamb : 0, NULL);
  if (!st && folded) st = rf__label_tracks(cv, &lab, &ft, p, t0, rf__xy_tv, 0, NULL);
  const rf_plot_frame *bottom = folded ? &ft : &fv;
  rf_draw_colorbar(cv, fr.px1 + 30, fr.py0, 20, bottom->py1 - fr.py0, lo, hi, "plot SNR (dB)");
  rf_legend_entry le[8] = {{"plot (colour: SNR)", RF_MARK_DOT, rf__snr_col(hi, lo, hi)}};
  size_t nl = rf__status_legend(p, le, 1);
  if (folded) le[nl++] = (rf_legend_entry){"track, folded", RF_MARK_CROSS, rf__status_col[RF_TRACK_CONFIRMED]};
  if (vamb > 0) le[nl++] = (rf_legend_entry){"\xc2\xb1 ambiguity (dashed)", -1, rf__amb_col};
  rf_draw_legend(cv, fr.px1 + 125, fr.py0, le, nl, 0);
  char path[RF__PATH + 64];
  if (!st && !(st = rf_path_join(path, sizeof path, qdir, RF_QL_TIME_PNG))) st = rf_canvas_write_png(cv, path);
  rf_labels_free(&lab);
  rf_canvas_destroy(cv);
  return st;
}

/* ---- index.html --------------------------------------------------------------------- */
/* A growing text buffer; on allocation failure it sets oom and stops. */
typedef struct rf__text {
  char *s;
  size_t n, cap;
  int oom;
} rf__text;

static void rf__put(rf__text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rf__put(rf__text *t, const char *fmt, ...) {
  if (t->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (t->s && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 8192;
    while (cap < t->n + (size_t)k + 1) cap *= 2;
    char *p = rf__realloc(t->s, cap);
    if (!p) {
      t->oom = 1;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
}

/* HTML text, escaped. */
static void rf__put_esc(rf__text *t, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': rf__put(t, "&amp;"); break;
    case '<': rf__put(t, "&lt;"); break;
    case '>': rf__put(t, "&gt;"); break;
    case '"': rf__put(t, "&quot;"); break;
    case '\'': rf__put(t, "&#39;"); break;
    default: rf__put(t, "%c", *s);
    }
  }
}

/* A relative URL path, each byte outside [A-Za-z0-9/._~-] percent-encoded. */
static void rf__put_url(rf__text *t, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("/._~-", c))
      rf__put(t, "%c", c);
    else
      rf__put(t, "%%%02X", c);
  }
}

static void rf__html_head(rf__text *t, const char *title) {
  rf__put(t, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
  rf__put_esc(t, title);
  rf__put(t, "</title>\n<style>\n"
             "body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#111;background:#fff}\n"
             "table{border-collapse:collapse;margin:0.5em 0 1em}\n"
             "td,th{border:1px solid #bbb;padding:0.25em 0.6em;text-align:left}\n"
             "th{background:#eee}td.num{text-align:right}\n"
             /* Summary rows by status: done green, failed red, interrupted
              * or not drawn amber, skipped and others neutral. */
             "tr.st-good td{background:#dff3df}tr.st-bad td{background:#f8d7d7}\n"
             "tr.st-warn td{background:#fdecc8}tr.st-neutral td{background:#f2f2f2}\n"
             ".failed{color:#b00}.imgs img{max-width:100%%;height:auto;border:1px solid #ccc;"
             "margin:0.3em 0.3em 0.3em 0;vertical-align:top}\n"
             "section{margin-bottom:2em}\n</style>\n</head>\n");
  /* On load, the body records how many images decoded and any script
   * errors, so a headless browser (tests/chromium/screenshot.sh) can check. */
  rf__put(t, "<body data-images-total=\"0\" data-images-loaded=\"0\">\n"
             "<script>\nwindow.addEventListener('load',function(){"
             "var im=document.images,n=0;for(var i=0;i<im.length;i++)"
             "if(im[i].complete&&im[i].naturalWidth>0)n++;"
             "document.body.setAttribute('data-images-total',im.length);"
             "document.body.setAttribute('data-images-loaded',n);});\n</script>\n");
  rf__put(t, "<h1>");
  rf__put_esc(t, title);
  rf__put(t, "</h1>\n");
}

static void rf__html_num(rf__text *t, double v, const char *fmt) {
  if (isfinite(v)) {
    rf__put(t, "<td class=\"num\">");
    rf__put(t, fmt, v);
    rf__put(t, "</td>");
  } else {
    rf__put(t, "<td></td>");
  }
}

/* The images of one capture; prefix is the path from the page to its
 * quicklook folder ("" or "../NAME/quicklook/"). */
static void rf__html_images(rf__text *t, const char *prefix, const rf_quicklook_result *r) {
  const char *names[3] = {r->rd_png[0] ? r->rd_png : NULL, RF_QL_PPI_PNG, RF_QL_TIME_PNG};
  const char *alts[3] = {"range-Doppler map", "plan view of plots and tracks",
                         "range and radial velocity against time"};
  const int w[3] = {RF_QL_RD_WIDTH, RF_QL_PPI_WIDTH, RF_QL_TIME_WIDTH};
  const int h[3] = {RF_QL_RD_HEIGHT, RF_QL_PPI_HEIGHT, RF_QL_TIME_HEIGHT};
  rf__put(t, "<div class=\"imgs\">\n");
  for (int i = 0; i < 3; i++) {
    if (!names[i]) continue;
    rf__put(t, "<a href=\"");
    rf__put_url(t, prefix);
    rf__put_url(t, names[i]);
    rf__put(t, "\"><img src=\"");
    rf__put_url(t, prefix);
    rf__put_url(t, names[i]);
    rf__put(t, "\" width=\"%d\" height=\"%d\" alt=\"", w[i] / 2, h[i] / 2);
    rf__put_esc(t, alts[i]);
    rf__put(t, " of ");
    rf__put_esc(t, r->capture_name);
    rf__put(t, "\"></a>\n");
  }
  rf__put(t, "</div>\n");
}

static int rf__write_text(rf__text *t, const char *path) {
  if (t->oom) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  return rf_write_file_atomic(path, t->s, t->n);
}

static const char rf__row_head[] =
    "<tr><th>capture</th><th>status</th><th>dwells</th><th>plots</th><th>tracks</th>"
    "<th>seconds</th><th>device</th><th>error</th></tr>\n";

/* ---- the files quicklook made ------------------------------------------------------------
 * OUTDIR/quicklook/.radarflow-quicklook lists what quicklook wrote there:
 * a first line "products <hash of run.json>", then one file name a line.
 * Only files it lists are ever removed. Pictures of the same products stay
 * side by side (maps of several dwells); once the products change (a new
 * run.json), every listed picture the new drawing did not rewrite goes. */
#define RF__QL_FILES_MAX 64

typedef struct rf__ql_files {
  uint64_t products;            /* FNV-1a of run.json; 0 unknown */
  size_t n;
  char name[RF__QL_FILES_MAX][80];
} rf__ql_files;

static int rf__ql_has(const rf__ql_files *f, const char *name) {
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp(f->name[i], name)) return 1;
  return 0;
}

static void rf__ql_add(rf__ql_files *f, const char *name) {
  /* Plain names only: nothing outside the folder, no hidden files. */
  if (!name[0] || name[0] == '.' || strchr(name, '/') || strlen(name) >= sizeof f->name[0]) return;
  if (rf__ql_has(f, name) || f->n == RF__QL_FILES_MAX) return;
  snprintf(f->name[f->n++], sizeof f->name[0], "%s", name);
}

/* The list in qdir (empty when there is none or it is unreadable). */
static void rf__ql_read_files(const char *qdir, rf__ql_files *f) {
  char path[RF__PATH + 64], *txt = NULL;
  memset(f, 0, sizeof *f);
  if (rf_path_join(path, sizeof path, qdir, RF_QL_MANIFEST) || !rf__is_file(path) ||
      rf_slurp(path, (size_t)1 << 20, &txt, NULL)) {
    rf_errmsg_clear();
    return;
  }
  char *save = NULL;
  for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    unsigned long long h;
    if (sscanf(line, "products %llx", &h) == 1) f->products = h;
    else rf__ql_add(f, line);
  }
  rf__free(txt);
}

static int rf__ql_write_files(const char *qdir, const rf__ql_files *f) {
  char path[RF__PATH + 64];
  rf__text t = {0};
  int st = rf_path_join(path, sizeof path, qdir, RF_QL_MANIFEST);
  if (st) return st;
  rf__put(&t, "products %016llx\n", (unsigned long long)f->products);
  for (size_t i = 0; i < f->n; i++) rf__put(&t, "%s\n", f->name[i]);
  st = rf__write_text(&t, path);
  rf__free(t.s);
  return st;
}

/* Removes the listed files that `keep` lacks (keep NULL: all). */
static void rf__ql_remove_files(const char *qdir, const rf__ql_files *old, const rf__ql_files *keep) {
  for (size_t i = 0; i < old->n; i++) {
    char path[RF__PATH + 128];
    if (keep && rf__ql_has(keep, old->name[i])) continue;
    if (!rf_path_join(path, sizeof path, qdir, old->name[i]) && rf__is_file(path)) remove(path);
  }
  rf_errmsg_clear();
}

static uint64_t rf__ql_products_hash(const char *outdir) {
  char path[RF__PATH + 32], *txt = NULL;
  size_t len = 0;
  uint64_t h = 0;
  if (!rf_path_join(path, sizeof path, outdir, "run.json") && !rf_slurp(path, RF__JSON_MAX, &txt, &len))
    h = rf_fnv1a64(RF_FNV1A64_INIT, txt, len);
  rf__free(txt);
  rf_errmsg_clear();
  return h;
}

int rf_quicklook_present(const char *outdir) {
  char path[RF__PATH + 64];
  int ok = !rf_path_join(path, sizeof path, outdir, RF_QL_DIR "/" RF_QL_MANIFEST) && rf__is_file(path);
  rf_errmsg_clear();
  return ok;
}

int rf_quicklook_remove(const char *outdir) {
  char qdir[RF__PATH + 32], path[RF__PATH + 64];
  int st = rf_path_join(qdir, sizeof qdir, outdir, RF_QL_DIR);
  if (st || !rf_quicklook_present(outdir)) return st;
  rf__ql_files old;
  rf__ql_read_files(qdir, &old);
  rf__ql_remove_files(qdir, &old, NULL);
  if (!rf_path_join(path, sizeof path, qdir, RF_QL_MANIFEST)) remove(path);
  rmdir(qdir); /* only when empty: anything of the user's stays */
  rf_errmsg_clear();
  return 0;
}

/* Records the quick-look folder and exactly the files quicklook listed as
 * its own in the product folder's marker (rf_products_adopt). */
static int rf__ql_adopt(const char *outdir) {
  char qdir[RF__PATH + 32];
  int st = rf_path_join(qdir, sizeof qdir, outdir, RF_QL_DIR);
  if (st) return st;
  rf__ql_files *f = rf__malloc(sizeof *f);
  char(*names)[RF__PATH] = rf__malloc((RF__QL_FILES_MAX + 2) * sizeof *names);
  const char **v = rf__malloc((RF__QL_FILES_MAX + 2) * sizeof *v);
  if (!f || !names || !v) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", outdir);
    goto done;
  }
  rf__ql_read_files(qdir, f);
  size_t n = 0;
  snprintf(names[n++], sizeof names[0], "%s/", RF_QL_DIR);
  snprintf(names[n++], sizeof names[0], "%s/%s", RF_QL_DIR, RF_QL_MANIFEST);
  for (size_t i = 0; i < f->n; i++) snprintf(names[n++], sizeof names[0], "%s/%s", RF_QL_DIR, f->name[i]);
  for (size_t i = 0; i < n; i++) v[i] = names[i];
  st = rf_products_adopt(outdir, v, n);
done:
  rf__free(v);
  rf__free(names);
  rf__free(f);
  return st;
}

/* ---- one product folder ---------------------------------------------------------------- */
void rf_quicklook_opts_default(rf_quicklook_opts *o) {
  o->dwell = -1;
  o->beam = -1;
  o->capture = NULL;
}

static int rf__product_files(const char *outdir, const rf_quicklook_opts *o, rf_quicklook_result *res,
                             rf__products *p, const char *qdir, rf__ql_files *made);

/* One product folder's pictures and page, and the list of what quicklook
 * made there (stale pictures of earlier products removed). */
static int rf__product(const char *outdir, const rf_quicklook_opts *o, rf_quicklook_result *res,
                       rf__products *p) {
  char qdir[RF__PATH + 32];
  int st;
  memset(res, 0, sizeof *res);
  res->dwell = res->beam = -1;
  if ((st = rf__load(p, outdir))) return st;
  if ((st = rf_path_join(qdir, sizeof qdir, outdir, RF_QL_DIR)) || (st = rf_mkdirs(qdir))) return st;
  rf__ql_files *old = rf__calloc(2, sizeof *old), *made = old ? old + 1 : NULL;
  if (!old) return rf__err(RF_ENOMEM, "%s: out of memory", outdir);
  rf__ql_read_files(qdir, old);
  made->products = rf__ql_products_hash(outdir);
  /* The same products: their earlier pictures (other dwells) stay. */
  if (made->products && made->products == old->products)
    for (size_t i = 0; i < old->n; i++) rf__ql_add(made, old->name[i]);
  st = rf__product_files(outdir, o, res, p, qdir, made);
  if (!st) {
    rf__ql_remove_files(qdir, old, made);
  } else { /* keep listing what is there, so a later run can remove it */
    for (size_t i = 0; i < old->n; i++) rf__ql_add(made, old->name[i]);
  }
  int wst = rf__ql_write_files(qdir, made);
  rf__free(old);
  return st ? st : wst;
}

static int rf__product_files(const char *outdir, const rf_quicklook_opts *o, rf_quicklook_result *res,
                             rf__products *p, const char *qdir, rf__ql_files *made) {
  int st;
  rf__copy(res->capture_name, sizeof res->capture_name, p->name);
  res->plots = p->plots.n;
  res->tracks = p->nids;
  res->track_rows = p->tracks.n;
  st = rf__draw_rd(p, o, qdir, res);
  if (res->rd_png[0]) rf__ql_add(made, res->rd_png);
  if (st) return st;
  rf__extent ext;
  rf__capture_extent(p, o, &ext);
  rf__ql_add(made, RF_QL_PPI_PNG);
  if ((st = rf__draw_ppi(p, &ext, qdir, res))) return st;
  rf__ql_add(made, RF_QL_TIME_PNG);
  if ((st = rf__draw_time(p, &ext, qdir, res))) return st;
  rf__ql_add(made, RF_QL_INDEX);

  rf__text t = {0};
  char title[400], path[RF__PATH + 64];
  snprintf(title, sizeof title, "radarflow quick look: %s", p->name);
  rf__html_head(&t, title);
  rf__put(&t, "<p>Products in <code>");
  rf__put_esc(&t, outdir);
  rf__put(&t, "</code>; capture <code>");
  rf__put_esc(&t, p->capture);
  rf__put(&t, "</code>");
  if (p->radar[0]) {
    rf__put(&t, " (");
    rf__put_esc(&t, p->radar);
    rf__put(&t, ")");
  }
  rf__put(&t, ".</p>\n<table>\n%s<tr class=\"st-good\"><td>", rf__row_head);
  rf__put_esc(&t, p->name);
  rf__put(&t, "</td><td>ok</td>");
  rf__html_num(&t, p->dwells, "%.0f");
  rf__html_num(&t, (double)p->plots.n, "%.0f");
  rf__html_num(&t, (double)p->nids, "%.0f");
  rf__html_num(&t, p->seconds, "%.3f");
  rf__put(&t, "<td>");
  rf__put_esc(&t, p->device);
  rf__put(&t, "</td><td></td></tr>\n</table>\n");
  rf__html_images(&t, "", res);
  rf__put(&t, "</body>\n</html>\n");
  if (!(st = rf_path_join(path, sizeof path, qdir, RF_QL_INDEX))) st = rf__write_text(&t, path);
  rf__free(t.s);
  return st;
}

int rf_quicklook_product(const char *outdir, const rf_quicklook_opts *o, rf_quicklook_result *res) {
  rf_quicklook_result tmp;
  rf_quicklook_opts def;
  if (!o) rf_quicklook_opts_default(&def), o = &def;
  rf__products *p = rf__calloc(1, sizeof *p);
  if (!p) return rf__err(RF_ENOMEM, "%s: out of memory", outdir);
  int st = rf__product(outdir, o, res ? res : &tmp, p);
  rf__unload(p);
  rf__free(p);
  /* The pictures belong to the product set: a later run may replace them. */
  if (!st) st = rf__ql_adopt(outdir);
  return st;
}

/* ---- batch OUTROOT ---------------------------------------------------------------------- */
static int rf__cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the subfolders of root that hold run.json (rf__malloc'd
 * array of rf__strdup'd names). */
static int rf__capture_dirs(const char *root, char ***names, size_t *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(root);
  if (!d) return rf__err(RF_EFORMAT, "%s: cannot open folder: %s", root, strerror(errno));
  size_t cap = 0;
  int st = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, RF_QL_DIR)) continue;
    char sub[RF__PATH + 300], p[RF__PATH + 320];
    if (rf_path_join(sub, sizeof sub, root, e->d_name) || rf_path_join(p, sizeof p, sub, "run.json")) {
      st = RF_EINVAL; /* message set by rf_path_join */
      break;
    }
    if (!rf__is_file(p)) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      char **v = rf__realloc(*names, cap * sizeof *v);
      if (!v) goto oom;
      *names = v;
    }
    if (!((*names)[*n] = rf__strdup(e->d_name))) goto oom;
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*names, *n, sizeof **names, rf__cmp_str);
  if (!st) return 0;
fail:
  for (size_t i = 0; i < *n; i++) rf__free((*names)[i]);
  rf__free(*names);
  *names = NULL;
  *n = 0;
  return st;
oom:
  closedir(d);
  st = rf__err(RF_ENOMEM, "%s: out of memory", root);
  goto fail;
}

int rf_quicklook_is_batch(const char *dir) {
  char **names;
  size_t n;
  int st = rf__capture_dirs(dir, &names, &n);
  for (size_t i = 0; i < n; i++) rf__free(names[i]);
  rf__free(names);
  if (st) rf_errmsg_clear();
  return !st && n > 0;
}

/* summary.json entry for a capture folder: matched by "name", else by the
 * last component of "output" / "outdir" / "dir". NULL when none. */
static const cJSON *rf__summary_entry(const cJSON *caps, const char *folder) {
  static const char *const keys[] = {"name", "output", "outdir", "dir", "capture"};
  const cJSON *c;
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
    cJSON_ArrayForEach(c, caps) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, keys[k]);
      if (!cJSON_IsString(v)) continue;
      const char *s = v->valuestring;
      size_t len = strlen(s);
      while (len > 1 && s[len - 1] == '/') len--;
      const char *b = s + len;
      while (b > s && b[-1] != '/') b--;
      if ((size_t)(s + len - b) == strlen(folder) && !strncmp(b, folder, strlen(folder))) return c;
      /* "name" may be the capture file: demo.h5 for folder demo */
      if (k == 0 || k == 4) {
        const char *dot = strrchr(b, '.');
        if (dot && dot > b && (size_t)(dot - b) == strlen(folder) && !strncmp(b, folder, (size_t)(dot - b)))
          return c;
      }
    }
  return NULL;
}


/* A row's colour class by its status: done (and ok, a folder drawn without
 * a summary) green, failed red, interrupted and pending amber, skipped and
 * anything else neutral; a run done whose pictures could not be drawn
 * amber. */
static const char *rf__status_class(const char *status, int not_drawn) {
  if (!strcmp(status, "done") || !strcmp(status, "ok")) return not_drawn ? "st-warn" : "st-good";
  if (!strcmp(status, "failed")) return "st-bad";
  if (!strcmp(status, "interrupted") || !strcmp(status, "pending")) return "st-warn";
  return "st-neutral";
}

/* Rows of the batch table by status, for the line above it. */
typedef struct rf__row_counts {
  size_t rows, drawn;
  const char *status[16];
  size_t count[16];
  size_t nstatus;
} rf__row_counts;

static void rf__count_status(rf__row_counts *c, const char *status) {
  c->rows++;
  for (size_t i = 0; i < c->nstatus; i++)
    if (!strcmp(c->status[i], status)) {
      c->count[i]++;
      return;
    }
  if (c->nstatus < 16) {
    c->status[c->nstatus] = status;
    c->count[c->nstatus++] = 1;
  }
}

/* One summary row: from the summary entry when there is one, else from
 * what the folder's products say. failed: the folder could not be drawn. */
static void rf__batch_row(rf__text *t, rf__row_counts *cnt, const char *anchor, const char *name, const cJSON *e,
                          const rf__products *p, const rf_quicklook_result *r, int failed, const char *err) {
  const char *status = e && rf__jstr(e, "status") ? rf__jstr(e, "status") : failed ? "failed" : "ok";
  const char *error = e && rf__jstr(e, "error") ? rf__jstr(e, "error") : err ? err : "";
  int bad = strcmp(status, "ok") && strcmp(status, "done") && strcmp(status, "skipped");
  rf__count_status(cnt, status);
  rf__put(t, "<tr class=\"%s%s\"><td>", rf__status_class(status, p && failed), bad ? " failed" : "");
  if (anchor) {
    rf__put(t, "<a href=\"#");
    rf__put_url(t, anchor);
    rf__put(t, "\">");
  }
  rf__put_esc(t, name);
  rf__put(t, anchor ? "</a></td><td>" : "</td><td>");
  rf__put_esc(t, status);
  rf__put(t, "</td>");
  double dw = e ? rf__json_num(e, "dwells") : NAN, pl = e ? rf__json_num(e, "plots") : NAN;
  double tr = e ? rf__json_num(e, "tracks") : NAN, sec = e ? rf__json_num(e, "seconds") : NAN;
  if (p && !failed) {
    if (!isfinite(dw)) dw = p->dwells;
    if (!isfinite(pl)) pl = (double)r->plots;
    if (!isfinite(tr)) tr = (double)r->tracks;
    if (!isfinite(sec)) sec = p->seconds;
  }
  rf__html_num(t, dw, "%.0f");
  rf__html_num(t, pl, "%.0f");
  rf__html_num(t, tr, "%.0f");
  rf__html_num(t, sec, "%.3f");
  const char *dev = e ? rf__jstr(e, "device") : NULL;
  if (!dev && p) dev = p->device;
  rf__put(t, "<td>");
  rf__put_esc(t, dev);
  rf__put(t, "</td><td>");
  if (p && failed && e && rf__jstr(e, "error")) { /* the run's error, then why no pictures */
    rf__put_esc(t, error);
    rf__put(t, "; ");
    error = err ? err : "";
  }
  if (p && failed && !(e && rf__jstr(e, "error"))) rf__put(t, "no pictures: ");
  rf__put_esc(t, error);
  rf__put(t, "</td></tr>\n");
}

/* The captures of a batch OUTROOT being drawn. */
typedef struct rf__ql_batch {
  const char *root;
  char **names;                 /* capture folders, sorted */
  size_t n, drawn;
  char *sj;
  cJSON *summary;
  const cJSON *caps;            /* summary.json's captures, or NULL */
  rf_quicklook_result *res;     /* [n] */
  rf__products *prod;           /* [n] */
  int *fail;                    /* [n] */
  char **errs;                  /* [n] why a folder was not drawn */
  int first;                    /* the first folder's failure */
} rf__ql_batch;

static void rf__ql_batch_free(rf__ql_batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    rf__free(b->names[i]);
    if (b->prod) rf__unload(&b->prod[i]);
    if (b->errs) rf__free(b->errs[i]);
  }
  rf__free(b->names);
  rf__free(b->errs);
  rf__free(b->fail);
  rf__free(b->prod);
  rf__free(b->res);
  cJSON_Delete(b->summary);
  rf__free(b->sj);
}

/* summary.json, read defensively: anything unexpected means no rows. */
static int rf__ql_batch_summary(rf__ql_batch *b) {
  char path[RF__PATH + 32];
  int st = rf_path_join(path, sizeof path, b->root, "summary.json");
  if (st || !rf__is_file(path)) return st;
  if (rf_slurp(path, RF__JSON_MAX, &b->sj, NULL) == 0 && (b->summary = cJSON_Parse(b->sj))) {
    b->caps = cJSON_IsArray(b->summary) ? b->summary : cJSON_GetObjectItemCaseSensitive(b->summary, "captures");
    if (!cJSON_IsArray(b->caps)) b->caps = NULL;
  }
  if (!b->caps) rf_warn("%s: no captures array; summary rows taken from the folders", path);
  rf_errmsg_clear();
  return 0;
}

/* Every capture folder's pictures; a folder that fails is noted and the
 * others go on (out of memory stops all). */
static int rf__ql_batch_draw(rf__ql_batch *b, const rf_quicklook_opts *o) {
  const size_t n = b->n;
  b->res = rf__calloc(n + 1, sizeof *b->res);
  b->prod = rf__calloc(n + 1, sizeof *b->prod);
  b->fail = rf__calloc(n + 1, sizeof *b->fail);
  b->errs = rf__calloc(n + 1, sizeof *b->errs);
  if (!b->res || !b->prod || !b->fail || !b->errs) return rf__err(RF_ENOMEM, "%s: out of memory", b->root);
  for (size_t i = 0; i < n; i++) {
    char path[RF__PATH + 300];
    int s = rf_path_join(path, sizeof path, b->root, b->names[i]);
    if (!s) s = rf__product(path, o, &b->res[i], &b->prod[i]);
    if (s == RF_ENOMEM) return s;
    if (!s) {
      b->drawn++;
      continue;
    }
    b->fail[i] = 1;
    b->errs[i] = rf__strdup(rf_errmsg());
    rf_log(0, "radarflow: quicklook: %s", rf_errmsg());
    rf_errmsg_clear();
    if (!b->first) b->first = s;
  }
  return 0;
}

/* The batch page: one summary row per capture (and per capture the summary
 * lists without a folder: failed runs), the counts of those rows above
 * them, then each capture's pictures. */
static void rf__ql_batch_page(const rf__ql_batch *b, rf__text *t) {
  rf__text rows = {0};
  rf__row_counts cnt;
  memset(&cnt, 0, sizeof cnt);
  for (size_t i = 0; i < b->n; i++)
    rf__batch_row(&rows, &cnt, b->names[i], b->names[i], b->caps ? rf__summary_entry(b->caps, b->names[i]) : NULL,
                  &b->prod[i], &b->res[i], b->fail[i], b->errs[i]);
  const cJSON *c;
  cJSON_ArrayForEach(c, b->caps) {
    int found = 0;
    for (size_t i = 0; i < b->n && !found; i++) found = rf__summary_entry(b->caps, b->names[i]) == c;
    if (found) continue;
    const char *nm = rf__jstr(c, "name");
    rf__batch_row(&rows, &cnt, NULL, nm ? nm : "?", c, NULL, NULL, 1, NULL);
  }
  rf__html_head(t, "radarflow batch quick look");
  rf__put(t, "<p>Batch <code>");
  rf__put_esc(t, b->root);
  rf__put(t, "</code>: %zu capture%s", cnt.rows, cnt.rows == 1 ? "" : "s");
  for (size_t i = 0; i < cnt.nstatus; i++) {
    rf__put(t, "%s%zu ", i ? ", " : ": ", cnt.count[i]);
    rf__put_esc(t, cnt.status[i]);
  }
  rf__put(t, "; pictures of %zu.</p>\n<table>\n%s", b->drawn, rf__row_head);
  if (rows.oom) t->oom = 1;
  else if (rows.s) rf__put(t, "%s", rows.s);
  rf__free(rows.s);
  rf__put(t, "</table>\n");
  for (size_t i = 0; i < b->n; i++) {
    rf__put(t, "<section id=\"");
    rf__put_esc(t, b->names[i]);
    rf__put(t, "\">\n<h2>");
    rf__put_esc(t, b->names[i]);
    rf__put(t, "</h2>\n");
    if (b->fail[i]) {
      rf__put(t, "<p class=\"failed\">No pictures: ");
      rf__put_esc(t, b->errs[i]);
      rf__put(t, "</p>\n");
    } else {
      rf__text prefix = {0};
      rf__put(&prefix, "../%s/%s/", b->names[i], RF_QL_DIR);
      rf__html_images(t, prefix.oom ? "" : prefix.s, &b->res[i]);
      rf__free(prefix.s);
    }
    rf__put(t, "</section>\n");
  }
  rf__put(t, "</body>\n</html>\n");
}

int rf_quicklook_batch(const char *root, const rf_quicklook_opts *o, size_t *count) {
  rf__ql_batch b = {.root = root};
  rf__text t = {0};
  char path[RF__PATH + 64], qdir[RF__PATH + 32];
  rf_quicklook_opts def;
  if (!o) rf_quicklook_opts_default(&def), o = &def;
  if (count) *count = 0;
  int st = rf__capture_dirs(root, &b.names, &b.n);
  if (st) return st;
  if ((st = rf_path_join(qdir, sizeof qdir, root, RF_QL_DIR)) || (st = rf_mkdirs(qdir)) ||
      (st = rf__ql_batch_summary(&b)) || (st = rf__ql_batch_draw(&b, o)))
    goto done;
  rf__ql_batch_page(&b, &t);
  if ((st = rf_path_join(path, sizeof path, qdir, RF_QL_INDEX)) || (st = rf__write_text(&t, path))) goto done;
  st = b.first;
  if (b.first) rf__err(b.first, "%s: %zu of %zu capture folders could not be drawn", root, b.n - b.drawn, b.n);
  if (count) *count = b.drawn;
done:
  rf__free(t.s);
  rf__ql_batch_free(&b);
  return st;
}

int rf_quicklook(const char *dir, const rf_quicklook_opts *o) {
  char p[RF__PATH + 32];
  int st = rf_path_join(p, sizeof p, dir, "run.json");
  if (st) return st;
  if (rf__is_file(p)) return rf_quicklook_product(dir, o, NULL);
  if (rf_quicklook_is_batch(dir)) return rf_quicklook_batch(dir, o, NULL);
  return rf__err(RF_EFORMAT, "%s: neither a product folder (run.json) nor a batch folder "
                             "(subfolders with run.json)",
                 dir);
}
