/* radarflow io/: SigMF recordings (a .sigmf-meta JSON file beside a raw
 * .sigmf-data file), read with cJSON. The core namespace gives the sample
 * format (core:datatype, core:num_channels), rate, carrier, capture
 * segments (their start, header bytes, time) and annotations; the radar
 * facts it does not carry come from the radarflow extension namespace
 * (radarflow:* keys, docs/import.md) or a layout file. Pulses are cut by
 * PRI on a grid or at pulse annotations ("radarflow:pulse": true). */
#include "import_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "capture_sources.h"
#include "h5util.h"

#define RF__SIGMF_MAX_META (64u << 20)

/* radarflow:* keys of the global object and the fact each one gives. */
static const struct {
  const char *name, *section, *key;
} rf__sigmf_keys[] = {
    {"radar_name", "radar", "name"},
    {"site_latitude_deg", "radar", "site_latitude_deg"},
    {"site_longitude_deg", "radar", "site_longitude_deg"},
    {"site_altitude_m", "radar", "site_altitude_m"},
    {"waveform", "waveform", "type"},
    {"center_frequency_hz", "waveform", "center_frequency_hz"},
    {"bandwidth_hz", "waveform", "bandwidth_hz"},
    {"pulse_width_s", "waveform", "pulse_width_s"},
    {"pri_s", "waveform", "pri_s"},
    {"range_gate_delay_s", "waveform", "range_gate_delay_s"},
    {"reference", "waveform", "reference"},
    {"element_position_m", "array", "element_position_m"},
    {"calibration", "array", "calibration"},
    {"array_layout", "array", "layout"},
    {"elements", "array", "elements"},
    {"spacing_m", "array", "spacing_m"},
    {"face_azimuth_deg", "array", "face_azimuth_deg"},
    {"first_transmit_sample", "pulses", "first_transmit_sample"},
    {"gate_samples", "pulses", "gate_samples"},
    {"samples_per_pulse", "pulses", "samples"},
    {"start_time_s", "pulses", "start_time_s"},
    {"pulses_per_dwell", "dwell", "pulses"},
    {"azimuth_deg", "dwell", "azimuth_deg"},
    {"elevation_deg", "dwell", "elevation_deg"},
    {"tx_beamwidth_az_deg", "dwell", "tx_beamwidth_az_deg"},
    {"tx_beamwidth_el_deg", "dwell", "tx_beamwidth_el_deg"},
    {"scale", "source", "scale"},
};
#define RF__NSIGMF_KEYS (sizeof rf__sigmf_keys / sizeof rf__sigmf_keys[0])

static int rf__ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  return n > k && !strcmp(s + n - k, suf);
}

int rf__sigmf_is(const char *source) {
  if (rf__ends_with(source, ".sigmf-meta") || rf__ends_with(source, ".sigmf-data")) return 1;
  char meta[PATH_MAX + 16];
  snprintf(meta, sizeof meta, "%s.sigmf-meta", source);
  struct stat sb;
  return stat(meta, &sb) == 0;
}

/* A JSON value as fact text: a number, a word, or numbers (nested arrays
 * flattened) separated by blanks. */
static int rf__json_text(const cJSON *v, char **out) {
  *out = NULL;
  if (cJSON_IsString(v)) return (*out = rf__strdup(v->valuestring)) ? 0 : RF_ENOMEM;
  size_t cap = 64, n = 0;
  char *b = rf__malloc(cap);
  if (!b) return RF_ENOMEM;
  b[0] = 0;
  const cJSON *items[2] = {NULL, NULL};
  int depth = 0;
  /* Walk up to two levels of arrays. */
  if (cJSON_IsNumber(v)) {
    snprintf(b, cap, "%.17g", v->valuedouble);
    *out = b;
    return 0;
  }
  if (!cJSON_IsArray(v)) {
    rf__free(b);
    return RF_EFORMAT;
  }
  items[0] = v->child;
  depth = 0;
  while (depth >= 0) {
    const cJSON *it = items[depth];
    if (!it) {
      depth--;
      if (depth >= 0 && items[depth]) items[depth] = items[depth]->next;
      continue;
    }
    if (cJSON_IsArray(it)) {
      if (depth == 1) {
        rf__free(b);
        return RF_EFORMAT;
      }
      items[++depth] = it->child;
      continue;
    }
    if (!cJSON_IsNumber(it)) {
      rf__free(b);
      return RF_EFORMAT;
    }
    if (n + 32 > cap) {
      cap *= 2;
      char *nb = rf__realloc(b, cap);
      if (!nb) {
        rf__free(b);
        return RF_ENOMEM;
      }
      b = nb;
    }
    n += (size_t)snprintf(b + n, cap - n, "%s%.17g", n ? " " : "", it->valuedouble);
    items[depth] = it->next;
  }
  *out = b;
  return 0;
}

