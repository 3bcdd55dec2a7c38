/* radarflow: where a capture's samples live. /iq may be stored in the
 * capture (contiguous, chunked, compact), in external raw storage (raw bytes
 * of other files, HDF5 "external" datasets) or as a virtual dataset over
 * datasets of other HDF5 files - what `radarflow import` writes to refer to
 * a recording instead of copying it (docs/import.md). Relative file names
 * are resolved against the capture's own folder, never the current
 * directory. */
#ifndef RF_CAPTURE_SOURCES_H
#define RF_CAPTURE_SOURCES_H

#include "../host/rf_common.h"

enum rf_iq_storage {
  RF_IQ_CONTIGUOUS = 0,
  RF_IQ_CHUNKED = 1,
  RF_IQ_COMPACT = 2,
  RF_IQ_EXTERNAL = 3, /* external raw storage: bytes of other files */
  RF_IQ_VIRTUAL = 4   /* virtual dataset: datasets of this or other HDF5 files */
};

/* One file the samples are read from. */
typedef struct rf_iq_source {
  int kind;              /* RF_IQ_EXTERNAL (raw bytes) or RF_IQ_VIRTUAL (an HDF5 file) */
  char *name;            /* as stored in the capture */
  char *path;            /* resolved: a relative name against the capture's folder */
  char *dataset;         /* RF_IQ_VIRTUAL: the source dataset; NULL otherwise */
  uint64_t bytes_needed; /* RF_IQ_EXTERNAL: offset + size of its farthest segment */
  int64_t size_bytes;    /* the file's size; -1 when it cannot be found */
  int regular;           /* 1 when it is a regular file */
  int inside;            /* 1 when it lies in the capture's folder or below */
} rf_iq_source;

/* How /iq is stored and what else a capture says about it, for `radarflow
 * inspect`. Everything owned. */
typedef struct rf_capture_storage {
  int storage;               /* RF_IQ_* */
  char iq_type[48];          /* e.g. "int16 little-endian" */
  uint64_t chunk_pulses;     /* RF_IQ_CHUNKED: pulses per chunk (0 otherwise) */
  char filters[128];         /* RF_IQ_CHUNKED: filter names, "" when none */
  size_t mappings;           /* RF_IQ_VIRTUAL: number of mappings */
  size_t external_segments;  /* RF_IQ_EXTERNAL: segments of /iq itself */
  rf_iq_source *src;         /* [nsrc], each file once */
  size_t nsrc;
  char **listed;             /* root attribute external_sources, [nlisted] */
  size_t nlisted;
  char import_program[64];   /* root attribute import_program ("" when absent) */
  char import_source[1024];  /* root attribute import_source */
  char import_kind[16];      /* root attribute import_kind */
  char import_storage[16];   /* root attribute import_storage */
  size_t dwells;             /* rows of the optional /dwell/tx_beamwidth_* */
  double *tx_beamwidth_az_deg; /* [dwells] or NULL when absent */
  double *tx_beamwidth_el_deg; /* [dwells] or NULL when absent */
} rf_capture_storage;

/* Reads the storage facts of capture `path` (it need not be valid as a
 * whole: only the file, /iq and the attributes above are looked at).
 * RF_EFORMAT naming the file when it is not HDF5 or has no /iq. */
int rf_capture_storage_read(rf_capture_storage **st, const char *path);
void rf_capture_storage_free(rf_capture_storage *st); /* NULL is a no-op */

/* Name of a storage kind ("chunked", "external raw storage", ...). */
const char *rf_iq_storage_name(int storage);

#endif
