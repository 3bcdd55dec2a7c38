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
#define RF_CHOICES_CLUTTER "none|notch|mti2|mti3"
#define RF_CHOICES_CFAR "ca|go|so|os"
#define RF_CHOICES_PLANNER "estimate|measure"

#define RF_CONFIG_TABLE(X)                                                                  \
  X(pulse_compression, window, RF_CFG_ENUM, range_window, 1, 0, 2, RF_CHOICES_TAPER,        \
    "taper applied to the replica (range sidelobes)")                                       \
  X(taper, taylor_sll_db, RF_CFG_DBL, taylor_sll_db, 35, 13, 120, NULL,                     \
    "Taylor taper peak sidelobe level, dB")                                                 \
  X(taper, taylor_nbar, RF_CFG_INT, taylor_nbar, 4, 1, 20, NULL,                            \
    "Taylor taper nbar (nearly equal sidelobes)")                                           \
  X(beamforming, beams_az, RF_CFG_INT, beams_az, 5, 1, 64, NULL,                            \
    "receive beams across azimuth, centred on the transmit direction")                      \
  X(beamforming, beams_el, RF_CFG_INT, beams_el, 0, 0, 64, NULL,                            \
    "receive beams across elevation; 0 = 3 for planar arrays, 1 for linear")                \
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
  X(cfar, train_range, RF_CFG_INT, train_range, 16, 1, 1024, NULL,                          \
    "training cells each side in range")                                                    \
  X(cfar, guard_range, RF_CFG_INT, guard_range, 3, 0, 256, NULL,                            \
    "guard cells each side in range")                                                       \
  X(cfar, train_doppler, RF_CFG_INT, train_doppler, 0, 0, 256, NULL,                        \
    "training bins each side in Doppler (0 = range-only window)")                           \
  X(cfar, guard_doppler, RF_CFG_INT, guard_doppler, 0, 0, 256, NULL,                        \
    "guard bins each side in Doppler")                                                      \
  X(cfar, os_rank, RF_CFG_INT, os_rank, 0, 0, 100000, NULL,                                 \
    "os: rank k of the ordered training cells; 0 = 3/4 of them")                            \
  X(plots, max_per_dwell, RF_CFG_INT, max_plots, 1000, 1, 1000000, NULL,                    \
    "most plots kept per dwell (the strongest)")                                            \
  X(run, threads, RF_CFG_INT, threads, 0, 0, 1024, NULL,                                    \
    "worker threads; 0 = all cores")                                                        \
  X(run, block_mb, RF_CFG_INT, block_mb, 64, 1, 65536, NULL,                                \
    "pulse blocks read and compressed at a time are kept under this size, MiB")             \
  X(run, fftw_planner, RF_CFG_ENUM, fftw_planner, 0, 0, 1, RF_CHOICES_PLANNER,              \
    "FFTW planning effort (measure plans slower, may run faster)")

#define RF__CTYPE_RF_CFG_INT int
#define RF__CTYPE_RF_CFG_ENUM int
#define RF__CTYPE_RF_CFG_DBL double
typedef struct rf_config {
#define RF__CFG_FIELD(sec, key, type, field, def, lo, hi, choices, help) RF__CTYPE_##type field;
  RF_CONFIG_TABLE(RF__CFG_FIELD)
#undef RF__CFG_FIELD
} rf_config;

/* Fills every field with its default. */
void rf_config_defaults(rf_config *cfg);
/* Parses an INI file over the current values. RF_EINVAL naming the file,
 * line, section and key on an unknown key, a bad value or one out of range. */
int rf_config_load(rf_config *cfg, const char *path);
/* Sets one setting from "section.key=value" text (command-line overrides). */
int rf_config_set(rf_config *cfg, const char *assignment);
/* Writes the configuration as INI text (parsable by rf_config_load). Returns
 * a malloc'd (rf__malloc) string or NULL. */
char *rf_config_to_ini(const rf_config *cfg);
/* Writes the settings table as a markdown table (docs/config.md). */
char *rf_config_doc_markdown(void);

/* Iteration over the table, for run.json and tests. */
size_t rf_config_count(void);
/* Name "section.key", and the value as text, of setting i. */
int rf_config_describe(const rf_config *cfg, size_t i, const char **section, const char **key,
                       char *value, size_t value_len);

#endif
