/* radarflow: processing configuration. Every setting is declared once in
 * RF_CONFIG_TABLE (section, key, type, field, default, min, max, choices,
 * help); parsing, validation, printing and docs/config.md come from it. [Redis] */
#ifndef RF_CONFIG_H
#define RF_CONFIG_H

#include "../host/rf_common.h"

enum rf_config_type { RF_CFG_INT, RF_CFG_DBL, RF_CFG_ENUM };

/* Choice lists for enum settings; the index is the stored value and matches
 * the RF_TAPER_*, RF_CLUTTER_* and RF_CFAR_* enums. */
#define RF_CHOICES_TAPER "none|hamming|taylor"
/* pulse_compression.window: a taper, or auto (RF_RANGE_WINDOW_AUTO): Hamming
 * for an LFM capture, none for a custom reference (which is shaped already). */
#define RF_CHOICES_RANGE_TAPER "none|hamming|taylor|auto"
#define RF_RANGE_WINDOW_AUTO 3
#define RF_CHOICES_CLUTTER "none|notch|mti2|mti3"
#define RF_CHOICES_CFAR "ca|go|so|os"
#define RF_CHOICES_PLANNER "estimate|measure"
#define RF_CHOICES_TRACK_MODEL "cv|ballistic|imm"
#define RF_CHOICES_EARTH "flat|spherical|wgs84"
#define RF_CHOICES_BF_MODE "beams|channels"
enum { RF_BF_MODE_BEAMS = 0, RF_BF_MODE_CHANNELS = 1 };

