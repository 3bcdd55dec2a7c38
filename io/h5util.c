/* radarflow io/: HDF5 access helpers (see h5util.h). */
#include "h5util.h"
#include "rf_products.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rf__h5_quiet(void) {
  /* HDF5 1.10 cannot recover from a failed H5Fclose (a full disk while a
   * capture is written): the file ID it leaves behind crashes the process in
   * HDF5's atexit handler. Every file here is closed explicitly, so that
   * handler is not needed; this only takes effect before HDF5 initialises
   * (the first HDF5 call of the process), later calls are harmless no-ops. */
  static int once;
  if (!once) {
    once = 1;
    H5dont_atexit();
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* ---- opening a file to read ---------------------------------------------------- */
int rf__h5_open_read(const char *path, hid_t *fapl, hid_t *f) {
  struct stat sb;
  *fapl = *f = H5I_INVALID_HID;
  rf__h5_quiet();
  if (stat(path, &sb) < 0) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return rf__err(RF_EFORMAT, "%s: cannot open: not a regular file", path);
  if ((*fapl = rf__h5_fapl()) < 0) return rf__err(RF_ENOMEM, "%s: out of memory", path);
#if H5_VERSION_GE(1, 12, 0)
  htri_t is_h5 = H5Fis_accessible(path, *fapl);
#else
  htri_t is_h5 = H5Fis_hdf5(path);
#endif
  if (is_h5 <= 0)
    return rf__err(RF_EFORMAT, "%s: not an HDF5 file (or a truncated or unreadable one)", path);
  if ((*f = H5Fopen(path, H5F_ACC_RDONLY, *fapl)) < 0)
    return rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", path, rf__h5_errdesc());
  return 0;
}

/* ---- who wrote a capture ------------------------------------------------------ */
int rf__h5_written_by(const char *path, const char *attr, const char *program) {
  if (H5Fis_hdf5(path) <= 0) {
    rf_errmsg_clear();
    return 0;
  }
  hid_t fapl = rf__h5_fapl(), f = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : H5I_INVALID_HID;
  char prog[64] = "", fmt[64] = "";
  int p1 = 0, p2 = 0;
  if (f >= 0) {
    rf__h5_attr_string(f, path, "/", attr, prog, sizeof prog, &p1);
    rf__h5_attr_string(f, path, "/", "format", fmt, sizeof fmt, &p2);
    H5Fclose(f);
  }
  if (fapl >= 0) H5Pclose(fapl);
  rf_errmsg_clear();
  return p1 && p2 && !strncmp(prog, program, strlen(program)) && !strcmp(fmt, "radarflow.capture");
}

/* ---- error text ------------------------------------------------------------ */
static _Thread_local char rf__h5_desc[256];

static herr_t rf__h5_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  (void)data;
  if (n == 0 && e->desc) snprintf(rf__h5_desc, sizeof rf__h5_desc, "%s", e->desc);
  return 0;
}

const char *rf__h5_errdesc(void) {
  rf__h5_desc[0] = 0;
  /* Upward: the first entry is where the error was first detected. */
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, rf__h5_walk_cb, NULL);
  if (!rf__h5_desc[0]) snprintf(rf__h5_desc, sizeof rf__h5_desc, "unknown HDF5 error");
  return rf__h5_desc;
}

const char *rf__io_reason(void) {
  if (errno) return strerror(errno);
  return rf__h5_errdesc();
}

int rf__h5_has(hid_t loc, const char *name) { return H5Lexists(loc, name, H5P_DEFAULT) > 0; }

/* ---- attributes -------------------------------------------------------------- */
/* Opens attribute `name` or reports it missing; *a < 0 and 0 returned when
 * absent and optional. */
static int rf__h5_attr_open(hid_t loc, const char *path, const char *obj, const char *name,
                            int *present, hid_t *a) {
  *a = H5I_INVALID_HID;
  htri_t ex = H5Aexists(loc, name);
  if (ex < 0)
    return rf__err(RF_EFORMAT, "%s: %s: cannot read attribute %s: %s", path, obj, name,
                   rf__h5_errdesc());
  if (ex == 0) {
    if (present) {
      *present = 0;
      return 0;
    }
    return rf__err(RF_EFORMAT, "%s: %s: missing attribute %s", path, obj, name);
  }
  *a = H5Aopen(loc, name, H5P_DEFAULT);
  if (*a < 0)
    return rf__err(RF_EFORMAT, "%s: %s: cannot open attribute %s: %s", path, obj, name,
                   rf__h5_errdesc());
  if (present) *present = 1;
  return 0;
}

