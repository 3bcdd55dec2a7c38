/* Two defects of oclgrind 21.10's uninitialised-value check that
 * docs/opencl.md ("Checked under oclgrind") works around, shown on a
 * 64-element buffer. Kernel A writes every element, kernel B reads them:
 *   mode 0: A stores with vstore2                    -> no report
 *   mode 1: A stores o[i] = (float2)(i, 1.0f)        -> "uninitialized value
 *           written" at default optimisation (oclgrind turns the store into
 *           a store of undef plus one per lane), none with -cl-opt-disable
 *   mode 2: clEnqueueFillBuffer first, then mode 0   -> B's reads reported
 *           as uninitialised at every optimisation (the fill shrinks
 *           oclgrind's record of the buffer; A's writes are then lost)
 * Not part of the build. From the top folder:
 *   cc -o build/tool-defects tests/oclgrind/tool-defects.c -lOpenCL
 *   for m in 0 1 2; do oclgrind --uninitialized build/tool-defects $m; done
 *   oclgrind --uninitialized --build-options -cl-opt-disable build/tool-defects 1 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>

static const char *src =
    "__kernel void a_vstore(__global float2 *o, uint n) {\n"
    "  uint i = get_global_id(0); if (i < n) vstore2((float2)(i, 1.0f), i, (__global float *)o); }\n"
    "__kernel void a_store(__global float2 *o, uint n) {\n"
    "  uint i = get_global_id(0); if (i < n) o[i] = (float2)(i, 1.0f); }\n"
    "__kernel void b_read(__global const float2 *x, __global float *y, uint n) {\n"
    "  uint i = get_global_id(0); if (i < n) y[i] = x[i].x + x[i].y; }\n";

int main(int argc, char **argv) {
  int mode = argc > 1 ? atoi(argv[1]) : 0;
  cl_platform_id p;
  cl_device_id d;
  cl_int e;
  if (clGetPlatformIDs(1, &p, NULL) || clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL)) return 1;
  cl_context c = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
  cl_command_queue q = clCreateCommandQueue(c, d, 0, &e);
  cl_program pr = clCreateProgramWithSource(c, 1, &src, NULL, &e);
  if (clBuildProgram(pr, 1, &d, "", NULL, NULL)) return 1;
  cl_kernel a = clCreateKernel(pr, mode == 1 ? "a_store" : "a_vstore", &e), b = clCreateKernel(pr, "b_read", &e);
  cl_uint n = 64;
  cl_mem x = clCreateBuffer(c, CL_MEM_READ_WRITE, n * 8, NULL, &e), y = clCreateBuffer(c, CL_MEM_READ_WRITE, n * 4, NULL, &e);
  if (mode == 2) {
    cl_uint zero = 0;
    clEnqueueFillBuffer(q, x, &zero, 4, 0, n * 8, 0, NULL, NULL);
  }
  clSetKernelArg(a, 0, sizeof x, &x);
  clSetKernelArg(a, 1, 4, &n);
  clSetKernelArg(b, 0, sizeof x, &x);
  clSetKernelArg(b, 1, sizeof y, &y);
  clSetKernelArg(b, 2, 4, &n);
  size_t g = n, l = 16;
  clEnqueueNDRangeKernel(q, a, 1, NULL, &g, &l, 0, NULL, NULL);
  clEnqueueNDRangeKernel(q, b, 1, NULL, &g, &l, 0, NULL, NULL);
  float out[64];
  clEnqueueReadBuffer(q, y, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL);
  printf("mode %d: y[5] = %g (6 expected)\n", mode, out[5]);
  return out[5] == 6.0f ? 0 : 1;
}