static int rf__put_json(rf__facts *f, const char *meta, const char *where, const char *name,
                        const cJSON *v, const char *section, const char *key) {
  char origin[PATH_MAX + 256], *text = NULL;
  snprintf(origin, sizeof origin, "%s: %s %s", meta, where, name);
  int st = rf__json_text(v, &text);
  if (st == RF_ENOMEM) return rf__err(RF_ENOMEM, "out of memory");
  if (st) return rf__err(RF_EFORMAT, "%s: must be a number, a string or an array of numbers", origin);
  st = rf__facts_put(f, section, key, text, origin, 0, 0);
  rf__free(text);
  return st;
}

/* Integer member of obj (absent: *has = 0). */
static int rf__json_int(const cJSON *obj, const char *name, int64_t lo, int64_t hi, int64_t *v, int *has,
                        const char *meta, const char *where) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  *has = 0;
  if (!it) return 0;
  if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < (double)lo ||
      it->valuedouble > (double)hi)
    return rf__err(RF_EFORMAT, "%s: %s %s: must be an integer in [%lld, %lld]", meta, where, name,
                   (long long)lo, (long long)hi);
  *v = (int64_t)it->valuedouble;
  *has = 1;
  return 0;
}

/* ISO 8601 UTC ("2024-05-01T12:00:00.123456789Z") to epoch seconds. */
static int rf__iso_time(const char *s, double *t) {
  int y, mo, d, h, mi, n = 0;
  double sec;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%n", &y, &mo, &d, &h, &mi, &n) != 5 || n == 0) return -1;
  const char *p = s + n;
  char *end;
  if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return -1;
  sec = strtod(p, &end);
  if (!(sec >= 0 && sec < 61)) return -1;
  double off = 0;
  if (*end == 'Z' && end[1] == 0) {
  } else if ((*end == '+' || *end == '-') && strlen(end) == 6 && end[3] == ':') {
    int oh, om;
    if (sscanf(end + 1, "%2d:%2d", &oh, &om) != 2) return -1;
    off = (*end == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  } else {
    return -1;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return -1;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  time_t whole = timegm(&tm);
  /* Whole seconds first, then the fraction, so the sum rounds once. */
  double isec = floor(sec);
  *t = ((double)whole + isec - off) + (sec - isec);
  return 0;
}

/* core:datatype: complex (c), int or float, 8..64 bits, _le/_be. */
static int rf__sigmf_type(const char *dt, hid_t *t, const char *meta) {
  char kind, num;
  int bits, n = 0;
  char rest[8] = "";
  if (sscanf(dt, "%c%c%d%n", &kind, &num, &bits, &n) != 3)
    return rf__err(RF_EFORMAT, "%s: global core:datatype: '%s' is not a SigMF datatype", meta, dt);
  snprintf(rest, sizeof rest, "%s", dt + n);
  if (kind == 'r')
    return rf__err(RF_EFORMAT, "%s: global core:datatype: '%s' is real-valued; radarflow needs complex baseband "
                   "samples (c...)", meta, dt);
  if (num == 'u')
    return rf__err(RF_EFORMAT, "%s: global core:datatype: '%s': unsigned samples (offset binary) are not supported",
                   meta, dt);
  int be = !strcmp(rest, "_be"), le = !strcmp(rest, "_le") || (bits == 8 && !rest[0]);
  if (kind != 'c' || (num != 'i' && num != 'f') || (!be && !le) ||
      (num == 'i' && bits != 8 && bits != 16 && bits != 32) || (num == 'f' && bits != 32 && bits != 64))
    return rf__err(RF_EFORMAT, "%s: global core:datatype: '%s' is not one of ci8, ci16_le/_be, ci32_le/_be, "
                   "cf32_le/_be, cf64_le/_be", meta, dt);
  H5open();
  hid_t base;
  if (num == 'i') base = bits == 8 ? (be ? H5T_STD_I8BE : H5T_STD_I8LE) : bits == 16 ? (be ? H5T_STD_I16BE : H5T_STD_I16LE)
                                                                                     : (be ? H5T_STD_I32BE : H5T_STD_I32LE);
  else base = bits == 32 ? (be ? H5T_IEEE_F32BE : H5T_IEEE_F32LE) : (be ? H5T_IEEE_F64BE : H5T_IEEE_F64LE);
  *t = H5Tcopy(base);
  return *t < 0 ? rf__err(RF_EFORMAT, "%s: %s", meta, rf__h5_errdesc()) : 0;
}

/* A pulse annotation. */
typedef struct rf__pann {
  int64_t tx;
  int64_t dwell; /* -1 none */
  size_t index;  /* in annotations[] */
  const cJSON *obj;
} rf__pann;

/* Per-dwell override from an object (capture segment or annotation):
 * number or list cycled over [d0, d1). */
static int rf__override(const cJSON *obj, const char *name, double lo, double hi, double **arr, size_t ndw,
                        size_t d0, size_t d1, const char *meta, const char *where) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it) return 0;
  double v[256];
  size_t n = 0;
  if (cJSON_IsNumber(it)) {
    v[n++] = it->valuedouble;
  } else if (cJSON_IsArray(it)) {
    for (const cJSON *c = it->child; c; c = c->next) {
      if (!cJSON_IsNumber(c) || n == 256)
        return rf__err(RF_EFORMAT, "%s: %s %s: must be a number or up to 256 numbers", meta, where, name);
      v[n++] = c->valuedouble;
    }
  }
  if (n == 0) return rf__err(RF_EFORMAT, "%s: %s %s: must be a number or a list of numbers", meta, where, name);
  for (size_t i = 0; i < n; i++)
    if (!(v[i] >= lo && v[i] <= hi))
      return rf__err(RF_EFORMAT, "%s: %s %s: %g is outside [%g, %g]", meta, where, name, v[i], lo, hi);
  if (!*arr) {
    if (!(*arr = rf__calloc(ndw ? ndw : 1, sizeof **arr))) return rf__err(RF_ENOMEM, "out of memory");
    for (size_t d = 0; d < ndw; d++) (*arr)[d] = NAN;
  }
  for (size_t d = d0; d < d1; d++) (*arr)[d] = v[(d - d0) % n];
  return 0;
}

