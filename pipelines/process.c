/* radarflow: one capture end to end - open, validate everything (settings,
 * the capture's numbers, its source files, the memory the run needs), every
 * dwell through the dwell engine (the one dwell loop, with the one
 * cancellation point), track, write the products (plots.h5, plots.csv,
 * tracks.*, *.ast, run.json) into a fresh folder that is switched in whole
 * (host/rf_files.h, rf_outset). */
#include "rf_pipeline.h"
#include "rf_supervise.h"
#include "rf_tracker.h"
#include "run_json.h"
#include "../host/rf_cl.h"
#include "../host/rf_files.h"
#include "../host/rf_progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* Every product file of a capture folder, run.json last. */
static const char *const rf__products[] = {"plots.h5",   "plots.csv",  "tracks.h5",   "tracks.csv", "plots.ast",
                                           "tracks.ast", "plots.pcap", "tracks.pcap", "run.json"};

/* run.json: what ran, on what, with which settings, and how long it took
 * (the common pieces: run_json.c). */
static char *rf__run_json(const char *capture, const rf_capture_meta *m, uint64_t size,
                          const rf_config *cfg, const rf_run_summary *s, const char *started) {
  cJSON *root = rf__run_json_new("process", started);
  if (!root) return NULL;
  cJSON_AddStringToObject(root, "device", s->device);
  cJSON_AddStringToObject(root, "device_name", s->device_name);
  if (s->fallback_reason[0]) cJSON_AddStringToObject(root, "fallback_reason", s->fallback_reason);
  else cJSON_AddNullToObject(root, "fallback_reason");
  cJSON_AddNumberToObject(root, "threads", omp_get_max_threads());
  cJSON *in = rf__run_json_input(root, capture, size);
  cJSON_AddStringToObject(in, "kind", "capture");
  cJSON_AddStringToObject(in, "radar_name", m->radar_name);
  cJSON_AddNumberToObject(in, "channels", (double)m->channels);
  cJSON_AddNumberToObject(in, "pulses", (double)m->pulses);
  cJSON_AddNumberToObject(in, "samples", (double)m->samples);
  cJSON_AddStringToObject(in, "sample_type", m->sample_type == 1 ? "int16" : "float32");
  rf__run_json_config(root, cfg);
  cJSON_AddNumberToObject(root, "dwells", (double)s->dwells);
  cJSON_AddNumberToObject(root, "plots", (double)s->plots);
  rf__run_json_tracks(root, &s->track_counts);
  /* detection counts (docs/detection.md): CFAR cells tested and crossings,
   * peaks dropped outside the directions the beam fan supports */
  cJSON *det = cJSON_AddObjectToObject(root, "detection");
  cJSON_AddNumberToObject(det, "cfar_cells", s->engine.cfar_cells);
  cJSON_AddNumberToObject(det, "cfar_crossings", s->engine.cfar_crossings);
  cJSON_AddNumberToObject(det, "peaks_outside_fan", (double)s->engine.peaks_outside_fan);
  cJSON_AddNumberToObject(root, "complex_samples", (double)s->samples);
  cJSON *t = cJSON_AddObjectToObject(root, "stage_seconds");
  for (int i = 0; i < RF_STAGE_COUNT; i++) cJSON_AddNumberToObject(t, rf_stage_names[i], s->stage_s[i]);
  cJSON_AddNumberToObject(t, "write", s->write_s);
  if (strcmp(s->device, "cpu")) { /* device time per stage (profiling events) */
    cJSON *dt = cJSON_AddObjectToObject(root, "device_seconds");
    cJSON_AddNumberToObject(dt, "upload", s->engine.upload_s);
    for (int i = RF_STAGE_pulse_compression; i <= RF_STAGE_cfar; i++)
      cJSON_AddNumberToObject(dt, rf_stage_names[i], s->engine.stage_s[i]);
    cJSON_AddNumberToObject(dt, "download", s->engine.download_s);
    cJSON_AddNumberToObject(dt, "setup_wall", s->setup_s);
    cJSON_AddNumberToObject(dt, "streaming_wall", s->stream_s);
  }
  cJSON_AddNumberToObject(root, "seconds", s->seconds);
  cJSON_AddNumberToObject(root, "peak_rss_bytes", rf_peak_rss_bytes());
  cJSON_AddNumberToObject(root, "samples_per_second", s->seconds > 0 ? (double)s->samples / s->seconds : 0);
  return rf__run_json_text(root);
}

int rf_process_capture(const char *path, const char *outdir, const rf_config *cfg,
                       rf_run_summary *sum) {
  return rf_process_capture_on(path, outdir, cfg, "cpu", sum);
}

/* The dwell loop: every dwell of the capture through the engine, in order,
 * stopping between dwells when asked to (rf_cancel); then the dwells still
 * in flight. */
/* Test hook (docs/reliability.md): RF_TEST_STALL_BEFORE_DWELLS makes the
 * run hang where the dwells start, ignoring signals as a spinning libhdf5
 * does, so the watchdog, --timeout and interruption can be tested. */
