/* The reduced characterisation of `make validate` (tests/validate,
 * docs/detection.md): build/validate-radarflow --quick, which checks its
 * own numbers against theory and independent computations (Pfa against
 * design, the default detector's loss against the ideal detector, RMS
 * errors against the Cramer-Rao bound, coverage of a declared transmit
 * beam, resolution, OpenCL against the CPU). This test requires its exit
 * status 0 and a report.json with no failed check. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rf_testutil.h"

START_TEST(validate_quick) {
  char bin[1024], dir[512], out[512], log[512], rep[600];
  snprintf(bin, sizeof bin, "%s", rf_test_bin());
  char *slash = strrchr(bin, '/');
  snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0), "validate-radarflow");
  rf_test_fresh_dir(dir, sizeof dir, "validate");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  const char *argv[] = {bin, "--quick", "--out", out, NULL};
  int code = rf_test_run(log, argv);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_msg(code == 0, "validate --quick exited %d:\n%s", code, txt ? txt : "");
  free(txt);
  size_t len;
  char *json = rf_test_read_file(rf_test_join(rep, sizeof rep, out, "report.json"), &len);
  ck_assert_ptr_nonnull(json);
  cJSON *r = cJSON_Parse(json);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(cJSON_GetObjectItem(r, "failed")->valueint, 0);
  ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(r, "checks")), 30);
  cJSON_Delete(r);
  free(json);
  rf_test_rm_rf(dir);
}
END_TEST

Suite *test_validate_suite(void) {
  Suite *s = suite_create("test_validate_suite");
  TCase *tc = tcase_create("validate");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, validate_quick);
  suite_add_tcase(s, tc);
  return s;
}
