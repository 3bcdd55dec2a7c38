/* radarflow io/: plot products (formats.md "Plot file") in HDF5 and CSV, and
 * the atomic file writer. Every file is written under a temporary name in
 * the target folder, fsynced and renamed; on failure nothing is left. */
#include "rf_products.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "h5util.h"

#define RF_PLOT_LIST_MIN_CAP 64
/* Longest CSV line the reader accepts: 10 numbers of at most ~25 chars. */
#define RF_CSV_LINE_MAX 1024
/* Longest /dwell table rf_plots_read_attrs accepts (the capture limit). */
#define RF_MAX_DWELLS_ATTR (1u << 24)

static const char rf__csv_header[] =
    "time_s,dwell,range_m,radial_velocity_mps,azimuth_deg,elevation_deg,snr_db,east_m,north_m,up_m";

/* The plot columns in formats.md order; `dwell` is the only int32. */
static const struct {
  const char *name;
  size_t off;
} rf__cols[] = {
    {"time_s", offsetof(rf_plot, time_s)},
    {"dwell", offsetof(rf_plot, dwell)},
    {"range_m", offsetof(rf_plot, range_m)},
    {"radial_velocity_mps", offsetof(rf_plot, radial_velocity_mps)},
    {"azimuth_deg", offsetof(rf_plot, azimuth_deg)},
    {"elevation_deg", offsetof(rf_plot, elevation_deg)},
    {"snr_db", offsetof(rf_plot, snr_db)},
    {"east_m", offsetof(rf_plot, east_m)},
    {"north_m", offsetof(rf_plot, north_m)},
    {"up_m", offsetof(rf_plot, up_m)},
};
enum { RF__NCOLS = sizeof rf__cols / sizeof rf__cols[0] };
#define RF__IS_DWELL(k) ((k) == 1)

int rf_plot_list_push(rf_plot_list *l, const rf_plot *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : RF_PLOT_LIST_MIN_CAP, bytes;
    rf_plot *v;
    if (cap < l->cap || rf__mul_size(cap, sizeof *v, &bytes) < 0 || !(v = rf__realloc(l->v, bytes)))
      return rf__err(RF_ENOMEM, "plot list: out of memory");
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *p;
  return 0;
}

