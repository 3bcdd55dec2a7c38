/* The dwell engine (pipelines/rf_engine.h): its contract on both backends.
 * The CPU engine keeps no state from one dwell to the next, so a dwell's
 * plots are the same bit for bit whatever order the dwells come in; the
 * OpenCL engine takes the dwells in order only, and its power cube read back
 * from the device matches the CPU engine's within the float32 stage bar
 * (RF_TOL_STAGE_REL, the bar of tests/test_cl.c). create survives running
 * out of memory at every allocation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../host/rf_cl.h"
#include "../pipelines/rf_pipeline.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

static void engine_capture(char *cap, size_t len, const char *name) {
  char dir[512];
  rf_test_fresh_dir(dir, sizeof dir, name);
  rf_test_join(cap, len, dir, "small.h5");
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.pulses = 24; /* dwells of 6, 8 and 10 pulses */
  o.samples = 128;
  ck_assert_int_eq(rf_test_write_capture(cap, &o), 0);
}

static int plot_bits_eq(const rf_plot *a, const rf_plot *b) {
  return a->time_s == b->time_s && a->dwell == b->dwell && a->range_m == b->range_m &&
         a->radial_velocity_mps == b->radial_velocity_mps && a->azimuth_deg == b->azimuth_deg &&
         a->elevation_deg == b->elevation_deg && a->snr_db == b->snr_db && a->east_m == b->east_m &&
         a->north_m == b->north_m && a->up_m == b->up_m;
}

/* The OpenCL engine's power cube, read back, against the CPU engine's
 * (view vh) within the stage bar. */
static void power_read_back_close(rf_engine *g, const rf_dwell_view *vh) {
  size_t n = vh->beams * vh->bins * vh->cells;
  float *p = malloc(n * sizeof *p);
  ck_assert_int_eq(rf_engine_read_power(g, p, n), 0);
  double peak = 0, err = 0;
  for (size_t i = 0; i < n; i++) {
    if (vh->power[i] > peak) peak = vh->power[i];
    double e = fabs((double)p[i] - (double)vh->power[i]);
    if (e > err) err = e;
  }
  ck_assert_double_gt(peak, 0);
  ck_assert_msg(err <= RF_TOL_STAGE_REL * peak, "power maps differ by %g of a %g peak", err, peak);
  free(p);
}

START_TEST(engine_cpu_contract) {
  char cap[600];
  engine_capture(cap, sizeof cap, "engine_cpu");
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  ck_assert_uint_eq(m->dwells, 3);
  rf_config cfg;
  rf_config_defaults(&cfg);
  cfg.pfa = 1e-2; /* plots in every dwell, from noise too */
  rf_engine *in_order, *reverse;
  ck_assert_int_eq(rf_engine_create_cpu(&in_order, &cfg, c), 0);
  ck_assert_int_eq(rf_engine_create_cpu(&reverse, &cfg, c), 0);
  ck_assert_str_eq(rf_engine_backend(in_order), "cpu");
  rf_dwell_view v;
  ck_assert_int_eq(rf_engine_last_dwell(in_order, &v), RF_EINVAL); /* none yet */
  ck_assert_int_eq(rf_engine_dwell(in_order, 3, NULL), RF_EINVAL);  /* out of range */

  rf_plot_list fwd[3] = {{0}}, rev[3] = {{0}};
  for (size_t d = 0; d < 3; d++) {
    ck_assert_int_eq(rf_engine_dwell(in_order, d, &fwd[d]), 0);
    ck_assert_int_eq(rf_engine_last_dwell(in_order, &v), 0);
    ck_assert_uint_eq(v.dwell, d);
    ck_assert_uint_eq(v.bins, rf_pipeline_bins(&cfg, (size_t)m->num_pulses[d]));
    ck_assert_uint_eq(v.cells, m->samples);
    ck_assert_ptr_nonnull(v.power);
    /* the copy is the cube the view lends; a short buffer is refused */
    size_t n = v.beams * v.bins * v.cells;
    float *p = malloc(n * sizeof *p);
    ck_assert_int_eq(rf_engine_read_power(in_order, p, n), 0);
    ck_assert_int_eq(memcmp(p, v.power, n * sizeof *p), 0);
    ck_assert_int_eq(rf_engine_read_power(in_order, p, n - 1), RF_EINVAL);
    free(p);
  }
  for (size_t d = 3; d-- > 0;) ck_assert_int_eq(rf_engine_dwell(reverse, d, &rev[d]), 0);
  ck_assert_int_eq(rf_engine_finish(in_order, NULL), 0); /* nothing in flight on the CPU */
  size_t total = 0;
  for (size_t d = 0; d < 3; d++) {
    ck_assert_uint_eq(fwd[d].n, rev[d].n);
    for (size_t i = 0; i < fwd[d].n; i++) {
      ck_assert_int_eq(fwd[d].v[i].dwell, (int)d);
      ck_assert(plot_bits_eq(&fwd[d].v[i], &rev[d].v[i]));
    }
    total += fwd[d].n;
    rf_plot_list_free(&fwd[d]);
    rf_plot_list_free(&rev[d]);
  }
  ck_assert_uint_gt(total, 0);
  const rf_engine_times *t = rf_engine_get_times(in_order);
  for (int i = 0; i < RF_STAGE_COUNT; i++) ck_assert_double_ge(t->stage_s[i], 0);
  ck_assert_double_gt(t->stage_s[RF_STAGE_read], 0);
  ck_assert_double_eq(t->upload_bytes, 0);
  rf_engine_destroy(in_order);
  rf_engine_destroy(reverse);
  rf_engine_destroy(NULL);
  rf_capture_close(c);
}
END_TEST

