/* radarflow io/: /iq of an imported capture, made from the recording's
 * arrays and pulses (import_internal.h) in the cheapest form HDF5 can
 * express:
 * 1. external raw storage of /iq itself, when /iq's bytes are a short list
 *    of byte ranges of the recording (same sample type, I/Q pairs adjacent,
 *    fast time contiguous: e.g. one-channel SigMF, or a pulse-major layout);
 * 2. a virtual dataset whose mappings are hyperslabs of the recording: a
 *    raw file is first described by a dataset of this file with external
 *    raw storage (group /import), a foreign HDF5 dataset is named directly.
 *    Axes are reordered by mapping one fixed index of the out-of-order axis
 *    (e.g. each channel) at a time, and pulses cut from a continuous
 *    recording are a strided hyperslab (start, stride = PRI, block =
 *    samples), one per run of equally spaced pulses. HDF5 converts the
 *    sample type on reading (int8 -> int16, int32/float64 -> float32);
 * 3. a copy, chunked and checksummed like a simulated capture, when neither
 *    can express the layout (a complex compound type in chunked storage,
 *    too many mappings) or when asked for. */
#include "import_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_sources.h"
#include "h5util.h"
#include "rf_capture_sources.h"

/* External segments of /iq at most (HDF5 keeps the list in one object
 * header message of at most 64 KiB, 24 bytes per segment). */
#define RF__IMP_MAX_SEGMENTS 1024
/* Virtual mappings at most: HDF5 1.10 visits every mapping on each read. */
#define RF__IMP_MAX_MAPPINGS 4096
/* A copy moves pulses in blocks of at most this many bytes. */
#define RF__IMP_COPY_BLOCK_BYTES ((size_t)32 << 20)
#define RF__IMP_MIN_CHUNK_BYTES ((size_t)64 << 10)

enum { RF__P, RF__C, RF__S, RF__Q, RF__NROLE };

size_t rf__imp_channels(const rf__imp_array *a) {
  for (int k = 0; k < a->rank; k++)
    if (a->role[k] == RF__AX_CHANNEL) return (size_t)a->dims[k];
  return 1;
}

/* Axis of each role in array a (-1 when none); TIME serves P and S. */
typedef struct rf__axes {
  int ax[RF__NROLE];
  int time; /* P and S share a TIME axis */
} rf__axes;

static void rf__axes_of(const rf__imp_array *a, rf__axes *x) {
  for (int r = 0; r < RF__NROLE; r++) x->ax[r] = -1;
  x->time = 0;
  for (int k = 0; k < a->rank; k++) switch (a->role[k]) {
    case RF__AX_PULSE: x->ax[RF__P] = k; break;
    case RF__AX_TIME: x->ax[RF__P] = x->ax[RF__S] = k; x->time = 1; break;
    case RF__AX_SAMPLE: x->ax[RF__S] = k; break;
    case RF__AX_CHANNEL: x->ax[RF__C] = k; break;
    case RF__AX_IQ: x->ax[RF__Q] = k; break;
    default: break;
    }
}

/* Position of a role in the array's iteration order (larger = faster). */
static int rf__pos(const rf__imp_array *a, const rf__axes *x, int r) {
  if (r == RF__Q && x->ax[RF__Q] < 0) return 1000; /* compound: inside the element */
  if (x->ax[r] < 0) return -1;                        /* absent (one channel) */
  return 2 * x->ax[r] + (r == RF__S && x->time);
}

/* The roles that vary inside one mapping (bit r), chosen so that the
 * array's order of them matches /iq's (P, C, S, Q) and the number of
 * mappings is least. */
static unsigned rf__vary(const rf__imp_array *a, const rf__imp_pulses *pl, size_t channels) {
  rf__axes x;
  rf__axes_of(a, &x);
  unsigned best = 0;
  double best_cost = 0;
  for (unsigned v = 0; v < 16; v++) {
    /* Absent axes and a compound's pair always "vary" (they are one
     * index or inside the element); a split array's Q is fixed. */
    if (x.ax[RF__C] < 0 && !(v & (1u << RF__C))) continue;
    if (x.ax[RF__Q] < 0 && a->q < 0 && !(v & (1u << RF__Q))) continue;
    if (a->q >= 0 && (v & (1u << RF__Q))) continue;
    if (a->iq_swap && x.ax[RF__Q] >= 0 && (v & (1u << RF__Q))) continue;
    int last = -2, ok = 1;
    for (int r = 0; r < RF__NROLE && ok; r++) {
      if (!(v & (1u << r))) continue;
      int p = rf__pos(a, &x, r);
      if (p < 0) continue;
      if (p <= last) ok = 0;
      last = p;
    }
    if (!ok) continue;
    double cost = (v & 1u) ? 1.0 : (double)pl->n;
    if (!(v & (1u << RF__C))) cost *= (double)channels;
    if (!(v & (1u << RF__S))) cost *= (double)pl->samples;
    if (!(v & (1u << RF__Q)) && a->q < 0) cost *= 2;
    if (best_cost == 0 || cost < best_cost) {
      best = v;
      best_cost = cost;
    }
  }
  return best;
}

