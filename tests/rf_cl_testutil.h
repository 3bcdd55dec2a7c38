/* radarflow tests: helpers of the OpenCL twin tests (test_*_cl.c). */
#ifndef RF_CL_TESTUTIL_H
#define RF_CL_TESTUTIL_H

#include <complex.h>
#include <stddef.h>

#include "../host/rf_cl.h"

/* A context on rf_cl_select("opencl") (PoCL here) with the program cache
 * in the test folder, in poison mode (every buffer starts as NaNs, so a
 * stage that reads what nothing wrote shows in its numbers) and canary mode
 * (every device buffer, the stages' own included, has a canary tail). */
rf_cl *cl_open(void);
/* Asserts every canary intact (rf_cl_check_canaries), then destroys. */
void cl_close(rf_cl *cl);
cl_command_queue cl_q(rf_cl *cl);
void cl_write(rf_cl *cl, cl_mem m, const void *p, size_t bytes);
void cl_read(rf_cl *cl, cl_mem m, void *p, size_t bytes);
/* max |a - b| / max |b| over n values (NaN if any a is NaN) */
double rel_err_c(const float complex *a, const float complex *b, size_t n);
double rel_err_f(const float *a, const float *b, size_t n);

#endif
