/* The OpenCL runtime (host/cl_runtime.c, host/cl_fft.c): error names,
 * device selection, the program cache, build failures, the device budget
 * (dwells split into blocks with the same plots, or refused), the tuning
 * table reaching the kernels as -D options, poison and canary modes, and
 * the device memory VkFFT takes for itself, asked of VkFFT and checked
 * against what its plans allocate, and the VkFFT plan cache. Runs on
 * rf_cl_select("opencl"). */
#include <check.h>
#include <unistd.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/rf_sim.h"
#include "../pipelines/rf_engine.h"
#include "../pipelines/rf_pipeline.h"
#include "rf_cl_testutil.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* A context with the given environment (NULL: unset) and the test cache. */
static int cl_create_env(rf_cl **cl, const char *poison, const char *canary, const char *tuning) {
  char dir[512];
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
  rf_cl_device_info dev;
  ck_assert_msg(rf_cl_select("opencl", &dev) == 0, "%s", rf_errmsg());
  const char *names[3] = {"RF_CL_POISON", "RF_CL_CANARY", "RF_CL_TUNING"}, *vals[3] = {poison, canary, tuning};
  for (int i = 0; i < 3; i++)
    if (vals[i]) setenv(names[i], vals[i], 1);
  int st = rf_cl_create(cl, &dev);
  for (int i = 0; i < 3; i++) unsetenv(names[i]);
  return st;
}

START_TEST(cl_program_cache) {
  char dir[512];
  rf_test_fresh_dir(dir, sizeof dir, "cl-cache-test");
  setenv("RF_CACHE_DIR", dir, 1);
  rf_cl_device_info dev;
  ck_assert_int_eq(rf_cl_select("opencl", &dev), 0);
  rf_cl *a = NULL, *b = NULL, *c = NULL;
  ck_assert_msg(rf_cl_create(&a, &dev) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_program_cached(a), 0);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".bin"), 1);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".tmp"), 0);
  ck_assert_int_eq(rf_cl_create(&b, &dev), 0);
  ck_assert_int_eq(rf_cl_program_cached(b), 1);
  cl_kernel k;
  ck_assert_int_eq(rf_cl_kernel(b, "rf_cfar_os", &k), 0);
  clReleaseKernel(k);
  ck_assert_int_eq(rf_cl_kernel(b, "no_such_kernel", &k), RF_EDEVICE);
  /* A damaged cache file is rebuilt, not trusted. */
  rf_cl_destroy(a);
  rf_cl_destroy(b);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "for f in '%s'/*.bin; do head -c 200 \"$f\" > \"$f.x\"; mv \"$f.x\" \"$f\"; done", dir);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_msg(rf_cl_create(&c, &dev) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_program_cached(c), 0);
  rf_cl_destroy(c);
  ck_assert_int_eq(rf_cl_create(&c, &dev), 0);
  ck_assert_int_eq(rf_cl_program_cached(c), 1);
  rf_cl_destroy(c);
}
END_TEST

