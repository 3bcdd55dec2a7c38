/* radarflow: the multi-target tracker (docs/tracking.md). Plots in, track
 * rows out (io/rf_tracks.h). Extended Kalman filters on the state
 * (east, north, up, v_east, v_north, v_up) in site ENU, measured in range,
 * azimuth, elevation and radial velocity; nearly-constant-velocity and
 * ballistic models alone, or an IMM of constant velocity, coordinated
 * turns left and right (3 g) and ballistic (Keplerian gravity, Earth
 * rotation, with a batch refit of the trajectory);
 * chi-square gates; global nearest neighbour by optimal assignment
 * (rf_assign.h); M-of-N confirmation; deletion on misses or covariance
 * growth. */
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
/* What a plot file says about the sensor: bit set = the file has it. */
enum rf_track_sensor_field {
  RF_TRACK_HAS_SITE = 1,                /* site_latitude_deg, site_longitude_deg, site_altitude_m */
  RF_TRACK_HAS_VELOCITY_INTERVAL = 2,   /* radial_velocity_interval_mps (0: unambiguous) */
  RF_TRACK_HAS_RANGE_CELL = 4,          /* range_cell_m > 0 */
  RF_TRACK_HAS_DOPPLER_CELL = 8,        /* doppler_cell_mps > 0 */
  RF_TRACK_HAS_BEAMWIDTH_AZ = 16,       /* beamwidth_az_deg > 0 */
  RF_TRACK_HAS_BEAMWIDTH_EL = 32,       /* beamwidth_el_deg (0: not measured) */
  RF_TRACK_HAS_ALL = 63
};
/* From a plot file's description (info; `present`: RF_TRACK_HAS_* bits of
 * what the file has). A value the file lacks comes from the settings only
 * when they were given (rf_config_given: a config file or --set: site.*,
 * tracker.velocity_interval_mps, range_cell_m, doppler_cell_mps,
 * beamwidth_az_deg, beamwidth_el_deg); never from a default. RF_EFORMAT
 * naming `path` and every missing value (and the --set that supplies it)
 * otherwise. Coverage and the dwell table are optional. */
int rf_track_sensor_from_info(rf_track_sensor *s, const rf_product_info *info, unsigned present,
                              const rf_config *cfg, const char *path);
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
 * names the setting). Never allocates (no qsort either: plots are binned
 * by range with a counting pass, components walked as lists; OpenMP's own
 * thread pool, made on its first parallel region, aside). */
int rf_tracker_process_dwell(rf_tracker *t, double time_s, int32_t dwell, const rf_plot *plots,
                             size_t n, rf_track_row *rows, size_t max_rows, size_t *nrows);
/* With on set, process_dwell leaves each row's derived columns (range_m,
 * azimuth_deg, elevation_deg, radial_velocity_mps, latitude_deg,
 * longitude_deg, altitude_m) unset, and rf_tracker_derive_rows fills them
 * from the row's state: it reads only the tracker's site, so another thread
 * may run it while the tracker goes on. */
void rf_tracker_defer_derived(rf_tracker *t, int on);
void rf_tracker_derive_rows(const rf_tracker *t, rf_track_row *rows, size_t n);
/* A helper thread for the per-track loops of process_dwell (prediction,
 * update), instead of the OpenMP threads: each loop opens a job, calls
 * wake(arg), takes chunks of it and waits for the chunks the helper took.
 * rf_tracker_help, on the helper thread, takes chunks of the open job
 * until none is left; the tracks it did (0: no job was open). NULL wake:
 * no helper. RF_ENOMEM when the lock cannot be made. */
int rf_tracker_set_helper(rf_tracker *t, void (*wake)(void *), void *arg);
size_t rf_tracker_help(rf_tracker *t);
/* Rows needed at most by one process_dwell call. */
size_t rf_tracker_max_rows(const rf_tracker *t);
/* Tracks alive now, and ids given so far. */
size_t rf_tracker_live(const rf_tracker *t);

/* The whole plot list (ordered by time) through a tracker; rows appended to
 * out. */
int rf_track_plots(const rf_plot *plots, size_t n, const rf_config *cfg, const rf_track_sensor *s,
                   rf_track_list *out);

/* The tracker's products (docs/tracking.md): outdir/tracks.h5, tracks.csv,
 * plots.ast, tracks.ast, plots.pcap and tracks.pcap, all six or none. */
#define RF_TRACK_PRODUCTS 6
extern const char *const rf_track_product_names[RF_TRACK_PRODUCTS];

