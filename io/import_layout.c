/* radarflow io/: layout files (INI, libinih, as configs and scenarios) and
 * the raw and HDF5 sources they describe: where the samples are, the order
 * and meaning of their axes, the sample type and complex encoding, and
 * where each radar fact comes from (docs/import.md). */
#include "import_internal.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "h5util.h"

/* ---- the file ---------------------------------------------------------------------------- */
typedef struct rf__lparse {
  rf__facts *f;
  const char *path;
  FILE *fp;
  int line, status;
} rf__lparse;

/* fgets that counts lines and refuses lines longer than inih's buffer. */
static char *rf__lreader(char *str, int num, void *stream) {
  rf__lparse *p = stream;
  if (!fgets(str, num, p->fp)) return NULL;
  p->line++;
  size_t n = strlen(str);
  if (n > 0 && str[n - 1] != '\n' && !feof(p->fp)) {
    if (p->status == 0)
      p->status = rf__err(RF_EFORMAT, "%s:%d: line longer than %d characters; continue a list on indented "
                          "lines", p->path, p->line, num - 3);
    int c;
    while ((c = fgetc(p->fp)) != EOF && c != '\n') {
    }
    str[0] = '\n';
    str[1] = 0;
  }
  return str;
}

static int rf__lhandler(void *user, const char *section, const char *name, const char *value) {
  rf__lparse *p = user;
  if (p->status) return 1;
  char origin[1400];
  if (!section[0]) {
    p->status = rf__err(RF_EFORMAT, "%s:%d: key '%s' outside any section", p->path, p->line, name);
    return 1;
  }
  snprintf(origin, sizeof origin, "%s:%d: [%s] %s", p->path, p->line, section, name);
  p->status = rf__facts_put(p->f, section, name, value, origin, 1, 1);
  return 1;
}