/* One mapping: a hyperslab of array `a` onto a hyperslab of /iq. */
typedef struct rf__map {
  int a;
  hsize_t start[RF__IMP_MAXR], stride[RF__IMP_MAXR], count[RF__IMP_MAXR], block[RF__IMP_MAXR];
  hsize_t dstart[4], dcount[4];
} rf__map;

typedef int (*rf__emit_fn)(void *ctx, const rf__map *m);

/* Emits the mappings of pulses [p0, p1) of array a (whose group supplies
 * them). */
static int rf__gen_array(const rf__imp_source *s, int ai, size_t channels, size_t p0, size_t p1,
                         rf__emit_fn emit, void *ctx) {
  const rf__imp_array *a = &s->arr[ai];
  const rf__imp_pulses *pl = &s->pulses;
  rf__axes x;
  rf__axes_of(a, &x);
  unsigned v = rf__vary(a, pl, channels);
  int vp = v & 1u, vc = (v >> RF__C) & 1u, vs = (v >> RF__S) & 1u, vq = (v >> RF__Q) & 1u;
  size_t S = pl->samples;
  size_t nc = vc ? 1 : channels, ns = vs ? 1 : S, nq = (a->q >= 0 || vq) ? 1 : 2;
  if (x.ax[RF__C] < 0) nc = 1; /* the array holds channel a->chan alone */
  size_t p = p0;
  while (p < p1) {
    if (pl->group && pl->group[p] != (uint32_t)a->group) {
      p++;
      continue;
    }
    /* A run of equally spaced pulses of this group (one pulse unless P varies). */
    size_t n = 1;
    int64_t stride = 1;
    if (vp && p + 1 < p1 && (!pl->group || pl->group[p + 1] == (uint32_t)a->group)) {
      stride = pl->start[p + 1] - pl->start[p];
      int ok = stride >= 1 && (!x.time || !vs || stride >= (int64_t)S);
      if (ok) {
        n = 2;
        while (p + n < p1 && (!pl->group || pl->group[p + n] == (uint32_t)a->group) &&
               pl->start[p + n] - pl->start[p + n - 1] == stride)
          n++;
      }
    }
    if (n == 1) stride = 1;
    for (size_t c = 0; c < nc; c++)
      for (size_t sm = 0; sm < ns; sm++)
        for (size_t q = 0; q < nq; q++) {
          rf__map m;
          memset(&m, 0, sizeof m);
          m.a = ai;
          size_t qq = a->q >= 0 ? (size_t)a->q : q;
          for (int k = 0; k < a->rank; k++) {
            m.start[k] = 0;
            m.stride[k] = 1;
            m.count[k] = 1;
            m.block[k] = 1;
            switch (a->role[k]) {
            case RF__AX_PULSE:
              m.start[k] = (hsize_t)pl->start[p];
              m.stride[k] = (hsize_t)stride;
              m.count[k] = n;
              break;
            case RF__AX_TIME:
              m.start[k] = (hsize_t)pl->start[p] + (vs ? 0 : sm);
              m.stride[k] = (hsize_t)(n > 1 ? stride : (vs ? (int64_t)S : 1));
              m.count[k] = n;
              m.block[k] = vs ? S : 1;
              break;
            case RF__AX_SAMPLE:
              m.start[k] = pl->s0 + (vs ? 0 : sm);
              m.block[k] = vs ? S : 1;
              m.stride[k] = m.block[k];
              break;
            case RF__AX_CHANNEL:
              m.start[k] = vc ? 0 : c;
              m.block[k] = vc ? a->dims[k] : 1;
              m.stride[k] = m.block[k];
              break;
            case RF__AX_IQ:
              m.start[k] = vq ? 0 : (a->iq_swap ? 1 - qq : qq);
              m.block[k] = vq ? 2 : 1;
              m.stride[k] = m.block[k];
              break;
            case RF__AX_FIXED: m.start[k] = a->fixed[k]; break;
            default: break;
            }
          }
          m.dstart[0] = p;
          m.dcount[0] = n;
          m.dstart[1] = x.ax[RF__C] < 0 ? (hsize_t)a->chan : vc ? 0 : c;
          m.dcount[1] = x.ax[RF__C] < 0 ? 1 : vc ? channels : 1;
          m.dstart[2] = vs ? 0 : sm;
          m.dcount[2] = vs ? S : 1;
          m.dstart[3] = (vq || (a->q < 0 && x.ax[RF__Q] < 0)) ? 0 : qq;
          m.dcount[3] = (vq || (a->q < 0 && x.ax[RF__Q] < 0)) ? 2 : 1;
          int st = emit(ctx, &m);
          if (st) return st;
        }
    /* A run of n pulses of this group covers pulses p .. p + n - 1 only when
     * they are consecutive in /iq, which the run test above ensures. */
    p += n;
  }
  return 0;
}

static int rf__gen(const rf__imp_source *s, size_t channels, size_t p0, size_t p1, rf__emit_fn emit,
                   void *ctx) {
  for (size_t i = 0; i < s->narr; i++) {
    int st = rf__gen_array(s, (int)i, channels, p0, p1, emit, ctx);
    if (st) return st;
  }
  return 0;
}

