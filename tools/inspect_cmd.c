/* radarflow CLI: `radarflow inspect CAPTURE` - what a capture holds and
 * what follows from it (pipelines/rf_inspect.h, docs/import.md), as text
 * or JSON (cJSON). */
#include "../io/rf_capture.h"
#include "../io/rf_capture_sources.h"
#include "../pipelines/rf_config.h"
#include "../pipelines/rf_inspect.h"
#include "rf_cmds.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char rf__help_inspect[] =
    "Usage: radarflow inspect CAPTURE.h5 [-c CONFIG] [--set SEC.KEY=VAL]... [--json]\n"
    "Prints what a capture holds (dimensions, sample type, storage and the files an\n"
    "imported capture refers to, waveform, array, dwells, times) and what follows for\n"
    "processing with the given settings: range and velocity coverage, resolution and\n"
    "ambiguity, beamwidths, transmit sector and receive fan, expected processing gain\n"
    "(docs/import.md). Exit 2 when the capture is not valid.\n\n"
    "  -c, --config FILE      processing settings (tapers and beams change the numbers)\n"
    "      --set SEC.KEY=VAL  override one setting (repeatable)\n"
    "      --json             one JSON object instead of text\n"
    "      --allow-external   follow HDF5 links and sources outside the capture's folder\n";

static void rf__utc(double t, char *buf, size_t len) {
  time_t s = (time_t)floor(t);
  struct tm tm;
  if (!isfinite(t) || !gmtime_r(&s, &tm)) {
    snprintf(buf, len, "%g", t);
    return;
  }
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%06.0fZ", floor((t - floor(t)) * 1e6));
}

static cJSON *rf__obj(cJSON *parent, const char *name) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(parent, name, o);
  return o;
}

static void rf__num(cJSON *o, const char *name, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, name, v);
  else cJSON_AddNullToObject(o, name);
}

