/* radarflow tests: capture writer and reader (io/capture_*.c). Round trips of
 * small synthetic captures, the encodings formats.md allows, malformed
 * captures, the direct chunk reads against HDF5's own, and an
 * out-of-memory sweep on rf_capture_open. */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/capture_chunks.h"
#include "../io/rf_capture.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* The replica is computed in double and stored as float32: components of a
 * unit phasor round to within 2^-24 (6e-8); allow a few ulps more. */
#define RF_TEST_REPLICA_TOL 1e-6
/* Allocation-failure sweep bound: rf_capture_open makes ~15 allocations. */
#define RF_TEST_OOM_MAX_STEPS 200

static const char *dir_for(const char *name) {
  static char d[4096];
  return rf_test_fresh_dir(d, sizeof d, name);
}

/* Expected meta (written) against meta read back: all exact, since every
 * value is stored in the type it has in memory. */
static void check_meta(const rf_capture_meta *e, const rf_capture_meta *g) {
  ck_assert_str_eq(g->radar_name, e->radar_name);
  ck_assert(g->site_latitude_deg == e->site_latitude_deg);
  ck_assert(g->site_longitude_deg == e->site_longitude_deg);
  ck_assert(g->site_altitude_m == e->site_altitude_m);
  ck_assert_int_eq(g->waveform_type, e->waveform_type);
  ck_assert(g->center_frequency_hz == e->center_frequency_hz);
  ck_assert(g->sample_rate_hz == e->sample_rate_hz);
  ck_assert(g->bandwidth_hz == e->bandwidth_hz);
  ck_assert(g->pulse_width_s == e->pulse_width_s);
  ck_assert(g->pri_s == e->pri_s);
  ck_assert(g->range_gate_delay_s == e->range_gate_delay_s);
  ck_assert_uint_eq(g->channels, e->channels);
  ck_assert_uint_eq(g->pulses, e->pulses);
  ck_assert_uint_eq(g->samples, e->samples);
  ck_assert_int_eq(g->sample_type, e->sample_type);
  ck_assert(g->scale == e->scale);
  ck_assert_uint_eq(g->dwells, e->dwells);
  ck_assert_int_eq(g->has_calibration, e->has_calibration);
  ck_assert_mem_eq(g->element_position_m, e->element_position_m, e->channels * sizeof e->element_position_m[0]);
  if (e->has_calibration) {
    ck_assert_mem_eq(g->calibration, e->calibration, e->channels * sizeof e->calibration[0]);
  } else {
    for (size_t i = 0; i < g->channels; i++) ck_assert(g->calibration[i] == 1.0f);
  }
  ck_assert_mem_eq(g->first_pulse, e->first_pulse, e->dwells * sizeof e->first_pulse[0]);
  ck_assert_mem_eq(g->num_pulses, e->num_pulses, e->dwells * sizeof e->num_pulses[0]);
  ck_assert_mem_eq(g->azimuth_deg, e->azimuth_deg, e->dwells * sizeof e->azimuth_deg[0]);
  ck_assert_mem_eq(g->elevation_deg, e->elevation_deg, e->dwells * sizeof e->elevation_deg[0]);
  ck_assert_mem_eq(g->pulse_time_s, e->pulse_time_s, e->pulses * sizeof e->pulse_time_s[0]);
  if (e->waveform_type == RF_WAVEFORM_CUSTOM) {
    ck_assert_uint_eq(g->reference_len, e->reference_len);
    ck_assert_mem_eq(g->reference, e->reference, e->reference_len * sizeof e->reference[0]);
  } else {
    size_t n = (size_t)llround(e->pulse_width_s * e->sample_rate_hz);
    ck_assert_uint_eq(g->reference_len, n);
    float complex *r = malloc(n * sizeof *r);
    rf_lfm_replica(e->bandwidth_hz, e->pulse_width_s, e->sample_rate_hz, n, r);
    ck_assert_mem_eq(g->reference, r, n * sizeof *r);
    free(r);
  }
}

static void check_truth(const rf_truth *e, const rf_truth *g) {
  ck_assert_uint_eq(g->rows, e->rows);
  size_t n = e->rows;
  ck_assert_mem_eq(g->target_id, e->target_id, n * sizeof *e->target_id);
  ck_assert_mem_eq(g->dwell, e->dwell, n * sizeof *e->dwell);
  ck_assert_mem_eq(g->time_s, e->time_s, n * sizeof *e->time_s);
  ck_assert_mem_eq(g->position_enu_m, e->position_enu_m, n * sizeof *e->position_enu_m);
  ck_assert_mem_eq(g->velocity_enu_mps, e->velocity_enu_mps, n * sizeof *e->velocity_enu_mps);
  ck_assert_mem_eq(g->range_m, e->range_m, n * sizeof *e->range_m);
  ck_assert_mem_eq(g->radial_velocity_mps, e->radial_velocity_mps, n * sizeof *e->radial_velocity_mps);
  ck_assert_mem_eq(g->azimuth_deg, e->azimuth_deg, n * sizeof *e->azimuth_deg);
  ck_assert_mem_eq(g->elevation_deg, e->elevation_deg, n * sizeof *e->elevation_deg);
  ck_assert_mem_eq(g->snr_db, e->snr_db, n * sizeof *e->snr_db);
}

