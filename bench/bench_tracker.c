/* radarflow benchmark: plots per second through the tracker for 100, 1000
 * and 10000 simultaneous targets with clutter (one thread). Each scan looks
 * at every target (detection probability 0.9, plots with the sigmas the
 * tracker assumes) and adds uniform clutter plots (10% of the targets). */
#include "rf_bench.h"
#include "../pipelines/rf_tracker.h"
#include "../host/rf_files.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

extern char **environ;

#define RF__BT_PD 0.9
#define RF__BT_CLUTTER 0.1
#define RF__BT_PLOTS 300000   /* plots per size, about */

static uint64_t rf__bt_rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}
static double rf__bt_u(uint64_t *s) { return ((double)(rf__bt_rng(s) >> 11) + 0.5) / 9007199254740992.0; }
static double rf__bt_g(uint64_t *s) {
  return sqrt(-2 * log(rf__bt_u(s))) * cos(2 * RF_PI * rf__bt_u(s));
}

/* The scene: ntarg aircraft over 30-300 km (so their gates rarely
 * overlap), 2-12 km up, 100-300 m/s, one scan a second, detection
 * probability RF__BT_PD, uniform clutter plots (RF__BT_CLUTTER of the
 * targets) per scan; plots with the sigmas the tracker assumes. *out is
 * rf__malloc'd. */
static int rf__bt_scene(size_t ntarg, size_t scans, const rf_config *cfg, const rf_track_sensor *sensor,
                        rf_plot **out, size_t *nout) {
  rf_track_sensor s = *sensor;
  size_t cap = scans * (ntarg + (size_t)(RF__BT_CLUTTER * (double)ntarg) + 1), n = 0;
  rf_plot *plots = rf__malloc(cap * sizeof *plots);
  double (*x)[6] = rf__malloc(ntarg * sizeof *x);
  if (!plots || !x) {
    rf__free(plots);
    rf__free(x);
    return rf__err(RF_ENOMEM, "bench tracker: out of memory");
  }
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  /* Targets spread over 30-300 km (so their gates rarely overlap), 2-12 km
   * up, 100-300 m/s. */
  for (size_t i = 0; i < ntarg; i++) {
    double r = 30e3 + 270e3 * rf__bt_u(&seed), az = 2 * RF_PI * rf__bt_u(&seed);
    double sp = 100 + 200 * rf__bt_u(&seed), hd = 2 * RF_PI * rf__bt_u(&seed);
    x[i][0] = r * sin(az), x[i][1] = r * cos(az), x[i][2] = 2e3 + 1e4 * rf__bt_u(&seed);
    x[i][3] = sp * sin(hd), x[i][4] = sp * cos(hd), x[i][5] = 0;
  }
  for (size_t sc = 0; sc < scans; sc++) {
    double t = 1.7e9 + (double)sc;
    for (size_t i = 0; i < ntarg; i++) {
      double p[6], z[4];
      for (int k = 0; k < 3; k++) p[k] = x[i][k] + x[i][3 + k] * (double)sc, p[3 + k] = x[i][3 + k];
      if (rf__bt_u(&seed) > RF__BT_PD) continue;
      rf_track_h(p, z);
      rf_plot pl = {.time_s = t, .dwell = (int32_t)sc, .snr_db = 20};
      rf_track_meas m;
      pl.range_m = z[0], pl.azimuth_deg = z[1], pl.elevation_deg = z[2], pl.radial_velocity_mps = z[3];
      rf_track_meas_from_plot(&s, cfg, &pl, &m);
      pl.range_m += m.sigma[0] * rf__bt_g(&seed);
      pl.azimuth_deg += m.sigma[1] * rf__bt_g(&seed);
      pl.elevation_deg += m.sigma[2] * rf__bt_g(&seed);
      pl.radial_velocity_mps += m.sigma[3] * rf__bt_g(&seed);
      plots[n++] = pl;
    }
    size_t nc = (size_t)(RF__BT_CLUTTER * (double)ntarg);
    for (size_t c = 0; c < nc; c++) {
      rf_plot pl = {.time_s = t, .dwell = (int32_t)sc, .snr_db = 14};
      pl.range_m = 30e3 + 270e3 * rf__bt_u(&seed);
      pl.azimuth_deg = 360 * rf__bt_u(&seed);
      pl.elevation_deg = 0.5 + 3 * rf__bt_u(&seed);
      pl.radial_velocity_mps = (rf__bt_u(&seed) - 0.5) * 600;
      plots[n++] = pl;
    }
  }
  rf__free(x);
  for (size_t i = 0; i < n; i++) {
    double u[3];
    rf_direction(plots[i].azimuth_deg, plots[i].elevation_deg, u);
    plots[i].east_m = plots[i].range_m * u[0], plots[i].north_m = plots[i].range_m * u[1];
    plots[i].up_m = plots[i].range_m * u[2];
  }
  *out = plots;
  *nout = n;
  return 0;
}

