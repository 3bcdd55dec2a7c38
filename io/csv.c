/* radarflow io/: the CSV reader and writer of the product tables (table.h),
 * used by the plot and track files. Numbers are printed and parsed in the C
 * locale ('.' decimal point) whatever the process locale is; doubles with
 * the decimals each column needs (the glossary, io/columns.c). Files are
 * written under a temporary name, fsynced and renamed (rf_files.h). */
#include "table.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
/* Below this, v * 10^decimals is an integer a double holds exactly. */
#define RF__CSV_EXACT_INT 9007199254740992.0

static const double rf__pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
static const uint32_t rf__pow10u[] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u};
/* Most decimals printed through the integer path (more: snprintf). */
#define RF__CSV_FAST_DECIMALS 8

/* Decimal digits of u < 10^8 (1 for 0): floor(log10) from the bit length
 * (1233 / 4096 ~ log10 2), corrected by one comparison. */
static unsigned rf__ndigits(uint32_t u) {
  u |= 1; /* same digit count, and a bit length for 0 */
  unsigned t = ((unsigned)(32 - __builtin_clz(u)) * 1233) >> 12;
  return t + (u >= rf__pow10u[t]);
}

/* The eight decimal digits of n < 10^8 (leading zeros kept) as the bytes
 * of a word, the first digit lowest: n split into two halves of four
 * digits, each into two of two, each of those into two digits, all lanes
 * at once (x * 10486 >> 20 is x / 100 below 10^4, x * 103 >> 10 is x / 10
 * below 100). */
static uint64_t rf__digits8(uint32_t n) {
  uint64_t x = (n / 10000) | ((uint64_t)(n % 10000) << 32);
  uint64_t q = ((x * 10486) >> 20) & 0x0000007F0000007FULL;
  x = q | ((x - 100 * q) << 16);
  q = ((x * 103) >> 10) & 0x000F000F000F000FULL;
  x = q | ((x - 10 * q) << 8);
  return x | 0x3030303030303030ULL;
}

/* "00" to "99". */
static const char rf__digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* The pair of digits of v < 100, the first lowest. */
static uint32_t rf__pair(uint32_t v) {
  const unsigned char *p = (const unsigned char *)rf__digits2 + 2 * v;
  return p[0] | (uint32_t)p[1] << 8;
}

/* The four digits of n < 10^4 as rf__digits8 gives eight: two pairs from
 * the table (n * 5243 >> 19 is n / 100 below 10^4). */
static uint32_t rf__digits4(uint32_t n) {
  uint32_t hi = (n * 5243) >> 19;
  return rf__pair(hi) | rf__pair(n - 100 * hi) << 16;
}

/* The bytes of w at p, lowest first. */
static void rf__store8(char *p, uint64_t w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  memcpy(p, &w, 8);
}

static void rf__store4(char *p, uint32_t w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap32(w);
#endif
  memcpy(p, &w, 4);
}

/* The digits of u < 10^16 at o; the end. Like every writer below, it
 * stores up to 7 bytes past the end, which the next field or the row's
 * newline overwrites (a row buffer keeps room for them: rf__row_max). */
static char *rf__put_uint(char *o, uint64_t u) {
  if (u < 100) { /* most integer parts: speeds, angles, probabilities */
    if (u < 10) *o = (char)('0' + u);
    else memcpy(o, rf__digits2 + 2 * u, 2);
    return o + 1 + (u >= 10);
  }
  uint32_t lo = 0;
  int tail = u >= 100000000u;
  if (tail) lo = (uint32_t)(u % 100000000u), u /= 100000000u;
  unsigned nd = rf__ndigits((uint32_t)u);
  if (nd <= 4) rf__store4(o, rf__digits4((uint32_t)u) >> (8 * (4 - nd)));
  else rf__store8(o, rf__digits8((uint32_t)u) >> (8 * (8 - nd)));
  o += nd;
  if (tail) rf__store8(o, rf__digits8(lo)), o += 8;
  return o;
}

