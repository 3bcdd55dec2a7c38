/* radarflow command-line interface: the only code that calls exit(). Every
 * command maps statuses to exit codes through rf_cli_exit_code (cli.c). */
#include "../bench/rf_bench.h"
#include "../datasets/rf_sim.h"
#include "../host/rf_cl.h"
#include "../pipelines/rf_pipeline.h"
#include "../pipelines/rf_quicklook.h"
#include "../pipelines/rf_supervise.h"
#include "rf_cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    "  devices                                      list compute devices (--device values)\n"
    "  config-doc                                   print the settings table (markdown)\n\n"
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
    "      --quicklook        also draw OUTDIR/quicklook/ (see radarflow quicklook --help)\n"
    "      --allow-external   read samples and follow HDF5 links into files outside the\n"
    "                         capture's folder (refused by default)\n"
    "      --print-config     print the settings in force and exit\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -v, --verbose          print progress per dwell\n";

static int rf__cmd_simulate(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"seed", required_argument, 0, 's'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL;
  uint64_t seed = 1;
  int c;
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
    default: return rf_cli_usage("simulate", "unknown option");
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
  const char *out = NULL, *device = "auto";
  int print = 0, quicklook = 0, st, c;
  rf_config cfg;
  rf_config_defaults(&cfg);
  /* Settings apply in command-line order: a later --set wins. */
  while ((c = getopt_long(argc, argv, "o:c:d:qvh", opts, NULL)) != -1) {
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
    default: return rf_cli_usage("process", "unknown option");
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
  if (optind + 1 != argc) return rf_cli_usage("process", "expected one CAPTURE file");
  if (!out) return rf_cli_usage("process", "-o OUTDIR is required");
  if ((st = rf_config_check(&cfg))) return rf_cli_fail(st);
  /* The work runs in a supervised child (rf_supervise.h): a crash or hang
   * of libhdf5 on a corrupt capture is reported, never inherited. */
  rf_run_summary s;
  st = rf_process_supervised(argv[optind], out, &cfg, device, 0, &s);
  if (st) return rf_cli_fail(st);
  if (rf_log_level >= 1) {
    printf("%s: %zu dwells, %zu plots, %zu tracks, %.3f s (%.1f Msamples/s) on %s (%s)\n",
           argv[optind], s.dwells, s.plots, s.tracks, s.seconds, s.seconds > 0 ? 1e-6 * (double)s.samples / s.seconds : 0.0, s.device,
           s.device_name);
    for (int i = 0; i < RF_STAGE_COUNT; i++)
      printf("  %-18s %8.3f s\n", rf_stage_names[i], s.stage_s[i]);
    printf("  %-18s %8.3f s\n", "write", s.write_s);
    printf("outputs in %s/: plots.h5 plots.csv tracks.h5 tracks.csv plots.ast tracks.ast plots.pcap tracks.pcap "
           "run.json\n",
           out);
    fflush(stdout);
  }
  if (quicklook) {
    if ((st = rf_process_supervised_quicklook(argv[optind], out, &cfg))) return rf_cli_fail(st);
    if (rf_log_level >= 1) printf("pictures in %s/quicklook/ (index.html)\n", out);
  }
  return 0;
}

/* Every OpenCL platform and device, then the CPU backend, with the value
 * --device takes for each. */
static int rf__cmd_devices(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    puts("Usage: radarflow devices\nLists OpenCL platforms and devices and the CPU backend, each with\n"
         "the identifier 'radarflow process --device' takes.");
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
    printf("      type %s, vendor %s, driver %s\n", d->is_gpu ? "GPU" : "other", d->vendor, d->driver);
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

/* OpenMP threads wait passively (they sleep at a barrier instead of
 * spinning), so a busy shared machine, or this program's own batch workers,
 * keep their cores. libgomp reads OMP_WAIT_POLICY once, when it is loaded
 * (before main), so the variable is set here and the program executes itself
 * again. A policy the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT set) is
 * kept. If the exec fails the run goes on under libgomp's default. */
static void rf__omp_passive_default(char **argv) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
  execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
  rf__omp_passive_default(argv);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = rf__on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (argc < 2) {
    fputs(rf__help_main, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(rf__help_main, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("radarflow %s\n", RF_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "simulate")) return rf__cmd_simulate(argc - 1, argv + 1);
  if (!strcmp(cmd, "process")) return rf__cmd_process(argc - 1, argv + 1);
  if (!strcmp(cmd, "track")) return rf_track_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "batch")) return rf_batch_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "batch-merge")) return rf_batch_merge_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "batch-worker")) return rf_batch_worker_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "quicklook")) return rf_quicklook_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "import")) return rf_import_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "inspect")) return rf_inspect_cmd(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench")) {
    int st = rf_bench_main(argc - 1, argv + 1);
    return st ? rf_cli_fail(st) : 0;
  }
  if (!strcmp(cmd, "devices")) return rf__cmd_devices(argc - 1, argv + 1);
  if (!strcmp(cmd, "config-doc")) {
    char *md = rf_config_doc_markdown();
    if (!md) return rf_cli_fail(RF_ENOMEM);
    fputs(md, stdout);
    rf__free(md);
    return 0;
  }
  fprintf(stderr, "radarflow: unknown command '%s'\n%s", cmd, rf__help_main);
  return 2;
}
