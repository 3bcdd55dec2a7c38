/* The command line: help and version, exit codes, refusal of malformed
 * captures with exit 2 and no output, and a good run's three products. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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
  ck_assert_str_eq(cJSON_GetObjectItem(in, "path")->valuestring, cap);
  ck_assert_int_eq((long long)cJSON_GetObjectItem(in, "size_bytes")->valuedouble, rf_test_file_size(cap));
  ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "cfar"), "method")->valuestring, "ca");
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
  js = rf_test_read_file(rf_test_join(p, sizeof p, out, "run.json"), NULL);
  ck_assert_ptr_nonnull(strstr(js, "\"method\":\t\"os\""));
  free(js);
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
}
END_TEST

Suite *test_cli_suite(void) {
  Suite *s = suite_create("test_cli_suite");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cli_help_version_and_usage);
  tcase_add_test(tc, cli_refuses_malformed_captures);
  tcase_add_test(tc, cli_process_writes_products);
  tcase_add_test(tc, cli_openmp_waits_passively);
  tcase_add_test(tc, cli_bench_says_machine_busy);
  suite_add_tcase(s, tc);
  return s;
}
