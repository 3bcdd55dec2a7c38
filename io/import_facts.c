/* radarflow io/: the radar facts of an import, by section and key, with
 * where each came from (import_internal.h). Values are text: a number, a
 * list of numbers, a word, or a reference into the source HDF5 file
 * ("@/obj@attr", "@/dataset", optionally "* factor"). */
#include "import_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h5util.h"

enum { RF__FK_NUM, RF__FK_STR, RF__FK_LIST };

typedef struct rf__fact_def {
  const char *section, *key;
  int kind;
} rf__fact_def;

/* Every key of a layout file (docs/import.md), once. */
static const rf__fact_def rf__fact_defs[] = {
    {"source", "format", RF__FK_STR},         {"source", "dataset", RF__FK_STR},
    {"source", "dataset_q", RF__FK_STR},      {"source", "axes", RF__FK_STR},
    {"source", "encoding", RF__FK_STR},       {"source", "iq_order", RF__FK_STR},
    {"source", "real_member", RF__FK_STR},    {"source", "imag_member", RF__FK_STR},
    {"source", "type", RF__FK_STR},           {"source", "byte_order", RF__FK_STR},
    {"source", "offset_bytes", RF__FK_NUM},   {"source", "shape", RF__FK_STR},
    {"source", "scale", RF__FK_NUM},
    {"radar", "name", RF__FK_STR},            {"radar", "site_latitude_deg", RF__FK_NUM},
    {"radar", "site_longitude_deg", RF__FK_NUM}, {"radar", "site_altitude_m", RF__FK_NUM},
    {"waveform", "type", RF__FK_STR},         {"waveform", "center_frequency_hz", RF__FK_NUM},
    {"waveform", "sample_rate_hz", RF__FK_NUM}, {"waveform", "bandwidth_hz", RF__FK_NUM},
    {"waveform", "pulse_width_s", RF__FK_NUM}, {"waveform", "pri_s", RF__FK_NUM},
    {"waveform", "range_gate_delay_s", RF__FK_NUM}, {"waveform", "reference", RF__FK_LIST},
    {"array", "element_position_m", RF__FK_LIST}, {"array", "calibration", RF__FK_LIST},
    {"array", "layout", RF__FK_STR},          {"array", "elements", RF__FK_NUM},
    {"array", "spacing_m", RF__FK_NUM},       {"array", "face_azimuth_deg", RF__FK_NUM},
    {"pulses", "first", RF__FK_NUM},          {"pulses", "count", RF__FK_NUM},
    {"pulses", "time_s", RF__FK_LIST},        {"pulses", "start_time_s", RF__FK_NUM},
    {"pulses", "first_transmit_sample", RF__FK_NUM}, {"pulses", "transmit_samples", RF__FK_LIST},
    {"pulses", "gate_samples", RF__FK_NUM},   {"pulses", "samples", RF__FK_NUM},
    {"dwell", "pulses", RF__FK_LIST},         {"dwell", "first_pulse", RF__FK_LIST},
    {"dwell", "num_pulses", RF__FK_LIST},     {"dwell", "azimuth_deg", RF__FK_LIST},
    {"dwell", "elevation_deg", RF__FK_LIST},  {"dwell", "tx_beamwidth_az_deg", RF__FK_LIST},
    {"dwell", "tx_beamwidth_el_deg", RF__FK_LIST},
};
#define RF__NFACT (sizeof rf__fact_defs / sizeof rf__fact_defs[0])

static const rf__fact_def *rf__fact_def_find(const char *section, const char *key) {
  for (size_t i = 0; i < RF__NFACT; i++)
    if (!strcmp(rf__fact_defs[i].section, section) && !strcmp(rf__fact_defs[i].key, key))
      return &rf__fact_defs[i];
  return NULL;
}

static int rf__known_section(const char *s) {
  for (size_t i = 0; i < RF__NFACT; i++)
    if (!strcmp(rf__fact_defs[i].section, s)) return 1;
  return 0;
}

int rf__fact_err(const rf__fact *e, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rf__err(RF_EFORMAT, "%s: %s", e->origin, msg);
}

int rf__fact_missing(const rf__facts *f, const char *section, const char *key, const char *hint) {
  return rf__err(RF_EFORMAT, "%s: [%s] %s: required and not given%s%s", f->where ? f->where : "import",
                 section, key, hint ? " " : "", hint ? hint : "");
}

