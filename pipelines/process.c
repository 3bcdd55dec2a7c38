/* radarflow: one capture end to end - open, process every dwell, write the
 * products (plots.h5, plots.csv, run.json), each atomically and only once
 * every dwell has succeeded. */
#include "rf_pipeline.h"
#include "rf_tracker.h"
#include "../host/rf_cl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

/* Peak resident memory of this process image, bytes: VmHWM of
 * /proc/self/status (per address space, so not inflated by a parent before
 * exec, unlike ru_maxrss); getrusage elsewhere. */
static double rf__peak_rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    if (kb >= 0) return 1024.0 * (double)kb;
  }
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? 1024.0 * (double)ru.ru_maxrss : 0.0;
}

static void rf__utc_now(char *out, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Every product file of a capture folder, run.json last. */
static const char *const rf__products[] = {"plots.h5",   "plots.csv",  "tracks.h5",   "tracks.csv", "plots.ast",
                                           "tracks.ast", "plots.pcap", "tracks.pcap", "run.json"};

/* run.json: what ran, on what, with which settings, and how long it took. */
static char *rf__run_json(const char *capture, const rf_capture_meta *m, uint64_t size,
                          const rf_config *cfg, const rf_run_summary *s, const char *started) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  char when[32];
  rf__utc_now(when, sizeof when);
  cJSON_AddStringToObject(root, "program", "radarflow");
  cJSON_AddStringToObject(root, "version", RF_VERSION);
  cJSON_AddStringToObject(root, "started_utc", started);
  cJSON_AddStringToObject(root, "finished_utc", when);
  cJSON_AddStringToObject(root, "device", s->device);
  cJSON_AddStringToObject(root, "device_name", s->device_name);
  if (s->fallback_reason[0]) cJSON_AddStringToObject(root, "fallback_reason", s->fallback_reason);
  else cJSON_AddNullToObject(root, "fallback_reason");
  cJSON_AddNumberToObject(root, "threads", omp_get_max_threads());
  cJSON *in = cJSON_AddObjectToObject(root, "input");
  cJSON_AddStringToObject(in, "path", capture);
  cJSON_AddNumberToObject(in, "size_bytes", (double)size);
  cJSON_AddStringToObject(in, "radar_name", m->radar_name);
  cJSON_AddNumberToObject(in, "channels", (double)m->channels);
  cJSON_AddNumberToObject(in, "pulses", (double)m->pulses);
  cJSON_AddNumberToObject(in, "samples", (double)m->samples);
  cJSON_AddStringToObject(in, "sample_type", m->sample_type == 1 ? "int16" : "float32");
  cJSON *c = cJSON_AddObjectToObject(root, "config");
  for (size_t i = 0; i < rf_config_count(); i++) {
    const char *sec, *key;
    char val[64];
    rf_config_describe(cfg, i, &sec, &key, val, sizeof val);
    cJSON *so = cJSON_GetObjectItemCaseSensitive(c, sec);
    if (!so) so = cJSON_AddObjectToObject(c, sec);
    cJSON_AddStringToObject(so, key, val);
  }
  cJSON_AddNumberToObject(root, "dwells", (double)s->dwells);
  cJSON_AddNumberToObject(root, "plots", (double)s->plots);
  cJSON_AddNumberToObject(root, "tracks", (double)s->tracks);
  cJSON_AddNumberToObject(root, "complex_samples", (double)s->samples);
  cJSON *t = cJSON_AddObjectToObject(root, "stage_seconds");
  for (int i = 0; i < RF_STAGE_COUNT; i++) cJSON_AddNumberToObject(t, rf_stage_names[i], s->stage_s[i]);
  cJSON_AddNumberToObject(t, "write", s->write_s);
  if (strcmp(s->device, "cpu")) { /* device time per stage (profiling events) */
    cJSON *dt = cJSON_AddObjectToObject(root, "device_seconds");
    cJSON_AddNumberToObject(dt, "upload", s->cl.upload_s);
    for (int i = RF_STAGE_pulse_compression; i <= RF_STAGE_cfar; i++)
      cJSON_AddNumberToObject(dt, rf_stage_names[i], s->cl.stage_s[i]);
    cJSON_AddNumberToObject(dt, "download", s->cl.download_s);
    cJSON_AddNumberToObject(dt, "setup_wall", s->cl.setup_s);
    cJSON_AddNumberToObject(dt, "streaming_wall", s->cl.run_s);
  }
  cJSON_AddNumberToObject(root, "seconds", s->seconds);
  cJSON_AddNumberToObject(root, "peak_rss_bytes", rf__peak_rss_bytes());
  cJSON_AddNumberToObject(root, "samples_per_second", s->seconds > 0 ? (double)s->samples / s->seconds : 0);
  char *txt = cJSON_Print(root);
  cJSON_Delete(root);
  return txt;
}

int rf_process_capture(const char *path, const char *outdir, const rf_config *cfg,
                       rf_run_summary *sum) {
  return rf_process_capture_on(path, outdir, cfg, "cpu", sum);
}

/* The whole capture on an OpenCL device; plots appended. */
static int rf__run_opencl(const rf_cl_device_info *dev, rf_capture *cap, const rf_config *cfg,
                          rf_plot_list *plots, rf_run_summary *sum) {
  rf_cl *cl = NULL;
  rf_pipeline_cl *pl = NULL;
  double t0 = rf_now_s(), t1 = t0;
  int st = rf_cl_create(&cl, dev);
  if (!st) st = rf_pipeline_cl_create(&pl, cl, cfg, rf_capture_get_meta(cap));
  if (!st) {
    t1 = rf_now_s();
    st = rf_pipeline_cl_run(pl, cap, plots);
  }
  if (!st) {
    sum->cl = *rf_pipeline_cl_times(pl);
    sum->cl.setup_s = t1 - t0;
    sum->cl.run_s = rf_now_s() - t1;
    memcpy(sum->stage_s, sum->cl.stage_s, sizeof sum->stage_s);
  }
  rf_pipeline_cl_destroy(pl);
  rf_cl_destroy(cl);
  return st;
}

