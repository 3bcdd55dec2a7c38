/* The command line: help and version, exit codes, refusal of malformed
 * captures with exit 2 and no output, and a good run's three products. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  ck_assert_uint_eq(rf_test_count_entries(out, NULL), 9); /* no temporaries left */
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

Suite *test_cli_suite(void) {
  Suite *s = suite_create("test_cli_suite");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cli_help_version_and_usage);
  tcase_add_test(tc, cli_refuses_malformed_captures);
  tcase_add_test(tc, cli_process_writes_products);
  suite_add_tcase(s, tc);
  return s;
}