const rf__fact *rf__facts_get(const rf__facts *f, const char *section, const char *key) {
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp(f->v[i].section, section) && !strcmp(f->v[i].key, key)) return &f->v[i];
  return NULL;
}

int rf__facts_put(rf__facts *f, const char *section, const char *key, const char *value,
                  const char *origin, int from, int append) {
  if (!rf__known_section(section))
    return rf__err(RF_EFORMAT, "%s: [%s]: unknown section (known: source, radar, waveform, array, "
                   "pulses, dwell)", origin, section);
  const rf__fact_def *def = rf__fact_def_find(section, key);
  if (!def) return rf__err(RF_EFORMAT, "%s: unknown key", origin);
  rf__fact *e = (rf__fact *)rf__facts_get(f, section, key);
  if (e && e->from > from) return 0; /* a later input (layout, --set) already said */
  if (e && append && e->from == from) {
    if (def->kind != RF__FK_LIST)
      return rf__err(RF_EFORMAT, "%s: given twice (first at %s)", origin, e->origin);
    size_t a = strlen(e->value), b = strlen(value);
    char *nv = rf__realloc(e->value, a + b + 2);
    if (!nv) return rf__err(RF_ENOMEM, "out of memory");
    nv[a] = ' ';
    memcpy(nv + a + 1, value, b + 1);
    e->value = nv;
    return 0;
  }
  if (!e) {
    if (f->n == f->cap) {
      size_t nc = f->cap ? 2 * f->cap : 32;
      rf__fact *nv = rf__realloc(f->v, nc * sizeof *nv);
      if (!nv) return rf__err(RF_ENOMEM, "out of memory");
      f->v = nv;
      f->cap = nc;
    }
    e = &f->v[f->n++];
    memset(e, 0, sizeof *e);
    e->section = rf__strdup(section);
    e->key = rf__strdup(key);
    if (!e->section || !e->key) return rf__err(RF_ENOMEM, "out of memory");
  }
  rf__free(e->value);
  rf__free(e->origin);
  e->value = rf__strdup(value);
  e->origin = rf__strdup(origin);
  e->from = from;
  if (!e->value || !e->origin) return rf__err(RF_ENOMEM, "out of memory");
  return 0;
}

void rf__facts_free(rf__facts *f) {
  for (size_t i = 0; i < f->n; i++) {
    rf__free(f->v[i].section);
    rf__free(f->v[i].key);
    rf__free(f->v[i].value);
    rf__free(f->v[i].origin);
  }
  rf__free(f->v);
  f->v = NULL;
  f->n = f->cap = 0;
}

int rf__facts_set(rf__facts *f, const char *assignment) {
  char buf[1024], origin[1100];
  if (strlen(assignment) >= sizeof buf) return rf__err(RF_EINVAL, "--set %.64s...: too long", assignment);
  strcpy(buf, assignment);
  char *eq = strchr(buf, '='), *dot = strchr(buf, '.');
  if (!eq || !dot || dot > eq)
    return rf__err(RF_EINVAL, "--set %s: expected section.key=value (keys: docs/import.md)", assignment);
  *eq = 0;
  *dot = 0;
  snprintf(origin, sizeof origin, "--set %s.%s", buf, dot + 1);
  int st = rf__facts_put(f, buf, dot + 1, eq + 1, origin, 2, 0);
  return st == RF_EFORMAT ? RF_EINVAL : st;
}

/* ---- references into the source HDF5 file ---------------------------------------- */
typedef struct rf__ref {
  char obj[1024], attr[256];
  int is_attr;
  double factor;
} rf__ref;

/* 1 and *r filled when the value is a reference, 0 when a literal, or
 * RF_EFORMAT on a malformed one. */
static int rf__ref_parse(const rf__fact *e, rf__ref *r) {
  const char *v = e->value;
  while (isspace((unsigned char)*v)) v++;
  if (*v != '@') return 0;
  v++;
  char body[1300];
  snprintf(body, sizeof body, "%s", v);
  r->factor = 1;
  char *star = strchr(body, '*');
  if (star) {
    char *end;
    errno = 0;
    r->factor = strtod(star + 1, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == star + 1 || *end || errno || !isfinite(r->factor) || r->factor == 0)
      return rf__fact_err(e, "'%s': the factor after '*' must be a finite nonzero number", e->value);
    *star = 0;
  }
  size_t n = strlen(body);
  while (n && isspace((unsigned char)body[n - 1])) body[--n] = 0;
  if (body[0] != '/')
    return rf__fact_err(e, "'%s': a reference is @/path/to/dataset or @/path/to/object@attribute", e->value);
  char *at = strrchr(body, '@');
  r->is_attr = at != NULL;
  if (at) {
    *at = 0;
    snprintf(r->attr, sizeof r->attr, "%s", at + 1);
    if (!r->attr[0]) return rf__fact_err(e, "'%s': attribute name missing after '@'", e->value);
  }
  snprintf(r->obj, sizeof r->obj, "%s", body[0] ? body : "/");
  return 1;
}

