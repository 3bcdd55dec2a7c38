/* radarflow command-line interface: the only code that calls exit(). Every
 * command maps statuses to exit codes through rf_cli_exit_code (cli.c). */
#include "../bench/rf_bench.h"
#include "../datasets/rf_sim.h"
#include "../host/rf_build.h"
#include "../host/rf_cl.h"
#include "../host/rf_progress.h"
#include "../host/rf_suggest.h"
#include "../pipelines/rf_pipeline.h"
#include "../pipelines/rf_quicklook.h"
#include "../pipelines/rf_supervise.h"
#include "rf_cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static void rf__on_signal(int sig) {
  (void)sig;
  rf_cancel = 1;
}

static const char rf__help_main[] =
    "Usage: radarflow COMMAND [OPTIONS]\n"
    "Pulse-Doppler processing of recorded radar IQ captures (HDF5).\n\n"
    "Commands:\n"
    "  simulate SCENARIO -o CAPTURE.h5 [--seed N]   simulate a scenario into a capture\n"
    "  process CAPTURE.h5 -o OUTDIR [OPTIONS]       detect and track targets, write plot\n"
    "                                               and track files (HDF5, CSV, ASTERIX)\n"
    "  track PLOTS.h5|csv -o OUTDIR [OPTIONS]       rerun the tracker on a plot file\n"
    "  batch INPUT... -o OUTROOT [OPTIONS]          many captures: resumable, sharded\n"
    "  batch-merge OUTROOT                          join the shards' summaries\n"
    "  quicklook OUTDIR|OUTROOT [--dwell N]         PNG pictures and index.html of products\n"
    "  import SOURCE -o CAPTURE.h5 [--layout L]     a capture from a SigMF, raw or HDF5\n"
    "                                               recording, referring to its samples\n"
    "  inspect CAPTURE.h5                           what a capture holds and what follows\n"
    "  bench [OPTIONS]                              run the benchmark workloads\n"
    "  bench-compare A.json B.json                  compare two bench reports, stage by stage\n"
    "  devices                                      list compute devices (--device values)\n"
    "  config-doc                                   print the settings table (markdown)\n"
    "  help COMMAND                                 describe a command (as COMMAND --help)\n\n"
    "Options: --help, --version. 'radarflow COMMAND --help' describes a command.\n"
    "Exit status: 0 success, 2 bad usage or bad input, 3 compute device failure,\n"
    "130 interrupted (SIGINT/SIGTERM; stops between dwells, writes nothing), 1 other.\n";

static const char rf__help_simulate[] =
    "Usage: radarflow simulate SCENARIO -o CAPTURE.h5 [--seed N]\n"
    "Simulates the scenario (docs/scenarios.md) into a capture file (formats.md),\n"
    "including /truth. The same seed gives the same file.\n\n"
    "  -o, --output FILE   capture to write (required)\n"
    "  -s, --seed N        random seed (default 1)\n"
    "  -q, --quiet         print nothing but errors\n";

