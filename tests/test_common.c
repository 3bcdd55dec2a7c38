/* host/common.c: the status table, the in-place sort against the C
 * library's qsort (a total order has one sorted result), FNV-1a against the
 * published test vectors, the UTC clock against time(), the taper plan. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../host/rf_common.h"
#include "rf_tolerances.h"

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
  suite_add_tcase(s, tc);
  return s;
}