static int rf__count_cb(void *ctx, const rf__map *m) {
  (void)m;
  size_t *n = ctx;
  if (++*n > RF__IMP_MAX_MAPPINGS) return 1;
  return 0;
}

/* ---- external segments: when /iq's bytes are ranges of the recording ------------------- */
typedef struct rf__seg {
  int a;
  uint64_t off, len;
} rf__seg;

/* Bytes between neighbours along each axis of a raw array. */
static void rf__byte_strides(const rf__imp_array *a, size_t elem, uint64_t *bs) {
  uint64_t b = elem;
  for (int k = a->rank - 1; k >= 0; k--) {
    bs[k] = b;
    b *= a->dims[k];
  }
}

/* The array of group g holding channel c (-1 if none). */
static int rf__array_of(const rf__imp_source *s, uint32_t g, size_t c) {
  for (size_t i = 0; i < s->narr; i++) {
    const rf__imp_array *a = &s->arr[i];
    if ((uint32_t)a->group != g) continue;
    int has_c = 0;
    for (int k = 0; k < a->rank; k++) has_c |= a->role[k] == RF__AX_CHANNEL;
    if (has_c || (size_t)a->chan == c) return (int)i;
  }
  return -1;
}

/* Fills segs (at most RF__IMP_MAX_SEGMENTS); 0 when /iq cannot be described
 * that way. */
static size_t rf__segments(const rf__imp_source *s, size_t channels, rf__seg *segs) {
  const rf__imp_pulses *pl = &s->pulses;
  hid_t t0 = s->arr[0].type;
  size_t elem = H5Tget_size(t0);
  H5T_class_t cls = H5Tget_class(t0);
  if (!((cls == H5T_INTEGER && elem == 2) || (cls == H5T_FLOAT && elem == 4))) return 0;
  for (size_t i = 0; i < s->narr; i++) {
    const rf__imp_array *a = &s->arr[i];
    rf__axes x;
    rf__axes_of(a, &x);
    if (a->h5 || a->q >= 0 || a->iq_swap || x.ax[RF__Q] < 0 || H5Tequal(a->type, t0) <= 0) return 0;
    uint64_t bs[RF__IMP_MAXR];
    rf__byte_strides(a, elem, bs);
    if (bs[x.ax[RF__Q]] != elem || bs[x.ax[RF__S]] != 2 * elem) return 0;
  }
  size_t n = 0;
  uint64_t len = (uint64_t)pl->samples * 2 * elem;
  for (size_t p = 0; p < pl->n; p++) {
    uint32_t g = pl->group ? pl->group[p] : 0;
    for (size_t c = 0; c < channels; c++) {
      int ai = rf__array_of(s, g, c);
      if (ai < 0) return 0;
      const rf__imp_array *a = &s->arr[ai];
      uint64_t bs[RF__IMP_MAXR];
      rf__byte_strides(a, elem, bs);
      uint64_t off = a->offset;
      for (int k = 0; k < a->rank; k++) {
        uint64_t idx = 0;
        switch (a->role[k]) {
        case RF__AX_PULSE:
        case RF__AX_TIME: idx = (uint64_t)pl->start[p]; break;
        case RF__AX_SAMPLE: idx = pl->s0; break;
        case RF__AX_CHANNEL: idx = c; break;
        case RF__AX_FIXED: idx = a->fixed[k]; break;
        default: break;
        }
        off += idx * bs[k];
      }
      if (n && segs[n - 1].a == ai && segs[n - 1].off + segs[n - 1].len == off) {
        segs[n - 1].len += len;
      } else {
        if (n == RF__IMP_MAX_SEGMENTS) return 0;
        segs[n].a = ai;
        segs[n].off = off;
        segs[n].len = len;
        n++;
      }
    }
  }
  return n;
}

/* ---- pulses cut from a continuous recording: rows ------------------------------------------ */
/* A raw array with a time axis becomes one array per run of equally spaced
 * pulses (and per index of the axes before the time axis): rows of `stride`
 * samples, each starting at a pulse's fast-time sample 0, so that a mapping
 * is one block (HDF5 1.10 writes every block of a selection into the file:
 * a strided selection of a million pulses would take megabytes). Arrays
 * without a time axis are kept. *out owns copies of the types and the pulse
 * arrays; 1 when there would be more than RF__IMP_MAX_MAPPINGS arrays. */
