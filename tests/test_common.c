/* host/common.c: the status table, the in-place sort against the C
 * library's qsort (a total order has one sorted result), FNV-1a against the
 * published test vectors, the UTC clock against time(), the taper plan. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "../host/rf_common.h"
#include "../host/rf_progress.h"
#include "../host/rf_suggest.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* Edit distances by hand (insert, delete, substitute, swap neighbours),
 * and the suggestions the CLI makes of them. */
START_TEST(common_suggest) {
  ck_assert_uint_eq(rf_edit_distance("set", "set"), 0);
  ck_assert_uint_eq(rf_edit_distance("sett", "set"), 1);
  ck_assert_uint_eq(rf_edit_distance("proces", "process"), 1);
  ck_assert_uint_eq(rf_edit_distance("metod", "method"), 1);
  ck_assert_uint_eq(rf_edit_distance("ab", "ba"), 1);
  ck_assert_uint_eq(rf_edit_distance("kitten", "sitting"), 3);
  ck_assert_uint_eq(rf_edit_distance("", "abc"), 3);
  const char *cmds[] = {"simulate", "process", "track", "batch", "batch-merge", "bench", "bench-compare"};
  ck_assert_str_eq(rf_suggest("proces", cmds, 7), "process");
  ck_assert_str_eq(rf_suggest("trakc", cmds, 7), "track");
  ck_assert_str_eq(rf_suggest("bench-comp", cmds, 7), "bench-compare");
  ck_assert_ptr_null(rf_suggest("frobnicate", cmds, 7));
  ck_assert_ptr_null(rf_suggest("bnch", (const char *[]){"batch", "bench", "bunch"}, 3)); /* a tie */
}
END_TEST

/* Runs fn with stderr going to a file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void)) {
  char dir[512], path[600];
  rf_test_fresh_dir(dir, sizeof dir, "progress");
  rf_test_join(path, sizeof path, dir, "stderr.txt");
  fflush(stderr);
  int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return rf_test_read_file(path, NULL);
}

static void progress_line_run(void) {
  rf_progress *p;
  rf_progress_opts o = {.mode = RF_PROGRESS_LINE, .label = "cap.h5", .item = "dwell", .total = 8, .work_total = 8e6,
                        .eta = 1};
  ck_assert_int_eq(rf_progress_create(&p, &o), 0);
  rf_progress_set_dwells(p);
  rf_progress_dwell(4, 8, 12);
  int saved = rf_log_level;
  rf_log_level = 1;
  rf_warn("something odd");
  rf_log_level = saved;
  rf_progress_set_dwells(NULL);
  rf_progress_destroy(p);
}

/* On a terminal: the line is drawn in place (carriage return, erase to the
 * end), says dwell 4 of 8 and the share of the bytes, is erased before a
 * warning is written, and at the end. */
START_TEST(common_progress_line) {
  char *t = capture_stderr(progress_line_run);
  ck_assert_str_eq(t, "\r\033[Kcap.h5: dwell 4 of 8 (50% of 8.0 MB); 12 plots\r\033[K"
                      "radarflow: warning: something odd\n");
  free(t);
}
END_TEST

static void progress_plain_run(void) {
  rf_progress *p;
  /* Every update a line (as -v); then one throttled to 1 h: only the last. */
  rf_progress_opts o = {.mode = RF_PROGRESS_PLAIN, .label = "b", .item = "capture", .total = 3, .plain_every_s = 0};
  ck_assert_int_eq(rf_progress_create(&p, &o), 0);
  for (size_t k = 1; k <= 3; k++) rf_progress_update(p, k, 0, 0, NULL);
  rf_progress_destroy(p);
  o.plain_every_s = 3600;
  ck_assert_int_eq(rf_progress_create(&p, &o), 0);
  for (size_t k = 1; k <= 3; k++) rf_progress_update(p, k, 0, 0, NULL);
  rf_progress_destroy(p);
  o.mode = RF_PROGRESS_NONE;
  o.plain_every_s = 0;
  ck_assert_int_eq(rf_progress_create(&p, &o), 0);
  rf_progress_update(p, 1, 0, 0, "x");
  rf_progress_destroy(p);
}

/* Not on a terminal: timestamped lines, throttled - a run shorter than the
 * period prints none (not even its last item); none in NONE mode. */
START_TEST(common_progress_plain) {
  char *t = capture_stderr(progress_plain_run);
  int lines = 0;
  for (char *l = t; l && *l; l = strchr(l, '\n') + 1) {
    /* "YYYY-MM-DDTHH:MM:SSZ b: capture K of 3 (..%)" */
    ck_assert_msg(strlen(l) > 21 && l[4] == '-' && l[10] == 'T' && l[19] == 'Z' && l[20] == ' ', "line: %s", l);
    char want[64];
    snprintf(want, sizeof want, "b: capture %d of 3 (", lines + 1);
    ck_assert_msg(!strncmp(l + 21, want, strlen(want)), "line: %s", l);
    lines++;
  }
  ck_assert_int_eq(lines, 3);
  free(t);
}
END_TEST

