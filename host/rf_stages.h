/* radarflow: the pulse-Doppler stages, plain C (the CPU path and the oracle
 * for the OpenCL kernels). Each stage is an opaque object: create allocates
 * everything (scratch, FFTW plans), execute never allocates, destroy(NULL)
 * is a no-op. Buffers passed to execute are borrowed for the call.
 *
 * Data of one dwell (CPI), P pulses, N channels, S fast-time samples, B
 * beams, K Doppler bins:
 *   raw     [P][N][S][2] int16 or float32 (file order)
 *   rows    [P][N][S] complex: converted, calibrated, pulse-compressed;
 *           range cell r is delay range_gate_delay_s + r / sample_rate_hz
 *   beams   [B][P][S] complex
 *   power   [B][K][S] float |X|^2, Doppler bin k is
 *           f_d = (k - K/2) / (K pri_s)  (fftshifted)
 */
#ifndef RF_STAGES_H
#define RF_STAGES_H

#include "rf_common.h"

/* Raw sample types (formats.md /iq): interleaved I, Q pairs. */
enum rf_sample_type { RF_SAMPLE_INT16 = 1, RF_SAMPLE_FLOAT32 = 2 };

/* ---- 1+2: convert, calibrate, pulse-compress ------------------------------ */
typedef struct rf_pc_config {
  size_t channels;                 /* N >= 1 */
  size_t samples;                  /* S >= 1 */
  int sample_type;                 /* RF_SAMPLE_INT16 / RF_SAMPLE_FLOAT32 */
  double scale;                    /* multiplies every sample */
  const float complex *calibration;/* [N] or NULL (copied) */
  const float complex *reference;  /* [ref_len] replica (copied) */
  size_t ref_len;                  /* 1 <= ref_len <= S */
  int window;                      /* RF_TAPER_* applied to the replica */
  double taylor_sll_db;
  int taylor_nbar;
  size_t max_pulses;               /* largest block passed to execute */
} rf_pc_config;
typedef struct rf_pc rf_pc;
int rf_pc_create(rf_pc **pc, const rf_pc_config *cfg);
/* raw: pulses*N*S pairs; out: [pulses][N][S]. Output cell r is the
 * correlation at lag r: sum_m x[r+m] conj(h[m]), h the (tapered) replica,
 * scaled so that unit-power white noise in gives unit-power noise out. */
int rf_pc_execute(rf_pc *pc, const void *raw, size_t pulses, float complex *out);
void rf_pc_destroy(rf_pc *pc);
/* Correlation of the output noise across range cells for white input:
 * corr[k] = |r(k)|^2 / |r(0)|^2, lags 0 .. n-1 (n <= RF_PC_MAX_CORR, down to
 * 1e-4). Borrowed from pc. Feeds rf_cfar_config.range_corr. */
#define RF_PC_MAX_CORR 64
size_t rf_pc_noise_corr(const rf_pc *pc, const double **corr);
/* The same as complex amplitude correlation rho(k) = r(k) / r(0), lags
 * 0 .. n-1 (n <= RF_PC_MAX_ACF, down to |rho|^2 < 1e-7). Borrowed. Feeds
 * rf_cfar_config.range_acf. */
#define RF_PC_MAX_ACF 256
size_t rf_pc_noise_acf(const rf_pc *pc, const double complex **acf);
/* Replica length M: output cells >= S - M + 1 hold echoes that overlap the
 * receive window only in part (and less noise). */
size_t rf_pc_replica_len(const rf_pc *pc);
/* Point-target response |y(x)|^2 / |y(0)|^2 of the compression (replica
 * through the tapered filter) at a lag of x cells, band-limited between
 * samples within RF_PC_FINE_CELLS of the peak, beyond that the largest
 * sampled sidelobe within one cell (an envelope). */
#define RF_PC_FINE_CELLS 8
#define RF_PC_FINE_STEPS 32
double rf_pc_response(const rf_pc *pc, double lag_cells);
/* Main-lobe half-width in cells: lags on either side before the response
 * reaches its first minimum or -30 dB. */
size_t rf_pc_mainlobe(const rf_pc *pc);
/* Direct O(S M) correlation of one row: the slow reference for tests. */
void rf_pc_correlate_ref(const float complex *x, size_t s, const float complex *h,
                         size_t m, float complex *y);
