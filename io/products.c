/* radarflow io/: plot products (formats.md "Plot file") in HDF5 and CSV.
 * Every file is written under a temporary name in the target folder,
 * fsynced and renamed; on failure nothing is left. */
#include "rf_products.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "h5util.h"

/* Longest /dwell table rf_plots_read_attrs accepts (the capture limit). */
#define RF_MAX_DWELLS_ATTR (1u << 24)

/* The plot columns in formats.md order; `dwell` is the only int32. */
static const rf__col rf__plot_cols[] = {
    {"time_s", offsetof(rf_plot, time_s), RF__COL_F64},
    {"dwell", offsetof(rf_plot, dwell), RF__COL_I32},
    {"range_m", offsetof(rf_plot, range_m), RF__COL_F64},
    {"radial_velocity_mps", offsetof(rf_plot, radial_velocity_mps), RF__COL_F64},
    {"azimuth_deg", offsetof(rf_plot, azimuth_deg), RF__COL_F64},
    {"elevation_deg", offsetof(rf_plot, elevation_deg), RF__COL_F64},
    {"snr_db", offsetof(rf_plot, snr_db), RF__COL_F64},
    {"east_m", offsetof(rf_plot, east_m), RF__COL_F64},
    {"north_m", offsetof(rf_plot, north_m), RF__COL_F64},
    {"up_m", offsetof(rf_plot, up_m), RF__COL_F64},
};
enum { RF__PLOT_COLS = sizeof rf__plot_cols / sizeof rf__plot_cols[0] };
const rf__table rf__plot_table = {"plots", "plot", rf__plot_cols, RF__PLOT_COLS, sizeof(rf_plot), RF__PLOT_COLS,
                                         NULL, 0};

int rf_plot_list_push(rf_plot_list *l, const rf_plot *p) {
  if (rf__rows_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
    return rf__err(RF_ENOMEM, "plot list: out of memory");
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
  if (e >= 0)
    e = rf__h5_describe_dset(g, "time_s", "s since " RF__H5_TIME_EPOCH,
                             "mid time of each dwell (CPI), UTC (POSIX time)");
  if (e >= 0)
    e = rf__h5_describe_dset(g, "azimuth_deg", "deg", "transmit azimuth of each dwell, clockwise from north");
  if (e >= 0)
    e = rf__h5_describe_dset(g, "elevation_deg", "deg", "transmit elevation of each dwell above the horizontal");
  H5Gclose(g);
  return e;
}

/* Built in memory and written atomically (rf__h5_image_create). */
int rf_plots_write_h5(const char *path, const rf_plot *plots, size_t n, const rf_product_info *info) {
  return rf__table_write_h5(path, "radarflow.plots", &rf__plot_table, plots, n, info, rf__write_sensor_attrs);
}

/* ---- CSV ------------------------------------------------------------------------- */
int rf_plots_write_csv(const char *path, const rf_plot *plots, size_t n) {
  return rf__csv_write(path, &rf__plot_table, plots, n);
}

int rf_plots_read(const char *path, rf_plot_list *out) {
  void *rows;
  size_t n;
  int st = rf__table_read(path, &rf__plot_table, &rows, &n);
  if (st < 0) return st;
  rf_plot_list_free(out);
  *out = (rf_plot_list){rows, n, n};
  return 0;
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
  if ((st = rf__h5_open_read(path, &fapl, &f))) goto cleanup;
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