int rf__layout_load(rf__facts *f, const char *path) {
  struct stat sb;
  if (stat(path, &sb) < 0) return rf__err(RF_EINVAL, "%s: cannot open layout: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return rf__err(RF_EINVAL, "%s: cannot open layout: not a regular file", path);
  if (sb.st_size > (1 << 24)) return rf__err(RF_EFORMAT, "%s: layout file larger than 16 MiB", path);
  rf__lparse p = {f, path, fopen(path, "r"), 0, 0};
  if (!p.fp) return rf__err(RF_EINVAL, "%s: cannot open layout: %s", path, strerror(errno));
  int r = ini_parse_stream(rf__lreader, &p, rf__lhandler, &p);
  fclose(p.fp);
  if (p.status) return p.status;
  if (r > 0) return rf__err(RF_EFORMAT, "%s:%d: syntax error (expected [section] or key = value)", path, r);
  if (r < 0) return rf__err(RF_EFORMAT, "%s: cannot read layout", path);
  return 0;
}

/* ---- [source]: the samples ------------------------------------------------------------------ */
typedef struct rf__axspec {
  int rank;
  int role[RF__IMP_MAXR];
  hsize_t fixed[RF__IMP_MAXR];
} rf__axspec;

/* "pulse channel sample iq", fixed axes as "name=index". */
static int rf__parse_axes(const rf__facts *f, rf__axspec *ax) {
  char buf[512];
  int st = rf__facts_str(f, "source", "axes", buf, sizeof buf, NULL);
  const rf__fact *e = rf__facts_get(f, "source", "axes");
  if (st) return st;
  memset(ax, 0, sizeof *ax);
  int seen[8] = {0};
  for (char *tok = strtok(buf, " ,\t"); tok; tok = strtok(NULL, " ,\t")) {
    if (ax->rank == RF__IMP_MAXR) return rf__fact_err(e, "more than %d axes", RF__IMP_MAXR);
    int k = ax->rank++;
    char *eq = strchr(tok, '=');
    if (eq) {
      char *end;
      errno = 0;
      long long v = strtoll(eq + 1, &end, 10);
      if (end == eq + 1 || *end || errno || v < 0)
        return rf__fact_err(e, "'%s': a fixed axis is name=index with a non-negative index", tok);
      ax->role[k] = RF__AX_FIXED;
      ax->fixed[k] = (hsize_t)v;
      continue;
    }
    static const char *const names[] = {"", "pulse", "channel", "sample", "iq", "time"};
    int r = 0;
    for (int i = 1; i <= 5; i++)
      if (!strcasecmp(tok, names[i])) r = i;
    if (!r)
      return rf__fact_err(e, "'%s' is not an axis (pulse, time, channel, sample, iq, or name=index for an "
                          "axis to take one index of)", tok);
    if (seen[r]++) return rf__fact_err(e, "axis '%s' given twice", tok);
    ax->role[k] = r;
  }
  if (seen[RF__AX_PULSE] + seen[RF__AX_TIME] != 1)
    return rf__fact_err(e, "needs one 'pulse' axis (pulses recorded apart) or one 'time' axis (a continuous "
                        "recording to cut pulses from)");
  if (seen[RF__AX_PULSE] && !seen[RF__AX_SAMPLE])
    return rf__fact_err(e, "a 'pulse' axis needs a 'sample' axis (fast time)");
  if (seen[RF__AX_TIME] && seen[RF__AX_SAMPLE])
    return rf__fact_err(e, "a 'time' axis carries the fast time itself: no 'sample' axis with it");
  return 0;
}

static int rf__word(const rf__facts *f, const char *key, const char *const *words, int def, int *out) {
  char buf[64];
  int has = 0, st = rf__facts_str(f, "source", key, buf, sizeof buf, &has);
  *out = def;
  if (st || !has) return st;
  for (int i = 0; words[i]; i++)
    if (!strcasecmp(buf, words[i])) return *out = i, 0;
  char known[160] = "";
  for (int i = 0; words[i]; i++)
    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", words[i]);
  return rf__fact_err(rf__facts_get(f, "source", key), "'%s' is not one of %s", buf, known);
}

/* Applies the axis spec to an array of known dims; checks sizes. */
static int rf__apply_axes(const rf__facts *f, const rf__axspec *ax, rf__imp_array *a, int want_iq) {
  const rf__fact *e = rf__facts_get(f, "source", "axes");
  if (ax->rank != a->rank)
    return rf__fact_err(e, "%d axes named but %s has %d", ax->rank, a->what, a->rank);
  int iq = 0;
  for (int k = 0; k < a->rank; k++) {
    a->role[k] = ax->role[k];
    a->fixed[k] = ax->fixed[k];
    if (ax->role[k] == RF__AX_FIXED && ax->fixed[k] >= a->dims[k])
      return rf__fact_err(e, "axis %d takes index %llu but %s has %llu along it", k + 1,
                          (unsigned long long)ax->fixed[k], a->what, (unsigned long long)a->dims[k]);
    if (ax->role[k] == RF__AX_IQ) {
      iq = 1;
      if (a->dims[k] != 2)
        return rf__fact_err(e, "the iq axis (axis %d) of %s has %llu entries, not 2", k + 1, a->what,
                            (unsigned long long)a->dims[k]);
    }
    if (ax->role[k] == RF__AX_CHANNEL && a->dims[k] > RF_MAX_CHANNELS)
      return rf__fact_err(e, "%llu channels exceed the reader's limit %d", (unsigned long long)a->dims[k],
                          RF_MAX_CHANNELS);
  }
  if (want_iq && !iq)
    return rf__fact_err(e, "interleaved samples need an 'iq' axis of 2 (I, Q) - or say encoding = compound "
                        "or split");
  if (!want_iq && iq) return rf__fact_err(e, "an 'iq' axis only goes with encoding = interleaved");
  return 0;
}

/* A signed integer or float type, any byte order. */
static int rf__check_part(const rf__facts *f, hid_t t, const char *what) {
  H5T_class_t c = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  if (c == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE)
    return rf__err(RF_EFORMAT, "%s: unsigned samples (offset binary) are not supported: radarflow needs signed "
                   "integers or floats", what);
  if (!((c == H5T_INTEGER && (sz == 1 || sz == 2 || sz == 4)) || (c == H5T_FLOAT && (sz == 4 || sz == 8))))
    return rf__err(RF_EFORMAT, "%s: samples must be int8, int16, int32, float32 or float64 (class %d, %zu bytes)",
                   what, (int)c, sz);
  (void)f;
  return 0;
}

/* Finds the (re, im) members of a compound. */
static int rf__compound_members(const rf__facts *f, hid_t t, rf__imp_array *a) {
  static const char *const pairs[][2] = {{"r", "i"}, {"re", "im"}, {"real", "imag"}, {"I", "Q"}, {"i", "q"}};
  int has_r = 0, has_i = 0, st;
  if ((st = rf__facts_str(f, "source", "real_member", a->re_name, sizeof a->re_name, &has_r)) ||
      (st = rf__facts_str(f, "source", "imag_member", a->im_name, sizeof a->im_name, &has_i)))
    return st;
  if (!has_r || !has_i) {
    int found = 0;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0] && !found; k++)
      if (H5Tget_member_index(t, pairs[k][0]) >= 0 && H5Tget_member_index(t, pairs[k][1]) >= 0) {
        snprintf(a->re_name, sizeof a->re_name, "%s", pairs[k][0]);
        snprintf(a->im_name, sizeof a->im_name, "%s", pairs[k][1]);
        found = 1;
      }
    if (!found)
      return rf__err(RF_EFORMAT, "%s: compound samples need members r/i, re/im, real/imag or I/Q (or name "
                     "them: [source] real_member, imag_member)", a->what);
  }
  int ri = H5Tget_member_index(t, a->re_name), ii = H5Tget_member_index(t, a->im_name);
  if (ri < 0 || ii < 0 || H5Tget_nmembers(t) != 2)
    return rf__err(RF_EFORMAT, "%s: the compound must have exactly the members %s and %s", a->what, a->re_name,
                   a->im_name);
  hid_t rt = H5Tget_member_type(t, (unsigned)ri), it = H5Tget_member_type(t, (unsigned)ii);
  st = rt < 0 || it < 0 ? RF_EFORMAT : rf__check_part(f, rt, a->what);
  if (!st && H5Tequal(rt, it) <= 0)
    st = rf__err(RF_EFORMAT, "%s: members %s and %s have different types", a->what, a->re_name, a->im_name);
  /* Packed (re, im) of one type: the bytes are an [..][2] array of it. */
  size_t ps = rt >= 0 ? H5Tget_size(rt) : 0;
  size_t ro = H5Tget_member_offset(t, (unsigned)ri), io = H5Tget_member_offset(t, (unsigned)ii);
  a->compound = 1;
  if (!st && H5Tget_size(t) == 2 * ps && ((ro == 0 && io == ps) || (io == 0 && ro == ps))) {
    a->iq_swap = io == 0;
    a->compound = 2; /* packed */
    H5Tclose(a->type);
    a->type = H5Tcopy(rt);
  }
  if (rt >= 0) H5Tclose(rt);
  if (it >= 0) H5Tclose(it);
  return st;
}