static int rf__bt_one(size_t ntarg, double *plots_per_s, size_t *nplots_out, size_t *ntracks) {
  rf_config cfg;
  rf_config_defaults(&cfg);
  cfg.trk_max_speed = 400;
  rf_track_sensor s = {.range_cell_m = 30, .doppler_cell_mps = 1, .beamwidth_az_deg = 1,
                       .beamwidth_el_deg = 1};
  size_t scans = RF__BT_PLOTS / ntarg;
  if (scans < 20) scans = 20;
  rf_plot *plots;
  size_t n;
  int st0 = rf__bt_scene(ntarg, scans, &cfg, &s, &plots, &n);
  if (st0) return st0;
  /* Timed: the per-dwell tracker calls alone, rows into one reused buffer
   * (as a streaming writer would take them). Creating the tracker (it
   * allocates for cfg.trk_max_tracks tracks) is set-up, not timed. */
  rf_tracker *tr = NULL;
  rf_track_row *rows = NULL;
  size_t maxg = ntarg + (size_t)(RF__BT_CLUTTER * (double)ntarg) + 1;
  int st = rf_tracker_create(&tr, &cfg, &s, 0, maxg);
  size_t mr = st ? 0 : rf_tracker_max_rows(tr);
  if (!st && !(rows = rf__malloc(mr * sizeof *rows))) st = rf__err(RF_ENOMEM, "bench tracker: out of memory");
  int32_t maxid = 0;
  double t0 = rf_now_s();
  for (size_t i = 0; !st && i < n;) {
    size_t j = i, nrow = 0;
    while (j < n && plots[j].dwell == plots[i].dwell) j++;
    st = rf_tracker_process_dwell(tr, plots[i].time_s, plots[i].dwell, plots + i, j - i, rows, mr, &nrow);
    for (size_t k = 0; k < nrow; k++)
      if (rows[k].track_id > maxid) maxid = rows[k].track_id;
    i = j;
  }
  double dt = rf_now_s() - t0;
  rf__free(rows);
  rf_tracker_destroy(tr);
  rf__free(plots);
  if (st) return st;
  *plots_per_s = (double)n / dt;
  *nplots_out = n;
  *ntracks = (size_t)maxid;
  return 0;
}

/* `radarflow track plots.h5` end to end (read, track, write all six
 * products) as its own process: wall time and its peak RSS (VmHWM, printed
 * by the command). */
