/* Fuzz target: the capture reader, structure-aware. The input bytes are a
 * recipe: a well-formed HDF5 file is written through the HDF5 API with every
 * object and attribute of a capture present or missing, of any supported or
 * unsupported type, with shapes that agree or disagree and with values
 * replaced by NaN, Inf, 0, huge or raw bit patterns. All-zero bytes give a
 * valid capture. rf_capture_open must refuse or accept it without crashing,
 * and an accepted capture is read (pulses, truth) as `radarflow process`
 * would. Raw-byte fuzzing mostly finds libhdf5's own parser bugs, which we
 * cannot fix: see fuzz_capture_raw.c. */
#include "../../io/rf_capture.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RF_FUZZ_READ_BYTES ((size_t)256 << 10)

typedef struct rf__fdp {
  const uint8_t *p;
  size_t n;
} rf__fdp;

static unsigned rf__u8(rf__fdp *f) {
  if (!f->n) return 0;
  f->n--;
  return *f->p++;
}

static unsigned rf__u16(rf__fdp *f) { return rf__u8(f) | rf__u8(f) << 8; }

/* v, or (by the next byte) NaN, Inf, -v, 0, a huge value or raw bits. */
static double rf__val(rf__fdp *f, double v) {
  switch (rf__u8(f) & 15) {
  case 1: return NAN;
  case 2: return INFINITY;
  case 3: return -v;
  case 4: return 0;
  case 5: return v * 1e12;
  case 6: {
    uint64_t b = 0;
    for (int i = 0; i < 8; i++) b |= (uint64_t)rf__u8(f) << (8 * i);
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
  }
  case 7: return v + 1;
  default: return v;
  }
}

/* A dimension: d, or d plus a small signed change, or 0. */
static hsize_t rf__dim(rf__fdp *f, hsize_t d) {
  unsigned b = rf__u8(f);
  if (b < 200) return d;
  if (b < 220) return d + (b - 199);
  if (b < 240) return d > (hsize_t)(b - 219) ? d - (b - 219) : 0;
  return 0;
}

/* File types a dataset may get: the right one first. */
static hid_t rf__type(rf__fdp *f, hid_t right) {
  switch (rf__u8(f) % 16) {
  case 1: return H5T_STD_I32LE;
  case 2: return H5T_IEEE_F32LE;
  case 3: return H5T_IEEE_F64BE;
  case 4: return H5T_STD_U8LE;
  case 5: return H5T_STD_I16BE;
  case 6: return H5T_STD_I64LE;
  default: return right;
  }
}

static void rf__attr_double(rf__fdp *f, hid_t o, const char *name, double v) {
  if ((rf__u8(f) & 31) == 31) return; /* missing */
  hid_t t = rf__type(f, H5T_IEEE_F64LE), s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(o, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  double x = rf__val(f, v);
  if (a >= 0) H5Awrite(a, H5T_NATIVE_DOUBLE, &x), H5Aclose(a);
  H5Sclose(s);
}

static void rf__attr_string(rf__fdp *f, hid_t o, const char *name, const char *v) {
  unsigned b = rf__u8(f);
  if ((b & 31) == 31) return;
  const char *alt[] = {v, "", "radarflow.plots", "custom", "lfm", "x\xff\xfe"};
  const char *s = alt[(b >> 5) % 6 == 0 ? 0 : (b >> 5) % 6];
  hid_t sp = H5Screate(H5S_SCALAR), t = H5Tcopy(H5T_C_S1);
  if (b & 1) {
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
  } else {
    H5Tset_size(t, strlen(s) + 1 + (b >> 1 & 3));
    H5Tset_strpad(t, (b & 2) ? H5T_STR_SPACEPAD : H5T_STR_NULLTERM);
  }
  hid_t a = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    if (b & 1) H5Awrite(a, t, &s);
    else {
      char buf[64] = {0};
      snprintf(buf, sizeof buf, "%s", s);
      H5Awrite(a, t, buf);
    }
    H5Aclose(a);
  }
  H5Tclose(t);
  H5Sclose(sp);
}

