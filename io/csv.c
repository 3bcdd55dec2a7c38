/* radarflow io/: the CSV reader and writer of the product tables (table.h),
 * used by the plot and track files. Numbers are printed and parsed in the C
 * locale ('.' decimal point) whatever the process locale is; doubles with
 * the decimals each column needs (the glossary, io/columns.c). Files are
 * written under a temporary name, fsynced and renamed (rf_files.h). */
#include "table.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest CSV line the reader accepts: 22 numbers of at most ~25 chars. */
#define RF__CSV_LINE_MAX 4096
#define RF__ROWS_MIN_CAP 64

int rf__rows_reserve(void **v, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : RF__ROWS_MIN_CAP, bytes;
  while (c < need) {
    if (c > SIZE_MAX / 2) return -1;
    c *= 2;
  }
  void *nv;
  if (rf__mul_size(c, size, &bytes) < 0 || !(nv = rf__realloc(*v, bytes))) return -1;
  *v = nv;
  *cap = c;
  return 0;
}

/* The C numeric locale for this thread, restored by leave. */
typedef struct rf__c_locale {
  locale_t c, old;
} rf__c_locale;

static int rf__c_locale_enter(rf__c_locale *s) {
  s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (s->c == (locale_t)0) return -1;
  s->old = uselocale(s->c);
  return 0;
}

static void rf__c_locale_leave(rf__c_locale *s) {
  uselocale(s->old);
  freelocale(s->c);
}

/* The header line: column names joined by commas. */
static int rf__header(const rf__table *t, char *buf, size_t len) {
  size_t o = 0;
  for (size_t k = 0; k < t->ncols; k++) {
    int w = snprintf(buf + o, len - o, "%s%s", k ? "," : "", t->cols[k].name);
    if (w < 0 || (size_t)w >= len - o) return -1;
    o += (size_t)w;
  }
  return 0;
}

/* Largest magnitude printed in fixed point (larger: %.17g, so a line stays
 * short). */
#define RF__CSV_FIXED_MAX 1e15

/* A double to `decimals` digits after the point (decimals < 0: %.17g); a
 * value that rounds to zero loses its sign ("-0.000" would be noise). */
static int rf__put_double(FILE *fp, const char *sep, double v, int decimals) {
  if (decimals < 0 || !(fabs(v) < RF__CSV_FIXED_MAX)) return fprintf(fp, "%s%.17g", sep, v);
  char b[64];
  snprintf(b, sizeof b, "%.*f", decimals, v);
  const char *s = b;
  if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1)) s = b + 1;
  return fprintf(fp, "%s%s", sep, s);
}

/* One row's fields; 0, -1 on a write error, -2 on a bad word value.
 * decimals[k]: column k's (rf__col_doc). */
static int rf__write_row(FILE *fp, const rf__table *t, const char *row, const int *decimals) {
  for (size_t k = 0; k < t->ncols; k++) {
    const char *p = row + t->cols[k].off, *sep = k ? "," : "";
    int32_t iv;
    switch (t->cols[k].kind) {
    case RF__COL_F64:
      if (rf__put_double(fp, sep, *(const double *)p, decimals[k]) < 0) return -1;
      break;
    case RF__COL_I32:
      memcpy(&iv, p, sizeof iv);
      if (fprintf(fp, "%s%d", sep, (int)iv) < 0) return -1;
      break;
    default:
      memcpy(&iv, p, sizeof iv);
      if (iv < 0 || iv >= t->nwords) return -2;
      if (fprintf(fp, "%s%s", sep, t->words[iv]) < 0) return -1;
    }
  }
  return fputc('\n', fp) == EOF ? -1 : 0;
}