static const char rf__help_process[] =
    "Usage: radarflow process CAPTURE.h5 -o OUTDIR [OPTIONS]\n"
    "Runs the pulse-Doppler pipeline on every dwell, tracks the plots, and writes\n"
    "OUTDIR/plots.h5, plots.csv, tracks.h5, tracks.csv, plots.ast, tracks.ast\n"
    "(ASTERIX CAT015/CAT048/CAT062), plots.pcap, tracks.pcap (the same feed as\n"
    "UDP datagrams) and run.json - all of them or, on failure, none: the new set\n"
    "is written beside OUTDIR and switched in whole; OUTDIR must be absent, empty\n"
    "or a radarflow product folder (docs/reliability.md).\n\n"
    "  -o, --output DIR       output folder (created if missing; required)\n"
    "  -c, --config FILE      settings (INI); defaults in docs/config.md\n"
    "      --set SEC.KEY=VAL  override one setting (repeatable)\n"
    "  -d, --device DEV       auto (default: the first OpenCL GPU, else the CPU), cpu,\n"
    "                         opencl (first GPU, else first device), opencl:P:D, or part\n"
    "                         of a device name ('radarflow devices' lists them). auto\n"
    "                         falls back to the CPU with a warning if OpenCL fails;\n"
    "                         an explicit OpenCL device that fails exits with 3\n"
    "      --quicklook        also draw OUTDIR/quicklook/ (see radarflow quicklook --help);\n"
    "                         pictures drawn there before are redrawn on every run\n"
    "      --allow-external   read samples and follow HDF5 links into files outside the\n"
    "                         capture's folder (refused by default)\n"
    "      --print-config     print the settings in force and exit\n"
    "  -q, --quiet            print nothing but errors (no progress)\n"
    "  -v, --verbose          a progress line for every dwell\n\n"
    "Progress (dwell k of N, rate, time left) goes to stderr: one line redrawn in\n"
    "place on a terminal, else a timestamped line every few seconds.\n";

static const char rf__help_devices[] =
    "Usage: radarflow devices\n"
    "Lists the OpenCL platforms and devices and the CPU backend, each with the\n"
    "identifier 'radarflow process --device' takes.\n";

static const char rf__help_config_doc[] =
    "Usage: radarflow config-doc\n"
    "Prints every processing setting as a markdown table: section, key, default,\n"
    "range or choices, meaning (docs/config.md is this table). Settings are given\n"
    "in an INI file (-c) or as --set SECTION.KEY=VALUE.\n";

static int rf__cmd_simulate(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"seed", required_argument, 0, 's'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL;
  uint64_t seed = 1;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:s:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 's': {
      char *end;
      seed = strtoull(optarg, &end, 10);
      if (*end || !*optarg) return rf_cli_usage("simulate", "--seed needs a non-negative integer");
      break;
    }
    case 'q': rf_log_level = 0; break;
    case 'h': fputs(rf__help_simulate, stdout); return 0;
    default: return rf_cli_bad_option("simulate", argv, "o:s:qh", opts);
    }
  }
  if (optind + 1 != argc) return rf_cli_usage("simulate", "expected one SCENARIO file");
  if (!out) return rf_cli_usage("simulate", "-o CAPTURE.h5 is required");
  rf_scenario *sc = NULL;
  int st = rf_scenario_load(&sc, argv[optind]);
  if (st) return rf_cli_fail(st);
  double t0 = rf_now_s();
  st = rf_simulate(sc, out, seed);
  if (!st) {
    rf_scenario_summary s;
    rf_scenario_get_summary(sc, &s);
    rf_log(1, "simulated %s: %zu channels, %zu dwells, %zu pulses x %zu samples, %zu targets "
              "in %.2f s -> %s",
           s.name, s.channels, s.dwells, s.pulses, s.samples, s.targets, rf_now_s() - t0, out);
  }
  rf_scenario_destroy(sc);
  return st ? rf_cli_fail(st) : 0;
}

/* The summary of a finished `process` run, on stdout. */
static void rf__process_summary(const char *capture, const char *out, const rf_run_summary *s) {
  printf("%s: %zu dwells, %zu plots, %zu confirmed track%s (%zu tentative only; %zu deleted by the end), "
         "%.3f s (%.1f Msamples/s) on %s (%s)\n",
         capture, s->dwells, s->plots, s->track_counts.confirmed, s->track_counts.confirmed == 1 ? "" : "s",
         s->track_counts.tentative,
         s->track_counts.deleted, s->seconds, s->seconds > 0 ? 1e-6 * (double)s->samples / s->seconds : 0.0,
         s->device, s->device_name);
  for (int i = 0; i < RF_STAGE_COUNT; i++) printf("  %-18s %8.3f s\n", rf_stage_names[i], s->stage_s[i]);
  printf("  %-18s %8.3f s\n", "write", s->write_s);
  printf("outputs in %s/: plots.h5 plots.csv tracks.h5 tracks.csv plots.ast tracks.ast plots.pcap tracks.pcap run.json\n",
         out);
}

