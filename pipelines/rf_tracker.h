/* radarflow: the multi-target tracker (docs/tracking.md). Plots in, track
 * rows out (io/rf_tracks.h). Extended Kalman filters on the state
 * (east, north, up, v_east, v_north, v_up) in site ENU, measured in range,
 * azimuth, elevation and radial velocity; nearly-constant-velocity and
 * ballistic models, alone or as an IMM; chi-square gates; global nearest
 * neighbour by optimal assignment (rf_assign.h); M-of-N confirmation;
 * deletion on misses or covariance growth. */
#ifndef RF_TRACKER_H
#define RF_TRACKER_H

#include "../host/rf_geodesy.h"
#include "../io/rf_capture.h"
#include "../io/rf_products.h"
#include "../io/rf_tracks.h"
#include "rf_config.h"

/* What the tracker knows about the sensor. Filled by the caller (from the
 * capture, a plots.h5 or the config); arrays are borrowed. */
typedef struct rf_track_sensor {
  double velocity_interval_mps;  /* lambda / (2 pri): plots' radial velocity is known only
                                    modulo this; 0 = unambiguous */
  double range_cell_m;           /* > 0: range sigma scale */
  double doppler_cell_mps;       /* > 0: radial velocity sigma scale */
  double beamwidth_az_deg;       /* > 0: azimuth sigma scale */
  double beamwidth_el_deg;       /* > 0: elevation sigma scale; 0: elevation not measured */
  /* Looks: a dwell looks at a track when the track's predicted direction is
   * within coverage_az_deg / coverage_el_deg (half-widths) of the dwell's
   * transmit direction. 0 (or no dwell table): every dwell looks at every
   * track (0 in elevation alone: no elevation limit). */
  double coverage_az_deg, coverage_el_deg;
  size_t dwells;                 /* dwell table (may be 0): mid time and transmit direction; */
  const double *dwell_time_s;    /* dwells without plots still count as looks */
  const double *dwell_azimuth_deg, *dwell_elevation_deg;
  double site_latitude_deg, site_longitude_deg, site_altitude_m;
} rf_track_sensor;

/* From a capture and the processing settings: lambda = c / f_c, interval
 * lambda / (2 pri), range cell c / (2 fs), Doppler cell lambda / (2 K pri)
 * with K the pipeline's Doppler bins, beamwidths (rf_beamwidth_deg at the
 * first dwell's direction, with the configured taper) and the receive fan's
 * half-widths; the dwell directions are borrowed from m, dwell_time_s is
 * left NULL for the caller to point at rf_track_dwell_mid_times. */
void rf_track_sensor_from_meta(rf_track_sensor *s, const rf_capture_meta *m, const rf_config *cfg);
/* Mid time of every dwell ((first + last pulse time) / 2) into out[m->dwells],
 * for the sensor's dwell_time_s. */
void rf_track_dwell_mid_times(const rf_capture_meta *m, double *out);
/* From plots.h5 provenance (rf_product_info or what rf_plots_read_attrs
 * gives); zeros (unknown) are replaced by the [tracker] / [site] settings. */
void rf_track_sensor_from_info(rf_track_sensor *s, const rf_product_info *info,
                               const rf_config *cfg);
/* The reverse, for writing plots.h5: fills info's sensor fields and dwell
 * table (borrowed from s). */
void rf_track_sensor_to_info(const rf_track_sensor *s, rf_product_info *info);

typedef struct rf_tracker rf_tracker;

/* Allocates everything for up to cfg->trk_max_tracks tracks (capped at
 * max_tracks when that is > 0) and max_plots plots per dwell. The sensor
 * is copied (its dwell table stays borrowed). */
int rf_tracker_create(rf_tracker **t, const rf_config *cfg, const rf_track_sensor *s,
                      size_t max_tracks, size_t max_plots);
void rf_tracker_destroy(rf_tracker *t);          /* NULL is a no-op */

/* Processes one dwell at time_s (the dwell's mid time, not earlier than the
 * previous call's): plots (borrowed, n may be 0) all belong to it; dwell
 * indexes the sensor's dwell table (-1: none). Writes one row per track the dwell looked
 * at (updated, coasted, or deleted) or created into rows (up to max_rows;
 * RF_ERANGE beyond). RF_ERANGE also when a capacity is exceeded (message
 * names the setting). Never allocates. */
int rf_tracker_process_dwell(rf_tracker *t, double time_s, int32_t dwell, const rf_plot *plots,
                             size_t n, rf_track_row *rows, size_t max_rows, size_t *nrows);