/* u / 10^d, d <= 8, by constants. */
static uint64_t rf__div_pow10(uint64_t u, int d) {
  switch (d) {
  case 1: return u / 10u;
  case 2: return u / 100u;
  case 3: return u / 1000u;
  case 4: return u / 10000u;
  case 5: return u / 100000u;
  case 6: return u / 1000000u;
  case 7: return u / 10000000u;
  case 8: return u / 100000000u;
  default: return u;
  }
}

/* u / 10^decimals in fixed point (u < 2^53, decimals <= 8) at o; the end. */
static inline char *rf__put_fixed(char *o, uint64_t u, int decimals) {
  uint64_t ip = rf__div_pow10(u, decimals);
  uint32_t fp = (uint32_t)(u - ip * rf__pow10u[decimals]);
  o = rf__put_uint(o, ip);
  if (!decimals) return o;
  *o++ = '.';
  if (decimals <= 4) rf__store4(o, rf__digits4(fp * rf__pow10u[4 - decimals]));
  else rf__store8(o, rf__digits8(fp * rf__pow10u[RF__CSV_FAST_DECIMALS - decimals]));
  return o + decimals;
}

/* A double the integer path (rf__write_row) does not take, at o; the end:
 * NaN and infinities as printf writes them; %.17g without decimals
 * (decimals < 0) or from 1e15 up; else printf's %.*f (more decimals than
 * the integer path prints, or v 10^decimals from 2^53 up), a value that
 * rounds to zero without its sign ("-0.000" would be noise). */
static char *rf__put_double(char *o, double v, int decimals) {
  if (isnan(v) && !signbit(v)) { /* the usual one: a column with no value */
    memcpy(o, "nan", 3);
    return o + 3;
  }
  if (!isfinite(v)) {
    const char *w = isnan(v) ? (signbit(v) ? "-nan" : "nan") : (v < 0 ? "-inf" : "inf");
    size_t l = strlen(w);
    memcpy(o, w, l);
    return o + l;
  }
  if (decimals < 0 || !(fabs(v) < RF__CSV_FIXED_MAX)) return o + sprintf(o, "%.17g", v);
  if (decimals > 14) decimals = 14; /* a field's room: RF__CSV_F64_MAX */
  char b[64];
  snprintf(b, sizeof b, "%.*f", decimals, v);
  const char *q = b;
  if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1)) q = b + 1;
  size_t l = strlen(q);
  memcpy(o, q, l);
  return o + l;
}

/* How a column is printed, worked out once per stream. */
typedef struct rf__csv_col {
  size_t off;
  int kind, decimals; /* rf__col_doc's */
  double scale, lim;  /* 10^decimals; |v * scale| below lim takes the integer path (else 0) */
} rf__csv_col;

static void rf__csv_col_init(rf__csv_col *c, const rf__table *t, size_t k) {
  const rf__col_doc *d = rf__col_doc_find(t->what, t->cols[k].name);
  c->off = t->cols[k].off;
  c->kind = t->cols[k].kind;
  c->decimals = d ? d->decimals : -1;
  int fast = c->decimals >= 0 && c->decimals <= RF__CSV_FAST_DECIMALS;
  c->scale = fast ? rf__pow10[c->decimals] : 1.0;
  /* The integer path's bounds in one: |v| < 1e15 and |v| 10^d < 2^53 (the
   * first follows from the second once d >= 1). */
  c->lim = !fast ? 0.0 : c->decimals ? RF__CSV_EXACT_INT : RF__CSV_FIXED_MAX;
}

/* One row's fields and newline at o (room for rf__row_max bytes); the
 * bytes written, or -2 on a bad word value. */
