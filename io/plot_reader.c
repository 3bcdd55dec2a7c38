/* radarflow io/: plots.h5 read in slices (rf_plot_reader.h). */
#include "rf_plot_reader.h"

#include <string.h>

#include "h5util.h"

const char *const rf_plot_reader_attr_names[] = {
    "site_latitude_deg", "site_longitude_deg", "site_altitude_m", "radial_velocity_interval_mps",
    "range_cell_m",      "doppler_cell_mps",   "beamwidth_az_deg", "beamwidth_el_deg", NULL};

/* Rows read a slice at a time in the file's own type (no conversion),
 * then unpacked here. */
#define RF__RAW_ROWS 16384

struct rf_plot_reader {
  char *path;
  hid_t fapl, file, dset, mtype, ktype;
  hsize_t rows;
  /* When every column is stored as a native double or int32: the file's
   * type read as is (HDF5 converts nothing), each column's offset in it
   * and a slice buffer; else raw_type < 0 and HDF5 converts. */
  hid_t raw_type;
  size_t raw_size, raw_off[32];
  char *raw;
};

/* Key columns as they are read for the first pass. */
typedef struct rf__plot_key {
  double time_s;
  int32_t dwell;
} rf__plot_key;

void rf_plot_reader_close(rf_plot_reader *r) {
  if (!r) return;
  if (r->raw_type >= 0) H5Tclose(r->raw_type);
  rf__free(r->raw);
  if (r->ktype >= 0) H5Tclose(r->ktype);
  if (r->mtype >= 0) H5Tclose(r->mtype);
  if (r->dset >= 0) H5Dclose(r->dset);
  if (r->file >= 0) H5Fclose(r->file);
  if (r->fapl >= 0) H5Pclose(r->fapl);
  rf__free(r->path);
  rf__free(r);
}

/* Sets up the unconverted read when file type ft stores every column as
 * the native type of its kind (radarflow's own files on a little-endian
 * host, and most others). */
static int rf__raw_layout(rf_plot_reader *r, hid_t ft) {
  const rf__table *tb = &rf__plot_table;
  if (tb->ncols > sizeof r->raw_off / sizeof r->raw_off[0]) return 0;
  int ok = 1;
  for (size_t k = 0; ok && k < tb->ncols; k++) {
    int i = H5Tget_member_index(ft, tb->cols[k].name);
    hid_t mt = i < 0 ? H5I_INVALID_HID : H5Tget_member_type(ft, (unsigned)i);
    hid_t want = tb->cols[k].kind == RF__COL_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
    ok = mt >= 0 && tb->cols[k].kind != RF__COL_WORD && H5Tequal(mt, want) > 0;
    if (ok) r->raw_off[k] = H5Tget_member_offset(ft, (unsigned)i);
    if (mt >= 0) H5Tclose(mt);
  }
  if (!ok) return 0;
  r->raw_size = H5Tget_size(ft);
  if (!r->raw_size || (r->raw_type = H5Tcopy(ft)) < 0 || !(r->raw = rf__malloc(RF__RAW_ROWS * r->raw_size))) {
    if (r->raw_type >= 0) H5Tclose(r->raw_type);
    r->raw_type = H5I_INVALID_HID;
    return rf__err(RF_ENOMEM, "%s: out of memory", r->path);
  }
  return 0;
}