/* FFT length used for S samples and an M-sample replica. */
size_t rf_pc_fft_len(size_t s, size_t m);
/* The tables execute applies (borrowed), for the OpenCL twin: h [L][2] =
 * conj(FFT(tapered replica)) / (L ||h||), gain [N][2] = scale * calibration. */
void rf_pc_tables(const rf_pc *pc, const float **h, size_t *l, const float **gain);

/* ---- 3: receive digital beamforming --------------------------------------- */
/* Beam weights w[b][n] = t_n exp(-j 2 pi / lambda dot(p_n, d_b)) /
 * sqrt(sum t_n^2): taper t over the aperture, normalised so noise power is
 * preserved. */
void rf_beam_weights(const double (*pos_m)[3], size_t channels, double lambda_m,
                     const double *az_deg, const double *el_deg, size_t beams,
                     int taper, double taylor_sll_db, int taylor_nbar,
                     float complex *w);
/* Power gain of weights w [channels] toward (az, el), relative to the
 * incoherent gain: 1 on the beam axis of untapered weights, less with a
 * taper (its loss) or off axis. */
double rf_beam_gain(const double (*pos_m)[3], size_t channels, double lambda_m,
                    const float complex *w, double az_deg, double el_deg);
/* 3 dB beamwidth, degrees, of a beam steered to (az, el) with a taper:
 * axis 0 as a span of azimuth, axis 1 of elevation. 0 when the array has no
 * aperture along that axis (a linear array in elevation) - never because
 * of a failure: it allocates nothing (the weights are made element by
 * element, as rf_beam_weights makes them). */
double rf_beamwidth_deg(const double (*pos_m)[3], size_t channels, double lambda_m,
                        double az_deg, double el_deg, int axis, int taper,
                        double taylor_sll_db, int taylor_nbar);
/* Power gain of a beam steered to (beam_az, beam_el) with a taper, weights
 * as rf_beam_weights makes them, toward (az, el): rf_beam_gain without a
 * weight array (nothing allocated). */
double rf_beam_pattern(const double (*pos_m)[3], size_t channels, double lambda_m, double beam_az_deg,
                       double beam_el_deg, int taper, double taylor_sll_db, int taylor_nbar, double az_deg,
                       double el_deg);
/* The receive beam fan of a capture (host/fan.c, docs/detection.md). It
 * covers the transmit beam: beams spaced by spacing_*_deg or, when 0, half
 * the receive 3 dB beamwidth at the dwell's direction (so it follows scan
 * broadening); beams_* as set or, when 0, the odd count whose outer beams
 * reach the transmit beam's 3 dB edges (the transmit beamwidth of the
 * dwell, else the receive array's own beamwidth: 3 beams), the most any
 * dwell needs. The fan supports directions up to half a spacing past its
 * outer beams. A linear array (no elevation aperture at the first dwell's
 * direction) gets one beam row and no elevation estimate; an array with no
 * azimuth aperture (one element) one column. create computes the beams and
 * the monopulse ratio tables of every distinct transmit direction; nothing
 * after it allocates. */
typedef struct rf_fan_config {
  const double (*element_position_m)[3]; /* [channels] ENU (copied) */
  size_t channels;                       /* N >= 1 */
  double lambda_m;                       /* > 0 */
  int beams_az;                          /* >= 0; 0 = derived */
  int beams_el;                          /* >= 0; 0 = derived (planar), 1 (linear) */
  double spacing_az_deg, spacing_el_deg; /* >= 0; 0 = half the receive beamwidth */
  int taper;                             /* RF_TAPER_* across the aperture */
  double taylor_sll_db;
  int taylor_nbar;
  size_t dwells;                         /* >= 1 */
  const double *azimuth_deg;             /* [dwells] transmit direction (read at create) */
  const double *elevation_deg;           /* [dwells] */
  const double *tx_beamwidth_az_deg;     /* [dwells] in (0, 180], or NULL: the array's own beam */
  const double *tx_beamwidth_el_deg;     /* [dwells] or NULL */
  int per_channel;                       /* 1: no beamforming - beam b is channel b
                                            (beams_az = channels, beams_el = 1), every
                                            beam at the transmit direction, identity
                                            weights; beams_* and spacing_* unused */
} rf_fan_config;
/* The fan's geometry at one direction. half_*: the supported half-width
 * around the transmit direction ((beams - 1) / 2 + 1/2 spacings; half the
 * receive beamwidth for one beam; el 0 on a linear array). */
