/* radarflow: product files (docs/formats.md, "Plot file").
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
  /* What the tracker needs to know about the sensor (extension,
   * docs/formats.md); 0 = unknown. Written as root attributes of plots.h5. */
  double radial_velocity_interval_mps; /* lambda / (2 pri_s): width of the unambiguous interval */
  double range_cell_m;                 /* c / (2 sample_rate_hz) */
  double doppler_cell_mps;             /* lambda / (2 K pri_s), K Doppler bins */
  double beamwidth_az_deg;             /* 3 dB receive beamwidth across azimuth */
  double beamwidth_el_deg;             /* across elevation; 0 also when not measured (linear array) */
  double coverage_az_deg, coverage_el_deg; /* half-widths of a dwell's receive beam fan */
  /* Mid time and transmit direction of each dwell (borrowed); written as
   * /dwell/time_s, /dwell/azimuth_deg and /dwell/elevation_deg when
   * dwells > 0. */
  size_t dwells;
  const double *dwell_time_s, *dwell_azimuth_deg, *dwell_elevation_deg;
} rf_product_info;

/* The same, read back from a plots.h5 (rf_plots_read_attrs). Arrays owned. */
typedef struct rf_plots_attrs {
  char source_path[1024], radar_name[256];
  double site_latitude_deg, site_longitude_deg, site_altitude_m;
  double radial_velocity_interval_mps, range_cell_m, doppler_cell_mps;
  double beamwidth_az_deg, beamwidth_el_deg, coverage_az_deg, coverage_el_deg;
  size_t dwells;
  double *dwell_time_s, *dwell_azimuth_deg, *dwell_elevation_deg;
} rf_plots_attrs;
/* Reads the root attributes (and /dwell) of a plots.h5; absent ones are 0
 * (site, sensor) or empty. RF_EFORMAT naming the file and field. */
int rf_plots_read_attrs(const char *path, rf_plots_attrs *a);
void rf_plots_attrs_free(rf_plots_attrs *a);     /* frees the arrays; NULL is a no-op */

/* HDF5: compound dataset /plots. RF_EIO naming the file on failure, and no
 * file is left at `path`. */
int rf_plots_write_h5(const char *path, const rf_plot *plots, size_t n,
                      const rf_product_info *info);
/* CSV: header row with the exact column names, then one row per plot;
 * doubles printed with %.17g so they round-trip. */
int rf_plots_write_csv(const char *path, const rf_plot *plots, size_t n);
/* Reads a plot file written by either writer (chosen by extension .h5/.csv).
 * On success *out (freed first) holds the plots; on failure it is unchanged. */
int rf_plots_read(const char *path, rf_plot_list *out);

/* rf_write_file_atomic and the other file utilities: host/rf_files.h. */

#endif
