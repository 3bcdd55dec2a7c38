/* The command line: help and version, exit codes, refusal of malformed
 * captures with exit 2 and no output, and a good run's three products. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../io/rf_tracks.h"
#include "rf_testutil.h"

START_TEST(cli_help_version_and_usage) {
  char log[512], dir[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_usage");
  rf_test_join(log, sizeof log, dir, "log.txt");
  ck_assert_int_eq(rf_test_cli(log, "--version", NULL), 0);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "radarflow 0."));
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "--help", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", "--help", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "simulate", "--help", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "bench", "--help", NULL), 0);
  /* Bad usage: exit 2 with a message. */
  ck_assert_int_eq(rf_test_cli(log, NULL), 2);
  ck_assert_int_eq(rf_test_cli(log, "frobnicate", NULL), 2);
  ck_assert_int_eq(rf_test_cli(log, "process", "x.h5", NULL), 2); /* no -o */
  ck_assert_int_eq(rf_test_cli(log, "process", "--bogus", NULL), 2);
  ck_assert_int_eq(rf_test_cli(log, "process", "x.h5", "-o", dir, "--set", "cfar.pfa=2", NULL), 2);
  txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "[cfar] pfa"));
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "simulate", "/nonexistent.ini", "-o", "x.h5", NULL), 2);
}
END_TEST

/* Runs the CLI and checks its output is exactly one line holding every
 * string of want[] (NULL-terminated). Returns the exit status. */
