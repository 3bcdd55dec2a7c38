/* radarflow: product files (../shared/spec/formats.md, "Plot file").
 * Each file is written under a temporary name in the same folder and renamed
 * into place only when complete. */
#ifndef RF_PRODUCTS_H
#define RF_PRODUCTS_H

#include "../host/rf_common.h"

/* One plot row, columns exactly as formats.md. */
typedef struct rf_plot {
  double time_s;
  int32_t dwell;
  double range_m;
  double radial_velocity_mps;
  double azimuth_deg;
  double elevation_deg;
  double snr_db;
  double east_m, north_m, up_m;
} rf_plot;

/* Growable list of plots (owned). */
typedef struct rf_plot_list {
  rf_plot *v;
  size_t n, cap;
} rf_plot_list;
int rf_plot_list_push(rf_plot_list *l, const rf_plot *p);
void rf_plot_list_free(rf_plot_list *l);

/* Provenance written as root attributes of the HDF5 products (extension,
 * docs/formats.md). Strings are borrowed. */
typedef struct rf_product_info {
  const char *source_path;      /* capture the products came from */
  const char *radar_name;
  double site_latitude_deg, site_longitude_deg, site_altitude_m;
} rf_product_info;

/* HDF5: compound dataset /plots. RF_EIO naming the file on failure, and no
 * file is left at `path`. */
int rf_plots_write_h5(const char *path, const rf_plot *plots, size_t n,
                      const rf_product_info *info);
/* CSV: header row with the exact column names, then one row per plot;
 * doubles printed with %.17g so they round-trip. */
int rf_plots_write_csv(const char *path, const rf_plot *plots, size_t n);
/* Reads a plot file written by either writer (chosen by extension .h5/.csv). */
int rf_plots_read(const char *path, rf_plot_list *out);

/* Writes `len` bytes to path atomically (temp name + rename). */
int rf_write_file_atomic(const char *path, const void *data, size_t len);

#endif
