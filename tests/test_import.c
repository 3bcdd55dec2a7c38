/* `radarflow import` and `radarflow inspect` (docs/import.md).
 *
 * The oracle for an import is the same data written natively: a small
 * scenario is simulated into a capture; its samples are written again by
 * this test (plain C stdio and the HDF5 C library, not radarflow's writer)
 * as a raw file in another axis order and byte order, as a continuous
 * recording to cut pulses from, as a SigMF recording (meta file built with
 * cJSON) and as a foreign HDF5 file; each is imported and processed, and
 * its plots must equal the native capture's, column for column (pulse
 * times within 1 us where they come from a SigMF start time plus sample
 * offsets). The reader's direct read of a virtual /iq is compared with
 * HDF5's own. Malformed SigMF meta and layout files, unsafe outputs and
 * missing or short sources must give exit 2 with a one-line message
 * naming the file and the field. inspect's numbers are checked against
 * the closed forms (c / 2 fs, lambda / 2 PRI, 10 log10(M K N), ...)
 * computed here. The comparison with the independent writers (the sigmf
 * package, h5py) is tests/import/run.sh. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../io/capture_vds.h"
#include "../io/rf_capture.h"
#include "../io/rf_capture_sources.h"
#include "rf_testutil.h"

/* The scenario: 4-element ULA, fs 10 MHz, PRI 100 us = 1000 samples, fast
 * time 200 samples after transmit (range_gate_delay_s 2e-5 = 200 / fs),
 * 256 samples, 3 dwells of 16 pulses one PRI apart, two strong targets. */
#define IMP_FS 10e6
#define IMP_PRI_SAMPLES 1000
#define IMP_GATE 200
static const char imp_scenario[] =
    "[radar]\nname = import test\nsite_latitude_deg = 52.1\nsite_longitude_deg = 4.3\nsite_altitude_m = 7\n"
    "center_frequency_hz = 3e9\npeak_power_w = 1e3\n"
    "[waveform]\ntype = lfm\nbandwidth_hz = 4e6\npulse_width_s = 5e-6\nsample_rate_hz = 10e6\npri_s = 100e-6\n"
    "range_gate_delay_s = 2e-5\nsamples = 256\n"
    "[array]\nlayout = ula\nelements = 4\nface_azimuth_deg = 12\n"
    "[scan]\ndwells = 3\npulses_per_dwell = 16\nazimuth_deg = 10, 14, 10\nelevation_deg = 0.5\n"
    "start_time_s = 1.7e9\n"
    "[noise]\nsample_type = int16\n"
    "[target a]\nrange_m = 5000\nazimuth_deg = 11\nelevation_deg = 0.5\nradial_velocity_mps = -30\nsnr_db = 5\n"
    "[target b]\nrange_m = 8000\nazimuth_deg = 13\nelevation_deg = 0.5\nradial_velocity_mps = 20\nsnr_db = 0\n";

/* Pulse times within this of the native ones when a recording gives a
 * start time plus sample offsets (float64 epoch seconds resolve 0.24 us). */
#define IMP_TIME_TOL_S 1e-6

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static char *slurp(const char *path) {
  char *t = rf_test_read_file(path, NULL);
  ck_assert_msg(t != NULL, "cannot read %s", path);
  return t;
}

/* The native capture and its samples. */
typedef struct imp_native {
  char dir[512], cap[600], plots[800];
  rf_capture *c;
  const rf_capture_meta *m;
  int16_t *raw; /* [P][C][S][2] */
} imp_native;

