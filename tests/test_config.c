/* Configuration table: defaults, file parsing, errors naming file and line,
 * and the printed INI reading back to the same settings. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "../pipelines/rf_config.h"

static const char *tmp_path(const char *name, char *buf, size_t len) {
  const char *dir = getenv("RF_TMP") ? getenv("RF_TMP") : "build/test-tmp";
  mkdir(dir, 0777);
  snprintf(buf, len, "%s/%s", dir, name);
  return buf;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

START_TEST(config_defaults_and_file) {
  rf_config c;
  rf_config_defaults(&c);
  ck_assert_int_eq(c.cfar_kind, 0);
  ck_assert_double_eq(c.pfa, 1e-6);
  ck_assert_int_eq(c.train_range, 0); /* automatic: sized in independent cells */
  ck_assert_int_eq(c.guard_range, -1);
  ck_assert_int_eq(c.range_window, RF_RANGE_WINDOW_AUTO);
  ck_assert_int_eq(c.beams_az, 0);
  char p[512];
  write_text(tmp_path("cfg_ok.ini", p, sizeof p),
             "; comment\n[cfar]\nmethod = os\npfa = 1e-4\n[doppler]\nclutter_filter = mti3\n");
  ck_assert_int_eq(rf_config_load(&c, p), 0);
  ck_assert_int_eq(c.cfar_kind, 3);
  ck_assert_double_eq(c.pfa, 1e-4);
  ck_assert_int_eq(c.clutter_filter, 3);
  ck_assert_int_eq(c.train_range, 0); /* untouched keys keep their value */
  ck_assert_int_eq(rf_config_set(&c, "cfar.train_range=8"), 0);
  ck_assert_int_eq(c.train_range, 8);
}
END_TEST

START_TEST(config_errors_name_file_line_and_key) {
  rf_config c, before;
  rf_config_defaults(&c);
  before = c;
  char p[512];
  struct {
    const char *text, *needle;
  } bad[] = {
      {"[cfar]\npfa = 1e-4\nbogus = 3\n", ":3: [cfar] bogus: unknown setting"},
      {"[cfar]\npfa = 0.7\n", ":2: [cfar] pfa: 0.7 is outside"},
      {"[cfar]\nmethod = fancy\n", "not one of ca|go|so|os"},
      {"[cfar]\ntrain_range = 3.5\n", "not an integer"},
      {"[cfar]\ntrain_range = ten\n", "not a number"},
      {"[cfar\n", "syntax error"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(tmp_path("cfg_bad.ini", p, sizeof p), bad[i].text);
    ck_assert_int_eq(rf_config_load(&c, p), RF_EINVAL);
    ck_assert_msg(strstr(rf_errmsg(), p) && strstr(rf_errmsg(), bad[i].needle),
                  "case %zu: message '%s'", i, rf_errmsg());
    ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0); /* nothing applied */
  }
  ck_assert_int_eq(rf_config_load(&c, "/nonexistent/x.ini"), RF_EINVAL);
  ck_assert_int_eq(rf_config_set(&c, "nodot=3"), RF_EINVAL);
}
END_TEST

START_TEST(config_print_round_trips) {
  rf_config c, d;
  rf_config_defaults(&c);
  c.cfar_kind = 2;
  c.pfa = 3.3e-5;
  c.beams_az = 7;
  c.taylor_sll_db = 41.5;
  char *ini = rf_config_to_ini(&c);
  ck_assert_ptr_nonnull(ini);
  char p[512];
  write_text(tmp_path("cfg_rt.ini", p, sizeof p), ini);
  rf__free(ini);
  rf_config_defaults(&d);
  ck_assert_int_eq(rf_config_load(&d, p), 0);
  /* Every value equal (not the given[] flags: loading sets them). */
  ck_assert_int_eq(memcmp(&c, &d, offsetof(rf_config, given)), 0);
  char *md = rf_config_doc_markdown();
  ck_assert_ptr_nonnull(strstr(md, "| cfar | pfa | 1e-06 |"));
  /* docs/config.md carries the table as generated (regenerate it with
   * `radarflow config-doc` when the table changes). */
  FILE *f = fopen("docs/config.md", "r");
  ck_assert_ptr_nonnull(f);
  static char doc[65536];
  size_t n = fread(doc, 1, sizeof doc - 1, f);
  fclose(f);
  doc[n] = 0;
  ck_assert_msg(strstr(doc, md), "docs/config.md is out of date: run radarflow config-doc");
  rf__free(md);
}
END_TEST

Suite *test_config_suite(void) {
  Suite *s = suite_create("test_config_suite");
  TCase *tc = tcase_create("config");
  tcase_add_test(tc, config_defaults_and_file);
  tcase_add_test(tc, config_errors_name_file_line_and_key);
  tcase_add_test(tc, config_print_round_trips);
  suite_add_tcase(s, tc);
  return s;
}