typedef struct rf_fan_extent {
  double beamwidth_az_deg, beamwidth_el_deg;       /* receive 3 dB; 0: no aperture */
  double tx_beamwidth_az_deg, tx_beamwidth_el_deg; /* as given, else the receive ones */
  double spacing_az_deg, spacing_el_deg;
  size_t beams_az, beams_el;
  double half_az_deg, half_el_deg;
} rf_fan_extent;
/* The extent at dwell d as rf_fan_create derives it for that dwell alone
 * (with beams_* set, exactly the fan's; derived counts may be fewer than
 * the fan's, which takes the most over all dwells). Allocates nothing. */
void rf_fan_extent_at(const rf_fan_config *cfg, size_t dwell, rf_fan_extent *ext);
typedef struct rf_fan rf_fan;
int rf_fan_create(rf_fan **fan, const rf_fan_config *cfg);
void rf_fan_destroy(rf_fan *fan);
/* Beams B = beams_az * beams_el of every dwell. */
size_t rf_fan_beams(const rf_fan *fan);
/* Dwell d's fan: beam b = ie * beams_az + ia (arrays borrowed from the fan
 * for its life), its extent, and the span of directions it supports (in
 * the beams' angle convention: not wrapped). */
typedef struct rf_fan_view {
  size_t beams, beams_az, beams_el;
  int estimate_azimuth, estimate_elevation; /* 0: no aperture along that axis */
  const double *beam_az_deg, *beam_el_deg;  /* [beams] */
  double beamwidth_az_deg, beamwidth_el_deg; /* el: 0 on a linear array */
  rf_fan_extent extent;
  double support_az_deg[2], support_el_deg[2];
} rf_fan_view;
int rf_fan_dwell(const rf_fan *fan, size_t dwell, rf_fan_view *v);
/* Dwell d's weights w [B][N] (rf_beam_weights of its beams; the identity
 * in per-channel mode). */
int rf_fan_weights(const rf_fan *fan, size_t dwell, float complex *w);
/* Power gain of dwell d's beam toward (az, el) (rf_beam_pattern; 1 in
 * per-channel mode). */
double rf_fan_gain(const rf_fan *fan, size_t dwell, size_t beam, double az_deg, double el_deg);
/* Direction of a peak in `beam` of dwell d from its power p[0] and its
 * neighbours' at the same cell: p[1], p[2] azimuth beam -1, +1; p[3], p[4]
 * elevation row -1, +1 (0 where there is none). Monopulse-style: the ratio
 * of the peak beam and its stronger neighbour inverted through the two
 * beams' patterns (which also extrapolates past an outer beam). Returns 0,
 * or 1 when the direction lies outside what the fan supports (no plot may
 * be reported there); az, el in the beams' convention. Per-channel mode:
 * the transmit direction, 0. */
int rf_fan_direction(const rf_fan *fan, size_t dwell, size_t beam, const float p[5], double *az_deg,
                     double *el_deg);

typedef struct rf_bf rf_bf;
int rf_bf_create(rf_bf **bf, size_t channels, size_t beams, size_t cells);
/* in [pulses][N][cells]; out beam b, pulse p at out + b*beam_stride + p*cells.
 * w is [beams][channels] (borrowed): one OpenBLAS CGEMM per pulse (or slice
 * of one). w NULL: per-channel mode, beam b is channel b (beams <= channels,
 * else RF_EINVAL). */
int rf_bf_execute(rf_bf *bf, const float complex *w, const float complex *in,
                  size_t pulses, float complex *out, size_t beam_stride);
/* The same product by a plain loop (w not NULL): the oracle rf_bf_execute
 * is tested against, and the twin of the OpenCL kernel (rf_bf_pulse). */
int rf_bf_execute_ref(rf_bf *bf, const float complex *w, const float complex *in,
                      size_t pulses, float complex *out, size_t beam_stride);
void rf_bf_destroy(rf_bf *bf);
/* The OpenBLAS core type this CPU should get ("SkylakeX", "Haswell") when
 * the loaded OpenBLAS fell back to its generic Prescott kernels (a CPU newer
 * than its table), else NULL. OpenBLAS reads OPENBLAS_CORETYPE when it is
 * loaded, so only a program that sets it and executes itself again can use
 * this (tools/main.c does). */
