/* Quick-look pictures: render each picture from the demo's products, read
 * the PNG back with cairo, check its size, and check that the pixels where a
 * known strong target lies differ from the background (so an empty or
 * misplaced picture fails); then index.html for one folder and for a
 * batch-like OUTROOT, the CLI, and allocation failures. */
#include <cairo.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../datasets/rf_sim.h"
#include "../pipelines/rf_pipeline.h"
#include "../pipelines/rf_quicklook.h"
#include "rf_testutil.h"

/* The demo's strongest target ("slow", 22 km) has an expected post-
 * processing SNR of ~35 dB (datasets/scenarios/demo.ini); straddle and
 * off-axis losses take up to ~5 dB, so its map cells must reach 20 dB. */
#define QL_TARGET_MIN_DB 20.0
/* Noise is in units of its own power: exponential, median -1.6 dB; a map
 * pixel is the peak of 1-2 cells, so the median pixel lies within a few dB
 * of 0. */
#define QL_NOISE_MEDIAN_LO_DB -6.0
#define QL_NOISE_MEDIAN_HI_DB 3.0
/* The target must stand this far above the median background. */
#define QL_TARGET_CONTRAST_DB 20.0
/* Heat-map pixels are written unsmoothed from the viridis table, so they
 * match an entry exactly; allow a little for PNG round trip (none expected). */
#define QL_VIRIDIS_MAX_DIST2 12
/* At least this share of the map area is heat map (the rest: markers,
 * the grey notch band). An empty or blank picture has none. */
#define QL_MAP_MIN_SHARE 0.75
/* Marker and line colours are saturated (max - min channel); greys, white
 * and text are not. Antialiased edges still exceed the threshold at their
 * centre pixels. */
#define QL_SATURATED 60
/* A track line's centre pixel is within this RGB distance of its status
 * colour (antialiasing of a 2.5 px line). */
#define QL_LINE_COLOUR_DIST 60.0
/* Search windows, pixels: a plot is drawn 7 px wide, a target's range cell
 * is ~1 px wide and may straddle two cells. */
#define QL_WIN_TARGET 3
#define QL_WIN_EMPTY 5

static char g_dir[512], g_cap[512], g_out[512];

/* ---- fixture: the demo simulated and processed once per test case ---------------- */
static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* A small tracks.csv in the spec's columns (plus one extra column): track
 * 7 confirmed, away from every demo target in the plan view (north-west)
 * and at 27 km / -110 m/s in the time plots; track 9 tentative then deleted. */
static void write_tracks(const char *dir, double t0) {
  char p[600], row[800];
  rf_test_join(p, sizeof p, dir, "tracks.csv");
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs("time_s,track_id,status,east_m,north_m,up_m,v_east_mps,v_north_mps,v_up_mps,range_m,"
        "azimuth_deg,elevation_deg,radial_velocity_mps,latitude_deg,longitude_deg,altitude_m,"
        "pos_sigma_m,plots,time_to_go_s,quality\n",
        f);
  for (int k = 0; k < 6; k++) {
    double t = t0 + 0.008 * k;
    snprintf(row, sizeof row,
             "%.17g,7,confirmed,%.1f,%.1f,300,-500,500,0,27000,300,1,-110,52.1,4.2,310,40,%d,nan,1\n",
             t, -15000.0 - 600 * k, 5000.0 + 600 * k, k + 1);
    fputs(row, f);
    snprintf(row, sizeof row,
             "%.17g,9,%s,-20000,-3000,300,0,0,0,20224,261,1,0,52.1,4.2,310,40,%d,nan,1\n", t,
             k < 5 ? "tentative" : "deleted", k + 1);
    fputs(row, f);
  }
  fclose(f);
}

/* Simulates and processes in a child process: the runner forks each test
 * from this process, and a parent that has started OpenMP threads gives
 * children whose OpenMP hangs (libgomp is not fork-safe). */
static void ql_setup_child(void) {
  rf_scenario *sc;
  ck_assert_int_eq(rf_scenario_load(&sc, "datasets/scenarios/demo.ini"), 0);
  ck_assert_int_eq(rf_simulate(sc, g_cap, 1), 0);
  rf_scenario_destroy(sc);
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_run_summary s;
  ck_assert_int_eq(rf_process_capture(g_cap, g_out, &cfg, &s), 0);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, g_cap), 0);
  write_tracks(g_out, rf_capture_get_meta(c)->pulse_time_s[0]);
  rf_capture_close(c);
}

static void ql_setup(void) {
  rf_test_fresh_dir(g_dir, sizeof g_dir, "quicklook");
  rf_test_join(g_cap, sizeof g_cap, g_dir, "demo.h5");
  rf_test_join(g_out, sizeof g_out, g_dir, "out");
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    rf_test_child_one_thread();
    ql_setup_child();
    rf_test_child_exit(0);
  }
  int ws = 0;
  rf_log_level = -1; /* the tests provoke warnings on purpose */
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "demo simulation or processing failed");
}

/* ---- PNG pixels ---------------------------------------------------------------------- */
typedef struct png {
  cairo_surface_t *s;
  int w, h, stride;
  const unsigned char *data;
} png;

