/* radarflow io/: capture reader (formats.md "Capture file"). rf_capture_open
 * validates every field before anything else is allocated, then
 * rf_capture_read_pulses streams /iq by whole pulses through a hyperslab. */
#include "rf_capture.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture_chunks.h"
#include "capture_sources.h"
#include "capture_vds.h"
#include "h5util.h"

/* Chunk cache for /iq: pulses are read whole, so a cache only helps when a
 * chunk holds several small pulses; a few MiB is plenty. */
#define RF_IQ_CACHE_BYTES ((size_t)4 << 20)
#define RF_IQ_CACHE_SLOTS 521
/* Truth rows match a dwell when their times differ by at most this (s):
 * float64 epoch seconds resolve ~0.2 us, writers use the exact mid time. */
#define RF_TRUTH_MATCH_TOL_S 1e-6

struct rf_capture {
  char *path;
  char **src;     /* files read beyond the capture (resolved), [nsrc] */
  size_t nsrc;
  hid_t file, iq;
  hid_t iq_mtype; /* native int16 or float; not owned */
  rf__vds *vds;   /* a virtual /iq read directly (capture_vds.c), or NULL */
  rf__chunks *chunks; /* a chunked /iq read by whole chunks (capture_chunks.c), or NULL */
  int chunks_tried;   /* the chunks plan was looked for (at the first read) */
  uint64_t file_size;
  rf_capture_meta m;
};

size_t rf_sample_pair_bytes(int sample_type) {
  switch (sample_type) {
  case RF_SAMPLE_INT16: return 2 * sizeof(int16_t);
  case RF_SAMPLE_FLOAT32: return 2 * sizeof(float);
  default: return 0;
  }
}

size_t rf_capture_pulse_bytes(const rf_capture_meta *m) {
  return m->channels * m->samples * rf_sample_pair_bytes(m->sample_type);
}

void rf_lfm_replica(double bandwidth_hz, double pulse_width_s, double sample_rate_hz,
                    size_t n, float complex *out) {
  double k = RF_PI * bandwidth_hz / pulse_width_s, b = RF_PI * bandwidth_hz;
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / sample_rate_hz;
    double ph = k * t * t - b * t;
    out[i] = CMPLXF((float)cos(ph), (float)sin(ph));
  }
}

/* ---- policy ----------------------------------------------------------------------- */
static int rf__allow_external;
int rf_capture_allow_external(int allow) {
  int was = rf__allow_external;
  rf__allow_external = allow != 0;
  return was;
}
int rf__capture_external_allowed(void) { return rf__allow_external; }

size_t rf_capture_source_count(const rf_capture *c) { return c->nsrc; }
const char *rf_capture_source_path(const rf_capture *c, size_t i) { return i < c->nsrc ? c->src[i] : NULL; }

/* ---- plausibility ------------------------------------------------------------------ *
 * formats.md "Checks and limits": every physical number has a range, so a
 * damaged or absurd value is refused at open instead of giving wrong
 * products (float32 overflow, ranges of 1e308 m). */
typedef struct rf__range {
  const char *obj, *name;
  double lo, hi;
} rf__range;

static const rf__range rf__ranges[] = {
    {"/", "site_latitude_deg", -90, 90},
    {"/", "site_longitude_deg", -180, 360},
    {"/", "site_altitude_m", -1e4, 1e8},
    {"/waveform", "center_frequency_hz", 1e3, 1e12},
    {"/waveform", "sample_rate_hz", 1, 1e12},
    {"/waveform", "bandwidth_hz", 1e-3, 1e12},
    {"/waveform", "pulse_width_s", 1e-12, 10},
    {"/waveform", "pri_s", 1e-9, 100},
    {"/waveform", "range_gate_delay_s", 0, RF_MAX_GATE_DELAY_S},
};

/* v against the range of obj/name (finite and in [lo, hi]). */
static int rf__plausible(const char *path, const char *obj, const char *name, double v) {
  for (size_t i = 0; i < sizeof rf__ranges / sizeof *rf__ranges; i++) {
    const rf__range *r = &rf__ranges[i];
    if (strcmp(r->obj, obj) || strcmp(r->name, name)) continue;
    if (!(v >= r->lo && v <= r->hi))
      return rf__err(RF_EFORMAT, "%s: %s: %s must be in [%g, %g] (got %g)", path, obj, name, r->lo, r->hi, v);
    return 0;
  }
  return 0;
}

/* Edit distance of two names, letters compared without case (a bit flip in
 * an attribute name is one edit; a case flip none). */
static size_t rf__edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), row[65];
  if (la > 64 || lb > 64) return (size_t)-1;
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      size_t best = diag + !same;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      if (up + 1 < best) best = up + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* 1 when an unknown name is close enough to a known one to be a damaged
 * or misspelt copy of it. */
static int rf__near(const char *unknown, const char *known) {
  size_t d = rf__edit_distance(unknown, known), n = strlen(known);
  return d <= (n >= 8 ? 2u : n >= 3 ? 1u : 0u);
}

/* The near-miss rule: a name on obj (attributes, or links of a group when
 * links) that the format does not know but that is within a small edit
 * distance of (or equal without case to) a known name absent from obj is
 * an error naming both - radarflow never uses a default, nor reports a
 * name missing, when the name is there but damaged. */