START_TEST(cl_error_names) {
  ck_assert_str_eq(rf_cl_strerror(CL_SUCCESS), "CL_SUCCESS");
  ck_assert_str_eq(rf_cl_strerror(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
  ck_assert_str_eq(rf_cl_strerror(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
  ck_assert_str_eq(rf_cl_strerror(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
  ck_assert_str_eq(rf_cl_strerror(12345), "CL_UNKNOWN_ERROR");
  /* every code of the 1.2 headers has a name */
  for (int e = 0; e >= -19; e--) ck_assert_str_ne(rf_cl_strerror(e), "CL_UNKNOWN_ERROR");
  for (int e = -30; e >= -68; e--) ck_assert_str_ne(rf_cl_strerror(e), "CL_UNKNOWN_ERROR");
}
END_TEST

/* Device budget: a small one splits dwells into blocks (same plots), a tiny
 * one is refused with RF_EDEVICE before anything runs. */
START_TEST(cl_budget_split_and_refuse) {
  char dir[512], cap[512];
  rf_test_fresh_dir(dir, sizeof dir, "cl_budget");
  rf_test_join(cap, sizeof cap, dir, "demo.h5");
  rf_scenario *sc;
  ck_assert_int_eq(rf_scenario_load(&sc, "datasets/scenarios/demo.ini"), 0);
  ck_assert_int_eq(rf_simulate(sc, cap, 3), 0);
  rf_scenario_destroy(sc);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  for (int clutter = RF_CLUTTER_NOTCH; clutter <= RF_CLUTTER_MTI3; clutter += 2) {
    rf_config cfg;
    rf_config_defaults(&cfg);
    cfg.clutter_filter = clutter;
    cfg.beams_az = 5; /* the dwell size this budget was chosen for (the default fan is 3 beams) */
    rf_plot_list whole = {0}, split = {0};
    size_t blocks[2];
    for (int pass = 0; pass < 2; pass++) {
      if (pass) setenv("RF_CL_MAX_ALLOC_MB", "28", 1);
      rf_cl *cl = cl_open();
      unsetenv("RF_CL_MAX_ALLOC_MB");
      rf_engine *pl;
      rf_plot_list *out = pass ? &split : &whole;
      ck_assert_msg(rf_engine_create_cl(&pl, cl, &cfg, c) == 0, "%s", rf_errmsg());
      blocks[pass] = rf_engine_block_pulses(pl);
      for (size_t d = 0; d < m->dwells; d++) ck_assert_msg(rf_engine_dwell(pl, d, out) == 0, "%s", rf_errmsg());
      ck_assert_msg(rf_engine_finish(pl, out) == 0, "%s", rf_errmsg());
      rf_engine_destroy(pl);
      rf_cl_destroy(cl);
    }
    fprintf(stderr, "cl: clutter %d: blocks of %zu and %zu pulses: %zu and %zu plots\n", clutter, blocks[0],
            blocks[1], whole.n, split.n);
    ck_assert_uint_eq(blocks[0], 32);
    ck_assert(blocks[1] >= 1 && blocks[1] < 16);
    ck_assert_uint_eq(whole.n, split.n);
    ck_assert_uint_gt(whole.n, 0);
    for (size_t i = 0; i < whole.n; i++) {
      ck_assert_int_eq(whole.v[i].dwell, split.v[i].dwell);
      ck_assert_double_eq_tol(whole.v[i].range_m, split.v[i].range_m, 0.01);
      ck_assert_double_eq_tol(whole.v[i].snr_db, split.v[i].snr_db, 0.01);
    }
    rf_plot_list_free(&whole);
    rf_plot_list_free(&split);
  }
  setenv("RF_CL_MAX_ALLOC_MB", "1", 1);
  rf_cl *cl = cl_open();
  unsetenv("RF_CL_MAX_ALLOC_MB");
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_engine *pl = NULL;
  ck_assert_int_eq(rf_engine_create_cl(&pl, cl, &cfg, c), RF_EDEVICE);
  ck_assert_ptr_null(pl);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "out of device memory"));
  ck_assert_uint_eq(rf_cl_allocated(cl), 0); /* everything given back */
  rf_cl_destroy(cl);
  rf_capture_close(c);
}
END_TEST

/* A kernel source that does not compile: RF_EDEVICE with the build log. */
START_TEST(cl_build_failure) {
  char dir[512], p[600];
  rf_test_fresh_dir(dir, sizeof dir, "cl_broken_kernels");
  for (size_t i = 0; i < rf_cl_source_count; i++) {
    FILE *f = fopen(rf_test_join(p, sizeof p, dir, rf_cl_sources[i].name), "w");
    ck_assert_ptr_nonnull(f);
    fwrite(rf_cl_sources[i].text, 1, rf_cl_sources[i].len, f);
    if (!strcmp(rf_cl_sources[i].name, "cfar.cl")) fputs("\n__kernel void broken(void) { this is not C; }\n", f);
    fclose(f);
  }
  setenv("RF_KERNEL_DIR", dir, 1);
  rf_cl_device_info dev;
  ck_assert_int_eq(rf_cl_select("opencl", &dev), 0);
  rf_cl *cl = NULL;
  /* Some OpenCL compilers (PoCL's clang) also print their diagnostics on
   * stderr ("1 error generated."): kept in a file, not in the test log. */
  fflush(stderr);
  int saved = dup(2), fd = open(rf_test_join(p, sizeof p, dir, "compiler-stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  int st = rf_cl_create(&cl, &dev);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  unsetenv("RF_KERNEL_DIR");
  ck_assert_int_eq(st, RF_EDEVICE);
  ck_assert_ptr_null(cl);
  ck_assert_msg(strstr(rf_errmsg(), "failed to build") != NULL, "%s", rf_errmsg());
  /* a missing file is named */
  setenv("RF_KERNEL_DIR", "/nonexistent-radarflow", 1);
  st = rf_cl_create(&cl, &dev);
  unsetenv("RF_KERNEL_DIR");
  ck_assert_int_eq(st, RF_EDEVICE);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "RF_KERNEL_DIR"));
}
END_TEST

START_TEST(cl_select_specs) {
  rf_cl_device_info d;
  ck_assert_int_eq(rf_cl_select("opencl:0:0", &d), 0);
  ck_assert_str_eq(d.id, "opencl:0:0");
  rf_cl_device_info byname;
  char part[8];
  snprintf(part, sizeof part, "%.6s", d.name);
  ck_assert_int_eq(rf_cl_select(part, &byname), 0);
  ck_assert_int_eq(rf_cl_select("opencl:9:9", &d), RF_EINVAL);
  ck_assert_int_eq(rf_cl_select("no-such-device-xyz", &d), RF_EINVAL);
}
END_TEST


/* The tuning row reaches the kernels as -D options, and so into the cache
 * key; RF_CL_TUNING overrides fields and is checked. */
START_TEST(cl_tuning_build_options) {
  rf_cl *cl;
  ck_assert_msg(cl_create_env(&cl, NULL, NULL, NULL) == 0, "%s", rf_errmsg());
  const rf_cl_tuning *t = rf_cl_tuning_get(cl);
  char want[128];
  snprintf(want, sizeof want, "-DRF_BF_TB=%u -DRF_CFAR_TILE=%u", t->bf_tb, t->cfar_tile);
  ck_assert_ptr_nonnull(strstr(rf_cl_build_options(cl), want));
  ck_assert_str_eq(t->name, rf_cl_device(cl)->is_gpu ? "gpu" : "default");
  rf_cl_destroy(cl);
  ck_assert_msg(cl_create_env(&cl, NULL, NULL, "bf_tb=4,cfar_tile=64,wg=32") == 0, "%s", rf_errmsg());
  ck_assert_ptr_nonnull(strstr(rf_cl_build_options(cl), "-DRF_BF_TB=4 -DRF_CFAR_TILE=64"));
  ck_assert_uint_eq(rf_cl_tuning_get(cl)->wg, 32);
  rf_cl_destroy(cl);
  cl = NULL;
  ck_assert_int_eq(cl_create_env(&cl, NULL, NULL, "bf_tb=0"), RF_EINVAL);
  ck_assert_ptr_null(cl);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "RF_CL_TUNING"));
  ck_assert_int_eq(cl_create_env(&cl, NULL, NULL, "tiles=4"), RF_EINVAL);
  ck_assert_int_eq(cl_create_env(&cl, NULL, NULL, "cfar_tile=12x"), RF_EINVAL);
}
END_TEST

/* Poison mode fills new buffers with the NaN word and, between dwells,
 * every buffer kernels may write but those kept; zero mode fills zeros and
 * does not poison; bad values are refused. */
START_TEST(cl_poison_modes) {
  rf_cl *cl;
  enum { W = 300 };
  cl_uint v[W];
  ck_assert_msg(cl_create_env(&cl, "1", NULL, NULL) == 0, "%s", rf_errmsg());
  cl_mem rw, ro, kept;
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_READ_WRITE, "rw", &rw), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_READ_ONLY, "ro", &ro), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_WRITE_ONLY, "kept", &kept), 0);
  cl_read(cl, rw, v, sizeof v);
  for (int i = 0; i < W; i++) ck_assert_uint_eq(v[i], RF_CL_POISON_WORD);
  float f;
  memcpy(&f, &v[0], 4);
  ck_assert(isnan(f));
  memset(v, 0, sizeof v);
  cl_write(cl, rw, v, sizeof v);
  cl_write(cl, ro, v, sizeof v);
  cl_write(cl, kept, v, sizeof v);
  ck_assert_int_eq(rf_cl_poison(cl, cl_q(cl), 1, &kept), 0);
  cl_read(cl, rw, v, sizeof v);
  ck_assert_uint_eq(v[0], RF_CL_POISON_WORD);
  ck_assert_uint_eq(v[W - 1], RF_CL_POISON_WORD);
  cl_read(cl, ro, v, sizeof v);
  ck_assert_uint_eq(v[0] | v[W - 1], 0);
  cl_read(cl, kept, v, sizeof v);
  ck_assert_uint_eq(v[0] | v[W - 1], 0);
  /* a freed buffer comes back poisoned again */
  cl_write(cl, ro, v, sizeof v);
  rf_cl_free(cl, ro);
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_READ_ONLY, "ro again", &ro), 0);
  cl_read(cl, ro, v, sizeof v);
  ck_assert_uint_eq(v[W / 2], RF_CL_POISON_WORD);
  rf_cl_destroy(cl);

  ck_assert_msg(cl_create_env(&cl, "0", NULL, NULL) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_READ_WRITE, "rw", &rw), 0);
  cl_read(cl, rw, v, sizeof v);
  ck_assert_uint_eq(v[0] | v[W - 1], 0);
  v[0] = 7;
  cl_write(cl, rw, v, 4);
  ck_assert_int_eq(rf_cl_poison(cl, cl_q(cl), 0, NULL), 0); /* no-op */
  cl_read(cl, rw, v, 4);
  ck_assert_uint_eq(v[0], 7);
  rf_cl_destroy(cl);

  ck_assert_msg(cl_create_env(&cl, "uninit", NULL, NULL) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_alloc(cl, W * 4, CL_MEM_READ_WRITE, "rw", &rw), 0);
  rf_cl_destroy(cl);
  cl = NULL;
  ck_assert_int_eq(cl_create_env(&cl, "yes", NULL, NULL), RF_EINVAL);
  ck_assert_ptr_null(cl);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "RF_CL_POISON"));
  ck_assert_int_eq(cl_create_env(&cl, NULL, "2", NULL), RF_EINVAL);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "RF_CL_CANARY"));
}
END_TEST

