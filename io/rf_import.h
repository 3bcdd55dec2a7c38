/* radarflow: `radarflow import` - a capture (formats.md) made from a
 * recording in another layout: a SigMF recording, a raw binary file, or an
 * HDF5 file of another layout, described by a layout file (docs/import.md).
 * The capture refers to the recording's samples (external raw storage or a
 * virtual dataset) instead of copying them wherever HDF5 can express the
 * layout, and copies them only where it cannot (the report says why). */
#ifndef RF_IMPORT_H
#define RF_IMPORT_H

#include "../host/rf_common.h"

enum rf_import_kind { RF_IMPORT_SIGMF = 1, RF_IMPORT_HDF5 = 2, RF_IMPORT_RAW = 3 };

typedef struct rf_import_opts {
  const char *source;       /* SigMF meta or data file (or their stem), raw file, HDF5 file */
  const char *output;       /* capture to write */
  const char *layout;       /* layout file (INI) or NULL */
  const char *const *sets;  /* "section.key=value" overrides of layout facts, [nsets] */
  size_t nsets;
  int force;                /* replace `output` when it is an earlier radarflow import */
  int copy;                 /* copy the samples even where they could be referred to */
} rf_import_opts;

typedef struct rf_import_report {
  int kind;                 /* RF_IMPORT_* */
  int storage;              /* RF_IQ_EXTERNAL, RF_IQ_VIRTUAL, or RF_IQ_CHUNKED (copied) */
  char reason[512];         /* why the samples were copied; "" when referred to */
  size_t channels, pulses, samples, dwells;
  size_t pulses_unused;     /* pulses cut but in no dwell */
  int sample_type;          /* RF_SAMPLE_* of /iq */
  uint64_t sample_bytes;    /* bytes of samples in the recording that /iq covers */
  uint64_t file_bytes;      /* size of the capture written */
  size_t nsources;          /* files the capture refers to */
  char sources[8][1024];    /* the first 8 of them, as written in the capture */
  int needs_allow_external; /* a source lies outside the capture's folder */
  size_t mappings, segments;/* virtual mappings, external segments */
  char notes[1024];         /* warnings (dropped pulses, defaults taken) */
} rf_import_report;

/* Imports o->source into o->output (temporary name, renamed when complete;
 * never replaces a file radarflow did not write, and an earlier import
 * only with o->force). RF_EFORMAT / RF_EINVAL naming the file and field on
 * bad input (exit 2), RF_EIO on a write failure. */
int rf_import(const rf_import_opts *o, rf_import_report *rep);

#endif
