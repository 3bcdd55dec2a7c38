/* OpenCL path end to end: the demo and early-warning scenarios processed
 * with --device opencl and --device cpu give the same plots (count, and
 * values within the tolerances below), and the same again with poisoned
 * device buffers and canaries (RF_CL_POISON=1, RF_CL_CANARY=1); the device
 * faults - no OpenCL
 * platform, kernels that fail to build, too little device memory - fall
 * back (auto) or exit 3 (explicit device) with no partial output. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/rf_sim.h"
#include "../host/rf_cl.h"
#include "../pipelines/rf_pipeline.h"
#include "rf_testutil.h"

/* Device vs CPU plot values. Both paths compute in float32 from the same
 * tables, but in other orders (VkFFT vs FFTW, the Doppler mean removed after
 * the FFT, float window sums in CFAR): measured differences are ~1e-6 of a
 * cell. The bars below are 100x that and still far inside the accuracy the
 * CPU path itself is held to (0.25 cell RMS, tests/test_e2e.c). */
#define CL_E2E_RANGE_CELLS 1e-3    /* range, in range cells */
#define CL_E2E_DOPPLER_CELLS 1e-3  /* radial velocity, in Doppler bins */
#define CL_E2E_ANGLE_DEG 1e-3      /* azimuth and elevation, degrees */
#define CL_E2E_SNR_DB 1e-3         /* SNR, dB */

static void cl_env(void) {
  char dir[512];
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
}

/* Device buffers start poisoned (NaN, RF_CL_POISON=1) and are poisoned
 * again between dwells, with a canary past every one (RF_CL_CANARY=1): the
 * plots must be the very same as without, field for field and byte for
 * byte in plots.csv, and every canary intact (the run fails otherwise). So
 * no plot depends on what a buffer held before a kernel wrote it - what a
 * GPU leaves from the previous dwell or program. */
static void compare_poisoned(const char *cap, const char *out_plain, const char *out_poison, const rf_config *cfg) {
  rf_run_summary sp;
  setenv("RF_CL_POISON", "1", 1);
  setenv("RF_CL_CANARY", "1", 1);
  int st = rf_process_capture_on(cap, out_poison, cfg, "opencl", &sp);
  unsetenv("RF_CL_POISON");
  unsetenv("RF_CL_CANARY");
  ck_assert_msg(st == 0, "%s", rf_errmsg());
  ck_assert_str_eq(sp.fallback_reason, "");
  char p[600];
  rf_plot_list a = {0}, b = {0};
  ck_assert_int_eq(rf_plots_read(rf_test_join(p, sizeof p, out_plain, "plots.h5"), &a), 0);
  ck_assert_int_eq(rf_plots_read(rf_test_join(p, sizeof p, out_poison, "plots.h5"), &b), 0);
  ck_assert_uint_eq(a.n, b.n);
  for (size_t i = 0; i < a.n; i++) {
    const rf_plot *x = &a.v[i], *y = &b.v[i];
    ck_assert_msg(x->dwell == y->dwell && x->time_s == y->time_s && x->range_m == y->range_m &&
                      x->radial_velocity_mps == y->radial_velocity_mps && x->azimuth_deg == y->azimuth_deg &&
                      x->elevation_deg == y->elevation_deg && x->snr_db == y->snr_db && x->east_m == y->east_m &&
                      x->north_m == y->north_m && x->up_m == y->up_m,
                  "plot %zu differs when the device buffers are poisoned", i);
  }
  size_t la, lb;
  char *ca = rf_test_read_file(rf_test_join(p, sizeof p, out_plain, "plots.csv"), &la);
  char *cb = rf_test_read_file(rf_test_join(p, sizeof p, out_poison, "plots.csv"), &lb);
  ck_assert(ca && cb && la == lb && !memcmp(ca, cb, la));
  fprintf(stderr, "cl e2e: %zu plots, identical with poisoned device buffers\n", a.n);
  free(ca);
  free(cb);
  rf_plot_list_free(&a);
  rf_plot_list_free(&b);
}

/* Processes cap on "cpu" and "opencl" and compares the plots one by one
 * (both lists are in dwell, then (beam, bin, cell) order); then on
 * "opencl" again with poisoned buffers (compare_poisoned). */