static long rf__write_row(char *o, const rf__table *t, const char *row, const rf__csv_col *cols) {
  char *start = o;
  for (size_t k = 0; k < t->ncols; k++) {
    const rf__csv_col *c = &cols[k];
    const char *p = row + c->off;
    int32_t iv;
    if (k) *o++ = ',';
    switch (c->kind) {
    case RF__COL_F64: {
      double v;
      memcpy(&v, p, sizeof v);
      double a = v * c->scale;
      if (fabs(a) < c->lim) {
        /* The integer path: round(v 10^decimals), printed in fixed point.
         * The last digit can differ from printf's by one only where v lies
         * within an ulp of a rounding tie (the error stays under half a
         * unit of the last digit plus an ulp of v); printf's multi-precision
         * path was most of a product's writing time. llrint rounds as
         * nearbyint does (the current mode: to nearest, ties to even),
         * inline (-fno-math-errno); a value that rounds to zero loses its
         * sign. */
        long long r = llrint(a);
        uint64_t u = r < 0 ? -(uint64_t)r : (uint64_t)r;
        if (r < 0) *o++ = '-';
        /* The glossary's usual decimal counts as constants: their divisions
         * and table lookups fold. */
        switch (c->decimals) {
        case 3: o = rf__put_fixed(o, u, 3); break;
        case 6: o = rf__put_fixed(o, u, 6); break;
        case 7: o = rf__put_fixed(o, u, 7); break;
        case 8: o = rf__put_fixed(o, u, 8); break;
        default: o = rf__put_fixed(o, u, c->decimals);
        }
      } else {
        o = rf__put_double(o, v, c->decimals);
      }
      break;
    }
    case RF__COL_I32:
      memcpy(&iv, p, sizeof iv);
      if (iv < 0) *o++ = '-';
      o = rf__put_uint(o, iv < 0 ? (uint64_t)(-(int64_t)iv) : (uint64_t)iv);
      break;
    default: {
      memcpy(&iv, p, sizeof iv);
      if (iv < 0 || iv >= t->nwords) return -2;
      size_t l = strlen(t->words[iv]);
      memcpy(o, t->words[iv], l);
      o += l;
    }
    }
  }
  *o++ = '\n';
  return (long)(o - start);
}

/* ---- the writer ------------------------------------------------------------------- */
/* A CSV being written goes out in writes of about this much. */
#define RF__CSV_WRITE_BUF ((size_t)256 << 10)
/* Rows are printed in blocks of this many, a block per OpenMP thread at
 * once when an add brings at least two blocks (printf's number formatting
 * is most of a product's writing time), then written in order. */
#define RF__CSV_BLOCK_ROWS 256
/* Bytes a field can take at most: %.17g of a double is at most 24
 * characters, fixed point (below 1e15, at most 14 decimals) 31, an int32
 * 11; words are measured. The integer path's stores past a field's end
 * stay inside this room: its fields (sign, at most 16 digits and the
 * point: 18) plus 7 bytes for a double, an int32's (sign and at most 8
 * digits before its one 8-byte store past them) plus 7. */
#define RF__CSV_F64_MAX 32
#define RF__CSV_I32_MAX 12

struct rf__csv_stream {
  const rf__table *t;
  char *path, *tmp;
  int fd;               /* the temporary file; -1: none */
  char *out;            /* bytes not yet written: [fill]; room for RF__CSV_WRITE_BUF + a block */
  size_t fill;
  locale_t c; /* the C numeric locale, used while rows are printed */
  size_t rows;
  int nblk;             /* blocks printed at once (threads) */
  size_t blk_bytes;     /* a block's buffer: RF__CSV_BLOCK_ROWS longest rows */
  char *blk;            /* [nblk - 1][blk_bytes]: blocks after the first (printed into out) */
  size_t *blk_len;      /* [nblk]: bytes printed; (size_t)-1: failed */
  rf__csv_col *cols;    /* [ncols]: how each is printed */
  rf_writeback wb;
};