const char *rf_bf_blas_core_hint(void);

/* ---- 4: clutter filter, Doppler window and FFT ---------------------------- */
enum rf_clutter { RF_CLUTTER_NONE = 0, RF_CLUTTER_NOTCH = 1, RF_CLUTTER_MTI2 = 2,
                  RF_CLUTTER_MTI3 = 3 };
typedef struct rf_doppler_config {
  size_t pulses;                   /* P >= 1 (>= 3 for MTI3) */
  size_t cells;                    /* S */
  size_t nfft;                     /* K >= pulses after the canceller */
  int clutter;                     /* RF_CLUTTER_* */
  int notch_bins;                  /* NOTCH: zero |k - K/2| <= notch_bins */
  int window;                      /* RF_TAPER_* */
  double taylor_sll_db;
  int taylor_nbar;
} rf_doppler_config;
typedef struct rf_doppler rf_doppler;
int rf_doppler_create(rf_doppler **d, const rf_doppler_config *cfg);
/* in: one beam [P][S] (borrowed, not modified); power out [K][S]. */
int rf_doppler_execute(rf_doppler *d, const float complex *in, float *power);
/* Slow-time window execute applies (borrowed; already divided by the noise
 * gain), win [pout], pout = pulses after the canceller. */
void rf_doppler_tables(const rf_doppler *d, const float **win, size_t *pout);
void rf_doppler_destroy(rf_doppler *d);

/* ---- 5: CFAR --------------------------------------------------------------- */
enum rf_cfar_kind { RF_CFAR_CA = 0, RF_CFAR_GO = 1, RF_CFAR_SO = 2, RF_CFAR_OS = 3 };
/* Column classes of a cell under test: both range sides of its window
 * inside the usable cells, only the lead side (lower range), only the lag. */
enum rf_cfar_class { RF_CFAR_BOTH = 0, RF_CFAR_LEAD = 1, RF_CFAR_LAG = 2 };
/* Default training: the fewest range cells a side giving at least this
 * many independent cells (n^2 / sum_ij |C_ij|^2) in the full window. */
#define RF_CFAR_INDEPENDENT 48.0
typedef struct rf_cfar_config {
  int kind;                        /* RF_CFAR_* */
  double pfa;                      /* design false-alarm probability, (0, 0.5) */
  int train_range, guard_range;    /* cells each side in range: train >= 1 (rf_cfar_resolve: <= 0 / < 0 = auto) */
  int train_doppler, guard_doppler;/* bins each side in Doppler: may be 0 (guard < 0 = auto) */
  int os_rank;                     /* OS: k-th smallest (1-based); 0 = 3/4 of the cells */
  /* The noise model (copied or reduced at create; NULL = white):
   * range_acf[k] = r(k) / r(0), the compressed noise's amplitude
   * correlation (rf_pc_noise_acf); doppler_window[doppler_pulses_out] the
   * slow-time window as the Doppler stage applies it (rf_doppler_tables),
   * doppler_clutter its RF_CLUTTER_* and doppler_pulses the dwell's
   * pulses, from which the bins' covariance follows. */
  const double complex *range_acf;
  size_t range_acf_len;
  const float *doppler_window;
  size_t doppler_pulses_out, doppler_pulses;
  int doppler_clutter;
  /* The detection mask: bins |k - floor(K/2)| < blank_bins are blanked
   * (0: none; the notch's notch_bins + 1); cells >= valid_cells are neither
   * tested nor trained on (0: all; the engine sets S - M + 1, past which an
   * echo is only partly inside the receive window). */
  int blank_bins;
  size_t valid_cells;
  /* For rf_cfar_resolve only: main-lobe half-widths of a target's response
   * (range cells, Doppler bins) and the independent cells wanted (0:
   * RF_CFAR_INDEPENDENT). */
  size_t mainlobe_range, mainlobe_doppler;
  double min_independent;
} rf_cfar_config;
typedef struct rf_cfar_hit {
  uint32_t cell;                   /* range cell */
  uint32_t bin;                    /* Doppler bin */
  float power;                     /* cell under test */
  float noise;                     /* noise power estimate: mean of the training
                                      cells used (GO/SO: the larger/smaller side
                                      mean; OS: k-th smallest / its mean on unit
                                      exponential noise) */
  float threshold;
} rf_cfar_hit;
/* Fills the automatic settings of cfg for a bins x cells map: guard_range
 * < 0: the larger of the range noise correlation's extent (|rho|^2 >=
 * 1e-3) and mainlobe_range; guard_doppler < 0 (with train_doppler > 0):
 * the same across bins; train_range <= 0: the fewest cells a side giving
 * min_independent independent cells, as many as fit if fewer do. */
