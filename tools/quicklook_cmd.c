/* radarflow quicklook: PNG quick-look pictures of a product folder or of a
 * batch OUTROOT (pipelines/rf_quicklook.h, docs/quicklook.md). */
#include "../pipelines/rf_quicklook.h"
#include "rf_cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rf__help_quicklook[] =
    "Usage: radarflow quicklook OUTDIR|OUTROOT [--dwell N] [--beam B] [--capture FILE]\n"
    "Draws PNG pictures of the products of `radarflow process` into OUTDIR/quicklook/:\n"
    "a range-Doppler map of one dwell and beam (recomputed from the capture named in\n"
    "run.json, with its settings), a plan view of plots and tracks, and range and\n"
    "radial velocity against time; plus index.html showing them. For a batch OUTROOT\n"
    "(subfolders holding run.json) every capture is drawn and OUTROOT/quicklook/index.html\n"
    "shows them all with their summary rows.\n\n"
    "  -d, --dwell N       dwell of the range-Doppler map (default: the strongest plot's)\n"
    "  -b, --beam B        receive beam of the map (default: nearest the strongest plot)\n"
    "      --capture FILE  capture to recompute the map from (default: run.json input.path)\n"
    "  -q, --quiet         print nothing but errors\n";

static int rf__ql_index(const char *s, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 0) return -1;
  *out = v;
  return 0;
}

int rf_quicklook_cmd(int argc, char **argv) {
  enum { OPT_CAPTURE = 256 };
  static const struct option opts[] = {{"dwell", required_argument, 0, 'd'},
                                       {"beam", required_argument, 0, 'b'},
                                       {"capture", required_argument, 0, OPT_CAPTURE},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  rf_quicklook_opts o;
  rf_quicklook_opts_default(&o);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:b:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'd':
      if (rf__ql_index(optarg, &o.dwell)) return rf_cli_usage("quicklook", "--dwell needs a non-negative integer");
      break;
    case 'b':
      if (rf__ql_index(optarg, &o.beam)) return rf_cli_usage("quicklook", "--beam needs a non-negative integer");
      break;
    case OPT_CAPTURE: o.capture = optarg; break;
    case 'q': rf_log_level = 0; break;
    case 'h': fputs(rf__help_quicklook, stdout); return 0;
    default: return rf_cli_bad_option("quicklook", argv, "d:b:qh", opts);
    }
  }
  if (optind + 1 != argc) return rf_cli_usage("quicklook", "expected one OUTDIR or OUTROOT folder");
  const char *dir = argv[optind];
  char probe[4096];
  int st;
  if ((st = rf_path_join(probe, sizeof probe, dir, "run.json"))) return rf_cli_fail(st);
  FILE *f = fopen(probe, "r");
  int single = f != NULL;
  if (f) fclose(f);
  if (single) {
    rf_quicklook_result r;
    st = rf_quicklook_product(dir, &o, &r);
    if (!st && r.has_rd)
      rf_log(1, "%s/%s/: %s, %s, %s, %s", dir, RF_QL_DIR, r.rd_png, RF_QL_PPI_PNG, RF_QL_TIME_PNG,
             RF_QL_INDEX);
    else if (!st)
      rf_log(1, "%s/%s/: %s, %s, %s (no range-Doppler map)", dir, RF_QL_DIR, RF_QL_PPI_PNG,
             RF_QL_TIME_PNG, RF_QL_INDEX);
  } else if (rf_quicklook_is_batch(dir)) {
    size_t n = 0;
    st = rf_quicklook_batch(dir, &o, &n);
    if (!st || n) rf_log(1, "%zu captures drawn; %s/%s/%s", n, dir, RF_QL_DIR, RF_QL_INDEX);
  } else {
    st = rf_quicklook(dir, &o); /* reports what the folder lacks */
  }
  return st ? rf_cli_fail(st) : 0;
}
