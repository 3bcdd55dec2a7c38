/* radarflow: optimal linear assignment (rectangular, minimum total cost),
 * the global-nearest-neighbour step of the tracker. Shortest augmenting
 * paths with dual variables (Jonker-Volgenant as described by Crouse, "On
 * implementing 2D rectangular assignment algorithms", IEEE TAES 2016):
 * O(n^2 m) for n = min(rows, cols), m = max(rows, cols). */
#ifndef RF_ASSIGN_H
#define RF_ASSIGN_H

#include "../host/rf_common.h"

/* Entries equal to RF_ASSIGN_FORBIDDEN (+infinity) may not be chosen. Every
 * other entry must be finite (any sign). */
#define RF_ASSIGN_FORBIDDEN (__builtin_inf())

typedef struct rf_assign rf_assign;

/* Scratch for problems up to max_rows x max_cols (both >= 1). */
int rf_assign_create(rf_assign **a, size_t max_rows, size_t max_cols);
void rf_assign_destroy(rf_assign *a);   /* NULL is a no-op */

/* Solves min sum cost[i * cols + row_to_col[i]] over assignments that give
 * each row a distinct column when rows <= cols (each column a distinct row
 * when rows > cols; unassigned rows get -1). cost is borrowed, row-major
 * [rows][cols]; row_to_col [rows] is written; *total (may be NULL) gets the
 * optimal cost. RF_EINVAL when the size exceeds the object's, RF_ERANGE
 * when no feasible assignment exists (a row, or for rows > cols a column,
 * that can only take forbidden entries). Never allocates. */
int rf_assign_execute(rf_assign *a, const double *cost, size_t rows, size_t cols,
                      int32_t *row_to_col, double *total);

#endif
