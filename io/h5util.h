/* radarflow io/: internal helpers shared by the capture reader/writer and the
 * product writers - HDF5 attribute and dataset access with one-line error
 * messages "<file>: <object>: <what>", and temp-file + rename commits.
 * Only io/ includes this header (it includes hdf5.h). */
#ifndef RF_H5UTIL_H
#define RF_H5UTIL_H

#include <hdf5.h>

#include "../host/rf_common.h"

/* Turns off HDF5's own error printing for this thread (idempotent), and on
 * the first call keeps HDF5 from installing its atexit handler (see
 * h5util.c: HDF5 1.10 crashes there after a failed H5Fclose). */
void rf__h5_quiet(void);

/* The most specific message on the current HDF5 error stack (thread-local
 * buffer), or "unknown HDF5 error". */
const char *rf__h5_errdesc(void);

/* Reason for a failed write: strerror(errno) when errno is set, else the
 * HDF5 message. Set errno = 0 before the failing call. */
const char *rf__io_reason(void);

/* 1 if `name` (one path component) is a link in loc, 0 if not. */
int rf__h5_has(hid_t loc, const char *name);

/* Scalar attribute readers. `obj` names the object in messages ("/" for the
 * root, "/waveform"). When the attribute is absent: if `present` is NULL it
 * is RF_EFORMAT ("missing attribute"), else *present = 0 and 0 is returned.
 * Numbers are converted by HDF5 from any integer (and, for doubles, float)
 * type; strings may be fixed- or variable-length, ASCII or UTF-8, and are
 * truncated to len-1 bytes at a UTF-8 character boundary. */
int rf__h5_attr_double(hid_t loc, const char *path, const char *obj, const char *name,
                       double *v, int *present);
int rf__h5_attr_int(hid_t loc, const char *path, const char *obj, const char *name,
                    long long *v, int *present);
int rf__h5_attr_string(hid_t loc, const char *path, const char *obj, const char *name,
                       char *buf, size_t len, int *present);

/* Opens dataset `name` (one component) of loc; `full` is its full name for
 * messages. Missing: RF_EFORMAT "missing dataset". With `present` non-NULL
 * a missing dataset gives *present = 0 and 0. */
int rf__h5_open_dset(hid_t loc, const char *path, const char *full, const char *name,
                     hid_t *dset, int *present);
/* Dimensions of a dataset, requiring rank `rank`. */
int rf__h5_dims(hid_t dset, const char *path, const char *full, int rank, hsize_t *dims);
/* Reads a whole dataset converted to native double (integer or float
 * source) / native int64 (integer source), into out (borrowed, sized by the
 * caller from rf__h5_dims). */
int rf__h5_read_double(hid_t dset, const char *path, const char *full, double *out);
int rf__h5_read_int64(hid_t dset, const char *path, const char *full, int64_t *out);
/* Reads a complex dataset, [n][2] float or compound {r, i} of floats, into
 * a new rf__malloc'd array of n values, requiring 1 <= n <= max_n and all
 * values finite. */
int rf__h5_read_complex(hid_t dset, const char *path, const char *full, size_t max_n,
                        size_t *n, float complex **out);

/* Writers: return a negative HDF5 status on failure (callers add the file
 * name). Strings are variable-length UTF-8, scalar. Datasets are created
 * contiguous with object time tracking off (deterministic files). */
herr_t rf__h5_write_attr_string(hid_t loc, const char *name, const char *value);
herr_t rf__h5_write_attr_double(hid_t loc, const char *name, double value);
herr_t rf__h5_write_attr_int32(hid_t loc, const char *name, int32_t value);
herr_t rf__h5_write_dset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *data);
/* A group with time tracking off; negative on failure. */
hid_t rf__h5_create_group(hid_t loc, const char *name);
/* File creation / access property lists for the writers (caller closes). */
hid_t rf__h5_fcpl(void);
hid_t rf__h5_fapl(void);

/* Product files (plots.h5, tracks.h5) are built in memory (HDF5 core
 * driver, no backing store) and written with rf_write_file_atomic: HDF5
 * never touches the disk, so a full disk is an ordinary write error. (HDF5
 * 1.10 cannot recover from a failed H5Fclose: it leaves a dangling file ID
 * that crashes the process at exit.)
 * rf__h5_image_create makes such a file for `path` with the root
 * attributes format / format_version and, when info is not NULL, the
 * provenance attributes source_path, radar_name, site_*; it returns 0 and
 * the file in *f, or RF_ENOMEM / RF_EIO naming path. rf__h5_image_commit
 * writes the image to path atomically and closes f in all cases. */
/* The compound type of rf_plot (io/products.c): in memory (native, struct
 * layout) or in the file (little-endian, packed); caller closes. */
hid_t rf__plot_type(int file);

struct rf_product_info;
/* The root attributes of a product file: format, format_version 1 and,
 * when info is not NULL, source_path, radar_name, site_*. */
herr_t rf__h5_product_attrs(hid_t f, const char *format, const struct rf_product_info *info);
int rf__h5_image_create(hid_t *f, const char *path, const char *format,
                        const struct rf_product_info *info);
int rf__h5_image_commit(hid_t f, const char *path);

/* CSV numbers are printed and parsed in the C locale ('.' decimal point)
 * whatever the process locale is: enter switches this thread to it (-1 when
 * the locale cannot be made), leave restores the previous one. */
#include <locale.h>
typedef struct rf__c_locale {
  locale_t c, old;
} rf__c_locale;
int rf__c_locale_enter(rf__c_locale *s);
void rf__c_locale_leave(rf__c_locale *s);
/* 1 when path ends in ext (case-insensitive, and is longer than it). */
int rf__has_ext(const char *path, const char *ext);

/* Temporary name beside `path` ("<path>.tmp.<pid>.<n>"), rf__malloc'd;
 * NULL when out of memory. */
char *rf__tmp_path(const char *path);
/* fsyncs tmp, renames it to path and fsyncs the folder (best effort).
 * On failure removes tmp and returns RF_EIO naming path. */
int rf__commit_tmp(const char *tmp, const char *path);

#endif