/* Requires one element and a type class in {c1, c2}. */
static int rf__h5_attr_check(hid_t a, const char *path, const char *obj, const char *name,
                             H5T_class_t c1, H5T_class_t c2, const char *what) {
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (c != c1 && c != c2)
    return rf__err(RF_EFORMAT, "%s: %s: %s must be %s", path, obj, name, what);
  if (np != 1)
    return rf__err(RF_EFORMAT, "%s: %s: %s must hold one value (has %lld)", path, obj, name,
                   (long long)np);
  return 0;
}

/* A numeric scalar attribute read as memory type mt; classes and `what`
 * as rf__h5_attr_check. */
static int rf__h5_attr_number(hid_t loc, const char *path, const char *obj, const char *name, hid_t mt,
                              H5T_class_t c1, H5T_class_t c2, const char *what, void *v, int *present) {
  hid_t a;
  int st = rf__h5_attr_open(loc, path, obj, name, present, &a);
  if (st < 0 || a < 0) return st;
  st = rf__h5_attr_check(a, path, obj, name, c1, c2, what);
  if (st == 0 && H5Aread(a, mt, v) < 0)
    st = rf__err(RF_EFORMAT, "%s: %s: cannot read attribute %s: %s", path, obj, name, rf__h5_errdesc());
  H5Aclose(a);
  return st;
}

int rf__h5_attr_double(hid_t loc, const char *path, const char *obj, const char *name,
                       double *v, int *present) {
  return rf__h5_attr_number(loc, path, obj, name, H5T_NATIVE_DOUBLE, H5T_FLOAT, H5T_INTEGER, "a number", v, present);
}

int rf__h5_attr_int(hid_t loc, const char *path, const char *obj, const char *name,
                    long long *v, int *present) {
  return rf__h5_attr_number(loc, path, obj, name, H5T_NATIVE_LLONG, H5T_INTEGER, H5T_INTEGER, "an integer", v,
                            present);
}

/* Cuts a string of length len-1 (maybe truncated) back to a UTF-8 boundary. */
static void rf__utf8_trim(char *buf, size_t len) {
  size_t n = strlen(buf);
  if (n + 1 < len || n == 0) return;
  size_t i = n;
  while (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80) i--;
  if (i == 0) return;
  unsigned char lead = (unsigned char)buf[i - 1];
  size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (i - 1 + need > n) buf[i - 1] = 0;
}

int rf__h5_attr_string(hid_t loc, const char *path, const char *obj, const char *name,
                       char *buf, size_t len, int *present) {
  hid_t a, t = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  char *vs = NULL;
  int st = rf__h5_attr_open(loc, path, obj, name, present, &a);
  if (st < 0 || a < 0) return st;
  memset(buf, 0, len);
  st = rf__h5_attr_check(a, path, obj, name, H5T_STRING, H5T_STRING, "a string");
  if (st < 0) goto cleanup;
  t = H5Aget_type(a);
  mt = H5Tcopy(H5T_C_S1);
  if (t < 0 || mt < 0) goto h5fail;
  int var = H5Tis_variable_str(t) > 0;
  /* HDF5 does not convert between character sets: read in the file's. */
  if (H5Tset_cset(mt, H5Tget_cset(t)) < 0) goto h5fail;
  if (var) {
    if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &vs) < 0) goto h5fail;
    if (vs) snprintf(buf, len, "%s", vs);
  } else {
    if (H5Tset_size(mt, len) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
        H5Aread(a, mt, buf) < 0)
      goto h5fail;
    buf[len - 1] = 0;
  }
  rf__utf8_trim(buf, len);
  goto cleanup;
h5fail:
  st = rf__err(RF_EFORMAT, "%s: %s: cannot read attribute %s: %s", path, obj, name,
               rf__h5_errdesc());
cleanup:
  if (vs) H5free_memory(vs);
  if (mt >= 0) H5Tclose(mt);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return st;
}

