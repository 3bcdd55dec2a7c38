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
/* The receive beam fan of a capture: beams_az x beams_el beams centred on
 * each dwell's transmit direction, spaced by spacing_*_deg or, when 0, by
 * half the 3 dB beamwidth computed at that direction (so the fan follows
 * scan broadening). A linear array (no elevation aperture at the first
 * dwell's direction) gets one beam row and no elevation estimate. create
 * computes the beamwidths and beam directions of every distinct transmit
 * direction; nothing after it allocates or can fail but for a dwell out of
 * range (RF_EINVAL). */
typedef struct rf_fan_config {
  const double (*element_position_m)[3]; /* [channels] ENU (copied) */
  size_t channels;                       /* N >= 1 */
  double lambda_m;                       /* > 0 */
  int beams_az;                          /* >= 1 */
  int beams_el;                          /* >= 1, or 0: 3 on a planar array */
  double spacing_az_deg, spacing_el_deg; /* >= 0; 0 = half the beamwidth */
  int taper;                             /* RF_TAPER_* across the aperture */
  double taylor_sll_db;
  int taylor_nbar;
  size_t dwells;                         /* >= 1 */
  const double *azimuth_deg;             /* [dwells] transmit direction (read at create) */
  const double *elevation_deg;           /* [dwells] */
} rf_fan_config;
typedef struct rf_fan rf_fan;
int rf_fan_create(rf_fan **fan, const rf_fan_config *cfg);
void rf_fan_destroy(rf_fan *fan);
/* Beams B = beams_az * beams_el of every dwell. */
size_t rf_fan_beams(const rf_fan *fan);
/* Dwell d's fan: beam b = ie * beams_az + ia (arrays borrowed from the fan
 * for its life) and the 3 dB beamwidths at its transmit direction. */
typedef struct rf_fan_view {
  size_t beams, beams_az, beams_el;
  int estimate_elevation;                /* 0 for linear arrays */
  const double *beam_az_deg, *beam_el_deg; /* [beams] */
  double beamwidth_az_deg, beamwidth_el_deg; /* el: 0 on a linear array */
} rf_fan_view;
int rf_fan_dwell(const rf_fan *fan, size_t dwell, rf_fan_view *v);
/* Dwell d's weights w [B][N] (rf_beam_weights of its beams). */
int rf_fan_weights(const rf_fan *fan, size_t dwell, float complex *w);

typedef struct rf_bf rf_bf;
int rf_bf_create(rf_bf **bf, size_t channels, size_t beams, size_t cells);
/* in [pulses][N][cells]; out beam b, pulse p at out + b*beam_stride + p*cells.
 * w is [beams][channels] (borrowed). */
int rf_bf_execute(rf_bf *bf, const float complex *w, const float complex *in,
                  size_t pulses, float complex *out, size_t beam_stride);
void rf_bf_destroy(rf_bf *bf);

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
typedef struct rf_cfar_config {
  int kind;                        /* RF_CFAR_* */
  double pfa;                      /* design false-alarm probability, (0, 0.5) */
  int train_range, guard_range;    /* cells each side in range: train >= 1 */
  int train_doppler, guard_doppler;/* bins each side in Doppler: may be 0 */
  int os_rank;                     /* OS: k-th smallest (1-based); 0 = 3/4 of cells */
  /* Noise correlation across range cells: range_corr[k] = |r(k)|^2 / |r(0)|^2
   * for lags k = 0 .. range_corr_len - 1 (the pulse-compression filter's
   * autocorrelation; copied). Correlated training cells carry fewer
   * independent looks; the factors use the effective count. NULL = white. */
  const double *range_corr;
  size_t range_corr_len;
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
typedef struct rf_cfar rf_cfar;
/* Map of `bins` x `cells` (Doppler wraps around, range does not: near the
 * range edges only the available side is used, with the threshold factor for
 * that many cells, so Pfa holds everywhere). */
int rf_cfar_create(rf_cfar **c, const rf_cfar_config *cfg, size_t bins, size_t cells);
/* power [bins][cells] (borrowed). Writes up to max_hits hits (cell > threshold),
 * sets *nhits to the number found (may exceed max_hits: then only the first
 * max_hits in map order were written). */
int rf_cfar_execute(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits,
                    size_t *nhits);
void rf_cfar_destroy(rf_cfar *c);
/* Threshold factor alpha (threshold = alpha * mean of the n training cells;
 * for OS threshold = alpha * k-th smallest) giving pfa on exponential
 * (square-law, complex Gaussian) noise. n training cells total, split evenly
 * into two sides for GO/SO. Returns a negative status on bad arguments. */
int rf_cfar_alpha(int kind, double pfa, int n, int os_rank, double *alpha);
/* The per-kind loops behind rf_cfar_execute, one map each, twins of the
 * OpenCL kernels rf_cfar_ca/go/so/os; c must have been created with that
 * kind (else RF_EINVAL). Same arguments and results as rf_cfar_execute. */
int rf_cfar_ca_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_go_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_so_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
int rf_cfar_os_ref(rf_cfar *c, const float *power, rf_cfar_hit *hits, size_t max_hits, size_t *nhits);
/* The object's window and factor tables (borrowed), for the OpenCL twin:
 * alpha[n] (CA/OS, n = training cells available, NaN where n never occurs),
 * alpha_both / alpha_side (GO/SO), os_k[n] / os_norm[n] (OS). */
typedef struct rf_cfar_tables {
  int kind;
  size_t bins, cells, w, gr, dko, dkg, rows, grows, nmax, nhalf;
  const double *alpha;
  double alpha_both, alpha_side;
  const double *os_norm;
  const size_t *os_k;
} rf_cfar_tables;
void rf_cfar_get_tables(const rf_cfar *c, rf_cfar_tables *t);

/* ---- 6: plot extraction ---------------------------------------------------- */
/* Geometry of the dwell, for turning cells into physical values. */
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
} rf_dwell_geom;
/* One detection before conversion to a plot row. */
typedef struct rf_detection {
  uint32_t beam, bin, cell;        /* peak cell */
  double range_m, radial_velocity_mps, azimuth_deg, elevation_deg, snr_db;
} rf_detection;
typedef struct rf_extract rf_extract;
/* max_hits bounds the hits per dwell across all beams. */
int rf_extract_create(rf_extract **x, size_t beams, size_t bins, size_t cells,
                      size_t max_hits);
/* Groups adjacent crossings (8-connected in range x Doppler within a beam,
 * Doppler wrapping, and joined across neighbouring beams), keeps each group's
 * peak, refines range and Doppler by parabolic interpolation of the log
 * power, direction by comparing neighbouring beams, and estimates SNR from
 * the peak over its CFAR noise. hits[b] / nhits[b] are beam b's CFAR hits
 * in map order (as rf_cfar_execute writes them; at most max_hits in all, else
 * RF_EINVAL); power is [B][K][S]. Writes up to max_out detections ordered by
 * their peak (beam, bin, cell), keeping the strongest if there are more;
 * *nout the count written. */
int rf_extract_execute(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits,
                       rf_detection *out, size_t max_out, size_t *nout);
void rf_extract_destroy(rf_extract *x);
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