#define RF__BT_E2E_TARGETS 2000
static int rf__bt_e2e(const char *dir, size_t scans, double *pps, double *rss_mb, double *secs, size_t *nplots) {
  rf_config cfg;
  rf_config_defaults(&cfg);
  cfg.trk_max_speed = 400;
  rf_track_sensor s = {.range_cell_m = 30, .doppler_cell_mps = 1, .beamwidth_az_deg = 1, .beamwidth_el_deg = 1,
                       .site_latitude_deg = 52, .site_longitude_deg = 4.4, .site_altitude_m = 10};
  rf_plot *plots;
  size_t n;
  char in[4200], out[4200], log[4200], name[3][64];
  snprintf(name[0], sizeof name[0], "track-%zu.h5", scans);
  snprintf(name[1], sizeof name[1], "track-%zu", scans);
  snprintf(name[2], sizeof name[2], "track-%zu.txt", scans);
  int st;
  if ((st = rf_path_join(in, sizeof in, dir, name[0])) || (st = rf_path_join(out, sizeof out, dir, name[1])) ||
      (st = rf_path_join(log, sizeof log, dir, name[2])) ||
      (st = rf__bt_scene(RF__BT_E2E_TARGETS, scans, &cfg, &s, &plots, &n)))
    return st;
  rf_product_info info = {.source_path = "bench", .radar_name = "bench", .site_latitude_deg = 52,
                          .site_longitude_deg = 4.4, .site_altitude_m = 10};
  rf_track_sensor_to_info(&s, &info);
  st = rf_plots_write_h5(in, plots, n, &info);
  rf__free(plots);
  if (st) return st;
  char *const argv[] = {"radarflow", "track", in, "-o", out, "--set", "tracker.max_speed_mps=400", NULL};
  if ((st = rf_bench_run_self_to(argv, log, secs))) return st;
  FILE *f = fopen(log, "r");
  char line[8192];
  *rss_mb = -1;
  while (f && fgets(line, sizeof line, f)) {
    char *q = strstr(line, "peak RSS ");
    if (q) sscanf(q, "peak RSS %lf", rss_mb);
  }
  if (f) fclose(f);
  *pps = (double)n / *secs;
  *nplots = n;
  if (!getenv("RF_BENCH_KEEP")) remove(in);
  return 0;
}

int rf_bench_tracker(const char *dir, struct cJSON *out_array) {
  static const size_t scans[] = {250, 500};
  printf("radarflow track end to end (plots.h5 in; tracks.h5, tracks.csv, plots/tracks .ast and .pcap out), "
         "%d targets, 1 s scans:\n", RF__BT_E2E_TARGETS);
  for (size_t k = 0; k < sizeof scans / sizeof scans[0]; k++) {
    double pps, rss, secs;
    size_t np;
    int st = rf__bt_e2e(dir, scans[k], &pps, &rss, &secs, &np);
    if (st) return st;
    printf("  %4zu scans: %8zu plots in %6.2f s: %10.0f plots/s, peak RSS %.1f MB\n", scans[k], np, secs, pps, rss);
    if (out_array) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "workload", "track_end_to_end");
      cJSON_AddNumberToObject(o, "targets", RF__BT_E2E_TARGETS);
      cJSON_AddNumberToObject(o, "scans", (double)scans[k]);
      cJSON_AddNumberToObject(o, "plots", (double)np);
      cJSON_AddNumberToObject(o, "seconds", secs);
      cJSON_AddNumberToObject(o, "plots_per_second", pps);
      cJSON_AddNumberToObject(o, "peak_rss_mb", rss);
      cJSON_AddItemToArray(out_array, o);
    }
  }
  static const size_t sizes[] = {100, 1000, 10000};
  printf("tracker calls alone (all OpenMP threads for dwells of >= 256 tracks; Pd %.1f, clutter %.0f%% of targets per scan):\n", RF__BT_PD, 100 * RF__BT_CLUTTER);
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    double pps;
    size_t np, nt;
    int st = rf__bt_one(sizes[k], &pps, &np, &nt);
    if (st) return st;
    printf("  %6zu targets: %8zu plots, %6zu track ids, %10.0f plots/s\n", sizes[k], np, nt, pps);
    if (out_array) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "workload", "tracker");
      cJSON_AddNumberToObject(o, "targets", (double)sizes[k]);
      cJSON_AddNumberToObject(o, "plots", (double)np);
      cJSON_AddNumberToObject(o, "track_ids", (double)nt);
      cJSON_AddNumberToObject(o, "plots_per_second", pps);
      cJSON_AddItemToArray(out_array, o);
    }
  }
  return 0;
}