/* The pictures after a run, in a supervised child: drawn when asked for,
 * and redrawn when an earlier run had drawn them (so they never show older
 * products). A redraw that fails warns; an asked-for one fails the run. */
static int rf__process_quicklook(const char *capture, const char *out, const rf_config *cfg, int asked, int before) {
  if (!asked && !before) return 0;
  int st = rf_process_supervised_quicklook(capture, out, cfg);
  if (st && !asked) {
    rf_warn("%s; the pictures of the earlier run were not redrawn", rf_errmsg());
    rf_errmsg_clear();
    rf_quicklook_remove(out);
    return 0;
  }
  if (st) return rf_cli_fail(st);
  if (rf_log_level >= 1) printf("pictures in %s/%s/ (%s)%s\n", out, RF_QL_DIR, RF_QL_INDEX, asked ? "" : ", redrawn");
  return 0;
}

static int rf__cmd_process(int argc, char **argv) {
  enum { OPT_SET = 256, OPT_PRINT, OPT_QUICKLOOK, OPT_EXTERNAL };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"config", required_argument, 0, 'c'},
                                       {"set", required_argument, 0, OPT_SET},
                                       {"device", required_argument, 0, 'd'},
                                       {"print-config", no_argument, 0, OPT_PRINT},
                                       {"quicklook", no_argument, 0, OPT_QUICKLOOK},
                                       {"allow-external", no_argument, 0, OPT_EXTERNAL},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  static const char shorts[] = "o:c:d:qvh";
  const char *out = NULL, *device = "auto";
  int print = 0, quicklook = 0, st, c;
  rf_config cfg;
  rf_config_defaults(&cfg);
  optind = 1;
  /* Settings apply in command-line order: a later --set wins. */
  while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'c':
      if ((st = rf_config_load(&cfg, optarg))) return rf_cli_fail(st);
      break;
    case OPT_SET:
      if ((st = rf_config_set(&cfg, optarg))) return rf_cli_fail(st);
      break;
    case 'd': device = optarg; break;
    case OPT_PRINT: print = 1; break;
    case OPT_QUICKLOOK: quicklook = 1; break;
    case OPT_EXTERNAL: rf_capture_allow_external(1); break;
    case 'q': rf_log_level = 0; break;
    case 'v': rf_log_level = 2; break;
    case 'h': fputs(rf__help_process, stdout); return 0;
    default: return rf_cli_bad_option("process", argv, shorts, opts);
    }
  }
  if (print) {
    char *ini = rf_config_to_ini(&cfg);
    if (!ini) return rf_cli_fail(RF_ENOMEM);
    fputs(ini, stdout);
    rf__free(ini);
    return 0;
  }
  if (!*device) return rf_cli_usage("process", "--device needs a value");
  if (optind + 1 != argc) return rf_cli_usage("process", optind == argc ? "expected a CAPTURE file" : "expected one CAPTURE file");
  if (!out) return rf_cli_usage("process", "-o OUTDIR is required");
  if ((st = rf_config_check(&cfg))) return rf_cli_fail(st);
  const char *capture = argv[optind];
  struct stat sb;
  const char *slash = strrchr(capture, '/');
  rf_progress_opts po = {.mode = rf_log_level < 1    ? RF_PROGRESS_NONE
                                 : rf_log_level >= 2 ? RF_PROGRESS_PLAIN
                                                     : rf_progress_auto_mode(),
                         .label = slash ? slash + 1 : capture,
                         .item = "dwell",
                         .work_total = stat(capture, &sb) == 0 ? (double)sb.st_size : 0,
                         .plain_every_s = rf_log_level >= 2 ? 0 : 5,
                         .eta = 1};
  rf_progress *prog = NULL;
  if ((st = rf_progress_create(&prog, &po))) return rf_cli_fail(st);
  rf_progress_set_dwells(prog);
  /* The work runs in a supervised child (rf_supervise.h): a crash or hang
   * of libhdf5 on a corrupt capture is reported, never inherited. Pictures
   * an earlier run drew are redrawn (the switch replaces the old set). */
  const int had_pictures = rf_quicklook_present(out);
  rf_run_summary s;
  st = rf_process_supervised(capture, out, &cfg, device, 0, &s);
  rf_progress_set_dwells(NULL);
  rf_progress_destroy(prog);
  if (st) return rf_cli_fail(st);
  if (rf_log_level >= 1) rf__process_summary(capture, out, &s);
  fflush(stdout);
  return rf__process_quicklook(capture, out, &cfg, quicklook, had_pictures);
}