void rf_plot_list_free(rf_plot_list *l) {
  if (!l) return;
  rf__free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* ---- HDF5 ------------------------------------------------------------------------ */
/* The compound type of rf_plot: in memory (native, struct layout) or in the
 * file (little-endian, packed, formats.md order). */
hid_t rf__plot_type(int file) {
  size_t size = file ? RF__NCOLS * 8 - 4 : sizeof(rf_plot), off = 0;
  hid_t t = H5Tcreate(H5T_COMPOUND, size);
  if (t < 0) return t;
  for (int k = 0; k < RF__NCOLS; k++) {
    hid_t mt = RF__IS_DWELL(k) ? (file ? H5T_STD_I32LE : H5T_NATIVE_INT32)
                               : (file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    if (H5Tinsert(t, rf__cols[k].name, file ? off : rf__cols[k].off, mt) < 0) {
      H5Tclose(t);
      return H5I_INVALID_HID;
    }
    off += RF__IS_DWELL(k) ? 4 : 8;
  }
  return t;
}

/* The sensor attributes and the /dwell table of rf_product_info. */
static const struct {
  const char *name;
  size_t off;
} rf__sensor_attrs[] = {
    {"radial_velocity_interval_mps", offsetof(rf_product_info, radial_velocity_interval_mps)},
    {"range_cell_m", offsetof(rf_product_info, range_cell_m)},
    {"doppler_cell_mps", offsetof(rf_product_info, doppler_cell_mps)},
    {"beamwidth_az_deg", offsetof(rf_product_info, beamwidth_az_deg)},
    {"beamwidth_el_deg", offsetof(rf_product_info, beamwidth_el_deg)},
    {"coverage_az_deg", offsetof(rf_product_info, coverage_az_deg)},
    {"coverage_el_deg", offsetof(rf_product_info, coverage_el_deg)},
};
enum { RF__NSENSOR = sizeof rf__sensor_attrs / sizeof rf__sensor_attrs[0] };

static herr_t rf__write_sensor_attrs(hid_t f, const rf_product_info *info) {
  for (int k = 0; k < RF__NSENSOR; k++)
    if (rf__h5_write_attr_double(f, rf__sensor_attrs[k].name,
                                 *(const double *)((const char *)info + rf__sensor_attrs[k].off)) < 0)
      return -1;
  if (info->dwells == 0) return 0;
  if (!info->dwell_time_s || !info->dwell_azimuth_deg || !info->dwell_elevation_deg) return -1;
  hsize_t dims[1] = {info->dwells};
  hid_t g = rf__h5_create_group(f, "dwell");
  if (g < 0) return -1;
  herr_t e = rf__h5_write_dset(g, "time_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims,
                               info->dwell_time_s);
  if (e >= 0)
    e = rf__h5_write_dset(g, "azimuth_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims,
                          info->dwell_azimuth_deg);
  if (e >= 0)
    e = rf__h5_write_dset(g, "elevation_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims,
                          info->dwell_elevation_deg);
  H5Gclose(g);
  return e;
}

/* Built in memory and written atomically (rf__h5_image_create). */
int rf_plots_write_h5(const char *path, const rf_plot *plots, size_t n, const rf_product_info *info) {
  hid_t f, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  rf__h5_quiet();
  if (!path || (n && !plots)) return rf__err(RF_EINVAL, "plots: bad arguments");
  int st = rf__h5_image_create(&f, path, "radarflow.plots", info);
  if (st) return st;
  hsize_t dims[1] = {n};
  if ((info && rf__write_sensor_attrs(f, info) < 0) || (ft = rf__plot_type(1)) < 0 ||
      (mt = rf__plot_type(0)) < 0 || rf__h5_write_dset(f, "plots", ft, mt, 1, dims, plots) < 0)
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (st) {
    H5Fclose(f);
    return st;
  }
  return rf__h5_image_commit(f, path);
}

static int rf__plots_read_h5(const char *path, rf_plot_list *l) {
  hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, d = H5I_INVALID_HID, t = H5I_INVALID_HID,
        mt = H5I_INVALID_HID;
  hsize_t n;
  int st = 0;
  if ((fapl = rf__h5_fapl()) < 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  if ((st = rf__h5_open_dset(f, path, "/plots", "plots", &d, NULL)) < 0 ||
      (st = rf__h5_dims(d, path, "/plots", 1, &n)) < 0)
    goto cleanup;
  t = H5Dget_type(d);
  if (t < 0 || H5Tget_class(t) != H5T_COMPOUND) {
    st = rf__err(RF_EFORMAT, "%s: /plots: must be a compound dataset", path);
    goto cleanup;
  }
  for (int k = 0; k < RF__NCOLS; k++)
    if (H5Tget_member_index(t, rf__cols[k].name) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /plots: missing column %s", path, rf__cols[k].name);
      goto cleanup;
    }
  size_t bytes;
  if (n > 0) {
    if (rf__mul_size((size_t)n, sizeof(rf_plot), &bytes) < 0 || !(l->v = rf__malloc(bytes))) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", path);
      goto cleanup;
    }
    l->cap = (size_t)n;
    if ((mt = rf__plot_type(0)) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, l->v) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /plots: cannot read: %s", path, rf__h5_errdesc());
      goto cleanup;
    }
    l->n = (size_t)n;
  }
cleanup:
  if (mt >= 0) H5Tclose(mt);
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  return st;
}

/* ---- CSV ------------------------------------------------------------------------- */
int rf_plots_write_csv(const char *path, const rf_plot *plots, size_t n) {
  char *tmp = NULL;
  FILE *fp = NULL;
  rf__c_locale loc;
  int st = 0, have_loc = 0;
  if (!path || (n && !plots)) return rf__err(RF_EINVAL, "plots: bad arguments");
  if (!(tmp = rf__tmp_path(path))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if (rf__c_locale_enter(&loc) < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  have_loc = 1;
  errno = 0;
  if (!(fp = fopen(tmp, "w"))) goto fail;
  int bad = fprintf(fp, "%s\n", rf__csv_header) < 0;
  for (size_t i = 0; i < n && !bad; i++) {
    const rf_plot *p = &plots[i];
    bad = fprintf(fp, "%.17g,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", p->time_s,
                  (int)p->dwell, p->range_m, p->radial_velocity_mps, p->azimuth_deg, p->elevation_deg,
                  p->snr_db, p->east_m, p->north_m, p->up_m) < 0;
  }
  if (bad || fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) goto fail;
  int cr = fclose(fp);
  fp = NULL;
  if (cr != 0) goto fail;
  st = rf__commit_tmp(tmp, path);
  rf__free(tmp);
  tmp = NULL;
  goto cleanup;
fail:
  st = rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
cleanup:
  if (fp) fclose(fp);
  if (tmp) unlink(tmp);
  rf__free(tmp);
  if (have_loc) rf__c_locale_leave(&loc);
  return st;
}

/* Parses one CSV row of 10 fields into p; 0 or -1. */
static int rf__parse_row(char *s, rf_plot *p) {
  for (int k = 0; k < RF__NCOLS; k++) {
    char *end;
    errno = 0;
    if (RF__IS_DWELL(k)) {
      long v = strtol(s, &end, 10);
      if (errno || v < INT32_MIN || v > INT32_MAX) return -1;
      p->dwell = (int32_t)v;
    } else {
      *(double *)((char *)p + rf__cols[k].off) = strtod(s, &end);
    }
    if (end == s || *end != (k + 1 < RF__NCOLS ? ',' : '\0')) return -1;
    s = end + 1;
  }
  return 0;
}

static int rf__plots_read_csv(const char *path, rf_plot_list *l) {
  FILE *fp = fopen(path, "r");
  char line[RF_CSV_LINE_MAX];
  rf__c_locale loc;
  size_t lineno = 0;
  int st = 0;
  if (!fp) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  if (rf__c_locale_enter(&loc) < 0) {
    fclose(fp);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  while (fgets(line, sizeof line, fp)) {
    size_t len = strlen(line);
    lineno++;
    if (len == 0 || line[len - 1] != '\n') {
      if (!feof(fp) || len + 1 >= sizeof line) {
        st = rf__err(RF_EFORMAT, "%s: line %zu: too long", path, lineno);
        break;
      }
    } else {
      line[--len] = 0;
    }
    if (len && line[len - 1] == '\r') line[--len] = 0;
    if (lineno == 1) {
      if (strcmp(line, rf__csv_header) != 0) {
        st = rf__err(RF_EFORMAT, "%s: line 1: header must be \"%s\"", path, rf__csv_header);
        break;
      }
      continue;
    }
    if (len == 0) continue;
    rf_plot p;
    if (rf__parse_row(line, &p) < 0) {
      st = rf__err(RF_EFORMAT, "%s: line %zu: expected %d comma-separated numbers", path, lineno, RF__NCOLS);
      break;
    }
    if ((st = rf_plot_list_push(l, &p)) < 0) break;
  }
  if (st == 0 && ferror(fp)) st = rf__err(RF_EFORMAT, "%s: cannot read: %s", path, strerror(errno));
  if (st == 0 && lineno == 0) st = rf__err(RF_EFORMAT, "%s: line 1: missing header", path);
  rf__c_locale_leave(&loc);
  fclose(fp);
  return st;
}

int rf_plots_read(const char *path, rf_plot_list *out) {
  rf_plot_list l = {0};
  int st;
  rf__h5_quiet();
  if (rf__has_ext(path, ".h5")) st = rf__plots_read_h5(path, &l);
  else if (rf__has_ext(path, ".csv")) st = rf__plots_read_csv(path, &l);
  else return rf__err(RF_EINVAL, "%s: plot file name must end in .h5 or .csv", path);
  if (st < 0) {
    rf_plot_list_free(&l);
    return st;
  }
  rf_plot_list_free(out);
  *out = l;
  return 0;
}

/* ---- raw files --------------------------------------------------------------------- */
int rf_write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp;
  int fd = -1, st = 0;
  const char *p = data;
  if (!path || (len && !data)) return rf__err(RF_EINVAL, "write file: bad arguments");
  if (!(tmp = rf__tmp_path(path))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) goto fail;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      goto fail;
    }
    p += w;
    len -= (size_t)w;
  }
  int cr = close(fd);
  fd = -1;
  if (cr < 0) goto fail;
  st = rf__commit_tmp(tmp, path); /* fsyncs, renames, removes tmp on failure */
  rf__free(tmp);
  return st;
fail:
  st = rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
  unlink(tmp);
  rf__free(tmp);
  return st;
}

/* ---- plots.h5 attributes ------------------------------------------------------------ */
void rf_plots_attrs_free(rf_plots_attrs *a) {
  if (!a) return;
  rf__free(a->dwell_time_s);
  rf__free(a->dwell_azimuth_deg);
  rf__free(a->dwell_elevation_deg);
  a->dwell_time_s = a->dwell_azimuth_deg = a->dwell_elevation_deg = NULL;
  a->dwells = 0;
}

int rf_plots_read_attrs(const char *path, rf_plots_attrs *out) {
  hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, g = H5I_INVALID_HID, d1 = H5I_INVALID_HID,
        d2 = H5I_INVALID_HID, d0 = H5I_INVALID_HID;
  rf_plots_attrs a;
  int st = 0, present;
  memset(&a, 0, sizeof a);
  rf__h5_quiet();
  if ((fapl = rf__h5_fapl()) < 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  if ((st = rf__h5_attr_string(f, path, "/", "source_path", a.source_path, sizeof a.source_path, &present)) ||
      (st = rf__h5_attr_string(f, path, "/", "radar_name", a.radar_name, sizeof a.radar_name, &present)) ||
      (st = rf__h5_attr_double(f, path, "/", "site_latitude_deg", &a.site_latitude_deg, &present)) ||
      (st = rf__h5_attr_double(f, path, "/", "site_longitude_deg", &a.site_longitude_deg, &present)) ||
      (st = rf__h5_attr_double(f, path, "/", "site_altitude_m", &a.site_altitude_m, &present)))
    goto cleanup;
  for (int k = 0; k < RF__NSENSOR; k++) {
    /* rf_plots_attrs holds the same doubles in the same order after the site. */
    double *v = &a.radial_velocity_interval_mps + k;
    if ((st = rf__h5_attr_double(f, path, "/", rf__sensor_attrs[k].name, v, &present))) goto cleanup;
    if (!isfinite(*v) || *v < 0) {
      st = rf__err(RF_EFORMAT, "%s: /: %s must be finite and >= 0", path, rf__sensor_attrs[k].name);
      goto cleanup;
    }
  }
  if (rf__h5_has(f, "dwell") == 1) {
    hsize_t n0, n1, n2;
    if ((g = H5Gopen2(f, "dwell", H5P_DEFAULT)) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /dwell: cannot open", path);
      goto cleanup;
    }
    if ((st = rf__h5_open_dset(g, path, "/dwell/time_s", "time_s", &d0, NULL)) ||
        (st = rf__h5_dims(d0, path, "/dwell/time_s", 1, &n0)) ||
        (st = rf__h5_open_dset(g, path, "/dwell/azimuth_deg", "azimuth_deg", &d1, NULL)) ||
        (st = rf__h5_open_dset(g, path, "/dwell/elevation_deg", "elevation_deg", &d2, NULL)) ||
        (st = rf__h5_dims(d1, path, "/dwell/azimuth_deg", 1, &n1)) ||
        (st = rf__h5_dims(d2, path, "/dwell/elevation_deg", 1, &n2)))
      goto cleanup;
    if (n0 != n1 || n1 != n2 || n1 > RF_MAX_DWELLS_ATTR) {
      st = rf__err(RF_EFORMAT, "%s: /dwell: datasets differ in length or are too long", path);
      goto cleanup;
    }
    if (n1 > 0) {
      a.dwell_time_s = rf__malloc((size_t)n1 * sizeof(double));
      a.dwell_azimuth_deg = rf__malloc((size_t)n1 * sizeof(double));
      a.dwell_elevation_deg = rf__malloc((size_t)n1 * sizeof(double));
      if (!a.dwell_time_s || !a.dwell_azimuth_deg || !a.dwell_elevation_deg) {
        st = rf__err(RF_ENOMEM, "%s: out of memory", path);
        goto cleanup;
      }
      if ((st = rf__h5_read_double(d0, path, "/dwell/time_s", a.dwell_time_s)) ||
          (st = rf__h5_read_double(d1, path, "/dwell/azimuth_deg", a.dwell_azimuth_deg)) ||
          (st = rf__h5_read_double(d2, path, "/dwell/elevation_deg", a.dwell_elevation_deg)))
        goto cleanup;
      a.dwells = (size_t)n1;
    }
  }
cleanup:
  if (d0 >= 0) H5Dclose(d0);
  if (d2 >= 0) H5Dclose(d2);
  if (d1 >= 0) H5Dclose(d1);
  if (g >= 0) H5Gclose(g);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  if (st) {
    rf_plots_attrs_free(&a);
    return st;
  }
  *out = a;
  return 0;
}