#define RF_CONFIG_TABLE(X)                                                                  \
  X(pulse_compression, window, RF_CFG_ENUM, range_window, 3, 0, 3, RF_CHOICES_RANGE_TAPER,  \
    "taper applied to the replica (range sidelobes); auto = hamming for LFM, none for a custom reference") \
  X(taper, taylor_sll_db, RF_CFG_DBL, taylor_sll_db, 35, 13, 120, NULL,                     \
    "Taylor taper peak sidelobe level, dB")                                                 \
  X(taper, taylor_nbar, RF_CFG_INT, taylor_nbar, 4, 1, 20, NULL,                            \
    "Taylor taper nbar (nearly equal sidelobes)")                                           \
  X(beamforming, mode, RF_CFG_ENUM, bf_mode, 0, 0, 1, RF_CHOICES_BF_MODE,                  \
    "beams: a fan of receive beams; channels: no beamforming, each channel is processed as a beam of its own (as MatX's radar pipeline)") \
  X(beamforming, beams_az, RF_CFG_INT, beams_az, 0, 0, 64, NULL,                            \
    "receive beams across azimuth, centred on the transmit direction; 0 = enough to cover the transmit beam (odd)") \
  X(beamforming, beams_el, RF_CFG_INT, beams_el, 0, 0, 64, NULL,                            \
    "receive beams across elevation; 0 = enough to cover the transmit beam on planar arrays, 1 for linear") \
  X(beamforming, spacing_az_deg, RF_CFG_DBL, spacing_az_deg, 0, 0, 90, NULL,                \
    "azimuth beam spacing, deg; 0 = half the 3 dB beamwidth of the dwell")                  \
  X(beamforming, spacing_el_deg, RF_CFG_DBL, spacing_el_deg, 0, 0, 90, NULL,                \
    "elevation beam spacing, deg; 0 = half the 3 dB beamwidth of the dwell")                \
  X(beamforming, taper, RF_CFG_ENUM, array_taper, 2, 0, 2, RF_CHOICES_TAPER,                \
    "amplitude taper across the aperture (beam sidelobes)")                                 \
  X(doppler, clutter_filter, RF_CFG_ENUM, clutter_filter, 1, 0, 3, RF_CHOICES_CLUTTER,      \
    "notch: remove the slow-time mean and blank bins near zero; mti2/mti3: cancellers")     \
  X(doppler, notch_bins, RF_CFG_INT, notch_bins, 1, 0, 64, NULL,                            \
    "notch: blank Doppler bins with |bin - zero| <= notch_bins")                            \
  X(doppler, window, RF_CFG_ENUM, doppler_window, 1, 0, 2, RF_CHOICES_TAPER,                \
    "slow-time window before the Doppler FFT")                                              \
  X(doppler, fft_size, RF_CFG_INT, doppler_fft, 0, 0, 65536, NULL,                          \
    "Doppler bins; 0 = next power of two >= pulses")                                        \
  X(cfar, method, RF_CFG_ENUM, cfar_kind, 0, 0, 3, RF_CHOICES_CFAR,                         \
    "ca (cell averaging), go / so (greatest / smallest of), os (ordered statistic)")        \
  X(cfar, pfa, RF_CFG_DBL, pfa, 1e-6, 1e-12, 0.1, NULL,                                     \
    "design false-alarm probability per cell")                                              \
  X(cfar, train_range, RF_CFG_INT, train_range, 0, 0, 1024, NULL,                           \
    "training cells each side in range; 0 = enough for 48 independent cells in the window") \
  X(cfar, guard_range, RF_CFG_INT, guard_range, -1, -1, 256, NULL,                          \
    "guard cells each side in range; -1 = the target's main lobe and the noise correlation") \
  X(cfar, train_doppler, RF_CFG_INT, train_doppler, 0, 0, 28, NULL,                         \
    "training bins each side in Doppler (0 = range-only window)")                           \
  X(cfar, guard_doppler, RF_CFG_INT, guard_doppler, -1, -1, 28, NULL,                       \
    "guard bins each side in Doppler; -1 = the Doppler window's main lobe and correlation")  \
  X(cfar, os_rank, RF_CFG_INT, os_rank, 0, 0, 100000, NULL,                                 \
    "os: rank k of the ordered training cells; 0 = 3/4 of them")                            \
  X(plots, max_per_dwell, RF_CFG_INT, max_plots, 1000, 1, 1000000, NULL,                    \
    "most plots kept per dwell (the strongest)")                                            \
  X(run, threads, RF_CFG_INT, threads, 0, 0, 1024, NULL,                                    \
    "worker threads; 0 = all cores")                                                        \
  X(run, block_mb, RF_CFG_INT, block_mb, 64, 1, 65536, NULL,                                \
    "pulse blocks read and compressed at a time are kept under this size, MiB")             \
  X(run, fftw_planner, RF_CFG_ENUM, fftw_planner, 0, 0, 1, RF_CHOICES_PLANNER,              \
    "FFTW planning effort (measure plans slower, may run faster)")                          \
  X(run, memory_mb, RF_CFG_INT, memory_mb, 0, 0, 1 << 30, NULL,                             \
    "memory a run may use, MiB: a capture needing more is refused before its first dwell; 0 = 3/4 of the machine's (or the cgroup's) memory") \
  X(run, watchdog_s, RF_CFG_INT, watchdog_s, 60, 0, 86400, NULL,                            \
    "a run reading or writing files that makes no progress for this long is stopped (corrupt file); 0 = never") \
  X(tracker, model, RF_CFG_ENUM, trk_model, 2, 0, 2, RF_CHOICES_TRACK_MODEL,                \
    "motion model: nearly constant velocity, ballistic (gravity), or an IMM of constant velocity, turns and ballistic") \
  X(tracker, max_speed_mps, RF_CFG_DBL, trk_max_speed, 4000, 1, 100000, NULL,               \
    "fastest target: a new track's velocity spread; Doppler counts as unambiguous only when the interval exceeds twice this") \
  X(tracker, accel_mps2, RF_CFG_DBL, trk_accel, 10, 0, 1000, NULL,                          \
    "constant-velocity model: white acceleration, q = accel^2 m^2/s^3 per axis")            \
  X(tracker, manoeuvre_accel_mps2, RF_CFG_DBL, trk_manoeuvre_accel, 29.4, 0, 1000, NULL,  \
    "IMM manoeuvre modes: coordinated turns left and right at this acceleration, m/s^2 (3 g)") \
  X(tracker, ballistic_accel_mps2, RF_CFG_DBL, trk_ballistic_accel, 1, 0, 1000, NULL,       \
    "ballistic model: white acceleration besides gravity (drag, lift), q = accel^2")        \
  X(tracker, ballistic_min_speed_mps, RF_CFG_DBL, trk_ballistic_min_speed, 1000, 0, 100000, NULL, \
    "IMM: the ballistic model competes only for tracks surely faster than this, m/s")     \
  X(tracker, earth, RF_CFG_ENUM, trk_earth, 2, 0, 2, RF_CHOICES_EARTH,                      \
    "ballistic gravity: flat (constant g), spherical (central g, no rotation) or wgs84 (central g about the Earth's centre, Earth rotating); impact at WGS-84 height 0 (flat: the plane)") \
  X(tracker, imm_switch_prob, RF_CFG_DBL, trk_imm_switch, 0.01, 0, 0.5, NULL,               \
    "IMM: probability of switching model between updates")                                 \
  X(tracker, gate_probability, RF_CFG_DBL, trk_gate_pg, 0.999, 0.5, 0.9999999, NULL,        \
    "probability that a track's own plot falls in its gate (chi-square on the innovation)") \
  X(tracker, confirm_m, RF_CFG_INT, trk_confirm_m, 3, 1, 32, NULL,                          \
    "M of M-of-N: hits needed among a new track's first N looks to confirm it")             \
  X(tracker, confirm_n, RF_CFG_INT, trk_confirm_n, 4, 1, 32, NULL,                          \
    "N of M-of-N (looks: dwells whose beams cover the track)")                              \
  X(tracker, delete_misses, RF_CFG_INT, trk_delete_misses, 3, 1, 1000, NULL,                \
    "a confirmed track is deleted after this many looks in a row without a plot")           \
  X(tracker, max_pos_sigma_m, RF_CFG_DBL, trk_max_pos_sigma, 0, 0, 1e9, NULL,               \
    "delete a track whose position sigma exceeds this, m; 0 = one resolution cell at its range") \
  X(tracker, min_delete_sigma_m, RF_CFG_DBL, trk_min_delete_sigma, 1000, 0, 1e9, NULL,       \
    "floor of that deletion limit, m: no track is deleted for a position sigma below this") \
  X(tracker, sigma_floor, RF_CFG_DBL, trk_sigma_floor, 0.05, 0, 1, NULL,                    \
    "measurement sigma floor as a fraction of a cell / beamwidth (interpolation bias)")     \
  X(tracker, unmeasured_el_sigma_deg, RF_CFG_DBL, trk_el_sigma_unmeasured, 5, 0.01, 90, NULL, \
    "elevation sigma when the array does not measure elevation (linear arrays), deg")       \
  X(tracker, velocity_interval_mps, RF_CFG_DBL, trk_vel_interval, 0, 0, 1e6, NULL,          \
    "radial velocity interval lambda/(2 PRI) for a plot file that does not say (must then be given); 0 = unambiguous") \
  X(tracker, range_cell_m, RF_CFG_DBL, trk_range_cell, 30, 0.001, 1e6, NULL,                \
    "range cell for a plot file that does not say (must then be given), m")                                        \
  X(tracker, doppler_cell_mps, RF_CFG_DBL, trk_doppler_cell, 1, 0.001, 1e5, NULL,           \
    "Doppler cell for a plot file that does not say (must then be given), m/s")                                    \
  X(tracker, beamwidth_az_deg, RF_CFG_DBL, trk_bw_az, 2, 0.001, 180, NULL,                  \
    "azimuth beamwidth for a plot file that does not say (must then be given), deg")                               \
  X(tracker, beamwidth_el_deg, RF_CFG_DBL, trk_bw_el, 0, 0, 180, NULL,                      \
    "elevation beamwidth for a plot file that does not say (must then be given), deg; 0 = not measured") \
  X(tracker, max_tracks, RF_CFG_INT, trk_max_tracks, 100000, 1, 100000000, NULL,            \
    "most tracks alive at once")                                                            \
  X(site, latitude_deg, RF_CFG_DBL, site_lat, 0, -90, 90, NULL,                             \
    "WGS-84 site latitude for a plot file that does not say (must then be given), deg")                \
  X(site, longitude_deg, RF_CFG_DBL, site_lon, 0, -180, 360, NULL,                          \
    "WGS-84 site longitude for a plot file that does not say (must then be given), deg")                           \
  X(site, altitude_m, RF_CFG_DBL, site_alt, 0, -1e4, 1e5, NULL,                             \
    "WGS-84 site height for a plot file that does not say (must then be given), m")                                \
  X(asterix, sac, RF_CFG_INT, ast_sac, 0, 0, 255, NULL,                                     \
    "ASTERIX System Area Code (I048/010, I062/010)")                                        \
  X(asterix, sic, RF_CFG_INT, ast_sic, 1, 0, 255, NULL,                                     \
    "ASTERIX System Identification Code")                                                   \
  X(asterix, service_id, RF_CFG_INT, ast_service, 1, 0, 255, NULL,                          \
    "CAT062 service identification (I062/015)")