START_TEST(engine_cpu_create_oom) {
  char cap[600];
  engine_capture(cap, sizeof cap, "engine_oom");
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_engine *e = (rf_engine *)1;
  size_t k;
  for (k = 1;; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_engine_create_cpu(&e, &cfg, c);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(e);
  }
  ck_assert_uint_gt(k, 10); /* the sweep went through the stages' allocations */
  rf_engine_destroy(e);
  rf_capture_close(c);
}
END_TEST

START_TEST(engine_cl_order_and_power) {
  char cap[600], dir[512];
  engine_capture(cap, sizeof cap, "engine_cl");
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
  rf_cl_device_info dev;
  ck_assert_msg(rf_cl_select("opencl", &dev) == 0, "no OpenCL device: %s", rf_errmsg());
  rf_cl *cl;
  ck_assert_msg(rf_cl_create(&cl, &dev) == 0, "%s", rf_errmsg());
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_engine *g, *h;
  ck_assert_msg(rf_engine_create_cl(&g, cl, &cfg, c) == 0, "%s", rf_errmsg());
  ck_assert_str_eq(rf_engine_backend(g), "opencl");
  rf_plot_list pg = {0}, ph = {0};
  ck_assert_int_eq(rf_engine_dwell(g, 1, &pg), RF_EINVAL); /* out of order */
  for (size_t d = 0; d < m->dwells; d++) ck_assert_msg(rf_engine_dwell(g, d, &pg) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_engine_finish(g, &pg) == 0, "%s", rf_errmsg());
  ck_assert_int_eq(rf_engine_finish(g, &pg), 0); /* once is enough */
  ck_assert_int_eq(rf_engine_dwell(g, 0, &pg), RF_EINVAL);
  rf_dwell_view vg, vh;
  ck_assert_int_eq(rf_engine_last_dwell(g, &vg), 0);
  ck_assert_uint_eq(vg.dwell, m->dwells - 1);
  ck_assert_ptr_null(vg.power); /* on the device */

  ck_assert_int_eq(rf_engine_create_cpu(&h, &cfg, c), 0);
  for (size_t d = 0; d < m->dwells; d++) ck_assert_int_eq(rf_engine_dwell(h, d, &ph), 0);
  ck_assert_int_eq(rf_engine_last_dwell(h, &vh), 0);
  ck_assert_uint_eq(vg.bins, vh.bins);
  ck_assert_uint_eq(vg.beams, vh.beams);
  power_read_back_close(g, &vh);
  ck_assert_uint_eq(pg.n, ph.n);
  rf_plot_list_free(&pg);
  rf_plot_list_free(&ph);
  rf_engine_destroy(g);
  rf_engine_destroy(h);
  rf_capture_close(c);
  rf_cl_destroy(cl);
}
END_TEST

/* Per-channel mode (beamforming.mode = channels, with MatX's 3-pulse
 * canceller): beam b is channel b, so each map equals the one made here
 * from that channel alone by the stage objects (pulse compression of all
 * channels, then the Doppler stage on channel b's rows); the OpenCL engine's
 * power cube matches the CPU engine's within the stage bar. */