/* Opens path and checks everything against tc: meta, all pulses (at once,
 * and dwell by dwell), and truth. */
static void check_capture(const char *path, const rf_test_capture *tc) {
  rf_capture *cap = NULL;
  int st = rf_capture_open(&cap, path);
  ck_assert_msg(st == 0, "open: %s", rf_errmsg());
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  check_meta(&tc->meta, m);
  ck_assert_str_eq(rf_capture_path(cap), path);
  ck_assert_uint_eq(rf_capture_file_size(cap), (uint64_t)rf_test_file_size(path));
  size_t pb = rf_capture_pulse_bytes(m), all = pb * m->pulses;
  ck_assert_uint_eq(pb, m->channels * m->samples * rf_sample_pair_bytes(m->sample_type));
  char *buf = malloc(all);
  ck_assert_int_eq(rf_capture_read_pulses(cap, 0, m->pulses, buf), 0);
  ck_assert_mem_eq(buf, tc->raw, all);
  memset(buf, 0, all);
  for (size_t d = 0; d < m->dwells; d++) {
    size_t f = (size_t)m->first_pulse[d], n = (size_t)m->num_pulses[d];
    ck_assert_int_eq(rf_capture_read_pulses(cap, f, n, buf), 0);
    ck_assert_mem_eq(buf, (const char *)tc->raw + f * pb, n * pb);
  }
  free(buf);
  ck_assert_int_eq(m->has_truth, tc->truth != NULL);
  rf_truth *t = NULL;
  if (tc->truth) {
    ck_assert_msg(rf_capture_read_truth(cap, &t) == 0, "truth: %s", rf_errmsg());
    check_truth(tc->truth, t);
    rf_truth_free(t);
  } else {
    ck_assert_int_eq(rf_capture_read_truth(cap, &t), RF_EFORMAT);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(rf_errmsg(), "/truth"));
  }
  rf_capture_close(cap);
}

static void roundtrip(const char *name, const rf_test_capture_opts *o) {
  const char *d = dir_for(name);
  char path[4096];
  rf_test_capture tc;
  rf_test_join(path, sizeof path, d, "cap.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, o), 0);
  ck_assert_msg(rf_test_capture_write(&tc, path) == 0, "write: %s", rf_errmsg());
  /* Only the capture is left: the temporary file was renamed. */
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 1);
  check_capture(path, &tc);
  rf_test_capture_free(&tc);
}

START_TEST(test_roundtrip_int16_lfm) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  roundtrip("cap_int16_lfm", &o);
}
END_TEST

START_TEST(test_roundtrip_float32_custom) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.sample_type = RF_SAMPLE_FLOAT32;
  o.waveform_type = RF_WAVEFORM_CUSTOM;
  o.has_calibration = 0;
  o.with_truth = 0;
  o.seed = 7;
  roundtrip("cap_f32_custom", &o);
}
END_TEST

START_TEST(test_roundtrip_float32_lfm_cal) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.sample_type = RF_SAMPLE_FLOAT32;
  o.channels = 3;
  o.pulses = 20;
  o.samples = 100;
  o.seed = 3;
  roundtrip("cap_f32_lfm", &o);
}
END_TEST

/* ---- other encodings formats.md allows ------------------------------------------- */
static void h5_ok(herr_t r, const char *what) { ck_assert_msg(r >= 0, "HDF5: %s", what); }

static void set_attr(hid_t f, const char *obj, const char *name, hid_t ft, hid_t mt, const void *v) {
  hid_t o = H5Oopen(f, obj, H5P_DEFAULT), s = H5Screate(H5S_SCALAR);
  if (H5Aexists(o, name) > 0) h5_ok(H5Adelete(o, name), name);
  hid_t a = H5Acreate2(o, name, ft, s, H5P_DEFAULT, H5P_DEFAULT);
  h5_ok(a, name);
  h5_ok(H5Awrite(a, mt, v), name);
  H5Aclose(a);
  H5Sclose(s);
  H5Oclose(o);
}

/* A fixed-length string attribute of exactly strlen(v) bytes (no NUL). */
static void set_fixed_string(hid_t f, const char *obj, const char *name, const char *v, H5T_cset_t cs,
                             H5T_str_t pad) {
  hid_t t = H5Tcopy(H5T_C_S1);
  h5_ok(H5Tset_size(t, strlen(v)), "size");
  h5_ok(H5Tset_cset(t, cs), "cset");
  h5_ok(H5Tset_strpad(t, pad), "pad");
  set_attr(f, obj, name, t, t, v);
  H5Tclose(t);
}

