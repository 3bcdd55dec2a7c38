/* radarflow io/: internals shared by the files of `radarflow import`
 * (import.c, import_facts.c, import_layout.c, import_sigmf.c,
 * import_plan.c). Includes hdf5.h: only io/ includes this header.
 *
 * The model: a recording is one or more arrays of samples (raw bytes in a
 * file, or a dataset of an HDF5 file), each with named axes (pulse, time,
 * channel, sample, iq, or a fixed index of an axis radarflow does not use),
 * and a list of pulses: where on the pulse or time axis each pulse's
 * fast-time sample 0 lies. The radar facts (waveform, array, site, dwell
 * schedule, pulse times) are kept as text "facts" by section and key, from
 * the SigMF meta file, the layout file and --set, in that order (a later
 * one replaces an earlier one), and read with their origin for messages. */
#ifndef RF_IMPORT_INTERNAL_H
#define RF_IMPORT_INTERNAL_H

#include <hdf5.h>
#include <limits.h>

#include "rf_capture.h"
#include "rf_import.h"

#define RF__IMP_MAXR 8 /* most axes of a foreign samples array */

/* Axis roles. TIME is a continuous recording: pulses are cut from it, so it
 * carries both the pulse and the fast-time sample. */
enum { RF__AX_PULSE = 1, RF__AX_CHANNEL, RF__AX_SAMPLE, RF__AX_IQ, RF__AX_TIME, RF__AX_FIXED };

/* One array of samples. */
typedef struct rf__imp_array {
  int h5;                   /* 1: dataset `dset` of HDF5 file `file`; 0: raw bytes of `file` */
  char file[PATH_MAX];      /* as the user named it (current-directory relative or absolute) */
  char dset[1024];
  uint64_t offset;          /* raw: byte offset of element 0 */
  hid_t type;               /* element type in the file (owned): a signed integer or float of
                             * any byte order; h5 may also be a compound (re, im) */
  int rank;
  hsize_t dims[RF__IMP_MAXR];
  int role[RF__IMP_MAXR];
  hsize_t fixed[RF__IMP_MAXR]; /* RF__AX_FIXED: the index taken */
  int q;                    /* split encoding: 0 holds I, 1 holds Q; -1: both (iq axis or compound) */
  int chan;                 /* no channel axis: the channel it holds (0 for a one-channel recording) */
  int iq_swap;              /* the iq axis (or compound) holds Q first */
  int compound;             /* h5: element is a compound (re, im) */
  char re_name[64], im_name[64]; /* compound member names */
  int group;                /* arrays of one group supply the same pulses (I and Q of split) */
  char h5_dset[1024];       /* raw bytes of this HDF5 dataset (a contiguous compound), else "" */
  uint64_t h5_offset;       /* ... whose data began at this byte of the file */
  char what[1100];          /* for messages: "file" or "file: /dataset" */
} rf__imp_array;

/* Where each pulse lies: pulse p comes from the arrays of group[p] (all 0
 * when NULL); its fast-time sample 0 is index start[p] on their pulse or
 * time axis; a pulse axis array takes samples s0 .. s0 + samples - 1 of its
 * sample axis. */
typedef struct rf__imp_pulses {
  size_t n, samples;
  int64_t *start;     /* [n] */
  uint32_t *group;    /* [n] or NULL */
  hsize_t s0;
} rf__imp_pulses;

/* ---- facts ------------------------------------------------------------------------- */
typedef struct rf__fact {
  char *section, *key, *value;
  char *origin;       /* "file:line: [section] key", "file: global radarflow:key", "--set ..." */
  int from;           /* 0 SigMF meta, 1 layout, 2 --set */
} rf__fact;

typedef struct rf__facts {
  rf__fact *v;
  size_t n, cap;
  hid_t h5;           /* the source HDF5 file for @references, or H5I_INVALID_HID */
  const char *h5_path;
  const char *where;  /* names the inputs in "required" messages */
} rf__facts;

/* Stores a fact; an unknown section or key is RF_EFORMAT naming `origin`.
 * A fact already given by a later input (larger `from`) is kept. With
 * `append` a value already given from the same input is continued (list
 * continuation lines). */
int rf__facts_put(rf__facts *f, const char *section, const char *key, const char *value,
                  const char *origin, int from, int append);
const rf__fact *rf__facts_get(const rf__facts *f, const char *section, const char *key);
void rf__facts_free(rf__facts *f);
/* Parses "section.key=value" (--set) into f. */
int rf__facts_set(rf__facts *f, const char *assignment);

/* Typed reads: a literal, or "@/path/to/object@attribute" or
 * "@/path/to/dataset" in the source HDF5 file, optionally followed by
 * "* factor". Absent: *has = 0 (or RF_EFORMAT "required" when has is
 * NULL). Range errors name the fact's origin. */
int rf__facts_num(const rf__facts *f, const char *section, const char *key, double lo, double hi,
                  double *v, int *has);
int rf__facts_int(const rf__facts *f, const char *section, const char *key, double lo, double hi,
                  int64_t *v, int *has);
