/* radarflow quicklook: PNG quick-look pictures of a product folder or of a
 * batch OUTROOT (pipelines/rf_quicklook.h, docs/quicklook.md). */
#include "../pipelines/rf_quicklook.h"

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

static int rf__ql_exit(int st) {
  const char *msg = rf_errmsg();
  fprintf(stderr, "radarflow: %s\n", msg[0] ? msg : rf_strerror(st));
  switch (st) {
  case RF_EINVAL:
  case RF_EFORMAT:
  case RF_ERANGE: return 2;
  case RF_EDEVICE: return 3;
  case RF_EINTR: return 130;
  default: return 1;
  }
}

static int rf__ql_usage(const char *what) {
  fprintf(stderr, "radarflow quicklook: %s\nTry 'radarflow quicklook --help'.\n", what);
  return 2;
}

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
      if (rf__ql_index(optarg, &o.dwell)) return rf__ql_usage("--dwell needs a non-negative integer");
      break;
    case 'b':
      if (rf__ql_index(optarg, &o.beam)) return rf__ql_usage("--beam needs a non-negative integer");
      break;
    case OPT_CAPTURE: o.capture = optarg; break;
    case 'q': rf_log_level = 0; break;
    case 'h': fputs(rf__help_quicklook, stdout); return 0;
    default: return rf__ql_usage("unknown option");
    }
  }
  if (optind + 1 != argc) return rf__ql_usage("expected one OUTDIR or OUTROOT folder");
  const char *dir = argv[optind];
  char probe[4200];
  snprintf(probe, sizeof probe, "%s/run.json", dir);
  FILE *f = fopen(probe, "r");
  int single = f != NULL;
  if (f) fclose(f);
  int st;
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
  return st ? rf__ql_exit(st) : 0;
}