/* Rows needed at most by one process_dwell call. */
size_t rf_tracker_max_rows(const rf_tracker *t);
/* Tracks alive now, and ids given so far. */
size_t rf_tracker_live(const rf_tracker *t);

/* The whole plot list (ordered by time) through a tracker; rows appended to
 * out. */
int rf_track_plots(const rf_plot *plots, size_t n, const rf_config *cfg, const rf_track_sensor *s,
                   rf_track_list *out);

/* Runs the tracker over plots (ordered by time) and writes outdir/tracks.h5,
 * tracks.csv, plots.ast (CAT048 plots) and tracks.ast (CAT048 track reports
 * and CAT062 system tracks): all four or none. The sensor comes from info
 * (rf_track_sensor_from_info); ambiguity_mps_or_0, when > 0, overrides its
 * velocity interval. *ntracks (may be NULL) gets the number of distinct
 * tracks. */
int rf_track_products(const rf_plot *plots, size_t n, const rf_config *cfg,
                      const rf_product_info *info, double ambiguity_mps_or_0, const char *outdir,
                      size_t *ntracks);
/* The same with an explicit sensor. */
int rf_track_products_sensor(const rf_plot *plots, size_t n, const rf_config *cfg,
                             const rf_track_sensor *s, const rf_product_info *info,
                             const char *outdir, size_t *ntracks);

/* Tracks of a run, by track id: ids in all; confirmed (confirmed at some
 * update) and tentative (never confirmed) add up to ids; deleted: ids whose
 * last row is `deleted` (of either kind). */
typedef struct rf_track_counts {
  size_t ids, confirmed, tentative, deleted;
} rf_track_counts;
/* Counts the ids of rows (any order); all 0 when out of memory. */
void rf_track_count_rows(const rf_track_row *rows, size_t n, rf_track_counts *c);
/* rf_track_products_sensor, with the counts of the tracks written. */
int rf_track_products_counted(const rf_plot *plots, size_t n, const rf_config *cfg,
                              const rf_track_sensor *s, const rf_product_info *info,
                              const char *outdir, rf_track_counts *counts);

/* ---- filter internals, exposed for tests and the benchmark ---------------------- */
enum rf_track_model { RF_TRACK_MODEL_CV = 0, RF_TRACK_MODEL_BALLISTIC = 1, RF_TRACK_MODEL_IMM = 2 };
enum rf_track_earth { RF_TRACK_EARTH_FLAT = 0, RF_TRACK_EARTH_SPHERICAL = 1 };

/* Measurement of one plot: z = (range_m, azimuth_deg, elevation_deg,
 * radial_velocity_mps) and its standard deviations. */
typedef struct rf_track_meas {
  double z[4], sigma[4];
} rf_track_meas;
/* The sigmas of docs/tracking.md from a plot's SNR and the sensor's cells. */
void rf_track_meas_from_plot(const rf_track_sensor *s, const rf_config *cfg, const rf_plot *p,
                             rf_track_meas *m);
/* h(x): range, azimuth, elevation, radial velocity of an ENU state. */
void rf_track_h(const double x[6], double z[4]);
/* EKF prediction of one model over dt (>= 0) seconds: x[6], P[36] in place.
 * q_accel: white acceleration (m/s^2, q = a^2); ballistic adds gravity for
 * `earth` given the site height. */
void rf_track_predict(int model, int earth, double site_alt_m, double q_accel, double dt,
                      double x[6], double P[36]);
/* EKF update with measurement m (dims 3: range, az, el; 4: also radial
 * velocity, its innovation wrapped into +-interval/2 when interval > 0).
 * Writes the normalised innovation squared and ln det S when non-NULL;
 * returns 0, or RF_ERANGE when S is not positive definite. */
int rf_track_update(const rf_track_meas *m, int dims, double interval, double x[6], double P[36],
                    double *nis, double *lndet);
/* Time to closest approach to the site (NaN when opening) for a constant
 * velocity state with velocity covariance Pv (3x3, may be NULL): the
 * tangential speed squared is taken as |v_t|^2 - trace(P_t), floored at 0,
 * so an unobserved tangential velocity does not shorten it. */
double rf_track_time_to_go_cv(const double x[6], const double *P);
/* Ballistic trajectory from x: time of closest approach before impact
 * (NaN when opening), and impact time (s from now) and ENU point (NaN when
 * it does not come down within an hour). */
void rf_track_ballistic_future(int earth, const rf_geo_site *site, const double x[6],
                               double *t_go, double *t_impact, double impact_enu[3]);

/* Chi-square quantile for dof degrees of freedom (1..8) at probability p. */
double rf_chi2_quantile(int dof, double p);

#endif