/* A write one word past a buffer's end is caught, named, by the check
 * and when the buffer is freed; intact canaries pass. */
START_TEST(cl_canary_catches_overrun) {
  rf_cl *cl;
  ck_assert_msg(cl_create_env(&cl, NULL, "1", NULL) == 0, "%s", rf_errmsg());
  cl_mem a, b;
  ck_assert_int_eq(rf_cl_alloc(cl, 1000, CL_MEM_READ_WRITE, "intact buffer", &a), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, 102, CL_MEM_READ_WRITE, "overrun buffer", &b), 0);
  ck_assert_int_eq(rf_cl_check_canaries(cl), 0);
  cl_uint x = 1;
  /* the canary starts at the next whole word: 104 */
  ck_assert_int_eq(clEnqueueWriteBuffer(cl_q(cl), b, CL_TRUE, 104 + 4 * 7, 4, &x, 0, NULL, NULL), CL_SUCCESS);
  ck_assert_int_eq(rf_cl_check_canaries(cl), RF_EDEVICE);
  ck_assert_msg(strstr(rf_errmsg(), "overrun buffer") && strstr(rf_errmsg(), "word 7"), "%s", rf_errmsg());
  rf_cl_free(cl, b); /* reported when freed, and remembered */
  ck_assert_int_eq(rf_cl_check_canaries(cl), RF_EDEVICE);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "overrun buffer"));
  rf_cl_free(cl, a);
  rf_cl_destroy(cl);
}
END_TEST