static void native_make(imp_native *n, const char *name) {
  char ini[700], out[700], log[700];
  rf_test_fresh_dir(n->dir, sizeof n->dir, name);
  rf_test_join(ini, sizeof ini, n->dir, "scenario.ini");
  rf_test_join(n->cap, sizeof n->cap, n->dir, "native.h5");
  rf_test_join(out, sizeof out, n->dir, "native_out");
  rf_test_join(log, sizeof log, n->dir, "log.txt");
  write_text(ini, imp_scenario);
  ck_assert_int_eq(rf_test_cli(log, "simulate", ini, "-o", n->cap, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", n->cap, "-o", out, "-q", "--device", "cpu", NULL), 0);
  snprintf(n->plots, sizeof n->plots, "%s/plots.csv", out);
  ck_assert_int_eq(rf_capture_open(&n->c, n->cap), 0);
  n->m = rf_capture_get_meta(n->c);
  ck_assert_int_eq(n->m->sample_type, RF_SAMPLE_INT16);
  n->raw = malloc(n->m->pulses * rf_capture_pulse_bytes(n->m));
  ck_assert_ptr_nonnull(n->raw);
  ck_assert_int_eq(rf_capture_read_pulses(n->c, 0, n->m->pulses, n->raw), 0);
}

static void native_free(imp_native *n) {
  free(n->raw);
  rf_capture_close(n->c);
}

static int16_t sample(const imp_native *n, size_t p, size_t c, size_t s, int q) {
  const rf_capture_meta *m = n->m;
  return n->raw[((p * m->channels + c) * m->samples + s) * 2 + (size_t)q];
}

/* The radar facts of the native capture as layout sections (lists one
 * number a line); with `times` (a recording of pulses, not a continuous
 * one) also the pulse times and the range gate delay of sample 0. */
static const char *imp_skip = ""; /* "section.key" layout_facts leaves out */
#define IMP_KEY(sec, key) (strcmp(imp_skip, sec "." key) != 0)

static void layout_facts(FILE *f, const imp_native *n, int times) {
  const rf_capture_meta *m = n->m;
  fprintf(f, "[radar]\n");
  if (IMP_KEY("radar", "name")) fprintf(f, "name = imported\n");
  if (IMP_KEY("radar", "site_latitude_deg")) fprintf(f, "site_latitude_deg = %.17g\n", m->site_latitude_deg);
  fprintf(f, "site_longitude_deg = %.17g\nsite_altitude_m = %.17g\n", m->site_longitude_deg, m->site_altitude_m);
  fprintf(f, "[waveform]\ncenter_frequency_hz = %.17g\nsample_rate_hz = %.17g\n", m->center_frequency_hz,
          m->sample_rate_hz);
  if (IMP_KEY("waveform", "bandwidth_hz")) fprintf(f, "bandwidth_hz = %.17g\n", m->bandwidth_hz);
  if (IMP_KEY("waveform", "pulse_width_s")) fprintf(f, "pulse_width_s = %.17g\n", m->pulse_width_s);
  if (IMP_KEY("waveform", "pri_s")) fprintf(f, "pri_s = %.17g\n", m->pri_s);
  if (times) fprintf(f, "range_gate_delay_s = %.17g\n", m->range_gate_delay_s);
  fprintf(f, "[array]\nelement_position_m =");
  for (size_t c = 0; c < m->channels; c++)
    fprintf(f, "%s%.17g %.17g %.17g\n", c ? "    " : " ", m->element_position_m[c][0], m->element_position_m[c][1],
            m->element_position_m[c][2]);
  if (times) {
    fprintf(f, "[pulses]\ntime_s =");
    for (size_t p = 0; p < m->pulses; p++) fprintf(f, "%s%.17g\n", p ? "    " : " ", m->pulse_time_s[p]);
  }
  fprintf(f, "[dwell]\n");
  if (IMP_KEY("dwell", "first_pulse")) {
    fprintf(f, "first_pulse =");
    for (size_t d = 0; d < m->dwells; d++) fprintf(f, " %lld", (long long)m->first_pulse[d]);
    fprintf(f, "\n");
  }
  if (IMP_KEY("dwell", "num_pulses")) {
    fprintf(f, "num_pulses =");
    for (size_t d = 0; d < m->dwells; d++) fprintf(f, " %d", m->num_pulses[d]);
    fprintf(f, "\n");
  }
  fprintf(f, "azimuth_deg =");
  for (size_t d = 0; d < m->dwells; d++) fprintf(f, " %.17g", m->azimuth_deg[d]);
  if (IMP_KEY("dwell", "elevation_deg")) {
    fprintf(f, "\nelevation_deg =");
    for (size_t d = 0; d < m->dwells; d++) fprintf(f, " %.17g", m->elevation_deg[d]);
  }
  fprintf(f, "\n");
}

/* Raw A: int16 big-endian, [channels][pulses][samples][2], range gate as in
 * the native capture. */
static void write_raw_channel_major(const imp_native *n, const char *bin, const char *ini) {
  const rf_capture_meta *m = n->m;
  FILE *f = fopen(bin, "wb");
  ck_assert_ptr_nonnull(f);
  for (size_t c = 0; c < m->channels; c++)
    for (size_t p = 0; p < m->pulses; p++)
      for (size_t s = 0; s < m->samples; s++)
        for (int q = 0; q < 2; q++) {
          uint16_t v = (uint16_t)sample(n, p, c, s, q);
          unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
          fwrite(b, 1, 2, f);
        }
  fclose(f);
  f = fopen(ini, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "[source]\nformat = raw\ntype = int16\nbyte_order = big\nshape = %zu %zu %zu 2\n"
             "axes = channel pulse sample iq\nscale = %.17g\n",
          m->channels, m->pulses, m->samples, m->scale);
  layout_facts(f, n, 1);
  fclose(f);
}

/* The continuous recording: int16 little-endian [time][channels][2],
 * pulse k transmitted at sample 37 + k * PRI, fast time IMP_GATE samples
 * later; other samples hold a pattern that must never be read. */
static size_t write_stream(const imp_native *n, const char *bin) {
  const rf_capture_meta *m = n->m;
  size_t T = 37 + m->pulses * IMP_PRI_SAMPLES + 500, C = m->channels;
  int16_t *v = malloc(T * C * 2 * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (size_t i = 0; i < T * C * 2; i++) v[i] = (int16_t)(30000 - (int)(i % 7919));
  for (size_t p = 0; p < m->pulses; p++)
    for (size_t s = 0; s < m->samples; s++)
      for (size_t c = 0; c < C; c++)
        for (int q = 0; q < 2; q++) v[((37 + p * IMP_PRI_SAMPLES + IMP_GATE + s) * C + c) * 2 + (size_t)q] = sample(n, p, c, s, q);
  FILE *f = fopen(bin, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(v, sizeof *v, T * C * 2, f), T * C * 2);
  fclose(f);
  free(v);
  return T;
}

/* Compares plots.csv files: same rows, every column equal as text except
 * time_s, within tol. */
static void plots_equal(const char *a, const char *b, double tol) {
  char *x = slurp(a), *y = slurp(b);
  char *sx, *sy;
  char *lx = strtok_r(x, "\n", &sx), *ly = strtok_r(y, "\n", &sy);
  int row = 0;
  while (lx && ly) {
    if (row > 0) {
      char *cx, *cy, *tx = strtok_r(lx, ",", &cx), *ty = strtok_r(ly, ",", &cy);
      ck_assert_msg(fabs(strtod(tx, NULL) - strtod(ty, NULL)) <= tol, "%s row %d: time %s vs %s", b, row, tx, ty);
      for (int k = 1; (tx = strtok_r(NULL, ",", &cx)) && (ty = strtok_r(NULL, ",", &cy)); k++)
        ck_assert_msg(!strcmp(tx, ty), "%s row %d column %d: %s vs %s", b, row, k, tx, ty);
    } else {
      ck_assert_str_eq(lx, ly);
    }
    row++;
    lx = strtok_r(NULL, "\n", &sx);
    ly = strtok_r(NULL, "\n", &sy);
  }
  ck_assert_msg(!lx && !ly, "%s: a different number of plots", b);
  ck_assert_msg(row > 2, "%s: the scenario must give plots to compare (got %d rows)", a, row - 1);
  free(x);
  free(y);
}

static void import_and_compare(const imp_native *n, const char *source, const char *layout, const char *cap,
                               const char *extra, double tol, const char *expect_storage) {
  char log[700], out[700], plots[800];
  rf_test_join(log, sizeof log, n->dir, "import_log.txt");
  snprintf(out, sizeof out, "%s.out", cap);
  const char *argv[16] = {rf_test_bin(), "import", source, "-o", cap};
  int k = 5;
  if (layout) {
    argv[k++] = "--layout";
    argv[k++] = layout;
  }
  if (extra) argv[k++] = extra;
  argv[k] = NULL;
  int code = rf_test_run(log, argv);
  char *txt = slurp(log);
  ck_assert_msg(code == 0, "import %s: exit %d: %s", source, code, txt);
  ck_assert_msg(strstr(txt, expect_storage), "import %s: expected '%s' in: %s", source, expect_storage, txt);
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-q", "--device", "cpu", NULL), 0);
  snprintf(plots, sizeof plots, "%s/plots.csv", out);
  plots_equal(n->plots, plots, tol);
}

/* Reads every pulse of a capture, with or without the direct read of a
 * virtual /iq. */
static void *read_all(const char *path, int fast, size_t *bytes) {
  rf_capture *c;
  int saved = rf__vds_fast_enabled;
  rf__vds_fast_enabled = fast;
  ck_assert_int_eq(rf_capture_open(&c, path), 0);
  rf__vds_fast_enabled = saved;
  const rf_capture_meta *m = rf_capture_get_meta(c);
  *bytes = m->pulses * rf_capture_pulse_bytes(m);
  void *v = malloc(*bytes);
  ck_assert_ptr_nonnull(v);
  /* Blocks of 5 pulses: partial overlaps with the mappings' pulse runs. */
  for (size_t p = 0; p < m->pulses; p += 5) {
    size_t k = m->pulses - p < 5 ? m->pulses - p : 5;
    ck_assert_int_eq(rf_capture_read_pulses(c, p, k, (char *)v + p * rf_capture_pulse_bytes(m)), 0);
  }
  rf_capture_close(c);
  return v;
}

START_TEST(import_raw_layouts_give_the_native_plots) {
  imp_native n;
  native_make(&n, "import_raw");
  char bin[700], ini[700], cap[700], cap2[700];
  /* Another axis order and byte order, pulses recorded apart. */
  rf_test_join(bin, sizeof bin, n.dir, "a.bin");
  rf_test_join(ini, sizeof ini, n.dir, "a.ini");
  rf_test_join(cap, sizeof cap, n.dir, "a.h5");
  write_raw_channel_major(&n, bin, ini);
  import_and_compare(&n, bin, ini, cap, NULL, 0, "external raw storage (192 segments)");

  /* A continuous recording: pulses cut on the PRI grid, range gate. */
  rf_test_join(bin, sizeof bin, n.dir, "stream.bin");
  rf_test_join(ini, sizeof ini, n.dir, "stream.ini");
  rf_test_join(cap, sizeof cap, n.dir, "stream.h5");
  size_t T = write_stream(&n, bin);
  FILE *f = fopen(ini, "w");
  fprintf(f, "[source]\ntype = int16\nshape = %zu %zu 2\naxes = time channel iq\nscale = %.17g\n", T, n.m->channels,
          n.m->scale);
  fprintf(f, "[pulses]\nfirst_transmit_sample = 37\ngate_samples = %d\nsamples = %zu\ncount = %zu\n", IMP_GATE,
          n.m->samples, n.m->pulses);
  layout_facts(f, &n, 0);
  fprintf(f, "[pulses]\ntime_s =");
  for (size_t p = 0; p < n.m->pulses; p++) fprintf(f, "%s%.17g\n", p ? "    " : " ", n.m->pulse_time_s[p]);
  fclose(f);
  import_and_compare(&n, bin, ini, cap, NULL, 0, "virtual dataset (4 mappings)");

  /* The direct read of the virtual /iq gives HDF5's samples, and both give
   * the native ones. */
  size_t b1, b2;
  void *fast = read_all(cap, 1, &b1), *slow = read_all(cap, 0, &b2);
  ck_assert_uint_eq(b1, b2);
  ck_assert_uint_eq(b1, n.m->pulses * rf_capture_pulse_bytes(n.m));
  ck_assert_msg(memcmp(fast, slow, b1) == 0, "direct read differs from HDF5's virtual dataset read");
  ck_assert_msg(memcmp(fast, n.raw, b1) == 0, "imported samples differ from the native ones");
  free(fast);
  free(slow);

  /* --copy: the same plots from a self-contained capture. */
  rf_test_join(cap2, sizeof cap2, n.dir, "stream_copy.h5");
  import_and_compare(&n, bin, ini, cap2, "--copy", 0, "copied into the capture: --copy was given");
  rf_capture_storage *st;
  ck_assert_int_eq(rf_capture_storage_read(&st, cap2), 0);
  ck_assert_int_eq(st->storage, RF_IQ_CHUNKED);
  ck_assert_uint_eq(st->nlisted, 0);
  rf_capture_storage_free(st);
  native_free(&n);
}
END_TEST

/* A foreign HDF5 file written with the HDF5 C library: samples as a
 * compound {re, im} of float32, [pulses][samples][channels], chunked (so
 * copied), and int16 I and Q planes (split, referred to). */
START_TEST(import_foreign_hdf5_gives_the_native_plots) {
  imp_native n;
  native_make(&n, "import_h5");
  const rf_capture_meta *m = n.m;
  char h5[700], ini[700], cap[700];
  rf_test_join(h5, sizeof h5, n.dir, "foreign.h5");
  hid_t f = H5Fcreate(h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hsize_t d3[3] = {m->pulses, m->samples, m->channels}, ch[3] = {4, m->samples, m->channels};
  size_t ne = m->pulses * m->samples * m->channels;
  float *cx = malloc(ne * 2 * sizeof *cx);
  int16_t *pi = malloc(ne * sizeof *pi), *pq = malloc(ne * sizeof *pq);
  for (size_t p = 0; p < m->pulses; p++)
    for (size_t s = 0; s < m->samples; s++)
      for (size_t c = 0; c < m->channels; c++) {
        size_t i = (p * m->samples + s) * m->channels + c;
        cx[2 * i] = (float)sample(&n, p, c, s, 0);
        cx[2 * i + 1] = (float)sample(&n, p, c, s, 1);
        pi[i] = sample(&n, p, c, s, 0);
        pq[i] = sample(&n, p, c, s, 1);
      }
  hid_t ct = H5Tcreate(H5T_COMPOUND, 8), sp = H5Screate_simple(3, d3, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Tinsert(ct, "re", 0, H5T_NATIVE_FLOAT);
  H5Tinsert(ct, "im", 4, H5T_NATIVE_FLOAT);
  H5Pset_chunk(dcpl, 3, ch);
  hid_t d = H5Dcreate2(f, "cx", ct, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, cx), 0);
  H5Dclose(d);
  d = H5Dcreate2(f, "i", H5T_STD_I16BE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, pi), 0);
  H5Dclose(d);
  d = H5Dcreate2(f, "q", H5T_STD_I16BE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, pq), 0);
  H5Dclose(d);
  hid_t as = H5Screate(H5S_SCALAR), a = H5Acreate2(f, "lsb_v", H5T_IEEE_F64LE, as, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, &m->scale);
  H5Aclose(a);
  H5Sclose(as);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Tclose(ct);
  H5Fclose(f);
  free(cx);
  free(pi);
  free(pq);
  /* compound, chunked: copied (scale 1/4096 applies to the float copy too) */
  rf_test_join(ini, sizeof ini, n.dir, "cx.ini");
  FILE *fp = fopen(ini, "w");
  fprintf(fp, "[source]\ndataset = /cx\naxes = pulse sample channel\nreal_member = re\nimag_member = im\nscale = @/@lsb_v\n");
  layout_facts(fp, &n, 1);
  fclose(fp);
  rf_test_join(cap, sizeof cap, n.dir, "cx.h5");
  import_and_compare(&n, h5, ini, cap, NULL, 0, "copied into the capture");
  /* split int16 planes, chunked: a virtual dataset, 2 x 4 mappings */
  rf_test_join(ini, sizeof ini, n.dir, "split.ini");
  fp = fopen(ini, "w");
  fprintf(fp, "[source]\ndataset = /i\ndataset_q = /q\naxes = pulse sample channel\nscale = @/@lsb_v\n");
  layout_facts(fp, &n, 1);
  fclose(fp);
  rf_test_join(cap, sizeof cap, n.dir, "split.h5");
  import_and_compare(&n, h5, ini, cap, NULL, 0, "virtual dataset (8 mappings)");
  native_free(&n);
}
END_TEST

/* The SigMF meta of the continuous recording (cJSON). */
static cJSON *sigmf_meta(const imp_native *n, int annotations) {
  const rf_capture_meta *m = n->m;
  cJSON *root = cJSON_CreateObject(), *g = cJSON_AddObjectToObject(root, "global");
  cJSON_AddStringToObject(g, "core:datatype", "ci16_le");
  cJSON_AddNumberToObject(g, "core:sample_rate", m->sample_rate_hz);
  cJSON_AddNumberToObject(g, "core:num_channels", (double)m->channels);
  cJSON_AddStringToObject(g, "core:version", "1.0.0");
  cJSON *geo = cJSON_AddObjectToObject(g, "core:geolocation");
  cJSON_AddStringToObject(geo, "type", "Point");
  double co[3] = {m->site_longitude_deg, m->site_latitude_deg, m->site_altitude_m};
  cJSON_AddItemToObject(geo, "coordinates", cJSON_CreateDoubleArray(co, 3));
  cJSON_AddStringToObject(g, "radarflow:waveform", "lfm");
  cJSON_AddNumberToObject(g, "radarflow:bandwidth_hz", m->bandwidth_hz);
  cJSON_AddNumberToObject(g, "radarflow:pulse_width_s", m->pulse_width_s);
  cJSON_AddNumberToObject(g, "radarflow:pri_s", m->pri_s);
  cJSON_AddNumberToObject(g, "radarflow:scale", m->scale);
  cJSON_AddNumberToObject(g, "radarflow:gate_samples", IMP_GATE);
  cJSON_AddNumberToObject(g, "radarflow:samples_per_pulse", (double)m->samples);
  cJSON_AddNumberToObject(g, "radarflow:pulses_per_dwell", m->num_pulses[0]);
  cJSON *pos = cJSON_AddArrayToObject(g, "radarflow:element_position_m");
  for (size_t c = 0; c < m->channels; c++)
    cJSON_AddItemToArray(pos, cJSON_CreateDoubleArray(m->element_position_m[c], 3));
  cJSON_AddItemToObject(g, "radarflow:azimuth_deg", cJSON_CreateDoubleArray(m->azimuth_deg, (int)m->dwells));
  cJSON_AddNumberToObject(g, "radarflow:elevation_deg", m->elevation_deg[0]);
  cJSON *caps = cJSON_AddArrayToObject(root, "captures"), *c0 = cJSON_CreateObject();
  cJSON_AddNumberToObject(c0, "core:sample_start", 0);
  cJSON_AddNumberToObject(c0, "core:frequency", m->center_frequency_hz);
  /* 1.7e9 s is 2023-11-14T22:13:20Z; sample 0 lies 37 samples before pulse 0. */
  ck_assert(m->pulse_time_s[0] == 1.7e9);
  cJSON_AddStringToObject(c0, "core:datetime", "2023-11-14T22:13:19.9999963Z");
  cJSON_AddItemToArray(caps, c0);
  if (!annotations) {
    cJSON_AddNumberToObject(g, "radarflow:first_transmit_sample", 37);
  } else {
    cJSON *anns = cJSON_AddArrayToObject(root, "annotations");
    for (size_t p = 0; p < m->pulses; p++) {
      cJSON *an = cJSON_CreateObject();
      cJSON_AddNumberToObject(an, "core:sample_start", (double)(37 + p * IMP_PRI_SAMPLES));
      cJSON_AddNumberToObject(an, "core:sample_count", 500);
      cJSON_AddBoolToObject(an, "radarflow:pulse", 1);
      cJSON_AddItemToArray(anns, an);
    }
  }
  return root;
}

static void write_json(const char *path, const cJSON *j) {
  char *t = cJSON_Print(j);
  write_text(path, t);
  free(t);
}

START_TEST(import_sigmf_gives_the_native_plots) {
  imp_native n;
  native_make(&n, "import_sigmf");
  char stem[700], data[720], meta[720], cap[700];
  rf_test_join(stem, sizeof stem, n.dir, "rec");
  snprintf(data, sizeof data, "%s.sigmf-data", stem);
  snprintf(meta, sizeof meta, "%s.sigmf-meta", stem);
  write_stream(&n, data);
  for (int ann = 0; ann < 2; ann++) {
    cJSON *j = sigmf_meta(&n, ann);
    write_json(meta, j);
    cJSON_Delete(j);
    rf_test_join(cap, sizeof cap, n.dir, ann ? "ann.h5" : "pri.h5");
    /* By PRI 49 pulses fit: 48 rows of a PRI, then the last alone (the
     * stream ends before a whole PRI after it); the annotations mark 48. */
    import_and_compare(&n, ann ? stem : meta, NULL, cap, NULL, IMP_TIME_TOL_S,
                       ann ? "virtual dataset (4 mappings)" : "virtual dataset (8 mappings)");
  }
  native_free(&n);
}
END_TEST

/* Runs an import that must fail with exit 2, one line naming `file` and
 * `field`, and leave nothing at the output or beside it. */
static void expect_refusal(const char *dir, const char *const *argv_tail, const char *file, const char *field,
                           const char *what) {
  char log[700], out[700];
  rf_test_join(log, sizeof log, dir, "refusal_log.txt");
  rf_test_join(out, sizeof out, dir, "refused.h5");
  const char *argv[20] = {rf_test_bin(), "import"};
  int k = 2;
  for (; argv_tail[k - 2] && k < 16; k++) argv[k] = argv_tail[k - 2];
  argv[k++] = "-o";
  argv[k++] = out;
  argv[k] = NULL;
  size_t before = rf_test_count_entries(dir, NULL);
  int code = rf_test_run(log, argv);
  char *txt = slurp(log);
  ck_assert_msg(code == 2, "%s: exit %d: %s", what, code, txt);
  ck_assert_msg(strstr(txt, file) && strstr(txt, field), "%s: message lacks '%s' or '%s': %s", what, file, field, txt);
  ck_assert_msg(strchr(txt, '\n') == txt + strlen(txt) - 1, "%s: not one line: %s", what, txt);
  ck_assert_msg(!rf_test_file_exists(out), "%s: left %s", what, out);
  /* the log itself may be new */
  ck_assert_msg(rf_test_count_entries(dir, NULL) <= before + 1 && rf_test_count_entries(dir, ".tmp.") == 0,
                "%s: left a temporary", what);
  free(txt);
}

START_TEST(import_refuses_malformed_sigmf) {
  imp_native n;
  native_make(&n, "import_bad_sigmf");
  char stem[700], data[720], meta[720];
  rf_test_join(stem, sizeof stem, n.dir, "rec");
  snprintf(data, sizeof data, "%s.sigmf-data", stem);
  snprintf(meta, sizeof meta, "%s.sigmf-meta", stem);
  write_stream(&n, data);
  /* path in the JSON ("global", "captures/0", "annotations/0"), key, new
   * JSON value (NULL: delete), the field the message must name */
  static const struct {
    const char *obj, *key, *value, *field;
  } cases[] = {
      {"global", "core:datatype", NULL, "core:datatype"},
      {"global", "core:datatype", "\"ru8\"", "core:datatype"},
      {"global", "core:datatype", "\"cu8\"", "core:datatype"},
      {"global", "core:datatype", "\"cf16_le\"", "core:datatype"},
      {"global", "core:datatype", "7", "core:datatype"},
      {"global", "core:sample_rate", NULL, "core:sample_rate"},
      {"global", "core:sample_rate", "-1", "core:sample_rate"},
      {"global", "core:num_channels", "0", "core:num_channels"},
      {"global", "core:num_channels", "2.5", "core:num_channels"},
      {"global", "core:geolocation", "{\"type\": \"Point\", \"coordinates\": [1]}", "core:geolocation"},
      {"global", "core:metadata_only", "true", "core:metadata_only"},
      {"global", "radarflow:pri_s", "-1e-4", "radarflow:pri_s"},
      {"global", "radarflow:pri_s", "1.00005e-4", "radarflow:pri_s"},
      {"global", "radarflow:pri_s", NULL, "pri_s"},
      {"global", "radarflow:bandwidth_hz", "\"wide\"", "radarflow:bandwidth_hz"},
      {"global", "radarflow:bandwidth_hz", NULL, "bandwidth_hz"},
      {"global", "radarflow:pulses_per_dwell", "0", "radarflow:pulses_per_dwell"},
      {"global", "radarflow:pulses_per_dwell", NULL, "pulses"},
      {"global", "radarflow:element_position_m", "[[0, 0, 0]]", "radarflow:element_position_m"},
      {"global", "radarflow:waveform", "\"fmcw\"", "radarflow:waveform"},
      {"global", "radarflow:gate_samples", "-3", "radarflow:gate_samples"},
      {"global", "radarflow:samples_per_pulse", "5000", "samples"},
      {"global", "radarflow:colour", "1", "radarflow:colour"},
      {"global", "radarflow:azimuth_deg", "[10, true]", "radarflow:azimuth_deg"},
      {"captures/0", "core:frequency", NULL, "core:frequency"},
      {"captures/0", "core:frequency", "0", "core:frequency"},
      {"captures/0", "core:datetime", "\"yesterday\"", "core:datetime"},
      {"captures/0", "core:sample_start", "99999999", "core:sample_start"},
      {"captures/0", "radarflow:pri_s", "1", "radarflow:pri_s"},
      {"annotations/0", "core:sample_start", NULL, "core:sample_start"},
      {"annotations/1", "core:sample_start", "10", "core:sample_start"},
      {"annotations/0", "radarflow:dwell", "0", "radarflow:dwell"},
      {"annotations/0", "radarflow:pulse", "1", "radarflow:pulse"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int ann = !strncmp(cases[i].obj, "annotations", 11);
    cJSON *j = sigmf_meta(&n, ann), *o;
    if (!strcmp(cases[i].obj, "global")) o = cJSON_GetObjectItem(j, "global");
    else if (!strcmp(cases[i].obj, "captures/0")) o = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "captures"), 0);
    else o = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "annotations"), cases[i].obj[12] - '0');
    cJSON_DeleteItemFromObject(o, cases[i].key);
    if (cases[i].value) cJSON_AddItemToObject(o, cases[i].key, cJSON_Parse(cases[i].value));
    write_json(meta, j);
    cJSON_Delete(j);
    char what[160];
    snprintf(what, sizeof what, "%s %s = %s", cases[i].obj, cases[i].key, cases[i].value ? cases[i].value : "(deleted)");
    const char *tail[] = {meta, NULL};
    /* Facts that only [section] key name: the message names the SigMF file. */
    expect_refusal(n.dir, tail, "rec.sigmf-meta", cases[i].field, what);
  }
  /* Not JSON at all, and a missing data file. */
  write_text(meta, "{\"global\": {\"core:datatype\": \"ci16_le\",, }");
  const char *tail[] = {meta, NULL};
  expect_refusal(n.dir, tail, "rec.sigmf-meta", "not valid JSON", "broken JSON");
  cJSON *j = sigmf_meta(&n, 0);
  write_json(meta, j);
  cJSON_Delete(j);
  unlink(data);
  expect_refusal(n.dir, tail, "rec.sigmf-meta", "rec.sigmf-data", "missing data file");
  native_free(&n);
}
END_TEST