/* Auto gave up on OpenCL: one warning, and the reason for run.json. */
static void rf__fallback(rf_run_summary *sum, int loud) {
  snprintf(sum->fallback_reason, sizeof sum->fallback_reason, "%s", rf_errmsg());
  if (loud) rf_log(1, "radarflow: warning: %s; running on the CPU path instead", sum->fallback_reason);
  else rf_log(2, "radarflow: %s; running on the CPU path", sum->fallback_reason);
  rf_errmsg_clear();
}

int rf_process_capture_on(const char *path, const char *outdir, const rf_config *cfg,
                          const char *device, rf_run_summary *sum) {
  memset(sum, 0, sizeof *sum);
  double t0 = rf_now_s();
  char started[32];
  rf__utc_now(started, sizeof started);
  if (cfg->threads > 0) omp_set_num_threads(cfg->threads);
  rf_capture *cap = NULL;
  rf_pipeline *pl = NULL;
  rf_plot_list plots = {0};
  char *json = NULL;
  double *mid = NULL;
  char p_h5[4200], p_csv[4200], p_json[4200];
  const char *dev = device ? device : "auto";
  const int is_auto = !strcmp(dev, "auto");
  int use_cl = strcmp(dev, "cpu") != 0;
  int st = rf_capture_open(&cap, path);
  if (st) goto done;
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  if (use_cl) {
    rf_cl_device_info info;
    st = rf_cl_select(dev, &info);
    if (st && is_auto) {
      rf__fallback(sum, st != RF_EUNSUP); /* no GPU is not a failure: quiet */
      use_cl = 0;
      st = 0;
    } else if (st) {
      goto done;
    } else {
      snprintf(sum->device, sizeof sum->device, "%s", info.id);
      snprintf(sum->device_name, sizeof sum->device_name, "%s", info.name);
      st = rf__run_opencl(&info, cap, cfg, &plots, sum);
      if (st == RF_EDEVICE && is_auto) { /* start again on the CPU */
        rf__fallback(sum, 1);
        rf_plot_list_free(&plots);
        memset(&plots, 0, sizeof plots);
        memset(sum->stage_s, 0, sizeof sum->stage_s);
        memset(&sum->cl, 0, sizeof sum->cl);
        use_cl = 0;
        st = 0;
      } else if (st) {
        goto done;
      }
    }
  }
  if (!use_cl) {
    snprintf(sum->device, sizeof sum->device, "cpu");
    snprintf(sum->device_name, sizeof sum->device_name, "FFTW + OpenMP, %d threads", omp_get_max_threads());
    if ((st = rf_pipeline_create(&pl, cfg, m))) goto done;
    for (size_t d = 0; d < m->dwells; d++) {
      if (rf_cancel) {
        st = rf__err(RF_EINTR, "%s: interrupted after %zu of %zu dwells; no products written", path, d,
                     m->dwells);
        goto done;
      }
      if ((st = rf_pipeline_process_dwell(pl, cap, d, &plots))) goto done;
      rf_log(2, "dwell %zu: %zu plots so far", d, plots.n);
    }
    memcpy(sum->stage_s, rf_pipeline_times(pl), sizeof sum->stage_s);
  }
  for (size_t d = 0; d < m->dwells; d++)
    sum->samples += (uint64_t)m->num_pulses[d] * m->channels * m->samples;
  sum->dwells = m->dwells;
  sum->plots = plots.n;
  sum->input_bytes = rf_capture_file_size(cap);

  double tw = rf_now_s();
  if ((st = rf_mkdirs(outdir))) goto done;
  snprintf(p_h5, sizeof p_h5, "%s/plots.h5", outdir);
  snprintf(p_csv, sizeof p_csv, "%s/plots.csv", outdir);
  snprintf(p_json, sizeof p_json, "%s/run.json", outdir);
  /* The sensor description goes into plots.h5 (so `radarflow track` can
   * rerun the tracker from it) and drives the tracker. */
  if (!(mid = rf__malloc((m->dwells ? m->dwells : 1) * sizeof *mid))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", outdir);
    goto done;
  }
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
  if ((st = rf_plots_write_h5(p_h5, plots.v, plots.n, &info))) goto done;
  if ((st = rf_plots_write_csv(p_csv, plots.v, plots.n))) goto fail_products;
  if ((st = rf_track_products_sensor(plots.v, plots.n, cfg, &ts, &info, outdir, &sum->tracks)))
    goto fail_products;
  sum->write_s = rf_now_s() - tw;
  sum->seconds = rf_now_s() - t0;
  json = rf__run_json(path, m, sum->input_bytes, cfg, sum, started);
  if (!json) st = rf__err(RF_ENOMEM, "%s: out of memory", p_json);
  else st = rf_write_file_atomic(p_json, json, strlen(json));
  if (st) goto fail_products;
  goto done;
fail_products:
  /* All products or none: remove what this run already renamed into place. */
  for (size_t i = 0; i < sizeof rf__products / sizeof rf__products[0]; i++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", outdir, rf__products[i]);
    remove(p);
  }
done:
  rf__free(mid);
  if (json) cJSON_free(json);
  rf_plot_list_free(&plots);
  rf_pipeline_destroy(pl);
  rf_capture_close(cap);
  return st;
}
