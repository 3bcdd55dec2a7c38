/* radarflow: a plots.h5 read in slices (rows [first, first + n) at a time),
 * so a long plot file is tracked in constant memory. */
#ifndef RF_PLOT_READER_H
#define RF_PLOT_READER_H

#include "rf_products.h"

typedef struct rf_plot_reader rf_plot_reader;

/* Opens path's /plots (RF_EFORMAT naming the file and what is wrong: not
 * HDF5, no /plots, not a compound, a column missing). *present gets the
 * sensor attributes the root has, as bits in the order of
 * rf_plot_reader_attr_names (a radarflow plots.h5 has all of them). */
int rf_plot_reader_open(rf_plot_reader **r, const char *path, unsigned *present);
void rf_plot_reader_close(rf_plot_reader *r);   /* NULL is a no-op */
size_t rf_plot_reader_rows(const rf_plot_reader *r);
/* Rows [first, first + n) into out (n rows, borrowed). */
int rf_plot_reader_read(rf_plot_reader *r, size_t first, size_t n, rf_plot *out);
/* The time_s and dwell columns alone, rows [first, first + n). */
int rf_plot_reader_read_keys(rf_plot_reader *r, size_t first, size_t n, double *time_s, int32_t *dwell);

/* Root attributes whose presence rf_plot_reader_open reports, bit k for
 * name k (NULL-terminated). */
extern const char *const rf_plot_reader_attr_names[];

#endif