static void replace_dset(hid_t f, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims,
                         const void *data) {
  h5_ok(H5Ldelete(f, name, H5P_DEFAULT), name);
  hid_t s = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(f, name, ft, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  h5_ok(d, name);
  h5_ok(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
  H5Dclose(d);
  H5Sclose(s);
}

static hid_t complex_type(hid_t member, int reversed) {
  size_t sz = H5Tget_size(member);
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sz);
  h5_ok(H5Tinsert(t, reversed ? "i" : "r", 0, member), "insert");
  h5_ok(H5Tinsert(t, reversed ? "r" : "i", sz, member), "insert");
  return t;
}

/* Rewrites a capture with the other encodings: fixed-length ASCII/UTF-8
 * strings, an unsigned big-endian format_version, compound complex data
 * with float64 or reordered big-endian members, big-endian samples, odd
 * integer widths for /dwell, and the optional attributes and /truth/dwell
 * removed. The reader must see the same capture. */
static void reencode(const char *path, const rf_test_capture *tc) {
  const rf_capture_meta *m = &tc->meta;
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  h5_ok(f, path);
  set_fixed_string(f, "/", "format", "radarflow.capture", H5T_CSET_ASCII, H5T_STR_NULLPAD);
  set_fixed_string(f, "/", "radar_name", m->radar_name, H5T_CSET_UTF8, H5T_STR_SPACEPAD);
  set_fixed_string(f, "/waveform", "type", m->waveform_type == RF_WAVEFORM_CUSTOM ? "custom" : "lfm",
                   H5T_CSET_ASCII, H5T_STR_NULLTERM);
  unsigned char one = 1;
  set_attr(f, "/", "format_version", H5T_STD_U8BE, H5T_NATIVE_UCHAR, &one);
  int32_t rate = (int32_t)m->sample_rate_hz; /* an integer-typed float attribute */
  set_attr(f, "/waveform", "sample_rate_hz", H5T_STD_I32BE, H5T_NATIVE_INT32, &rate);
  hid_t o = H5Oopen(f, "/waveform", H5P_DEFAULT);
  h5_ok(H5Adelete(o, "range_gate_delay_s"), "delay");
  H5Oclose(o);
  o = H5Oopen(f, "/iq", H5P_DEFAULT);
  h5_ok(H5Adelete(o, "scale"), "scale");
  H5Oclose(o);

  if (m->waveform_type == RF_WAVEFORM_CUSTOM) {
    double (*ref)[2] = malloc(m->reference_len * sizeof *ref);
    for (size_t i = 0; i < m->reference_len; i++) {
      ref[i][0] = crealf(m->reference[i]);
      ref[i][1] = cimagf(m->reference[i]);
    }
    hid_t ft = complex_type(H5T_IEEE_F64LE, 0), mt = complex_type(H5T_NATIVE_DOUBLE, 0);
    hsize_t n = m->reference_len;
    replace_dset(f, "waveform/reference", ft, mt, 1, &n, ref);
    H5Tclose(ft);
    H5Tclose(mt);
    free(ref);
  }
  if (m->has_calibration) {
    hid_t ft = complex_type(H5T_IEEE_F32BE, 1), mt = complex_type(H5T_NATIVE_FLOAT, 0);
    hsize_t n = m->channels;
    replace_dset(f, "array/calibration", ft, mt, 1, &n, m->calibration);
    H5Tclose(ft);
    H5Tclose(mt);
  }
  hsize_t dd = m->dwells;
  replace_dset(f, "dwell/first_pulse", H5T_STD_U16BE, H5T_NATIVE_INT64, 1, &dd, m->first_pulse);
  replace_dset(f, "dwell/num_pulses", H5T_STD_I8LE, H5T_NATIVE_INT32, 1, &dd, m->num_pulses);
  hsize_t d4[4] = {m->pulses, m->channels, m->samples, 2};
  int i16 = m->sample_type == RF_SAMPLE_INT16;
  replace_dset(f, "iq", i16 ? H5T_STD_I16BE : H5T_IEEE_F32BE, i16 ? H5T_NATIVE_INT16 : H5T_NATIVE_FLOAT, 4,
               d4, tc->raw);
  if (tc->truth) {
    h5_ok(H5Ldelete(f, "truth/dwell", H5P_DEFAULT), "truth/dwell");
    hsize_t r = tc->truth->rows;
    replace_dset(f, "truth/target_id", H5T_STD_I64BE, H5T_NATIVE_INT32, 1, &r, tc->truth->target_id);
  }
  h5_ok(H5Fclose(f), "close");
}

static void reencoded_roundtrip(const char *name, rf_test_capture_opts *o) {
  const char *d = dir_for(name);
  char path[4096];
  rf_test_capture tc;
  rf_test_join(path, sizeof path, d, "cap.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, o), 0);
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  reencode(path, &tc);
  tc.meta.range_gate_delay_s = 0; /* absent: 0 */
  tc.meta.scale = 1;              /* absent: 1 */
  /* /truth/dwell absent: dwells come from matching the mid times. */
  check_capture(path, &tc);
  rf_test_capture_free(&tc);
}

START_TEST(test_encodings_custom_float32) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.sample_type = RF_SAMPLE_FLOAT32;
  o.waveform_type = RF_WAVEFORM_CUSTOM;
  reencoded_roundtrip("cap_enc_custom", &o);
}
END_TEST

START_TEST(test_encodings_lfm_int16) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.seed = 11;
  reencoded_roundtrip("cap_enc_lfm", &o);
}
END_TEST