static cJSON *rf__json(const char *path, uint64_t size, const rf_capture_meta *m, const rf_capture_storage *s,
                       const rf_inspect *x) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "path", path);
  rf__num(r, "size_bytes", (double)size);
  cJSON_AddStringToObject(r, "radar_name", m->radar_name);
  cJSON *site = rf__obj(r, "site");
  rf__num(site, "latitude_deg", m->site_latitude_deg);
  rf__num(site, "longitude_deg", m->site_longitude_deg);
  rf__num(site, "altitude_m", m->site_altitude_m);
  cJSON *iq = rf__obj(r, "iq");
  rf__num(iq, "pulses", (double)m->pulses);
  rf__num(iq, "channels", (double)m->channels);
  rf__num(iq, "samples", (double)m->samples);
  cJSON_AddStringToObject(iq, "sample_type", m->sample_type == RF_SAMPLE_INT16 ? "int16" : "float32");
  cJSON_AddStringToObject(iq, "type", s->iq_type);
  rf__num(iq, "scale", m->scale);
  rf__num(iq, "sample_bytes", (double)(m->pulses * rf_capture_pulse_bytes(m)));
  cJSON_AddStringToObject(iq, "storage", rf_iq_storage_name(s->storage));
  if (s->storage == RF_IQ_CHUNKED) {
    rf__num(iq, "chunk_pulses", (double)s->chunk_pulses);
    cJSON_AddStringToObject(iq, "filters", s->filters);
  }
  if (s->storage == RF_IQ_VIRTUAL) rf__num(iq, "mappings", (double)s->mappings);
  if (s->storage == RF_IQ_EXTERNAL) rf__num(iq, "external_segments", (double)s->external_segments);
  cJSON *src = cJSON_AddArrayToObject(r, "sources");
  for (size_t i = 0; i < s->nsrc; i++) {
    const rf_iq_source *e = &s->src[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", e->kind == RF_IQ_EXTERNAL ? "external raw storage" : "virtual dataset source");
    cJSON_AddStringToObject(o, "name", e->name);
    cJSON_AddStringToObject(o, "path", e->path);
    if (e->dataset) cJSON_AddStringToObject(o, "dataset", e->dataset);
    rf__num(o, "size_bytes", (double)e->size_bytes);
    if (e->kind == RF_IQ_EXTERNAL) rf__num(o, "bytes_needed", (double)e->bytes_needed);
    cJSON_AddBoolToObject(o, "regular_file", e->regular);
    cJSON_AddBoolToObject(o, "inside_capture_folder", e->inside);
    cJSON_AddItemToArray(src, o);
  }
  cJSON *ls = cJSON_AddArrayToObject(r, "external_sources");
  for (size_t i = 0; i < s->nlisted; i++) cJSON_AddItemToArray(ls, cJSON_CreateString(s->listed[i]));
  if (s->import_program[0]) {
    cJSON *im = rf__obj(r, "import");
    cJSON_AddStringToObject(im, "program", s->import_program);
    cJSON_AddStringToObject(im, "source", s->import_source);
    cJSON_AddStringToObject(im, "kind", s->import_kind);
    cJSON_AddStringToObject(im, "storage", s->import_storage);
  }
  cJSON *w = rf__obj(r, "waveform");
  cJSON_AddStringToObject(w, "type", m->waveform_type == RF_WAVEFORM_CUSTOM ? "custom" : "lfm");
  rf__num(w, "center_frequency_hz", m->center_frequency_hz);
  rf__num(w, "wavelength_m", x->lambda_m);
  rf__num(w, "sample_rate_hz", m->sample_rate_hz);
  rf__num(w, "bandwidth_hz", m->bandwidth_hz);
  rf__num(w, "pulse_width_s", m->pulse_width_s);
  rf__num(w, "replica_samples", (double)x->replica_samples);
  rf__num(w, "time_bandwidth", x->time_bandwidth);
  rf__num(w, "pri_s", m->pri_s);
  rf__num(w, "prf_hz", x->prf_hz);
  rf__num(w, "duty_cycle", x->duty);
  rf__num(w, "range_gate_delay_s", m->range_gate_delay_s);
  cJSON *rg = rf__obj(r, "range");
  rf__num(rg, "cell_m", x->range_cell_m);
  rf__num(rg, "resolution_m", x->range_resolution_m);
  rf__num(rg, "first_m", x->range_first_m);
  rf__num(rg, "last_m", x->range_last_m);
  rf__num(rg, "fully_compressed_to_m", x->range_full_m);
  rf__num(rg, "unambiguous_m", x->unambiguous_range_m);
  rf__num(rg, "eclipsed_below_m", x->eclipse_m);
  cJSON *v = rf__obj(r, "velocity");
  rf__num(v, "interval_mps", x->velocity_interval_mps);
  rf__num(v, "unambiguous_min_mps", -x->velocity_interval_mps / 2);
  rf__num(v, "unambiguous_max_mps", x->velocity_interval_mps / 2);
  rf__num(v, "resolution_mps", x->velocity_resolution_mps);
  rf__num(v, "doppler_cell_mps", x->doppler_cell_mps);
  cJSON *dw = rf__obj(r, "dwells");
  rf__num(dw, "count", (double)m->dwells);
  rf__num(dw, "pulses_min", (double)x->dwell_pulses_min);
  rf__num(dw, "pulses_max", (double)x->dwell_pulses_max);
  rf__num(dw, "doppler_bins_min", (double)x->doppler_bins_min);
  rf__num(dw, "doppler_bins_max", (double)x->doppler_bins_max);
  rf__num(dw, "duration_s", x->dwell_duration_s);
  cJSON *a = rf__obj(r, "array");
  rf__num(a, "channels", (double)m->channels);
  cJSON_AddBoolToObject(a, "planar", x->planar);
  cJSON *ap = cJSON_AddArrayToObject(a, "aperture_enu_m");
  for (int k = 0; k < 3; k++) cJSON_AddItemToArray(ap, cJSON_CreateNumber(x->aperture_m[k]));
  rf__num(a, "beamwidth_az_deg", x->beamwidth_az_deg);
  rf__num(a, "beamwidth_el_deg", x->beamwidth_el_deg);
  cJSON_AddBoolToObject(a, "calibration", m->has_calibration);
  cJSON *tx = rf__obj(r, "transmit");
  rf__num(tx, "azimuth_min_deg", x->az_min_deg);
  rf__num(tx, "azimuth_max_deg", x->az_max_deg);
  rf__num(tx, "elevation_min_deg", x->el_min_deg);
  rf__num(tx, "elevation_max_deg", x->el_max_deg);
  cJSON_AddBoolToObject(tx, "tx_beamwidth_given", x->has_tx_beamwidth);
  if (s->tx_beamwidth_az_deg) {
    rf__num(tx, "tx_beamwidth_az_min_deg", x->tx_bw_az_min_deg);
    rf__num(tx, "tx_beamwidth_az_max_deg", x->tx_bw_az_max_deg);
  }
  if (s->tx_beamwidth_el_deg) {
    rf__num(tx, "tx_beamwidth_el_min_deg", x->tx_bw_el_min_deg);
    rf__num(tx, "tx_beamwidth_el_max_deg", x->tx_bw_el_max_deg);
  }
  rf__num(tx, "sector_az_min_deg", x->sector_az_min_deg);
  rf__num(tx, "sector_az_max_deg", x->sector_az_max_deg);
  rf__num(tx, "sector_el_min_deg", x->sector_el_min_deg);
  rf__num(tx, "sector_el_max_deg", x->sector_el_max_deg);
  rf__num(tx, "receive_fan_half_az_deg", x->fan_half_az_deg);
  rf__num(tx, "receive_fan_half_el_deg", x->fan_half_el_deg);
  cJSON_AddBoolToObject(tx, "receive_fan_covers_transmit_beam", x->fan_covers_tx);
  cJSON *g = rf__obj(r, "gain_db");
  rf__num(g, "compression", x->gain_compression_db);
  rf__num(g, "doppler", x->gain_doppler_db);
  rf__num(g, "array", x->gain_array_db);
  rf__num(g, "range_taper_loss", x->loss_range_taper_db);
  rf__num(g, "doppler_taper_loss", x->loss_doppler_taper_db);
  rf__num(g, "array_taper_loss", x->loss_array_taper_db);
  rf__num(g, "total", x->gain_total_db);
  cJSON *t = rf__obj(r, "time");
  rf__num(t, "first_s", x->first_time_s);
  rf__num(t, "last_s", x->last_time_s);
  rf__num(t, "pulse_spacing_median_s", x->pri_measured_s);
  rf__num(t, "not_increasing", (double)x->times_not_increasing);
  cJSON_AddBoolToObject(r, "truth", m->has_truth);
  return r;
}

