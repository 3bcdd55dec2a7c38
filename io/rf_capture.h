/* radarflow: capture files (docs/formats.md, "Capture file").
 * The reader validates the whole file before anything is allocated for
 * samples, then streams /iq by whole pulses (HDF5 hyperslabs), so memory does
 * not grow with the file. The writer (used by the simulator) writes to a
 * temporary name and renames on close. Only io/ includes hdf5.h. */
#ifndef RF_CAPTURE_H
#define RF_CAPTURE_H

#include "../host/rf_common.h"
#include "../host/rf_stages.h" /* enum rf_sample_type */

enum rf_waveform_type { RF_WAVEFORM_LFM = 0, RF_WAVEFORM_CUSTOM = 1 };

/* Reader limits: a capture that would need more than this is refused
 * (RF_EFORMAT) before any allocation. */
#define RF_MAX_CHANNELS 4096
#define RF_MAX_SAMPLES (1u << 22)          /* fast-time samples per pulse */
#define RF_MAX_PULSES_PER_DWELL 65536
#define RF_MAX_PULSES (1u << 26)           /* rows of /iq */
#define RF_MAX_DWELLS (1u << 24)
#define RF_MAX_PULSE_BYTES ((size_t)1 << 28) /* channels*samples*2*sizeof */

/* Plausibility limits (formats.md "Checks and limits"): a value outside is
 * refused at open (RF_EFORMAT naming the file and field). */
#define RF_MAX_GATE_DELAY_S 1.0           /* range_gate_delay_s: ranges to 150 000 km */
#define RF_MIN_ABS_SCALE 1e-30            /* /iq scale, in magnitude */
#define RF_MAX_ABS_SCALE 1e30
#define RF_MAX_ABS_CALIBRATION 1e30       /* |/array/calibration| */
#define RF_MAX_ELEMENT_OFFSET_M 1e5       /* |element_position_m| per axis */
#define RF_MAX_ABS_TIME_S 1e10            /* |pulse_time_s|: before year 2286 */
/* Largest value processing may reach (see rf_capture_open): its square,
 * the power, stays 300 times below FLT_MAX. */
#define RF_MAX_PROCESSED_AMPLITUDE 1e18

/* Everything but the samples. Arrays are owned by the capture (reader) or
 * borrowed (writer input). */
typedef struct rf_capture_meta {
  char radar_name[256];
  double site_latitude_deg, site_longitude_deg, site_altitude_m;

  int waveform_type;              /* RF_WAVEFORM_* */
  double center_frequency_hz;     /* > 0 */
  double sample_rate_hz;          /* > 0 */
  double bandwidth_hz;            /* > 0 */
  double pulse_width_s;           /* > 0, < pri_s */
  double pri_s;                   /* > 0 */
  double range_gate_delay_s;      /* >= 0 */
  /* Replica: for LFM computed from the formula of formats.md (round(T fs)
   * samples), for custom read from /waveform/reference. Always set by the
   * reader. The writer writes /waveform/reference only for custom. */
  size_t reference_len;
  float complex *reference;

  size_t channels;
  double (*element_position_m)[3]; /* [channels] ENU */
  int has_calibration;
  float complex *calibration;      /* [channels]; reader: all 1 when absent */

  size_t pulses;                   /* rows of /iq */
  size_t samples;                  /* fast-time samples per pulse */
  int sample_type;                 /* RF_SAMPLE_* */
  double scale;                    /* /iq attribute scale, default 1 */

  size_t dwells;
  int64_t *first_pulse;            /* [dwells] */
  int32_t *num_pulses;             /* [dwells] */
  double *azimuth_deg;             /* [dwells] */
  double *elevation_deg;           /* [dwells] */
  /* Optional /dwell/tx_beamwidth_az_deg, _el_deg: 3 dB width of the
   * transmit beam per dwell, in (0, 180]; NULL when absent (the transmit
   * beam is then the receive array's own beam). The writer writes them
   * when non-NULL. */
  double *tx_beamwidth_az_deg;     /* [dwells] or NULL */
  double *tx_beamwidth_el_deg;     /* [dwells] or NULL */
  double *pulse_time_s;            /* [pulses] */

  int has_truth;                   /* /truth present */
} rf_capture_meta;