/* ---- direct chunk reads (io/capture_chunks.c) -------------------------------------- */
/* HDF5's Fletcher-32 as H5checksum.c (1.10) writes it, transcribed: the
 * independent oracle of rf__fletcher32. */
static uint32_t hdf5_fletcher32(const uint8_t *data, size_t len_bytes) {
  size_t len = len_bytes / 2;
  uint32_t sum1 = 0, sum2 = 0;
  while (len) {
    size_t tlen = len > 360 ? 360 : len;
    len -= tlen;
    do {
      sum1 += (uint32_t)(((uint16_t)data[0]) << 8) | ((uint16_t)data[1]);
      data += 2;
      sum2 += sum1;
    } while (--tlen);
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  if (len_bytes % 2) {
    sum1 += (uint32_t)(((uint16_t)*data) << 8);
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  return (sum2 << 16) | sum1;
}

/* Random, all-zero, all-ones and sparse data, odd and even lengths, short
 * and longer than one block of 4096 words; one word 0xffff (sum1 a positive
 * multiple of 65535: HDF5 keeps 65535, not 0). */
START_TEST(test_fletcher32_matches_hdf5) {
  enum { MAXB = 200003 };
  uint8_t *d = malloc(MAXB);
  uint64_t seed = 5;
  for (int t = 0; t < 400; t++) {
    size_t len = t < 300 ? (size_t)(rf_test_next(&seed) % 3000) : MAXB - (size_t)(rf_test_next(&seed) % 40000);
    for (size_t i = 0; i < len; i++) {
      uint64_t r = rf_test_next(&seed);
      d[i] = t % 4 == 0 ? (uint8_t)r : t % 4 == 1 ? 0xff : t % 4 == 2 ? 0 : (r % 97 == 0 ? (uint8_t)(r >> 8) : 0);
    }
    ck_assert_msg(rf__fletcher32(d, len) == hdf5_fletcher32(d, len), "case %d, %zu bytes", t, len);
  }
  d[0] = d[1] = 0xff;
  ck_assert_uint_eq(rf__fletcher32(d, 2), hdf5_fletcher32(d, 2));
  ck_assert_uint_eq(rf__fletcher32(d, 2), 0xffffffffu);
  free(d);
}
END_TEST

/* Every range of pulses below, read through the chunks directly and
 * through HDF5, must give the capture's samples (or fail the same way). */
static void chunks_compare(const char *path, const void *raw) {
  rf_capture *cap[2];
  for (int i = 0; i < 2; i++) {
    rf__chunks_direct_enabled = i;
    ck_assert_msg(rf_capture_open(&cap[i], path) == 0, "%s", rf_errmsg());
  }
  rf__chunks_direct_enabled = 1;
  const rf_capture_meta *m = rf_capture_get_meta(cap[0]);
  const size_t pb = rf_capture_pulse_bytes(m), np = m->pulses;
  char *buf = malloc(np * pb);
  uint64_t seed = 77;
  for (int t = 0; t < 40; t++) {
    size_t first = t == 0 ? 0 : (size_t)(rf_test_next(&seed) % np);
    size_t count = t == 0 ? np : 1 + (size_t)(rf_test_next(&seed) % (np - first));
    for (int i = 0; i < 2; i++) {
      memset(buf, 0xab, np * pb);
      ck_assert_msg(rf_capture_read_pulses(cap[i], first, count, buf) == 0, "%s", rf_errmsg());
      ck_assert_msg(!memcmp(buf, (const char *)raw + first * pb, count * pb), "%s: pulses %zu+%zu (%s)", path,
                    first, count, i ? "direct" : "HDF5");
    }
  }
  free(buf);
  rf_capture_close(cap[0]);
  rf_capture_close(cap[1]);
}

/* Flips one byte of chunk `k`'s stored data. */
static void corrupt_chunk(const char *path, hsize_t first_pulse) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "iq", H5P_DEFAULT);
  hsize_t off[4] = {first_pulse, 0, 0, 0}, size;
  haddr_t addr;
  unsigned mask;
  h5_ok(H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size), "chunk info");
  H5Dclose(d);
  H5Fclose(f);
  FILE *fp = fopen(path, "r+b");
  ck_assert_ptr_nonnull(fp);
  ck_assert_int_eq(fseek(fp, (long)addr + 9, SEEK_SET), 0);
  int c = fgetc(fp);
  ck_assert_int_eq(fseek(fp, (long)addr + 9, SEEK_SET), 0);
  fputc(c ^ 0x10, fp);
  fclose(fp);
}

/* A corrupted chunk fails both ways (Fletcher-32); the others still read. */
static void chunks_corrupt(const char *path, size_t bad_first, size_t bad_last, size_t good) {
  corrupt_chunk(path, bad_first);
  for (int i = 0; i < 2; i++) {
    rf__chunks_direct_enabled = i;
    rf_capture *cap;
    ck_assert_int_eq(rf_capture_open(&cap, path), 0);
    const rf_capture_meta *m = rf_capture_get_meta(cap);
    char *buf = malloc(m->pulses * rf_capture_pulse_bytes(m));
    ck_assert_int_eq(rf_capture_read_pulses(cap, bad_last, 1, buf), RF_EFORMAT);
    ck_assert_msg(strstr(rf_errmsg(), path) && strstr(rf_errmsg(), i ? "Fletcher-32 checksum" : "Fletcher"), "%s",
                  rf_errmsg());
    ck_assert_int_eq(rf_capture_read_pulses(cap, 0, m->pulses, buf), RF_EFORMAT);
    ck_assert_msg(rf_capture_read_pulses(cap, good, 1, buf) == 0, "%s", rf_errmsg());
    free(buf);
    rf_capture_close(cap);
  }
  rf__chunks_direct_enabled = 1;
}