START_TEST(import_refuses_malformed_layouts) {
  imp_native n;
  native_make(&n, "import_bad_layout");
  char bin[700], ini[700], good[700];
  rf_test_join(bin, sizeof bin, n.dir, "stream.bin");
  rf_test_join(ini, sizeof ini, n.dir, "bad.ini");
  rf_test_join(good, sizeof good, n.dir, "good.ini");
  size_t T = write_stream(&n, bin);
  /* A good layout; each case leaves out one key (skip), replaces [source]
   * or appends lines. */
  char src[256];
  snprintf(src, sizeof src, "[source]\ntype = int16\nshape = %zu %zu 2\naxes = time channel iq\n", T, n.m->channels);
  static const struct {
    const char *skip, *source, *extra, *field;
  } cases[] = {
      {"", NULL, "[colour]\nhue = 1\n", "[colour]"},
      {"", NULL, "[waveform]\nchirp = up\n", "chirp"},
      {"", "[source]\ntype = int16\naxes = time channel iq\n", "", "shape"},
      {"", "[source]\ntype = int12\nshape = 1000 4 2\naxes = time channel iq\n", "", "type"},
      {"", "[source]\ntype = int16\nbyte_order = middle\nshape = 1000 4 2\naxes = time channel iq\n", "", "byte_order"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time channel\n", "", "axes"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time chanel iq\n", "", "axes"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time time iq\n", "", "axes"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = pulse channel iq\n", "", "axes"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time iq channel\n", "", "axes"},
      {"", "[source]\ntype = int16\nshape = 99999999 4 2\naxes = time channel iq\n", "", "shape"},
      {"", "[source]\ntype = int16\nshape = * * 2\naxes = time channel iq\n", "", "shape"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time channel iq\nencoding = compound\n", "", "encoding"},
      {"", "[source]\ntype = int16\nshape = 1000 4 2\naxes = time channel iq\noffset_bytes = -8\n", "", "offset_bytes"},
      {"", NULL, "[waveform]\ntype = custom\nreference = @/ref\n", "reference"},
      {"", NULL, "[waveform]\ntype = chirp\n", "type"},
      {"", NULL, "[pulses]\ncount = 0\n", "count"},
      {"waveform.pri_s", NULL, "[waveform]\npri_s = 1.00005e-4\n", "pri_s"},
      {"waveform.pulse_width_s", NULL, "[waveform]\npulse_width_s = 2e-4\n", "pulse_width_s"},
      {"waveform.bandwidth_hz", NULL, "[waveform]\nbandwidth_hz = 2e7\n", "bandwidth_hz"},
      {"radar.site_latitude_deg", NULL, "[radar]\nsite_latitude_deg = 91\n", "site_latitude_deg"},
      {"radar.site_latitude_deg", NULL, "", "site_latitude_deg"},
      {"dwell.elevation_deg", NULL, "[dwell]\nelevation_deg = 1 2 95\n", "elevation_deg"},
      {"dwell.num_pulses", NULL, "[dwell]\nnum_pulses = 16 16\n", "num_pulses"},
      {"dwell.first_pulse", NULL, "[dwell]\nfirst_pulse = 0 16 40\n", "first_pulse"},
      {"", NULL, "[array]\ncalibration = 1 0 1 0\n", "calibration"},
      {"", NULL, "[array]\nlayout = ula\n", "layout"},
      {"radar.name", NULL, "[radar]\nname = a\nname = b\n", "name"},
      {"pulses.samples", NULL, "[pulses]\nsamples = 2000\n", "samples"},
      {"", NULL, "[pulses]\nfirst = 3\n", "first"},
      {"", NULL, "[radar]\nsite_altitude_m = @/@alt\n", "site_altitude_m"},
      {"", NULL, "orphan = 1\n[radar]\n", "orphan"},
      {"", NULL, "[radar\n", "syntax error"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    imp_skip = cases[i].skip;
    FILE *f = fopen(ini, "w");
    int first = strstr(cases[i].extra, "[colour]") || strstr(cases[i].extra, "orphan");
    if (first) fputs(cases[i].extra, f); /* a section or key before everything */
    fputs(cases[i].source ? cases[i].source : src, f);
    layout_facts(f, &n, 0);
    fprintf(f, "[pulses]\nfirst_transmit_sample = 37\ngate_samples = %d\n%sstart_time_s = 1.7e9\n", IMP_GATE,
            strcmp(imp_skip, "pulses.samples") ? "samples = 256\n" : "");
    if (!first) fputs(cases[i].extra, f);
    fclose(f);
    imp_skip = "";
    const char *tail[] = {bin, "--layout", ini, NULL};
    char what[160];
    snprintf(what, sizeof what, "layout case %zu (%s)", i, cases[i].field);
    expect_refusal(n.dir, tail, "bad.ini", cases[i].field, what);
  }
  /* The good layout imports. */
  FILE *f = fopen(good, "w");
  fputs(src, f);
  layout_facts(f, &n, 0);
  fprintf(f, "[pulses]\nfirst_transmit_sample = 37\ngate_samples = %d\nsamples = 256\nstart_time_s = 1.7e9\n", IMP_GATE);
  fclose(f);
  char *facts = slurp(good);
  char okcap[700], log[700];
  rf_test_join(okcap, sizeof okcap, n.dir, "ok.h5");
  rf_test_join(log, sizeof log, n.dir, "ok.txt");
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", good, "-o", okcap, "-q", NULL), 0);
  /* A line longer than the INI parser's buffer. */
  f = fopen(ini, "w");
  fputs(facts, f);
  fprintf(f, "[array]\ncalibration =");
  for (int k = 0; k < 60; k++) fprintf(f, " 1.0");
  fprintf(f, "\n");
  fclose(f);
  const char *tail[] = {bin, "--layout", ini, NULL};
  expect_refusal(n.dir, tail, "bad.ini", "longer than", "long line");
  /* --set names the setting. */
  f = fopen(ini, "w");
  fputs(facts, f);
  fclose(f);
  const char *tail2[] = {bin, "--layout", ini, "--set", "waveform.pri_s=-1", NULL};
  expect_refusal(n.dir, tail2, "--set waveform.pri_s", "outside", "--set out of range");
  const char *tail3[] = {bin, "--layout", ini, "--set", "waveform.prf=1", NULL};
  expect_refusal(n.dir, tail3, "--set waveform.prf", "unknown key", "--set unknown key");
  /* A raw file without a layout. */
  const char *tail4[] = {bin, NULL};
  expect_refusal(n.dir, tail4, "stream.bin", "--layout", "raw without layout");
  free(facts);
  native_free(&n);
}
END_TEST

/* The file at the output is never replaced unless it is an earlier import
 * and --force is given; the inputs never. */
START_TEST(import_never_overwrites_what_it_did_not_write) {
  imp_native n;
  native_make(&n, "import_safety");
  char bin[700], ini[700], out[700], log[700], link_path[700];
  rf_test_join(bin, sizeof bin, n.dir, "a.bin");
  rf_test_join(ini, sizeof ini, n.dir, "a.ini");
  rf_test_join(out, sizeof out, n.dir, "a.h5");
  rf_test_join(log, sizeof log, n.dir, "log.txt");
  write_raw_channel_major(&n, bin, ini);
  ck_assert_int_eq(rf_test_cli(log, "import", "--help", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "inspect", "--help", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, NULL), 2);                /* no -o */
  ck_assert_int_eq(rf_test_cli(log, "import", "-o", out, NULL), 2);          /* no SOURCE */
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "-o", out, "--bogus", NULL), 2);
  /* A user's file at -o. */
  write_text(out, "precious\n");
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", out, "--force", NULL), 2);
  char *txt = slurp(out);
  ck_assert_str_eq(txt, "precious\n");
  free(txt);
  txt = slurp(log);
  ck_assert_ptr_nonnull(strstr(txt, "was not written by radarflow import"));
  free(txt);
  /* Another capture (simulated, not imported) is not replaced either. */
  long long sz = rf_test_file_size(n.cap);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", n.cap, "--force", NULL), 2);
  ck_assert_int_eq(rf_test_file_size(n.cap), sz);
  unlink(out);
  /* An earlier import: only with --force. */
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", out, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", out, NULL), 2);
  txt = slurp(log);
  ck_assert_ptr_nonnull(strstr(txt, "--force"));
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", out, "--force", "-q", NULL), 0);
  /* The inputs. */
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", bin, NULL), 2);
  ck_assert_int_eq(rf_test_file_size(bin), (long long)(n.m->pulses * rf_capture_pulse_bytes(n.m)));
  /* A symbolic link at -o (to an earlier import) is not followed. */
  rf_test_join(link_path, sizeof link_path, n.dir, "link.h5");
  ck_assert_int_eq(symlink(out, link_path), 0);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", link_path, "--force", NULL), 2);
  struct stat sb;
  ck_assert_int_eq(lstat(link_path, &sb), 0);
  ck_assert(S_ISLNK(sb.st_mode));
  /* A missing folder. */
  char deep[800];
  snprintf(deep, sizeof deep, "%s/no/such/dir/x.h5", n.dir);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", deep, NULL), 2);
  ck_assert_uint_eq(rf_test_count_entries(n.dir, ".tmp."), 0);
  native_free(&n);
}
END_TEST