static void compare_devices(const char *scenario, const char *name, uint64_t seed) {
  char dir[512], cap[512], out_c[512], out_g[512], out_p[512];
  rf_test_fresh_dir(dir, sizeof dir, name);
  rf_test_join(cap, sizeof cap, dir, "cap.h5");
  rf_test_join(out_c, sizeof out_c, dir, "cpu");
  rf_test_join(out_g, sizeof out_g, dir, "opencl");
  rf_test_join(out_p, sizeof out_p, dir, "opencl-poisoned");
  cl_env();
  rf_scenario *sc;
  ck_assert_int_eq(rf_scenario_load(&sc, scenario), 0);
  ck_assert_int_eq(rf_simulate(sc, cap, seed), 0);
  rf_scenario_destroy(sc);
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_run_summary sc_, sg;
  ck_assert_msg(rf_process_capture_on(cap, out_c, &cfg, "cpu", &sc_) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_process_capture_on(cap, out_g, &cfg, "opencl", &sg) == 0, "%s", rf_errmsg());
  ck_assert_str_eq(sc_.device, "cpu");
  ck_assert_str_eq(sg.device, "opencl:0:0");
  ck_assert_str_eq(sg.fallback_reason, "");
  char p[600];
  rf_plot_list a = {0}, b = {0};
  ck_assert_int_eq(rf_plots_read(rf_test_join(p, sizeof p, out_c, "plots.h5"), &a), 0);
  ck_assert_int_eq(rf_plots_read(rf_test_join(p, sizeof p, out_g, "plots.h5"), &b), 0);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  const double range_cell = RF_C_MPS / (2 * m->sample_rate_hz), lambda = RF_C_MPS / m->center_frequency_hz;
  const double vmax = lambda / (4 * m->pri_s);
  fprintf(stderr, "cl e2e %s: %zu plots on the CPU, %zu on %s (%.2f s vs %.2f s)\n", name, a.n, b.n, sg.device_name,
          sc_.seconds, sg.seconds);
  ck_assert_uint_gt(a.n, 0);
  ck_assert_uint_eq(a.n, b.n);
  double wr = 0, wv = 0, wa = 0, ws = 0;
  for (size_t i = 0; i < a.n; i++) {
    const rf_plot *x = &a.v[i], *y = &b.v[i];
    size_t d = (size_t)x->dwell;
    double vcell = lambda / (2.0 * (double)rf_pipeline_bins(&cfg, (size_t)m->num_pulses[d]) * m->pri_s);
    ck_assert_int_eq(x->dwell, y->dwell);
    ck_assert(x->time_s == y->time_s);
    double er = fabs(x->range_m - y->range_m) / range_cell;
    double ev = fabs(rf_wrap(x->radial_velocity_mps - y->radial_velocity_mps, vmax)) / vcell;
    double ea = fmax(fabs(rf_wrap(x->azimuth_deg - y->azimuth_deg, 180)), fabs(x->elevation_deg - y->elevation_deg));
    double es = fabs(x->snr_db - y->snr_db);
    wr = fmax(wr, er), wv = fmax(wv, ev), wa = fmax(wa, ea), ws = fmax(ws, es);
    ck_assert_msg(er < CL_E2E_RANGE_CELLS && ev < CL_E2E_DOPPLER_CELLS && ea < CL_E2E_ANGLE_DEG && es < CL_E2E_SNR_DB,
                  "plot %zu (dwell %zu, %.1f m): range %.2e cells, velocity %.2e bins, angle %.2e deg, SNR %.2e dB", i,
                  d, x->range_m, er, ev, ea, es);
  }
  fprintf(stderr, "cl e2e %s: largest differences: range %.1e cells, velocity %.1e bins, angle %.1e deg, SNR %.1e dB\n",
          name, wr, wv, wa, ws);
  rf_capture_close(c);
  rf_plot_list_free(&a);
  rf_plot_list_free(&b);
  compare_poisoned(cap, out_g, out_p, &cfg);
}

START_TEST(cl_e2e_demo) { compare_devices("datasets/scenarios/demo.ini", "cl_e2e_demo", 1); }
END_TEST

START_TEST(cl_e2e_early_warning) {
  compare_devices("datasets/scenarios/early-warning.ini", "cl_e2e_ew", 1);
}
END_TEST

/* run.json of outdir, parsed (NULL if missing). */
static cJSON *run_json(const char *outdir) {
  char p[600];
  char *js = rf_test_read_file(rf_test_join(p, sizeof p, outdir, "run.json"), NULL);
  if (!js) return NULL;
  cJSON *root = cJSON_Parse(js);
  free(js);
  return root;
}

/* The CLI under a fault set up in the environment: auto falls back with
 * one warning and says why in run.json; an explicit OpenCL device exits 3
 * and writes nothing. */