/* ---- datasets ------------------------------------------------------------------ */
int rf__h5_open_dset(hid_t loc, const char *path, const char *full, const char *name,
                     hid_t *dset, int *present) {
  *dset = H5I_INVALID_HID;
  if (!rf__h5_has(loc, name)) {
    if (present) {
      *present = 0;
      return 0;
    }
    return rf__err(RF_EFORMAT, "%s: %s: missing dataset", path, full);
  }
  *dset = H5Dopen2(loc, name, H5P_DEFAULT);
  if (*dset < 0)
    return rf__err(RF_EFORMAT, "%s: %s: cannot open dataset: %s", path, full, rf__h5_errdesc());
  if (present) *present = 1;
  return 0;
}

int rf__h5_dims(hid_t dset, const char *path, const char *full, int rank, hsize_t *dims) {
  hid_t s = H5Dget_space(dset);
  if (s < 0) return rf__err(RF_EFORMAT, "%s: %s: cannot read shape: %s", path, full, rf__h5_errdesc());
  int r = H5Sget_simple_extent_ndims(s);
  int st = 0;
  if (r != rank)
    st = rf__err(RF_EFORMAT, "%s: %s: must have %d dimension%s (has %d)", path, full, rank,
                 rank == 1 ? "" : "s", r);
  else if (H5Sget_simple_extent_dims(s, dims, NULL) < 0)
    st = rf__err(RF_EFORMAT, "%s: %s: cannot read shape: %s", path, full, rf__h5_errdesc());
  H5Sclose(s);
  return st;
}

static H5T_class_t rf__h5_dset_class(hid_t dset) {
  hid_t t = H5Dget_type(dset);
  if (t < 0) return H5T_NO_CLASS;
  H5T_class_t c = H5Tget_class(t);
  H5Tclose(t);
  return c;
}