/* Runs the CLI in another working folder (log: an absolute path). */
static int cli_in(const char *cwd, const char *log, const char *const *args) {
  char bin[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(rf_test_bin(), bin));
  ck_assert(log[0] == '/');
  const char *argv[16] = {bin};
  int k = 1;
  for (; args[k - 1] && k < 15; k++) argv[k] = args[k - 1];
  argv[k] = NULL;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd) != 0) _exit(126);
    FILE *f = freopen(log, "w", stdout);
    if (!f || dup2(fileno(stdout), 2) < 0) _exit(126);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int ws;
  waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

START_TEST(import_sources_resolve_against_the_capture_folder) {
  imp_native n;
  native_make(&n, "import_paths");
  char dir[700], bin[900], ini[900], cap[900], log[800], out[900], moved[800], plots[1000];
  snprintf(dir, sizeof dir, "%s/rec", n.dir);
  ck_assert_int_eq(rf_test_mkdir_p(dir), 0);
  snprintf(bin, sizeof bin, "%s/a.bin", dir);
  snprintf(ini, sizeof ini, "%s/a.ini", dir);
  snprintf(cap, sizeof cap, "%s/a.h5", dir);
  rf_test_join(log, sizeof log, n.dir, "log.txt");
  write_raw_channel_major(&n, bin, ini);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", cap, "-q", NULL), 0);
  rf_capture_storage *st;
  ck_assert_int_eq(rf_capture_storage_read(&st, cap), 0);
  ck_assert_uint_eq(st->nlisted, 1);
  ck_assert_str_eq(st->listed[0], "a.bin"); /* relative: in the capture's folder */
  ck_assert_uint_eq(st->nsrc, 1);
  ck_assert(st->src[0].inside);
  ck_assert_str_eq(st->import_program, "radarflow import " RF_VERSION);
  rf_capture_storage_free(st);
  /* Processed from / and after moving the folder: still the native plots. */
  char abs_cap[PATH_MAX], abs_out[900];
  ck_assert_ptr_nonnull(realpath(cap, abs_cap));
  snprintf(abs_out, sizeof abs_out, "%s/out_from_root", dir);
  char abs_out2[PATH_MAX + 32];
  ck_assert_ptr_nonnull(realpath(dir, abs_out2));
  strcat(abs_out2, "/out_from_root");
  const char *a1[] = {"process", abs_cap, "-o", abs_out2, "-q", "--device", "cpu", NULL};
  char abs_log[PATH_MAX + 16];
  ck_assert_ptr_nonnull(realpath(n.dir, abs_log));
  strcat(abs_log, "/root_log.txt");
  ck_assert_int_eq(cli_in("/", abs_log, a1), 0);
  snprintf(plots, sizeof plots, "%s/plots.csv", abs_out2);
  plots_equal(n.plots, plots, 0);
  snprintf(moved, sizeof moved, "%s/moved", n.dir);
  ck_assert_int_eq(rename(dir, moved), 0);
  snprintf(cap, sizeof cap, "%s/a.h5", moved);
  snprintf(out, sizeof out, "%s/out_moved", moved);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-q", "--device", "cpu", NULL), 0);
  snprintf(plots, sizeof plots, "%s/plots.csv", out);
  plots_equal(n.plots, plots, 0);
  /* A capture written elsewhere names the recording by its absolute path
   * and says that processing will need --allow-external. */
  char cap2[900], other[800];
  snprintf(other, sizeof other, "%s/other", n.dir);
  ck_assert_int_eq(rf_test_mkdir_p(other), 0);
  snprintf(cap2, sizeof cap2, "%s/elsewhere.h5", other);
  snprintf(bin, sizeof bin, "%s/a.bin", moved);
  snprintf(ini, sizeof ini, "%s/a.ini", moved);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", cap2, NULL), 0);
  char *txt = slurp(log);
  ck_assert_ptr_nonnull(strstr(txt, "--allow-external"));
  free(txt);
  ck_assert_int_eq(rf_capture_storage_read(&st, cap2), 0);
  ck_assert_uint_eq(st->nlisted, 1);
  ck_assert_msg(st->listed[0][0] == '/', "outside the folder the name is absolute: %s", st->listed[0]);
  ck_assert(!st->src[0].inside);
  rf_capture_storage_free(st);
  /* A short or missing recording: exit 2 naming the capture and the file. */
  ck_assert_int_eq(truncate(bin, 1000), 0);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-q", "--device", "cpu", NULL), 2);
  txt = slurp(log);
  ck_assert_msg(strstr(txt, cap) && strstr(txt, "a.bin") && strstr(txt, "1000 bytes"), "%s", txt);
  free(txt);
  unlink(bin);
  ck_assert_int_eq(rf_test_cli(log, "process", cap, "-o", out, "-q", "--device", "cpu", NULL), 2);
  txt = slurp(log);
  ck_assert_msg(strstr(txt, cap) && strstr(txt, "a.bin") && strstr(txt, "missing"), "%s", txt);
  free(txt);
  native_free(&n);
}
END_TEST