/* Opens an HDF5 dataset as an array. A packed compound stored contiguously
 * becomes a raw array of its bytes (it can then be referred to); any other
 * compound stays one (it will be copied). */
static int rf__h5_array(const rf__facts *f, const char *source, const char *dset, rf__imp_array *a) {
  hid_t d = H5I_INVALID_HID, s = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  int st = 0;
  a->h5 = 1;
  a->q = -1;
  snprintf(a->file, sizeof a->file, "%s", source);
  snprintf(a->dset, sizeof a->dset, "%s", dset);
  snprintf(a->what, sizeof a->what, "%s: %s", source, dset);
  if (H5Lexists(f->h5, dset, H5P_DEFAULT) <= 0 || (d = H5Dopen2(f->h5, dset, H5P_DEFAULT)) < 0)
    return rf__fact_err(rf__facts_get(f, "source", "dataset"), "%s has no dataset %s", source, dset);
  if ((a->type = H5Dget_type(d)) < 0 || (s = H5Dget_space(d)) < 0 || (dcpl = H5Dget_create_plist(d)) < 0 ||
      (a->rank = H5Sget_simple_extent_ndims(s)) < 1 || a->rank > RF__IMP_MAXR - 1 ||
      H5Sget_simple_extent_dims(s, a->dims, NULL) < 0) {
    st = rf__err(RF_EFORMAT, "%s: must be a dataset of 1 to %d dimensions", a->what, RF__IMP_MAXR - 1);
    goto cleanup;
  }
  if (H5Tget_class(a->type) == H5T_COMPOUND) {
    if ((st = rf__compound_members(f, a->type, a))) goto cleanup;
    haddr_t off = H5Dget_offset(d);
    if (a->compound == 2 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) == 0 &&
        off != HADDR_UNDEF) {
      /* Its bytes, by their offset in the file: [..][2] of the member type. */
      a->h5 = 0;
      a->compound = 0;
      a->offset = (uint64_t)off;
      snprintf(a->h5_dset, sizeof a->h5_dset, "%s", dset);
      a->h5_offset = (uint64_t)off;
      a->dims[a->rank] = 2;
      a->role[a->rank] = RF__AX_IQ;
      a->rank++;
    } else {
      a->compound = 1;
      /* The copy reads the whole compound; keep its own type. */
      H5Tclose(a->type);
      a->type = H5Dget_type(d);
    }
  } else {
    st = rf__check_part(f, a->type, a->what);
  }