/* The longest row of table t, with its commas and newline, plus one. */
static size_t rf__row_max(const rf__table *t) {
  size_t n = 1;
  for (size_t k = 0; k < t->ncols; k++) {
    size_t w = t->cols[k].kind == RF__COL_F64 ? RF__CSV_F64_MAX : RF__CSV_I32_MAX;
    if (t->cols[k].kind == RF__COL_WORD)
      for (int i = 0; i < t->nwords; i++)
        if (strlen(t->words[i]) > w) w = strlen(t->words[i]);
    n += w + 1;
  }
  return n;
}

/* Prints rows [0, n) (n <= RF__CSV_BLOCK_ROWS) into buf (room for n
 * rf__row_max rows); the length, or -2 (a bad word) with *bad the row. */
static long rf__print_block(const rf__table *t, const rf__csv_col *cols, const char *rows, size_t n, char *buf,
                            size_t *bad) {
  long len = 0;
  for (size_t i = 0; i < n; i++) {
    long l = rf__write_row(buf + len, t, rows + i * t->row_size, cols);
    if (l < 0) {
      *bad = i;
      return l;
    }
    len += l;
  }
  return len;
}

void rf__csv_stream_abort(rf__csv_stream *s) {
  if (!s) return;
  if (s->fd >= 0) close(s->fd);
  if (s->tmp) unlink(s->tmp);
  if (s->c != (locale_t)0) freelocale(s->c);
  rf__free(s->tmp);
  rf__free(s->path);
  rf__free(s->out);
  rf__free(s->blk);
  rf__free(s->blk_len);
  rf__free(s->cols);
  rf__free(s);
}

static int rf__csv_stream_fail(rf__csv_stream *s) {
  return rf__err(RF_EIO, "%s: cannot write: %s", s->path, strerror(errno ? errno : EIO));
}

/* Writes out what is buffered. */
static int rf__csv_flush(rf__csv_stream *s) {
  if (!s->fill) return 0;
  errno = 0;
  if (rf_write_all(s->fd, s->out, s->fill) < 0) return rf__csv_stream_fail(s);
  rf_writeback_note(&s->wb, s->fill);
  s->fill = 0;
  return 0;
}