/* A cancel request (SIGINT/SIGTERM set rf_cancel) stops before the next
 * kernel or FFT: a dwell stops between kernels, not only between dwells. */
START_TEST(cl_cancel_between_kernels) {
  rf_cl *cl;
  ck_assert_msg(cl_create_env(&cl, NULL, NULL, NULL) == 0, "%s", rf_errmsg());
  cl_kernel k;
  ck_assert_int_eq(rf_cl_kernel(cl, "rf_doppler_power", &k), 0);
  size_t g = 64;
  rf_cancel = 1;
  int st = rf_cl_run(cl, cl_q(cl), k, "rf_doppler_power", 1, &g, NULL, 0, NULL, NULL);
  rf_cancel = 0;
  ck_assert_int_eq(st, RF_EINTR);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "rf_doppler_power"));
  clReleaseKernel(k);
  rf_cl_destroy(cl);
}
END_TEST

/* VkFFT's own device memory, asked of a one-batch plan, against what plans
 * of 3 batches allocate (and the context counts): none for a short length;
 * Bluestein's buffers for a length with a prime factor past VkFFT's radix
 * kernels (2 x 1009); a reorder buffer per batch for a length past the
 * device's local memory (2^19 complex floats, 4 MiB: PoCL has 2 MiB). */
START_TEST(cl_fft_scratch_asked_of_vkfft) {
  rf_cl *cl;
  ck_assert_msg(cl_create_env(&cl, NULL, NULL, NULL) == 0, "%s", rf_errmsg());
  const size_t lens[3] = {315, 2018, (size_t)1 << 19};
  uint64_t per[3], fixed[3];
  for (int i = 0; i < 3; i++) {
    rf_cl_fft_shape sh = {.len = lens[i], .outer = 1, .zero_from = lens[i] / 2};
    ck_assert_msg(rf_cl_fft_scratch(cl, &sh, &per[i], &fixed[i]) == 0, "%s", rf_errmsg());
    cl_mem buf;
    const size_t batches = 3;
    ck_assert_int_eq(rf_cl_alloc(cl, lens[i] * batches * 8, CL_MEM_READ_WRITE, "fft data", &buf), 0);
    uint64_t before = rf_cl_allocated(cl);
    rf_cl_fft *f;
    ck_assert_msg(rf_cl_fft_create(cl, &f, &sh, batches, buf) == 0, "%s", rf_errmsg());
    uint64_t own = rf_cl_fft_device_bytes(f);
    fprintf(stderr, "cl: VkFFT length %zu: %llu bytes per batch, %llu fixed; a 3-batch plan took %llu\n", lens[i],
            (unsigned long long)per[i], (unsigned long long)fixed[i], (unsigned long long)own);
    ck_assert_uint_eq(own, fixed[i] + batches * per[i]);
    ck_assert_uint_eq(rf_cl_allocated(cl), before + own);
    rf_cl_fft_destroy(f);
    ck_assert_uint_eq(rf_cl_allocated(cl), before);
    rf_cl_free(cl, buf);
  }
  ck_assert_uint_eq(per[0] + fixed[0], 0);
  ck_assert_uint_gt(fixed[1], 0);
  ck_assert_uint_eq(per[1], 0);
  ck_assert_uint_eq(per[2], lens[2] * 8);
  rf_cl_destroy(cl);
}
END_TEST