/* What clinfo calls the device's type. */
static const char *rf__cl_type(cl_device_id d) {
  cl_device_type t = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL) != CL_SUCCESS) return "unknown";
  if (t & CL_DEVICE_TYPE_GPU) return "GPU";
  if (t & CL_DEVICE_TYPE_CPU) return "CPU";
  if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  if (t & CL_DEVICE_TYPE_CUSTOM) return "custom";
  return "other";
}

/* Every OpenCL platform and device, then the CPU backend, with the value
 * --device takes for each. */
static int rf__cmd_devices(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(rf__help_devices, stdout);
    return 0;
  }
  if (argc > 1) return rf_cli_usage("devices", "takes no arguments");
  rf_cl_device_info *v = NULL;
  size_t n = 0;
  int st = rf_cl_devices(&v, &n);
  if (st) printf("OpenCL: none (%s)\n\n", rf_errmsg());
  long last = -1;
  for (size_t i = 0; i < n; i++) {
    const rf_cl_device_info *d = &v[i];
    if ((long)d->platform != last) {
      printf("OpenCL platform %u: %s\n", d->platform, d->platform_name);
      last = (long)d->platform;
    }
    printf("  %-14s %s\n", d->id, d->name);
    printf("      type %s, vendor %s, driver %s\n", rf__cl_type(d->device_id), d->vendor, d->driver);
    printf("      %u compute units, %.0f MiB global memory (%.0f MiB per buffer), %s, %s\n", d->compute_units,
           (double)d->global_mem_bytes / 1048576.0, (double)d->max_alloc_bytes / 1048576.0, d->version,
           d->c_version);
  }
  if (n) printf("\n");
  printf("CPU backend\n  %-14s FFTW + OpenMP on the host\n", "cpu");
  printf("\n--device auto (default) takes the first GPU above, else cpu.\n");
  rf__free(v);
  return 0;
}

static int rf__cmd_config_doc(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(rf__help_config_doc, stdout);
    return 0;
  }
  if (argc > 1) return rf_cli_usage("config-doc", "takes no arguments");
  char *md = rf_config_doc_markdown();
  if (!md) return rf_cli_fail(RF_ENOMEM);
  fputs(md, stdout);
  rf__free(md);
  return 0;
}

static int rf__cmd_bench(int argc, char **argv) {
  int st = rf_bench_main(argc, argv);
  return st ? rf_cli_fail(st) : 0;
}

static int rf__cmd_bench_compare(int argc, char **argv) {
  int st = rf_bench_compare_main(argc, argv);
  return st ? rf_cli_fail(st) : 0;
}

/* Settings libraries read once, when they are loaded (before main), so
 * they are set here and the program executes itself again:
 * - OpenMP threads wait passively (they sleep at a barrier instead of
 *   spinning), so a busy shared machine, or this program's own batch
 *   workers, keep their cores (OMP_WAIT_POLICY). A policy the user chose
 *   (OMP_WAIT_POLICY or GOMP_SPINCOUNT set) is kept.
 * - OpenBLAS gets the kernels of this CPU when it fell back to its generic
 *   ones for a CPU it does not know (OPENBLAS_CORETYPE, unless set;
 *   rf_bf_blas_core_hint).
 * If the exec fails the run goes on under the libraries' defaults. */
