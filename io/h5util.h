/* radarflow io/: internal HDF5 helpers shared by the capture reader/writer
 * and the product files - attribute and dataset access with one-line error
 * messages "<file>: <object>: <what>", in-memory product files, and the
 * compound datasets of the product tables (table.h). HDF5 only: the
 * general file utilities are host/rf_files.h, CSV is io/csv.c. Only io/
 * includes this header (it includes hdf5.h). */
#ifndef RF_H5UTIL_H
#define RF_H5UTIL_H

#include <hdf5.h>

#include "../host/rf_common.h"
#include "table.h"

/* Turns off HDF5's own error printing for this thread (idempotent), and on
 * the first call keeps HDF5 from installing its atexit handler (see
 * h5util.c: HDF5 1.10 crashes there after a failed H5Fclose). */
void rf__h5_quiet(void);

/* Opens path read-only for the product readers: one clean line when it is
 * missing ("cannot open: No such file or directory"), not a regular file,
 * or not HDF5; RF_EFORMAT naming the file. *fapl and *f (closed by the
 * caller, also on failure when >= 0). */
int rf__h5_open_read(const char *path, hid_t *fapl, hid_t *f);

/* The epoch of every time_s, as the products' root attribute time_epoch. */
#define RF__H5_TIME_EPOCH "1970-01-01T00:00:00Z"

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
/* A 1-D attribute of n variable-length UTF-8 strings. */
herr_t rf__h5_write_attr_strings(hid_t loc, const char *name, const char *const *values, size_t n);
/* Attributes "units" and "description" (scalar strings) of dataset name of
 * loc. */
herr_t rf__h5_describe_dset(hid_t loc, const char *name, const char *unit, const char *description);
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
 * attributes format / format_version / time_epoch and, when info is not
 * NULL, the provenance attributes source_path (made absolute), radar_name,
 * site_*; it returns 0 and
 * the file in *f, or RF_ENOMEM / RF_EIO naming path. rf__h5_image_commit
 * writes the image to path atomically and closes f in all cases. */
/* 1 when path is a capture (root format "radarflow.capture") whose root
 * string attribute attr starts with program (e.g. "import_program",
 * "radarflow import"): a file radarflow wrote and may replace. */
int rf__h5_written_by(const char *path, const char *attr, const char *program);

struct rf_product_info;
/* The root attributes of a product file: format, format_version 1,
 * time_epoch and, when info is not NULL, source_path (made absolute),
 * radar_name, site_*. */
herr_t rf__h5_product_attrs(hid_t f, const char *format, const struct rf_product_info *info);
int rf__h5_image_create(hid_t *f, const char *path, const char *format,
                        const struct rf_product_info *info);
int rf__h5_image_commit(hid_t f, const char *path);

/* The compound type of a table (table.h): RF__H5_MEM in memory (native,
 * the row struct's layout), RF__H5_FILE in the file (little-endian, packed,
 * table order) or RF__H5_PACKED (native, the file's packed layout: no
 * conversion on a little-endian host). Word columns are an HDF5 enum of the
 * words, or with words_as_int a plain native int32 (to read files that
 * store them so). Negative on failure. */
enum { RF__H5_MEM = 0, RF__H5_FILE = 1, RF__H5_PACKED = 2 };
hid_t rf__h5_table_type(const rf__table *t, int layout, int words_as_int);
/* Writes the n rows as 1-D compound dataset `name` of loc; negative on
 * failure (the caller names the file). */
herr_t rf__h5_write_table(hid_t loc, const char *name, const rf__table *t, const void *rows, size_t n);
/* A table product file: rf__h5_image_create with `format` and info, the
 * attributes `attrs` writes (may be NULL; negative on failure), the rows as
 * dataset /<what> with the glossary's "units" and "descriptions" of its
 * columns (string arrays in member order), written atomically. RF_EIO naming the file; nothing left
 * at path on failure. */
struct rf_product_info;
int rf__table_write_h5(const char *path, const char *format, const rf__table *t, const void *rows, size_t n,
                       const struct rf_product_info *info, herr_t (*attrs)(hid_t f, const struct rf_product_info *info));
/* A table product file written as rows come, for products too long to
 * hold in memory (tracks.h5 of a long run): a real HDF5 file (sec2 driver)
 * at a temporary name beside path, with the root attributes of
 * rf__h5_image_create and the rows as dataset /<what>, chunked
 * (RF__H5_STREAM_CHUNK_ROWS rows) and unlimited, extended a chunk at a time;
 * memory does not grow with the rows. commit writes the last rows, closes
 * the file, fsyncs and renames it to path and destroys s (also on failure,
 * when the temporary is removed); abort removes the temporary (NULL is a
 * no-op). The same file contents as rf__table_write_h5 bar the layout.
 * HDF5 does touch the disk here: after a failed write (a full disk) the
 * file is closed and removed; should H5Fclose itself fail, the file ID
 * HDF5 leaves behind is harmless because rf__h5_quiet keeps HDF5's atexit
 * handler out, and `process` runs in a supervised child besides. RF_EIO
 * naming the file; RF_ENOMEM. */
#define RF__H5_STREAM_CHUNK_ROWS 4096
/* libhdf5 (Debian's serial build) is not thread-safe: code that calls it
 * while another thread may (a streamed table's chunk writes on `track`'s
 * writer thread, plots.h5 slices read on the main thread) holds this lock
 * around the calls. */
void rf__h5_lock(void);
void rf__h5_unlock(void);
typedef struct rf__h5_stream rf__h5_stream;
int rf__h5_stream_create(rf__h5_stream **s, const char *path, const char *format, const rf__table *t,
                         const struct rf_product_info *info);
int rf__h5_stream_add(rf__h5_stream *s, const void *rows, size_t n);
int rf__h5_stream_commit(rf__h5_stream *s);
void rf__h5_stream_abort(rf__h5_stream *s);

/* Reads 1-D compound dataset `name` of file path ("/" + name in messages)
 * into a new rf__malloc'd array (*rows, NULL when empty): every column of
 * the table must be present; word columns may be an enum or an integer and
 * must hold 0 .. nwords-1. RF_EFORMAT naming the file and dataset;
 * RF_ENOMEM. */
int rf__h5_read_table(const char *path, const char *name, const rf__table *t, void **rows, size_t *n);

#endif