START_TEST(common_status_table) {
  static const int codes[] = {RF_EINVAL, RF_ENOMEM, RF_EIO, RF_EFORMAT, RF_ERANGE, RF_EUNSUP, RF_EDEVICE, RF_EINTR};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    ck_assert_int_lt(codes[i], 0);
    ck_assert_str_ne(rf_err_name(codes[i]), "RF_EUNKNOWN");
    ck_assert_str_ne(rf_strerror(codes[i]), "unknown error");
    for (size_t j = 0; j < i; j++) ck_assert_int_ne(codes[i], codes[j]);
  }
  ck_assert_str_eq(rf_err_name(RF_EFORMAT), "RF_EFORMAT");
  ck_assert_str_eq(rf_err_name(-99), "RF_EUNKNOWN");
  ck_assert_int_eq(rf__err(RF_EIO, "%s: %d", "file", 7), RF_EIO);
  ck_assert_str_eq(rf_errmsg(), "file: 7");
  rf_errmsg_clear();
  ck_assert_str_eq(rf_errmsg(), "");
  size_t out = 0;
  ck_assert_int_eq(rf__mul_size(SIZE_MAX / 2, 3, &out), -1);
  ck_assert_int_eq(rf__mul_size(6, 7, &out), 0);
  ck_assert_uint_eq(out, 42);
}
END_TEST

/* 72-byte records (more than rf_sort's 64-byte swap chunk), keys with ties
 * broken by position: a total order. */
typedef struct rec {
  int key;
  int pos;
  char pad[64];
} rec;

static int rec_cmp_r(const void *a, const void *b, void *ctx) {
  const rec *x = a, *y = b;
  ck_assert_ptr_eq(ctx, &rec_cmp_r);
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int rec_cmp(const void *a, const void *b) { return rec_cmp_r(a, b, (void *)&rec_cmp_r); }

START_TEST(common_sort_matches_qsort) {
  enum { N = 2000 };
  static rec a[N], b[N];
  uint64_t seed = 11;
  static const size_t sizes[] = {0, 1, 2, 3, 5, 8, 63, 64, 65, 1000, N};
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    const size_t n = sizes[z];
    for (int shape = 0; shape < 3; shape++) { /* random with ties, sorted, reversed */
      for (size_t i = 0; i < n; i++) {
        int k = shape == 0 ? (int)(rf_test_next(&seed) % 50) : shape == 1 ? (int)i : (int)(n - i);
        a[i] = (rec){k, (int)i, {0}};
        memset(a[i].pad, (int)(i & 0xff), sizeof a[i].pad);
      }
      memcpy(b, a, n * sizeof *a);
      rf_sort(a, n, sizeof *a, rec_cmp_r, (void *)&rec_cmp_r);
      qsort(b, n, sizeof *b, rec_cmp);
      ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    }
  }
}
END_TEST

/* FNV-1a 64 of "", "a" and "foobar": the reference values published with
 * the algorithm (Fowler, Noll, Vo; draft-eastlake-fnv). */
START_TEST(common_fnv1a64_vectors) {
  ck_assert_uint_eq(rf_fnv1a64(RF_FNV1A64_INIT, "", 0), 0xcbf29ce484222325ull);
  ck_assert_uint_eq(rf_fnv1a64(RF_FNV1A64_INIT, "a", 1), 0xaf63dc4c8601ec8cull);
  ck_assert_uint_eq(rf_fnv1a64(RF_FNV1A64_INIT, "foobar", 6), 0x85944171f73967e8ull);
  /* chained pieces hash as the whole */
  ck_assert_uint_eq(rf_fnv1a64(rf_fnv1a64(RF_FNV1A64_INIT, "foo", 3), "bar", 3), 0x85944171f73967e8ull);
}
END_TEST

START_TEST(common_utc_now) {
  char s[32];
  time_t before = time(NULL);
  rf_utc_now(s, sizeof s);
  time_t after = time(NULL);
  ck_assert_uint_eq(strlen(s), 20);
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  ck_assert_ptr_nonnull(end);
  ck_assert_int_eq(*end, 0);
  time_t t = timegm(&tm);
  ck_assert(t >= before && t <= after);
}
END_TEST

/* The plan gives rf_taper_at's values bit for bit, also past the
 * coefficients it keeps (nbar > RF_TAPER_MAX_COEF); Hamming against its
 * closed form 0.54 + 0.46 cos(2 pi x). */
START_TEST(common_taper_plan) {
  rf_taper_plan t;
  rf_taper_init(&t, RF_TAPER_HAMMING, 35, 4);
  ck_assert_double_eq_tol(rf_taper_eval(&t, 0.0), 1.0, 1e-15);
  ck_assert_double_eq_tol(rf_taper_eval(&t, 0.5), 0.08, 1e-15);
  const int nbars[] = {1, 4, 20, RF_TAPER_MAX_COEF + 6};
  for (size_t k = 0; k < sizeof nbars / sizeof nbars[0]; k++) {
    rf_taper_init(&t, RF_TAPER_TAYLOR, 40, nbars[k]);
    for (double x = -0.5; x <= 0.5; x += 0.0625) ck_assert(rf_taper_eval(&t, x) == rf_taper_at(RF_TAPER_TAYLOR, x, 40, nbars[k]));
  }
}
END_TEST

Suite *test_common_suite(void) {
  Suite *s = suite_create("test_common_suite");
  TCase *tc = tcase_create("common");
  tcase_add_test(tc, common_status_table);
  tcase_add_test(tc, common_sort_matches_qsort);
  tcase_add_test(tc, common_fnv1a64_vectors);
  tcase_add_test(tc, common_utc_now);
  tcase_add_test(tc, common_taper_plan);
  tcase_add_test(tc, common_suggest);
  tcase_add_test(tc, common_progress_line);
  tcase_add_test(tc, common_progress_plain);
  suite_add_tcase(s, tc);
  return s;
}