/* Rewrites /iq chunked by `per` pulses with no filter. */
static void rechunk_unfiltered(const char *path, const rf_test_capture *tc, hsize_t per) {
  const rf_capture_meta *m = &tc->meta;
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  h5_ok(f, path);
  h5_ok(H5Ldelete(f, "iq", H5P_DEFAULT), "iq");
  hsize_t d4[4] = {m->pulses, m->channels, m->samples, 2}, c4[4] = {per, m->channels, m->samples, 2};
  hid_t s = H5Screate_simple(4, d4, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  h5_ok(H5Pset_chunk(dcpl, 4, c4), "chunk");
  int i16 = m->sample_type == RF_SAMPLE_INT16;
  hid_t d = H5Dcreate2(f, "iq", i16 ? H5T_STD_I16LE : H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  h5_ok(d, "iq");
  h5_ok(H5Dwrite(d, i16 ? H5T_NATIVE_INT16 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tc->raw), "iq");
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(s);
  h5_ok(H5Fclose(f), "close");
}

/* The writer's chunks (Fletcher-32): several small pulses a chunk with a
 * partial last chunk (int16), one pulse a chunk (float32); chunks with no
 * filter; the big-endian contiguous /iq of reencode() reads through HDF5. */
START_TEST(test_chunks_direct_matches_hdf5) {
  const char *dir = dir_for("cap_chunks");
  char path[4096];
  rf_test_capture tc;
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.pulses = 150; /* 1 KiB pulses: 64 a chunk, the last chunk 22 */
  rf_test_join(path, sizeof path, dir, "i16.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  chunks_compare(path, tc.raw);
  chunks_corrupt(path, 64, 100, 20);
  rf_test_capture_free(&tc);

  o = rf_test_capture_defaults();
  o.sample_type = RF_SAMPLE_FLOAT32;
  o.samples = 2048; /* 64 KiB pulses: one a chunk */
  rf_test_join(path, sizeof path, dir, "f32.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  chunks_compare(path, tc.raw);
  rf_test_join(path, sizeof path, dir, "f32-plain.h5");
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  rechunk_unfiltered(path, &tc, 5);
  chunks_compare(path, tc.raw);
  rf_test_join(path, sizeof path, dir, "f32.h5");
  chunks_corrupt(path, 3, 3, 4);
  rf_test_capture_free(&tc);

  o = rf_test_capture_defaults();
  rf_test_join(path, sizeof path, dir, "enc.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  reencode(path, &tc);
  chunks_compare(path, tc.raw);
  rf_test_capture_free(&tc);
}
END_TEST

/* A NaN sample is refused by both paths, naming its pulse and channel. */
START_TEST(test_chunks_nan_named) {
  const char *dir = dir_for("cap_chunks_nan");
  char path[4096];
  rf_test_capture tc;
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.sample_type = RF_SAMPLE_FLOAT32;
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  const rf_capture_meta *m = &tc.meta;
  ((float *)tc.raw)[((7 * m->channels + 2) * m->samples + 5) * 2 + 1] = NAN;
  rf_test_join(path, sizeof path, dir, "nan.h5");
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  for (int i = 0; i < 2; i++) {
    rf__chunks_direct_enabled = i;
    rf_capture *cap;
    ck_assert_int_eq(rf_capture_open(&cap, path), 0);
    char *buf = malloc(m->pulses * rf_capture_pulse_bytes(m));
    ck_assert_int_eq(rf_capture_read_pulses(cap, 0, 7, buf), 0);
    ck_assert_int_eq(rf_capture_read_pulses(cap, 5, 4, buf), RF_EFORMAT);
    ck_assert_msg(strstr(rf_errmsg(), "not finite") && strstr(rf_errmsg(), "pulse 7, channel 2"), "%s",
                  rf_errmsg());
    free(buf);
    rf_capture_close(cap);
  }
  rf__chunks_direct_enabled = 1;
  rf_test_capture_free(&tc);
}
END_TEST

/* Truth rows whose time matches no dwell mid time get dwell -1. */
START_TEST(test_truth_unmatched_time) {
  const char *d = dir_for("cap_truth_match");
  char path[4096];
  rf_test_capture tc;
  rf_test_capture_opts o = rf_test_capture_defaults();
  rf_test_join(path, sizeof path, d, "cap.h5");
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  tc.truth->time_s[3] += 1e-3; /* far from any mid time */
  tc.truth->time_s[4] += 0.5e-6; /* within the 1 us match tolerance */
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  h5_ok(H5Ldelete(f, "truth/dwell", H5P_DEFAULT), "truth/dwell");
  H5Fclose(f);
  rf_capture *cap;
  rf_truth *t;
  ck_assert_int_eq(rf_capture_open(&cap, path), 0);
  ck_assert_int_eq(rf_capture_read_truth(cap, &t), 0);
  ck_assert_int_eq(t->dwell[0], 0);
  ck_assert_int_eq(t->dwell[2], 1);
  ck_assert_int_eq(t->dwell[3], -1);
  ck_assert_int_eq(t->dwell[4], 2);
  ck_assert_int_eq(t->dwell[5], 2);
  rf_truth_free(t);
  rf_capture_close(cap);
  rf_test_capture_free(&tc);
}
END_TEST

/* ---- the LFM replica ------------------------------------------------------------------ */
/* /dwell/tx_beamwidth_az_deg and _el_deg (optional): written when set,
 * read back exactly, absent as NULL; a value outside (0, 180] is refused
 * naming the dataset and the dwell. */
START_TEST(test_tx_beamwidth) {
  char d[512], path[600];
  rf_test_fresh_dir(d, sizeof d, "cap_txbw");
  rf_test_join(path, sizeof path, d, "cap.h5");
  rf_test_capture_opts o = rf_test_capture_defaults();
  rf_test_capture tc;
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  double az[8], el[8];
  ck_assert_uint_le(tc.meta.dwells, 8);
  for (size_t i = 0; i < tc.meta.dwells; i++) az[i] = 10.0 + (double)i, el[i] = 4.5;
  tc.meta.tx_beamwidth_az_deg = az;
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  rf_capture *c;
  ck_assert_int_eq(rf_capture_open(&c, path), 0);
  const rf_capture_meta *m = rf_capture_get_meta(c);
  ck_assert_ptr_nonnull(m->tx_beamwidth_az_deg);
  ck_assert_ptr_null(m->tx_beamwidth_el_deg);
  for (size_t i = 0; i < m->dwells; i++) ck_assert_double_eq(m->tx_beamwidth_az_deg[i], az[i]);
  rf_capture_close(c);
  tc.meta.tx_beamwidth_el_deg = el;
  el[1] = 0.0;
  remove(path);
  ck_assert_int_eq(rf_test_capture_write(&tc, path), 0);
  ck_assert_int_eq(rf_capture_open(&c, path), RF_EFORMAT);
  ck_assert_ptr_null(c);
  ck_assert_msg(strstr(rf_errmsg(), "/dwell/tx_beamwidth_el_deg") && strstr(rf_errmsg(), "dwell 1"), "%s", rf_errmsg());
  tc.meta.tx_beamwidth_az_deg = tc.meta.tx_beamwidth_el_deg = NULL;
  rf_test_capture_free(&tc);
}
END_TEST

START_TEST(test_lfm_replica) {
  /* B = 5 MHz, T = 2 us, fs = 10 MHz: 20 samples. */
  const double B = 5e6, T = 2e-6, fs = 10e6;
  float complex s[21];
  rf_lfm_replica(B, T, fs, 21, s);
  for (int i = 0; i <= 20; i++) {
    double t = i / fs, ph = RF_PI * B / T * t * t - RF_PI * B * t;
    ck_assert(fabs(cabsf(s[i]) - 1.0) < RF_TEST_REPLICA_TOL);
    ck_assert(fabs(crealf(s[i]) - cos(ph)) < RF_TEST_REPLICA_TOL);
    ck_assert(fabs(cimagf(s[i]) - sin(ph)) < RF_TEST_REPLICA_TOL);
  }
  /* Start and end of the sweep: phase 0 at t = 0 and t = T; the phase is
   * symmetric about T/2, where it is -pi B T / 4 = -2.5 pi (i.e. -j). */
  ck_assert(fabs(crealf(s[0]) - 1.0) < RF_TEST_REPLICA_TOL && fabs(cimagf(s[0])) < RF_TEST_REPLICA_TOL);
  ck_assert(fabs(crealf(s[10])) < RF_TEST_REPLICA_TOL && fabs(cimagf(s[10]) + 1.0) < RF_TEST_REPLICA_TOL);
  for (int i = 0; i <= 20; i++) ck_assert(cabsf(s[i] - s[20 - i]) < RF_TEST_REPLICA_TOL);
}
END_TEST

/* ---- malformed captures ----------------------------------------------------------------- */
START_TEST(test_bad_capture) {
  const char *d = dir_for("cap_bad");
  char path[4096];
  const char *kind, *field;
  size_t i = (size_t)_i;
  ck_assert_int_eq(rf_test_make_bad_capture(i, d, path, sizeof path, &kind, &field), 0);
  rf_capture *cap = (rf_capture *)1;
  rf_errmsg_clear();
  int st = rf_capture_open(&cap, path);
  if (rf_test_bad_capture_fails_at_read(i)) {
    ck_assert_msg(st == 0, "%s: open: %s", kind, rf_errmsg());
    const rf_capture_meta *m = rf_capture_get_meta(cap);
    void *buf = malloc(rf_capture_pulse_bytes(m) * m->pulses);
    st = rf_capture_read_pulses(cap, 0, m->pulses, buf);
    free(buf);
    rf_capture_close(cap);
  } else {
    ck_assert_ptr_null(cap);
  }
  ck_assert_msg(st == RF_EFORMAT, "%s: got %s (%s)", kind, rf_err_name(st), rf_errmsg());
  const char *msg = rf_errmsg();
  ck_assert_msg(strstr(msg, path) != NULL, "%s: message lacks the path: %s", kind, msg);
  ck_assert_msg(strstr(msg, field) != NULL, "%s: message lacks %s: %s", kind, field, msg);
  ck_assert_msg(!strchr(msg, '\n'), "%s: message is not one line: %s", kind, msg);
}
END_TEST

START_TEST(test_missing_file) {
  const char *d = dir_for("cap_missing");
  char path[4096];
  rf_capture *cap = (rf_capture *)1;
  rf_test_join(path, sizeof path, d, "nope.h5");
  ck_assert_int_eq(rf_capture_open(&cap, path), RF_EFORMAT);
  ck_assert_ptr_null(cap);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), path));
  ck_assert_int_eq(rf_capture_open(&cap, d), RF_EFORMAT); /* a folder */
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), d));
}
END_TEST

