/* radarflow: what a capture holds and what follows from it, for `radarflow
 * inspect` (checking an import): coverage, ambiguities, resolutions, beams
 * and the processing gain the pipeline should give, each from the formulas
 * of docs/import.md ("What inspect prints"). */
#ifndef RF_INSPECT_H
#define RF_INSPECT_H

#include "../io/rf_capture.h"
#include "rf_config.h"

typedef struct rf_inspect {
  double lambda_m;              /* c / f_c */
  double prf_hz;                /* 1 / pri */
  double duty;                  /* pulse_width / pri */
  double time_bandwidth;        /* B T */
  size_t replica_samples;       /* M */
  /* range */
  double range_cell_m;          /* c / (2 fs) */
  double range_resolution_m;    /* c / (2 B) */
  double range_first_m;         /* window: sample 0, c/2 (delay) */
  double range_last_m;          /* window: last sample, c/2 (delay + (S-1)/fs) */
  double range_full_m;          /* last range whose whole echo is in the window: c/2 (delay + (S-M)/fs) */
  double unambiguous_range_m;   /* c pri / 2 */
  double eclipse_m;             /* c T / 2: echoes nearer arrive while transmitting */
  /* velocity */
  double velocity_interval_mps; /* lambda / (2 pri); reported in [-v/2, v/2) */
  size_t dwell_pulses_min, dwell_pulses_max;
  size_t doppler_bins_min, doppler_bins_max;
  double velocity_resolution_mps; /* lambda / (2 K_pulses pri), longest dwell */
  double doppler_cell_mps;        /* lambda / (2 bins pri), longest dwell */
  double dwell_duration_s;        /* longest dwell: pulses x pri */
  /* array and beams (first dwell's direction, configured taper) */
  int planar;                   /* the array measures elevation */
  double aperture_m[3];         /* extent east, north, up */
  double beamwidth_az_deg, beamwidth_el_deg;
  double fan_half_az_deg, fan_half_el_deg; /* receive beam fan half-widths */
  /* transmit sector */
  double az_min_deg, az_max_deg, el_min_deg, el_max_deg;
  int has_tx_beamwidth;
  double tx_bw_az_min_deg, tx_bw_az_max_deg, tx_bw_el_min_deg, tx_bw_el_max_deg;
  double sector_az_min_deg, sector_az_max_deg; /* dwell directions +- half the transmit beam */
  double sector_el_min_deg, sector_el_max_deg;
  int fan_covers_tx;            /* receive fan half-widths reach the transmit beam's */
  /* expected processing gain for white noise, dB */
  double gain_compression_db;   /* 10 log10 M */
  double gain_doppler_db;       /* 10 log10 K_pulses (longest dwell) */
  double gain_array_db;         /* 10 log10 N */
  double loss_range_taper_db, loss_doppler_taper_db, loss_array_taper_db;
  double gain_total_db;
  /* time */
  double first_time_s, last_time_s;
  double pri_measured_s;        /* median over dwells of the mean pulse spacing (0: one-pulse dwells) */
  size_t times_not_increasing;  /* pulse pairs inside a dwell whose time does not increase */
} rf_inspect;

/* Fills out from the capture's metadata and the processing settings
 * (tapers, beams). tx_bw_* are /dwell/tx_beamwidth_* or NULL. */
int rf_inspect_derive(const rf_capture_meta *m, const rf_config *cfg, const double *tx_bw_az_deg,
                      const double *tx_bw_el_deg, rf_inspect *out);

#endif