/* A virtual /iq that names its own file by name with a whole-dataset
 * selection (what h5py writes when the capture was opened under another
 * name): HDF5 1.10 reads it as zeros through a second open of the file;
 * the reader must give the samples. */
START_TEST(reader_reads_a_virtual_iq_naming_its_own_file) {
  char dir[512], cap[700];
  rf_test_fresh_dir(dir, sizeof dir, "self_vds");
  rf_test_join(cap, sizeof cap, dir, "self.h5");
  rf_test_capture_opts o = rf_test_capture_defaults();
  rf_test_capture tc;
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  ck_assert_int_eq(rf_test_capture_write(&tc, cap), 0);
  hid_t f = H5Fopen(cap, H5F_ACC_RDWR, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  const rf_capture_meta *m = &tc.meta;
  hsize_t dims[4] = {m->pulses, m->channels, m->samples, 2};
  hid_t sp = H5Screate_simple(4, dims, NULL);
  hid_t d = H5Dcreate2(f, "iq_data", H5T_STD_I16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, tc.raw), 0);
  H5Dclose(d);
  ck_assert_int_ge(H5Ldelete(f, "iq", H5P_DEFAULT), 0);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), src = H5Screate_simple(4, dims, NULL);
  ck_assert_int_ge(H5Pset_virtual(dcpl, sp, "self.h5", "/iq_data", src), 0);
  d = H5Dcreate2(f, "iq", H5T_STD_I16LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(d, 0);
  hid_t as = H5Screate(H5S_SCALAR), a = H5Acreate2(d, "scale", H5T_IEEE_F64LE, as, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, &m->scale);
  H5Aclose(a);
  H5Sclose(as);
  H5Dclose(d);
  H5Sclose(src);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
  size_t bytes;
  void *v = read_all(cap, 1, &bytes);
  ck_assert_uint_eq(bytes, m->pulses * rf_capture_pulse_bytes(m));
  ck_assert_msg(memcmp(v, tc.raw, bytes) == 0, "samples of a self-named virtual /iq differ");
  free(v);
  rf_test_capture_free(&tc);
}
END_TEST