START_TEST(test_read_pulses_range) {
  const char *d = dir_for("cap_range");
  char path[4096];
  rf_test_capture_opts o = rf_test_capture_defaults();
  rf_test_join(path, sizeof path, d, "cap.h5");
  ck_assert_int_eq(rf_test_write_capture(path, &o), 0);
  rf_capture *cap;
  ck_assert_int_eq(rf_capture_open(&cap, path), 0);
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  char *buf = malloc(rf_capture_pulse_bytes(m) * 2);
  ck_assert_int_eq(rf_capture_read_pulses(cap, m->pulses - 1, 2, buf), RF_EINVAL);
  ck_assert_int_eq(rf_capture_read_pulses(cap, SIZE_MAX, 2, buf), RF_EINVAL);
  ck_assert_int_eq(rf_capture_read_pulses(cap, m->pulses, 0, buf), 0);
  ck_assert_int_eq(rf_capture_read_pulses(cap, m->pulses - 2, 2, buf), 0);
  free(buf);
  rf_capture_close(cap);
  rf_capture_close(NULL);
}
END_TEST

/* ---- writer ------------------------------------------------------------------------------- */
START_TEST(test_writer_abort_and_failures) {
  const char *d = dir_for("cap_writer");
  char path[4096], bad[4096];
  rf_test_capture tc;
  rf_test_capture_opts o = rf_test_capture_defaults();
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  rf_test_join(path, sizeof path, d, "cap.h5");
  rf_capture_writer *w;
  ck_assert_int_eq(rf_capture_writer_create(&w, path, &tc.meta), 0);
  ck_assert_uint_eq(rf_test_count_entries(d, ".tmp."), 1); /* work in progress */
  ck_assert_int_eq(rf_capture_writer_write_pulses(w, 11, 2, tc.raw), RF_EINVAL);
  ck_assert_int_eq(rf_capture_writer_write_truth(w, tc.truth), 0);
  ck_assert_int_eq(rf_capture_writer_write_truth(w, tc.truth), RF_EINVAL);
  rf_capture_writer_abort(w);
  rf_capture_writer_abort(NULL);
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);

  /* A folder that does not exist: RF_EIO naming the file, nothing left. */
  rf_test_join(bad, sizeof bad, d, "no/such/dir/cap.h5");
  w = (rf_capture_writer *)1;
  ck_assert_int_eq(rf_capture_writer_create(&w, bad, &tc.meta), RF_EIO);
  ck_assert_ptr_null(w);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), bad));
  ck_assert_int_eq(rf_capture_writer_create(&w, "/proc/rf_capture.h5", &tc.meta), RF_EIO);
  ck_assert(!rf_test_file_exists("/proc/rf_capture.h5"));

  /* Incomplete description. */
  rf_capture_meta m = tc.meta;
  m.pulse_time_s = NULL;
  ck_assert_int_eq(rf_capture_writer_create(&w, path, &m), RF_EINVAL);
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);

  /* Out of memory at each allocation of create: clean failure, no files. */
  int done = 0;
  for (size_t k = 1; k < RF_TEST_OOM_MAX_STEPS && !done; k++) {
    rf_alloc_fail_after(k, 0);
    int st = rf_capture_writer_create(&w, path, &tc.meta);
    rf_alloc_fail_after(0, 0);
    if (st == 0) {
      done = 1;
      rf_capture_writer_abort(w);
    } else {
      ck_assert_int_eq(st, RF_ENOMEM);
    }
    ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);
  }
  ck_assert(done);

  /* Never over a file the writer did not make: a user's file keeps its
   * bytes (RF_EINVAL naming it); a capture it wrote may be replaced. */
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("my own file\n", f);
  fclose(f);
  ck_assert_int_eq(rf_capture_writer_create(&w, path, &tc.meta), RF_EINVAL);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "never overwrites"));
  char *txt = rf_test_read_file(path, NULL);
  ck_assert_str_eq(txt, "my own file\n");
  free(txt);
  remove(path);
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(rf_capture_writer_create(&w, path, &tc.meta), 0);
    ck_assert_int_eq(rf_capture_writer_write_pulses(w, 0, tc.meta.pulses, tc.raw), 0);
    ck_assert_int_eq(rf_capture_writer_close(w), 0);
  }
  remove(path);
  rf_test_capture_free(&tc);
}
END_TEST