static void rf__text(const char *path, uint64_t size, const rf_capture_meta *m, const rf_capture_storage *s,
                     const rf_inspect *x) {
  const double c = RF_C_MPS;
  printf("capture %s: %llu bytes, radar \"%s\", site %.6f N %.6f E %.1f m\n", path, (unsigned long long)size,
         m->radar_name, m->site_latitude_deg, m->site_longitude_deg, m->site_altitude_m);
  if (s->import_program[0])
    printf("  imported by %s from %s (%s), samples %s\n", s->import_program, s->import_source, s->import_kind,
           s->import_storage);
  printf("/iq: %zu pulses x %zu channels x %zu samples x (I, Q), %s, scale %.9g; %.1f MiB of samples\n", m->pulses,
         m->channels, m->samples, s->iq_type, m->scale, (double)(m->pulses * rf_capture_pulse_bytes(m)) / 1048576.0);
  printf("  storage: %s", rf_iq_storage_name(s->storage));
  if (s->storage == RF_IQ_CHUNKED)
    printf(", %llu pulse%s a chunk%s%s", (unsigned long long)s->chunk_pulses, s->chunk_pulses == 1 ? "" : "s",
           s->filters[0] ? ", filters: " : "", s->filters);
  if (s->storage == RF_IQ_VIRTUAL) printf(", %zu mappings", s->mappings);
  if (s->storage == RF_IQ_EXTERNAL) printf(", %zu segments", s->external_segments);
  printf("\n");
  for (size_t i = 0; i < s->nsrc; i++) {
    const rf_iq_source *e = &s->src[i];
    printf("  source: %s%s%s -> %s: ", e->name, e->dataset ? " " : "", e->dataset ? e->dataset : "", e->path);
    if (e->size_bytes < 0) printf("MISSING");
    else if (!e->regular) printf("NOT A REGULAR FILE");
    else if (e->kind == RF_IQ_EXTERNAL && (uint64_t)e->size_bytes < e->bytes_needed)
      printf("SHORT: %lld bytes, needs %llu", (long long)e->size_bytes, (unsigned long long)e->bytes_needed);
    else printf("%lld bytes", (long long)e->size_bytes);
    printf(", %s\n", e->inside ? "in the capture's folder" : "OUTSIDE the capture's folder (process needs --allow-external)");
  }
  if (s->nlisted) {
    printf("  external_sources:");
    for (size_t i = 0; i < s->nlisted; i++) printf(" %s", s->listed[i]);
    printf("\n");
  }
  printf("waveform: %s, carrier %.9g Hz (wavelength %.4g m), sample rate %.9g Hz, bandwidth %.9g Hz,\n",
         m->waveform_type == RF_WAVEFORM_CUSTOM ? "custom" : "lfm", m->center_frequency_hz, x->lambda_m,
         m->sample_rate_hz, m->bandwidth_hz);
  printf("  pulse %.6g s (%zu-sample replica, time-bandwidth %.4g), PRI %.9g s (PRF %.6g Hz, duty %.3g %%), gate "
         "delay %.9g s\n", m->pulse_width_s, x->replica_samples, x->time_bandwidth, m->pri_s, x->prf_hz,
         100 * x->duty, m->range_gate_delay_s);
  printf("range: cell %.4g m, resolution %.4g m; window %.1f .. %.1f m (whole echoes to %.1f m); unambiguous to "
         "%.1f m; eclipsed below %.1f m\n", x->range_cell_m, x->range_resolution_m, x->range_first_m, x->range_last_m,
         x->range_full_m, x->unambiguous_range_m, x->eclipse_m);
  if (x->range_last_m > x->unambiguous_range_m)
    printf("  note: the window reaches past the unambiguous range: echoes of earlier pulses fold in\n");
  if (x->range_first_m < x->eclipse_m)
    printf("  note: the window starts inside the eclipse (c T / 2 = %.1f m)\n", x->eclipse_m);
  printf("velocity: unambiguous %.4g .. %.4g m/s (interval %.4g m/s); resolution %.4g m/s, Doppler cell %.4g m/s\n",
         -x->velocity_interval_mps / 2, x->velocity_interval_mps / 2, x->velocity_interval_mps,
         x->velocity_resolution_mps, x->doppler_cell_mps);
  printf("dwells: %zu of %zu", m->dwells, x->dwell_pulses_min);
  if (x->dwell_pulses_max != x->dwell_pulses_min) printf(" .. %zu", x->dwell_pulses_max);
  printf(" pulses (%.4g s), %zu", x->dwell_duration_s, x->doppler_bins_min);
  if (x->doppler_bins_max != x->doppler_bins_min) printf(" .. %zu", x->doppler_bins_max);
  printf(" Doppler bins\n");
  printf("array: %zu channels, %s, aperture E %.3f N %.3f U %.3f m%s; 3 dB beamwidth %.3g deg az",
         m->channels, x->planar ? "planar (measures elevation)" : "linear (no elevation)", x->aperture_m[0],
         x->aperture_m[1], x->aperture_m[2], m->has_calibration ? ", calibrated" : "", x->beamwidth_az_deg);
  if (x->planar) printf(", %.3g deg el", x->beamwidth_el_deg);
  printf(" (first dwell's direction)\n");
  printf("transmit: azimuth %.3f .. %.3f deg, elevation %.3f .. %.3f deg; ", x->az_min_deg, x->az_max_deg,
         x->el_min_deg, x->el_max_deg);
  if (s->tx_beamwidth_az_deg || s->tx_beamwidth_el_deg) {
    printf("transmit beamwidth");
    if (s->tx_beamwidth_az_deg) printf(" az %.3g .. %.3g deg", x->tx_bw_az_min_deg, x->tx_bw_az_max_deg);
    if (s->tx_beamwidth_el_deg) printf(" el %.3g .. %.3g deg", x->tx_bw_el_min_deg, x->tx_bw_el_max_deg);
  } else {
    printf("transmit beamwidth not given (the receive array's beam is taken)");
  }
  printf("\n  sector %.3f .. %.3f deg az", x->sector_az_min_deg, x->sector_az_max_deg);
  if (x->planar || s->tx_beamwidth_el_deg) printf(", %.3f .. %.3f deg el", x->sector_el_min_deg, x->sector_el_max_deg);
  printf("; receive fan +-%.3g deg az", x->fan_half_az_deg);
  if (x->planar) printf(", +-%.3g deg el", x->fan_half_el_deg);
  printf(": %s\n", x->fan_covers_tx ? "covers the transmit beam"
                                    : "does NOT cover the transmit beam (more or wider-spaced receive beams: "
                                      "[beamforming] beams_az, spacing_az_deg)");
  printf("gain: %.2f dB compression (%zu samples) + %.2f dB Doppler (%zu pulses) + %.2f dB array (%zu channels)\n",
         x->gain_compression_db, x->replica_samples, x->gain_doppler_db, x->dwell_pulses_max, x->gain_array_db,
         m->channels);
  printf("  - %.2f - %.2f - %.2f dB tapers (range, Doppler, array) = %.2f dB for white noise\n",
         x->loss_range_taper_db, x->loss_doppler_taper_db, x->loss_array_taper_db, x->gain_total_db);
  char a[64], b[64];
  rf__utc(x->first_time_s, a, sizeof a);
  rf__utc(x->last_time_s, b, sizeof b);
  printf("time: %s .. %s (%.6g s); pulse spacing in dwells %.9g s", a, b, x->last_time_s - x->first_time_s,
         x->pri_measured_s);
  if (x->pri_measured_s > 0 && fabs(x->pri_measured_s - m->pri_s) > 1e-3 * m->pri_s)
    printf(" - DIFFERS from pri_s %.9g s", m->pri_s);
  printf("\n");
  if (x->times_not_increasing)
    printf("  note: %zu pulse times inside dwells do not increase\n", x->times_not_increasing);
  printf("truth: %s\n", m->has_truth ? "present" : "none");
  (void)c;
}