#define RF__CTYPE_RF_CFG_INT int
#define RF__CTYPE_RF_CFG_ENUM int
#define RF__CTYPE_RF_CFG_DBL double
#define RF_CONFIG_MAX_SETTINGS 128
typedef struct rf_config {
#define RF__CFG_FIELD(sec, key, type, field, def, lo, hi, choices, help) RF__CTYPE_##type field;
  RF_CONFIG_TABLE(RF__CFG_FIELD)
#undef RF__CFG_FIELD
  /* given[i]: setting i was set by a config file or --set (not its default). */
  unsigned char given[RF_CONFIG_MAX_SETTINGS];
} rf_config;

/* Fills every field with its default. */
void rf_config_defaults(rf_config *cfg);
/* Parses an INI file over the current values. RF_EINVAL naming the file,
 * line, section and key on an unknown key, a bad value or one out of range;
 * naming the file when it is not a regular file (a folder, a device such as
 * /dev/zero, a FIFO: never read) or is longer than RF_CONFIG_MAX_BYTES. */
int rf_config_load(rf_config *cfg, const char *path);
/* Largest config file read, bytes. */
#define RF_CONFIG_MAX_BYTES ((size_t)1 << 20)
/* Sets one setting from "section.key=value" text (command-line overrides). */
int rf_config_set(rf_config *cfg, const char *assignment);
/* Rules between settings (each setting's own range is in the table):
 * tracker.confirm_m <= tracker.confirm_n. RF_EINVAL naming the settings.
 * The rules that need a capture's sizes are rf_config_check_maps. */