int rf__h5_read_double(hid_t dset, const char *path, const char *full, double *out) {
  H5T_class_t c = rf__h5_dset_class(dset);
  if (c != H5T_FLOAT && c != H5T_INTEGER)
    return rf__err(RF_EFORMAT, "%s: %s: must hold numbers (float64)", path, full);
  if (H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    return rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
  return 0;
}

int rf__h5_read_int64(hid_t dset, const char *path, const char *full, int64_t *out) {
  if (rf__h5_dset_class(dset) != H5T_INTEGER)
    return rf__err(RF_EFORMAT, "%s: %s: must hold integers", path, full);
  if (H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    return rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
  return 0;
}

/* 1 if compound type t has a floating-point member `name`. */
static int rf__h5_float_member(hid_t t, const char *name) {
  int i = H5Tget_member_index(t, name);
  if (i < 0) return 0;
  return H5Tget_member_class(t, (unsigned)i) == H5T_FLOAT;
}

int rf__h5_read_complex(hid_t dset, const char *path, const char *full, size_t max_n,
                        size_t *n, float complex **out) {
  hid_t t = H5Dget_type(dset), mt = H5I_INVALID_HID, s = H5Dget_space(dset);
  float complex *v = NULL;
  int st = 0, own_mt = 0;
  hsize_t dims[H5S_MAX_RANK];
  int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
  if (t < 0 || rank < 0 || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
    st = rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
    goto cleanup;
  }
  H5T_class_t c = H5Tget_class(t);
  if (c == H5T_COMPOUND && rank == 1 && rf__h5_float_member(t, "r") &&
      rf__h5_float_member(t, "i")) {
    mt = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
    own_mt = 1;
    if (mt < 0 || H5Tinsert(mt, "r", 0, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(mt, "i", sizeof(float), H5T_NATIVE_FLOAT) < 0) {
      st = rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
      goto cleanup;
    }
  } else if (c == H5T_FLOAT && rank == 2 && dims[1] == 2) {
    mt = H5T_NATIVE_FLOAT;
  } else {
    st = rf__err(RF_EFORMAT, "%s: %s: must be complex: [n][2] float32 or compound {r, i}",
                 path, full);
    goto cleanup;
  }
  if (dims[0] < 1 || dims[0] > max_n) {
    st = rf__err(RF_EFORMAT, "%s: %s: has %llu values (expected 1 to %zu)", path, full,
                 (unsigned long long)dims[0], max_n);
    goto cleanup;
  }
  size_t bytes;
  if (rf__mul_size((size_t)dims[0], sizeof *v, &bytes) < 0 || !(v = rf__malloc(bytes))) {
    st = rf__err(RF_ENOMEM, "%s: %s: out of memory", path, full);
    goto cleanup;
  }
  if (H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    st = rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
    goto cleanup;
  }
  for (size_t i = 0; i < dims[0]; i++)
    if (!isfinite(crealf(v[i])) || !isfinite(cimagf(v[i]))) {
      st = rf__err(RF_EFORMAT, "%s: %s: value %zu is not finite", path, full, i);
      goto cleanup;
    }
  *n = (size_t)dims[0];
  *out = v;
  v = NULL;
cleanup:
  rf__free(v);
  if (own_mt && mt >= 0) H5Tclose(mt);
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  return st;
}

/* ---- writers ------------------------------------------------------------------- */
herr_t rf__h5_write_attr_string(hid_t loc, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
  herr_t r = -1;
  if (t < 0 || s < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)
    goto cleanup;
  a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) goto cleanup;
  r = H5Awrite(a, t, &value);
cleanup:
  if (a >= 0 && H5Aclose(a) < 0) r = -1;
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  return r;
}

herr_t rf__h5_write_attr_strings(hid_t loc, const char *name, const char *const *values, size_t n) {
  hsize_t dims[1] = {n};
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate_simple(1, dims, NULL), a = H5I_INVALID_HID;
  herr_t r = -1;
  if (t < 0 || s < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)
    goto cleanup;
  a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) goto cleanup;
  r = H5Awrite(a, t, values);
cleanup:
  if (a >= 0 && H5Aclose(a) < 0) r = -1;
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  return r;
}

herr_t rf__h5_describe_dset(hid_t loc, const char *name, const char *unit, const char *description) {
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  if (d < 0) return -1;
  herr_t r = rf__h5_write_attr_string(d, "units", unit) < 0 ||
                     rf__h5_write_attr_string(d, "description", description) < 0
                 ? -1
                 : 0;
  if (H5Dclose(d) < 0) r = -1;
  return r;
}

/* The glossary's units and descriptions of a table's columns as the
 * attributes "units" and "descriptions" of its dataset (member order). A
 * column the glossary lacks gets "". */
static herr_t rf__h5_describe_table(hid_t loc, const rf__table *t) {
  const char *units[64], *descs[64];
  if (t->ncols > 64) return -1;
  for (size_t k = 0; k < t->ncols; k++) {
    const rf__col_doc *d = rf__col_doc_find(t->what, t->cols[k].name);
    units[k] = d ? d->unit : "";
    descs[k] = d ? d->description : "";
  }
  hid_t d = H5Dopen2(loc, t->what, H5P_DEFAULT);
  if (d < 0) return -1;
  herr_t r = rf__h5_write_attr_strings(d, "units", units, t->ncols) < 0 ||
                     rf__h5_write_attr_strings(d, "descriptions", descs, t->ncols) < 0
                 ? -1
                 : 0;
  if (H5Dclose(d) < 0) r = -1;
  return r;
}

static herr_t rf__h5_write_attr(hid_t loc, const char *name, hid_t ft, hid_t mt, const void *v) {
  hid_t s = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
  herr_t r = -1;
  if (s < 0) return -1;
  a = H5Acreate2(loc, name, ft, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) r = H5Awrite(a, mt, v);
  if (a >= 0 && H5Aclose(a) < 0) r = -1;
  H5Sclose(s);
  return r;
}

herr_t rf__h5_write_attr_double(hid_t loc, const char *name, double value) {
  return rf__h5_write_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

herr_t rf__h5_write_attr_int32(hid_t loc, const char *name, int32_t value) {
  return rf__h5_write_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

herr_t rf__h5_write_dset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *data) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), s = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5I_INVALID_HID;
  herr_t r = -1;
  if (dcpl < 0 || s < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) goto cleanup;
  d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d < 0) goto cleanup;
  r = 0;
  if (data && H5Sget_simple_extent_npoints(s) > 0)
    r = H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
cleanup:
  if (d >= 0 && H5Dclose(d) < 0) r = -1;
  if (s >= 0) H5Sclose(s);
  if (dcpl >= 0) H5Pclose(dcpl);
  return r;
}

hid_t rf__h5_create_group(hid_t loc, const char *name) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = H5I_INVALID_HID;
  if (gcpl < 0) return H5I_INVALID_HID;
  if (H5Pset_obj_track_times(gcpl, 0) >= 0)
    g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  return g;
}

