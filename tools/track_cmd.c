/* radarflow CLI: `radarflow track PLOTS.(h5|csv) -o OUTDIR` - the tracker
 * alone on a plot file, so its settings can be tuned without reprocessing
 * IQ. */
#include "../pipelines/rf_run.h"
#include "../pipelines/rf_tracker.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rf_cmds.h"

static const char rf__help_track[] =
    "Usage: radarflow track PLOTS.h5|PLOTS.csv -o OUTDIR [OPTIONS]\n"
    "Runs the tracker on a plot file and writes OUTDIR/tracks.h5, tracks.csv,\n"
    "plots.ast (ASTERIX CAT048), tracks.ast (CAT048 + CAT062) and run.json (the\n"
    "settings, input and counts; 'radarflow quicklook OUTDIR' draws the result).\n"
    "A plots.h5 written by radarflow describes the sensor (site, velocity\n"
    "ambiguity, cells, beamwidths, dwells); for a CSV the [tracker] and [site]\n"
    "settings stand in (docs/tracking.md).\n\n"
    "  -o, --output DIR       output folder (created if missing; required)\n"
    "  -c, --config FILE      settings (INI); defaults in docs/config.md\n"
    "      --set SEC.KEY=VAL  override one setting (repeatable)\n"
    "  -q, --quiet            print nothing but errors\n";

static int rf__track_run(int argc, char **argv, int *usage);

/* Returns the exit status (as main's commands): 0; 2 bad usage or input;
 * 130 interrupted; 1 anything else. Prints the failure once. */
int rf_track_cmd(int argc, char **argv) {
  int usage = 0;
  int st = rf__track_run(argc, argv, &usage);
  return usage ? usage : st ? rf_cli_fail(st) : 0;
}

/* Records a usage error's exit code (already reported); returns 0. */
static int rf__track_usage(int *usage, int code) {
  *usage = code;
  return 0;
}

/* The command; a status (0 or RF_E*) with its message set, or *usage the
 * exit code of a usage error already reported. */
static int rf__track_run(int argc, char **argv, int *usage) {
  enum { OPT_SET = 256 };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"config", required_argument, 0, 'c'},
                                       {"set", required_argument, 0, OPT_SET},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  static const char shorts[] = "o:c:qh";
  const char *out = NULL;
  char started[32];
  int st, c;
  rf_utc_now(started, sizeof started);
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_errmsg_clear();
  optind = 1;
  while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'c':
      if ((st = rf_config_load(&cfg, optarg))) return st;
      break;
    case OPT_SET:
      if ((st = rf_config_set(&cfg, optarg))) return st;
      break;
    case 'q': rf_log_level = 0; break;
    case 'h': fputs(rf__help_track, stdout); return 0;
    default: return rf__track_usage(usage, rf_cli_bad_option("track", argv, shorts, opts));
    }
  }
  if (optind + 1 != argc) return rf__track_usage(usage, rf_cli_usage("track", "expected one PLOTS file"));
  if (!out) return rf__track_usage(usage, rf_cli_usage("track", "-o OUTDIR is required"));
  const char *in = argv[optind];
  size_t len = strlen(in);
  int is_h5 = len > 3 && strcasecmp(in + len - 3, ".h5") == 0;
  rf_plot_list plots = {0};
  rf_plots_attrs at;
  memset(&at, 0, sizeof at);
  double t0 = rf_now_s();
  if ((st = rf_plots_read(in, &plots))) return st;
  if (is_h5 && (st = rf_plots_read_attrs(in, &at))) {
    rf_plot_list_free(&plots);
    return st;
  }
  rf_product_info info = {0};
  const rf_product_info *ip = NULL;
  if (is_h5) {
    info.source_path = in;
    info.radar_name = at.radar_name;
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
    ip = &info;
  }
  rf_track_sensor s;
  rf_track_sensor_from_info(&s, ip, &cfg);
  if (!is_h5) {
    info.source_path = in;
    info.radar_name = "";
    info.site_latitude_deg = s.site_latitude_deg;
    info.site_longitude_deg = s.site_longitude_deg;
    info.site_altitude_m = s.site_altitude_m;
  }
  rf_track_counts counts;
  st = rf_track_products_counted(plots.v, plots.n, &cfg, &s, &info, out, &counts);
  rf_track_run run = {.input = in, .capture = is_h5 ? at.source_path : NULL, .started_utc = started,
                      .cfg = &cfg, .plots = plots.n, .tracks = counts, .seconds = rf_now_s() - t0};
  if (!st) st = rf_track_write_run_json(out, &run);
  if (!st && rf_log_level >= 1)
    printf("%s: %zu plots, %zu confirmed track%s (%zu tentative only; %zu deleted by the end), %.3f s\n"
           "outputs in %s/: tracks.h5 tracks.csv plots.ast tracks.ast run.json\n",
           in, plots.n, counts.confirmed, counts.confirmed == 1 ? "" : "s", counts.tentative, counts.deleted,
           run.seconds, out);
  rf_plots_attrs_free(&at);
  rf_plot_list_free(&plots);
  return st;
}