static void png_load(png *p, const char *path, int w, int h) {
  p->s = cairo_image_surface_create_from_png(path);
  ck_assert_msg(cairo_surface_status(p->s) == CAIRO_STATUS_SUCCESS, "%s: not a readable PNG: %s",
                path, cairo_status_to_string(cairo_surface_status(p->s)));
  p->w = cairo_image_surface_get_width(p->s);
  p->h = cairo_image_surface_get_height(p->s);
  ck_assert_int_eq(p->w, w);
  ck_assert_int_eq(p->h, h);
  p->stride = cairo_image_surface_get_stride(p->s);
  p->data = cairo_image_surface_get_data(p->s);
}

static void png_free(png *p) { cairo_surface_destroy(p->s); }

static void px_rgb(const png *p, int x, int y, int rgb[3]) {
  if (x < 0) x = 0;
  if (y < 0) y = 0;
  if (x >= p->w) x = p->w - 1;
  if (y >= p->h) y = p->h - 1;
  uint32_t v = *(const uint32_t *)(const void *)(p->data + (size_t)y * p->stride + 4 * (size_t)x);
  rgb[0] = (v >> 16) & 255;
  rgb[1] = (v >> 8) & 255;
  rgb[2] = v & 255;
}

static int saturation(const int c[3]) {
  int mx = c[0], mn = c[0];
  for (int i = 1; i < 3; i++) {
    if (c[i] > mx) mx = c[i];
    if (c[i] < mn) mn = c[i];
  }
  return mx - mn;
}

/* Nearest viridis entry (0..255) of a colour, and its squared distance. */
static int viridis_index(const int c[3], int *dist2) {
  int best = 0, bd = 1 << 30;
  for (int i = 0; i < 256; i++) {
    uint8_t e[3];
    rf_colormap_viridis_entry(i, e);
    int d = (c[0] - e[0]) * (c[0] - e[0]) + (c[1] - e[1]) * (c[1] - e[1]) + (c[2] - e[2]) * (c[2] - e[2]);
    if (d < bd) bd = d, best = i;
  }
  *dist2 = bd;
  return best;
}

/* Largest saturation in the (2 win + 1)^2 window around data point (x, y). */
static int max_saturation(const png *p, const rf_plot_frame *f, double x, double y, int win) {
  double px, py;
  rf_plot_frame_pixel(f, x, y, &px, &py);
  int best = 0;
  for (int dy = -win; dy <= win; dy++)
    for (int dx = -win; dx <= win; dx++) {
      int c[3];
      px_rgb(p, (int)lround(px) + dx, (int)lround(py) + dy, c);
      int s = saturation(c);
      if (s > best) best = s;
    }
  return best;
}