cleanup:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (s >= 0) H5Sclose(s);
  if (d >= 0) H5Dclose(d);
  return st;
}

/* Raw type from [source] type and byte_order. */
static int rf__raw_type(const rf__facts *f, hid_t *t) {
  static const char *const types[] = {"int8", "int16", "int32", "float32", "float64", NULL};
  static const char *const orders[] = {"little", "big", NULL};
  int ti, oi, st;
  if (!rf__facts_get(f, "source", "type")) return rf__fact_missing(f, "source", "type", "(int8, int16, int32, float32 or float64)");
  if ((st = rf__word(f, "type", types, 1, &ti)) || (st = rf__word(f, "byte_order", orders, 0, &oi))) return st;
  static const hid_t *le[] = {&H5T_STD_I8LE_g, &H5T_STD_I16LE_g, &H5T_STD_I32LE_g, &H5T_IEEE_F32LE_g,
                              &H5T_IEEE_F64LE_g};
  static const hid_t *be[] = {&H5T_STD_I8BE_g, &H5T_STD_I16BE_g, &H5T_STD_I32BE_g, &H5T_IEEE_F32BE_g,
                              &H5T_IEEE_F64BE_g};
  H5open();
  *t = H5Tcopy(oi ? *be[ti] : *le[ti]);
  return *t < 0 ? rf__err(RF_EFORMAT, "HDF5 type: %s", rf__h5_errdesc()) : 0;
}

/* [source] shape for a raw file: numbers, one of them may be '*'. */
static int rf__raw_shape(const rf__facts *f, rf__imp_array *a, uint64_t file_size) {
  char buf[512];
  int st = rf__facts_str(f, "source", "shape", buf, sizeof buf, NULL);
  const rf__fact *e = rf__facts_get(f, "source", "shape");
  if (st) return rf__fact_missing(f, "source", "shape", "(dimensions of the raw array, one may be *)");
  int star = -1;
  uint64_t known = 1;
  a->rank = 0;
  for (char *tok = strtok(buf, " ,\t"); tok; tok = strtok(NULL, " ,\t")) {
    if (a->rank == RF__IMP_MAXR) return rf__fact_err(e, "more than %d dimensions", RF__IMP_MAXR);
    if (!strcmp(tok, "*")) {
      if (star >= 0) return rf__fact_err(e, "only one dimension may be *");
      star = a->rank++;
      continue;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tok, &end, 10);
    if (end == tok || *end || errno || v < 1 || v > ((uint64_t)1 << 40))
      return rf__fact_err(e, "'%s' is not a dimension (a positive integer or *)", tok);
    a->dims[a->rank++] = v;
    known *= v;
  }
  size_t elem = H5Tget_size(a->type);
  uint64_t avail = file_size > a->offset ? file_size - a->offset : 0;
  if (star >= 0) {
    a->dims[star] = avail / (known * elem);
    if (a->dims[star] < 1)
      return rf__fact_err(e, "the file has %llu bytes after offset_bytes: not one row of the other dimensions",
                          (unsigned long long)avail);
    known *= a->dims[star];
  }
  if (known * elem > avail)
    return rf__fact_err(e, "needs %llu bytes after offset_bytes %llu but %s has %llu", (unsigned long long)(known * elem),
                        (unsigned long long)a->offset, a->file, (unsigned long long)avail);
  return 0;
}

