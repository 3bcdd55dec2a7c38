/* Replays the fuzz targets' seed corpora and every saved regression input
 * (tests/fuzz/corpus/<target>/, tests/fuzz/regressions/<target>/) through the
 * same entry points the fuzzers call, in-process: none may crash (under
 * `make check SANITIZE=1`, none may trip ASan or UBSan). Inputs that crash
 * libhdf5 itself (tests/fuzz/hdf5-crashers/) are replayed through
 * `radarflow batch` instead, in test_batch.c, where a worker process
 * contains the crash. */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rf_testutil.h"

#define RF_FUZZ_NO_MAIN
#include "fuzz/fuzz_capture.c"
#include "fuzz/fuzz_capture_raw.c"
#include "fuzz/fuzz_config.c"
#include "fuzz/fuzz_scenario.c"

/* The fuzz inputs live in the source tree; tests run from the top folder. */
#define RF_FUZZ_DIR "tests/fuzz"

typedef int (*rf__fuzz_fn)(const uint8_t *, size_t);

/* Feeds every file of dir to fn; returns how many. */
static size_t rf__replay(const char *dir, rf__fuzz_fn fn) {
  DIR *d = opendir(dir);
  size_t n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char p[1024];
    size_t len;
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md")) continue;
    rf_test_join(p, sizeof p, dir, e->d_name);
    char *b = rf_test_read_file(p, &len);
    ck_assert_msg(b != NULL, "cannot read %s", p);
    ck_assert_int_eq(fn((const uint8_t *)b, len), 0);
    free(b);
    n++;
  }
  closedir(d);
  return n;
}

static void rf__replay_target(const char *target, rf__fuzz_fn fn, size_t min_corpus) {
  char dir[512];
  /* The targets write their scratch file under TMPDIR. */
  setenv("TMPDIR", rf_test_tmpdir(), 1);
  snprintf(dir, sizeof dir, "%s/corpus/%s", RF_FUZZ_DIR, target);
  size_t n = rf__replay(dir, fn);
  ck_assert_msg(n >= min_corpus, "%s: %zu seed inputs, expected at least %zu", dir, n, min_corpus);
  snprintf(dir, sizeof dir, "%s/regressions/%s", RF_FUZZ_DIR, target);
  rf__replay(dir, fn);
}

START_TEST(fuzz_regress_capture) { rf__replay_target("capture", rf_fuzz_capture, 3); }
END_TEST

START_TEST(fuzz_regress_capture_raw) { rf__replay_target("capture_raw", rf_fuzz_capture_raw, 3); }
END_TEST

START_TEST(fuzz_regress_config) { rf__replay_target("config", rf_fuzz_config, 2); }
END_TEST

START_TEST(fuzz_regress_scenario) { rf__replay_target("scenario", rf_fuzz_scenario, 2); }
END_TEST

/* The all-zero recipe is a valid capture: the structure-aware target starts
 * from accepted files, so its mutations reach the deep checks. */
START_TEST(fuzz_recipe_zero_is_valid) {
  char p[512];
  uint8_t zero[64] = {0};
  rf__fdp f = {zero, sizeof zero};
  rf_test_join(p, sizeof p, rf_test_tmpdir(), "fuzz_recipe_zero.h5");
  ck_assert_int_eq(rf__write_recipe(p, &f), 0);
  rf_capture *cap = NULL;
  int st = rf_capture_open(&cap, p);
  ck_assert_msg(st == 0, "zero recipe refused: %s", rf_errmsg());
  ck_assert_uint_eq(rf_capture_get_meta(cap)->dwells, 2);
  rf_capture_close(cap);
  unlink(p);
}
END_TEST

Suite *test_fuzz_regress_suite(void) {
  Suite *s = suite_create("test_fuzz_regress_suite");
  TCase *tc = tcase_create("replay");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, fuzz_regress_capture);
  tcase_add_test(tc, fuzz_regress_capture_raw);
  tcase_add_test(tc, fuzz_regress_config);
  tcase_add_test(tc, fuzz_regress_scenario);
  tcase_add_test(tc, fuzz_recipe_zero_is_valid);
  suite_add_tcase(s, tc);
  return s;
}