/* Smallest RGB distance to col in the window around data point (x, y). */
static double min_colour_dist(const png *p, const rf_plot_frame *f, double x, double y, int win,
                              rf_rgb col) {
  double px, py, best = 1e9;
  rf_plot_frame_pixel(f, x, y, &px, &py);
  for (int dy = -win; dy <= win; dy++)
    for (int dx = -win; dx <= win; dx++) {
      int c[3];
      px_rgb(p, (int)lround(px) + dx, (int)lround(py) + dy, c);
      double d = sqrt(pow(c[0] - 255 * col.r, 2) + pow(c[1] - 255 * col.g, 2) + pow(c[2] - 255 * col.b, 2));
      if (d < best) best = d;
    }
  return best;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void ql_path(char *out, size_t len, const char *dir, const char *name) {
  snprintf(out, len, "%s/%s/%s", dir, RF_QL_DIR, name);
}

/* The strongest product plot. */
static rf_plot strongest_plot(const char *dir) {
  char p[600];
  rf_test_join(p, sizeof p, dir, "plots.csv");
  rf_plot_list l = {0};
  ck_assert_int_eq(rf_plots_read(p, &l), 0);
  ck_assert_uint_gt(l.n, 0);
  rf_plot best = l.v[0];
  for (size_t i = 1; i < l.n; i++)
    if (l.v[i].snr_db > best.snr_db) best = l.v[i];
  rf_plot_list_free(&l);
  return best;
}

/* ---- the pictures ---------------------------------------------------------------------- */
START_TEST(ql_rd_map_shows_target) {
  rf_quicklook_opts o;
  rf_quicklook_opts_default(&o);
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(g_out, &o, &r), 0);
  ck_assert_int_eq(r.has_rd, 1);
  char p[700];
  snprintf(p, sizeof p, "rd_dwell%ld_beam%ld.png", r.dwell, r.beam);
  ck_assert_str_eq(r.rd_png, p);
  ql_path(p, sizeof p, g_out, r.rd_png);
  png img;
  png_load(&img, p, RF_QL_RD_WIDTH, RF_QL_RD_HEIGHT);

  /* The truth row of the strongest target in the map's dwell. */
  rf_capture *c;
  rf_truth *t;
  ck_assert_int_eq(rf_capture_open(&c, g_cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  ck_assert_int_eq(rf_capture_read_truth(c, &t), 0);
  long row = -1;
  for (size_t i = 0; i < t->rows; i++)
    if (t->dwell[i] == r.dwell && (row < 0 || t->snr_db[i] > t->snr_db[row])) row = (long)i;
  ck_assert_int_ge(row, 0);
  double vmax = RF_C_MPS / m->center_frequency_hz / (4 * m->pri_s);
  double tr_km = t->range_m[row] / 1e3, tv = rf_wrap(t->radial_velocity_mps[row], vmax);
  rf_truth_free(t);
  rf_capture_close(c);

  /* Decode heat-map pixels back to dB through the colour map. */
  const double span = r.rd_vmax_db - r.rd_vmin_db;
  double px, py, target_db = -1e9;
  rf_plot_frame_pixel(&r.rd, tr_km, tv, &px, &py);
  for (int dy = -QL_WIN_TARGET; dy <= QL_WIN_TARGET; dy++)
    for (int dx = -QL_WIN_TARGET; dx <= QL_WIN_TARGET; dx++) {
      int col[3], d2;
      px_rgb(&img, (int)lround(px) + dx, (int)lround(py) + dy, col);
      int k = viridis_index(col, &d2);
      if (d2 <= QL_VIRIDIS_MAX_DIST2 && r.rd_vmin_db + span * k / 255.0 > target_db)
        target_db = r.rd_vmin_db + span * k / 255.0;
    }
  size_t n = 0, area = 0;
  int x0 = (int)ceil(r.rd.px0) + 1, x1 = (int)floor(r.rd.px1) - 1;
  int y0 = (int)ceil(r.rd.py0) + 1, y1 = (int)floor(r.rd.py1) - 1;
  double *bg = malloc((size_t)(x1 - x0) * (size_t)(y1 - y0) * sizeof *bg);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      int col[3], d2;
      px_rgb(&img, x, y, col);
      int k = viridis_index(col, &d2);
      area++;
      if (d2 <= QL_VIRIDIS_MAX_DIST2) bg[n++] = r.rd_vmin_db + span * k / 255.0;
    }
  ck_assert_msg((double)n >= QL_MAP_MIN_SHARE * (double)area, "only %zu of %zu map pixels are heat map",
                n, area);
  qsort(bg, n, sizeof *bg, cmp_double);
  double median = bg[n / 2];
  free(bg);
  ck_assert_msg(median >= QL_NOISE_MEDIAN_LO_DB && median <= QL_NOISE_MEDIAN_HI_DB,
                "background median %.1f dB", median);
  ck_assert_msg(target_db >= QL_TARGET_MIN_DB, "target pixel %.1f dB", target_db);
  ck_assert_msg(target_db - median >= QL_TARGET_CONTRAST_DB, "target %.1f dB, background %.1f dB",
                target_db, median);
  png_free(&img);
}
END_TEST

START_TEST(ql_rd_dwell_and_beam) {
  rf_quicklook_opts o;
  rf_quicklook_opts_default(&o);
  o.dwell = 1;
  o.beam = 0;
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(g_out, &o, &r), 0);
  ck_assert_int_eq(r.dwell, 1);
  ck_assert_int_eq(r.beam, 0);
  char p[700];
  ql_path(p, sizeof p, g_out, "rd_dwell1_beam0.png");
  png img;
  png_load(&img, p, RF_QL_RD_WIDTH, RF_QL_RD_HEIGHT);
  png_free(&img);
  o.dwell = 8; /* the demo has dwells 0..7 */
  ck_assert_int_eq(rf_quicklook_product(g_out, &o, &r), RF_EINVAL);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "--dwell 8"));
  o.dwell = 0;
  o.beam = 5; /* five beams */
  ck_assert_int_eq(rf_quicklook_product(g_out, &o, &r), RF_EINVAL);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "--beam 5"));
}
END_TEST

START_TEST(ql_ppi_shows_plots_and_tracks) {
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(g_out, NULL, &r), 0);
  ck_assert_uint_eq(r.tracks, 2);
  ck_assert_uint_eq(r.track_rows, 12);
  char p[700];
  ql_path(p, sizeof p, g_out, RF_QL_PPI_PNG);
  png img;
  png_load(&img, p, RF_QL_PPI_WIDTH, RF_QL_PPI_HEIGHT);
  /* The site is at the centre of the plot area. */
  double cx, cy;
  rf_plot_frame_pixel(&r.ppi, 0, 0, &cx, &cy);
  ck_assert(fabs(cx - (r.ppi.px0 + r.ppi.px1) / 2) < 1 && fabs(cy - (r.ppi.py0 + r.ppi.py1) / 2) < 1);
  rf_plot s = strongest_plot(g_out);
  int here = max_saturation(&img, &r.ppi, s.east_m / 1e3, s.north_m / 1e3, QL_WIN_TARGET);
  int there = max_saturation(&img, &r.ppi, -s.east_m / 1e3, -s.north_m / 1e3, QL_WIN_EMPTY);
  ck_assert_msg(here >= QL_SATURATED, "no plot drawn at the strongest plot (saturation %d)", here);
  ck_assert_msg(there < QL_SATURATED, "something drawn opposite the plot (saturation %d)", there);
  /* Track 7 (confirmed): between its first two updates. */
  rf_rgb confirmed = {0.80, 0.10, 0.12};
  double d = min_colour_dist(&img, &r.ppi, -15.3, 5.3, 2, confirmed);
  ck_assert_msg(d < QL_LINE_COLOUR_DIST, "track 7 not drawn in the confirmed colour (%.0f)", d);
  png_free(&img);
}
END_TEST