static int one_line(const char *log, const char *const *want, const char *const *args) {
  const char *argv[16] = {rf_test_bin()};
  size_t n = 1;
  for (; args[n - 1]; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  int code = rf_test_run(log, argv);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(txt);
  ck_assert_msg(strlen(txt) > 0 && strchr(txt, '\n') == txt + strlen(txt) - 1, "%s: not one line: '%s'", args[0], txt);
  ck_assert_msg(!strncmp(txt, "radarflow: ", 11), "not GNU style: '%s'", txt);
  for (size_t i = 0; want[i]; i++) ck_assert_msg(strstr(txt, want[i]), "'%s' lacks '%s'", txt, want[i]);
  free(txt);
  return code;
}

/* Mistakes get one line each, "radarflow: ...", with the nearest name. */
START_TEST(cli_messages) {
  char dir[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_messages");
  rf_test_join(log, sizeof log, dir, "log.txt");
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
  ck_assert_int_eq(one_line(log, ARGS("unrecognized option '--sett'", "did you mean '--set'?"), ARGS("process", "--sett")), 2);
  ck_assert_int_eq(one_line(log, ARGS("option '-o' needs a value"), ARGS("process", "-o")), 2);
  ck_assert_int_eq(one_line(log, ARGS("option '--output' needs a value"), ARGS("process", "x.h5", "--output")), 2);
  ck_assert_int_eq(one_line(log, ARGS("unknown command 'proces'", "did you mean 'process'?"), ARGS("proces", "x.h5")), 2);
  ck_assert_int_eq(one_line(log, ARGS("unknown command 'nonsense'"), ARGS("help", "nonsense")), 2);
  ck_assert_int_eq(one_line(log, ARGS("[cfar] metod: unknown setting", "did you mean cfar.method?"),
                            ARGS("process", "x.h5", "-o", dir, "--set", "cfar.metod=os")), 2);
  ck_assert_int_eq(one_line(log, ARGS("option '--q' is ambiguous", "--quicklook, --quiet"), ARGS("process", "--q")), 2);
  ck_assert_int_eq(one_line(log, ARGS("did you mean '--jobs'?"), ARGS("batch", "--jobz", "2")), 2);
  /* A missing plot file: the file and the reason, not HDF5's own text
   * (into a fresh folder: dir holds this test's files, which track refuses
   * to write beside, as the next check shows). */
  char tout[600];
  rf_test_join(tout, sizeof tout, dir, "tracks-out");
  ck_assert_int_eq(one_line(log, ARGS("nope.h5: cannot open: No such file or directory"), ARGS("track", "nope.h5", "-o", tout)), 2);
  ck_assert(!rf_test_file_exists(tout));
  ck_assert_int_eq(one_line(log, ARGS("is not a radarflow product folder"), ARGS("track", "nope.h5", "-o", dir)), 2);
  /* A file that is not HDF5. */
  char bad[600];
  rf_test_join(bad, sizeof bad, dir, "bad.h5");
  FILE *f = fopen(bad, "w");
  fputs("not hdf5\n", f);
  fclose(f);
  ck_assert_int_eq(one_line(log, ARGS("bad.h5: not an HDF5 file"), ARGS("track", bad, "-o", tout)), 2);
  /* bench refuses an unknown workload before measuring anything. */
  ck_assert_int_eq(one_line(log, ARGS("no workload named 'demi'", "did you mean 'demo'?"),
                            ARGS("bench", "--workload", "tracker,demi", "--dir", dir)), 2);
  /* --json onto a file that is not a bench report: refused before any work, the file kept. */
  ck_assert_int_eq(one_line(log, ARGS("bad.h5: exists and is not a radarflow bench report"),
                            ARGS("bench", "--workload", "demo", "--dir", dir, "--json", bad)), 2);
  char *kept = rf_test_read_file(bad, NULL);
  ck_assert_str_eq(kept, "not hdf5\n");
  free(kept);
#undef ARGS
  /* help COMMAND is COMMAND --help; config-doc --help is help, not the table. */
  char log2[512];
  rf_test_join(log2, sizeof log2, dir, "log2.txt");
  ck_assert_int_eq(rf_test_cli(log, "help", "process", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log2, "process", "--help", NULL), 0);
  char *a = rf_test_read_file(log, NULL), *b = rf_test_read_file(log2, NULL);
  ck_assert_str_eq(a, b);
  ck_assert(!strncmp(a, "Usage: radarflow process", 24));
  free(a);
  free(b);
  ck_assert_int_eq(rf_test_cli(log, "config-doc", "--help", NULL), 0);
  a = rf_test_read_file(log, NULL);
  ck_assert(!strncmp(a, "Usage: radarflow config-doc", 27));
  ck_assert_ptr_null(strstr(a, "|---|"));
  free(a);
}
END_TEST

START_TEST(cli_refuses_malformed_captures) {
  char dir[512], out[512], log[512], path[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_bad");
  rf_test_join(log, sizeof log, dir, "log.txt");
  size_t n = rf_test_bad_capture_count();
  ck_assert_uint_ge(n, 10);
  for (size_t i = 0; i < n; i++) {
    const char *kind, *field;
    ck_assert_int_eq(rf_test_make_bad_capture(i, dir, path, sizeof path, &kind, &field), 0);
    rf_test_join(out, sizeof out, dir, "out");
    rf_test_rm_rf(out);
    int code = rf_test_cli(log, "process", path, "-o", out, NULL);
    char *txt = rf_test_read_file(log, NULL);
    ck_assert_msg(code == 2, "%s: exit %d, output: %s", kind, code, txt);
    /* One line naming the file and the field. */
    ck_assert_msg(strstr(txt, path) && strstr(txt, field), "%s: message '%s' lacks %s", kind, txt, field);
    ck_assert_msg(strchr(txt, '\n') == txt + strlen(txt) - 1, "%s: not one line: %s", kind, txt);
    free(txt);
    ck_assert_msg(rf_test_count_entries(dir, "out") == 0 ||
                      (rf_test_count_entries(out, "plots") == 0 && rf_test_count_entries(out, "run") == 0),
                  "%s: left output behind", kind);
  }
}
END_TEST

START_TEST(cli_process_writes_products) {
  char dir[512], cap[512], out[512], log[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_good");
  rf_test_join(cap, sizeof cap, dir, "good.h5");
  rf_test_join(out, sizeof out, dir, "products/deeper");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_capture_opts o = rf_test_capture_defaults();
  ck_assert_int_eq(rf_test_write_capture(cap, &o), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "--device", "cpu", NULL), 0);
  const char *names[] = {"plots.h5",   "plots.csv",  "tracks.h5",   "tracks.csv", "plots.ast",
                         "tracks.ast", "plots.pcap", "tracks.pcap", "run.json"};
  for (int i = 0; i < 9; i++) ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, names[i])));
  /* No temporaries left: the products and their marker. */
  ck_assert_uint_eq(rf_test_count_entries(out, NULL), 10);
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, ".radarflow-products")));
  char *js = rf_test_read_file(rf_test_join(p, sizeof p, out, "run.json"), NULL);
  cJSON *root = cJSON_Parse(js);
  ck_assert_ptr_nonnull(root);
  ck_assert_str_eq(cJSON_GetObjectItem(root, "version")->valuestring, RF_VERSION);
  ck_assert_str_eq(cJSON_GetObjectItem(root, "device")->valuestring, "cpu");
  ck_assert_int_eq(cJSON_GetObjectItem(root, "dwells")->valueint, 3);
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(root, "plots")));
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(root, "tracks")));
  cJSON *in = cJSON_GetObjectItem(root, "input");
  /* The input as an absolute path (the test's is relative). */
  char *abs_cap = realpath(cap, NULL);
  ck_assert_str_eq(cJSON_GetObjectItem(in, "path")->valuestring, abs_cap);
  free(abs_cap);
  ck_assert_int_eq((long long)cJSON_GetObjectItem(in, "size_bytes")->valuedouble, rf_test_file_size(cap));
  /* Settings by the table's types: words as strings, numbers as numbers. */
  cJSON *cfar = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "cfar");
  ck_assert_str_eq(cJSON_GetObjectItem(cfar, "method")->valuestring, "ca");
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cfar, "pfa")));
  ck_assert(cJSON_GetObjectItem(cfar, "pfa")->valuedouble == 1e-6);
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cfar, "train_range")));
  ck_assert_int_eq(cJSON_GetObjectItem(cfar, "train_range")->valueint, 0);   /* automatic: the setting as given */
  ck_assert_int_eq(cJSON_GetObjectItem(cfar, "guard_range")->valueint, -1);
  /* Track counts: confirmed and tentative add up to the ids. */
  double ids = cJSON_GetObjectItem(root, "tracks")->valuedouble;
  ck_assert(cJSON_GetObjectItem(root, "tracks_confirmed")->valuedouble +
                cJSON_GetObjectItem(root, "tracks_tentative")->valuedouble ==
            ids);
  ck_assert(cJSON_GetObjectItem(root, "tracks_deleted")->valuedouble <= ids);
  ck_assert_str_eq(cJSON_GetObjectItem(root, "command")->valuestring, "process");
  ck_assert(cJSON_IsString(cJSON_GetObjectItem(root, "commit")));
  cJSON *times = cJSON_GetObjectItem(root, "stage_seconds");
  const char *stages[] = {"read", "pulse_compression", "beamforming", "doppler", "cfar", "extraction", "write"};
  for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
    ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(times, stages[i])), "run.json lacks stage %s", stages[i]);
  cJSON_Delete(root);
  free(js);
  /* --print-config prints INI that reads back as a config. */
  rf_test_join(p, sizeof p, dir, "cfg.ini");
  ck_assert_int_eq(rf_test_cli(p, "process", "--set", "cfar.method=os", "--print-config", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-c", p, "-q", NULL), 0);
  char *quiet = rf_test_read_file(log, NULL);
  ck_assert_str_eq(quiet, ""); /* -q: no summary, no progress */
  free(quiet);
  js = rf_test_read_file(rf_test_join(p, sizeof p, out, "run.json"), NULL);
  ck_assert_ptr_nonnull(strstr(js, "\"method\":\t\"os\""));
  free(js);
  /* -v: a timestamped progress line for every dwell, the last at 3 of 3. */
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-v", "--device", "cpu", NULL), 0);
  quiet = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(quiet, "Z good.h5: dwell 1 of 3 ("));
  ck_assert_ptr_nonnull(strstr(quiet, "Z good.h5: dwell 3 of 3 (100% of "));
  free(quiet);

  /* An unknown device is bad usage. */
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "--device", "tpu", NULL), 2);
}
END_TEST