/* A capture write that fails part way (file size limit: EFBIG, as a full
 * disk gives ENOSPC): RF_EIO naming the file and the reason, and no file
 * left, whether the failure shows in write_pulses or in close. The child
 * exits through exit() so a crash in HDF5's exit handler would show. */
START_TEST(test_writer_fails_midway) {
  const char *d = dir_for("cap_midway");
  char path[4096];
  rf_test_capture tc;
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.samples = 512; /* 8 KiB a pulse, 96 KiB in all */
  ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
  rf_test_join(path, sizeof path, d, "cap.h5");
  int pid = rf_test_fork_fsize(32 << 10);
  if (pid == 0) {
    rf_capture_writer *w;
    if (rf_capture_writer_create(&w, path, &tc.meta) != 0) _exit(10);
    size_t pb = rf_capture_pulse_bytes(&tc.meta);
    int st = 0;
    for (size_t p = 0; p < tc.meta.pulses && st == 0; p++)
      st = rf_capture_writer_write_pulses(w, p, 1, (const char *)tc.raw + p * pb);
    if (st == 0) st = rf_capture_writer_close(w);
    else rf_capture_writer_abort(w);
    if (st != RF_EIO) _exit(11);
    if (!strstr(rf_errmsg(), path) || !strstr(rf_errmsg(), "File too large")) _exit(12);
    if (rf_test_count_entries(d, NULL) != 0) _exit(13);
    rf_test_capture_free(&tc); /* LeakSanitizer checks the child's exit too */
    rf_test_child_exit(0);
  }
  rf_test_child_ok(pid);
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);
  rf_test_capture_free(&tc);
}
END_TEST