int rf_config_check(const rf_config *cfg);
/* The settings against a capture's maps (`what` names the capture in the
 * message): the CFAR window (2 (train + guard) + 1 cells in range, bins in
 * Doppler) must fit the range map of `cells` samples and the Doppler map of
 * every dwell length; doppler.fft_size, when set, must hold the pulses of
 * the longest dwell that the clutter filter leaves; mti2 / mti3 need 2 / 3
 * pulses in the shortest dwell; cfar.os_rank (os) at most the window's
 * training cells. Automatic window sizes (cfar.train_range 0, guard_* -1)
 * count at their least here; the engine sizes them. `bins_of` gives the
 * Doppler bins of a dwell of p pulses. RF_EINVAL naming the capture and the
 * settings. */
int rf_config_check_maps(const rf_config *cfg, const char *what, size_t cells, size_t min_pulses,
                         size_t max_pulses, size_t (*bins_of)(const rf_config *cfg, size_t pulses));
/* Writes the configuration as INI text (parsable by rf_config_load). Returns
 * a malloc'd (rf__malloc) string or NULL. */
char *rf_config_to_ini(const rf_config *cfg);
/* Writes the settings table as a markdown table (docs/config.md). */
char *rf_config_doc_markdown(void);

/* 1 when section.key was set by a config file or --set, 0 when it holds
 * its default (or is not a setting). */
int rf_config_given(const rf_config *cfg, const char *section, const char *key);

/* Iteration over the table, for run.json and tests. */
size_t rf_config_count(void);
/* Name "section.key", and the value as text, of setting i. */
int rf_config_describe(const rf_config *cfg, size_t i, const char **section, const char **key,
                       char *value, size_t value_len);

#endif