int rf__csv_write(const char *path, const rf__table *t, const void *rows, size_t n) {
  char *tmp = NULL, header[RF__CSV_LINE_MAX];
  FILE *fp = NULL;
  rf__c_locale loc;
  int st = 0, have_loc = 0, decimals[RF__CSV_LINE_MAX / 2];
  if (!path || (n && !rows) || t->ncols > sizeof decimals / sizeof decimals[0])
    return rf__err(RF_EINVAL, "%s: bad arguments", t->what);
  for (size_t k = 0; k < t->ncols; k++) {
    const rf__col_doc *d = rf__col_doc_find(t->what, t->cols[k].name);
    decimals[k] = d ? d->decimals : -1;
  }
  if (rf__header(t, header, sizeof header) < 0) return rf__err(RF_EINVAL, "%s: header too long", path);
  if (!(tmp = rf_tmp_path(path))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if (rf__c_locale_enter(&loc) < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  have_loc = 1;
  errno = 0;
  if (!(fp = fopen(tmp, "w"))) goto fail;
  int bad = fprintf(fp, "%s\n", header) < 0 ? -1 : 0;
  for (size_t i = 0; i < n && !bad; i++) {
    bad = rf__write_row(fp, t, (const char *)rows + i * t->row_size, decimals);
    if (bad == -2) {
      st = rf__err(RF_EINVAL, "%s: row %zu: a word column holds no valid value", path, i);
      goto cleanup;
    }
  }
  if (bad || fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) goto fail;
  int cr = fclose(fp);
  fp = NULL;
  if (cr != 0) goto fail;
  st = rf_commit_tmp(tmp, path);
  rf__free(tmp);
  tmp = NULL;
  goto cleanup;
fail:
  st = rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
cleanup:
  if (fp) fclose(fp);
  if (tmp) unlink(tmp);
  rf__free(tmp);
  if (have_loc) rf__c_locale_leave(&loc);
  return st;
}

/* Splits line s at commas into at most max fields; the count, or max + 1
 * when there are more. */
static size_t rf__split(char *s, char **f, size_t max) {
  size_t n = 0;
  for (;;) {
    if (n == max) return max + 1;
    f[n++] = s;
    char *c = strchr(s, ',');
    if (!c) return n;
    *c = 0;
    s = c + 1;
  }
}

/* One field into the row; 0 or -1. */
static int rf__parse_field(const char *f, const rf__table *t, const rf__col *c, char *row) {
  char *end;
  char *p = row + c->off;
  errno = 0;
  if (c->kind == RF__COL_F64) {
    double v = strtod(f, &end);
    memcpy(p, &v, sizeof v);
    return end == f || *end ? -1 : 0;
  }
  int32_t iv = -1;
  if (c->kind == RF__COL_I32) {
    long v = strtol(f, &end, 10);
    if (end == f || *end || errno || v < INT32_MIN || v > INT32_MAX) return -1;
    iv = (int32_t)v;
  } else {
    for (int w = 0; w < t->nwords; w++)
      if (!strcmp(f, t->words[w])) iv = w;
    if (iv < 0) return -1;
  }
  memcpy(p, &iv, sizeof iv);
  return 0;
}

/* The reader's state: which table column each field of the header is. */
typedef struct rf__csv_in {
  const char *path;
  const rf__table *t;
  char *field[RF__CSV_LINE_MAX / 2];
  int col[RF__CSV_LINE_MAX / 2]; /* table column of field i, -1: not read */
  size_t nfields;
  char defaults[512];            /* a row of absent extension columns */
} rf__csv_in;

static int rf__parse_header(rf__csv_in *in, char *line) {
  const rf__table *t = in->t;
  const size_t maxf = sizeof in->field / sizeof in->field[0];
  if (t->row_size > sizeof in->defaults) return rf__err(RF_EINVAL, "%s: %s rows too large", in->path, t->what);
  in->nfields = rf__split(line, in->field, maxf);
  if (in->nfields > maxf) return rf__err(RF_EFORMAT, "%s: line 1: too many columns", in->path);
  memset(in->defaults, 0, sizeof in->defaults);
  for (size_t k = 0; k < t->ncols; k++) {
    size_t seen = 0;
    for (size_t i = 0; i < in->nfields; i++)
      if (!strcmp(in->field[i], t->cols[k].name)) seen++;
    if (seen > 1) return rf__err(RF_EFORMAT, "%s: line 1: column %s appears %zu times", in->path, t->cols[k].name, seen);
    if (!seen && k < t->nrequired) return rf__err(RF_EFORMAT, "%s: line 1: no column %s", in->path, t->cols[k].name);
    if (!seen && t->cols[k].kind == RF__COL_F64) {
      double nan = NAN;
      memcpy(in->defaults + t->cols[k].off, &nan, sizeof nan);
    }
  }
  for (size_t i = 0; i < in->nfields; i++) {
    in->col[i] = -1;
    for (size_t k = 0; k < t->ncols; k++)
      if (!strcmp(in->field[i], t->cols[k].name)) in->col[i] = (int)k;
  }
  return 0;
}

static int rf__parse_row(rf__csv_in *in, char *line, size_t lineno, char *row) {
  const size_t maxf = sizeof in->field / sizeof in->field[0];
  size_t n = rf__split(line, in->field, maxf);
  if (n != in->nfields)
    return rf__err(RF_EFORMAT, "%s: line %zu: %s%zu fields, the header has %zu", in->path, lineno,
                   n > maxf ? "more than " : "", n > maxf ? maxf : n, in->nfields);
  memcpy(row, in->defaults, in->t->row_size);
  for (size_t i = 0; i < n; i++) {
    if (in->col[i] < 0) continue;
    const rf__col *c = &in->t->cols[in->col[i]];
    if (rf__parse_field(in->field[i], in->t, c, row) < 0)
      return rf__err(RF_EFORMAT, "%s: line %zu: column %s: bad value '%.40s'", in->path, lineno, c->name,
                     in->field[i]);
  }
  return 0;
}

/* Reads fp's lines into *rows / *n (see rf__csv_read). */
static int rf__read_lines(FILE *fp, rf__csv_in *in, void **rows, size_t *n) {
  char line[RF__CSV_LINE_MAX];
  size_t lineno = 0, cap = 0;
  int st;
  while (fgets(line, sizeof line, fp)) {
    size_t len = strlen(line);
    lineno++;
    if (len == 0 || line[len - 1] != '\n') {
      if (!feof(fp) || len + 1 >= sizeof line) return rf__err(RF_EFORMAT, "%s: line %zu: too long", in->path, lineno);
    } else {
      line[--len] = 0;
    }
    if (len && line[len - 1] == '\r') line[--len] = 0;
    if (lineno == 1) {
      if ((st = rf__parse_header(in, line))) return st;
      continue;
    }
    if (len == 0) continue;
    if (rf__rows_reserve(rows, &cap, *n + 1, in->t->row_size) < 0)
      return rf__err(RF_ENOMEM, "%s: out of memory", in->path);
    if ((st = rf__parse_row(in, line, lineno, (char *)*rows + *n * in->t->row_size))) return st;
    (*n)++;
  }
  if (ferror(fp)) return rf__err(RF_EFORMAT, "%s: cannot read: %s", in->path, strerror(errno));
  if (lineno == 0) return rf__err(RF_EFORMAT, "%s: line 1: missing header", in->path);
  return 0;
}

int rf__csv_read(const char *path, const rf__table *t, void **rows, size_t *n) {
  rf__c_locale loc;
  *rows = NULL;
  *n = 0;
  rf__csv_in *in = rf__malloc(sizeof *in);
  if (!in) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  in->path = path;
  in->t = t;
  int st = 0;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    st = rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  } else if (rf__c_locale_enter(&loc) < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
  } else {
    st = rf__read_lines(fp, in, rows, n);
    rf__c_locale_leave(&loc);
  }
  if (fp) fclose(fp);
  rf__free(in);
  if (st) {
    rf__free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return st;
}