/* The VkFFT plan cache (host/cl_fft.c): a plan made again comes from the
 * cache and its transforms give the same bits as the planned one, forward
 * and inverse, for a 1-D batch with zero padding, the strided 2-D Doppler
 * form (forward only) and a length of two uploads (2^19 > PoCL's local
 * memory); a truncated or altered cache file is planned again. */
static void plan_pair_case(rf_cl *cl, const rf_cl_fft_shape *sh, size_t batches, int want_cached) {
  const size_t n = sh->len * sh->outer * batches;
  cl_mem a, b;
  ck_assert_int_eq(rf_cl_alloc(cl, n * 8, CL_MEM_READ_WRITE, "fft a", &a), 0);
  ck_assert_int_eq(rf_cl_alloc(cl, n * 8, CL_MEM_READ_WRITE, "fft b", &b), 0);
  rf_cl_fft *fa, *fb;
  ck_assert_msg(rf_cl_fft_create(cl, &fa, sh, batches, a) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_fft_cached(fa), want_cached && rf_cl_fft_cache_enabled());
  ck_assert_msg(rf_cl_fft_create(cl, &fb, sh, batches, b) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_cl_fft_cached(fb), rf_cl_fft_cache_enabled());
  float *x = malloc(n * 8), *ya = malloc(n * 8), *yb = malloc(n * 8);
  uint64_t seed = 4;
  for (size_t i = 0; i < 2 * n; i++) x[i] = (float)rf_test_gauss(&seed);
  cl_write(cl, a, x, n * 8);
  cl_write(cl, b, x, n * 8);
  for (int inv = 0; inv <= !sh->forward_only; inv++) {
    ck_assert_int_eq(rf_cl_fft_enqueue(fa, cl_q(cl), inv, a), 0);
    ck_assert_int_eq(rf_cl_fft_enqueue(fb, cl_q(cl), inv, b), 0);
    cl_read(cl, a, ya, n * 8);
    cl_read(cl, b, yb, n * 8);
    ck_assert_msg(!memcmp(ya, yb, n * 8), "length %zu x %zu: cached plan differs (%s)", sh->len, sh->outer,
                  inv ? "inverse" : "forward");
  }
  free(x);
  free(ya);
  free(yb);
  rf_cl_fft_destroy(fa);
  rf_cl_fft_destroy(fb);
  rf_cl_free(cl, a);
  rf_cl_free(cl, b);
}

