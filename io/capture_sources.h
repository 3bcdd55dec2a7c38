/* radarflow io/: internals of io/capture_sources.c for the capture reader
 * and the importer (includes hdf5.h; only io/ includes this header). */
#ifndef RF_CAPTURE_SOURCES_INTERNAL_H
#define RF_CAPTURE_SOURCES_INTERNAL_H

#include <hdf5.h>

#include "rf_capture_sources.h"

/* HDF5 1.10 resolves a relative external-storage name against the current
 * directory unless told otherwise, and a virtual dataset opens its source
 * datasets without the access properties given for the virtual dataset
 * (so H5Pset_efile_prefix on /iq does not reach a raw-storage source
 * behind it); only the environment reaches every open, and HDF5 reads it
 * once, when the library initialises. This sets HDF5_EXTFILE_PREFIX and
 * HDF5_VDS_PREFIX to "${ORIGIN}" (the folder of the file that names the
 * source), replacing any value the user had; capture_sources.c calls it
 * when the program is loaded (a constructor), before any HDF5 call and
 * while the process has one thread. Later calls do nothing. */
void rf__h5_origin_prefix(void);

/* The policy of rf_capture_allow_external. */
int rf__capture_external_allowed(void);

/* A dataset access property list for /iq: the chunk cache given and
 * external / virtual file prefixes "${ORIGIN}". Negative on failure. */
hid_t rf__iq_dapl(size_t cache_slots, size_t cache_bytes);

/* Lists the files /iq (open dataset `iq` of `file`, the capture at `path`)
 * reads its samples from, each once: external raw storage of /iq, source
 * files of a virtual /iq, and the external raw storage of its source
 * datasets (one level). *storage is the RF_IQ_* of /iq, *mappings the
 * number of virtual mappings, *segments the external segments of /iq.
 * The array is rf__malloc'd; free with rf__iq_sources_free. */
int rf__iq_sources(hid_t file, hid_t iq, const char *path, int *storage, size_t *mappings,
                   size_t *segments, rf_iq_source **src, size_t *nsrc);
void rf__iq_sources_free(rf_iq_source *src, size_t nsrc);

/* The reader's check of those sources: each must exist as a regular file
 * (stat before HDF5 opens it: a FIFO or device is never opened), lie in the
 * capture's folder unless allow_external, external raw storage must be as
 * long as its segments need, a virtual source must hold its dataset and
 * cover the mapped selection. HDF5 itself would read missing bytes or
 * datasets as zeros without an error. RF_EFORMAT naming the capture, /iq
 * and the file. The resolved paths are appended to *paths (rf__malloc'd
 * strings in a growing array of *npaths). */
int rf__iq_sources_check(hid_t file, hid_t iq, const char *path, int allow_external, char ***paths,
                         size_t *npaths);

/* Every HDF5 external link in the capture (all groups, without following
 * external links): its target file, resolved against the capture's folder
 * when relative, must be a regular file (checked with stat before HDF5
 * could open it) and lie in the capture's folder unless allow_external.
 * RF_EFORMAT naming the link and the file. The targets are appended to
 * *paths as for rf__iq_sources_check. */
int rf__links_check(hid_t file, const char *path, int allow_external, char ***paths, size_t *npaths);

/* Paths (rf__malloc'd results, NULL when out of memory). The folder of
 * `path` ("." when it names none); `name` joined to `dir` unless absolute;
 * 1 when `path` (which need not exist) lies in `dir` or below, compared
 * after resolving symbolic links, 0 otherwise. */
char *rf__path_dirname(const char *path);
char *rf__path_join(const char *dir, const char *name);
int rf__path_inside(const char *dir, const char *path);
/* 1 when both paths name the same existing file. */
int rf__same_file(const char *a, const char *b);

#endif