/* Ground truth rows (/truth). `dwell` comes from the extension dataset
 * /truth/dwell when present, else from matching time_s to dwell mid times
 * (-1 when none matches). */
typedef struct rf_truth {
  size_t rows;
  int32_t *target_id;
  int32_t *dwell;
  double *time_s;
  double (*position_enu_m)[3];
  double (*velocity_enu_mps)[3];
  double *range_m, *radial_velocity_mps, *azimuth_deg, *elevation_deg, *snr_db;
} rf_truth;

typedef struct rf_capture rf_capture;

/* Opens and validates `path`. On failure returns RF_EFORMAT (bad or
 * unreadable file, message names the file and the field) or RF_ENOMEM, and
 * *cap is NULL. */
int rf_capture_open(rf_capture **cap, const char *path);
void rf_capture_close(rf_capture *cap);          /* NULL is a no-op */
/* Process-wide policy for rf_capture_open (and the storage facts of
 * inspect): 0 (default) refuses HDF5 external links, external raw storage
 * and virtual-dataset sources whose files lie outside the capture's folder;
 * 1 allows them (--allow-external). Either way such files must be regular
 * files (stat before HDF5 opens anything: a FIFO or device never is).
 * Returns the previous setting. */
int rf_capture_allow_external(int allow);
/* The files the capture reads beyond itself (external-link targets,
 * external raw storage, virtual-dataset sources), resolved; borrowed. */
size_t rf_capture_source_count(const rf_capture *cap);
const char *rf_capture_source_path(const rf_capture *cap, size_t i);
const rf_capture_meta *rf_capture_get_meta(const rf_capture *cap);
const char *rf_capture_path(const rf_capture *cap);
/* Size of the file in bytes. */
uint64_t rf_capture_file_size(const rf_capture *cap);

/* Bytes of one raw sample pair (I and Q) for a sample type. */
size_t rf_sample_pair_bytes(int sample_type);
/* Bytes of one raw pulse: channels * samples * pair bytes. */
size_t rf_capture_pulse_bytes(const rf_capture_meta *m);

/* Reads pulses [first, first+count) of /iq into raw, in the file's sample
 * type (int16 or float32, native byte order), layout
 * [count][channels][samples][2]. raw is borrowed and must hold count *
 * rf_capture_pulse_bytes bytes. A read failure (truncated or corrupt file)
 * is RF_EFORMAT naming the file and /iq. */
int rf_capture_read_pulses(rf_capture *cap, size_t first, size_t count, void *raw);

/* Reads /truth (RF_EFORMAT if absent or malformed). Free with
 * rf_truth_free. */
int rf_capture_read_truth(rf_capture *cap, rf_truth **truth);
void rf_truth_free(rf_truth *t);                  /* NULL is a no-op */
/* Allocates a truth table of `rows` rows (all arrays), zeroed. */
int rf_truth_alloc(rf_truth **t, size_t rows);

/* Writer. create() writes the root attributes, /waveform, /array, /dwell
 * and /pulse_time_s from meta (borrowed) and creates /iq chunked by whole
 * pulses, all under a temporary name beside `path`. */
typedef struct rf_capture_writer rf_capture_writer;
int rf_capture_writer_create(rf_capture_writer **w, const char *path,
                             const rf_capture_meta *meta);
/* Writes pulses [first, first+count) from raw, laid out as for
 * rf_capture_read_pulses in meta->sample_type. */
int rf_capture_writer_write_pulses(rf_capture_writer *w, size_t first, size_t count,
                                   const void *raw);
/* Writes /truth (including the /truth/dwell extension). */
int rf_capture_writer_write_truth(rf_capture_writer *w, const rf_truth *t);
/* Flushes, closes and renames into place; frees w in all cases. */
int rf_capture_writer_close(rf_capture_writer *w);
/* Closes and removes the temporary file; frees w. NULL is a no-op. */
void rf_capture_writer_abort(rf_capture_writer *w);

/* The LFM replica of formats.md: n = round(pulse_width_s * sample_rate_hz)
 * samples of exp(j pi (B/T) t^2 - j pi B t), t = i / fs. */
void rf_lfm_replica(double bandwidth_hz, double pulse_width_s, double sample_rate_hz,
                    size_t n, float complex *out);

#endif