/* The spin count libgomp reports last (OMP_DISPLAY_ENV=verbose prints it
 * when the library loads: once before the CLI re-executes itself, once
 * after), or -1 when it printed none. */
static long long rf__last_spincount(const char *log) {
  char *txt = rf_test_read_file(log, NULL);
  long long v = -1;
  for (const char *p = txt ? strstr(txt, "GOMP_SPINCOUNT = '") : NULL; p; p = strstr(p + 1, "GOMP_SPINCOUNT = '"))
    v = atoll(p + strlen("GOMP_SPINCOUNT = '"));
  free(txt);
  return v;
}

/* OpenMP waits passively unless the user chose otherwise: libgomp's own
 * report of its settings (not radarflow's) says spin count 0, which is what
 * OMP_WAIT_POLICY=PASSIVE gives; an explicit policy is kept. */
START_TEST(cli_openmp_waits_passively) {
  char dir[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_omp");
  rf_test_join(log, sizeof log, dir, "log.txt");
  unsetenv("OMP_WAIT_POLICY");
  unsetenv("GOMP_SPINCOUNT");
  setenv("OMP_DISPLAY_ENV", "verbose", 1);
  ck_assert_int_eq(rf_test_cli(log, "--version", NULL), 0);
  ck_assert_int_eq(rf__last_spincount(log), 0);
  setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  ck_assert_int_eq(rf_test_cli(log, "--version", NULL), 0);
  ck_assert_int_gt(rf__last_spincount(log), 0);
  unsetenv("OMP_WAIT_POLICY");
  setenv("GOMP_SPINCOUNT", "1234", 1);
  ck_assert_int_eq(rf_test_cli(log, "--version", NULL), 0);
  ck_assert_int_eq(rf__last_spincount(log), 1234);
  unsetenv("GOMP_SPINCOUNT");
  unsetenv("OMP_DISPLAY_ENV");
}
END_TEST

/* bench refuses its headline ratio when other processes took a core: the
 * test keeps one core busy itself (a spinning child), so the load is known
 * independently of what bench measures. */
START_TEST(cli_bench_says_machine_busy) {
  char dir[512], log[512], json[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_bench_busy");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_join(json, sizeof json, dir, "bench.json");
  /* A user's file named as bench's capture: bench works in a folder of its
   * own under --dir and never touches it. */
  char mine[512];
  rf_test_join(mine, sizeof mine, dir, "bench-demo.h5");
  FILE *mf = fopen(mine, "w");
  ck_assert_ptr_nonnull(mf);
  fputs("my own file\n", mf);
  fclose(mf);
  pid_t spin = fork();
  ck_assert_int_ge(spin, 0);
  if (spin == 0)
    for (volatile unsigned long n = 0;; n++) {
    }
  int code = rf_test_cli(log, "bench", "--workload", "demo", "--repeat", "2", "--dir", dir, "--json", json, NULL);
  kill(spin, SIGKILL);
  waitpid(spin, NULL, 0);
  ck_assert_int_eq(code, 0);
  char *js = rf_test_read_file(json, NULL);
  cJSON *root = cJSON_Parse(js);
  ck_assert_ptr_nonnull(root);
  cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "workloads"), 0);
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(w, "machine_busy")));
  /* The spinner gets at least its fair share of a core: half of one on a
   * single-core machine, more with more cores. */
  ck_assert_double_ge(cJSON_GetObjectItem(w, "other_processes_cores")->valuedouble, 0.4);
  ck_assert(cJSON_IsNull(cJSON_GetObjectItem(w, "ratio_to_fft_floor")));
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(w, "load_average_start")));
  cJSON_Delete(root);
  free(js);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "FFT floor not reported: machine busy"));
  free(txt);
  txt = rf_test_read_file(mine, NULL);
  ck_assert_str_eq(txt, "my own file\n");
  free(txt);
  ck_assert_uint_eq(rf_test_count_entries(dir, "radarflow-bench."), 0); /* its own folder removed */
}
END_TEST

