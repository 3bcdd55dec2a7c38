/* Optimal assignment (pipelines/rf_assign.h) against brute force on random
 * small problems, plus edge cases and an out-of-memory sweep. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "../pipelines/rf_assign.h"
#include "rf_tolerances.h"

/* Costs are sums of a few doubles: the optimum found by two methods agrees
 * to rounding. */
#define ASSIGN_TOL 1e-9
#define ASSIGN_MAXN 7
#define ASSIGN_TRIALS 600

/* Brute force: best total over all injective maps of the smaller side. */
static double brute(const double *c, int rows, int cols, int r, unsigned used) {
  if (rows <= cols) {
    if (r == rows) return 0;
    double best = INFINITY;
    for (int j = 0; j < cols; j++) {
      if (used & (1u << j) || isinf(c[r * cols + j])) continue;
      double v = c[r * cols + j] + brute(c, rows, cols, r + 1, used | (1u << j));
      if (v < best) best = v;
    }
    return best;
  }
  /* rows > cols: assign each column a distinct row. */
  if (r == cols) return 0;
  double best = INFINITY;
  for (int i = 0; i < rows; i++) {
    if (used & (1u << i) || isinf(c[i * cols + r])) continue;
    double v = c[i * cols + r] + brute(c, rows, cols, r + 1, used | (1u << i));
    if (v < best) best = v;
  }
  return best;
}

START_TEST(assign_matches_brute_force) {
  uint64_t seed = 42;
  rf_assign *a;
  ck_assert_int_eq(rf_assign_create(&a, ASSIGN_MAXN, ASSIGN_MAXN), 0);
  int feasible = 0, infeasible = 0;
  for (int trial = 0; trial < ASSIGN_TRIALS; trial++) {
    int rows = 1 + (int)(rf_test_uniform(&seed) * ASSIGN_MAXN);
    int cols = 1 + (int)(rf_test_uniform(&seed) * ASSIGN_MAXN);
    double c[ASSIGN_MAXN * ASSIGN_MAXN];
    double pforbid = trial % 3 == 0 ? 0.4 : 0.0; /* a third of the problems have forbidden pairs */
    int integer = trial % 2;                     /* ties: small integer costs */
    for (int k = 0; k < rows * cols; k++) {
      double u = rf_test_uniform(&seed);
      c[k] = integer ? floor(u * 5) - 2 : 100 * u - 30;
      if (rf_test_uniform(&seed) < pforbid) c[k] = RF_ASSIGN_FORBIDDEN;
    }
    double want = brute(c, rows, cols, 0, 0);
    int32_t r2c[ASSIGN_MAXN];
    double total;
    int st = rf_assign_execute(a, c, (size_t)rows, (size_t)cols, r2c, &total);
    if (isinf(want)) {
      ck_assert_int_eq(st, RF_ERANGE);
      infeasible++;
      continue;
    }
    ck_assert_int_eq(st, 0);
    feasible++;
    ck_assert_double_eq_tol(total, want, ASSIGN_TOL);
    /* The reported assignment is valid and has that cost. */
    double sum = 0;
    unsigned used = 0;
    int assigned = 0;
    for (int i = 0; i < rows; i++) {
      if (r2c[i] < 0) continue;
      ck_assert_int_lt(r2c[i], cols);
      ck_assert(!(used & (1u << r2c[i])));
      used |= 1u << r2c[i];
      ck_assert(!isinf(c[i * cols + r2c[i]]));
      sum += c[i * cols + r2c[i]];
      assigned++;
    }
    ck_assert_int_eq(assigned, rows < cols ? rows : cols);
    ck_assert_double_eq_tol(sum, want, ASSIGN_TOL);
  }
  ck_assert_int_gt(feasible, ASSIGN_TRIALS / 2);
  ck_assert_int_gt(infeasible, 0);
  rf_assign_destroy(a);
}
END_TEST

/* A known 4x4 (Munkres' textbook style) and the classic trap where greedy
 * fails. */
START_TEST(assign_known) {
  rf_assign *a;
  ck_assert_int_eq(rf_assign_create(&a, 4, 4), 0);
  const double c[16] = {82, 83, 69, 92, 77, 37, 49, 92, 11, 69, 5, 86, 8, 9, 98, 23};
  int32_t r2c[4];
  double total;
  ck_assert_int_eq(rf_assign_execute(a, c, 4, 4, r2c, &total), 0);
  ck_assert_double_eq_tol(total, 140, ASSIGN_TOL); /* 69 + 37 + 11 + 23 */
  ck_assert_int_eq(r2c[0], 2);
  ck_assert_int_eq(r2c[1], 1);
  ck_assert_int_eq(r2c[2], 0);
  ck_assert_int_eq(r2c[3], 3);
  const double g[4] = {1, 2, 2, 100}; /* greedy takes (0,0)=1 then 100; optimum 2+2 */
  ck_assert_int_eq(rf_assign_execute(a, g, 2, 2, r2c, &total), 0);
  ck_assert_double_eq_tol(total, 4, ASSIGN_TOL);
  /* Empty problems and sizes beyond the object's. */
  ck_assert_int_eq(rf_assign_execute(a, NULL, 0, 3, r2c, &total), 0);
  ck_assert_int_eq(rf_assign_execute(a, c, 5, 4, r2c, &total), RF_EINVAL);
  rf_assign *b = NULL;
  ck_assert_int_eq(rf_assign_create(&b, 0, 3), RF_EINVAL);
  ck_assert_ptr_null(b);
  rf_assign_destroy(a);
  rf_assign_destroy(NULL);
}
END_TEST

START_TEST(assign_create_oom) {
  for (size_t n = 1;; n++) {
    rf_assign *a = NULL;
    rf_alloc_fail_after(n, 0);
    int st = rf_assign_create(&a, 8, 16);
    size_t made = rf_alloc_fail_after(0, 0);
    if (st == 0) {
      ck_assert_uint_lt(made, n);
      rf_assign_destroy(a);
      break;
    }
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(a);
  }
}
END_TEST

Suite *test_assign_suite(void) {
  Suite *s = suite_create("test_assign_suite");
  TCase *tc = tcase_create("assign");
  tcase_add_test(tc, assign_matches_brute_force);
  tcase_add_test(tc, assign_known);
  tcase_add_test(tc, assign_create_oom);
  suite_add_tcase(s, tc);
  return s;
}