hid_t rf__h5_fcpl(void) {
  hid_t p = H5Pcreate(H5P_FILE_CREATE);
  if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
    H5Pclose(p);
    return H5I_INVALID_HID;
  }
  return p;
}

hid_t rf__h5_fapl(void) {
  hid_t p = H5Pcreate(H5P_FILE_ACCESS);
  /* Closing the file closes any object still open: no dangling handles. */
  if (p >= 0 && H5Pset_fclose_degree(p, H5F_CLOSE_STRONG) < 0) {
    H5Pclose(p);
    return H5I_INVALID_HID;
  }
  return p;
}

/* ---- in-memory product files --------------------------------------------------- */
#define RF__H5_IMAGE_INCREMENT ((size_t)64 << 10)

herr_t rf__h5_product_attrs(hid_t f, const char *format, const rf_product_info *info) {
  char source[4096] = "";
  /* The source as an absolute path, so the file says where it came from
   * wherever it is read. */
  if (info && info->source_path && info->source_path[0]) {
    rf_path_absolute(info->source_path, source, sizeof source);
    rf_errmsg_clear();
  }
  if (rf__h5_write_attr_string(f, "format", format) < 0 || rf__h5_write_attr_int32(f, "format_version", 1) < 0 ||
      rf__h5_write_attr_string(f, "time_epoch", RF__H5_TIME_EPOCH) < 0)
    return -1;
  if (info && (rf__h5_write_attr_string(f, "source_path", source) < 0 ||
               rf__h5_write_attr_string(f, "radar_name", info->radar_name ? info->radar_name : "") < 0 ||
               rf__h5_write_attr_double(f, "site_latitude_deg", info->site_latitude_deg) < 0 ||
               rf__h5_write_attr_double(f, "site_longitude_deg", info->site_longitude_deg) < 0 ||
               rf__h5_write_attr_double(f, "site_altitude_m", info->site_altitude_m) < 0))
    return -1;
  return 0;
}

int rf__h5_image_create(hid_t *out, const char *path, const char *format,
                        const rf_product_info *info) {
  hid_t fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID, f = H5I_INVALID_HID;
  int st = 0;
  *out = H5I_INVALID_HID;
  /* A unique name: HDF5 refuses to create a file it holds open already. */
  char *name = rf_tmp_path(path);
  if (!name) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if ((fcpl = rf__h5_fcpl()) < 0 || (fapl = rf__h5_fapl()) < 0 ||
      H5Pset_fapl_core(fapl, RF__H5_IMAGE_INCREMENT, 0) < 0 ||
      (f = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl)) < 0 || rf__h5_product_attrs(f, format, info) < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
    if (f >= 0) H5Fclose(f);
    f = H5I_INVALID_HID;
  }
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  rf__free(name);
  *out = f;
  return st;
}

int rf__h5_image_commit(hid_t f, const char *path) {
  void *img = NULL;
  int st;
  ssize_t size = H5Fflush(f, H5F_SCOPE_LOCAL) < 0 ? -1 : H5Fget_file_image(f, NULL, 0);
  if (size <= 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
  } else if (!(img = rf__malloc((size_t)size))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
  } else if (H5Fget_file_image(f, img, (size_t)size) != size) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
  } else {
    st = rf_write_file_atomic(path, img, (size_t)size);
  }
  rf__free(img);
  H5Fclose(f);
  return st;
}