START_TEST(engine_per_channel) {
  char cap[600], dir[512];
  engine_capture(cap, sizeof cap, "engine_chan");
  setenv("RF_CACHE_DIR", rf_test_join(dir, sizeof dir, rf_test_tmpdir(), "cl-cache"), 1);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, cap), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  rf_config cfg;
  rf_config_defaults(&cfg);
  cfg.bf_mode = RF_BF_MODE_CHANNELS;
  cfg.clutter_filter = RF_CLUTTER_MTI3;
  rf_engine *h;
  rf_plot_list ph = {0};
  ck_assert_int_eq(rf_engine_create_cpu(&h, &cfg, c), 0);
  for (size_t d = 0; d < m->dwells; d++) ck_assert_int_eq(rf_engine_dwell(h, d, &ph), 0);
  rf_dwell_view vh;
  ck_assert_int_eq(rf_engine_last_dwell(h, &vh), 0);
  ck_assert_uint_eq(vh.beams, m->channels);
  for (size_t b = 1; b < vh.beams; b++) ck_assert_double_eq(vh.geom->beam_az_deg[b], m->azimuth_deg[vh.dwell]);

  /* dwell `last` from the stages, channel by channel */
  const size_t d = vh.dwell, p = (size_t)m->num_pulses[d], s = m->samples, n = m->channels, k = vh.bins;
  rf_pc_config pcc = {.channels = n, .samples = s, .sample_type = m->sample_type, .scale = m->scale,
                      .calibration = m->calibration, .reference = m->reference, .ref_len = m->reference_len,
                      /* pulse_compression.window = auto: Hamming for LFM, none for a custom reference */
                      .window = m->waveform_type == RF_WAVEFORM_LFM ? RF_TAPER_HAMMING : RF_TAPER_NONE,
                      .taylor_sll_db = cfg.taylor_sll_db, .taylor_nbar = cfg.taylor_nbar, .max_pulses = p};
  rf_doppler_config dc = {.pulses = p, .cells = s, .nfft = k, .clutter = RF_CLUTTER_MTI3,
                          .window = cfg.doppler_window, .taylor_sll_db = cfg.taylor_sll_db,
                          .taylor_nbar = cfg.taylor_nbar};
  rf_pc *pc;
  rf_doppler *dop;
  ck_assert_int_eq(rf_pc_create(&pc, &pcc), 0);
  ck_assert_int_eq(rf_doppler_create(&dop, &dc), 0);
  void *raw = malloc(p * rf_capture_pulse_bytes(m));
  float complex *rows = malloc(p * n * s * sizeof *rows), *chan = malloc(p * s * sizeof *chan);
  float *pw = malloc(k * s * sizeof *pw);
  ck_assert_int_eq(rf_capture_read_pulses(c, (size_t)m->first_pulse[d], p, raw), 0);
  ck_assert_int_eq(rf_pc_execute(pc, raw, p, rows), 0);
  for (size_t b = 0; b < n; b++) {
    for (size_t i = 0; i < p; i++) memcpy(chan + i * s, rows + (i * n + b) * s, s * sizeof *chan);
    ck_assert_int_eq(rf_doppler_execute(dop, chan, pw), 0);
    ck_assert_int_eq(memcmp(pw, vh.power + b * k * s, k * s * sizeof *pw), 0);
  }
  free(raw);
  free(rows);
  free(chan);
  free(pw);
  rf_pc_destroy(pc);
  rf_doppler_destroy(dop);

  rf_cl_device_info dev;
  ck_assert_msg(rf_cl_select("opencl", &dev) == 0, "no OpenCL device: %s", rf_errmsg());
  rf_cl *cl;
  ck_assert_msg(rf_cl_create(&cl, &dev) == 0, "%s", rf_errmsg());
  rf_engine *g;
  rf_plot_list pg = {0};
  ck_assert_msg(rf_engine_create_cl(&g, cl, &cfg, c) == 0, "%s", rf_errmsg());
  for (size_t i = 0; i < m->dwells; i++) ck_assert_msg(rf_engine_dwell(g, i, &pg) == 0, "%s", rf_errmsg());
  ck_assert_msg(rf_engine_finish(g, &pg) == 0, "%s", rf_errmsg());
  power_read_back_close(g, &vh);
  ck_assert_uint_eq(pg.n, ph.n);
  rf_plot_list_free(&pg);
  rf_plot_list_free(&ph);
  rf_engine_destroy(g);
  rf_engine_destroy(h);
  rf_capture_close(c);
  rf_cl_destroy(cl);
}
END_TEST

Suite *test_engine_suite(void) {
  Suite *s = suite_create("test_engine_suite");
  TCase *tc = tcase_create("engine");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, engine_cpu_contract);
  tcase_add_test(tc, engine_cpu_create_oom);
  tcase_add_test(tc, engine_cl_order_and_power);
  tcase_add_test(tc, engine_per_channel);
  suite_add_tcase(s, tc);
  return s;
}