int rf__csv_stream_create(rf__csv_stream **out, const char *path, const rf__table *t) {
  char header[RF__CSV_LINE_MAX];
  *out = NULL;
  if (!path) return rf__err(RF_EINVAL, "%s: bad arguments", t->what);
  if (rf__header(t, header, sizeof header) < 0) return rf__err(RF_EINVAL, "%s: header too long", path);
  rf__csv_stream *s = rf__calloc(1, sizeof *s);
  if (!s) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  s->t = t;
  s->fd = -1;
  s->nblk = 1;
#ifdef _OPENMP
  s->nblk = omp_get_max_threads() > 1 ? omp_get_max_threads() : 1;
#endif
  s->blk_bytes = RF__CSV_BLOCK_ROWS * rf__row_max(t);
  size_t blk_total;
  if (!(s->path = rf__strdup(path)) || !(s->tmp = rf_tmp_path(path)) ||
      !(s->out = rf__malloc(RF__CSV_WRITE_BUF + s->blk_bytes)) ||
      rf__mul_size((size_t)s->nblk - 1, s->blk_bytes, &blk_total) < 0 ||
      (blk_total && !(s->blk = rf__malloc(blk_total))) ||
      !(s->blk_len = rf__malloc((size_t)s->nblk * sizeof *s->blk_len)) ||
      !(s->cols = rf__malloc((t->ncols ? t->ncols : 1) * sizeof *s->cols)) ||
      (s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0) {
    rf__csv_stream_abort(s);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  for (size_t k = 0; k < t->ncols; k++) rf__csv_col_init(&s->cols[k], t, k);
  errno = 0;
  if ((s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
    int st = rf__csv_stream_fail(s);
    rf__csv_stream_abort(s);
    return st;
  }
  s->wb.fd = s->fd;
  size_t hl = strlen(header);
  memcpy(s->out, header, hl);
  s->out[hl] = '\n';
  s->fill = hl + 1;
  *out = s;
  return 0;
}

int rf__csv_stream_add(rf__csv_stream *s, const void *rows, size_t n) {
  if (n && !rows) return rf__err(RF_EINVAL, "%s: bad arguments", s->path);
  const char *r = rows;
  const size_t rs = s->t->row_size;
  for (size_t done = 0; done < n;) {
    /* Up to nblk blocks of rows [done, done + m), printed at once. */
    size_t left = n - done, nb = (left + RF__CSV_BLOCK_ROWS - 1) / RF__CSV_BLOCK_ROWS, bad_row = 0;
    if (nb > (size_t)s->nblk) nb = (size_t)s->nblk;
    size_t m = nb * RF__CSV_BLOCK_ROWS < left ? nb * RF__CSV_BLOCK_ROWS : left;
    long fail = 0;
    /* The first block is printed straight into the output buffer. */
    int st = RF__CSV_WRITE_BUF + s->blk_bytes - s->fill < s->blk_bytes ? rf__csv_flush(s) : 0;
    if (st) return st;
#pragma omp parallel for schedule(static, 1) if (nb > 1)
    for (size_t b = 0; b < nb; b++) {
      size_t first = b * RF__CSV_BLOCK_ROWS, k = m - first < RF__CSV_BLOCK_ROWS ? m - first : RF__CSV_BLOCK_ROWS, bad = 0;
      locale_t old = uselocale(s->c);
      char *to = b ? s->blk + (b - 1) * s->blk_bytes : s->out + s->fill;
      long len = rf__print_block(s->t, s->cols, r + (done + first) * rs, k, to, &bad);
      uselocale(old);
      s->blk_len[b] = len < 0 ? (size_t)-1 : (size_t)len;
      if (len < 0) {
#pragma omp critical(rf__csv_fail)
        if (!fail || first + bad < bad_row) fail = len, bad_row = first + bad;
      }
    }
    if (fail == -2)
      return rf__err(RF_EINVAL, "%s: row %zu: a word column holds no valid value", s->path, s->rows + done + bad_row);
    if (fail) return rf__err(RF_EIO, "%s: cannot print rows", s->path);
    s->fill += s->blk_len[0];
    for (size_t b = 1; b < nb; b++) {
      if (RF__CSV_WRITE_BUF + s->blk_bytes - s->fill < s->blk_len[b] && (st = rf__csv_flush(s))) return st;
      memcpy(s->out + s->fill, s->blk + (b - 1) * s->blk_bytes, s->blk_len[b]);
      s->fill += s->blk_len[b];
    }
    if (s->fill >= RF__CSV_WRITE_BUF && (st = rf__csv_flush(s))) return st;
    done += m;
  }
  s->rows += n;
  return 0;
}

int rf__csv_stream_commit(rf__csv_stream *s) {
  int st = rf__csv_flush(s);
  if (!st) {
    errno = 0;
    int cr = close(s->fd);
    s->fd = -1;
    st = cr ? rf__csv_stream_fail(s) : rf_commit_tmp(s->tmp, s->path); /* fsync, rename */
  }
  if (!st) {
    rf__free(s->tmp);
    s->tmp = NULL;
  }
  rf__csv_stream_abort(s);
  return st;
}

int rf__csv_write(const char *path, const rf__table *t, const void *rows, size_t n) {
  rf__csv_stream *s;
  if (!path || (n && !rows)) return rf__err(RF_EINVAL, "%s: bad arguments", t->what);
  int st = rf__csv_stream_create(&s, path, t);
  if (st) return st;
  if ((st = rf__csv_stream_add(s, rows, n))) {
    rf__csv_stream_abort(s);
    return st;
  }
  return rf__csv_stream_commit(s);
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