/* ---- product tables -------------------------------------------------------------- */
/* The enum of a table's words over an int32 base (file or native). */
static hid_t rf__h5_words_type(const rf__table *t, int file) {
  hid_t e = H5Tenum_create(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
  if (e < 0) return e;
  for (int32_t k = 0; k < t->nwords; k++)
    if (H5Tenum_insert(e, t->words[k], &k) < 0) {
      H5Tclose(e);
      return H5I_INVALID_HID;
    }
  return e;
}

hid_t rf__h5_table_type(const rf__table *t, int layout, int words_as_int) {
  const int file = layout == RF__H5_FILE, packed = layout != RF__H5_MEM;
  size_t size = 0;
  for (size_t k = 0; k < t->ncols; k++) size += t->cols[k].kind == RF__COL_F64 ? 8 : 4;
  hid_t c = H5Tcreate(H5T_COMPOUND, packed ? size : t->row_size), w = H5I_INVALID_HID;
  if (c < 0) return c;
  if (t->nwords && (w = words_as_int ? H5Tcopy(H5T_NATIVE_INT32) : rf__h5_words_type(t, file)) < 0) goto fail;
  size_t off = 0;
  for (size_t k = 0; k < t->ncols; k++) {
    int kind = t->cols[k].kind;
    hid_t mt = kind == RF__COL_WORD ? w
               : kind == RF__COL_I32 ? (file ? H5T_STD_I32LE : H5T_NATIVE_INT32)
                                     : (file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    if (H5Tinsert(c, t->cols[k].name, packed ? off : t->cols[k].off, mt) < 0) goto fail;
    off += kind == RF__COL_F64 ? 8 : 4;
  }
  if (w >= 0) H5Tclose(w);
  return c;
fail:
  if (w >= 0) H5Tclose(w);
  H5Tclose(c);
  return H5I_INVALID_HID;
}

herr_t rf__h5_write_table(hid_t loc, const char *name, const rf__table *t, const void *rows, size_t n) {
  hid_t ft = rf__h5_table_type(t, RF__H5_FILE, 0), mt = rf__h5_table_type(t, RF__H5_MEM, 0);
  hsize_t dims[1] = {n};
  herr_t r = ft < 0 || mt < 0 ? -1 : rf__h5_write_dset(loc, name, ft, mt, 1, dims, rows);
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  return r;
}

/* Checks the dataset's columns and whether its word column is an enum. */
static int rf__h5_table_columns(hid_t d, const char *path, const char *full, const rf__table *t,
                                int *words_as_int) {
  hid_t ft = H5Dget_type(d);
  int st = 0;
  *words_as_int = 0;
  if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
    st = rf__err(RF_EFORMAT, "%s: %s: must be a compound dataset", path, full);
    goto done;
  }
  for (size_t k = 0; k < t->ncols; k++) {
    int i = H5Tget_member_index(ft, t->cols[k].name);
    if (i < 0) {
      st = rf__err(RF_EFORMAT, "%s: %s: missing column %s", path, full, t->cols[k].name);
      goto done;
    }
    if (t->cols[k].kind == RF__COL_WORD && H5Tget_member_class(ft, (unsigned)i) != H5T_ENUM) *words_as_int = 1;
  }
done:
  if (ft >= 0) H5Tclose(ft);
  return st;
}

/* Every word column of the rows holds 0 .. nwords-1. */
static int rf__h5_check_words(const char *path, const char *full, const rf__table *t, const char *rows,
                              size_t n) {
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < t->ncols; k++) {
      if (t->cols[k].kind != RF__COL_WORD) continue;
      int32_t v;
      memcpy(&v, rows + i * t->row_size + t->cols[k].off, sizeof v);
      if (v < 0 || v >= t->nwords)
        return rf__err(RF_EFORMAT, "%s: %s: row %zu: %s %d is not 0..%d", path, full, i, t->cols[k].name,
                       (int)v, t->nwords - 1);
    }
  return 0;
}