int rf_inspect_cmd(int argc, char **argv) {
  enum { OPT_SET = 256, OPT_JSON, OPT_EXTERNAL };
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"allow-external", no_argument, 0, OPT_EXTERNAL},
                                       {"set", required_argument, 0, OPT_SET},
                                       {"json", no_argument, 0, OPT_JSON},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  rf_config cfg;
  rf_config_defaults(&cfg);
  int c, json = 0, st;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if ((st = rf_config_load(&cfg, optarg))) goto fail;
      break;
    case OPT_SET:
      if ((st = rf_config_set(&cfg, optarg))) goto fail;
      break;
    case OPT_JSON: json = 1; break;
    case OPT_EXTERNAL: rf_capture_allow_external(1); break;
    case 'h': fputs(rf__help_inspect, stdout); return 0;
    default: return rf_cli_bad_option("inspect", argv, "c:h", opts);
    }
  }
  if (optind + 1 != argc) return rf_cli_usage("inspect", "expected one CAPTURE file");
  const char *path = argv[optind];
  rf_capture *cap = NULL;
  rf_capture_storage *s = NULL;
  rf_inspect x;
  /* The storage first: both open the file, and HDF5 closes every object of
   * a file when one of its handles closes (H5F_CLOSE_STRONG). */
  if ((st = rf_capture_storage_read(&s, path)) || (st = rf_capture_open(&cap, path))) goto fail;
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  if (s->dwells && s->dwells != m->dwells) {
    st = rf__err(RF_EFORMAT, "%s: /dwell/tx_beamwidth_*: %zu rows but %zu dwells", path, s->dwells, m->dwells);
    goto fail;
  }
  if ((st = rf_inspect_derive(m, &cfg, s->tx_beamwidth_az_deg, s->tx_beamwidth_el_deg, &x))) goto fail;
  if (json) {
    cJSON *r = rf__json(path, rf_capture_file_size(cap), m, s, &x);
    char *txt = r ? cJSON_Print(r) : NULL;
    if (txt) puts(txt);
    free(txt);
    cJSON_Delete(r);
  } else {
    rf__text(path, rf_capture_file_size(cap), m, s, &x);
  }
  rf_capture_storage_free(s);
  rf_capture_close(cap);
  return 0;
fail:
  rf_capture_storage_free(s);
  rf_capture_close(cap);
  return rf_cli_fail(st);
}