static void rf__attr_int(rf__fdp *f, hid_t o, const char *name, int v) {
  unsigned b = rf__u8(f);
  if ((b & 31) == 31) return;
  hid_t t = rf__type(f, H5T_STD_I32LE), s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(o, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  int x = (b & 31) == 30 ? (int)rf__u16(f) - 100 : v;
  if (a >= 0) H5Awrite(a, H5T_NATIVE_INT, &x), H5Aclose(a);
  H5Sclose(s);
}

/* A dataset whose element i (of the right shape) would be good(i); shape,
 * type and some values mutated. Missing when the first byte says so. */
static hid_t rf__dset(rf__fdp *f, hid_t loc, const char *name, hid_t right, int rank, const hsize_t *dims,
                      double (*good)(size_t i, const void *ctx), const void *ctx, int keep_open) {
  if ((rf__u8(f) & 31) == 31) return -1;
  hsize_t d[5];
  int r = rank;
  unsigned rb = rf__u8(f);
  if (rb == 250 && r < 5) r++;
  if (rb == 251 && r > 1) r--;
  size_t n = 1;
  for (int k = 0; k < r; k++) {
    d[k] = k < rank ? rf__dim(f, dims[k]) : 1;
    n *= d[k];
  }
  if (n > ((size_t)1 << 20)) return -1;
  hid_t t = rf__type(f, right), s = H5Screate_simple(r, d, NULL);
  hid_t ds = H5Dcreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double *v = n ? malloc(n * sizeof *v) : NULL;
  if (ds >= 0 && v) {
    for (size_t i = 0; i < n; i++) v[i] = good(i, ctx);
    for (unsigned k = rf__u8(f) % 4; k > 0; k--) {
      size_t at = rf__u16(f) % n;
      v[at] = rf__val(f, v[at]);
    }
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  }
  free(v);
  H5Sclose(s);
  if (ds >= 0 && !keep_open) {
    H5Dclose(ds);
    ds = -1;
  }
  return ds;
}

typedef struct rf__shape {
  size_t channels, samples, pulses, dwells;
  double pri_s, lambda;
} rf__shape;

static double rf__g_pos(size_t i, const void *c) {
  const rf__shape *s = c;
  return i % 3 == 0 ? (double)(i / 3) * s->lambda / 2 : 0;
}
static double rf__g_cal(size_t i, const void *c) { return i % 2 == 0 ? 1.0 : 0.0; }
static double rf__g_ref(size_t i, const void *c) { return i % 2 == 0 ? cos(0.3 * (double)i) : sin(0.3 * (double)i); }
static double rf__g_iq(size_t i, const void *c) { return (double)((i * 2654435761u) % 2001) - 1000.0; }
static double rf__g_first(size_t i, const void *c) {
  const rf__shape *s = c;
  return (double)(i * (s->pulses / s->dwells));
}
static double rf__g_num(size_t i, const void *c) {
  const rf__shape *s = c;
  size_t per = s->pulses / s->dwells;
  return (double)(i + 1 == s->dwells ? s->pulses - per * i : per);
}
static double rf__g_az(size_t i, const void *c) { return 10.0 * (double)i; }
static double rf__g_el(size_t i, const void *c) { return 1.0; }
static double rf__g_time(size_t i, const void *c) {
  const rf__shape *s = c;
  return 1.7e9 + (double)i * s->pri_s;
}
static double rf__g_row(size_t i, const void *c) { return (double)i; }

/* Writes the capture the recipe describes; 0 or -1. */
static int rf__write_recipe(const char *path, rf__fdp *f) {
  rf__shape s = {.channels = 1 + rf__u8(f) % 4,
                 .samples = 32 + rf__u8(f) % 64,
                 .pulses = 4 + rf__u8(f) % 12,
                 .dwells = 2 - rf__u8(f) % 2,
                 .pri_s = 1e-4,
                 .lambda = 0.1};
  unsigned flags = rf__u8(f);
  int custom = flags & 1, calib = flags & 2, truth = flags & 4, huge = (flags & 0xf8) == 0xf8;
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return -1;
  rf__attr_string(f, file, "format", "radarflow.capture");
  rf__attr_int(f, file, "format_version", 1);
  rf__attr_string(f, file, "radar_name", "fuzz");
  rf__attr_double(f, file, "site_latitude_deg", 52);
  rf__attr_double(f, file, "site_longitude_deg", 4);
  rf__attr_double(f, file, "site_altitude_m", 10);

  if ((rf__u8(f) & 31) != 31) {
    hid_t w = H5Gcreate2(file, "waveform", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (w >= 0) {
      rf__attr_string(f, w, "type", custom ? "custom" : "lfm");
      rf__attr_double(f, w, "center_frequency_hz", 3e9);
      rf__attr_double(f, w, "sample_rate_hz", 2e6);
      rf__attr_double(f, w, "bandwidth_hz", 1e6);
      rf__attr_double(f, w, "pulse_width_s", 4e-6);
      rf__attr_double(f, w, "pri_s", s.pri_s);
      rf__attr_double(f, w, "range_gate_delay_s", 0);
      if (custom) {
        hsize_t d[2] = {5, 2};
        rf__dset(f, w, "reference", H5T_IEEE_F32LE, 2, d, rf__g_ref, &s, 0);
      }
      H5Gclose(w);
    }
  }
  if ((rf__u8(f) & 31) != 31) {
    hid_t a = H5Gcreate2(file, "array", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
      hsize_t d[2] = {s.channels, 3}, c[2] = {s.channels, 2};
      rf__dset(f, a, "element_position_m", H5T_IEEE_F64LE, 2, d, rf__g_pos, &s, 0);
      if (calib) rf__dset(f, a, "calibration", H5T_IEEE_F32LE, 2, c, rf__g_cal, &s, 0);
      H5Gclose(a);
    }
  }
  hid_t iqt = rf__u8(f) & 1 ? H5T_IEEE_F32LE : H5T_STD_I16LE;
  if (huge) {
    /* Declared far beyond the reader's limits, never written. */
    hsize_t d[4] = {(hsize_t)1 << (20 + rf__u8(f) % 20), s.channels, s.samples, 2}, ch[4] = {1, s.channels, s.samples, 2};
    hid_t sp = H5Screate_simple(4, d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, ch);
    hid_t ds = H5Dcreate2(file, "iq", iqt, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
  } else {
    hsize_t d[4] = {s.pulses, s.channels, s.samples, 2};
    hid_t ds = rf__dset(f, file, "iq", iqt, 4, d, rf__g_iq, &s, 1);
    if (ds >= 0) {
      if (rf__u8(f) & 1) rf__attr_double(f, ds, "scale", 1.0 / 4096);
      H5Dclose(ds);
    }
  }
  if ((rf__u8(f) & 31) != 31) {
    hid_t g = H5Gcreate2(file, "dwell", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
      hsize_t d[1] = {s.dwells};
      rf__dset(f, g, "first_pulse", H5T_STD_I64LE, 1, d, rf__g_first, &s, 0);
      rf__dset(f, g, "num_pulses", H5T_STD_I32LE, 1, d, rf__g_num, &s, 0);
      rf__dset(f, g, "azimuth_deg", H5T_IEEE_F64LE, 1, d, rf__g_az, &s, 0);
      rf__dset(f, g, "elevation_deg", H5T_IEEE_F64LE, 1, d, rf__g_el, &s, 0);
      H5Gclose(g);
    }
  }
  hsize_t pd[1] = {s.pulses};
  rf__dset(f, file, "pulse_time_s", H5T_IEEE_F64LE, 1, pd, rf__g_time, &s, 0);
  if (truth) {
    hid_t g = H5Gcreate2(file, "truth", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
      hsize_t r1[1] = {2 * s.dwells}, r3[2] = {2 * s.dwells, 3};
      const char *one[] = {"target_id", "dwell", "time_s", "range_m", "radial_velocity_mps",
                           "azimuth_deg", "elevation_deg", "snr_db"};
      for (size_t k = 0; k < sizeof one / sizeof *one; k++)
        rf__dset(f, g, one[k], k < 2 ? H5T_STD_I32LE : H5T_IEEE_F64LE, 1, r1,
                 k == 1 ? rf__g_first : rf__g_row, &s, 0);
      rf__dset(f, g, "position_enu_m", H5T_IEEE_F64LE, 2, r3, rf__g_row, &s, 0);
      rf__dset(f, g, "velocity_enu_mps", H5T_IEEE_F64LE, 2, r3, rf__g_row, &s, 0);
      H5Gclose(g);
    }
  }
  return H5Fclose(file) < 0 ? -1 : 0;
}

int rf_fuzz_capture(const uint8_t *data, size_t size) {
  static char path[512];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/rf-fuzz-recipe.%ld.h5", dir && *dir ? dir : "/tmp", (long)getpid());
  rf__fdp f = {data, size};
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (rf__write_recipe(path, &f) == 0) {
    rf_capture *cap = NULL;
    if (rf_capture_open(&cap, path) == 0) {
      const rf_capture_meta *m = rf_capture_get_meta(cap);
      size_t pb = rf_capture_pulse_bytes(m);
      if (pb > 0 && pb <= RF_FUZZ_READ_BYTES) {
        size_t n = RF_FUZZ_READ_BYTES / pb;
        if (n > m->pulses) n = m->pulses;
        void *raw = malloc(n * pb);
        if (raw) rf_capture_read_pulses(cap, 0, n, raw);
        free(raw);
      }
      rf_truth *t = NULL;
      if (rf_capture_read_truth(cap, &t) == 0) rf_truth_free(t);
      rf_capture_close(cap);
    }
  }
  unlink(path);
  return 0;
}

#ifndef RF_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return rf_fuzz_capture(data, size); }
#endif