/* Complex member names a compound may use, (re, im) in pairs. */
static const char *const rf__cx_names[][2] = {{"r", "i"}, {"re", "im"}, {"real", "imag"},
                                              {"I", "Q"}, {"i", "q"}};

/* Reads numbers of an attribute or dataset into a new array of doubles
 * (compounds of two numbers give two per element). */
static int rf__ref_read(const rf__facts *f, const rf__fact *e, const rf__ref *r, double **out,
                        size_t *n) {
  hid_t o = H5I_INVALID_HID, t = H5I_INVALID_HID, s = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  int st = 0, is_attr = r->is_attr;
  double *v = NULL;
  *out = NULL;
  *n = 0;
  if (f->h5 < 0)
    return rf__fact_err(e, "'%s': references need an HDF5 source file", e->value);
  if (is_attr) {
    if (H5Aexists_by_name(f->h5, r->obj, r->attr, H5P_DEFAULT) <= 0)
      return rf__fact_err(e, "%s: no attribute %s on %s", f->h5_path, r->attr, r->obj);
    o = H5Aopen_by_name(f->h5, r->obj, r->attr, H5P_DEFAULT, H5P_DEFAULT);
    if (o >= 0) {
      t = H5Aget_type(o);
      s = H5Aget_space(o);
    }
  } else {
    if (H5Lexists(f->h5, r->obj, H5P_DEFAULT) <= 0)
      return rf__fact_err(e, "%s: no dataset %s", f->h5_path, r->obj);
    o = H5Dopen2(f->h5, r->obj, H5P_DEFAULT);
    if (o >= 0) {
      t = H5Dget_type(o);
      s = H5Dget_space(o);
    }
  }
  if (o < 0 || t < 0 || s < 0) {
    st = rf__fact_err(e, "%s: cannot open %s%s%s: %s", f->h5_path, r->obj, is_attr ? "@" : "",
                      is_attr ? r->attr : "", rf__h5_errdesc());
    goto cleanup;
  }
  hssize_t np = H5Sget_simple_extent_npoints(s);
  H5T_class_t c = H5Tget_class(t);
  size_t per = 1;
  if (c == H5T_COMPOUND) {
    int found = 0;
    for (size_t k = 0; k < sizeof rf__cx_names / sizeof rf__cx_names[0] && !found; k++)
      if (H5Tget_member_index(t, rf__cx_names[k][0]) >= 0 && H5Tget_member_index(t, rf__cx_names[k][1]) >= 0) {
        mt = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
        if (mt >= 0 && H5Tinsert(mt, rf__cx_names[k][0], 0, H5T_NATIVE_DOUBLE) >= 0 &&
            H5Tinsert(mt, rf__cx_names[k][1], sizeof(double), H5T_NATIVE_DOUBLE) >= 0)
          found = 1;
      }
    if (!found) {
      st = rf__fact_err(e, "%s: %s: a compound must be complex (members r/i, re/im or real/imag)", f->h5_path,
                        r->obj);
      goto cleanup;
    }
    per = 2;
  } else if (c == H5T_INTEGER || c == H5T_FLOAT) {
    mt = H5Tcopy(H5T_NATIVE_DOUBLE);
  } else {
    st = rf__fact_err(e, "%s: %s%s%s does not hold numbers", f->h5_path, r->obj, is_attr ? "@" : "",
                      is_attr ? r->attr : "");
    goto cleanup;
  }
  if (np < 1 || (uint64_t)np > ((uint64_t)1 << 28)) {
    st = rf__fact_err(e, "%s: %s holds %lld values", f->h5_path, r->obj, (long long)np);
    goto cleanup;
  }
  if (!(v = rf__malloc((size_t)np * per * sizeof *v))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", f->h5_path);
    goto cleanup;
  }
  herr_t rr = is_attr ? H5Aread(o, mt, v) : H5Dread(o, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  if (rr < 0) {
    st = rf__fact_err(e, "%s: cannot read %s: %s", f->h5_path, r->obj, rf__h5_errdesc());
    goto cleanup;
  }
  *n = (size_t)np * per;
  for (size_t i = 0; i < *n; i++) {
    v[i] *= r->factor;
    if (!isfinite(v[i])) {
      st = rf__fact_err(e, "%s: %s: value %zu is not finite", f->h5_path, r->obj, i);
      goto cleanup;
    }
  }
  *out = v;
  v = NULL;
cleanup:
  rf__free(v);
  if (mt >= 0) H5Tclose(mt);
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  if (o >= 0) (is_attr ? H5Aclose(o) : H5Dclose(o));
  return st;
}

/* ---- typed reads ------------------------------------------------------------------------- */
static int rf__parse_list(const rf__fact *e, double **out, size_t *n) {
  size_t bad = 0;
  int st = rf_parse_doubles(e->value, out, n, &bad);
  if (st == RF_ENOMEM) return rf__err(RF_ENOMEM, "out of memory");
  if (st) return rf__fact_err(e, "item %zu of '%s' is not a finite number", bad + 1, e->value);
  return 0;
}

int rf__facts_list(const rf__facts *f, const char *section, const char *key, double **v, size_t *n) {
  *v = NULL;
  *n = 0;
  const rf__fact *e = rf__facts_get(f, section, key);
  if (!e) return 0;
  rf__ref r;
  int isref = rf__ref_parse(e, &r);
  if (isref < 0) return isref;
  int st = isref ? rf__ref_read(f, e, &r, v, n) : rf__parse_list(e, v, n);
  if (!st && *n == 0) {
    rf__free(*v);
    *v = NULL;
    return rf__fact_err(e, "empty list");
  }
  return st;
}

int rf__facts_num(const rf__facts *f, const char *section, const char *key, double lo, double hi,
                  double *out, int *has) {
  const rf__fact *e = rf__facts_get(f, section, key);
  if (has) *has = 0;
  if (!e) return has ? 0 : rf__fact_missing(f, section, key, NULL);
  double *v = NULL;
  size_t n = 0;
  int st = rf__facts_list(f, section, key, &v, &n);
  if (st) return st;
  if (n != 1) {
    rf__free(v);
    return rf__fact_err(e, "expected one number, got %zu", n);
  }
  double x = v[0];
  rf__free(v);
  if (!(x >= lo && x <= hi)) return rf__fact_err(e, "%.17g is outside [%g, %g]", x, lo, hi);
  *out = x;
  if (has) *has = 1;
  return 0;
}

int rf__facts_int(const rf__facts *f, const char *section, const char *key, double lo, double hi,
                  int64_t *out, int *has) {
  double x;
  int h = 0, st = rf__facts_num(f, section, key, lo, hi, &x, has ? &h : NULL);
  if (has) *has = h;
  if (st || (has && !h)) return st;
  if (x != floor(x)) return rf__fact_err(rf__facts_get(f, section, key), "%.17g is not an integer", x);
  *out = (int64_t)x;
  return 0;
}

int rf__facts_str(const rf__facts *f, const char *section, const char *key, char *buf, size_t len,
                  int *has) {
  const rf__fact *e = rf__facts_get(f, section, key);
  if (has) *has = 0;
  if (!e) return has ? 0 : rf__fact_missing(f, section, key, NULL);
  rf__ref r;
  int isref = rf__ref_parse(e, &r);
  if (isref < 0) return isref;
  if (isref && !r.is_attr) return rf__fact_err(e, "'%s': a word comes from an attribute (@/obj@name)", e->value);
  if (isref) {
    if (f->h5 < 0) return rf__fact_err(e, "'%s': references need an HDF5 source file", e->value);
    int present = 0;
    hid_t o = H5Oopen(f->h5, r.obj, H5P_DEFAULT);
    int st = o < 0 ? rf__fact_err(e, "%s: no object %s", f->h5_path, r.obj)
                   : rf__h5_attr_string(o, f->h5_path, r.obj, r.attr, buf, len, &present);
    if (o >= 0) H5Oclose(o);
    if (st) return st;
    if (!present) return rf__fact_err(e, "%s: no attribute %s on %s", f->h5_path, r.attr, r.obj);
  } else {
    const char *v = e->value;
    while (isspace((unsigned char)*v)) v++;
    snprintf(buf, len, "%s", v);
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1])) buf[--n] = 0;
  }
  if (has) *has = 1;
  return 0;
}