static double jnum(const cJSON *o, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
  ck_assert_msg(cJSON_IsNumber(x), "inspect JSON lacks %s.%s", a, b);
  return x->valuedouble;
}

START_TEST(inspect_gives_the_closed_forms) {
  imp_native n;
  native_make(&n, "inspect");
  const rf_capture_meta *m = n.m;
  char log[700], bin[700], ini[700], cap[700];
  rf_test_join(log, sizeof log, n.dir, "inspect.json");
  ck_assert_int_eq(rf_test_cli(log, "inspect", n.cap, "--json", "--set", "pulse_compression.window=none", "--set",
                               "doppler.window=none", "--set", "beamforming.taper=none", NULL),
                   0);
  char *txt = slurp(log);
  cJSON *j = cJSON_Parse(txt);
  ck_assert_ptr_nonnull(j);
  const double c = 299792458.0, lambda = c / 3e9;
  ck_assert_double_eq_tol(jnum(j, "waveform", "prf_hz"), 1e4, 1e-9);
  ck_assert_double_eq_tol(jnum(j, "range", "cell_m"), c / (2 * 10e6), 1e-9);
  ck_assert_double_eq_tol(jnum(j, "range", "resolution_m"), c / (2 * 4e6), 1e-9);
  ck_assert_double_eq_tol(jnum(j, "range", "first_m"), c / 2 * 2e-5, 1e-9);
  ck_assert_double_eq_tol(jnum(j, "range", "last_m"), c / 2 * (2e-5 + 255 / 10e6), 1e-9);
  ck_assert_double_eq_tol(jnum(j, "range", "unambiguous_m"), c * 100e-6 / 2, 1e-9);
  ck_assert_double_eq_tol(jnum(j, "velocity", "interval_mps"), lambda / (2 * 100e-6), 1e-12);
  ck_assert_double_eq_tol(jnum(j, "velocity", "resolution_mps"), lambda / (2 * 16 * 100e-6), 1e-12);
  /* Matched filter 50 samples, 16 pulses, 4 channels, no tapers (the beam
   * weights are float32: their gain is 1 to about 1e-7). */
  ck_assert_double_eq_tol(jnum(j, "gain_db", "total"), 10 * log10(50.0 * 16 * 4), 1e-5);
  ck_assert_double_eq_tol(jnum(j, "transmit", "azimuth_min_deg"), 10, 1e-12);
  ck_assert_double_eq_tol(jnum(j, "transmit", "azimuth_max_deg"), 14, 1e-12);
  ck_assert_double_eq_tol(jnum(j, "time", "pulse_spacing_median_s"), 100e-6, 1e-6);
  ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "transmit"), "tx_beamwidth_given")));
  cJSON_Delete(j);
  free(txt);
  /* An import with a transmit beamwidth: the sector is the dwell directions
   * +- half of it; the receive fan (5 beams half a beamwidth apart, +- 3
   * beamwidths / 2) of a 4-element array is wider than 20 deg. */
  rf_test_join(bin, sizeof bin, n.dir, "a.bin");
  rf_test_join(ini, sizeof ini, n.dir, "a.ini");
  rf_test_join(cap, sizeof cap, n.dir, "a.h5");
  write_raw_channel_major(&n, bin, ini);
  FILE *f = fopen(ini, "a");
  fprintf(f, "[dwell]\ntx_beamwidth_az_deg = 20\n");
  fclose(f);
  ck_assert_int_eq(rf_test_cli(log, "import", bin, "--layout", ini, "-o", cap, "-q", NULL), 0);
  ck_assert_int_eq(rf_test_cli(log, "inspect", cap, "--json", NULL), 0);
  txt = slurp(log);
  j = cJSON_Parse(txt);
  ck_assert_ptr_nonnull(j);
  ck_assert_double_eq_tol(jnum(j, "transmit", "tx_beamwidth_az_min_deg"), 20, 1e-12);
  ck_assert_double_eq_tol(jnum(j, "transmit", "sector_az_min_deg"), 0, 1e-9);
  ck_assert_double_eq_tol(jnum(j, "transmit", "sector_az_max_deg"), 24, 1e-9);
  ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "iq"), "storage")->valuestring, "external raw storage");
  const cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "sources"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(src, "name")->valuestring, "a.bin");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(src, "inside_capture_folder")));
  ck_assert_double_eq(jnum(j, "iq", "pulses"), (double)m->pulses);
  cJSON_Delete(j);
  free(txt);
  /* An invalid capture: exit 2. */
  ck_assert_int_eq(rf_test_cli(log, "inspect", bin, NULL), 2);
  native_free(&n);
}
END_TEST

Suite *test_import_suite(void) {
  Suite *s = suite_create("import");
  TCase *t = tcase_create("import");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, import_raw_layouts_give_the_native_plots);
  tcase_add_test(t, import_foreign_hdf5_gives_the_native_plots);
  tcase_add_test(t, import_sigmf_gives_the_native_plots);
  tcase_add_test(t, import_refuses_malformed_sigmf);
  tcase_add_test(t, import_refuses_malformed_layouts);
  tcase_add_test(t, import_never_overwrites_what_it_did_not_write);
  tcase_add_test(t, import_sources_resolve_against_the_capture_folder);
  tcase_add_test(t, reader_reads_a_virtual_iq_naming_its_own_file);
  tcase_add_test(t, inspect_gives_the_closed_forms);
  suite_add_tcase(s, t);
  return s;
}