/* Track ids of a tracks file counted here, independently of the program:
 * ids, ever confirmed (or coasting), never confirmed, last row deleted. */
static void count_tracks(const char *path, double c[4]) {
  rf_track_list l = {0};
  ck_assert_int_eq(rf_tracks_read(path, &l), 0);
  memset(c, 0, 4 * sizeof *c);
  for (int32_t id = 1; id < 100000; id++) {
    int seen = 0, conf = 0, last = -1;
    for (size_t i = 0; i < l.n; i++)
      if (l.v[i].track_id == id) {
        seen = 1;
        conf |= l.v[i].status == RF_TRACK_CONFIRMED || l.v[i].status == RF_TRACK_COASTING;
        last = l.v[i].status;
      }
    if (!seen) continue;
    c[0]++;
    c[conf ? 1 : 2]++;
    if (last == RF_TRACK_DELETED) c[3]++;
  }
  rf_track_list_free(&l);
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItem(o, k);
  ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
  return v->valuedouble;
}

/* `track` records its run in run.json (settings, input, counts) and
 * quicklook draws its products; the summary lines and run.json count
 * confirmed, tentative and deleted tracks as tracks.csv holds them. */
START_TEST(cli_track_run_json_and_counts) {
  char dir[512], cap[512], out[512], tr[512], log[512], p[600];
  rf_test_fresh_dir(dir, sizeof dir, "cli_track");
  rf_test_join(cap, sizeof cap, dir, "demo.h5");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(tr, sizeof tr, dir, "retracked");
  rf_test_join(log, sizeof log, dir, "log.txt");
  ck_assert_int_eq(rf_test_cli(log, "simulate", "datasets/scenarios/demo.ini", "-o", cap, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "--device", "cpu", NULL), 0);
  double c[4];
  count_tracks(rf_test_join(p, sizeof p, out, "tracks.csv"), c);
  ck_assert_double_gt(c[1], 0);
  char *txt = rf_test_read_file(log, NULL), want[200];
  snprintf(want, sizeof want, "%.0f confirmed track%s (%.0f tentative only; %.0f deleted by the end)", c[1],
           c[1] == 1 ? "" : "s", c[2], c[3]);
  ck_assert_msg(strstr(txt, want) != NULL, "summary lacks '%s': %s", want, txt);
  free(txt);
  char *js = rf_test_read_file(rf_test_join(p, sizeof p, out, "run.json"), NULL);
  cJSON *root = cJSON_Parse(js);
  ck_assert(jnum(root, "tracks") == c[0] && jnum(root, "tracks_confirmed") == c[1] &&
            jnum(root, "tracks_tentative") == c[2] && jnum(root, "tracks_deleted") == c[3]);
  cJSON_Delete(root);
  free(js);

  ck_assert_int_eq(rf_test_cli(log, "track", rf_test_join(p, sizeof p, out, "plots.h5"), "-o", tr, "--set",
                               "tracker.confirm_m=2", NULL), 0);
  count_tracks(rf_test_join(p, sizeof p, tr, "tracks.csv"), c);
  js = rf_test_read_file(rf_test_join(p, sizeof p, tr, "run.json"), NULL);
  ck_assert_ptr_nonnull(js);
  root = cJSON_Parse(js);
  ck_assert_str_eq(cJSON_GetObjectItem(root, "command")->valuestring, "track");
  cJSON *in = cJSON_GetObjectItem(root, "input");
  char *abs_plots = realpath(rf_test_join(p, sizeof p, out, "plots.h5"), NULL), *abs_cap = realpath(cap, NULL);
  ck_assert_str_eq(cJSON_GetObjectItem(in, "path")->valuestring, abs_plots);
  ck_assert_str_eq(cJSON_GetObjectItem(in, "capture_path")->valuestring, abs_cap);
  free(abs_plots);
  free(abs_cap);
  ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "tracker"), "confirm_m")->valueint, 2);
  rf_plot_list pl = {0};
  ck_assert_int_eq(rf_plots_read(rf_test_join(p, sizeof p, out, "plots.csv"), &pl), 0);
  ck_assert(jnum(root, "plots") == (double)pl.n);
  rf_plot_list_free(&pl);
  ck_assert(jnum(root, "tracks") == c[0] && jnum(root, "tracks_confirmed") == c[1] &&
            jnum(root, "tracks_tentative") == c[2] && jnum(root, "tracks_deleted") == c[3]);
  cJSON_Delete(root);
  free(js);
  /* quicklook draws a track folder: plots from the plot file run.json
   * names, the map from the capture it came from. */
  ck_assert_int_eq(rf_test_cli(log, "quicklook", tr, NULL), 0);
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, tr, "quicklook/index.html")));
  ck_assert_uint_eq(rf_test_count_entries(rf_test_join(p, sizeof p, tr, "quicklook"), "rd_dwell"), 1);
}
END_TEST