static int rf__rows(const rf__imp_source *in, rf__imp_source *out) {
  const rf__imp_pulses *pl = &in->pulses;
  size_t cap = 16, n = 0;
  int st = 0;
  memset(out, 0, sizeof *out);
  out->kind = in->kind;
  out->pulses = *pl;
  out->pulses.start = rf__malloc((pl->n ? pl->n : 1) * sizeof *pl->start);
  out->pulses.group = rf__malloc((pl->n ? pl->n : 1) * sizeof *pl->group);
  out->arr = rf__calloc(cap, sizeof *out->arr);
  if (!out->pulses.start || !out->pulses.group || !out->arr) goto nomem;
  for (size_t p = 0; p < pl->n; p++) {
    out->pulses.start[p] = pl->start[p];
    out->pulses.group[p] = pl->group ? pl->group[p] : 0;
  }
  uint32_t next_group = 0;
  for (size_t i = 0; i < in->narr; i++)
    if ((uint32_t)in->arr[i].group >= next_group) next_group = (uint32_t)in->arr[i].group + 1;
  int any_rows = 0;
  for (size_t i = 0; i < in->narr && !st; i++) {
    const rf__imp_array *a = &in->arr[i];
    int kt = -1;
    for (int k = 0; k < a->rank; k++)
      if (a->role[k] == RF__AX_TIME) kt = k;
    if (a->h5 || kt < 0) {
      if (n == cap) {
        rf__imp_array *na = rf__realloc(out->arr, 2 * cap * sizeof *na);
        if (!na) goto nomem;
        out->arr = na;
        cap *= 2;
      }
      out->arr[n] = *a;
      out->arr[n].type = H5Tcopy(a->type);
      n++;
      continue;
    }
    any_rows = 1;
    size_t elem = H5Tget_size(a->type);
    uint64_t bs[RF__IMP_MAXR];
    rf__byte_strides(a, elem, bs);
    /* Outer axes (before the time axis) of more than one index. */
    size_t combos = 1;
    for (int k = 0; k < kt; k++)
      if (a->role[k] != RF__AX_FIXED) combos *= (size_t)a->dims[k];
    const int64_t S = (int64_t)pl->samples, T = (int64_t)a->dims[kt];
    size_t p = 0;
    while (p < pl->n) {
      if ((pl->group ? pl->group[p] : 0) != (uint32_t)a->group) {
        p++;
        continue;
      }
      size_t m = 1;
      int64_t d = S;
      if (p + 1 < pl->n && (pl->group ? pl->group[p + 1] : 0) == (uint32_t)a->group &&
          pl->start[p + 1] - pl->start[p] >= S) {
        d = pl->start[p + 1] - pl->start[p];
        m = 2;
        while (p + m < pl->n && (pl->group ? pl->group[p + m] : 0) == (uint32_t)a->group &&
               pl->start[p + m] - pl->start[p + m - 1] == d)
          m++;
        /* The last row must lie inside the array; else it is a run of its own. */
        if (pl->start[p] + (int64_t)m * d > T) m--;
        if (m == 1) d = S;
      }
      uint32_t g = next_group++;
      for (size_t j = 0; j < m; j++) {
        out->pulses.start[p + j] = (int64_t)j;
        out->pulses.group[p + j] = g;
      }
      if (n + combos > RF__IMP_MAX_MAPPINGS) {
        st = 1;
        break;
      }
      for (size_t cb = 0; cb < combos; cb++) {
        if (n == cap) {
          size_t nc = 2 * cap + combos;
          rf__imp_array *na = rf__realloc(out->arr, nc * sizeof *na);
          if (!na) goto nomem;
          out->arr = na;
          cap = nc;
        }
        rf__imp_array *o = &out->arr[n];
        *o = *a;
        o->type = H5Tcopy(a->type);
        o->group = (int)g;
        uint64_t off = a->offset + (uint64_t)pl->start[p] * bs[kt];
        size_t rest = cb;
        for (int k = kt - 1; k >= 0; k--) {
          uint64_t idx = a->fixed[k];
          if (a->role[k] != RF__AX_FIXED) {
            idx = rest % a->dims[k];
            rest /= a->dims[k];
          }
          off += idx * bs[k];
          if (a->role[k] == RF__AX_CHANNEL) o->chan = (int)idx;
          if (a->role[k] == RF__AX_IQ) o->q = a->iq_swap ? 1 - (int)idx : (int)idx;
        }
        o->offset = off;
        o->rank = 0;
        o->dims[o->rank] = m;
        o->role[o->rank++] = RF__AX_PULSE;
        o->dims[o->rank] = (hsize_t)d;
        o->role[o->rank++] = RF__AX_SAMPLE;
        for (int k = kt + 1; k < a->rank; k++) {
          o->dims[o->rank] = a->dims[k];
          o->role[o->rank] = a->role[k];
          o->fixed[o->rank] = a->fixed[k];
          o->rank++;
        }
        n++;
      }
      p += m;
    }
  }
  out->narr = n;
  if (any_rows) out->pulses.s0 = 0;
  return st;
nomem:
  out->narr = n;
  return rf__err(RF_ENOMEM, "out of memory");
}

static void rf__rows_free(rf__imp_source *s) {
  for (size_t i = 0; i < s->narr; i++)
    if (s->arr[i].type > 0) H5Tclose(s->arr[i].type);
  rf__free(s->arr);
  rf__free(s->pulses.start);
  rf__free(s->pulses.group);
  memset(s, 0, sizeof *s);
}

/* ---- names the capture stores ------------------------------------------------------------ */
/* The name to write for a recording file: relative to the capture's folder
 * when it lies there or below, else absolute (symbolic links resolved). */