int rf_plot_reader_open(rf_plot_reader **out, const char *path, unsigned *present) {
  *out = NULL;
  *present = 0;
  rf__h5_quiet();
  rf_plot_reader *r = rf__calloc(1, sizeof *r);
  size_t l = strlen(path) + 1;
  if (!r || !(r->path = rf__malloc(l))) {
    rf__free(r);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  memcpy(r->path, path, l);
  r->fapl = r->file = r->dset = r->mtype = r->ktype = r->raw_type = H5I_INVALID_HID;
  int st = 0;
  hid_t t = H5I_INVALID_HID;
  if ((st = rf__h5_open_read(path, &r->fapl, &r->file))) goto done;
  if ((st = rf__h5_open_dset(r->file, path, "/plots", "plots", &r->dset, NULL)) < 0 ||
      (st = rf__h5_dims(r->dset, path, "/plots", 1, &r->rows)) < 0)
    goto done;
  t = H5Dget_type(r->dset);
  if (t < 0 || H5Tget_class(t) != H5T_COMPOUND) {
    st = rf__err(RF_EFORMAT, "%s: /plots: must be a compound dataset", path);
    goto done;
  }
  if ((r->mtype = rf__h5_table_type(&rf__plot_table, RF__H5_MEM, 0)) < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (size_t k = 0; k < rf__plot_table.ncols; k++)
    if (H5Tget_member_index(t, rf__plot_table.cols[k].name) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /plots: missing column %s", path, rf__plot_table.cols[k].name);
      goto done;
    }
  r->ktype = H5Tcreate(H5T_COMPOUND, sizeof(rf__plot_key));
  if (r->ktype < 0 || H5Tinsert(r->ktype, "time_s", offsetof(rf__plot_key, time_s), H5T_NATIVE_DOUBLE) < 0 ||
      H5Tinsert(r->ktype, "dwell", offsetof(rf__plot_key, dwell), H5T_NATIVE_INT32) < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  if ((st = rf__raw_layout(r, t))) goto done;
  for (unsigned k = 0; rf_plot_reader_attr_names[k]; k++)
    if (H5Aexists(r->file, rf_plot_reader_attr_names[k]) > 0) *present |= 1u << k;
done:
  if (t >= 0) H5Tclose(t);
  if (st) {
    rf_plot_reader_close(r);
    return st;
  }
  *out = r;
  return 0;
}

size_t rf_plot_reader_rows(const rf_plot_reader *r) { return (size_t)r->rows; }

/* Reads rows [first, first + n) with memory type mt into buf. */
static int rf__read_slice(rf_plot_reader *r, hid_t mt, size_t first, size_t n, void *buf) {
  if (!n) return 0;
  if (first > r->rows || n > r->rows - first)
    return rf__err(RF_EINVAL, "%s: /plots: rows %zu..%zu beyond its %zu", r->path, first, first + n,
                   (size_t)r->rows);
  hsize_t start = first, count = n;
  rf__h5_lock(); /* track's writer thread may be in HDF5 */
  hid_t fs = H5Dget_space(r->dset), ms = H5Screate_simple(1, &count, NULL);
  int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
           H5Dread(r->dset, mt, ms, fs, H5P_DEFAULT, buf) >= 0;
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  int st = ok ? 0 : rf__err(RF_EFORMAT, "%s: /plots: cannot read: %s", r->path, rf__h5_errdesc());
  rf__h5_unlock();
  return st;
}

/* Rows [first, first + n) through the raw slice buffer: each slice is
 * read, then plot-table column cols[c] of row i is copied to dst[c] +
 * (i - first) * stride[c], for ncols columns. */
static int rf__read_raw(rf_plot_reader *r, size_t first, size_t n, int ncols, const int *cols, char *const *dst,
                        const size_t *stride) {
  for (size_t done = 0; done < n;) {
    size_t m = n - done < RF__RAW_ROWS ? n - done : RF__RAW_ROWS;
    int st = rf__read_slice(r, r->raw_type, first + done, m, r->raw);
    if (st) return st;
    for (int c = 0; c < ncols; c++) {
      const size_t off = r->raw_off[cols[c]];
      char *d = dst[c] + done * stride[c];
      const char *src = r->raw + off;
      /* Fixed-size copies (a variable size is a call each). */
      if (rf__plot_table.cols[cols[c]].kind == RF__COL_F64)
        for (size_t i = 0; i < m; i++) memcpy(d + i * stride[c], src + i * r->raw_size, 8);
      else
        for (size_t i = 0; i < m; i++) memcpy(d + i * stride[c], src + i * r->raw_size, 4);
    }
    done += m;
  }
  return 0;
}

int rf_plot_reader_read(rf_plot_reader *r, size_t first, size_t n, rf_plot *out) {
  if (r->raw_type < 0) return rf__read_slice(r, r->mtype, first, n, out);
  int cols[32];
  char *dst[32];
  size_t stride[32];
  const int nc = (int)rf__plot_table.ncols;
  for (int k = 0; k < nc; k++) cols[k] = k, dst[k] = (char *)out + rf__plot_table.cols[k].off, stride[k] = sizeof *out;
  return rf__read_raw(r, first, n, nc, cols, dst, stride);
}

int rf_plot_reader_read_keys(rf_plot_reader *r, size_t first, size_t n, double *time_s, int32_t *dwell) {
  if (r->raw_type >= 0) { /* both columns straight out of each raw slice */
    int cols[2] = {-1, -1};
    for (size_t c = 0; c < rf__plot_table.ncols; c++) {
      if (!strcmp(rf__plot_table.cols[c].name, "time_s")) cols[0] = (int)c;
      if (!strcmp(rf__plot_table.cols[c].name, "dwell")) cols[1] = (int)c;
    }
    char *dst[2] = {(char *)time_s, (char *)dwell};
    const size_t stride[2] = {sizeof *time_s, sizeof *dwell};
    if (cols[0] >= 0 && cols[1] >= 0) return rf__read_raw(r, first, n, 2, cols, dst, stride);
  }
  enum { CHUNK = 4096 };
  rf__plot_key k[CHUNK];
  for (size_t done = 0; done < n;) {
    size_t m = n - done < CHUNK ? n - done : CHUNK;
    int st = rf__read_slice(r, r->ktype, first + done, m, k);
    if (st) return st;
    for (size_t i = 0; i < m; i++) time_s[done + i] = k[i].time_s, dwell[done + i] = k[i].dwell;
    done += m;
  }
  return 0;
}