/* A value of a plot column at plot i. */
static double plot_range_km(const rf_plot *p) { return p->range_m / 1e3; }
static double plot_vel(const rf_plot *p) { return p->radial_velocity_mps; }

/* A y value, among candidates, with no plot within `clear` of it at any time. */
static double empty_y(const char *dir, double (*get)(const rf_plot *), const double *cand, int n,
                      double clear) {
  char p[600];
  rf_test_join(p, sizeof p, dir, "plots.csv");
  rf_plot_list l = {0};
  ck_assert_int_eq(rf_plots_read(p, &l), 0);
  for (int k = 0; k < n; k++) {
    int ok = 1;
    for (size_t i = 0; i < l.n && ok; i++) ok = fabs(get(&l.v[i]) - cand[k]) > clear;
    if (ok) {
      rf_plot_list_free(&l);
      return cand[k];
    }
  }
  rf_plot_list_free(&l);
  ck_abort_msg("no empty row among the candidates");
  return 0;
}

START_TEST(ql_time_shows_plots_and_tracks) {
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(g_out, NULL, &r), 0);
  char p[700];
  ql_path(p, sizeof p, g_out, RF_QL_TIME_PNG);
  png img;
  png_load(&img, p, RF_QL_TIME_WIDTH, RF_QL_TIME_HEIGHT);
  rf_plot s = strongest_plot(g_out);
  double t = s.time_s - r.time0_s;
  ck_assert_int_ge(max_saturation(&img, &r.range_t, t, s.range_m / 1e3, QL_WIN_TARGET), QL_SATURATED);
  ck_assert_int_ge(max_saturation(&img, &r.vel_t, t, s.radial_velocity_mps, QL_WIN_TARGET),
                   QL_SATURATED);
  /* Rows with no plot and no track stay empty. Clearances: 1.5 km and 12
   * m/s are > 10 px at these scales. */
  const double rc[] = {25, 18.5, 11.5, 4}, vc[] = {-50, 60, -30, 20};
  double er = empty_y(g_out, plot_range_km, rc, 4, 1.5), ev = empty_y(g_out, plot_vel, vc, 4, 12);
  ck_assert_int_lt(max_saturation(&img, &r.range_t, t, er, QL_WIN_EMPTY), QL_SATURATED);
  ck_assert_int_lt(max_saturation(&img, &r.vel_t, t, ev, QL_WIN_EMPTY), QL_SATURATED);
  /* Track 7 at 27 km and -110 m/s, confirmed, between its first updates. */
  rf_rgb confirmed = {0.80, 0.10, 0.12};
  ck_assert(min_colour_dist(&img, &r.range_t, 0.004, 27, 2, confirmed) < QL_LINE_COLOUR_DIST);
  ck_assert(min_colour_dist(&img, &r.vel_t, 0.004, -110, 2, confirmed) < QL_LINE_COLOUR_DIST);
  png_free(&img);
}
END_TEST

START_TEST(ql_index_single) {
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(g_out, NULL, &r), 0);
  char p[700];
  ql_path(p, sizeof p, g_out, RF_QL_INDEX);
  char *html = rf_test_read_file(p, NULL);
  ck_assert_ptr_nonnull(html);
  char want[128];
  snprintf(want, sizeof want, "<img src=\"%s\"", r.rd_png);
  ck_assert_ptr_nonnull(strstr(html, want));
  ck_assert_ptr_nonnull(strstr(html, "<img src=\"" RF_QL_PPI_PNG "\""));
  ck_assert_ptr_nonnull(strstr(html, "<img src=\"" RF_QL_TIME_PNG "\""));
  ck_assert_ptr_nonnull(strstr(html, "demo.h5"));
  free(html);
  /* No temporary files left behind. */
  char q[700];
  snprintf(q, sizeof q, "%s/%s", g_out, RF_QL_DIR);
  ck_assert_uint_eq(rf_test_count_entries(q, ".tmp"), 0);
}
END_TEST

/* A product folder holding copies of the demo's products (not the capture). */
static void copy_products(const char *dst, int with_tracks) {
  static const char *const names[] = {"run.json", "plots.csv", "plots.h5", "tracks.csv"};
  ck_assert_int_eq(rf_test_mkdir_p(dst), 0);
  for (int i = 0; i < (with_tracks ? 4 : 3); i++) {
    char a[700], b[700];
    rf_test_join(a, sizeof a, g_out, names[i]);
    rf_test_join(b, sizeof b, dst, names[i]);
    ck_assert_int_eq(rf_test_copy_file(a, b, -1), 0);
  }
}

/* Points dir/run.json's input.path at another capture. */
static void set_run_capture(const char *dir, const char *capture) {
  char p[700];
  rf_test_join(p, sizeof p, dir, "run.json");
  char *js = rf_test_read_file(p, NULL);
  cJSON *root = cJSON_Parse(js);
  ck_assert_ptr_nonnull(root);
  cJSON *in = cJSON_GetObjectItem(root, "input");
  cJSON_ReplaceItemInObject(in, "path", cJSON_CreateString(capture));
  char *txt = cJSON_Print(root);
  write_text(p, txt);
  free(txt);
  cJSON_Delete(root);
  free(js);
}

