/* radarflow io/: plots.h5 read in slices (rf_plot_reader.h). */
#include "rf_plot_reader.h"

#include <string.h>

#include "h5util.h"

const char *const rf_plot_reader_attr_names[] = {
    "site_latitude_deg", "site_longitude_deg", "site_altitude_m", "radial_velocity_interval_mps",
    "range_cell_m",      "doppler_cell_mps",   "beamwidth_az_deg", "beamwidth_el_deg", NULL};

struct rf_plot_reader {
  char *path;
  hid_t fapl, file, dset, mtype, ktype;
  hsize_t rows;
};

/* Key columns as they are read for the first pass. */
typedef struct rf__plot_key {
  double time_s;
  int32_t dwell;
} rf__plot_key;

void rf_plot_reader_close(rf_plot_reader *r) {
  if (!r) return;
  if (r->ktype >= 0) H5Tclose(r->ktype);
  if (r->mtype >= 0) H5Tclose(r->mtype);
  if (r->dset >= 0) H5Dclose(r->dset);
  if (r->file >= 0) H5Fclose(r->file);
  if (r->fapl >= 0) H5Pclose(r->fapl);
  rf__free(r->path);
  rf__free(r);
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
  r->fapl = r->file = r->dset = r->mtype = r->ktype = H5I_INVALID_HID;
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
  if ((r->mtype = rf__h5_table_type(&rf__plot_table, 0, 0)) < 0) {
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
  hid_t fs = H5Dget_space(r->dset), ms = H5Screate_simple(1, &count, NULL);
  int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
           H5Dread(r->dset, mt, ms, fs, H5P_DEFAULT, buf) >= 0;
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  return ok ? 0 : rf__err(RF_EFORMAT, "%s: /plots: cannot read: %s", r->path, rf__h5_errdesc());
}

int rf_plot_reader_read(rf_plot_reader *r, size_t first, size_t n, rf_plot *out) {
  return rf__read_slice(r, r->mtype, first, n, out);
}

int rf_plot_reader_read_keys(rf_plot_reader *r, size_t first, size_t n, double *time_s, int32_t *dwell) {
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
