/* radarflow io/: a product row type described once, as a table of columns
 * (name, offset, kind). The CSV reader and writer (io/csv.c) and the HDF5
 * compound type, writer and reader (io/h5util.c) all come from the table,
 * so plots and tracks share one implementation of each. Internal to io/. */
#ifndef RF_IO_TABLE_H
#define RF_IO_TABLE_H

#include "../host/rf_common.h"

enum rf__col_kind {
  RF__COL_F64, /* double: CSV fixed point, the glossary's decimals (%.17g without an entry), HDF5 IEEE F64LE */
  RF__COL_I32, /* int32_t: CSV %d, HDF5 STD I32LE */
  RF__COL_WORD /* int32_t 0 .. nwords-1: CSV the word, HDF5 an enum of the words */
};

typedef struct rf__col {
  const char *name;
  size_t off; /* offsetof in the row struct */
  int kind;   /* RF__COL_* */
} rf__col;

typedef struct rf__table {
  const char *what;             /* "plots", "tracks": the HDF5 dataset, messages */
  const char *noun;             /* "plot", "track": "<noun> file" in messages */
  const rf__col *cols;
  size_t ncols, row_size;
  size_t nrequired;             /* cols[0, nrequired): the spec's; the rest are
                                   extensions a reader may miss (then NaN) */
  const char *const *words;     /* RF__COL_WORD values, in order */
  int nwords;
} rf__table;

/* ---- the glossary (io/columns.c) --------------------------------------------------------
 * Unit, description and CSV precision of a column, by name (the same
 * quantity reads the same in plots and tracks). */
typedef struct rf__col_doc {
  const char *name;
  const char *unit;        /* "m", "deg", "s since 1970-01-01T00:00:00Z", "1" (a count), "" (a word) */
  const char *description;
  int decimals;            /* CSV digits after the point for RF__COL_F64; -1: not a float */
} rf__col_doc;
/* The entry of table `what` ("plots", "tracks") for column name, else the
 * general one; NULL when the name is not in the glossary. */
const rf__col_doc *rf__col_doc_find(const char *what, const char *name);

/* ---- CSV (io/csv.c) -------------------------------------------------------------------
 * Header row: the column names, comma-separated, in table order. Rows:
 * every field in the C locale whatever the process locale is; doubles to
 * the glossary's decimals (a rounded zero without its sign; |v| >= 1e15
 * and columns without an entry with %.17g). */
int rf__csv_write(const char *path, const rf__table *t, const void *rows, size_t n);
/* A CSV written as rows come: under a temporary name beside path (header
 * written by create); commit fsyncs it and renames it to path (destroying
 * s, also on failure, when the temporary is removed); abort removes the
 * temporary (NULL is a no-op). Memory does not grow with the rows; the
 * bytes are rf__csv_write's. RF_EIO naming the file; RF_ENOMEM. */
typedef struct rf__csv_stream rf__csv_stream;
int rf__csv_stream_create(rf__csv_stream **s, const char *path, const rf__table *t);
int rf__csv_stream_add(rf__csv_stream *s, const void *rows, size_t n);
int rf__csv_stream_commit(rf__csv_stream *s);
void rf__csv_stream_abort(rf__csv_stream *s);

/* Reads a CSV by its header's column names: every required column must be
 * there (any order), missing extension columns read as NaN, unknown columns
 * are skipped - so a file of the spec's columns from another tool reads too.
 * Rows go to a new rf__malloc'd array (*rows; NULL when there are none).
 * CRLF line ends are accepted, blank lines skipped. RF_EFORMAT naming the
 * file, the line and the column; RF_ENOMEM. */
int rf__csv_read(const char *path, const rf__table *t, void **rows, size_t *n);

/* Reads a table file by its extension: .h5 (compound dataset /<what>,
 * rf__h5_read_table) or .csv (rf__csv_read); another is RF_EINVAL. */
int rf__table_read(const char *path, const rf__table *t, void **rows, size_t *n);

/* The plot table (io/products.c), for the plot file read in slices
 * (io/plot_reader.c), and the track table (io/tracks.c). */
extern const rf__table rf__plot_table;
extern const rf__table rf__track_table;

/* Grows a row array *v of *cap rows of `size` bytes to hold at least need
 * rows (doubling, from 64). 0 or -1 (out of memory; *v unchanged). */
int rf__rows_reserve(void **v, size_t *cap, size_t need, size_t size);

#endif