START_TEST(ql_no_tracks_no_capture) {
  char d[600], p[700];
  rf_test_join(d, sizeof d, g_dir, "bare");
  rf_test_rm_rf(d);
  copy_products(d, 0);
  rf_quicklook_opts o;
  rf_quicklook_opts_default(&o);
  rf_quicklook_result r;
  /* With the capture: everything, no tracks. */
  ck_assert_int_eq(rf_quicklook_product(d, &o, &r), 0);
  ck_assert_int_eq(r.has_rd, 1);
  ck_assert_uint_eq(r.tracks, 0);
  /* A capture asked for by name must exist. */
  o.capture = "build/test-tmp/no/such/capture.h5";
  ck_assert_int_eq(rf_quicklook_product(d, &o, &r), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), o.capture));
  /* The capture run.json names gone: no range-Doppler map, the rest still
   * drawn. */
  o.capture = NULL;
  set_run_capture(d, "build/test-tmp/no/such/capture.h5");
  ql_path(p, sizeof p, d, RF_QL_PPI_PNG);
  remove(p);
  ck_assert_int_eq(rf_quicklook_product(d, &o, &r), 0);
  ck_assert_int_eq(r.has_rd, 0);
  ck_assert_str_eq(r.rd_png, "");
  png img;
  png_load(&img, p, RF_QL_PPI_WIDTH, RF_QL_PPI_HEIGHT);
  rf_plot s = strongest_plot(d);
  ck_assert_int_ge(max_saturation(&img, &r.ppi, s.east_m / 1e3, s.north_m / 1e3, QL_WIN_TARGET),
                   QL_SATURATED);
  png_free(&img);
}
END_TEST

START_TEST(ql_bad_tracks) {
  char d[600], p[700];
  rf_test_join(d, sizeof d, g_dir, "badtracks");
  rf_test_rm_rf(d);
  copy_products(d, 0);
  rf_test_join(p, sizeof p, d, "tracks.csv");
  write_text(p, "time_s,status,east_m,north_m,range_m,radial_velocity_mps\n1,confirmed,0,0,0,0\n");
  ck_assert_int_eq(rf_quicklook_product(d, NULL, NULL), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "tracks.csv"));
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "track_id"));
  /* The spec's columns, a bad status word on line 3. */
  write_text(p, "time_s,track_id,status,east_m,north_m,up_m,v_east_mps,v_north_mps,v_up_mps,range_m,"
                "azimuth_deg,elevation_deg,radial_velocity_mps,latitude_deg,longitude_deg,altitude_m,"
                "pos_sigma_m,plots,time_to_go_s\n"
                "1,3,confirmed,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,nan\n2,3,lost,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,nan\n");
  ck_assert_int_eq(rf_quicklook_product(d, NULL, NULL), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "line 3"));
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "column status"));
  rf_test_join(p, sizeof p, d, "run.json");
  write_text(p, "{\"input\": {}}");
  ck_assert_int_eq(rf_quicklook_product(d, NULL, NULL), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "/input/path"));
}
END_TEST

/* Every src="..." of the page names an existing file. Returns the count. */
static int check_srcs(const char *html, const char *page_dir) {
  int n = 0;
  for (const char *s = strstr(html, "src=\""); s; s = strstr(s + 1, "src=\"")) {
    const char *b = s + 5, *e = strchr(b, '"');
    ck_assert_ptr_nonnull(e);
    char rel[600], p[1400];
    snprintf(rel, sizeof rel, "%.*s", (int)(e - b), b);
    snprintf(p, sizeof p, "%s/%s", page_dir, rel);
    ck_assert_msg(rf_test_file_exists(p), "index.html: %s does not exist", p);
    n++;
  }
  return n;
}