int rf__h5_read_table(const char *path, const char *name, const rf__table *t, void **rows, size_t *n) {
  hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, d = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  char full[64];
  hsize_t len;
  size_t bytes;
  void *v = NULL;
  int st = 0, words_as_int;
  *rows = NULL;
  *n = 0;
  snprintf(full, sizeof full, "/%s", name);
  if ((st = rf__h5_open_read(path, &fapl, &f))) goto cleanup;
  if ((st = rf__h5_open_dset(f, path, full, name, &d, NULL)) < 0 || (st = rf__h5_dims(d, path, full, 1, &len)) < 0 ||
      (st = rf__h5_table_columns(d, path, full, t, &words_as_int)) < 0)
    goto cleanup;
  if (len == 0) goto cleanup;
  if (rf__mul_size((size_t)len, t->row_size, &bytes) < 0 || !(v = rf__malloc(bytes))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  if ((mt = rf__h5_table_type(t, RF__H5_MEM, words_as_int)) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    st = rf__err(RF_EFORMAT, "%s: %s: cannot read: %s", path, full, rf__h5_errdesc());
    goto cleanup;
  }
  if ((st = rf__h5_check_words(path, full, t, v, (size_t)len))) goto cleanup;
  *rows = v;
  *n = (size_t)len;
  v = NULL;
cleanup:
  rf__free(v);
  if (mt >= 0) H5Tclose(mt);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  return st;
}

int rf__table_write_h5(const char *path, const char *format, const rf__table *t, const void *rows, size_t n,
                       const rf_product_info *info, herr_t (*attrs)(hid_t f, const rf_product_info *info)) {
  hid_t f;
  rf__h5_quiet();
  if (!path || (n && !rows)) return rf__err(RF_EINVAL, "%s: bad arguments", t->what);
  int st = rf__h5_image_create(&f, path, format, info);
  if (st) return st;
  if ((attrs && info && attrs(f, info) < 0) || rf__h5_write_table(f, t->what, t, rows, n) < 0 ||
      rf__h5_describe_table(f, t) < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
    H5Fclose(f);
    return st;
  }
  return rf__h5_image_commit(f, path);
}

/* ---- streamed product tables ------------------------------------------------------ */
/* Rows are packed into the file's layout as they come (a column at a time,
 * in native order) and written a whole chunk at a time with the packed
 * native type: on a little-endian host HDF5 converts nothing, fills
 * nothing (fill time never: every row is written) and, with no chunk
 * cache, writes each chunk straight from the buffer. */
struct rf__h5_stream {
  const rf__table *t;
  char *path, *tmp;
  hid_t file, dset, mtype;
  size_t packed_size; /* bytes of a packed row */
  size_t nruns;       /* columns adjacent in both layouts, copied as one */
  struct {
    size_t off, len;
  } run[64];
  char *pend;         /* packed rows not yet in the dataset, RF__H5_STREAM_CHUNK_ROWS at most */
  size_t npend;
  hsize_t nrows;
  rf_writeback wb;    /* the file's descriptor, from HDF5's sec2 driver */
};

void rf__h5_stream_abort(rf__h5_stream *s) {
  if (!s) return;
  if (s->mtype >= 0) H5Tclose(s->mtype);
  if (s->dset >= 0) H5Dclose(s->dset);
  if (s->file >= 0) H5Fclose(s->file);
  if (s->tmp) unlink(s->tmp);
  rf__free(s->tmp);
  rf__free(s->path);
  rf__free(s->pend);
  rf__free(s);
}

static pthread_mutex_t rf__h5_mu = PTHREAD_MUTEX_INITIALIZER;
void rf__h5_lock(void) { pthread_mutex_lock(&rf__h5_mu); }
void rf__h5_unlock(void) { pthread_mutex_unlock(&rf__h5_mu); }

static int rf__h5_stream_flush(rf__h5_stream *s) {
  if (!s->npend) return 0;
  hsize_t start = s->nrows, count = s->npend, dims = s->nrows + s->npend;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  errno = 0;
  rf__h5_lock();
  int ok = H5Dset_extent(s->dset, &dims) >= 0 && (fs = H5Dget_space(s->dset)) >= 0 &&
           H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
           (ms = H5Screate_simple(1, &count, NULL)) >= 0 &&
           H5Dwrite(s->dset, s->mtype, ms, fs, H5P_DEFAULT, s->pend) >= 0;
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  char why[512] = "";
  if (!ok) snprintf(why, sizeof why, "%s", rf__io_reason());
  rf__h5_unlock();
  if (!ok) return rf__err(RF_EIO, "%s: /%s: cannot write: %s", s->path, s->t->what, why);
  rf_writeback_note(&s->wb, s->npend * s->packed_size);
  s->nrows = dims;
  s->npend = 0;
  return 0;
}

int rf__h5_stream_create(rf__h5_stream **out, const char *path, const char *format, const rf__table *t,
                         const rf_product_info *info) {
  *out = NULL;
  rf__h5_quiet();
  if (!path) return rf__err(RF_EINVAL, "%s: bad arguments", t->what);
  rf__h5_stream *s = rf__calloc(1, sizeof *s);
  if (!s) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if (t->ncols > sizeof s->run / sizeof s->run[0]) {
    rf__free(s);
    return rf__err(RF_EINVAL, "%s: %s: too many columns", path, t->what);
  }
  s->t = t;
  s->file = s->dset = s->mtype = H5I_INVALID_HID;
  s->wb.fd = -1;
  for (size_t k = 0; k < t->ncols; k++) {
    size_t w = t->cols[k].kind == RF__COL_F64 ? 8 : 4;
    if (s->nruns && s->run[s->nruns - 1].off + s->run[s->nruns - 1].len == t->cols[k].off)
      s->run[s->nruns - 1].len += w;
    else
      s->run[s->nruns].off = t->cols[k].off, s->run[s->nruns++].len = w;
    s->packed_size += w;
  }
  size_t bytes;
  if (!(s->path = rf__strdup(path)) || !(s->tmp = rf_tmp_path(path)) ||
      rf__mul_size(RF__H5_STREAM_CHUNK_ROWS, s->packed_size, &bytes) < 0 || !(s->pend = rf__malloc(bytes))) {
    rf__h5_stream_abort(s);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  hid_t fcpl = rf__h5_fcpl(), fapl = rf__h5_fapl(), dcpl = H5Pcreate(H5P_DATASET_CREATE),
        dapl = H5Pcreate(H5P_DATASET_ACCESS), sp = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
  hsize_t zero = 0, unl = H5S_UNLIMITED, chunk = RF__H5_STREAM_CHUNK_ROWS;
  errno = 0;
  int ok = fcpl >= 0 && fapl >= 0 && dcpl >= 0 && dapl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
           H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
           H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT) >= 0 &&
           (s->file = H5Fcreate(s->tmp, H5F_ACC_TRUNC, fcpl, fapl)) >= 0 &&
           rf__h5_product_attrs(s->file, format, info) >= 0 && (ftype = rf__h5_table_type(t, RF__H5_FILE, 0)) >= 0 &&
           (s->mtype = rf__h5_table_type(t, RF__H5_PACKED, 0)) >= 0 && (sp = H5Screate_simple(1, &zero, &unl)) >= 0 &&
           (s->dset = H5Dcreate2(s->file, t->what, ftype, sp, H5P_DEFAULT, dcpl, dapl)) >= 0 &&
           rf__h5_describe_table(s->file, t) >= 0;
  if (sp >= 0) H5Sclose(sp);
  if (ftype >= 0) H5Tclose(ftype);
  if (dapl >= 0) H5Pclose(dapl);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (!ok) {
    int st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__io_reason());
    rf__h5_stream_abort(s);
    return st;
  }
  void *h = NULL;
  hid_t ap = H5Fget_access_plist(s->file);
  if (ap >= 0 && H5Pget_driver(ap) == H5FD_SEC2 && H5Fget_vfd_handle(s->file, ap, &h) >= 0 && h)
    s->wb.fd = *(int *)h; /* sec2's handle is the descriptor */
  if (ap >= 0) H5Pclose(ap);
  *out = s;
  return 0;
}