int rf__facts_str(const rf__facts *f, const char *section, const char *key, char *buf, size_t len,
                  int *has);
/* A list of numbers (rf__malloc'd, *n of them; NULL and 0 when absent). */
int rf__facts_list(const rf__facts *f, const char *section, const char *key, double **v, size_t *n);
/* Reports a problem with a fact: "<origin>: <message>"; returns RF_EFORMAT. */
int rf__fact_err(const rf__fact *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A required fact that no input gave: "<where>: [section] key: required
 * ..." with a hint where it may come from; returns RF_EFORMAT. */
int rf__fact_missing(const rf__facts *f, const char *section, const char *key, const char *hint);

/* ---- readers of the source -------------------------------------------------------------- */
/* What a source yields: arrays, pulses cut from them, and the facts. */
typedef struct rf__imp_source {
  int kind;                  /* RF_IMPORT_SIGMF, RF_IMPORT_HDF5, RF_IMPORT_RAW */
  rf__imp_array *arr;
  size_t narr;
  rf__imp_pulses pulses;
  double *pulse_time_s;      /* [pulses.n] */
  size_t pcap;               /* room in the pulse arrays */
  int az_later;              /* dwell azimuths may be set after rf__imp_dwells (NaN until then) */
  /* dwells cut (first pulse, count) and per-dwell direction */
  size_t dwells;
  int64_t *first_pulse;
  int32_t *num_pulses;
  double *azimuth_deg, *elevation_deg, *tx_bw_az_deg, *tx_bw_el_deg; /* tx_*: NULL when absent */
  char notes[1024];          /* warnings for the report */
  char meta_path[PATH_MAX];  /* SigMF: the meta file */
} rf__imp_source;

void rf__imp_source_free(rf__imp_source *s);

/* SigMF: reads the meta file (SOURCE may name the meta, the data file or
 * their common stem) into facts, one array per data stretch and the pulses
 * (by PRI or annotations), with times and dwells. The layout and --set
 * facts already in f override the meta file's. */
int rf__sigmf_read(const char *source, rf__facts *f, rf__imp_source *s);
int rf__sigmf_is(const char *source); /* 1 when SOURCE looks like SigMF */
/* Loads a layout file into f (its keys replace those from a SigMF meta). */
int rf__layout_load(rf__facts *f, const char *path);
/* Raw and HDF5 sources described by the [source] facts: arrays, pulses,
 * times, dwells. `h5` is the open source file for HDF5 (or invalid). */
int rf__layout_source(const char *source, int kind, rf__facts *f, rf__imp_source *s);

/* Shared by both: cuts dwells of `dwell.pulses` consecutive pulses (or the
 * first_pulse/num_pulses lists), and fills direction arrays from the dwell
 * facts (lists cycled). `seg_of` (may be NULL) keeps a dwell inside one
 * stretch of the recording. */
int rf__imp_dwells(const rf__facts *f, rf__imp_source *s, const uint32_t *seg_of);
/* Cuts pulses from a stretch [seg_start, seg_start + seg_len) of a time
 * axis (stream sample indices) whose array begins at stream index
 * axis_base: at the transmit indices tx[ntx] (when tx is not NULL) or on a
 * PRI grid from pulses.first_transmit_sample; fast time starts
 * pulses.gate_samples after transmit and lasts pulses.samples. Appends
 * them to s->pulses (group g) with times t0_s + (tx - seg_start) / fs.
 * `where` names the transmit list for messages. */
int rf__imp_cut_time(const rf__facts *f, rf__imp_source *s, int64_t seg_start, int64_t seg_len,
                     int64_t axis_base, const int64_t *tx, size_t ntx, uint32_t g, double t0_s,
                     double fs_hz, const char *where);
/* Appends one pulse; 0 or RF_ENOMEM. */
int rf__imp_add_pulse(rf__imp_source *s, int64_t start, uint32_t g, double time_s);

/* ---- writing /iq ------------------------------------------------------------------------- */
typedef struct rf__imp_plan_out {
  int storage;               /* RF_IQ_EXTERNAL, RF_IQ_VIRTUAL or RF_IQ_CHUNKED (copied) */
  char reason[512];          /* why copied */
  int sample_type;           /* RF_SAMPLE_* of /iq */
  uint64_t sample_bytes;     /* bytes of samples in the sources */
  char **sources;            /* names written in the capture (external_sources) */
  size_t nsources;
  int outside;               /* a source lies outside the capture's folder */
  size_t mappings, segments;
} rf__imp_plan_out;

/* Creates /iq in `file` (the temporary capture at `tmp_path`, whose final
 * name `final_path` lies in the same folder) from the arrays and pulses:
 * external raw storage when the bytes line up, else a virtual dataset,
 * else (or with `copy`) a copy. channels from the arrays. */
int rf__imp_write_iq(hid_t file, const char *final_path, const rf__imp_source *s, size_t channels,
                     double scale, int copy, rf__imp_plan_out *out);
void rf__imp_plan_out_free(rf__imp_plan_out *o);
/* Channels (length of the channel axis, 1 when none) of an array. */
size_t rf__imp_channels(const rf__imp_array *a);

#endif