static void rf__test_stall(void) {
  if (!getenv("RF_TEST_STALL_BEFORE_DWELLS")) return;
  for (;;) pause();
}

static int rf__run_dwells(rf_engine *e, const char *path, const rf_capture_meta *m, rf_plot_list *plots) {
  int st;
  rf_watch_phase(RF_PHASE_DWELLS);
  rf__test_stall();
  for (size_t d = 0; d < m->dwells; d++) {
    if (rf_cancel)
      return rf__err(RF_EINTR, "%s: interrupted after %zu of %zu dwells; no products written", path, d, m->dwells);
    if ((st = rf_engine_dwell(e, d, plots))) return st;
    rf_progress_dwell(d + 1, m->dwells, plots->n);
  }
  return rf_engine_finish(e, plots);
}

/* Runs an engine made at t0 and records its times. */
static int rf__run_engine(rf_engine *e, double t0, const char *path, rf_capture *cap, rf_plot_list *plots,
                          rf_run_summary *sum) {
  double t1 = rf_now_s();
  int st = rf__run_dwells(e, path, rf_capture_get_meta(cap), plots);
  if (st) return st;
  sum->setup_s = t1 - t0;
  sum->stream_s = rf_now_s() - t1;
  sum->engine = *rf_engine_get_times(e);
  memcpy(sum->stage_s, sum->engine.stage_s, sizeof sum->stage_s);
  return 0;
}

/* The whole capture on an OpenCL device; plots appended. */
static int rf__run_opencl(const rf_cl_device_info *dev, rf_capture *cap, const rf_config *cfg,
                          rf_plot_list *plots, rf_run_summary *sum) {
  rf_cl *cl = NULL;
  rf_engine *e = NULL;
  double t0 = rf_now_s();
  int st = rf_cl_create(&cl, dev);
  if (!st) st = rf_engine_create_cl(&e, cl, cfg, cap);
  if (!st) st = rf__run_engine(e, t0, rf_capture_path(cap), cap, plots, sum);
  rf_engine_destroy(e);
  rf_cl_destroy(cl);
  return st;
}

/* The whole capture on the CPU; plots appended. */
static int rf__run_cpu(rf_capture *cap, const rf_config *cfg, rf_plot_list *plots, rf_run_summary *sum) {
  rf_engine *e = NULL;
  double t0 = rf_now_s();
  snprintf(sum->device, sizeof sum->device, "cpu");
  snprintf(sum->device_name, sizeof sum->device_name, "FFTW + OpenMP, %d threads", omp_get_max_threads());
  int st = rf_engine_create_cpu(&e, cfg, cap);
  if (!st) st = rf__run_engine(e, t0, rf_capture_path(cap), cap, plots, sum);
  rf_engine_destroy(e);
  return st;
}

/* Auto gave up on OpenCL: one warning, and the reason for run.json. */
static void rf__fallback(rf_run_summary *sum, int loud) {
  snprintf(sum->fallback_reason, sizeof sum->fallback_reason, "%s", rf_errmsg());
  if (loud) rf_log(1, "radarflow: warning: %s; running on the CPU path instead", sum->fallback_reason);
  else rf_log(2, "radarflow: %s; running on the CPU path", sum->fallback_reason);
  rf_errmsg_clear();
}

/* The dwells on the device asked for; "auto" falls back to the CPU when
 * OpenCL is missing or fails on the device (RF_EDEVICE). */
static int rf__run_on(const char *dev, rf_capture *cap, const rf_config *cfg, rf_plot_list *plots,
                      rf_run_summary *sum) {
  const int is_auto = !strcmp(dev, "auto");
  if (!strcmp(dev, "cpu")) return rf__run_cpu(cap, cfg, plots, sum);
  rf_cl_device_info info;
  int st = rf_cl_select(dev, &info);
  if (st && is_auto) {
    rf__fallback(sum, st != RF_EUNSUP); /* no GPU is not a failure: quiet */
    return rf__run_cpu(cap, cfg, plots, sum);
  }
  if (st) return st;
  snprintf(sum->device, sizeof sum->device, "%s", info.id);
  snprintf(sum->device_name, sizeof sum->device_name, "%s", info.name);
  st = rf__run_opencl(&info, cap, cfg, plots, sum);
  if (st != RF_EDEVICE || !is_auto) return st;
  rf__fallback(sum, 1); /* start again on the CPU */
  rf_plot_list_free(plots);
  memset(sum->stage_s, 0, sizeof sum->stage_s);
  memset(&sum->engine, 0, sizeof sum->engine);
  return rf__run_cpu(cap, cfg, plots, sum);
}

/* All products or none: removes what this run already renamed into place. */
static void rf__remove_products(const char *outdir) {
  for (size_t i = 0; i < sizeof rf__products / sizeof rf__products[0]; i++) {
    char p[4096];
    if (!rf_path_join(p, sizeof p, outdir, rf__products[i])) remove(p);
  }
}