START_TEST(ql_batch_index) {
  char root[600], d[700], p[800];
  rf_test_join(root, sizeof root, g_dir, "batch");
  rf_test_rm_rf(root);
  snprintf(d, sizeof d, "%s/a", root);
  copy_products(d, 1);
  snprintf(d, sizeof d, "%s/b", root);
  copy_products(d, 0);
  snprintf(d, sizeof d, "%s/d", root); /* a broken product folder */
  copy_products(d, 0);
  snprintf(p, sizeof p, "%s/run.json", d);
  write_text(p, "{ not json");
  snprintf(p, sizeof p, "%s/summary.json", root);
  write_text(p, "{\"captures\": [\n"
                " {\"name\": \"a\", \"status\": \"done\", \"dwells\": 8, \"plots\": 26, \"tracks\": 2,"
                "  \"seconds\": 0.5, \"device\": \"cpu\"},\n"
                " {\"name\": \"b.h5\", \"status\": \"skipped\", \"seconds\": 0.25},\n"
                " {\"name\": \"c<x>\", \"status\": \"failed\", \"error\": \"bad & broken\"}]}\n");
  ck_assert_int_eq(rf_quicklook_is_batch(root), 1);
  ck_assert_int_eq(rf_quicklook_is_batch(g_out), 0);
  size_t drawn = 0;
  ck_assert_int_eq(rf_quicklook_batch(root, NULL, &drawn), RF_EFORMAT); /* d failed */
  ck_assert_uint_eq(drawn, 2);
  snprintf(p, sizeof p, "%s/%s/%s", root, RF_QL_DIR, RF_QL_INDEX);
  char *html = rf_test_read_file(p, NULL);
  ck_assert_ptr_nonnull(html);
  snprintf(p, sizeof p, "%s/%s", root, RF_QL_DIR);
  ck_assert_int_eq(check_srcs(html, p), 6); /* three pictures each for a and b */
  ck_assert_ptr_nonnull(strstr(html, "src=\"../a/quicklook/ppi.png\""));
  ck_assert_ptr_nonnull(strstr(html, "src=\"../b/quicklook/rd_dwell"));
  ck_assert_ptr_nonnull(strstr(html, "c&lt;x&gt;"));
  ck_assert_ptr_nonnull(strstr(html, "bad &amp; broken"));
  ck_assert_ptr_nonnull(strstr(html, "<td class=\"num\">0.250</td>")); /* b's row from summary */
  ck_assert_ptr_nonnull(strstr(html, "id=\"d\""));                    /* d shown as failed */
  /* The counts above the table are those of its rows: a, b, d (folders;
   * d has no summary entry and could not be drawn) and c (the summary's). */
  ck_assert_ptr_nonnull(strstr(html, ": 4 captures: 1 done, 1 skipped, 2 failed; pictures of 2."));
  ck_assert_ptr_nonnull(strstr(html, "<tr class=\"st-good\"><td><a href=\"#a\">"));
  ck_assert_ptr_nonnull(strstr(html, "<tr class=\"st-neutral\"><td><a href=\"#b\">"));
  ck_assert_ptr_nonnull(strstr(html, "<tr class=\"st-bad failed\"><td><a href=\"#d\">"));
  ck_assert_ptr_nonnull(strstr(html, "<tr class=\"st-bad failed\"><td>c&lt;x&gt;"));
  free(html);
  /* Through rf_quicklook, which picks batch mode by what the folder holds. */
  ck_assert_int_eq(rf_quicklook(root, NULL), RF_EFORMAT);
  snprintf(d, sizeof d, "%s/empty", root);
  ck_assert_int_eq(rf_test_mkdir_p(d), 0);
  ck_assert_int_eq(rf_quicklook(d, NULL), RF_EFORMAT); /* neither kind */
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "neither"));
}
END_TEST

/* Re-processing into a folder with pictures redraws them from the new
 * products: the page counts the plots plots.csv now holds, a map drawn of
 * the old products is gone, one drawn of the new stays beside the default.
 * A file of the user's in quicklook/ is never removed: while it is there
 * the folder is not replaced (exit 2), and `quicklook` leaves it alone.
 * Through the CLI, as a user runs it. */
static size_t csv_rows(const char *path) {
  char *t = rf_test_read_file(path, NULL);
  size_t n = 0;
  for (char *c = t; c && *c; c++) n += *c == '\n';
  free(t);
  return n ? n - 1 : 0;
}