START_TEST(cl_fft_plan_cache) {
  char dir[512], cmd[1400];
  rf_test_fresh_dir(dir, sizeof dir, "cl-plan-cache");
  setenv("RF_CACHE_DIR", dir, 1);
  rf_cl_device_info dev;
  ck_assert_int_eq(rf_cl_select("opencl", &dev), 0);
  rf_cl *cl;
  ck_assert_msg(rf_cl_create(&cl, &dev) == 0, "%s", rf_errmsg());
  const rf_cl_fft_shape shapes[3] = {{.len = 315, .outer = 1, .zero_from = 256},
                                     {.len = 16, .outer = 40, .zero_from = 13, .forward_only = 1},
                                     {.len = (size_t)1 << 19, .outer = 1, .zero_from = (size_t)1 << 18}};
  const size_t batches[3] = {6, 3, 1};
  for (int i = 0; i < 3; i++) plan_pair_case(cl, &shapes[i], batches[i], 0);
  if (!rf_cl_fft_cache_enabled()) { /* sanitizer build: no cache, nothing written */
    ck_assert_uint_eq(rf_test_count_entries(dir, "vkfft-"), 0);
    rf_cl_destroy(cl);
    return;
  }
  ck_assert_uint_eq(rf_test_count_entries(dir, "vkfft-"), 3);
  ck_assert_uint_eq(rf_test_count_entries(dir, ".tmp"), 0);
  /* truncated: planned again, then cached again */
  snprintf(cmd, sizeof cmd, "for f in '%s'/vkfft-*.bin; do head -c 100 \"$f\" > \"$f.x\"; mv \"$f.x\" \"$f\"; done", dir);
  ck_assert_int_eq(system(cmd), 0);
  plan_pair_case(cl, &shapes[0], batches[0], 0);
  /* one byte of a kernel binary altered (same size): the hash refuses it */
  snprintf(cmd, sizeof cmd,
           "for f in '%s'/vkfft-*.bin; do n=$(stat -c %%s \"$f\"); printf 'Z' | dd of=\"$f\" bs=1 seek=$((n - 9)) "
           "conv=notrunc status=none; done", dir);
  ck_assert_int_eq(system(cmd), 0);
  plan_pair_case(cl, &shapes[1], batches[1], 0);
  rf_cl_destroy(cl);
}
END_TEST

Suite *test_cl_runtime_suite(void) {
  Suite *s = suite_create("test_cl_runtime_suite");
  TCase *tc = tcase_create("cl_runtime");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cl_error_names);
  tcase_add_test(tc, cl_select_specs);
  tcase_add_test(tc, cl_program_cache);
  tcase_add_test(tc, cl_build_failure);
  tcase_add_test(tc, cl_tuning_build_options);
  tcase_add_test(tc, cl_poison_modes);
  tcase_add_test(tc, cl_canary_catches_overrun);
  tcase_add_test(tc, cl_fft_scratch_asked_of_vkfft);
  tcase_add_test(tc, cl_fft_plan_cache);
  tcase_add_test(tc, cl_cancel_between_kernels);
  tcase_add_test(tc, cl_budget_split_and_refuse);
  suite_add_tcase(s, tc);
  return s;
}
