/* radarflow CLI: `radarflow track PLOTS.(h5|csv) -o OUTDIR` - the tracker
 * alone on a plot file, so its settings can be tuned without reprocessing
 * IQ. */
#include "../pipelines/rf_run.h"
#include "../host/rf_files.h"
#include "../pipelines/rf_tracker.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "rf_cmds.h"

static const char rf__help_track[] =
    "Usage: radarflow track PLOTS.h5|PLOTS.csv -o OUTDIR [OPTIONS]\n"
    "Runs the tracker on a plot file and writes OUTDIR/tracks.h5, tracks.csv,\n"
    "plots.ast, tracks.ast (ASTERIX), plots.pcap, tracks.pcap (the same feed as\n"
    "UDP datagrams, for Wireshark) and run.json (the settings, input and counts;\n"
    "'radarflow quicklook OUTDIR' draws the result).\n"
    "A plots.h5 written by radarflow describes the sensor (site, velocity\n"
    "ambiguity, cells, beamwidths, dwells). What a plot file does not say must\n"
    "be given: --set site.latitude_deg=.. site.longitude_deg=.. site.altitude_m=..\n"
    "tracker.velocity_interval_mps=.. range_cell_m=.. doppler_cell_mps=..\n"
    "beamwidth_az_deg=.. beamwidth_el_deg=.. (or in --config); otherwise the\n"
    "command stops with exit 2 naming what is missing (docs/tracking.md).\n\n"
    "  -o, --output DIR       output folder (created if missing; required): absent,\n"
    "                         empty or a radarflow product folder, whose other\n"
    "                         files are kept; all products or, on failure, none\n"
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
  double t0 = rf_now_s();
  size_t nplots = 0;
  rf_track_counts counts;
  char capture[1024];
  /* The products go in whole or not at all, beside the files OUTDIR holds
   * from radarflow (a process run's plots); OUTDIR must be absent, empty or
   * a radarflow product folder (docs/reliability.md). */
  rf_outset *o = NULL;
  if ((st = rf_outset_create(&o, out, &in, 1, RF_OUTSET_KEEP))) return st;
  const char *tmp = rf_outset_tmpdir(o);
  st = rf_track_file(in, &cfg, tmp, &nplots, &counts, capture, sizeof capture);
  rf_track_run run = {.input = in, .capture = capture, .started_utc = started, .cfg = &cfg, .plots = nplots,
                      .tracks = counts, .seconds = rf_now_s() - t0};
  if (!st) st = rf_track_write_run_json(tmp, &run);
  if (!st) st = rf_outset_commit(o);
  rf_outset_destroy(o);
  if (st) return st;
  if (rf_log_level >= 1) {
    printf("%s: %zu plots, %zu confirmed track%s (%zu tentative only; %zu deleted by the end), %.3f s, "
           "peak RSS %.1f MB\noutputs in %s/:",
           in, nplots, counts.confirmed, counts.confirmed == 1 ? "" : "s", counts.tentative, counts.deleted,
           run.seconds, rf_peak_rss_bytes() / 1048576.0, out);
    for (int k = 0; k < RF_TRACK_PRODUCTS; k++) printf(" %s", rf_track_product_names[k]);
    printf(" run.json\n");
  }
  return st;
}