/* The ratio printed for a figure: the number after the figure's name on
 * the workload's row, last column. */
static double printed_ratio(const char *txt, const char *workload, const char *figure) {
  char key[128];
  snprintf(key, sizeof key, "\n%-22s %-20s", workload, figure);
  const char *l = strstr(txt, key);
  ck_assert_msg(l != NULL, "no row %s / %s in:\n%s", workload, figure, txt);
  const char *e = strchr(l + 1, '\n');
  ck_assert_ptr_nonnull(e);
  char row[256];
  snprintf(row, sizeof row, "%.*s", (int)(e - l - 1), l + 1);
  /* Fields: workload, figure, A, unit, B, unit, ratio [flag]. */
  double a, b, r;
  char ua[8], ub[8];
  ck_assert_msg(sscanf(row + 44, "%lf %7s %lf %7s %lf", &a, ua, &b, ub, &r) == 5, "row: %s", row);
  return r;
}

/* bench-compare on two reports of two runs: B/A per stage, as the two
 * JSON files give them (computed here from the files), exit 0; a file that
 * is no bench report, or reports with nothing in common, exit 2. */
START_TEST(cli_bench_compare) {
  char dir[512], log[512], a[512], b[512], bad[512], trk[512];
  rf_test_fresh_dir(dir, sizeof dir, "cli_bench_compare");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_join(a, sizeof a, dir, "a.json");
  rf_test_join(b, sizeof b, dir, "b.json");
  rf_test_join(bad, sizeof bad, dir, "bad.json");
  rf_test_join(trk, sizeof trk, dir, "trk.json");
  ck_assert_int_eq(rf_test_cli(log, "bench", "--workload", "demo", "--repeat", "1", "--dir", dir, "--json", a, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "bench", "--workload", "demo", "--repeat", "1", "--dir", dir, "--json", b, "-q", NULL), 0);
  /* An earlier report may be replaced. */
  ck_assert_int_eq(rf_test_cli(log, "bench", "--workload", "demo", "--repeat", "1", "--dir", dir, "--json", b, "-q", NULL), 0);
  /* The report describes its run. */
  char *ja = rf_test_read_file(a, NULL), *jb = rf_test_read_file(b, NULL);
  cJSON *ra = cJSON_Parse(ja), *rb = cJSON_Parse(jb);
  ck_assert(cJSON_IsString(cJSON_GetObjectItem(ra, "date_utc")));
  cJSON *m = cJSON_GetObjectItem(ra, "machine");
  ck_assert(cJSON_IsString(cJSON_GetObjectItem(m, "host")) && cJSON_IsString(cJSON_GetObjectItem(m, "cpu_model")));
  ck_assert_double_ge(jnum(m, "cpu_cores_online"), 1);
  cJSON *bl = cJSON_GetObjectItem(ra, "build");
  ck_assert(cJSON_IsString(cJSON_GetObjectItem(bl, "commit")) && cJSON_IsString(cJSON_GetObjectItem(bl, "compiler")));
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ra, "load_average_start")), 3);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ra, "load_average_end")), 3);
  ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ra, "opencl_device"))); /* a CPU run */
  ck_assert_int_eq(rf_test_cli(log, "bench-compare", a, b, NULL), 0);
  char *txt = rf_test_read_file(log, NULL);
  cJSON *wa = cJSON_GetArrayItem(cJSON_GetObjectItem(ra, "workloads"), 0);
  cJSON *wb = cJSON_GetArrayItem(cJSON_GetObjectItem(rb, "workloads"), 0);
  double e2e = jnum(wb, "seconds_median") / jnum(wa, "seconds_median");
  ck_assert_double_eq_tol(printed_ratio(txt, "demo", "end to end"), e2e, 0.005 + 1e-9);
  const char *stages[] = {"read", "pulse_compression", "beamforming", "doppler", "cfar"};
  for (int i = 0; i < 5; i++) {
    double r = jnum(cJSON_GetObjectItem(cJSON_GetObjectItem(wb, "stages"), stages[i]), "seconds") /
               jnum(cJSON_GetObjectItem(cJSON_GetObjectItem(wa, "stages"), stages[i]), "seconds");
    ck_assert_double_eq_tol(printed_ratio(txt, "demo", stages[i]), r, 0.005 + 1e-9);
  }
  free(txt);
  cJSON_Delete(ra);
  cJSON_Delete(rb);
  free(ja);
  free(jb);
  /* Not a report; not JSON; nothing in common. */
  FILE *f = fopen(bad, "w");
  fputs("{\"captures\": []}\n", f);
  fclose(f);
  ck_assert_int_eq(rf_test_cli(log, "bench-compare", a, bad, NULL), 2);
  txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "not a radarflow bench report"));
  ck_assert(strchr(txt, '\n') == txt + strlen(txt) - 1);
  free(txt);
  f = fopen(bad, "w");
  fputs("{ not json", f);
  fclose(f);
  ck_assert_int_eq(rf_test_cli(log, "bench-compare", bad, b, NULL), 2);
  f = fopen(trk, "w");
  fputs("{\"workloads\": [{\"workload\": \"tracker\", \"targets\": 100, \"plots_per_second\": 5e5}]}\n", f);
  fclose(f);
  ck_assert_int_eq(rf_test_cli(log, "bench-compare", a, trk, NULL), 2);
  txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "no workload in common"));
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "bench-compare", a, NULL), 2);
}
END_TEST

Suite *test_cli_suite(void) {
  Suite *s = suite_create("test_cli_suite");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cli_help_version_and_usage);
  tcase_add_test(tc, cli_messages);
  tcase_add_test(tc, cli_track_run_json_and_counts);
  tcase_add_test(tc, cli_bench_compare);
  tcase_add_test(tc, cli_refuses_malformed_captures);
  tcase_add_test(tc, cli_process_writes_products);
  tcase_add_test(tc, cli_openmp_waits_passively);
  tcase_add_test(tc, cli_bench_says_machine_busy);
  suite_add_tcase(s, tc);
  return s;
}