/* Runs the tracker over plots (ordered by time) with sensor s and writes
 * the products; info (may be NULL) gives the provenance attributes of
 * tracks.h5. *ntracks (may be NULL) gets the number of distinct tracks. */
int rf_track_products_sensor(const rf_plot *plots, size_t n, const rf_config *cfg,
                             const rf_track_sensor *s, const rf_product_info *info,
                             const char *outdir, size_t *ntracks);

/* Tracks of a run, by track id: ids in all; confirmed (confirmed at some
 * update) and tentative (never confirmed) add up to ids; deleted: ids whose
 * last row is `deleted` (of either kind). */
typedef struct rf_track_counts {
  size_t ids, confirmed, tentative, deleted;
} rf_track_counts;
/* rf_track_products_sensor, with the counts of the tracks written. */
int rf_track_products_counted(const rf_plot *plots, size_t n, const rf_config *cfg,
                              const rf_track_sensor *s, const rf_product_info *info,
                              const char *outdir, rf_track_counts *counts);
/* The same, streaming from a plot file (plots.h5 read in slices, so memory
 * does not grow with its length; CSV read whole). The sensor comes from the
 * file and the settings (rf_track_sensor_from_info). *nplots (may be NULL)
 * and *counts get the counts; capture (may be NULL) the plots.h5's
 * source_path attribute, "" when it has none. */
int rf_track_file(const char *plots_path, const rf_config *cfg, const char *outdir, size_t *nplots,
                  rf_track_counts *counts, char *capture, size_t capture_len);

/* ---- filter internals, exposed for tests and the benchmark ---------------------- */
enum rf_track_model { RF_TRACK_MODEL_CV = 0, RF_TRACK_MODEL_BALLISTIC = 1, RF_TRACK_MODEL_IMM = 2 };
/* The IMM's modes, in the order of the imm_*_prob columns. */
enum rf_track_mode { RF_TRACK_MODE_CV = 0, RF_TRACK_MODE_MANOEUVRE = 1, RF_TRACK_MODE_BALLISTIC = 2,
                     RF_TRACK_MODES = 3 };
enum rf_track_earth { RF_TRACK_EARTH_FLAT = 0, RF_TRACK_EARTH_SPHERICAL = 1, RF_TRACK_EARTH_WGS84 = 2 };

/* WGS-84 values (NIMA TR8350.2) and the mean radius for `spherical`. */
#define RF_TRACK_GM 3.986004418e14      /* m^3/s^2 */
#define RF_TRACK_OMEGA_RPS 7.292115e-5  /* Earth rotation, rad/s */
#define RF_TRACK_G0 9.80665             /* flat earth, m/s^2 */
#define RF_TRACK_R_MEAN 6371008.8       /* spherical: centre this far below the site's ellipsoid point, m */

/* Gravity of the ballistic model in the site ENU frame (docs/tracking.md):
 * flat: g0 down; spherical: GM / r^2 towards a centre R_MEAN + site height
 * below the site, no rotation; wgs84: GM / r^2 towards the Earth's centre
 * (the ECEF origin) plus the Coriolis and centrifugal terms of the rotating
 * ENU frame. */
typedef struct rf_track_gravity {
  int earth;                   /* enum rf_track_earth */
  double centre_enu_m[3];      /* centre of attraction */
  double omega_enu_rps[3];     /* Earth rotation vector (wgs84), else 0 */
  double site_alt_m;
} rf_track_gravity;
void rf_track_gravity_init(rf_track_gravity *g, int earth, const rf_geo_site *site);
/* Acceleration (m/s^2) of an object at ENU position p with ENU velocity v. */
void rf_track_gravity_accel(const rf_track_gravity *g, const double p[3], const double v[3], double a[3]);

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
 * q_accel: white acceleration (m/s^2, q = a^2); ballistic adds gravity g
 * (RK4, steps of at most 10 s; g may be NULL for constant velocity). */
void rf_track_predict(int model, const rf_track_gravity *g, double q_accel, double dt, double x[6],
                      double P[36]);
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
/* Ballistic trajectory from x under g: time of closest approach before
 * impact (NaN when opening), and impact time (s from now) and ENU point
 * (NaN when it does not come down within an hour). Impact: WGS-84 height 0
 * (flat: up = -site height). */
void rf_track_ballistic_future(const rf_track_gravity *g, const rf_geo_site *site, const double x[6],
                               double *t_go, double *t_impact, double impact_enu[3]);

/* Chi-square quantile for dof >= 1 degrees of freedom at probability p. */
double rf_chi2_quantile(int dof, double p);

#endif
