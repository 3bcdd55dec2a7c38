/* radarflow pipelines/: optimal rectangular assignment (rf_assign.h). */
#include "rf_assign.h"

#include <math.h>
#include <string.h>

struct rf_assign {
  size_t max_rows, max_cols, nmax, mmax;
  double *u, *v, *spc, *tcost;
  int32_t *path, *col4row, *row4col, *remaining;
  unsigned char *sr, *sc;
};

int rf_assign_create(rf_assign **out, size_t max_rows, size_t max_cols) {
  *out = NULL;
  if (max_rows < 1 || max_cols < 1 || max_rows > INT32_MAX || max_cols > INT32_MAX)
    return rf__err(RF_EINVAL, "assign: sizes must be in [1, 2^31)");
  size_t n = max_rows < max_cols ? max_rows : max_cols, m = max_rows < max_cols ? max_cols : max_rows, nm;
  if (rf__mul_size(n, m, &nm) < 0 || nm > SIZE_MAX / sizeof(double))
    return rf__err(RF_EINVAL, "assign: %zu x %zu is too large", max_rows, max_cols);
  rf_assign *a = rf__calloc(1, sizeof *a);
  if (!a) return rf__err(RF_ENOMEM, "assign: out of memory");
  a->max_rows = max_rows;
  a->max_cols = max_cols;
  a->nmax = n;
  a->mmax = m;
  a->u = rf__malloc(n * sizeof *a->u);
  a->v = rf__malloc(m * sizeof *a->v);
  a->spc = rf__malloc(m * sizeof *a->spc);
  a->tcost = rf__malloc(nm * sizeof *a->tcost);
  a->path = rf__malloc(m * sizeof *a->path);
  a->col4row = rf__malloc(n * sizeof *a->col4row);
  a->row4col = rf__malloc(m * sizeof *a->row4col);
  a->remaining = rf__malloc(m * sizeof *a->remaining);
  a->sr = rf__malloc(n);
  a->sc = rf__malloc(m);
  if (!a->u || !a->v || !a->spc || !a->tcost || !a->path || !a->col4row || !a->row4col ||
      !a->remaining || !a->sr || !a->sc) {
    rf_assign_destroy(a);
    return rf__err(RF_ENOMEM, "assign: out of memory");
  }
  *out = a;
  return 0;
}

void rf_assign_destroy(rf_assign *a) {
  if (!a) return;
  rf__free(a->u);
  rf__free(a->v);
  rf__free(a->spc);
  rf__free(a->tcost);
  rf__free(a->path);
  rf__free(a->col4row);
  rf__free(a->row4col);
  rf__free(a->remaining);
  rf__free(a->sr);
  rf__free(a->sc);
  rf__free(a);
}

/* Shortest augmenting path from free row i over the reduced costs; returns
 * the sink column or -1 when every reachable column is forbidden. */
static int32_t rf__augment(rf_assign *a, const double *c, size_t nc, int32_t i, double *min_out) {
  double minv = 0;
  size_t nrem = nc;
  for (size_t k = 0; k < nc; k++) a->remaining[k] = (int32_t)(nc - k - 1);
  memset(a->sr, 0, a->nmax);
  memset(a->sc, 0, nc);
  for (size_t k = 0; k < nc; k++) a->spc[k] = INFINITY;
  int32_t sink = -1;
  while (sink == -1) {
    size_t index = SIZE_MAX;
    double lowest = INFINITY;
    a->sr[i] = 1;
    for (size_t k = 0; k < nrem; k++) {
      int32_t j = a->remaining[k];
      double r = minv + c[(size_t)i * nc + (size_t)j] - a->u[i] - a->v[j];
      if (r < a->spc[j]) {
        a->path[j] = i;
        a->spc[j] = r;
      }
      if (a->spc[j] < lowest || (a->spc[j] == lowest && a->row4col[j] == -1)) {
        lowest = a->spc[j];
        index = k;
      }
    }
    minv = lowest;
    if (index == SIZE_MAX || !isfinite(minv)) return -1;
    int32_t j = a->remaining[index];
    if (a->row4col[j] == -1) sink = j;
    else i = a->row4col[j];
    a->sc[j] = 1;
    a->remaining[index] = a->remaining[--nrem];
  }
  *min_out = minv;
  return sink;
}

int rf_assign_execute(rf_assign *a, const double *cost, size_t rows, size_t cols,
                      int32_t *row_to_col, double *total) {
  if (!a || !row_to_col || (rows && cols && !cost) || rows > a->max_rows || cols > a->max_cols)
    return rf__err(RF_EINVAL, "assign: bad arguments (%zu x %zu)", rows, cols);
  if (total) *total = 0;
  if (rows == 0 || cols == 0) {
    for (size_t r = 0; r < rows; r++) row_to_col[r] = -1;
    return 0;
  }
  /* Work on nr <= nc: transpose a tall problem. */
  int tr = rows > cols;
  size_t nr = tr ? cols : rows, nc = tr ? rows : cols;
  const double *c = cost;
  if (tr) {
    for (size_t i = 0; i < rows; i++)
      for (size_t j = 0; j < cols; j++) a->tcost[j * rows + i] = cost[i * cols + j];
    c = a->tcost;
  }
  for (size_t k = 0; k < nr; k++) {
    a->u[k] = 0;
    a->col4row[k] = -1;
  }
  for (size_t k = 0; k < nc; k++) {
    a->v[k] = 0;
    a->row4col[k] = -1;
    a->path[k] = -1;
  }
  for (size_t cur = 0; cur < nr; cur++) {
    double minv;
    int32_t sink = rf__augment(a, c, nc, (int32_t)cur, &minv);
    if (sink < 0)
      return rf__err(RF_ERANGE, "assign: no feasible assignment (%s %zu has only forbidden entries left)",
                     tr ? "column" : "row", cur);
    a->u[cur] += minv;
    for (size_t i = 0; i < nr; i++)
      if (a->sr[i] && i != cur) a->u[i] += minv - a->spc[a->col4row[i]];
    for (size_t j = 0; j < nc; j++)
      if (a->sc[j]) a->v[j] -= minv - a->spc[j];
    int32_t j = sink;
    for (;;) {
      int32_t i = a->path[j];
      a->row4col[j] = i;
      int32_t t = a->col4row[i];
      a->col4row[i] = j;
      j = t;
      if (i == (int32_t)cur) break;
    }
  }
  double sum = 0;
  if (!tr) {
    for (size_t i = 0; i < rows; i++) {
      row_to_col[i] = a->col4row[i];
      sum += cost[i * cols + (size_t)row_to_col[i]];
    }
  } else {
    for (size_t i = 0; i < rows; i++) row_to_col[i] = a->row4col[i];
    for (size_t i = 0; i < rows; i++)
      if (row_to_col[i] >= 0) sum += cost[i * cols + (size_t)row_to_col[i]];
  }
  if (total) *total = sum;
  return 0;
}