/* plots.h5, plots.csv, the tracker's products and run.json into outdir. */
static int rf__write_products(const char *path, const char *outdir, rf_capture *cap, const rf_config *cfg,
                              const rf_plot_list *plots, rf_run_summary *sum, const char *started, double t0) {
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  char p_h5[4096], p_csv[4096], p_json[4096], *json = NULL;
  double *mid = NULL, tw = rf_now_s();
  int st;
  if ((st = rf_mkdirs(outdir)) || (st = rf_path_join(p_h5, sizeof p_h5, outdir, "plots.h5")) ||
      (st = rf_path_join(p_csv, sizeof p_csv, outdir, "plots.csv")) ||
      (st = rf_path_join(p_json, sizeof p_json, outdir, "run.json")))
    return st;
  /* The sensor description goes into plots.h5 (so `radarflow track` can
   * rerun the tracker from it) and drives the tracker. */
  if (!(mid = rf__malloc((m->dwells ? m->dwells : 1) * sizeof *mid))) return rf__err(RF_ENOMEM, "%s: out of memory", outdir);
  rf_track_dwell_mid_times(m, mid);
  rf_track_sensor ts;
  rf_track_sensor_from_meta(&ts, m, cfg);
  ts.dwell_time_s = mid;
  rf_product_info info = {.source_path = path,
                          .radar_name = m->radar_name,
                          .site_latitude_deg = m->site_latitude_deg,
                          .site_longitude_deg = m->site_longitude_deg,
                          .site_altitude_m = m->site_altitude_m};
  rf_track_sensor_to_info(&ts, &info);
  rf_watch_phase(RF_PHASE_WRITE);
  if ((st = rf_plots_write_h5(p_h5, plots->v, plots->n, &info))) goto done;
  if ((st = rf_plots_write_csv(p_csv, plots->v, plots->n))) goto fail;
  rf_watch_phase(RF_PHASE_TRACK);
  if ((st = rf_track_products_counted(plots->v, plots->n, cfg, &ts, &info, outdir, &sum->track_counts))) goto fail;
  sum->tracks = sum->track_counts.ids;
  rf_watch_phase(RF_PHASE_WRITE);
  sum->write_s = rf_now_s() - tw;
  sum->seconds = rf_now_s() - t0;
  if (!(json = rf__run_json(path, m, sum->input_bytes, cfg, sum, started))) st = rf__err(RF_ENOMEM, "%s: out of memory", p_json);
  else st = rf_write_file_atomic(p_json, json, strlen(json));
  if (!st) goto done;
fail:
  rf__remove_products(outdir);
done:
  if (json) cJSON_free(json);
  rf__free(mid);
  return st;
}

int rf_process_capture_into(const char *path, const char *dir, const char *guard_dir, const rf_config *cfg,
                            const char *device, rf_run_summary *sum) {
  memset(sum, 0, sizeof *sum);
  double t0 = rf_now_s();
  char started[32];
  rf_utc_now(started, sizeof started);
  rf_capture *cap = NULL;
  rf_plot_list plots = {0};
  int st = rf_config_check(cfg);
  if (st) return st;
  if (cfg->threads > 0) omp_set_num_threads(cfg->threads);
  rf_watch_phase(RF_PHASE_OPEN);
  st = rf_capture_open(&cap, path);
  if (!st) st = rf_process_validate(cap, cfg, guard_dir);
  rf_watch_phase(RF_PHASE_SETUP);
  if (!st) st = rf__run_on(device ? device : "auto", cap, cfg, &plots, sum);
  if (!st) {
    const rf_capture_meta *m = rf_capture_get_meta(cap);
    for (size_t d = 0; d < m->dwells; d++) sum->samples += (uint64_t)m->num_pulses[d] * m->channels * m->samples;
    sum->dwells = m->dwells;
    sum->plots = plots.n;
    sum->input_bytes = rf_capture_file_size(cap);
    st = rf__write_products(path, dir, cap, cfg, &plots, sum, started, t0);
  }
  rf_plot_list_free(&plots);
  rf_capture_close(cap);
  rf_watch_phase(RF_PHASE_DONE);
  return st;
}

int rf_process_capture_on(const char *path, const char *outdir, const rf_config *cfg,
                          const char *device, rf_run_summary *sum) {
  rf_outset *o = NULL;
  memset(sum, 0, sizeof *sum);
  int st = rf_config_check(cfg);
  if (!st) st = rf_outset_create(&o, outdir, &path, 1, 0);
  if (!st) st = rf_process_capture_into(path, rf_outset_tmpdir(o), rf_outset_dir(o), cfg, device, sum);
  if (!st && rf_cancel) st = rf__err(RF_EINTR, "%s: interrupted; the output folder was left as it was", path);
  if (!st) st = rf_outset_commit(o);
  rf_outset_destroy(o);
  return st;
}