static int rf__axis_of(const rf__imp_array *a, int role) {
  for (int k = 0; k < a->rank; k++)
    if (a->role[k] == role) return k;
  return -1;
}

int rf__layout_source(const char *source, int kind, rf__facts *f, rf__imp_source *s) {
  static const char *const encs[] = {"interleaved", "compound", "split", NULL};
  static const char *const orders[] = {"iq", "qi", NULL};
  rf__axspec ax;
  int st, enc, iqo;
  char dset[1024], dset_q[1024];
  int has_q = 0;
  if ((st = rf__parse_axes(f, &ax))) return st;
  if ((st = rf__word(f, "iq_order", orders, 0, &iqo))) return st;
  s->arr = rf__calloc(2, sizeof *s->arr);
  if (!s->arr) return rf__err(RF_ENOMEM, "out of memory");
  s->arr[0].type = s->arr[1].type = H5I_INVALID_HID;
  if (kind == RF_IMPORT_HDF5) {
    if ((st = rf__facts_str(f, "source", "dataset", dset, sizeof dset, NULL))) return st;
    if ((st = rf__facts_str(f, "source", "dataset_q", dset_q, sizeof dset_q, &has_q))) return st;
    s->narr = 1;
    if ((st = rf__h5_array(f, source, dset, &s->arr[0]))) return st;
    int is_compound = s->arr[0].compound || rf__axis_of(&s->arr[0], RF__AX_IQ) >= 0 ||
                      s->arr[0].rank > ax.rank; /* a packed compound became raw bytes */
    if ((st = rf__word(f, "encoding", encs, has_q ? 2 : H5Tget_class(s->arr[0].type) == H5T_COMPOUND || is_compound ? 1 : 0,
                       &enc)))
      return st;
    if (enc == 1 && !is_compound)
      return rf__fact_err(rf__facts_get(f, "source", "encoding"), "%s is not a compound dataset", s->arr[0].what);
    if (enc != 1 && is_compound)
      return rf__err(RF_EFORMAT, "%s: holds compound (complex) elements: encoding is compound", s->arr[0].what);
    if (enc == 2 && !has_q)
      return rf__fact_missing(f, "source", "dataset_q", "(encoding = split: the Q samples' dataset)");
    if (enc != 2 && has_q)
      return rf__fact_err(rf__facts_get(f, "source", "dataset_q"), "goes with encoding = split only");
    if (enc == 1) {
      /* The member pair, as an array or inside the element. */
      rf__imp_array *a = &s->arr[0];
      int r = a->rank;
      if (!a->compound) r--; /* the iq axis added for the bytes */
      if (ax.rank != r)
        return rf__fact_err(rf__facts_get(f, "source", "axes"), "%d axes named but %s has %d", ax.rank, a->what, r);
      for (int k = 0; k < r; k++) {
        a->role[k] = ax.role[k];
        a->fixed[k] = ax.fixed[k];
        if (ax.role[k] == RF__AX_FIXED && ax.fixed[k] >= a->dims[k])
          return rf__fact_err(rf__facts_get(f, "source", "axes"), "axis %d takes index %llu but %s has %llu along it",
                              k + 1, (unsigned long long)ax.fixed[k], a->what, (unsigned long long)a->dims[k]);
        if (ax.role[k] == RF__AX_IQ)
          return rf__fact_err(rf__facts_get(f, "source", "axes"), "a compound dataset has no 'iq' axis");
      }
    } else {
      if ((st = rf__apply_axes(f, &ax, &s->arr[0], enc == 0))) return st;
      s->arr[0].iq_swap = iqo;
      if (enc == 2) {
        s->narr = 2;
        if ((st = rf__h5_array(f, source, dset_q, &s->arr[1]))) return st;
        if (s->arr[1].compound || s->arr[1].rank != s->arr[0].rank ||
            memcmp(s->arr[1].dims, s->arr[0].dims, sizeof s->arr[0].dims) ||
            H5Tequal(s->arr[0].type, s->arr[1].type) <= 0)
          return rf__err(RF_EFORMAT, "%s: must have the shape and type of %s (encoding = split)", s->arr[1].what,
                         s->arr[0].what);
        if ((st = rf__apply_axes(f, &ax, &s->arr[1], 0))) return st;
        s->arr[0].q = iqo ? 1 : 0;
        s->arr[1].q = iqo ? 0 : 1;
      }
    }
  } else {
    rf__imp_array *a = &s->arr[0];
    s->narr = 1;
    a->q = -1;
    snprintf(a->file, sizeof a->file, "%s", source);
    snprintf(a->what, sizeof a->what, "%s", source);
    struct stat sb;
    if (stat(source, &sb) < 0 || !S_ISREG(sb.st_mode))
      return rf__err(RF_EFORMAT, "%s: not a regular file", source);
    if ((st = rf__word(f, "encoding", encs, 0, &enc))) return st;
    if (enc != 0)
      return rf__fact_err(rf__facts_get(f, "source", "encoding"), "a raw file holds interleaved samples (an 'iq' "
                          "axis); compound = interleaved pairs");
    int64_t off = 0;
    int has_off = 0;
    if ((st = rf__facts_int(f, "source", "offset_bytes", 0, 9e18, &off, &has_off))) return st;
    a->offset = (uint64_t)off;
    if ((st = rf__raw_type(f, &a->type)) || (st = rf__raw_shape(f, a, (uint64_t)sb.st_size)) ||
        (st = rf__apply_axes(f, &ax, a, 1)))
      return st;
    a->iq_swap = iqo;
  }
  for (size_t i = 0; i < s->narr; i++) s->arr[i].group = 0;

  /* Pulses. */
  rf__imp_array *a = &s->arr[0];
  double fs, pri_s = 0;
  int has_pri = 0;
  if ((st = rf__facts_num(f, "waveform", "sample_rate_hz", 1e-3, 1e15, &fs, NULL))) return st;
  if ((st = rf__facts_num(f, "waveform", "pri_s", 1e-12, 1e6, &pri_s, &has_pri))) return st;
  double *times = NULL, t0 = 0;
  size_t ntimes = 0;
  int has_t0 = 0;
  if ((st = rf__facts_list(f, "pulses", "time_s", &times, &ntimes))) return st;
  if ((st = rf__facts_num(f, "pulses", "start_time_s", -1e12, 1e12, &t0, &has_t0))) goto done;
  if (times && has_t0) {
    st = rf__fact_err(rf__facts_get(f, "pulses", "start_time_s"), "give pulse times (time_s) or a start time, not both");
    goto done;
  }
  if (!times && !has_t0) {
    size_t k = strlen(s->notes);
    snprintf(s->notes + k, sizeof s->notes - k, "%sno pulse times given ([pulses] time_s or start_time_s): times "
             "count from 0", k ? "; " : "");
  }
  int kp = rf__axis_of(a, RF__AX_PULSE);
  if (kp >= 0) {
    int64_t first = 0, count = 0, gate = 0, samples = 0;
    int has_c = 0, has_g = 0, has_s = 0, has_f = 0;
    int ks = rf__axis_of(a, RF__AX_SAMPLE);
    if ((st = rf__facts_int(f, "pulses", "first", 0, (double)a->dims[kp] - 1, &first, &has_f)) ||
        (st = rf__facts_int(f, "pulses", "count", 1, (double)(a->dims[kp] - (hsize_t)first), &count, &has_c)) ||
        (st = rf__facts_int(f, "pulses", "gate_samples", 0, (double)a->dims[ks] - 1, &gate, &has_g)) ||
        (st = rf__facts_int(f, "pulses", "samples", 1, (double)(a->dims[ks] - (hsize_t)gate), &samples, &has_s)))
      goto done;
    if (rf__facts_get(f, "pulses", "first_transmit_sample") || rf__facts_get(f, "pulses", "transmit_samples")) {
      st = rf__fact_err(rf__facts_get(f, "pulses", "first_transmit_sample") ? rf__facts_get(f, "pulses", "first_transmit_sample")
                                                                            : rf__facts_get(f, "pulses", "transmit_samples"),
                        "only for a 'time' axis (this layout has a 'pulse' axis)");
      goto done;
    }
    if (!has_c) count = (int64_t)a->dims[kp] - first;
    if (!has_s) samples = (int64_t)a->dims[ks] - gate;
    if (samples > RF_MAX_SAMPLES) {
      st = rf__err(RF_EFORMAT, "%s: %lld samples per pulse exceed the reader's limit %u ([pulses] samples)",
                   a->what, (long long)samples, (unsigned)RF_MAX_SAMPLES);
      goto done;
    }
    if (times && ntimes != (size_t)count && ntimes != a->dims[kp]) {
      st = rf__fact_err(rf__facts_get(f, "pulses", "time_s"), "%zu times for %lld pulses (%llu in the file)", ntimes,
                        (long long)count, (unsigned long long)a->dims[kp]);
      goto done;
    }
    if (!times && !has_pri) {
      st = rf__fact_missing(f, "waveform", "pri_s", NULL);
      goto done;
    }
    s->pulses.samples = (size_t)samples;
    s->pulses.s0 = (hsize_t)gate;
    for (int64_t p = 0; p < count && !st; p++) {
      double t = times ? times[ntimes == (size_t)count ? p : first + p] : t0 + (double)(first + p) * pri_s;
      st = rf__imp_add_pulse(s, first + p, 0, t);
    }
    /* Fast-time sample 0 is gate samples after the recorded sample 0. */
  } else {
    int kt = rf__axis_of(a, RF__AX_TIME);
    double *tx = NULL;
    size_t ntx = 0;
    int64_t *txi = NULL;
    if ((st = rf__facts_list(f, "pulses", "transmit_samples", &tx, &ntx))) goto done;
    if (tx) {
      if (!(txi = rf__malloc(ntx * sizeof *txi))) {
        rf__free(tx);
        st = rf__err(RF_ENOMEM, "out of memory");
        goto done;
      }
      for (size_t i = 0; i < ntx; i++) txi[i] = (int64_t)llround(tx[i]);
      rf__free(tx);
    }
    if (rf__facts_get(f, "pulses", "first") && (st = rf__fact_err(rf__facts_get(f, "pulses", "first"),
                                                                   "only for a 'pulse' axis; a 'time' axis starts "
                                                                   "at first_transmit_sample")))
      goto done;
    char where[1200];
    snprintf(where, sizeof where, "%s", txi ? rf__facts_get(f, "pulses", "transmit_samples")->origin : a->what);
    st = rf__imp_cut_time(f, s, 0, (int64_t)a->dims[kt], 0, txi, ntx, 0, t0, fs, where);
    rf__free(txi);
    if (st) goto done;
    if (times) {
      if (ntimes != s->pulses.n) {
        st = rf__fact_err(rf__facts_get(f, "pulses", "time_s"), "%zu times for the %zu pulses cut", ntimes,
                          s->pulses.n);
        goto done;
      }
      memcpy(s->pulse_time_s, times, ntimes * sizeof *times);
    }
    if (s->pulses.n == 0) {
      st = rf__err(RF_EFORMAT, "%s: no pulse fits in the recording (%llu samples)", a->what,
                   (unsigned long long)a->dims[kt]);
      goto done;
    }
  }
  rf__free(s->pulses.group);
  s->pulses.group = NULL; /* one group */
  st = rf__imp_dwells(f, s, NULL);
done:
  rf__free(times);
  return st;
}