START_TEST(ql_reprocess_replaces_pictures) {
  char out[600], log[600], p[800], q[800], want[128];
  rf_test_join(out, sizeof out, g_dir, "reprocess");
  rf_test_join(log, sizeof log, g_dir, "reprocess.log");
  rf_test_rm_rf(out);
  ck_assert_int_eq(rf_test_cli(log, "process", g_cap, "-o", out, "--device", "cpu", "--quicklook", "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "quicklook", out, "--dwell", "1", "--beam", "0", "-q", NULL), 0);
  ql_path(p, sizeof p, out, "rd_dwell1_beam0.png");
  ck_assert(rf_test_file_exists(p));
  ql_path(q, sizeof q, out, "notes.txt");
  write_text(q, "mine\n");
  rf_test_join(p, sizeof p, out, "plots.csv");
  size_t before = csv_rows(p);
  ql_path(p, sizeof p, out, RF_QL_PPI_PNG);
  char *ppi_before = rf_test_read_file(p, NULL);
  /* A file of the user's in the product folder: the folder cannot be
   * replaced whole, so the run is refused before any work (exit 2, naming
   * the file) and everything stays as it was. */
  rf_test_join(p, sizeof p, out, "plots.csv");
  char *csv_before = rf_test_read_file(p, NULL);
  ck_assert_int_eq(rf_test_cli(log, "process", g_cap, "-o", out, "--device", "cpu", "--set", "cfar.pfa=1e-3", NULL), 2);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "quicklook/notes.txt"));
  free(txt);
  ck_assert(rf_test_file_exists(q));
  char *csv_again = rf_test_read_file(p, NULL);
  ck_assert_str_eq(csv_before, csv_again);
  free(csv_before);
  free(csv_again);
  ql_path(p, sizeof p, out, "rd_dwell1_beam0.png");
  ck_assert(rf_test_file_exists(p));
  /* The user moves it away; a higher false-alarm rate: more plots, so
   * every picture changes. */
  char kept[800];
  rf_test_join(kept, sizeof kept, g_dir, "reprocess-notes.txt");
  ck_assert_int_eq(rename(q, kept), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", g_cap, "-o", out, "--device", "cpu", "--set", "cfar.pfa=1e-3", NULL), 0);
  txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "redrawn"));
  free(txt);
  rf_test_join(p, sizeof p, out, "plots.csv");
  size_t after = csv_rows(p);
  ck_assert_uint_gt(after, before);
  ql_path(p, sizeof p, out, RF_QL_INDEX);
  char *html = rf_test_read_file(p, NULL);
  snprintf(want, sizeof want, "<td class=\"num\">%zu</td>", after);
  ck_assert_msg(strstr(html, want) != NULL, "index.html does not count %zu plots", after);
  free(html);
  ql_path(p, sizeof p, out, "rd_dwell1_beam0.png");
  ck_assert_msg(!rf_test_file_exists(p), "a map of the old products is still there");
  ck_assert(rename(kept, q) == 0); /* the user's file, back beside the new pictures */
  ql_path(p, sizeof p, out, RF_QL_PPI_PNG);
  size_t la;
  char *ppi_after = rf_test_read_file(p, &la);
  ck_assert(strcmp(ppi_before, ppi_after) != 0 || la != strlen(ppi_before));
  free(ppi_before);
  free(ppi_after);
  /* The same products again: a map of another dwell stays beside. */
  ck_assert_int_eq(rf_test_cli(log, "quicklook", out, "--dwell", "2", "--beam", "1", "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "quicklook", out, "-q", NULL), 0);
  ql_path(p, sizeof p, out, "rd_dwell2_beam1.png");
  ck_assert(rf_test_file_exists(p));
  /* Only radarflow's own files go: removing the pictures keeps notes.txt
   * and the folder holding it. */
  ck_assert_int_eq(rf_quicklook_remove(out), 0);
  ql_path(p, sizeof p, out, RF_QL_INDEX);
  ck_assert(!rf_test_file_exists(p));
  ck_assert(rf_test_file_exists(q));
  /* Drawing again did not adopt the user's file into the product set: a
   * new run still refuses to replace the folder, and the file stays. */
  ck_assert_int_eq(rf_test_cli(log, "quicklook", out, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", g_cap, "-o", out, "--device", "cpu", "-q", NULL), 2);
  ck_assert(rf_test_file_exists(q));
}
END_TEST

/* A track faster than the velocity ambiguity (the demo's lambda / (4 PRI)
 * = 124.9 m/s): the time picture gives the tracks' unfolded velocity its
 * own panel, and in the measured panel draws the track folded as the radar
 * folds it, where its plots would be. */
START_TEST(ql_velocity_folding) {
  char d[600], p[700], row[400];
  rf_test_join(d, sizeof d, g_dir, "fast");
  rf_test_rm_rf(d);
  copy_products(d, 0);
  rf_plot s = strongest_plot(d);
  rf_test_join(p, sizeof p, d, "tracks.csv");
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs("time_s,track_id,status,east_m,north_m,up_m,v_east_mps,v_north_mps,v_up_mps,range_m,azimuth_deg,"
        "elevation_deg,radial_velocity_mps,latitude_deg,longitude_deg,altitude_m,pos_sigma_m,plots,time_to_go_s\n",
        f);
  for (int k = 0; k < 6; k++) {
    snprintf(row, sizeof row, "%.6f,4,confirmed,-15000,5000,300,0,0,0,27000,300,1,-300,52,4,300,40,%d,nan\n",
             s.time_s + 0.008 * k, k + 1);
    fputs(row, f);
  }
  fclose(f);
  rf_quicklook_result r;
  ck_assert_int_eq(rf_quicklook_product(d, NULL, &r), 0);
  ck_assert_int_eq(r.vel_folded, 1);
  ck_assert(fabs(r.vel_ambiguity_mps - 124.9) < 0.1);
  ck_assert(r.vel_track_t.py0 > r.vel_t.py1); /* a panel of its own, below */
  ql_path(p, sizeof p, d, RF_QL_TIME_PNG);
  png img;
  png_load(&img, p, RF_QL_TIME_WIDTH, RF_QL_TIME_HEIGHT);
  rf_rgb confirmed = {0.80, 0.10, 0.12};
  /* Between two updates on the unfolded panel (a line), at an update on the
   * folded one (a cross). */
  double t = s.time_s + 0.004 - r.time0_s, tu = s.time_s + 0.008 - r.time0_s;
  double folded = rf_wrap(-300, r.vel_ambiguity_mps);
  ck_assert(min_colour_dist(&img, &r.vel_track_t, t, -300, 2, confirmed) < QL_LINE_COLOUR_DIST);
  ck_assert(min_colour_dist(&img, &r.vel_t, tu, folded, 2, confirmed) < QL_LINE_COLOUR_DIST);
  /* Nothing at -300 m/s on the measured axis: it only reaches 124.9. */
  ck_assert(-300 < r.vel_t.y0);
  png_free(&img);
}
END_TEST

/* Labels do not collide: many at one point each get a box clear of the
 * others and of what was reserved, inside the frame; when no spot is left
 * a label is left out (0) rather than drawn over another. */
START_TEST(ql_labels_do_not_collide) {
  rf_canvas *cv = NULL;
  ck_assert_int_eq(rf_canvas_create(&cv, 400, 300), 0);
  rf_plot_frame f = {50, 50, 350, 250, 0, 10, 0, 10};
  rf_labels l = {0};
  ck_assert_int_eq(rf_labels_reserve(&l, 195, 140, 260, 160), 0); /* right of the point */
  int drawn = 0, left_out = 0;
  for (int i = 0; i < 40; i++) {
    char t[16];
    snprintf(t, sizeof t, "T%d", 100 + i);
    int k = rf_label_place(cv, &l, &f, 5, 5, t, 13, RF_RGB_BLACK);
    ck_assert_int_ge(k, 0);
    k ? drawn++ : left_out++;
  }
  /* At most sixteen spots, some blocked by the reserved box or by each
   * other: several drawn, the rest left out. */
  ck_assert_int_ge(drawn, 6);
  ck_assert_int_le(drawn, 16);
  ck_assert_int_eq(left_out, 40 - drawn);
  ck_assert_uint_eq(l.n, (size_t)drawn + 1);
  for (size_t i = 1; i < l.n; i++)
    ck_assert(l.v[i].x0 >= f.px0 && l.v[i].x1 <= f.px1 && l.v[i].y0 >= f.py0 && l.v[i].y1 <= f.py1);
  for (size_t i = 0; i < l.n; i++) {
    for (size_t j = i + 1; j < l.n; j++) {
      const rf_box *a = &l.v[i], *b = &l.v[j];
      ck_assert_msg(!(a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1), "boxes %zu and %zu overlap", i, j);
    }
  }
  rf_labels_free(&l);
  rf_canvas_destroy(cv);
}
END_TEST

START_TEST(ql_cli) {
  char log[600], p[700];
  rf_test_join(log, sizeof log, g_dir, "cli.log");
  ck_assert_int_eq(rf_test_cli(log, "quicklook", g_out, "--dwell", "2", "--beam", "1", NULL), 0);
  ql_path(p, sizeof p, g_out, "rd_dwell2_beam1.png");
  ck_assert(rf_test_file_exists(p));
  ck_assert_int_eq(rf_test_cli(log, "quicklook", g_out, "--dwell", "x", NULL), 2);
  ck_assert_int_eq(rf_test_cli(log, "quicklook", g_out, "--dwell", "99", NULL), 2);
  ck_assert_int_eq(rf_test_cli(log, "quicklook", "build/test-tmp/no-such-folder", NULL), 2);
  /* A capture named on the command line that is not there: an error, one line. */
  ck_assert_int_eq(rf_test_cli(log, "quicklook", g_out, "--capture", "build/test-tmp/nope.h5", NULL), 2);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_str_eq(txt, "radarflow: build/test-tmp/nope.h5: cannot open: No such file or directory\n");
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "quicklook", "--help", NULL), 0);
}
END_TEST

/* Out of memory at each library allocation in turn: a clean RF_ENOMEM and
 * no temporary file, until it succeeds. The capture is left out (the
 * pipeline's own sweeps are elsewhere) to keep the sweep short. */
START_TEST(ql_oom_sweep) {
  char d[600], q[700];
  rf_test_join(d, sizeof d, g_dir, "oom");
  rf_test_rm_rf(d);
  copy_products(d, 1);
  set_run_capture(d, "build/test-tmp/no/such/capture.h5");
  snprintf(q, sizeof q, "%s/%s", d, RF_QL_DIR);
  rf_quicklook_opts o;
  rf_quicklook_opts_default(&o);
  int st = -1;
  size_t n;
  for (n = 1; n < 500 && st; n++) {
    rf_alloc_fail_after(n, 1);
    st = rf_quicklook_product(d, &o, NULL);
    rf_alloc_fail_after(0, 0);
    ck_assert_msg(st == 0 || st == RF_ENOMEM, "allocation %zu: %s", n, rf_err_name(st));
    ck_assert_uint_eq(rf_test_count_entries(q, ".tmp"), 0);
  }
  ck_assert_int_eq(st, 0);
  ck_assert_uint_gt(n, 3);
  /* The canvas on its own. */
  rf_canvas *cv = (rf_canvas *)1;
  rf_alloc_fail_after(1, 1);
  ck_assert_int_eq(rf_canvas_create(&cv, 64, 64), RF_ENOMEM);
  rf_alloc_fail_after(0, 0);
  ck_assert_ptr_null(cv);
  ck_assert_int_eq(rf_canvas_create(&cv, 8, 64), RF_EINVAL);
  rf_canvas_destroy(NULL);
}
END_TEST

Suite *test_quicklook_suite(void) {
  Suite *s = suite_create("test_quicklook_suite");
  TCase *tc = tcase_create("quicklook");
  tcase_add_unchecked_fixture(tc, ql_setup, NULL);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, ql_rd_map_shows_target);
  tcase_add_test(tc, ql_rd_dwell_and_beam);
  tcase_add_test(tc, ql_ppi_shows_plots_and_tracks);
  tcase_add_test(tc, ql_time_shows_plots_and_tracks);
  tcase_add_test(tc, ql_index_single);
  tcase_add_test(tc, ql_no_tracks_no_capture);
  tcase_add_test(tc, ql_bad_tracks);
  tcase_add_test(tc, ql_batch_index);
  tcase_add_test(tc, ql_reprocess_replaces_pictures);
  tcase_add_test(tc, ql_velocity_folding);
  tcase_add_test(tc, ql_labels_do_not_collide);
  tcase_add_test(tc, ql_cli);
  tcase_add_test(tc, ql_oom_sweep);
  suite_add_tcase(s, tc);
  return s;
}