/* ---- out of memory -------------------------------------------------------------------------- */
START_TEST(test_open_oom_sweep) {
  const char *d = dir_for("cap_oom");
  char path[4096];
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.waveform_type = RF_WAVEFORM_CUSTOM;
  rf_test_join(path, sizeof path, d, "cap.h5");
  ck_assert_int_eq(rf_test_write_capture(path, &o), 0);
  size_t k, failures = 0;
  for (k = 1; k < RF_TEST_OOM_MAX_STEPS; k++) {
    rf_capture *cap = (rf_capture *)1;
    rf_alloc_fail_after(k, 0);
    int st = rf_capture_open(&cap, path);
    rf_alloc_fail_after(0, 0);
    if (st == 0) {
      rf_truth *t;
      ck_assert_int_eq(rf_capture_read_truth(cap, &t), 0);
      rf_truth_free(t);
      rf_capture_close(cap);
      break;
    }
    ck_assert_msg(st == RF_ENOMEM || st == RF_EFORMAT, "step %zu: %s", k, rf_err_name(st));
    ck_assert_ptr_null(cap);
    failures++;
  }
  ck_assert_uint_lt(k, RF_TEST_OOM_MAX_STEPS);
  ck_assert_uint_ge(failures, 5); /* it does allocate: the sweep tested something */

  /* The same for rf_capture_read_truth. */
  rf_capture *cap;
  ck_assert_int_eq(rf_capture_open(&cap, path), 0);
  for (k = 1; k < RF_TEST_OOM_MAX_STEPS; k++) {
    rf_truth *t = (rf_truth *)1;
    rf_alloc_fail_after(k, 0);
    int st = rf_capture_read_truth(cap, &t);
    rf_alloc_fail_after(0, 0);
    if (st == 0) {
      rf_truth_free(t);
      break;
    }
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_ptr_null(t);
  }
  ck_assert_uint_gt(k, 1);
  rf_capture_close(cap);
}
END_TEST

Suite *test_capture_suite(void) {
  Suite *s = suite_create("test_capture_suite");
  TCase *tc = tcase_create("capture");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_roundtrip_int16_lfm);
  tcase_add_test(tc, test_roundtrip_float32_custom);
  tcase_add_test(tc, test_roundtrip_float32_lfm_cal);
  tcase_add_test(tc, test_encodings_custom_float32);
  tcase_add_test(tc, test_encodings_lfm_int16);
  tcase_add_test(tc, test_fletcher32_matches_hdf5);
  tcase_add_test(tc, test_chunks_direct_matches_hdf5);
  tcase_add_test(tc, test_chunks_nan_named);
  tcase_add_test(tc, test_truth_unmatched_time);
  tcase_add_test(tc, test_lfm_replica);
  tcase_add_test(tc, test_tx_beamwidth);
  tcase_add_loop_test(tc, test_bad_capture, 0, (int)rf_test_bad_capture_count());
  tcase_add_test(tc, test_missing_file);
  tcase_add_test(tc, test_read_pulses_range);
  tcase_add_test(tc, test_writer_abort_and_failures);
  tcase_add_test(tc, test_writer_fails_midway);
  tcase_add_test(tc, test_open_oom_sweep);
  suite_add_tcase(s, tc);
  return s;
}