static void rf__library_env_defaults(char **argv) {
  int again = 0;
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") && !setenv("OMP_WAIT_POLICY", "PASSIVE", 1))
    again = 1;
  const char *core = getenv("OPENBLAS_CORETYPE") ? NULL : rf_bf_blas_core_hint();
  if (core && !setenv("OPENBLAS_CORETYPE", core, 1)) again = 1;
  if (again) execv("/proc/self/exe", argv);
}

/* The commands: name and entry (argv[0] is the command's name). Hidden
 * ones are internal and not offered as "did you mean". */
static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  int hidden;
} rf__cmds[] = {
    {"simulate", rf__cmd_simulate, 0},
    {"process", rf__cmd_process, 0},
    {"track", rf_track_cmd, 0},
    {"batch", rf_batch_cmd, 0},
    {"batch-merge", rf_batch_merge_cmd, 0},
    {"batch-worker", rf_batch_worker_cmd, 1},
    {"quicklook", rf_quicklook_cmd, 0},
    {"import", rf_import_cmd, 0},
    {"inspect", rf_inspect_cmd, 0},
    {"bench", rf__cmd_bench, 0},
    {"bench-compare", rf__cmd_bench_compare, 0},
    {"devices", rf__cmd_devices, 0},
    {"config-doc", rf__cmd_config_doc, 0},
};
#define RF__NCMDS (sizeof rf__cmds / sizeof rf__cmds[0])

/* "unknown command" with the nearest command's name; exit 2. */
static int rf__unknown_command(const char *cmd) {
  const char *names[RF__NCMDS + 1];
  size_t n = 0;
  for (size_t i = 0; i < RF__NCMDS; i++)
    if (!rf__cmds[i].hidden) names[n++] = rf__cmds[i].name;
  names[n++] = "help";
  const char *near = rf_suggest(cmd, names, n);
  if (near)
    fprintf(stderr, "radarflow: unknown command '%s'; did you mean '%s'? (see 'radarflow --help')\n", cmd, near);
  else
    fprintf(stderr, "radarflow: unknown command '%s' (see 'radarflow --help')\n", cmd);
  return 2;
}

static int rf__find_command(const char *name) {
  for (size_t i = 0; i < RF__NCMDS; i++)
    if (!strcmp(name, rf__cmds[i].name)) return (int)i;
  return -1;
}

int main(int argc, char **argv) {
  rf__library_env_defaults(argv);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = rf__on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  opterr = 0; /* option errors are reported by rf_cli_bad_option, one line each */
  if (argc < 2) {
    fputs(rf__help_main, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
      (!strcmp(cmd, "help") && (argc == 2 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))) {
    fputs(rf__help_main, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("radarflow %s\ncommit %s, built with %s\n", RF_VERSION, rf_build_commit(), rf_build_compiler());
    return 0;
  }
  if (!strcmp(cmd, "help")) {
    if (argc > 3) {
      fprintf(stderr, "radarflow: help: expected one COMMAND (see 'radarflow --help')\n");
      return 2;
    }
    int k = rf__find_command(argv[2]);
    if (k < 0 || rf__cmds[k].hidden) return rf__unknown_command(argv[2]);
    char *hv[] = {(char *)rf__cmds[k].name, "--help", NULL};
    return rf__cmds[k].run(2, hv);
  }
  if (cmd[0] == '-') {
    fprintf(stderr, "radarflow: unrecognized option '%s'; a COMMAND comes first (see 'radarflow --help')\n", cmd);
    return 2;
  }
  int k = rf__find_command(cmd);
  if (k < 0) return rf__unknown_command(cmd);
  return rf__cmds[k].run(argc - 1, argv + 1);
}
