/* host/files.c: checked path joins, extensions, mkdir -p, whole-file reads
 * (content and length checked against what the test wrote with stdio) and
 * atomic writes (no temporary left, the old file kept on failure). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../host/rf_files.h"
#include "rf_testutil.h"

START_TEST(files_path_join) {
  char out[16];
  ck_assert_int_eq(rf_path_join(out, sizeof out, "a/b", "c.h5"), 0);
  ck_assert_str_eq(out, "a/b/c.h5");
  ck_assert_int_eq(rf_path_join(out, sizeof out, "a/b/", "c"), 0);
  ck_assert_str_eq(out, "a/b/c");
  ck_assert_int_eq(rf_path_join(out, sizeof out, "", "c"), 0);
  ck_assert_str_eq(out, "c");
  ck_assert_int_eq(rf_path_join(out, sizeof out, "/", "c"), 0);
  ck_assert_str_eq(out, "/c");
  /* 15 characters fit in 16 bytes, 16 do not */
  ck_assert_int_eq(rf_path_join(out, sizeof out, "0123456", "0123456"), 0);
  ck_assert_int_eq(rf_path_join(out, sizeof out, "0123456", "01234567"), RF_EINVAL);
  ck_assert_str_eq(out, "");
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "0123456/01234567: path too long"));
}
END_TEST

START_TEST(files_has_ext) {
  ck_assert(rf_has_ext("x.h5", ".h5"));
  ck_assert(rf_has_ext("dir/X.H5", ".h5"));
  ck_assert(!rf_has_ext(".h5", ".h5")); /* the name must be longer than the extension */
  ck_assert(!rf_has_ext("x.h5.tmp", ".h5"));
  ck_assert(!rf_has_ext("h5", ".h5"));
}
END_TEST

START_TEST(files_mkdirs) {
  char dir[512], p[600];
  rf_test_fresh_dir(dir, sizeof dir, "files_mkdirs");
  rf_test_join(p, sizeof p, dir, "a/b/c");
  ck_assert_int_eq(rf_mkdirs(p), 0);
  ck_assert_int_eq(rf_mkdirs(p), 0); /* already there */
  struct stat sb;
  ck_assert_int_eq(stat(p, &sb), 0);
  ck_assert(S_ISDIR(sb.st_mode));
  rf_test_join(p, sizeof p, dir, "file");
  FILE *f = fopen(p, "w");
  fclose(f);
  ck_assert_int_eq(rf_mkdirs(p), RF_EIO); /* a file in the way */
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), p));
  rf_test_join(p, sizeof p, dir, "file/sub");
  ck_assert_int_eq(rf_mkdirs(p), RF_EIO);
}
END_TEST

START_TEST(files_slurp) {
  char dir[512], p[600];
  rf_test_fresh_dir(dir, sizeof dir, "files_slurp");
  rf_test_join(p, sizeof p, dir, "data.bin");
  /* 200 KiB: several read chunks, with NUL bytes inside */
  enum { N = 200 * 1024 + 7 };
  static unsigned char want[N];
  uint64_t s = 5;
  for (size_t i = 0; i < N; i++) want[i] = (unsigned char)(i % 97 == 0 ? 0 : (s = s * 6364136223846793005ull + 1) >> 56);
  FILE *f = fopen(p, "wb");
  ck_assert_uint_eq(fwrite(want, 1, N, f), N);
  fclose(f);
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(rf_slurp(p, N, &text, &len), 0);
  ck_assert_uint_eq(len, N);
  ck_assert_int_eq(memcmp(text, want, N), 0);
  ck_assert_int_eq(text[N], 0);
  rf__free(text);
  /* one byte over the limit; a missing file: RF_EFORMAT naming it */
  ck_assert_int_eq(rf_slurp(p, N - 1, &text, &len), RF_EFORMAT);
  ck_assert_ptr_null(text);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), p));
  rf_test_join(p, sizeof p, dir, "missing");
  ck_assert_int_eq(rf_slurp(p, N, &text, NULL), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "missing"));
  /* out of memory at any allocation: RF_ENOMEM and nothing returned */
  rf_test_join(p, sizeof p, dir, "data.bin");
  for (size_t k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_slurp(p, N, &text, &len);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(text);
  }
  rf__free(text);
}
END_TEST

START_TEST(files_write_atomic) {
  char dir[512], p[600], q[600];
  rf_test_fresh_dir(dir, sizeof dir, "files_atomic");
  rf_test_join(p, sizeof p, dir, "out.txt");
  ck_assert_int_eq(rf_write_file_atomic(p, "old", 3), 0);
  ck_assert_int_eq(rf_write_file_atomic(p, "newer", 5), 0);
  size_t len;
  char *got = rf_test_read_file(p, &len);
  ck_assert_uint_eq(len, 5);
  ck_assert_int_eq(memcmp(got, "newer", 5), 0);
  free(got);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".tmp"), 0);
  /* a temporary name sits beside the target and is unique */
  char *t1 = rf_tmp_path(p), *t2 = rf_tmp_path(p);
  ck_assert_int_eq(strncmp(t1, p, strlen(p)), 0);
  ck_assert_str_ne(t1, t2);
  rf__free(t1);
  rf__free(t2);
  /* a target folder that is not there: RF_EIO naming it, nothing left */
  rf_test_join(q, sizeof q, dir, "missing/out.txt");
  ck_assert_int_eq(rf_write_file_atomic(q, "x", 1), RF_EIO);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), q));
  /* a target that is a folder: the rename fails, the folder stays */
  rf_test_join(q, sizeof q, dir, "adir");
  ck_assert_int_eq(rf_mkdirs(q), 0);
  ck_assert_int_eq(rf_write_file_atomic(q, "x", 1), RF_EIO);
  struct stat sb;
  ck_assert_int_eq(stat(q, &sb), 0);
  ck_assert(S_ISDIR(sb.st_mode));
  ck_assert_uint_eq(rf_test_count_entries(dir, ".tmp"), 0);
}
END_TEST

Suite *test_files_suite(void) {
  Suite *s = suite_create("test_files_suite");
  TCase *tc = tcase_create("files");
  tcase_add_test(tc, files_path_join);
  tcase_add_test(tc, files_has_ext);
  tcase_add_test(tc, files_mkdirs);
  tcase_add_test(tc, files_slurp);
  tcase_add_test(tc, files_write_atomic);
  suite_add_tcase(s, tc);
  return s;
}