static int rf__near_miss(hid_t obj, const char *path, const char *objname, const char *const *known, size_t nknown,
                         int links) {
  H5O_info_t oi;
  H5G_info_t gi;
  hsize_t n;
  if (links) {
    if (H5Gget_info(obj, &gi) < 0) return 0;
    n = gi.nlinks;
  } else {
    if (H5Oget_info(obj, &oi) < 0) return 0;
    n = oi.num_attrs;
  }
  if (n > 4096) n = 4096; /* a corrupt count: the first ones are enough */
  for (hsize_t i = 0; i < n; i++) {
    char name[256];
    ssize_t l = links ? H5Lget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT)
                      : H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    if (l <= 0 || (size_t)l >= sizeof name) continue;
    int is_known = 0;
    for (size_t k = 0; k < nknown && !is_known; k++) is_known = !strcmp(name, known[k]);
    if (is_known) continue;
    for (size_t k = 0; k < nknown; k++) {
      if (!rf__near(name, known[k])) continue;
      htri_t has = links ? H5Lexists(obj, known[k], H5P_DEFAULT) : H5Aexists(obj, known[k]);
      if (has != 0) continue;
      return rf__err(RF_EFORMAT, "%s: %s: %s \"%s\" is not part of the format and \"%s\" is absent: a damaged or "
                     "misspelt name (refused rather than taking \"%s\" as missing)", path, objname,
                     links ? "object" : "attribute", name, known[k], known[k]);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

static const char *const rf__root_attrs[] = {"format", "format_version", "radar_name", "site_latitude_deg",
                                             "site_longitude_deg", "site_altitude_m", "external_sources",
                                             "import_program", "import_source", "import_layout", "import_kind",
                                             "import_storage", "simulate_program"};
static const char *const rf__waveform_attrs[] = {"type", "center_frequency_hz", "sample_rate_hz", "bandwidth_hz",
                                                 "pulse_width_s", "pri_s", "range_gate_delay_s"};
static const char *const rf__iq_attrs[] = {"scale", "hdf5_dataset", "hdf5_data_offset"};
static const char *const rf__array_links[] = {"element_position_m", "calibration"};
static const char *const rf__root_links[] = {"waveform", "array", "dwell", "iq", "pulse_time_s", "truth", "import"};
#define RF__N(a) (sizeof(a) / sizeof *(a))

/* ---- validation helpers ------------------------------------------------------- */
static int rf__positive(const char *path, const char *obj, const char *name, double v) {
  if (!isfinite(v) || v <= 0)
    return rf__err(RF_EFORMAT, "%s: %s: %s must be finite and > 0 (got %g)", path, obj, name, v);
  return 0;
}

/* Opens group `name` of the root, reporting it missing. */
static int rf__open_group(hid_t file, const char *path, const char *name, hid_t *g) {
  *g = H5I_INVALID_HID;
  if (!rf__h5_has(file, name))
    return rf__err(RF_EFORMAT, "%s: /%s: missing group", path, name);
  H5O_info_t oi;
  if (H5Oget_info_by_name(file, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP)
    return rf__err(RF_EFORMAT, "%s: /%s: must be a group", path, name);
  *g = H5Gopen2(file, name, H5P_DEFAULT);
  if (*g < 0)
    return rf__err(RF_EFORMAT, "%s: /%s: cannot open group: %s", path, name, rf__h5_errdesc());
  return 0;
}

/* Allocates n elements of size sz (n >= 1). */
static int rf__alloc_array(void **p, size_t n, size_t sz, const char *path) {
  size_t bytes;
  if (rf__mul_size(n, sz, &bytes) < 0 || !(*p = rf__malloc(bytes)))
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  return 0;
}

/* ---- sections of the file ------------------------------------------------------ */
static int rf__read_root(rf_capture *c) {
  const char *p = c->path;
  char fmt[64];
  long long ver;
  int st;
  if ((st = rf__near_miss(c->file, p, "/", rf__root_attrs, RF__N(rf__root_attrs), 0)) < 0 ||
      (st = rf__near_miss(c->file, p, "/", rf__root_links, RF__N(rf__root_links), 1)) < 0)
    return st;
  if ((st = rf__h5_attr_string(c->file, p, "/", "format", fmt, sizeof fmt, NULL)) < 0) return st;
  if (strcmp(fmt, "radarflow.capture") != 0)
    return rf__err(RF_EFORMAT, "%s: /: format must be \"radarflow.capture\" (got \"%s\")", p, fmt);
  if ((st = rf__h5_attr_int(c->file, p, "/", "format_version", &ver, NULL)) < 0) return st;
  if (ver != 1)
    return rf__err(RF_EFORMAT, "%s: /: format_version %lld is not supported (expected 1)", p, ver);
  if ((st = rf__h5_attr_string(c->file, p, "/", "radar_name", c->m.radar_name,
                               sizeof c->m.radar_name, NULL)) < 0)
    return st;
  rf_capture_meta *m = &c->m;
  if ((st = rf__h5_attr_double(c->file, p, "/", "site_latitude_deg", &m->site_latitude_deg, NULL)) < 0 ||
      (st = rf__h5_attr_double(c->file, p, "/", "site_longitude_deg", &m->site_longitude_deg, NULL)) < 0 ||
      (st = rf__h5_attr_double(c->file, p, "/", "site_altitude_m", &m->site_altitude_m, NULL)) < 0)
    return st;
  if ((st = rf__plausible(p, "/", "site_latitude_deg", m->site_latitude_deg)) < 0 ||
      (st = rf__plausible(p, "/", "site_longitude_deg", m->site_longitude_deg)) < 0 ||
      (st = rf__plausible(p, "/", "site_altitude_m", m->site_altitude_m)) < 0)
    return st;
  return 0;
}

/* /waveform attributes (the replica is read later, once samples is known). */
static int rf__read_waveform_attrs(rf_capture *c, hid_t g) {
  const char *p = c->path, *o = "/waveform";
  rf_capture_meta *m = &c->m;
  char type[32];
  int st, has_delay;
  if ((st = rf__near_miss(g, p, o, rf__waveform_attrs, RF__N(rf__waveform_attrs), 0)) < 0) return st;
  if ((st = rf__h5_attr_string(g, p, o, "type", type, sizeof type, NULL)) < 0) return st;
  if (strcmp(type, "lfm") == 0) m->waveform_type = RF_WAVEFORM_LFM;
  else if (strcmp(type, "custom") == 0) m->waveform_type = RF_WAVEFORM_CUSTOM;
  else return rf__err(RF_EFORMAT, "%s: %s: type must be \"lfm\" or \"custom\" (got \"%s\")", p, o, type);
  static const struct {
    const char *name;
    size_t off;
  } pos[] = {
      {"center_frequency_hz", offsetof(rf_capture_meta, center_frequency_hz)},
      {"sample_rate_hz", offsetof(rf_capture_meta, sample_rate_hz)},
      {"bandwidth_hz", offsetof(rf_capture_meta, bandwidth_hz)},
      {"pulse_width_s", offsetof(rf_capture_meta, pulse_width_s)},
      {"pri_s", offsetof(rf_capture_meta, pri_s)},
  };
  for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
    double *v = (double *)((char *)m + pos[i].off);
    if ((st = rf__h5_attr_double(g, p, o, pos[i].name, v, NULL)) < 0) return st;
    if ((st = rf__positive(p, o, pos[i].name, *v)) < 0 || (st = rf__plausible(p, o, pos[i].name, *v)) < 0) return st;
  }
  if (m->pulse_width_s >= m->pri_s)
    return rf__err(RF_EFORMAT, "%s: %s: pulse_width_s %g is not shorter than pri_s %g (pulse longer than the PRI)",
                   p, o, m->pulse_width_s, m->pri_s);
  m->range_gate_delay_s = 0;
  if ((st = rf__h5_attr_double(g, p, o, "range_gate_delay_s", &m->range_gate_delay_s, &has_delay)) < 0)
    return st;
  if ((st = rf__plausible(p, o, "range_gate_delay_s", m->range_gate_delay_s)) < 0) return st;
  if (m->waveform_type == RF_WAVEFORM_LFM && m->bandwidth_hz > m->sample_rate_hz)
    return rf__err(RF_EFORMAT, "%s: %s: bandwidth_hz %g exceeds sample_rate_hz %g (LFM sweep would alias)",
                   p, o, m->bandwidth_hz, m->sample_rate_hz);
  return 0;
}

static int rf__read_iq_shape(rf_capture *c) {
  const char *p = c->path;
  rf_capture_meta *m = &c->m;
  hsize_t d[4];
  int st, has_scale;
  /* External raw storage and virtual-dataset sources with relative names
   * are found in the capture's folder, not the current one (see
   * capture_sources.h for why the environment is set too). */
  rf__h5_origin_prefix();
  hid_t dapl = rf__iq_dapl(RF_IQ_CACHE_SLOTS, RF_IQ_CACHE_BYTES);
  if (dapl < 0) return rf__err(RF_EFORMAT, "%s: /iq: %s", p, rf__h5_errdesc());
  if (!rf__h5_has(c->file, "iq")) {
    H5Pclose(dapl);
    return rf__err(RF_EFORMAT, "%s: /iq: missing dataset", p);
  }
  c->iq = H5Dopen2(c->file, "iq", dapl);
  H5Pclose(dapl);
  if (c->iq < 0) return rf__err(RF_EFORMAT, "%s: /iq: cannot open dataset: %s", p, rf__h5_errdesc());

  hid_t t = H5Dget_type(c->iq);
  if (t < 0) return rf__err(RF_EFORMAT, "%s: /iq: cannot read type: %s", p, rf__h5_errdesc());
  H5T_class_t cls = H5Tget_class(t);
  size_t tsz = H5Tget_size(t);
  H5T_sign_t sgn = H5Tget_sign(t);
  H5Tclose(t);
  if (cls == H5T_INTEGER && tsz == 2 && sgn == H5T_SGN_2) {
    m->sample_type = RF_SAMPLE_INT16;
    c->iq_mtype = H5T_NATIVE_INT16;
  } else if (cls == H5T_FLOAT && tsz == 4) {
    m->sample_type = RF_SAMPLE_FLOAT32;
    c->iq_mtype = H5T_NATIVE_FLOAT;
  } else {
    return rf__err(RF_EFORMAT, "%s: /iq: wrong dtype (%s of %zu bytes); expected int16 or float32", p,
                   cls == H5T_INTEGER ? (sgn == H5T_SGN_NONE ? "unsigned integer" : "integer")
                   : cls == H5T_FLOAT ? "float" : "non-numeric type",
                   tsz);
  }
  if ((st = rf__h5_dims(c->iq, p, "/iq", 4, d)) < 0) return st;
  if (d[3] != 2)
    return rf__err(RF_EFORMAT, "%s: /iq: last dimension must be 2 (I, Q), got %llu", p,
                   (unsigned long long)d[3]);
  if (d[0] < 1 || d[1] < 1 || d[2] < 1)
    return rf__err(RF_EFORMAT, "%s: /iq: empty (%llu pulses x %llu channels x %llu samples)", p,
                   (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2]);
  double pair = (double)rf_sample_pair_bytes(m->sample_type);
  double total = (double)d[0] * (double)d[1] * (double)d[2] * pair;
  double pulse = (double)d[1] * (double)d[2] * pair;
  if (d[0] > RF_MAX_PULSES || d[1] > RF_MAX_CHANNELS || d[2] > RF_MAX_SAMPLES ||
      pulse > (double)RF_MAX_PULSE_BYTES)
    return rf__err(RF_EFORMAT,
                   "%s: /iq: dimensions %llu x %llu x %llu x 2 exceed the reader's limits "
                   "(pulses <= %u, channels <= %u, samples <= %u, %zu bytes a pulse); "
                   "they would need %.3g TB",
                   p, (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2],
                   (unsigned)RF_MAX_PULSES, (unsigned)RF_MAX_CHANNELS, (unsigned)RF_MAX_SAMPLES,
                   RF_MAX_PULSE_BYTES, total / 1e12);
  m->pulses = (size_t)d[0];
  m->channels = (size_t)d[1];
  m->samples = (size_t)d[2];
  m->scale = 1;
  if ((st = rf__near_miss(c->iq, p, "/iq", rf__iq_attrs, RF__N(rf__iq_attrs), 0)) < 0) return st;
  if ((st = rf__h5_attr_double(c->iq, p, "/iq", "scale", &m->scale, &has_scale)) < 0) return st;
  if (!(fabs(m->scale) >= RF_MIN_ABS_SCALE && fabs(m->scale) <= RF_MAX_ABS_SCALE))
    return rf__err(RF_EFORMAT, "%s: /iq: scale must be finite with %g <= |scale| <= %g (got %g)", p,
                   RF_MIN_ABS_SCALE, RF_MAX_ABS_SCALE, m->scale);
  /* Samples stored in other files: each must be there, whole, and (unless
   * allowed) in the capture's folder. */
  if ((st = rf__iq_sources_check(c->file, c->iq, p, rf__allow_external, &c->src, &c->nsrc)) < 0) return st;
  return rf__vds_create(&c->vds, c->file, c->iq, p);
}

static int rf__read_array(rf_capture *c) {
  const char *p = c->path;
  rf_capture_meta *m = &c->m;
  hid_t g = H5I_INVALID_HID, d = H5I_INVALID_HID;
  hsize_t dims[2];
  int st, has_cal;
  if ((st = rf__open_group(c->file, p, "array", &g)) < 0) goto cleanup;
  if ((st = rf__near_miss(g, p, "/array", rf__array_links, RF__N(rf__array_links), 1)) < 0) goto cleanup;
  if ((st = rf__h5_open_dset(g, p, "/array/element_position_m", "element_position_m", &d, NULL)) < 0 ||
      (st = rf__h5_dims(d, p, "/array/element_position_m", 2, dims)) < 0)
    goto cleanup;
  if (dims[0] != m->channels || dims[1] != 3) {
    st = rf__err(RF_EFORMAT, "%s: /array/element_position_m: shape [%llu][%llu] does not match "
                 "[channels][3] = [%zu][3] (channels from /iq)",
                 p, (unsigned long long)dims[0], (unsigned long long)dims[1], m->channels);
    goto cleanup;
  }
  if ((st = rf__alloc_array((void **)&m->element_position_m, m->channels,
                            sizeof m->element_position_m[0], p)) < 0 ||
      (st = rf__h5_read_double(d, p, "/array/element_position_m", &m->element_position_m[0][0])) < 0)
    goto cleanup;
  for (size_t i = 0; i < m->channels; i++)
    for (int k = 0; k < 3; k++)
      if (!(fabs(m->element_position_m[i][k]) <= RF_MAX_ELEMENT_OFFSET_M)) {
        st = rf__err(RF_EFORMAT, "%s: /array/element_position_m: row %zu (%g, %g, %g) is not finite or farther "
                     "than %g m from the phase centre", p, i, m->element_position_m[i][0],
                     m->element_position_m[i][1], m->element_position_m[i][2], RF_MAX_ELEMENT_OFFSET_M);
        goto cleanup;
      }
  H5Dclose(d);
  d = H5I_INVALID_HID;
  if ((st = rf__h5_open_dset(g, p, "/array/calibration", "calibration", &d, &has_cal)) < 0) goto cleanup;
  m->has_calibration = has_cal;
  if (has_cal) {
    size_t n = 0;
    if ((st = rf__h5_read_complex(d, p, "/array/calibration", m->channels, &n, &m->calibration)) < 0)
      goto cleanup;
    if (n != m->channels) {
      st = rf__err(RF_EFORMAT, "%s: /array/calibration: has %zu values but /iq has %zu channels", p, n,
                   m->channels);
      goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
      if (!(cabsf(m->calibration[i]) <= RF_MAX_ABS_CALIBRATION)) {
        st = rf__err(RF_EFORMAT, "%s: /array/calibration: channel %zu: |%g%+gj| exceeds %g", p, i,
                     crealf(m->calibration[i]), cimagf(m->calibration[i]), RF_MAX_ABS_CALIBRATION);
        goto cleanup;
      }
  } else {
    if ((st = rf__alloc_array((void **)&m->calibration, m->channels, sizeof *m->calibration, p)) < 0)
      goto cleanup;
    for (size_t i = 0; i < m->channels; i++) m->calibration[i] = 1.0f;
  }
cleanup:
  if (d >= 0) H5Dclose(d);
  if (g >= 0) H5Gclose(g);
  return st;
}

static int rf__read_dwells(rf_capture *c) {
  const char *p = c->path;
  rf_capture_meta *m = &c->m;
  static const char *names[4] = {"first_pulse", "num_pulses", "azimuth_deg", "elevation_deg"};
  char full[4][32];
  hid_t g = H5I_INVALID_HID, d[4] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
  int64_t *num = NULL;
  int st;
  if ((st = rf__open_group(c->file, p, "dwell", &g)) < 0) goto cleanup;
  hsize_t n = 0;
  for (int k = 0; k < 4; k++) {
    hsize_t len;
    snprintf(full[k], sizeof full[k], "/dwell/%s", names[k]);
    if ((st = rf__h5_open_dset(g, p, full[k], names[k], &d[k], NULL)) < 0 ||
        (st = rf__h5_dims(d[k], p, full[k], 1, &len)) < 0)
      goto cleanup;
    if (k == 0) n = len;
    if (len != n) {
      st = rf__err(RF_EFORMAT, "%s: %s: has %llu rows but /dwell/first_pulse has %llu", p, full[k],
                   (unsigned long long)len, (unsigned long long)n);
      goto cleanup;
    }
  }
  if (n < 1 || n > RF_MAX_DWELLS) {
    st = rf__err(RF_EFORMAT, "%s: /dwell: %llu dwells (expected 1 to %u)", p, (unsigned long long)n,
                 (unsigned)RF_MAX_DWELLS);
    goto cleanup;
  }
  m->dwells = (size_t)n;
  if ((st = rf__alloc_array((void **)&m->first_pulse, m->dwells, sizeof *m->first_pulse, p)) < 0 ||
      (st = rf__alloc_array((void **)&m->num_pulses, m->dwells, sizeof *m->num_pulses, p)) < 0 ||
      (st = rf__alloc_array((void **)&m->azimuth_deg, m->dwells, sizeof *m->azimuth_deg, p)) < 0 ||
      (st = rf__alloc_array((void **)&m->elevation_deg, m->dwells, sizeof *m->elevation_deg, p)) < 0 ||
      (st = rf__alloc_array((void **)&num, m->dwells, sizeof *num, p)) < 0)
    goto cleanup;
  if ((st = rf__h5_read_int64(d[0], p, full[0], m->first_pulse)) < 0 ||
      (st = rf__h5_read_int64(d[1], p, full[1], num)) < 0 ||
      (st = rf__h5_read_double(d[2], p, full[2], m->azimuth_deg)) < 0 ||
      (st = rf__h5_read_double(d[3], p, full[3], m->elevation_deg)) < 0)
    goto cleanup;
  for (size_t i = 0; i < m->dwells; i++) {
    int64_t f = m->first_pulse[i], k = num[i];
    if (f < 0) {
      st = rf__err(RF_EFORMAT, "%s: /dwell/first_pulse: dwell %zu: %lld is negative", p, i, (long long)f);
      goto cleanup;
    }
    if (k < 1 || k > RF_MAX_PULSES_PER_DWELL) {
      st = rf__err(RF_EFORMAT, "%s: /dwell/num_pulses: dwell %zu: %lld pulses (expected 1 to %d)", p, i,
                   (long long)k, RF_MAX_PULSES_PER_DWELL);
      goto cleanup;
    }
    if ((uint64_t)f > (uint64_t)m->pulses || (uint64_t)k > (uint64_t)m->pulses - (uint64_t)f) {
      st = rf__err(RF_EFORMAT, "%s: /dwell: dwell %zu (first_pulse %lld, num_pulses %lld) runs past the "
                   "end of /iq (%zu pulses)",
                   p, i, (long long)f, (long long)k, m->pulses);
      goto cleanup;
    }
    m->num_pulses[i] = (int32_t)k;
    if (!(m->azimuth_deg[i] >= -360 && m->azimuth_deg[i] <= 360)) {
      st = rf__err(RF_EFORMAT, "%s: /dwell/azimuth_deg: dwell %zu: %g is not in [-360, 360]", p, i,
                   m->azimuth_deg[i]);
      goto cleanup;
    }
    if (!(m->elevation_deg[i] >= -90 && m->elevation_deg[i] <= 90)) {
      st = rf__err(RF_EFORMAT, "%s: /dwell/elevation_deg: dwell %zu: %g is not in [-90, 90]", p, i,
                   m->elevation_deg[i]);
      goto cleanup;
    }
  }
cleanup:
  rf__free(num);
  for (int k = 0; k < 4; k++)
    if (d[k] >= 0) H5Dclose(d[k]);
  if (g >= 0) H5Gclose(g);
  return st;
}

/* Optional /dwell/tx_beamwidth_az_deg and _el_deg: [dwells], finite, in
 * (0, 180]. Absent: left NULL. */
static int rf__read_tx_beamwidths(rf_capture *c) {
  static const char *const names[2] = {"tx_beamwidth_az_deg", "tx_beamwidth_el_deg"};
  rf_capture_meta *m = &c->m;
  double **dst[2] = {&m->tx_beamwidth_az_deg, &m->tx_beamwidth_el_deg};
  const char *p = c->path;
  hid_t g = H5I_INVALID_HID;
  int st;
  if ((st = rf__open_group(c->file, p, "dwell", &g)) < 0) return st;
  for (int k = 0; k < 2 && !st; k++) {
    char full[48];
    snprintf(full, sizeof full, "/dwell/%s", names[k]);
    hid_t d;
    hsize_t n;
    int present;
    if ((st = rf__h5_open_dset(g, p, full, names[k], &d, &present)) < 0 || !present) continue;
    if ((st = rf__h5_dims(d, p, full, 1, &n)) == 0 && n != m->dwells)
      st = rf__err(RF_EFORMAT, "%s: %s: has %llu rows but /dwell/first_pulse has %zu", p, full,
                   (unsigned long long)n, m->dwells);
    if (!st && !(st = rf__alloc_array((void **)dst[k], m->dwells, sizeof **dst[k], p)))
      st = rf__h5_read_double(d, p, full, *dst[k]);
    for (size_t i = 0; !st && i < m->dwells; i++)
      if (!((*dst[k])[i] > 0 && (*dst[k])[i] <= 180))
        st = rf__err(RF_EFORMAT, "%s: %s: dwell %zu: %g is not in (0, 180]", p, full, i, (*dst[k])[i]);
    H5Dclose(d);
  }
  H5Gclose(g);
  return st < 0 ? st : 0;
}

static int rf__read_pulse_times(rf_capture *c) {
  const char *p = c->path;
  rf_capture_meta *m = &c->m;
  hid_t d;
  hsize_t n;
  int st;
  if ((st = rf__h5_open_dset(c->file, p, "/pulse_time_s", "pulse_time_s", &d, NULL)) < 0) return st;
  if ((st = rf__h5_dims(d, p, "/pulse_time_s", 1, &n)) < 0) goto cleanup;
  if (n != m->pulses) {
    st = rf__err(RF_EFORMAT, "%s: /pulse_time_s: has %llu values but /iq has %zu pulses", p,
                 (unsigned long long)n, m->pulses);
    goto cleanup;
  }
  if ((st = rf__alloc_array((void **)&m->pulse_time_s, m->pulses, sizeof *m->pulse_time_s, p)) < 0 ||
      (st = rf__h5_read_double(d, p, "/pulse_time_s", m->pulse_time_s)) < 0)
    goto cleanup;
  for (size_t i = 0; i < m->pulses; i++)
    if (!(fabs(m->pulse_time_s[i]) <= RF_MAX_ABS_TIME_S)) {
      st = rf__err(RF_EFORMAT, "%s: /pulse_time_s: pulse %zu: %g is not finite or not within %g s of the epoch", p,
                   i, m->pulse_time_s[i], RF_MAX_ABS_TIME_S);
      goto cleanup;
    }
  /* Strictly increasing within a dwell; dwells in time order (the tracker
   * takes them so). */
  double prev_mid = -INFINITY;
  for (size_t w = 0; w < m->dwells; w++) {
    size_t a = (size_t)m->first_pulse[w], b = a + (size_t)m->num_pulses[w] - 1;
    for (size_t i = a; i < b; i++)
      if (!(m->pulse_time_s[i + 1] > m->pulse_time_s[i])) {
        st = rf__err(RF_EFORMAT, "%s: /pulse_time_s: pulse %zu (%.9f s) is not after pulse %zu (%.9f s) in dwell "
                     "%zu: pulse times must increase within a dwell", p, i + 1, m->pulse_time_s[i + 1], i,
                     m->pulse_time_s[i], w);
        goto cleanup;
      }
    double mid = 0.5 * (m->pulse_time_s[a] + m->pulse_time_s[b]);
    if (mid < prev_mid) {
      st = rf__err(RF_EFORMAT, "%s: /pulse_time_s: dwell %zu (mid time %.9f s) is earlier than dwell %zu (%.9f s): "
                   "/dwell rows must be in time order", p, w, mid, w - 1, prev_mid);
      goto cleanup;
    }
    prev_mid = mid;
  }
cleanup:
  H5Dclose(d);
  return st;
}

/* The replica: LFM from the formula, custom from /waveform/reference. */
static int rf__read_reference(rf_capture *c, hid_t g) {
  const char *p = c->path;
  rf_capture_meta *m = &c->m;
  int st, has_ref;
  hid_t d = H5I_INVALID_HID;
  if (m->waveform_type == RF_WAVEFORM_LFM) {
    double n = round(m->pulse_width_s * m->sample_rate_hz);
    if (!(n >= 1 && n <= (double)m->samples))
      return rf__err(RF_EFORMAT, "%s: /waveform: LFM replica of round(pulse_width_s * sample_rate_hz) = %.0f "
                     "samples must be between 1 and /iq's %zu samples",
                     p, n, m->samples);
    m->reference_len = (size_t)n;
    if ((st = rf__alloc_array((void **)&m->reference, m->reference_len, sizeof *m->reference, p)) < 0)
      return st;
    rf_lfm_replica(m->bandwidth_hz, m->pulse_width_s, m->sample_rate_hz, m->reference_len, m->reference);
    return 0;
  }
  if ((st = rf__h5_open_dset(g, p, "/waveform/reference", "reference", &d, &has_ref)) < 0) return st;
  if (!has_ref)
    return rf__err(RF_EFORMAT, "%s: /waveform/reference: missing dataset (required for type \"custom\")", p);
  st = rf__h5_read_complex(d, p, "/waveform/reference", m->samples, &m->reference_len, &m->reference);
  H5Dclose(d);
  return st;
}

/* Float32 headroom: the largest value processing can reach, from the
 * largest sample (int16: 32768; float32: taken as 1, its samples are used
 * as they are) times |scale|, the largest |calibration|, the replica's
 * coherent gain (sum of |reference|), the channels and the pulses of the
 * longest dwell. Its square (the power maps) must stay well inside float32;
 * scale 1e39 or calibration 3e38 would give infinities and no plots. */
static int rf__headroom(rf_capture *c) {
  const rf_capture_meta *m = &c->m;
  double cal = 0, ref = 0, maxp = 0;
  for (size_t i = 0; i < m->channels; i++)
    if (cabsf(m->calibration[i]) > cal) cal = cabsf(m->calibration[i]);
  for (size_t i = 0; i < m->reference_len; i++) ref += cabsf(m->reference[i]);
  for (size_t d = 0; d < m->dwells; d++)
    if (m->num_pulses[d] > maxp) maxp = m->num_pulses[d];
  double amp = m->sample_type == RF_SAMPLE_INT16 ? 32768.0 : 1.0;
  double g = amp * fabs(m->scale) * cal * ref * (double)m->channels * maxp;
  if (!(g <= RF_MAX_PROCESSED_AMPLITUDE))
    return rf__err(RF_EFORMAT, "%s: /iq: scale %g with calibration up to %g would overflow float32 processing "
                   "(largest value %g x %g replica gain x %zu channels x %.0f pulses = %g > %g)", c->path,
                   m->scale, cal, amp * fabs(m->scale) * cal, ref, m->channels, maxp, g, RF_MAX_PROCESSED_AMPLITUDE);
  return 0;
}

static void rf__meta_free(rf_capture_meta *m) {
  rf__free(m->reference);
  rf__free(m->element_position_m);
  rf__free(m->calibration);
  rf__free(m->first_pulse);
  rf__free(m->num_pulses);
  rf__free(m->azimuth_deg);
  rf__free(m->elevation_deg);
  rf__free(m->tx_beamwidth_az_deg);
  rf__free(m->tx_beamwidth_el_deg);
  rf__free(m->pulse_time_s);
}

int rf_capture_open(rf_capture **out, const char *path) {
  rf_capture *c = NULL;
  hid_t fapl = H5I_INVALID_HID, wf = H5I_INVALID_HID;
  int st = 0;
  struct stat sb;
  *out = NULL;
  rf__h5_quiet();
  if (!path) return rf__err(RF_EINVAL, "capture path is NULL");
  if (stat(path, &sb) < 0) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return rf__err(RF_EFORMAT, "%s: cannot open: not a regular file", path);
  if (!(c = rf__calloc(1, sizeof *c))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  c->file = c->iq = H5I_INVALID_HID;
  if (!(c->path = rf__strdup(path))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  c->file_size = (uint64_t)sb.st_size;
  htri_t is = H5Fis_hdf5(path);
  if (is == 0) {
    st = rf__err(RF_EFORMAT, "%s: not an HDF5 file (no HDF5 signature)", path);
    goto cleanup;
  }
  if ((fapl = rf__h5_fapl()) < 0 || (c->file = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5 (truncated, corrupt or unreadable file): %s", path,
                 rf__h5_errdesc());
    goto cleanup;
  }
  /* External links anywhere in the file are checked before HDF5 follows any. */
  if ((st = rf__links_check(c->file, path, rf__allow_external, &c->src, &c->nsrc)) < 0) goto cleanup;
  if ((st = rf__read_root(c)) < 0) goto cleanup;
  if ((st = rf__open_group(c->file, path, "waveform", &wf)) < 0) goto cleanup;
  if ((st = rf__read_waveform_attrs(c, wf)) < 0) goto cleanup;
  if ((st = rf__read_iq_shape(c)) < 0) goto cleanup;
  if ((st = rf__read_array(c)) < 0) goto cleanup;
  if ((st = rf__read_dwells(c)) < 0) goto cleanup;
  if ((st = rf__read_tx_beamwidths(c)) < 0) goto cleanup;
  if ((st = rf__read_pulse_times(c)) < 0) goto cleanup;
  if ((st = rf__read_reference(c, wf)) < 0 || (st = rf__headroom(c)) < 0) goto cleanup;
  if (rf__h5_has(c->file, "truth")) {
    H5O_info_t oi;
    if (H5Oget_info_by_name(c->file, "truth", &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP) {
      st = rf__err(RF_EFORMAT, "%s: /truth: must be a group", path);
      goto cleanup;
    }
    c->m.has_truth = 1;
  }
  *out = c;
  c = NULL;
cleanup:
  if (wf >= 0) H5Gclose(wf);
  if (fapl >= 0) H5Pclose(fapl);
  rf_capture_close(c);
  return st;
}

void rf_capture_close(rf_capture *c) {
  if (!c) return;
  rf__vds_destroy(c->vds);
  rf__chunks_destroy(c->chunks);
  if (c->iq >= 0) H5Dclose(c->iq);
  if (c->file >= 0) H5Fclose(c->file);
  rf__meta_free(&c->m);
  for (size_t i = 0; i < c->nsrc; i++) rf__free(c->src[i]);
  rf__free(c->src);
  rf__free(c->path);
  rf__free(c);
}

const rf_capture_meta *rf_capture_get_meta(const rf_capture *c) { return &c->m; }
const char *rf_capture_path(const rf_capture *c) { return c->path; }
uint64_t rf_capture_file_size(const rf_capture *c) { return c->file_size; }

/* Whether any of n float32 words is not finite (exponent bits all ones):
 * eight words at a time (GCC vector types; an AVX2 clone where the CPU has
 * it), so the check runs at the speed of the cache the chunk is in. */
typedef int32_t rf__v8i __attribute__((vector_size(32)));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static int rf__any_not_finite(const uint32_t *u, size_t n) {
  const rf__v8i e = {0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
                     0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000};
  rf__v8i bad = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    rf__v8i v;
    memcpy(&v, u + i, sizeof v);
    bad |= (v & e) == e;
  }
  int any = 0;
  for (int k = 0; k < 8; k++) any |= bad[k] != 0;
  for (; i < n; i++) any |= (u[i] & 0x7f800000u) == 0x7f800000u;
  return any;
}

/* formats.md: numbers that are not finite are refused; float32 samples are
 * checked as they are read (int16 cannot be NaN): a scan for such a word,
 * then, if there is one, its pulse and channel named. */
static int rf__check_finite(void *ctx, size_t first, size_t n, const void *data) {
  const rf_capture *c = ctx;
  const rf_capture_meta *m = &c->m;
  if (m->sample_type != RF_SAMPLE_FLOAT32) return 0;
  const size_t per_pulse = m->channels * m->samples * 2, words = n * per_pulse;
  if (!rf__any_not_finite(data, words)) return 0;
  const float *v = data;
  size_t i = 0;
  while (i < words && isfinite(v[i])) i++;
  return rf__err(RF_EFORMAT, "%s: /iq: sample not finite (NaN or Inf) in pulse %zu, channel %zu", c->path,
                 first + i / per_pulse, (i % per_pulse) / (m->samples * 2));
}

int rf_capture_read_pulses(rf_capture *c, size_t first, size_t count, void *raw) {
  const rf_capture_meta *m = &c->m;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  int st = 0;
  if (first > m->pulses || count > m->pulses - first)
    return rf__err(RF_EINVAL, "%s: /iq: pulses %zu..%zu are outside 0..%zu", c->path, first,
                   first + count, m->pulses);
  if (count == 0) return 0;
  rf__h5_quiet();
  if (!c->vds && !c->chunks_tried) {
    c->chunks_tried = 1;
    if ((st = rf__chunks_create(&c->chunks, c->file, c->iq, c->iq_mtype, m->pulses, rf_capture_pulse_bytes(m),
                                c->path)))
      return st;
  }
  if (c->chunks) return rf__chunks_read(c->chunks, first, count, raw, rf__check_finite, c);
  hsize_t start[4] = {first, 0, 0, 0}, cnt[4] = {count, m->channels, m->samples, 2};
  if (c->vds) {
    st = rf__vds_read(c->vds, first, count, m->channels, m->samples, c->iq_mtype, raw);
  } else {
    fs = H5Dget_space(c->iq);
    ms = H5Screate_simple(4, cnt, NULL);
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
        H5Dread(c->iq, c->iq_mtype, ms, fs, H5P_DEFAULT, raw) < 0)
      st = rf__err(RF_EFORMAT, "%s: /iq: cannot read pulses %zu..%zu: %s", c->path, first,
                   first + count - 1, rf__h5_errdesc());
  }
  if (!st) st = rf__check_finite(c, first, count, raw);
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  return st;
}

/* ---- truth ----------------------------------------------------------------------- */
int rf_truth_alloc(rf_truth **out, size_t rows) {
  rf_truth *t = rf__calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return rf__err(RF_ENOMEM, "out of memory");
  t->rows = rows;
  t->target_id = rf__calloc(rows, sizeof *t->target_id);
  t->dwell = rf__calloc(rows, sizeof *t->dwell);
  t->time_s = rf__calloc(rows, sizeof *t->time_s);
  t->position_enu_m = rf__calloc(rows, sizeof *t->position_enu_m);
  t->velocity_enu_mps = rf__calloc(rows, sizeof *t->velocity_enu_mps);
  t->range_m = rf__calloc(rows, sizeof *t->range_m);
  t->radial_velocity_mps = rf__calloc(rows, sizeof *t->radial_velocity_mps);
  t->azimuth_deg = rf__calloc(rows, sizeof *t->azimuth_deg);
  t->elevation_deg = rf__calloc(rows, sizeof *t->elevation_deg);
  t->snr_db = rf__calloc(rows, sizeof *t->snr_db);
  if (!t->target_id || !t->dwell || !t->time_s || !t->position_enu_m || !t->velocity_enu_mps ||
      !t->range_m || !t->radial_velocity_mps || !t->azimuth_deg || !t->elevation_deg || !t->snr_db) {
    rf_truth_free(t);
    return rf__err(RF_ENOMEM, "out of memory");
  }
  *out = t;
  return 0;
}

void rf_truth_free(rf_truth *t) {
  if (!t) return;
  rf__free(t->target_id);
  rf__free(t->dwell);
  rf__free(t->time_s);
  rf__free(t->position_enu_m);
  rf__free(t->velocity_enu_mps);
  rf__free(t->range_m);
  rf__free(t->radial_velocity_mps);
  rf__free(t->azimuth_deg);
  rf__free(t->elevation_deg);
  rf__free(t->snr_db);
  rf__free(t);
}

typedef struct rf__mid {
  double t;
  size_t dwell;
} rf__mid;

static int rf__mid_cmp(const void *a, const void *b) {
  const rf__mid *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->dwell < y->dwell ? -1 : x->dwell > y->dwell;
}

/* Fills t->dwell by nearest dwell mid time within the tolerance (-1 if none;
 * ties go to the lower dwell index). */
static int rf__match_dwells(rf_capture *c, rf_truth *t) {
  const rf_capture_meta *m = &c->m;
  rf__mid *mid = NULL;
  int st;
  if ((st = rf__alloc_array((void **)&mid, m->dwells, sizeof *mid, c->path)) < 0) return st;
  for (size_t i = 0; i < m->dwells; i++) {
    size_t a = (size_t)m->first_pulse[i], b = a + (size_t)m->num_pulses[i] - 1;
    mid[i].t = 0.5 * (m->pulse_time_s[a] + m->pulse_time_s[b]);
    mid[i].dwell = i;
  }
  qsort(mid, m->dwells, sizeof *mid, rf__mid_cmp);
  for (size_t r = 0; r < t->rows; r++) {
    double x = t->time_s[r];
    size_t lo = 0, hi = m->dwells; /* first mid with t >= x - tol */
    while (lo < hi) {
      size_t h = lo + (hi - lo) / 2;
      if (mid[h].t < x - RF_TRUTH_MATCH_TOL_S) lo = h + 1;
      else hi = h;
    }
    int32_t best = -1;
    double best_d = INFINITY;
    for (size_t k = lo; k < m->dwells && mid[k].t <= x + RF_TRUTH_MATCH_TOL_S; k++) {
      double dd = fabs(mid[k].t - x);
      if (dd < best_d || (dd == best_d && (int32_t)mid[k].dwell < best)) {
        best_d = dd;
        best = (int32_t)mid[k].dwell;
      }
    }
    t->dwell[r] = best;
  }
  rf__free(mid);
  return 0;
}

int rf_capture_read_truth(rf_capture *c, rf_truth **out) {
  static const char *names[] = {"target_id", "time_s", "position_enu_m", "velocity_enu_mps",
                                "range_m", "radial_velocity_mps", "azimuth_deg", "elevation_deg",
                                "snr_db", "dwell"};
  enum { NT = sizeof names / sizeof names[0] };
  const char *p = c->path;
  hid_t g = H5I_INVALID_HID, d[NT];
  char full[NT][40];
  rf_truth *t = NULL;
  int64_t *ids = NULL;
  int st, has_dwell = 0;
  hsize_t rows = 0;
  *out = NULL;
  rf__h5_quiet();
  for (int k = 0; k < NT; k++) d[k] = H5I_INVALID_HID;
  if ((st = rf__open_group(c->file, p, "truth", &g)) < 0) goto cleanup;
  for (int k = 0; k < NT; k++) {
    int vec = k == 2 || k == 3, present;
    hsize_t dims[2];
    snprintf(full[k], sizeof full[k], "/truth/%s", names[k]);
    if ((st = rf__h5_open_dset(g, p, full[k], names[k], &d[k], k == NT - 1 ? &present : NULL)) < 0)
      goto cleanup;
    if (k == NT - 1 && !present) break;
    if (k == NT - 1) has_dwell = 1;
    if ((st = rf__h5_dims(d[k], p, full[k], vec ? 2 : 1, dims)) < 0) goto cleanup;
    if (k == 0) rows = dims[0];
    if (dims[0] != rows || (vec && dims[1] != 3)) {
      st = rf__err(RF_EFORMAT, "%s: %s: shape does not match /truth/target_id's %llu rows%s", p, full[k],
                   (unsigned long long)rows, vec ? " x 3" : "");
      goto cleanup;
    }
  }
  if (rows > SIZE_MAX / 64) {
    st = rf__err(RF_EFORMAT, "%s: /truth/target_id: %llu rows is too many", p, (unsigned long long)rows);
    goto cleanup;
  }
  if ((st = rf_truth_alloc(&t, (size_t)rows)) < 0) goto cleanup;
  if ((st = rf__alloc_array((void **)&ids, t->rows, sizeof *ids, p)) < 0) goto cleanup;
  if (rows > 0) {
    double *dst[NT] = {NULL, t->time_s, &t->position_enu_m[0][0], &t->velocity_enu_mps[0][0], t->range_m,
                       t->radial_velocity_mps, t->azimuth_deg, t->elevation_deg, t->snr_db, NULL};
    if ((st = rf__h5_read_int64(d[0], p, full[0], ids)) < 0) goto cleanup;
    for (size_t r = 0; r < t->rows; r++) {
      if (ids[r] < INT32_MIN || ids[r] > INT32_MAX) {
        st = rf__err(RF_EFORMAT, "%s: /truth/target_id: row %zu: %lld does not fit int32", p, r,
                     (long long)ids[r]);
        goto cleanup;
      }
      t->target_id[r] = (int32_t)ids[r];
    }
    for (int k = 1; k < NT - 1; k++)
      if ((st = rf__h5_read_double(d[k], p, full[k], dst[k])) < 0) goto cleanup;
    if (has_dwell) {
      if ((st = rf__h5_read_int64(d[NT - 1], p, full[NT - 1], ids)) < 0) goto cleanup;
      for (size_t r = 0; r < t->rows; r++) {
        if (ids[r] < -1 || ids[r] >= (int64_t)c->m.dwells) {
          st = rf__err(RF_EFORMAT, "%s: /truth/dwell: row %zu: %lld is not a dwell index", p, r,
                       (long long)ids[r]);
          goto cleanup;
        }
        t->dwell[r] = (int32_t)ids[r];
      }
    } else if ((st = rf__match_dwells(c, t)) < 0) {
      goto cleanup;
    }
  }
  *out = t;
  t = NULL;
cleanup:
  rf__free(ids);
  rf_truth_free(t);
  for (int k = 0; k < NT; k++)
    if (d[k] >= 0) H5Dclose(d[k]);
  if (g >= 0) H5Gclose(g);
  return st;
}