static void fault_case(const char *name, const char *reason_part) {
  char dir[512], cap[512], out[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, name);
  rf_test_join(cap, sizeof cap, dir, "cap.h5");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_capture_opts o = rf_test_capture_defaults();
  ck_assert_int_eq(rf_test_write_capture(cap, &o), 0);

  rf_test_join(out, sizeof out, dir, "auto");
  setenv("RF_CL_AUTO_ANY", "1", 1); /* let auto take PoCL's CPU device */
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, NULL), 0);
  unsetenv("RF_CL_AUTO_ANY");
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(txt);
  int warnings = 0;
  for (const char *w = txt; (w = strstr(w, "warning:")); w++) warnings++;
  ck_assert_msg(warnings == 1, "%d warnings, want one: %s", warnings, txt);
  free(txt);
  cJSON *root = run_json(out);
  ck_assert_ptr_nonnull(root);
  ck_assert_str_eq(cJSON_GetObjectItem(root, "device")->valuestring, "cpu");
  cJSON *why = cJSON_GetObjectItem(root, "fallback_reason");
  ck_assert(cJSON_IsString(why));
  ck_assert_msg(strstr(why->valuestring, reason_part) != NULL, "fallback_reason '%s' lacks '%s'", why->valuestring,
                reason_part);
  cJSON_Delete(root);

  rf_test_join(out, sizeof out, dir, "explicit");
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "--device", "opencl", NULL), 3);
  ck_assert_msg(!rf_test_file_exists(out) || rf_test_count_entries(out, NULL) == 0, "partial output in %s", out);
  txt = rf_test_read_file(log, NULL);
  ck_assert_msg(strstr(txt, reason_part) != NULL, "message lacks '%s': %s", reason_part, txt);
  free(txt);
}

START_TEST(cl_e2e_no_platform) {
  char empty[512];
  rf_test_fresh_dir(empty, sizeof empty, "cl_no_icd");
  cl_env();
  setenv("OCL_ICD_VENDORS", empty, 1);
  fault_case("cl_fault_no_platform", "no OpenCL platform");
  unsetenv("OCL_ICD_VENDORS");
}
END_TEST

START_TEST(cl_e2e_build_failure) {
  char kdir[512], p[600];
  rf_test_fresh_dir(kdir, sizeof kdir, "cl_bad_kernels");
  for (size_t i = 0; i < rf_cl_source_count; i++) {
    FILE *f = fopen(rf_test_join(p, sizeof p, kdir, rf_cl_sources[i].name), "w");
    ck_assert_ptr_nonnull(f);
    fwrite(rf_cl_sources[i].text, 1, rf_cl_sources[i].len, f);
    if (!strcmp(rf_cl_sources[i].name, "doppler.cl")) fputs("\n#error deliberately broken\n", f);
    fclose(f);
  }
  cl_env();
  setenv("RF_KERNEL_DIR", kdir, 1);
  fault_case("cl_fault_build", "failed to build");
  unsetenv("RF_KERNEL_DIR");
}
END_TEST

START_TEST(cl_e2e_out_of_memory) {
  cl_env();
  setenv("RF_CL_MAX_ALLOC_MB", "0.01", 1);
  fault_case("cl_fault_oom", "out of device memory");
  unsetenv("RF_CL_MAX_ALLOC_MB");
}
END_TEST

/* `radarflow devices` lists the OpenCL device and the CPU backend. */
START_TEST(cl_e2e_devices_command) {
  char dir[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, "cl_devices");
  rf_test_join(log, sizeof log, dir, "log.txt");
  ck_assert_int_eq(rf_test_cli(log, "devices", NULL), 0);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_ptr_nonnull(strstr(txt, "opencl:0:0"));
  ck_assert_ptr_nonnull(strstr(txt, "compute units"));
  ck_assert_ptr_nonnull(strstr(txt, "cpu"));
  free(txt);
}
END_TEST

Suite *test_cl_e2e_suite(void) {
  Suite *s = suite_create("test_cl_e2e_suite");
  TCase *tc = tcase_create("cl_e2e");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, cl_e2e_devices_command);
  tcase_add_test(tc, cl_e2e_demo);
  tcase_add_test(tc, cl_e2e_early_warning);
  tcase_add_test(tc, cl_e2e_no_platform);
  tcase_add_test(tc, cl_e2e_build_failure);
  tcase_add_test(tc, cl_e2e_out_of_memory);
  suite_add_tcase(s, tc);
  return s;
}
