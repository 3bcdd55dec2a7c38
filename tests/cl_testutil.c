/* radarflow tests: helpers of the OpenCL twin tests. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "rf_cl_testutil.h"
#include "rf_testutil.h"

rf_cl *cl_open(void) {
  char dir[512];
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
  rf_cl_device_info dev;
  ck_assert_msg(rf_cl_select("opencl", &dev) == 0, "no OpenCL device: %s", rf_errmsg());
  setenv("RF_CL_POISON", "1", 1);
  setenv("RF_CL_CANARY", "1", 1);
  rf_cl *cl = NULL;
  int st = rf_cl_create(&cl, &dev);
  unsetenv("RF_CL_POISON");
  unsetenv("RF_CL_CANARY");
  ck_assert_msg(st == 0, "%s", rf_errmsg());
  return cl;
}

void cl_close(rf_cl *cl) {
  ck_assert_msg(rf_cl_check_canaries(cl) == 0, "%s", rf_errmsg());
  rf_cl_destroy(cl);
}

cl_command_queue cl_q(rf_cl *cl) { return rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE); }

void cl_write(rf_cl *cl, cl_mem m, const void *p, size_t bytes) {
  ck_assert_int_eq(clEnqueueWriteBuffer(cl_q(cl), m, CL_TRUE, 0, bytes, p, 0, NULL, NULL), CL_SUCCESS);
}

void cl_read(rf_cl *cl, cl_mem m, void *p, size_t bytes) {
  ck_assert_int_eq(clEnqueueReadBuffer(cl_q(cl), m, CL_TRUE, 0, bytes, p, 0, NULL, NULL), CL_SUCCESS);
}

double rel_err_c(const float complex *a, const float complex *b, size_t n) {
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = cabs((double complex)a[i] - (double complex)b[i]);
    if (isnan(d)) return NAN;
    e = fmax(e, d);
    m = fmax(m, cabs((double complex)b[i]));
  }
  return m > 0 ? e / m : e;
}

double rel_err_f(const float *a, const float *b, size_t n) {
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (isnan(d)) return NAN;
    e = fmax(e, d);
    m = fmax(m, fabs((double)b[i]));
  }
  return m > 0 ? e / m : e;
}