typedef struct rf_cfar_resolved {
  int train_range, guard_range, train_doppler, guard_doppler;
  double independent;              /* independent cells of the full window */
  int changed, short_window;       /* short_window: fewer than wanted fit */
} rf_cfar_resolved;
int rf_cfar_resolve(rf_cfar_config *cfg, size_t bins, size_t cells, rf_cfar_resolved *out);
typedef struct rf_cfar rf_cfar;
/* Map of `bins` x `cells` (Doppler wraps around, range does not). Each cell
 * under test uses both range sides of its window when both lie inside the
 * usable cells, else the one that does (never a partial side; a cell with
 * neither is not tested); blanked bins are no cell under test and no
 * training row. Each distinct window shape gets its factor at create. */
int rf_cfar_create(rf_cfar **c, const rf_cfar_config *cfg, size_t bins, size_t cells);
/* power [bins][cells] (borrowed). Writes up to max_hits hits (cell > threshold),
 * sets *nhits to the number found (may exceed max_hits: then only the first
 * max_hits in map order were written). */
int rf_cfar_execute(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits,
                    size_t *nhits);
void rf_cfar_destroy(rf_cfar *c);
/* Closed-form threshold factor for n independent unit exponential cells
 * (threshold = alpha * mean of the n cells; OS alpha * k-th smallest; GO/SO
 * n split into two sides). Returns a negative status on bad arguments. */
int rf_cfar_alpha(int kind, double pfa, int n, int os_rank, double *alpha);
/* The per-kind loops behind rf_cfar_execute, one map each, twins of the
 * OpenCL kernels rf_cfar_ca/go/so/os; c must have been created with that
 * kind (else RF_EINVAL). Same arguments and results as rf_cfar_execute. */
int rf_cfar_ca_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_go_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_so_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_os_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
/* Column class (RF_CFAR_BOTH/LEAD/LAG) of range cell col, -1 if untested. */
int rf_cfar_class(const rf_cfar *c, size_t col);
/* Cells under test per map; usable cells; bin k blanked; bin k's noise
 * variance relative to the map's mean (the window and canceller's shape). */
size_t rf_cfar_cells_tested(const rf_cfar *c);
size_t rf_cfar_valid_cells(const rf_cfar *c);
int rf_cfar_blanked(const rf_cfar *c, size_t bin);
double rf_cfar_variance(const rf_cfar *c, size_t bin);
/* The map's noise level: a histogram of power / variance(bin) over the
 * usable cells of unblanked bins, RF_CFAR_HIST bins on the float's top bits
 * (1/8 octave), and its median / ln 2 (the mean of exponential noise).
 * rf_cfar_hist_ref is the twin of the kernel rf_cfar_hist. */
#define RF_CFAR_HIST 4096
#define RF_CFAR_HIST_SHIFT 20
void rf_cfar_hist_ref(const rf_cfar *c, const float *power, uint32_t *hist);
double rf_cfar_hist_level(const uint32_t *hist);
/* The object's tables (borrowed), for the OpenCL twin. */
typedef struct rf_cfar_tables {
  int kind;
  size_t bins, cells, valid_cells, w, gr, dko, dkg, nmax, nshapes;
  int blank_bins;
  const int *blank;                /* [bins] */
  const float *inv_var;            /* [bins] */
  const int *shape_of;             /* [bins][3] shape index or -1 */
} rf_cfar_tables;
void rf_cfar_get_tables(const rf_cfar *c, rf_cfar_tables *t);
/* Shape s (< nshapes): its class, rows (bit dk + dko), cells, factor and,
 * for calibrated factors, the relative standard error of the calibration. */
typedef struct rf_cfar_shape_info {
  int cls;
  uint64_t rowmask;
  size_t n, nside, os_k;
  double alpha, os_norm, rse;
} rf_cfar_shape_info;
void rf_cfar_get_shape(const rf_cfar *c, size_t s, rf_cfar_shape_info *info);