int rf__h5_stream_add(rf__h5_stream *s, const void *rows, size_t n) {
  const rf__table *t = s->t;
  const char *r = rows;
  if (n && !rows) return rf__err(RF_EINVAL, "%s: bad arguments", s->path);
  for (; n; n--, r += t->row_size) {
    char *o = s->pend + s->npend * s->packed_size;
    for (size_t k = 0; k < s->nruns; k++) {
      memcpy(o, r + s->run[k].off, s->run[k].len);
      o += s->run[k].len;
    }
    int st;
    if (++s->npend == RF__H5_STREAM_CHUNK_ROWS && (st = rf__h5_stream_flush(s))) return st;
  }
  return 0;
}

int rf__h5_stream_commit(rf__h5_stream *s) {
  int st = rf__h5_stream_flush(s);
  errno = 0;
  if (!st) {
    herr_t e = H5Dclose(s->dset);
    s->dset = H5I_INVALID_HID;
    if (e < 0 || H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
      st = rf__err(RF_EIO, "%s: cannot write: %s", s->path, rf__io_reason());
  }
  if (!st) {
    herr_t e = H5Fclose(s->file);
    s->file = H5I_INVALID_HID;
    if (e < 0) st = rf__err(RF_EIO, "%s: cannot write: %s", s->path, rf__io_reason());
  }
  if (!st && !(st = rf_commit_tmp(s->tmp, s->path))) { /* fsync, rename */
    rf__free(s->tmp);
    s->tmp = NULL;
  }
  rf__h5_stream_abort(s);
  return st;
}

int rf__table_read(const char *path, const rf__table *t, void **rows, size_t *n) {
  rf__h5_quiet();
  if (rf_has_ext(path, ".h5")) return rf__h5_read_table(path, t->what, t, rows, n);
  if (rf_has_ext(path, ".csv")) return rf__csv_read(path, t, rows, n);
  return rf__err(RF_EINVAL, "%s: %s file name must end in .h5 or .csv", path, t->noun);
}