static int rf__ext_name(const char *final_path, const char *file, char *out, size_t len, int *outside) {
  char dreal[PATH_MAX], freal[PATH_MAX];
  char *dir = rf__path_dirname(final_path);
  int ok = dir && realpath(dir, dreal) && realpath(file, freal);
  rf__free(dir);
  if (!ok) return rf__err(RF_EFORMAT, "%s: cannot resolve the path: %s", file, strerror(errno));
  size_t n = strlen(dreal);
  if (!strcmp(dreal, "/") ? 1 : (strncmp(freal, dreal, n) == 0 && freal[n] == '/')) {
    snprintf(out, len, "%s", freal + (strcmp(dreal, "/") ? n + 1 : 1));
    *outside = 0;
  } else {
    snprintf(out, len, "%s", freal);
    *outside = 1;
  }
  return 0;
}

static int rf__add_source(rf__imp_plan_out *o, const char *name) {
  for (size_t i = 0; i < o->nsources; i++)
    if (!strcmp(o->sources[i], name)) return 0;
  char **nv = rf__realloc(o->sources, (o->nsources + 1) * sizeof *nv);
  if (!nv) return rf__err(RF_ENOMEM, "out of memory");
  o->sources = nv;
  if (!(nv[o->nsources] = rf__strdup(name))) return rf__err(RF_ENOMEM, "out of memory");
  o->nsources++;
  return 0;
}

void rf__imp_plan_out_free(rf__imp_plan_out *o) {
  for (size_t i = 0; i < o->nsources; i++) rf__free(o->sources[i]);
  rf__free(o->sources);
  o->sources = NULL;
  o->nsources = 0;
}

/* External storage over the bytes of an HDF5 dataset (a contiguous
 * compound): notes the dataset and where its data began, so that the
 * reader can tell when that file has been rewritten (capture_sources.c). */
static int rf__mark_h5_bytes(hid_t d, const rf__imp_array *a) {
  if (!a->h5_dset[0]) return 0;
  errno = 0;
  if (rf__h5_write_attr_string(d, "hdf5_dataset", a->h5_dset) < 0 ||
      rf__h5_write_attr_double(d, "hdf5_data_offset", (double)a->h5_offset) < 0)
    return rf__err(RF_EIO, "/iq: cannot write: %s", rf__io_reason());
  return 0;
}

/* HDF5 reads '%' in virtual source names as printf-style: write "%%". */
static void rf__vds_escape(const char *in, char *out, size_t len) {
  size_t w = 0;
  for (const char *r = in; *r && w + 2 < len; r++) {
    if (*r == '%') out[w++] = '%';
    out[w++] = *r;
  }
  out[w] = 0;
}

static uint64_t rf__nelem(const rf__imp_array *a) {
  uint64_t n = 1;
  for (int k = 0; k < a->rank; k++) n *= a->dims[k];
  return n;
}

/* ---- copying ---------------------------------------------------------------------------------- */
typedef struct rf__copy_ctx {
  const rf__imp_source *s;
  hid_t *dset;          /* [narr] open source datasets */
  hid_t mtype;          /* native int16 or float (scalar) */
  hid_t ctype;          /* compound {re, im} of mtype per array, or invalid */
  void *buf;            /* [nb][C][S][2] */
  size_t p0, nb, channels;
  const char *path;
} rf__copy_ctx;

static int rf__copy_cb(void *vctx, const rf__map *m) {
  rf__copy_ctx *c = vctx;
  const rf__imp_array *a = &c->s->arr[m->a];
  hid_t fs = H5Dget_space(c->dset[m->a]), ms = H5I_INVALID_HID, mt = c->mtype, ct = H5I_INVALID_HID;
  int st = 0, compound = a->compound;
  hsize_t mdims[4] = {c->nb, c->channels, c->s->pulses.samples, 2};
  hsize_t dstart[4] = {m->dstart[0] - c->p0, m->dstart[1], m->dstart[2], m->dstart[3]};
  if (compound) {
    size_t e = H5Tget_size(c->mtype);
    ct = H5Tcreate(H5T_COMPOUND, 2 * e);
    if (ct < 0 || H5Tinsert(ct, a->re_name, 0, c->mtype) < 0 || H5Tinsert(ct, a->im_name, e, c->mtype) < 0)
      st = -1;
    mt = ct;
  }
  if (!st) ms = H5Screate_simple(compound ? 3 : 4, mdims, NULL);
  if (st || fs < 0 || ms < 0 ||
      H5Sselect_hyperslab(fs, H5S_SELECT_SET, m->start, m->stride, m->count, m->block) < 0 ||
      H5Sselect_hyperslab(ms, H5S_SELECT_SET, dstart, NULL, m->dcount, NULL) < 0 ||
      H5Dread(c->dset[m->a], mt, ms, fs, H5P_DEFAULT, c->buf) < 0)
    st = rf__err(RF_EFORMAT, "%s: cannot read samples: %s", a->what, rf__h5_errdesc());
  if (ct >= 0) H5Tclose(ct);
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  return st;
}

