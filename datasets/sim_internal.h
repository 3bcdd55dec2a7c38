/* radarflow: the parsed scenario shared by datasets/scenario.c (parser) and
 * datasets/simulate.c (echo simulator), plus the physics helpers the tests
 * check directly. Not a public header. */
#ifndef RF_SIM_INTERNAL_H
#define RF_SIM_INTERNAL_H

#include "rf_sim.h"
#include "../host/rf_geodesy.h"
#include "../io/rf_capture.h"

#include <complex.h>

/* Ballistic targets: point-mass gravity and rotation of the Earth, WGS-84's
 * defining values (NIMA TR8350.2). */
#define RF_SIM_GM 3.986004418e14        /* gravitational parameter, m^3/s^2 */
#define RF_SIM_OMEGA_RPS 7.292115e-5    /* rotation rate, rad/s */
#define RF_SIM_K_BOLTZMANN 1.380649e-23 /* J/K */
#define RF_SIM_T0_K 290.0        /* reference noise temperature, K */

enum rf_sim_layout { RF_SIM_ULA = 0, RF_SIM_UPA = 1, RF_SIM_CUSTOM = 2 };
enum rf_sim_motion { RF_SIM_CONST_VEL = 0, RF_SIM_BALLISTIC = 1 };

typedef struct rf_sim_target {
  char name[64];
  int motion;            /* RF_SIM_* motion */
  double p0[3];          /* ENU position at start_time_s, m */
  double v0[3];          /* ENU velocity at start_time_s (relative to the ground), m/s */
  /* Ballistic: geocentric position and inertial velocity at start_time_s in
   * the ENU axes of that instant (set by the scenario loader). */
  double r0_inertial[3], u0_inertial[3];
  int use_rcs;           /* 1: rcs_m2 and the radar equation; 0: snr_db */
  double rcs_m2;
  double snr_db;         /* on the transmit beam axis (Swerling 1: the mean) */
  int swerling;          /* 0 steady, 1 Rayleigh amplitude drawn per dwell */
} rf_sim_target;

struct rf_scenario {
  char path[512];
  char name[256];
  double site_lat_deg, site_lon_deg, site_alt_m;
  /* The Earth seen from the site: its centre (ENU, m) and rotation vector
   * (ENU, rad/s); for ballistic targets. */
  rf_geo_site site;
  double earth_centre_enu_m[3], earth_rate_enu_rps[3];
  double fc_hz, lambda_m;
  double peak_power_w, noise_figure_db, system_loss_db, element_gain_dbi;

  int waveform_type;     /* RF_WAVEFORM_* */
  double bandwidth_hz, pulse_width_s, fs_hz, pri_s, rgd_s;
  size_t samples;
  size_t chips, chip_samples; /* custom: code length, samples per chip */
  double *chip_phase_rad;     /* [chips] */

  size_t channels;
  double (*pos)[3];      /* [channels] ENU element positions, m */
  double face_az_deg;
  double cal_amp_std_db, cal_phase_std_deg;

  size_t dwells, pulses;
  size_t *first_pulse, *num_pulses; /* [dwells] */
  double *dwell_az_deg, *dwell_el_deg; /* [dwells] */
  double tx_bw_az_deg, tx_bw_el_deg; /* spoiled transmit beam 3 dB widths; 0: the array's own */
  double *t_rel_s;       /* [pulses] transmit time minus start_time_s */
  double start_time_s;

  int noise_enabled;
  int sample_type;       /* RF_SAMPLE_* */
  double noise_lsb;

  int clutter_enabled;
  double cnr_db, clutter_rmin_m, clutter_rmax_m, clutter_az_spread_deg;
  double clutter_range_exponent;
  size_t clutter_scatterers;

  size_t targets;
  rf_sim_target *target;
};

/* Target state (site ENU, velocity relative to the ground) at t_rel seconds
 * after start_time_s. Ballistic targets follow a Keplerian orbit about the
 * Earth's centre (docs/scenarios.md). */
void rf__sim_target_state(const rf_scenario *sc, const rf_sim_target *t, double t_rel, double pos[3],
                          double vel[3]);
/* Fills sc->earth_* from the site and each ballistic target's inertial
 * start state (the scenario loader calls it). */
void rf__sim_init_ballistic(rf_scenario *sc);
/* Whether target t is above the WGS-84 ellipsoid at ENU position pos (a
 * ballistic target below it has hit the ground and gives no echo). */
int rf__sim_above_ground(const rf_scenario *sc, const rf_sim_target *t, const double pos[3]);
/* Transmit pattern |AF(d)|^2 / N^2 of the uniform array steered to d_beam;
 * along an axis with a spoiled beam width (tx_bw_*_deg > 0) a Gaussian beam
 * of that 3 dB width instead, 2^-(2 offset / width)^2. */
double rf__sim_tx_pattern(const rf_scenario *sc, const double d[3], const double d_beam[3]);
/* Per-element per-pulse input SNR (linear) of target t at range r_m in
 * direction d with the transmit beam steered to d_beam. */
double rf__sim_snr(const rf_scenario *sc, const rf_sim_target *t, double r_m,
                   const double d[3], const double d_beam[3]);
/* The transmitted waveform s(u) at continuous time u since the pulse start;
 * 0 outside [0, T). */
float complex rf__sim_waveform(const rf_scenario *sc, double u_s);

#endif
