/* radarflow CLI: `radarflow import` (io/rf_import.h, docs/import.md). */
#include "../io/rf_capture.h"
#include "../io/rf_capture_sources.h"
#include "../io/rf_import.h"
#include "rf_cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rf__help_import[] =
    "Usage: radarflow import SOURCE -o CAPTURE.h5 [--layout LAYOUT.ini] [--set SEC.KEY=VAL]...\n"
    "Makes a capture (docs/formats.md) from a recording: a SigMF recording\n"
    "(SOURCE.sigmf-meta beside SOURCE.sigmf-data), or a raw or HDF5 file described by\n"
    "a layout file (docs/import.md; examples in datasets/layouts/). The capture refers\n"
    "to the recording's samples (external raw storage or a virtual dataset) instead of\n"
    "copying them, and copies them only where HDF5 cannot express the layout; it says\n"
    "which, and why. Check the result with 'radarflow inspect CAPTURE.h5'.\n\n"
    "  -o, --output FILE      capture to write (required); never replaces a file that\n"
    "                         radarflow did not write\n"
    "  -l, --layout FILE      layout file (INI): the samples' layout and the radar facts\n"
    "      --set SEC.KEY=VAL  one layout fact, e.g. --set waveform.pri_s=1e-3\n"
    "                         (repeatable; wins over the layout and the SigMF meta file)\n"
    "      --copy             copy the samples into the capture (a self-contained file)\n"
    "      --force            replace CAPTURE.h5 when it is an earlier radarflow import\n"
    "  -q, --quiet            print nothing but errors\n";

static void rf__bytes(uint64_t b, char *out, size_t len) {
  static const char *const u[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)b;
  int k = 0;
  while (v >= 1024 && k < 4) {
    v /= 1024;
    k++;
  }
  if (k == 0) snprintf(out, len, "%llu bytes", (unsigned long long)b);
  else snprintf(out, len, "%.1f %s", v, u[k]);
}

int rf_import_cmd(int argc, char **argv) {
  enum { OPT_SET = 256, OPT_COPY, OPT_FORCE };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"layout", required_argument, 0, 'l'},
                                       {"set", required_argument, 0, OPT_SET},
                                       {"copy", no_argument, 0, OPT_COPY},
                                       {"force", no_argument, 0, OPT_FORCE},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  rf_import_opts o = {0};
  const char **sets = calloc((size_t)argc + 1, sizeof *sets);
  int c, quiet = 0;
  if (!sets) return 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:l:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': o.output = optarg; break;
    case 'l': o.layout = optarg; break;
    case OPT_SET: sets[o.nsets++] = optarg; break;
    case OPT_COPY: o.copy = 1; break;
    case OPT_FORCE: o.force = 1; break;
    case 'q': quiet = 1; break;
    case 'h': fputs(rf__help_import, stdout); free(sets); return 0;
    default:
      free(sets);
      return rf_cli_bad_option("import", argv, "o:l:qh", opts);
    }
  }
  if (optind + 1 != argc || !o.output) {
    free(sets);
    return rf_cli_usage("import", optind + 1 != argc ? "expected one SOURCE" : "-o CAPTURE.h5 is required");
  }
  o.source = argv[optind];
  o.sets = sets;
  rf_import_report r;
  int st = rf_import(&o, &r);
  free(sets);
  if (st) return rf_cli_fail(st);
  if (quiet) return 0;
  static const char *const kinds[] = {"", "SigMF", "HDF5", "raw"};
  char rec[32], cap[32];
  rf__bytes(r.sample_bytes, rec, sizeof rec);
  rf__bytes(r.file_bytes, cap, sizeof cap);
  printf("imported %s (%s) -> %s: %zu channel%s, %zu pulses x %zu samples (%s), %zu dwells\n", o.source,
         kinds[r.kind], o.output, r.channels, r.channels == 1 ? "" : "s", r.pulses, r.samples,
         r.sample_type == RF_SAMPLE_INT16 ? "int16" : "float32", r.dwells);
  if (r.storage == RF_IQ_EXTERNAL)
    printf("samples: referred to, not copied: external raw storage (%zu segment%s)\n", r.segments,
           r.segments == 1 ? "" : "s");
  else if (r.storage == RF_IQ_VIRTUAL)
    printf("samples: referred to, not copied: virtual dataset (%zu mapping%s)\n", r.mappings,
           r.mappings == 1 ? "" : "s");
  else
    printf("samples: copied into the capture: %s\n", r.reason);
  printf("sizes: samples in the recording %s (%llu bytes), capture file %s (%llu bytes)\n", rec,
         (unsigned long long)r.sample_bytes, cap, (unsigned long long)r.file_bytes);
  for (size_t i = 0; i < r.nsources && i < 8; i++) printf("source: %s\n", r.sources[i]);
  if (r.nsources > 8) printf("source: ... (%zu in all)\n", r.nsources);
  if (r.notes[0]) printf("note: %s\n", r.notes);
  if (r.needs_allow_external)
    printf("note: a source lies outside the capture's folder (absolute path above): 'radarflow process' will "
           "need --allow-external\n");
  return 0;
}