int rf__sigmf_read(const char *source, rf__facts *f, rf__imp_source *s) {
  char meta[PATH_MAX], data[PATH_MAX], where[96];
  char *text = NULL, *mdir = NULL;
  cJSON *root = NULL;
  rf__pann *pa = NULL;
  int64_t *tx = NULL, *ss = NULL, *hb = NULL;
  double *t0 = NULL;
  uint32_t *seg_of = NULL;
  int st = 0;
  size_t npa = 0;
  /* Names: the meta file, and the data file beside it (or core:dataset). */
  size_t n = strlen(source);
  if (rf__ends_with(source, ".sigmf-meta")) snprintf(meta, sizeof meta, "%s", source);
  else if (rf__ends_with(source, ".sigmf-data")) snprintf(meta, sizeof meta, "%.*s.sigmf-meta", (int)(n - 11), source);
  else snprintf(meta, sizeof meta, "%s.sigmf-meta", source);
  snprintf(s->meta_path, sizeof s->meta_path, "%s", meta);
  snprintf(data, sizeof data, "%.*s.sigmf-data", (int)(strlen(meta) - 11), meta);
  s->kind = RF_IMPORT_SIGMF;

  struct stat sb;
  FILE *fp = NULL;
  if (stat(meta, &sb) < 0) return rf__err(RF_EFORMAT, "%s: cannot open SigMF meta file: %s", meta, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return rf__err(RF_EFORMAT, "%s: not a regular file", meta);
  if ((uint64_t)sb.st_size > RF__SIGMF_MAX_META)
    return rf__err(RF_EFORMAT, "%s: SigMF meta file larger than %u MiB", meta, RF__SIGMF_MAX_META >> 20);
  if (!(text = rf__malloc((size_t)sb.st_size + 1))) return rf__err(RF_ENOMEM, "out of memory");
  if (!(fp = fopen(meta, "rb")) || fread(text, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
    st = rf__err(RF_EFORMAT, "%s: cannot read: %s", meta, strerror(errno));
    if (fp) fclose(fp);
    goto cleanup;
  }
  fclose(fp);
  text[sb.st_size] = 0;
  root = cJSON_ParseWithLength(text, (size_t)sb.st_size);
  if (!root) {
    const char *e = cJSON_GetErrorPtr();
    long off = e && e >= text && e <= text + sb.st_size ? (long)(e - text) : -1;
    int line = 1;
    for (long i = 0; i < off; i++) line += text[i] == '\n';
    st = rf__err(RF_EFORMAT, "%s:%d: not valid JSON (near byte %ld)", meta, line, off);
    goto cleanup;
  }
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "global");
  const cJSON *caps = cJSON_GetObjectItemCaseSensitive(root, "captures");
  const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
  if (!cJSON_IsObject(root) || !cJSON_IsObject(g)) {
    st = rf__err(RF_EFORMAT, "%s: global: missing (a SigMF meta file is an object with global, captures, "
                 "annotations)", meta);
    goto cleanup;
  }
  if (!cJSON_IsArray(caps)) {
    st = rf__err(RF_EFORMAT, "%s: captures: missing or not an array", meta);
    goto cleanup;
  }
  if (anns && !cJSON_IsArray(anns)) {
    st = rf__err(RF_EFORMAT, "%s: annotations: not an array", meta);
    goto cleanup;
  }

  /* ---- global ---- */
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(g, "core:datatype");
  const cJSON *sr = cJSON_GetObjectItemCaseSensitive(g, "core:sample_rate");
  if (!cJSON_IsString(dt)) {
    st = rf__err(RF_EFORMAT, "%s: global core:datatype: missing or not a string", meta);
    goto cleanup;
  }
  if (!cJSON_IsNumber(sr) || !(sr->valuedouble > 0) || !isfinite(sr->valuedouble)) {
    st = rf__err(RF_EFORMAT, "%s: global core:sample_rate: missing or not a number > 0 (radarflow needs the sample "
                 "rate)", meta);
    goto cleanup;
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "core:metadata_only"))) {
    st = rf__err(RF_EFORMAT, "%s: global core:metadata_only: the recording has no samples", meta);
    goto cleanup;
  }
  int64_t nch = 1, trailing = 0;
  int has;
  if ((st = rf__json_int(g, "core:num_channels", 1, RF_MAX_CHANNELS, &nch, &has, meta, "global")) ||
      (st = rf__json_int(g, "core:trailing_bytes", 0, INT64_MAX / 2, &trailing, &has, meta, "global")))
    goto cleanup;
  if ((st = rf__put_json(f, meta, "global", "core:sample_rate", sr, "waveform", "sample_rate_hz"))) goto cleanup;
  const cJSON *ds = cJSON_GetObjectItemCaseSensitive(g, "core:dataset");
  if (ds) {
    if (!cJSON_IsString(ds) || !ds->valuestring[0] || strchr(ds->valuestring, '/')) {
      st = rf__err(RF_EFORMAT, "%s: global core:dataset: must be a file name beside the meta file", meta);
      goto cleanup;
    }
    if (!(mdir = rf__path_dirname(meta))) goto nomem;
    snprintf(data, sizeof data, "%s/%s", mdir, ds->valuestring);
  }
  const cJSON *geo = cJSON_GetObjectItemCaseSensitive(g, "core:geolocation");
  if (geo) {
    const cJSON *co = cJSON_GetObjectItemCaseSensitive(geo, "coordinates");
    int k = cJSON_IsArray(co) ? cJSON_GetArraySize(co) : 0;
    if (k < 2 || k > 3 || !cJSON_IsNumber(cJSON_GetArrayItem(co, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(co, 1)) ||
        (k == 3 && !cJSON_IsNumber(cJSON_GetArrayItem(co, 2)))) {
      st = rf__err(RF_EFORMAT, "%s: global core:geolocation: must be a GeoJSON point {\"type\": \"Point\", "
                   "\"coordinates\": [longitude, latitude, altitude]}", meta);
      goto cleanup;
    }
    if ((st = rf__put_json(f, meta, "global", "core:geolocation", cJSON_GetArrayItem(co, 1), "radar",
                           "site_latitude_deg")) ||
        (st = rf__put_json(f, meta, "global", "core:geolocation", cJSON_GetArrayItem(co, 0), "radar",
                           "site_longitude_deg")) ||
        (k == 3 && (st = rf__put_json(f, meta, "global", "core:geolocation", cJSON_GetArrayItem(co, 2), "radar",
                                      "site_altitude_m"))))
      goto cleanup;
  }
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(g, "core:description");
  if (cJSON_IsString(desc) && (st = rf__put_json(f, meta, "global", "core:description", desc, "radar", "name")))
    goto cleanup;
  /* radarflow:* keys replace what core gave (not what a layout or --set gave). */
  for (const cJSON *it = g->child; it; it = it->next) {
    if (strncmp(it->string, "radarflow:", 10) != 0) continue;
    size_t k = 0;
    while (k < RF__NSIGMF_KEYS && strcmp(rf__sigmf_keys[k].name, it->string + 10)) k++;
    if (k == RF__NSIGMF_KEYS) {
      st = rf__err(RF_EFORMAT, "%s: global %s: unknown key of the radarflow namespace (docs/import.md lists them)",
                   meta, it->string);
      goto cleanup;
    }
    if ((st = rf__put_json(f, meta, "global", it->string, it, rf__sigmf_keys[k].section, rf__sigmf_keys[k].key)))
      goto cleanup;
  }

  /* ---- the data file and its stretches ---- */
  hid_t type = H5I_INVALID_HID;
  if ((st = rf__sigmf_type(dt->valuestring, &type, meta))) goto cleanup;
  size_t elem = H5Tget_size(type);
  uint64_t frame = (uint64_t)nch * 2 * elem;
  struct stat db;
  int sr_ok = stat(data, &db);
  if (sr_ok < 0 || !S_ISREG(db.st_mode)) {
    st = rf__err(RF_EFORMAT, "%s: SigMF data file %s: %s", meta, data, sr_ok < 0 ? strerror(errno) : "not a regular file");
    H5Tclose(type);
    goto cleanup;
  }
  size_t ncap = (size_t)cJSON_GetArraySize(caps);
  if (ncap == 0) ncap = 1;
  ss = rf__calloc(ncap + 1, sizeof *ss);
  hb = rf__calloc(ncap + 1, sizeof *hb);
  t0 = rf__calloc(ncap, sizeof *t0);
  if (!ss || !hb || !t0) {
    H5Tclose(type);
    goto nomem;
  }
  double fc = NAN, fs = sr->valuedouble;
  int has_t0 = 0, t0_given = 0;
  double start_time = 0;
  if ((st = rf__facts_num(f, "pulses", "start_time_s", -1e12, 1e12, &start_time, &t0_given))) {
    H5Tclose(type);
    goto cleanup;
  }
  uint64_t headers = 0;
  for (size_t k = 0; k < ncap; k++) {
    const cJSON *c = cJSON_GetArrayItem(caps, (int)k);
    snprintf(where, sizeof where, "captures[%zu]", k);
    if (c && !cJSON_IsObject(c)) {
      st = rf__err(RF_EFORMAT, "%s: %s: not an object", meta, where);
      break;
    }
    int64_t v = 0;
    if ((st = rf__json_int(c, "core:sample_start", 0, INT64_MAX / 4, &v, &has, meta, where))) break;
    ss[k] = v;
    if (k && ss[k] <= ss[k - 1]) {
      st = rf__err(RF_EFORMAT, "%s: %s core:sample_start: %lld does not follow the previous segment's %lld "
                   "(segments are in sample order)", meta, where, (long long)ss[k], (long long)ss[k - 1]);
      break;
    }
    if ((st = rf__json_int(c, "core:header_bytes", 0, INT64_MAX / 4, &hb[k], &has, meta, where))) break;
    headers += (uint64_t)hb[k];
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c, "core:frequency");
    if (fr) {
      if (!cJSON_IsNumber(fr) || !(fr->valuedouble > 0)) {
        st = rf__err(RF_EFORMAT, "%s: %s core:frequency: must be a number > 0", meta, where);
        break;
      }
      if (isnan(fc)) {
        fc = fr->valuedouble;
        if ((st = rf__put_json(f, meta, where, "core:frequency", fr, "waveform", "center_frequency_hz"))) break;
      } else if (fr->valuedouble != fc) {
        st = rf__err(RF_EFORMAT, "%s: %s core:frequency: %.17g differs from the first segment's %.17g: a capture "
                     "has one carrier (import the segments apart)", meta, where, fr->valuedouble, fc);
        break;
      }
    }
    const cJSON *dtm = cJSON_GetObjectItemCaseSensitive(c, "core:datetime");
    if (dtm) {
      if (!cJSON_IsString(dtm) || rf__iso_time(dtm->valuestring, &t0[k])) {
        st = rf__err(RF_EFORMAT, "%s: %s core:datetime: must be ISO 8601 UTC, e.g. 2024-05-01T12:00:00.5Z", meta,
                     where);
        break;
      }
      has_t0 = 1;
    } else if (k) {
      t0[k] = t0[k - 1] + (double)(ss[k] - ss[k - 1]) / fs;
    } else {
      t0[k] = start_time;
    }
  }
  if (st) {
    H5Tclose(type);
    goto cleanup;
  }
  if (!has_t0 && !t0_given) {
    size_t k = strlen(s->notes);
    snprintf(s->notes + k, sizeof s->notes - k, "%sno core:datetime: pulse times count from 0", k ? "; " : "");
  }
  uint64_t fsize = (uint64_t)db.st_size, body = fsize > headers + (uint64_t)trailing ? fsize - headers - (uint64_t)trailing : 0;
  int64_t total = (int64_t)(body / frame);
  if (body % frame) {
    size_t k = strlen(s->notes);
    snprintf(s->notes + k, sizeof s->notes - k, "%s%s: %llu bytes after the last whole sample ignored", k ? "; " : "",
             data, (unsigned long long)(body % frame));
  }
  if (ss[ncap - 1] >= total) {
    st = rf__err(RF_EFORMAT, "%s: captures[%zu] core:sample_start: %lld is past the end of %s (%lld samples)", meta,
                 ncap - 1, (long long)ss[ncap - 1], data, (long long)total);
    H5Tclose(type);
    goto cleanup;
  }
  ss[ncap] = total;
  /* One array unless segments after the first have headers in between. */
  int split = 0;
  for (size_t k = 1; k < ncap; k++) split |= hb[k] != 0;
  size_t narr = split ? ncap : 1;
  if (!(s->arr = rf__calloc(narr, sizeof *s->arr))) {
    H5Tclose(type);
    goto nomem;
  }
  s->narr = narr;
  uint64_t hsum = 0;
  for (size_t i = 0; i < narr; i++) {
    rf__imp_array *a = &s->arr[i];
    hsum += (uint64_t)hb[i];
    a->h5 = 0;
    a->q = -1;
    a->group = (int)i;
    snprintf(a->file, sizeof a->file, "%s", data);
    snprintf(a->what, sizeof a->what, "%.1000s", data);
    a->type = i ? H5Tcopy(type) : type;
    int64_t first = split ? ss[i] : 0, len = split ? ss[i + 1] - ss[i] : total;
    a->offset = hsum + (uint64_t)first * frame;
    a->rank = 3;
    a->dims[0] = (hsize_t)len;
    a->dims[1] = (hsize_t)nch;
    a->dims[2] = 2;
    a->role[0] = RF__AX_TIME;
    a->role[1] = RF__AX_CHANNEL;
    a->role[2] = RF__AX_IQ;
  }

  /* ---- pulse annotations ---- */
  size_t nann = anns ? (size_t)cJSON_GetArraySize(anns) : 0;
  if (nann && !(pa = rf__calloc(nann, sizeof *pa))) goto nomem;
  int dwell_ids = 0;
  for (size_t i = 0; i < nann; i++) {
    const cJSON *an = cJSON_GetArrayItem(anns, (int)i);
    snprintf(where, sizeof where, "annotations[%zu]", i);
    if (!cJSON_IsObject(an)) {
      st = rf__err(RF_EFORMAT, "%s: %s: not an object", meta, where);
      goto cleanup;
    }
    for (const cJSON *it = an->child; it; it = it->next)
      if (!strncmp(it->string, "radarflow:", 10) && strcmp(it->string, "radarflow:pulse") &&
          strcmp(it->string, "radarflow:dwell") && strcmp(it->string, "radarflow:azimuth_deg") &&
          strcmp(it->string, "radarflow:elevation_deg") && strcmp(it->string, "radarflow:tx_beamwidth_az_deg") &&
          strcmp(it->string, "radarflow:tx_beamwidth_el_deg")) {
        st = rf__err(RF_EFORMAT, "%s: %s %s: unknown key of the radarflow namespace for annotations", meta, where,
                     it->string);
        goto cleanup;
      }
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(an, "radarflow:pulse");
    if (!pf) continue;
    if (!cJSON_IsBool(pf)) {
      st = rf__err(RF_EFORMAT, "%s: %s radarflow:pulse: must be true or false", meta, where);
      goto cleanup;
    }
    if (!cJSON_IsTrue(pf)) continue;
    int64_t t = 0, dw = -1;
    int has_dw = 0;
    if ((st = rf__json_int(an, "core:sample_start", 0, INT64_MAX / 4, &t, &has, meta, where))) goto cleanup;
    if (!has) {
      st = rf__err(RF_EFORMAT, "%s: %s core:sample_start: required for a pulse annotation", meta, where);
      goto cleanup;
    }
    if ((st = rf__json_int(an, "radarflow:dwell", 0, INT32_MAX, &dw, &has_dw, meta, where))) goto cleanup;
    if (npa && t <= pa[npa - 1].tx) {
      st = rf__err(RF_EFORMAT, "%s: %s core:sample_start: pulse annotations must be in sample order (%lld after "
                   "%lld)", meta, where, (long long)t, (long long)pa[npa - 1].tx);
      goto cleanup;
    }
    if (npa && (has_dw != (pa[0].dwell >= 0))) {
      st = rf__err(RF_EFORMAT, "%s: %s radarflow:dwell: either every pulse annotation names its dwell or none does",
                   meta, where);
      goto cleanup;
    }
    dwell_ids = has_dw;
    pa[npa].tx = t;
    pa[npa].dwell = has_dw ? dw : -1;
    pa[npa].index = i;
    pa[npa].obj = an;
    npa++;
  }

  /* ---- cut the pulses, stretch by stretch ---- */
  if (npa && !(tx = rf__malloc(npa * sizeof *tx))) goto nomem;
  size_t ia = 0;
  size_t *ann_of = npa ? rf__malloc(npa * sizeof *ann_of) : NULL; /* pulse -> annotation */
  if (npa && !ann_of) goto nomem;
  for (size_t k = 0; k < ncap && !st; k++) {
    size_t i0 = ia;
    while (ia < npa && pa[ia].tx < ss[k + 1]) {
      tx[ia - i0] = pa[ia].tx;
      ia++;
    }
    if (npa && ia == i0) continue;
    size_t before = s->pulses.n;
    snprintf(where, sizeof where, "annotations[%zu]", npa ? pa[i0].index : 0);
    char w2[PATH_MAX + 128];
    snprintf(w2, sizeof w2, "%s: %s", meta, npa ? where : "captures");
    st = rf__imp_cut_time(f, s, ss[k], ss[k + 1] - ss[k], split ? ss[k] : 0, npa ? tx : NULL, ia - i0,
                          (uint32_t)(split ? k : 0), t0[k], fs, w2);
    for (size_t p = before; !st && npa && p < s->pulses.n; p++) ann_of[p] = i0 + (p - before);
    if (!st && !(seg_of = rf__realloc(seg_of, (s->pulses.n ? s->pulses.n : 1) * sizeof *seg_of))) {
      rf__free(ann_of);
      goto nomem;
    }
    for (size_t p = before; !st && p < s->pulses.n; p++) seg_of[p] = (uint32_t)k;
  }
  if (st) {
    rf__free(ann_of);
    goto cleanup;
  }
  if (s->pulses.n == 0) {
    rf__free(ann_of);
    st = rf__err(RF_EFORMAT, "%s: no pulse fits in %s (%lld samples): check radarflow:pri_s, gate_samples and "
                 "samples_per_pulse", meta, data, (long long)total);
    goto cleanup;
  }
  if (!split) {
    rf__free(s->pulses.group);
    s->pulses.group = NULL;
  }

  /* ---- dwells ---- */
  if (dwell_ids) {
    /* Consecutive pulses naming one dwell form it. */
    if (!(s->first_pulse = rf__malloc(s->pulses.n * sizeof *s->first_pulse)) ||
        !(s->num_pulses = rf__malloc(s->pulses.n * sizeof *s->num_pulses))) {
      rf__free(ann_of);
      goto nomem;
    }
    size_t d = 0;
    for (size_t p = 0; p < s->pulses.n;) {
      size_t q = p + 1;
      while (q < s->pulses.n && pa[ann_of[q]].dwell == pa[ann_of[p]].dwell && seg_of[q] == seg_of[p]) q++;
      if (d && pa[ann_of[p]].dwell <= pa[ann_of[s->first_pulse[d - 1]]].dwell) {
        st = rf__err(RF_EFORMAT, "%s: annotations[%zu] radarflow:dwell: dwell %lld comes after dwell %lld: a dwell's "
                     "pulses are consecutive and dwells in order", meta, pa[ann_of[p]].index,
                     (long long)pa[ann_of[p]].dwell, (long long)pa[ann_of[s->first_pulse[d - 1]]].dwell);
        break;
      }
      if (q - p > RF_MAX_PULSES_PER_DWELL) {
        st = rf__err(RF_EFORMAT, "%s: annotations[%zu] radarflow:dwell: %zu pulses in one dwell (at most %d)", meta,
                     pa[ann_of[p]].index, q - p, RF_MAX_PULSES_PER_DWELL);
        break;
      }
      s->first_pulse[d] = (int64_t)p;
      s->num_pulses[d] = (int32_t)(q - p);
      d++;
      p = q;
    }
    s->dwells = d;
  }
  s->az_later = 1; /* may come per capture segment or annotation */
  if (!st) st = rf__imp_dwells(f, s, seg_of);
  /* Directions given per capture segment or on a dwell's first pulse annotation. */
  for (size_t k = 0; !st && k < ncap && cJSON_GetArrayItem(caps, (int)k); k++) {
    size_t d0 = s->dwells, d1 = 0;
    for (size_t d = 0; d < s->dwells; d++)
      if (seg_of[s->first_pulse[d]] == k) {
        if (d < d0) d0 = d;
        d1 = d + 1;
      }
    const cJSON *c = cJSON_GetArrayItem(caps, (int)k);
    snprintf(where, sizeof where, "captures[%zu]", k);
    for (const cJSON *it = c->child; it && !st; it = it->next)
      if (!strncmp(it->string, "radarflow:", 10) && strcmp(it->string, "radarflow:azimuth_deg") &&
          strcmp(it->string, "radarflow:elevation_deg") && strcmp(it->string, "radarflow:tx_beamwidth_az_deg") &&
          strcmp(it->string, "radarflow:tx_beamwidth_el_deg"))
        st = rf__err(RF_EFORMAT, "%s: %s %s: unknown key of the radarflow namespace for captures", meta, where,
                     it->string);
    if (st) break;
    if (d0 >= d1) continue;
    if (
        (st = rf__override(c, "radarflow:azimuth_deg", -720, 720, &s->azimuth_deg, s->dwells, d0, d1, meta, where)) ||
        (st = rf__override(c, "radarflow:elevation_deg", -90, 90, &s->elevation_deg, s->dwells, d0, d1, meta, where)) ||
        (st = rf__override(c, "radarflow:tx_beamwidth_az_deg", 1e-6, 360, &s->tx_bw_az_deg, s->dwells, d0, d1, meta,
                           where)) ||
        (st = rf__override(c, "radarflow:tx_beamwidth_el_deg", 1e-6, 180, &s->tx_bw_el_deg, s->dwells, d0, d1, meta,
                           where)))
      break;
  }
  for (size_t d = 0; !st && npa && d < s->dwells; d++) {
    const rf__pann *an = &pa[ann_of[s->first_pulse[d]]];
    snprintf(where, sizeof where, "annotations[%zu]", an->index);
    if ((st = rf__override(an->obj, "radarflow:azimuth_deg", -720, 720, &s->azimuth_deg, s->dwells, d, d + 1, meta,
                           where)) ||
        (st = rf__override(an->obj, "radarflow:elevation_deg", -90, 90, &s->elevation_deg, s->dwells, d, d + 1, meta,
                           where)) ||
        (st = rf__override(an->obj, "radarflow:tx_beamwidth_az_deg", 1e-6, 360, &s->tx_bw_az_deg, s->dwells, d, d + 1,
                           meta, where)) ||
        (st = rf__override(an->obj, "radarflow:tx_beamwidth_el_deg", 1e-6, 180, &s->tx_bw_el_deg, s->dwells, d, d + 1,
                           meta, where)))
      break;
  }
  for (size_t d = 0; !st && d < s->dwells; d++)
    if (isnan(s->azimuth_deg[d]))
      st = rf__err(RF_EFORMAT, "%s: radarflow:azimuth_deg: no transmit azimuth for dwell %zu (give it in global, "
                   "per capture segment or on the dwell's first pulse annotation)", meta, d);
  /* A transmit beamwidth given for some dwells only. */
  for (size_t d = 0; !st && d < s->dwells; d++)
    if ((s->tx_bw_az_deg && isnan(s->tx_bw_az_deg[d])) || (s->tx_bw_el_deg && isnan(s->tx_bw_el_deg[d])))
      st = rf__err(RF_EFORMAT, "%s: radarflow:tx_beamwidth_*: given for some dwells but not dwell %zu", meta, d);
  rf__free(ann_of);
  goto cleanup;
nomem:
  st = rf__err(RF_ENOMEM, "out of memory");
cleanup:
  cJSON_Delete(root);
  rf__free(text);
  rf__free(mdir);
  rf__free(pa);
  rf__free(tx);
  rf__free(ss);
  rf__free(hb);
  rf__free(t0);
  rf__free(seg_of);
  return st;
}