/* ---- 6: plot extraction ---------------------------------------------------- */
/* A peak whose power is below RF_EXTRACT_MASK times what the stronger peaks'
 * known responses put at its cell is their sidelobe (6 dB). */
#define RF_EXTRACT_MASK 4.0
/* Doppler response table: steps per bin. */
#define RF_EXTRACT_DOP_STEPS 32
/* Geometry of the dwell, for turning cells into physical values, and the
 * models that extraction uses when they are given (NULL: left out). */
typedef struct rf_dwell_geom {
  double time_s;                   /* CPI mid time */
  int32_t dwell;
  double range_gate_delay_s, sample_rate_hz;
  double lambda_m, pri_s;
  size_t cells, bins;              /* S, K */
  size_t beams_az, beams_el;       /* beam b = ie * beams_az + ia */
  const double *beam_az_deg;       /* [beams] */
  const double *beam_el_deg;       /* [beams] */
  int estimate_elevation;          /* 0 for linear arrays: report beam el */
  /* Borrowed models: the fan (direction by monopulse ratio, support, beam
   * gains for the sidelobe mask; NULL: a parabola across beams); the pulse
   * compression (range response); the Doppler response |W(x)|^2/|W(0)|^2
   * at x = i / RF_EXTRACT_DOP_STEPS bins, i = 0 .. (bins / 2) STEPS; the
   * CFAR object (blanked bins, bin variances); noise_level[beams] each
   * map's noise level (rf_cfar_hist_level; NULL: the hit's CFAR noise). */
  const rf_fan *fan;
  const rf_pc *pc;
  const float *doppler_response;
  const rf_cfar *cfar;
  const double *noise_level;
} rf_dwell_geom;
/* One detection before conversion to a plot row. */
typedef struct rf_detection {
  uint32_t beam, bin, cell;        /* peak cell */
  double range_m, radial_velocity_mps, azimuth_deg, elevation_deg, snr_db;
  double peak_power, cell_offset, bin_offset; /* the peak's power and refined offsets */
} rf_detection;
/* The Doppler response table of rf_dwell_geom for a slow-time window
 * win[pout] and K bins: resp[(K / 2) RF_EXTRACT_DOP_STEPS + 1]. */
void rf_extract_doppler_response(const float *win, size_t pout, size_t bins, float *resp);
typedef struct rf_extract rf_extract;
/* max_hits bounds the hits per dwell across all beams. */
int rf_extract_create(rf_extract **x, size_t beams, size_t bins, size_t cells,
                      size_t max_hits);
/* Peaks of the hits: every hit that is a local maximum against its eight
 * axial neighbours (range, Doppler wrapping, azimuth and elevation beams)
 * and the strongest hit of each group of connected hits (8-connected in
 * range x Doppler within a beam, joined across neighbouring beams); peaks
 * within RF_EXTRACT_MASK of the stronger peaks' responses are dropped as
 * sidelobes. Each peak is refined: range and Doppler by parabolic
 * interpolation of the log power (one-sided through the Doppler response
 * next to a blanked bin), direction by the fan (peaks it does not support
 * are dropped and counted: rf_extract_dropped), SNR against the noise
 * level. hits[b] / nhits[b] are beam b's CFAR hits in map order (at most
 * max_hits in all, else RF_EINVAL); power is [B][K][S]. Writes up to max_out
 * detections ordered by their peak (beam, bin, cell), keeping the strongest
 * if there are more; *nout the count written. */
int rf_extract_execute(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits,
                       rf_detection *out, size_t max_out, size_t *nout);
void rf_extract_destroy(rf_extract *x);
/* Peaks the last execute dropped because the fan does not support their
 * direction. */
size_t rf_extract_dropped(const rf_extract *x);
/* The same from candidates instead of the power cube (the OpenCL path brings
 * back only those): hits as above, and nb[b][8 i + j] the powers around hit
 * i of beam b: j = 0, 1 range cell -1, +1; 2, 3 Doppler bin -1, +1
 * (wrapping); 4, 5 azimuth beam -1, +1; 6, 7 elevation row -1, +1 (0 where
 * there is none). Same results as rf_extract_execute on the cube the values
 * came from. */
int rf_extract_execute_nb(rf_extract *x, const rf_dwell_geom *g, const rf_cfar_hit *const *hits,
                          const size_t *nhits, const float *const *nb, rf_detection *out,
                          size_t max_out, size_t *nout);

#endif