/* Copies every pulse into a chunked /iq of type ft. */
static int rf__copy(hid_t file, const rf__imp_source *s, size_t channels, hid_t ft, int sample_type,
                    double scale, const char *path) {
  const rf__imp_pulses *pl = &s->pulses;
  size_t pair = rf_sample_pair_bytes(sample_type), pulse_bytes = channels * pl->samples * pair;
  size_t per = pulse_bytes >= RF__IMP_MIN_CHUNK_BYTES ? 1 : RF__IMP_MIN_CHUNK_BYTES / pulse_bytes;
  if (per > pl->n) per = pl->n;
  size_t nb = RF__IMP_COPY_BLOCK_BYTES / pulse_bytes;
  if (nb < 1) nb = 1;
  if (nb > pl->n) nb = pl->n;
  hsize_t dims[4] = {pl->n, channels, pl->samples, 2}, chunk[4] = {per, channels, pl->samples, 2};
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), sp = H5Screate_simple(4, dims, NULL), iq = H5I_INVALID_HID;
  hid_t mem = H5I_INVALID_HID, core = H5I_INVALID_HID, cfapl = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
  hid_t *files = rf__calloc(s->narr, sizeof *files), *dsets = rf__calloc(s->narr, sizeof *dsets);
  void *buf = rf__malloc(nb * pulse_bytes);
  int st = 0;
  if (!files || !dsets || !buf) {
    st = rf__err(RF_ENOMEM, "%s: out of memory (copy of %zu pulses at a time)", path, nb);
    goto cleanup;
  }
  for (size_t i = 0; i < s->narr; i++) files[i] = dsets[i] = H5I_INVALID_HID;
  errno = 0;
  if (dcpl < 0 || sp < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 || H5Pset_chunk(dcpl, 4, chunk) < 0 ||
      H5Pset_fletcher32(dcpl) < 0 || (iq = H5Dcreate2(file, "iq", ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
      rf__h5_write_attr_double(iq, "scale", scale) < 0) {
    st = rf__err(RF_EIO, "%s: /iq: cannot write: %s", path, rf__io_reason());
    goto cleanup;
  }
  /* Raw arrays are read through external-storage datasets of an in-memory
   * file (absolute names, so no prefix is involved). */
  if ((fapl = rf__h5_fapl()) < 0) goto h5fail;
  for (size_t i = 0; i < s->narr; i++) {
    const rf__imp_array *a = &s->arr[i];
    if (a->h5) {
      if ((files[i] = H5Fopen(a->file, H5F_ACC_RDONLY, fapl)) < 0 ||
          (dsets[i] = H5Dopen2(files[i], a->dset, H5P_DEFAULT)) < 0) {
        st = rf__err(RF_EFORMAT, "%s: cannot open: %s", a->what, rf__h5_errdesc());
        goto cleanup;
      }
      continue;
    }
    if (core < 0) {
      char *name = rf_tmp_path(path);
      if (!name || (cfapl = rf__h5_fapl()) < 0 || H5Pset_fapl_core(cfapl, 1 << 16, 0) < 0 ||
          (core = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, cfapl)) < 0) {
        rf__free(name);
        goto h5fail;
      }
      rf__free(name);
    }
    char real[PATH_MAX], nm[32];
    if (!realpath(a->file, real)) {
      st = rf__err(RF_EFORMAT, "%s: cannot open: %s", a->file, strerror(errno));
      goto cleanup;
    }
    hid_t edcpl = H5Pcreate(H5P_DATASET_CREATE), es = H5Screate_simple(a->rank, a->dims, NULL);
    snprintf(nm, sizeof nm, "a%zu", i);
    if (edcpl >= 0 && es >= 0 &&
        H5Pset_external(edcpl, real, (off_t)a->offset, (hsize_t)(rf__nelem(a) * H5Tget_size(a->type))) >= 0)
      dsets[i] = H5Dcreate2(core, nm, a->type, es, H5P_DEFAULT, edcpl, H5P_DEFAULT);
    if (es >= 0) H5Sclose(es);
    if (edcpl >= 0) H5Pclose(edcpl);
    if (dsets[i] < 0) goto h5fail;
  }
  mem = sample_type == RF_SAMPLE_INT16 ? H5T_NATIVE_INT16 : H5T_NATIVE_FLOAT;
  for (size_t p0 = 0; p0 < pl->n; p0 += nb) {
    size_t n = pl->n - p0 < nb ? pl->n - p0 : nb;
    memset(buf, 0, n * pulse_bytes);
    rf__copy_ctx c = {s, dsets, mem, H5I_INVALID_HID, buf, p0, n, channels, path};
    if ((st = rf__gen(s, channels, p0, p0 + n, rf__copy_cb, &c))) goto cleanup;
    hsize_t start[4] = {p0, 0, 0, 0}, cnt[4] = {n, channels, pl->samples, 2};
    hid_t fs = H5Dget_space(iq), ms = H5Screate_simple(4, cnt, NULL);
    errno = 0;
    int bad = fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
              H5Dwrite(iq, mem, ms, fs, H5P_DEFAULT, buf) < 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (bad) {
      st = rf__err(RF_EIO, "%s: /iq: cannot write: %s", path, rf__io_reason());
      goto cleanup;
    }
  }
  goto cleanup;
h5fail:
  st = rf__err(RF_EIO, "%s: /iq: cannot copy: %s", path, rf__h5_errdesc());
cleanup:
  for (size_t i = 0; dsets && i < s->narr; i++)
    if (dsets[i] > 0) H5Dclose(dsets[i]);
  for (size_t i = 0; files && i < s->narr; i++)
    if (files[i] > 0) H5Fclose(files[i]);
  if (core >= 0) H5Fclose(core);
  if (cfapl >= 0) H5Pclose(cfapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (iq >= 0) H5Dclose(iq);
  if (sp >= 0) H5Sclose(sp);
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__free(buf);
  rf__free(files);
  rf__free(dsets);
  return st;
}

/* ---- the virtual dataset ---------------------------------------------------------------- */
typedef struct rf__vds_ctx {
  hid_t dcpl, vspace;
  hid_t *srcspace;     /* [narr] */
  char (*src_file)[PATH_MAX];
  char (*src_dset)[1100];
} rf__vds_ctx;

static int rf__vds_cb(void *vctx, const rf__map *m) {
  rf__vds_ctx *c = vctx;
  hid_t ss = c->srcspace[m->a];
  if (H5Sselect_hyperslab(c->vspace, H5S_SELECT_SET, m->dstart, NULL, m->dcount, NULL) < 0 ||
      H5Sselect_hyperslab(ss, H5S_SELECT_SET, m->start, m->stride, m->count, m->block) < 0 ||
      H5Pset_virtual(c->dcpl, c->vspace, c->src_file[m->a], c->src_dset[m->a], ss) < 0)
    return rf__err(RF_EIO, "virtual mapping: %s", rf__h5_errdesc());
  return 0;
}

static int rf__imp_write_iq_from(hid_t file, const char *final_path, const rf__imp_source *s, size_t channels,
                                 double scale, int copy, rf__imp_plan_out *o);

int rf__imp_write_iq(hid_t file, const char *final_path, const rf__imp_source *src, size_t channels,
                     double scale, int copy, rf__imp_plan_out *o) {
  rf__imp_source rows;
  memset(o, 0, sizeof *o);
  int st = rf__rows(src, &rows);
  if (st < 0) {
    rf__rows_free(&rows);
    return st;
  }
  /* Too many runs of pulses for rows: map the original arrays (and copy). */
  const rf__imp_source *s = st == 0 ? &rows : src;
  st = rf__imp_write_iq_from(file, final_path, s, channels, scale, copy, o);
  rf__rows_free(&rows);
  return st;
}

static int rf__imp_write_iq_from(hid_t file, const char *final_path, const rf__imp_source *s, size_t channels,
                                 double scale, int copy, rf__imp_plan_out *o) {
  const rf__imp_pulses *pl = &s->pulses;
  rf__seg *segs = NULL;
  hid_t dcpl = H5I_INVALID_HID, sp = H5I_INVALID_HID, iq = H5I_INVALID_HID, grp = H5I_INVALID_HID;
  rf__vds_ctx vc = {H5I_INVALID_HID, H5I_INVALID_HID, NULL, NULL, NULL};
  int st = 0;
  /* /iq's type: int16 from integers of at most 16 bits, else float32. */
  hid_t part = s->arr[0].type;
  H5T_class_t cls = H5Tget_class(part);
  size_t psz = H5Tget_size(part);
  if (cls == H5T_COMPOUND) {
    hid_t m0 = H5Tget_member_type(part, 0);
    cls = H5Tget_class(m0);
    psz = H5Tget_size(m0);
    H5Tclose(m0);
  }
  o->sample_type = cls == H5T_INTEGER && psz <= 2 ? RF_SAMPLE_INT16 : RF_SAMPLE_FLOAT32;
  hid_t ft = o->sample_type == RF_SAMPLE_INT16 ? H5T_STD_I16LE : H5T_IEEE_F32LE;
  o->sample_bytes = (uint64_t)pl->n * channels * pl->samples * 2 * psz;

  /* Which arrays can only be copied. */
  for (size_t i = 0; i < s->narr && !o->reason[0]; i++)
    if (s->arr[i].compound)
      snprintf(o->reason, sizeof o->reason,
               "%.300s holds complex compound elements in chunked or filtered storage: a virtual dataset "
               "maps whole elements and external storage needs the raw bytes in one place",
               s->arr[i].what);
  if (copy && !o->reason[0]) snprintf(o->reason, sizeof o->reason, "--copy was given");

  if (!o->reason[0]) {
    /* 1. external raw storage of /iq itself */
    if (!(segs = rf__malloc(RF__IMP_MAX_SEGMENTS * sizeof *segs))) {
      st = rf__err(RF_ENOMEM, "out of memory");
      goto cleanup;
    }
    size_t nseg = rf__segments(s, channels, segs);
    if (nseg > 0) {
      hsize_t dims[4] = {pl->n, channels, pl->samples, 2};
      errno = 0;
      if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) goto h5fail;
      for (size_t i = 0; i < nseg; i++) {
        char name[PATH_MAX];
        int outside = 0;
        if ((st = rf__ext_name(final_path, s->arr[segs[i].a].file, name, sizeof name, &outside))) goto cleanup;
        o->outside |= outside;
        if ((st = rf__add_source(o, name))) goto cleanup;
        if (H5Pset_external(dcpl, name, (off_t)segs[i].off, (hsize_t)segs[i].len) < 0) goto h5fail;
      }
      if ((sp = H5Screate_simple(4, dims, NULL)) < 0 ||
          (iq = H5Dcreate2(file, "iq", s->arr[0].type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
          rf__h5_write_attr_double(iq, "scale", scale) < 0)
        goto h5fail;
      if ((st = rf__mark_h5_bytes(iq, &s->arr[segs[0].a]))) goto cleanup;
      o->storage = RF_IQ_EXTERNAL;
      o->sample_type = H5Tget_class(s->arr[0].type) == H5T_INTEGER ? RF_SAMPLE_INT16 : RF_SAMPLE_FLOAT32;
      o->segments = nseg;
      goto cleanup;
    }
    /* 2. a virtual dataset, unless it needs too many mappings */
    size_t nmap = 0;
    if (rf__gen(s, channels, 0, pl->n, rf__count_cb, &nmap))
      snprintf(o->reason, sizeof o->reason,
               "the pulses are not equally spaced: describing them needs more than %d virtual mappings",
               RF__IMP_MAX_MAPPINGS);
    else
      o->mappings = nmap;
  }
  if (o->reason[0]) {
    /* 3. a copy */
    st = rf__copy(file, s, channels, ft, o->sample_type, scale, final_path);
    o->storage = RF_IQ_CHUNKED;
    goto cleanup;
  }
  vc.srcspace = rf__calloc(s->narr, sizeof *vc.srcspace);
  vc.src_file = rf__calloc(s->narr, sizeof *vc.src_file);
  vc.src_dset = rf__calloc(s->narr, sizeof *vc.src_dset);
  if (!vc.srcspace || !vc.src_file || !vc.src_dset) {
    st = rf__err(RF_ENOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t i = 0; i < s->narr; i++) vc.srcspace[i] = H5I_INVALID_HID;
  for (size_t i = 0; i < s->narr; i++) {
    const rf__imp_array *a = &s->arr[i];
    char name[PATH_MAX];
    int outside = 0;
    if ((st = rf__ext_name(final_path, a->file, name, sizeof name, &outside))) goto cleanup;
    o->outside |= outside;
    if ((st = rf__add_source(o, name))) goto cleanup;
    if ((vc.srcspace[i] = H5Screate_simple(a->rank, a->dims, NULL)) < 0) goto h5fail;
    if (a->h5) {
      rf__vds_escape(name, vc.src_file[i], sizeof vc.src_file[i]);
      rf__vds_escape(a->dset, vc.src_dset[i], sizeof vc.src_dset[i]);
      continue;
    }
    /* A raw array: a dataset of this file with external raw storage. */
    if (grp < 0 && (grp = rf__h5_create_group(file, "import")) < 0) goto h5fail;
    char nm[32];
    snprintf(nm, sizeof nm, "source%zu", i);
    hid_t edcpl = H5Pcreate(H5P_DATASET_CREATE), ed = H5I_INVALID_HID;
    errno = 0;
    if (edcpl >= 0 && H5Pset_obj_track_times(edcpl, 0) >= 0 &&
        H5Pset_external(edcpl, name, (off_t)a->offset, (hsize_t)(rf__nelem(a) * H5Tget_size(a->type))) >= 0)
      ed = H5Dcreate2(grp, nm, a->type, vc.srcspace[i], H5P_DEFAULT, edcpl, H5P_DEFAULT);
    if (edcpl >= 0) H5Pclose(edcpl);
    if (ed < 0) goto h5fail;
    st = rf__mark_h5_bytes(ed, a);
    H5Dclose(ed);
    if (st) goto cleanup;
    snprintf(vc.src_file[i], sizeof vc.src_file[i], ".");
    snprintf(vc.src_dset[i], sizeof vc.src_dset[i], "/import/%s", nm);
  }
  hsize_t dims[4] = {pl->n, channels, pl->samples, 2};
  if ((vc.dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_obj_track_times(vc.dcpl, 0) < 0 ||
      (vc.vspace = H5Screate_simple(4, dims, NULL)) < 0)
    goto h5fail;
  if ((st = rf__gen(s, channels, 0, pl->n, rf__vds_cb, &vc))) goto cleanup;
  errno = 0;
  if ((iq = H5Dcreate2(file, "iq", ft, vc.vspace, H5P_DEFAULT, vc.dcpl, H5P_DEFAULT)) < 0 ||
      rf__h5_write_attr_double(iq, "scale", scale) < 0)
    goto h5fail;
  o->storage = RF_IQ_VIRTUAL;
  goto cleanup;
h5fail:
  st = rf__err(RF_EIO, "%s: /iq: cannot write: %s", final_path, rf__io_reason());
cleanup:
  for (size_t i = 0; vc.srcspace && i < s->narr; i++)
    if (vc.srcspace[i] >= 0) H5Sclose(vc.srcspace[i]);
  rf__free(vc.srcspace);
  rf__free(vc.src_file);
  rf__free(vc.src_dset);
  if (vc.vspace >= 0) H5Sclose(vc.vspace);
  if (vc.dcpl >= 0) H5Pclose(vc.dcpl);
  if (grp >= 0) H5Gclose(grp);
  if (iq >= 0) H5Dclose(iq);
  if (sp >= 0) H5Sclose(sp);
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__free(segs);
  if (st) rf__imp_plan_out_free(o);
  return st;
}
