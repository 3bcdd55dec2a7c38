/* Beamforming on the OpenCL device: radarflow's fused rf_doppler_input kernel
 * against CLBlast's strided batched CGEMM on the same shapes (the numbers
 * in docs/opencl.md). Not part of the build; from the top folder:
 *   make && gcc -O2 -std=c11 -D_GNU_SOURCE -I. -o build/bf-clblast \
 *     scripts/bf-clblast-compare.c build/libradarflow.a -lclblast -lOpenCL \
 *     -lfftw3f -lm -fopenmp && build/bf-clblast        # matx shape
 *   build/bf-clblast ew                                 # early-warning shape
 * Needs libclblast-dev. */
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include "host/rf_cl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  size_t N = 16, B = 5, P = 128, S = 9000, L = 9000, K = 128;
  if (argc > 1) { N = 64; B = 5; P = 128; S = 8192; L = 8192; }
  setenv("RF_CACHE_DIR", "/tmp/rfcache", 1);
  rf_cl_device_info dev; rf_cl *cl;
  if (rf_cl_select("opencl", &dev) || rf_cl_create(&cl, &dev)) { puts(rf_errmsg()); return 1; }
  cl_command_queue q = rf_cl_queue(cl, 0);
  cl_mem rows, w, dop;
  rf_cl_alloc(cl, P * N * L * 8, CL_MEM_READ_WRITE, "rows", &rows);
  rf_cl_alloc(cl, 8 * N * 8, CL_MEM_READ_WRITE, "w", &w);
  rf_cl_alloc(cl, B * K * S * 8, CL_MEM_READ_WRITE, "dop", &dop);
  rf_doppler_config dc = {.pulses = P, .cells = S, .nfft = K, .clutter = 0, .window = 0};
  rf_bf_cl *bf; rf_bf_cl_create(&bf, cl, N, B);
  rf_doppler_cl *dp; if (rf_doppler_cl_create(&dp, cl, &dc, B, 1, dop)) { puts(rf_errmsg()); return 1; }
  float complex *wh = calloc(B * N, 8); for (size_t i = 0; i < B * N; i++) wh[i] = 0.1f * i;
  rf_bf_cl_set_weights(bf, q, wh);
  double best = 1e9;
  for (int r = 0; r < 4; r++) {
    cl_event e; rf_doppler_cl_input(dp, q, bf, rows, L, P, 0, dop, 0, NULL, &e); clWaitForEvents(1, &e);
    double t = rf_cl_event_span(e, e); if (r && t < best) best = t; clReleaseEvent(e);
  }
  printf("own fused kernel (rf_doppler_input): %.4f s\n", best);
  cl_float2 alpha = {{1, 0}}, beta = {{0, 0}};
  best = 1e9;
  for (int r = 0; r < 4; r++) {
    cl_event e = NULL; double t0 = rf_now_s();
    /* C_p (B x S, ldc K*S, offset p*S) = W (B x N) . X_p (N x S, ld L, stride N*L) */
    CLBlastStatusCode st = CLBlastCgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
        B, S, N, alpha, w, 0, N, 0, rows, 0, L, N * L, beta, dop, 0, K * S, S, P, &q, &e);
    if (st) { printf("clblast error %d\n", st); return 1; }
    clWaitForEvents(1, &e); double t = rf_cl_event_span(e, e); if (!t) t = rf_now_s() - t0;
    if (r && t < best) best = t; clReleaseEvent(e);
    if (!r) printf("clblast first call (incl. compile) %.2f s\n", rf_now_s() - t0);
  }
  printf("CLBlast CgemmStridedBatched (beamforming only): %.4f s\n", best);
  return 0;
}
