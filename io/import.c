/* radarflow io/: `radarflow import` - reads the recording's description
 * (SigMF meta, layout file, --set), checks every radar fact as the capture
 * reader would, writes the capture under a temporary name beside the
 * target (metadata copied, samples referred to or, where HDF5 cannot
 * express the layout, copied), opens it with the capture reader as a last
 * check and renames it into place without replacing anything radarflow
 * did not write. */
#include "import_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_sources.h"
#include "h5util.h"
#include "rf_capture_sources.h"

#define RF__IMPORT_PROGRAM "radarflow import " RF_VERSION

static void rf__note(rf_import_report *r, const char *text) {
  size_t k = strlen(r->notes);
  if (text[0]) snprintf(r->notes + k, sizeof r->notes - k, "%s%s", k ? "; " : "", text);
}

/* ---- the output path ------------------------------------------------------------------- */
/* May `out` be written? *replace = 1 when it is an earlier import to
 * replace (--force). */
static int rf__out_check(const rf_import_opts *o, int *replace) {
  struct stat sb;
  *replace = 0;
  if (lstat(o->output, &sb) == 0) {
    if (!S_ISREG(sb.st_mode))
      return rf__err(RF_EINVAL, "%s: exists and is not a regular file; radarflow never replaces it", o->output);
    if (!rf__h5_written_by(o->output, "import_program", "radarflow import"))
      return rf__err(RF_EINVAL, "%s: exists and was not written by radarflow import; radarflow never overwrites "
                     "it (choose another -o)", o->output);
    if (!o->force)
      return rf__err(RF_EINVAL, "%s: exists (an earlier radarflow import); pass --force to replace it", o->output);
    *replace = 1;
  } else if (errno != ENOENT) {
    return rf__err(RF_EINVAL, "%s: %s", o->output, strerror(errno));
  }
  char *dir = rf__path_dirname(o->output);
  if (!dir) return rf__err(RF_ENOMEM, "out of memory");
  int ok = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
  int st = ok ? 0 : rf__err(RF_EINVAL, "%s: the folder %s does not exist", o->output, dir);
  rf__free(dir);
  return st;
}

/* The output must not be one of the inputs. */
static int rf__not_input(const char *out, const char *in) {
  struct stat a, b;
  if (!in || stat(out, &a) < 0 || stat(in, &b) < 0) return 0;
  if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    return rf__err(RF_EINVAL, "%s: is an input of this import (%s); choose another -o", out, in);
  return 0;
}

/* fsync, then rename tmp to path: replacing only when `replace`, else
 * failing if path has appeared meanwhile. Removes tmp on failure. */
static int rf__commit(const char *tmp, const char *path, int replace) {
  int fd = open(tmp, O_RDONLY), e = 0;
  if (fd < 0 || fsync(fd) < 0) e = errno;
  if (fd >= 0) close(fd);
  if (!e) {
    if (replace) {
      if (rename(tmp, path) < 0) e = errno;
    } else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
      e = errno;
      if (e == EINVAL || e == ENOSYS) { /* file system without RENAME_NOREPLACE */
        e = link(tmp, path) < 0 ? errno : 0;
        if (!e) unlink(tmp);
      }
    }
  }
  if (e) {
    unlink(tmp);
    if (e == EEXIST)
      return rf__err(RF_EINVAL, "%s: appeared while importing; not replaced", path);
    return rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(e));
  }
  char *dir = rf__path_dirname(path);
  if (dir) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    rf__free(dir);
  }
  return 0;
}

/* ---- radar facts into the capture's metadata --------------------------------------------------- */
typedef struct rf__imp_meta {
  rf_capture_meta m;
  double scale;
} rf__imp_meta;

static void rf__imp_meta_free(rf__imp_meta *x) {
  rf__free(x->m.reference);
  rf__free(x->m.element_position_m);
  rf__free(x->m.calibration);
}

static int rf__num_req(const rf__facts *f, const char *sec, const char *key, double lo, double hi, double *v,
                       const char *hint) {
  int has = 0;
  int st = rf__facts_num(f, sec, key, lo, hi, v, &has);
  if (st) return st;
  if (!has) return rf__fact_missing(f, sec, key, hint);
  return 0;
}

static int rf__build_meta(const rf__facts *f, const rf__imp_source *s, const char *source, size_t channels,
                          rf__imp_meta *x) {
  rf_capture_meta *m = &x->m;
  const int sigmf = s->kind == RF_IMPORT_SIGMF;
  int st, has;
  memset(x, 0, sizeof *x);
  /* radar */
  if ((st = rf__facts_str(f, "radar", "name", m->radar_name, sizeof m->radar_name, &has))) return st;
  if (!has) {
    const char *b = strrchr(source, '/');
    snprintf(m->radar_name, sizeof m->radar_name, "%s", b ? b + 1 : source);
  }
  const char *site_hint = sigmf ? "(SigMF: core:geolocation or radarflow:site_*; or [radar] in a layout)" : NULL;
  if ((st = rf__num_req(f, "radar", "site_latitude_deg", -90, 90, &m->site_latitude_deg, site_hint)) ||
      (st = rf__num_req(f, "radar", "site_longitude_deg", -180, 360, &m->site_longitude_deg, site_hint)))
    return st;
  m->site_altitude_m = 0;
  if ((st = rf__facts_num(f, "radar", "site_altitude_m", -1e5, 1e8, &m->site_altitude_m, &has))) return st;
  /* waveform */
  char type[32] = "lfm";
  if ((st = rf__facts_str(f, "waveform", "type", type, sizeof type, &has))) return st;
  if (!strcasecmp(type, "lfm")) m->waveform_type = RF_WAVEFORM_LFM;
  else if (!strcasecmp(type, "custom")) m->waveform_type = RF_WAVEFORM_CUSTOM;
  else return rf__fact_err(rf__facts_get(f, "waveform", "type"), "'%s' is not lfm or custom", type);
  if ((st = rf__num_req(f, "waveform", "center_frequency_hz", 1e-3, 1e15, &m->center_frequency_hz,
                        sigmf ? "(SigMF: captures[0] core:frequency)" : NULL)) ||
      (st = rf__num_req(f, "waveform", "sample_rate_hz", 1e-3, 1e15, &m->sample_rate_hz, NULL)) ||
      (st = rf__num_req(f, "waveform", "bandwidth_hz", 1e-9, 1e15, &m->bandwidth_hz,
                        sigmf ? "(SigMF: radarflow:bandwidth_hz)" : NULL)) ||
      (st = rf__num_req(f, "waveform", "pulse_width_s", 1e-15, 1e6, &m->pulse_width_s,
                        sigmf ? "(SigMF: radarflow:pulse_width_s)" : NULL)) ||
      (st = rf__num_req(f, "waveform", "pri_s", 1e-15, 1e6, &m->pri_s, sigmf ? "(SigMF: radarflow:pri_s)" : NULL)))
    return st;
  if (m->pulse_width_s >= m->pri_s)
    return rf__fact_err(rf__facts_get(f, "waveform", "pulse_width_s"), "pulse_width_s %g is not shorter than pri_s %g",
                        m->pulse_width_s, m->pri_s);
  if (m->waveform_type == RF_WAVEFORM_LFM && m->bandwidth_hz > m->sample_rate_hz)
    return rf__fact_err(rf__facts_get(f, "waveform", "bandwidth_hz"), "bandwidth_hz %g exceeds the sample rate %g "
                        "(the LFM sweep would alias)", m->bandwidth_hz, m->sample_rate_hz);
  double rgd = 0;
  int64_t gate = 0;
  if ((st = rf__facts_num(f, "waveform", "range_gate_delay_s", 0, 1e3, &rgd, &has)) ||
      (st = rf__facts_int(f, "pulses", "gate_samples", 0, 9e15, &gate, &has)))
    return st;
  /* Fast-time sample 0 lies gate samples after the recording's own sample. */
  m->range_gate_delay_s = gate ? rgd + (double)gate / m->sample_rate_hz : rgd;
  m->channels = channels;
  m->samples = s->pulses.samples;
  m->pulses = s->pulses.n;
  if (m->waveform_type == RF_WAVEFORM_LFM) {
    double n = round(m->pulse_width_s * m->sample_rate_hz);
    if (!(n >= 1 && n <= (double)m->samples))
      return rf__fact_err(rf__facts_get(f, "waveform", "pulse_width_s"), "the LFM replica of round(pulse_width_s x "
                          "sample rate) = %.0f samples must be between 1 and the %zu samples per pulse", n, m->samples);
  } else {
    double *v = NULL;
    size_t n = 0;
    if ((st = rf__facts_list(f, "waveform", "reference", &v, &n))) return st;
    if (!v) return rf__fact_missing(f, "waveform", "reference", "(the replica of a custom waveform: re im pairs)");
    if (n % 2 || n / 2 > m->samples) {
      rf__free(v);
      return rf__fact_err(rf__facts_get(f, "waveform", "reference"), "needs re, im pairs, at most %zu of them (got %zu "
                          "numbers)", m->samples, n);
    }
    m->reference_len = n / 2;
    if (!(m->reference = rf__malloc(m->reference_len * sizeof *m->reference))) {
      rf__free(v);
      return rf__err(RF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->reference_len; i++) m->reference[i] = CMPLXF((float)v[2 * i], (float)v[2 * i + 1]);
    rf__free(v);
  }
  /* array */
  if (!(m->element_position_m = rf__calloc(channels, sizeof *m->element_position_m)))
    return rf__err(RF_ENOMEM, "out of memory");
  double *pos = NULL;
  size_t npos = 0;
  char layout[16] = "";
  if ((st = rf__facts_list(f, "array", "element_position_m", &pos, &npos)) ||
      (st = rf__facts_str(f, "array", "layout", layout, sizeof layout, &has)))
    return st;
  if (pos && has) {
    rf__free(pos);
    return rf__fact_err(rf__facts_get(f, "array", "layout"), "give element_position_m or layout = ula, not both");
  }
  if (pos) {
    if (npos != 3 * channels) {
      rf__free(pos);
      return rf__fact_err(rf__facts_get(f, "array", "element_position_m"), "needs east, north, up for each of the %zu "
                          "channels (%zu numbers), got %zu", channels, 3 * channels, npos);
    }
    memcpy(m->element_position_m, pos, npos * sizeof *pos);
    rf__free(pos);
  } else if (has) {
    /* A uniform linear array along the face, as in scenario files. */
    if (strcasecmp(layout, "ula"))
      return rf__fact_err(rf__facts_get(f, "array", "layout"), "'%s': only ula (or element_position_m)", layout);
    double faz = 0, d = RF_C_MPS / m->center_frequency_hz / 2;
    int64_t ne = (int64_t)channels;
    if ((st = rf__facts_num(f, "array", "face_azimuth_deg", -360, 360, &faz, &has)) ||
        (st = rf__facts_num(f, "array", "spacing_m", 1e-9, 1e6, &d, &has)) ||
        (st = rf__facts_int(f, "array", "elements", 1, RF_MAX_CHANNELS, &ne, &has)))
      return st;
    if ((size_t)ne != channels)
      return rf__fact_err(rf__facts_get(f, "array", "elements"), "%lld elements but the recording has %zu channels",
                          (long long)ne, channels);
    double a = faz * RF_PI / 180.0, uh[3] = {cos(a), -sin(a), 0};
    for (size_t n = 0; n < channels; n++) {
      double xx = ((double)n - 0.5 * (double)(channels - 1)) * d;
      for (int k = 0; k < 3; k++) m->element_position_m[n][k] = xx * uh[k];
    }
  } else if (channels > 1) {
    return rf__fact_missing(f, "array", "element_position_m", "(east north up of each channel; or layout = ula with "
                            "spacing_m and face_azimuth_deg)");
  }
  double *cal = NULL;
  size_t ncal = 0;
  if ((st = rf__facts_list(f, "array", "calibration", &cal, &ncal))) return st;
  if (cal) {
    if (ncal != 2 * channels) {
      rf__free(cal);
      return rf__fact_err(rf__facts_get(f, "array", "calibration"), "needs re, im for each of the %zu channels (%zu "
                          "numbers), got %zu", channels, 2 * channels, ncal);
    }
    if (!(m->calibration = rf__malloc(channels * sizeof *m->calibration))) {
      rf__free(cal);
      return rf__err(RF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < channels; i++) m->calibration[i] = CMPLXF((float)cal[2 * i], (float)cal[2 * i + 1]);
    m->has_calibration = 1;
    rf__free(cal);
  }
  x->scale = 1;
  if ((st = rf__facts_num(f, "source", "scale", -3e38, 3e38, &x->scale, &has))) return st;
  if (x->scale == 0) return rf__fact_err(rf__facts_get(f, "source", "scale"), "must be nonzero");
  /* pulses and dwells */
  size_t pb = channels * m->samples * 8;
  if (m->samples > RF_MAX_SAMPLES || pb > RF_MAX_PULSE_BYTES)
    return rf__err(RF_EFORMAT, "%s: %zu channels x %zu samples a pulse exceed the capture reader's limits", source,
                   channels, m->samples);
  for (size_t p = 0; p < s->pulses.n; p++)
    if (!isfinite(s->pulse_time_s[p]))
      return rf__err(RF_EFORMAT, "%s: pulse %zu: time is not finite", source, p);
  m->dwells = s->dwells;
  m->first_pulse = s->first_pulse;
  m->num_pulses = s->num_pulses;
  m->azimuth_deg = s->azimuth_deg;
  m->elevation_deg = s->elevation_deg;
  m->pulse_time_s = s->pulse_time_s;
  m->scale = x->scale;
  return 0;
}

/* ---- writing ---------------------------------------------------------------------------------- */
static herr_t rf__write_strings(hid_t loc, const char *name, char **v, size_t n) {
  hid_t t = H5Tcopy(H5T_C_S1), s = H5I_INVALID_HID, a = H5I_INVALID_HID;
  hsize_t dims[1] = {n};
  herr_t r = -1;
  if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
      (s = H5Screate_simple(1, dims, NULL)) < 0 || (a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0)
    goto cleanup;
  r = n ? H5Awrite(a, t, v) : 0;
cleanup:
  if (a >= 0 && H5Aclose(a) < 0) r = -1;
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  return r;
}

static int rf__write_meta(hid_t f, const rf_capture_meta *m, const rf__imp_source *s, const char *path) {
  hid_t g = H5I_INVALID_HID;
  int bad = 0;
  const char *what = "/";
  errno = 0;
  if (rf__h5_write_attr_string(f, "format", "radarflow.capture") < 0 ||
      rf__h5_write_attr_int32(f, "format_version", 1) < 0 || rf__h5_write_attr_string(f, "radar_name", m->radar_name) < 0 ||
      rf__h5_write_attr_double(f, "site_latitude_deg", m->site_latitude_deg) < 0 ||
      rf__h5_write_attr_double(f, "site_longitude_deg", m->site_longitude_deg) < 0 ||
      rf__h5_write_attr_double(f, "site_altitude_m", m->site_altitude_m) < 0)
    goto fail;
  what = "/waveform";
  if ((g = rf__h5_create_group(f, "waveform")) < 0 ||
      rf__h5_write_attr_string(g, "type", m->waveform_type == RF_WAVEFORM_CUSTOM ? "custom" : "lfm") < 0 ||
      rf__h5_write_attr_double(g, "center_frequency_hz", m->center_frequency_hz) < 0 ||
      rf__h5_write_attr_double(g, "sample_rate_hz", m->sample_rate_hz) < 0 ||
      rf__h5_write_attr_double(g, "bandwidth_hz", m->bandwidth_hz) < 0 ||
      rf__h5_write_attr_double(g, "pulse_width_s", m->pulse_width_s) < 0 ||
      rf__h5_write_attr_double(g, "pri_s", m->pri_s) < 0 ||
      rf__h5_write_attr_double(g, "range_gate_delay_s", m->range_gate_delay_s) < 0)
    goto fail;
  if (m->waveform_type == RF_WAVEFORM_CUSTOM) {
    hsize_t d[2] = {m->reference_len, 2};
    if (rf__h5_write_dset(g, "reference", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, m->reference) < 0) goto fail;
  }
  H5Gclose(g);
  what = "/array";
  hsize_t pd[2] = {m->channels, 3}, cd[2] = {m->channels, 2};
  if ((g = rf__h5_create_group(f, "array")) < 0 ||
      rf__h5_write_dset(g, "element_position_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, pd, m->element_position_m) < 0 ||
      (m->has_calibration &&
       rf__h5_write_dset(g, "calibration", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, cd, m->calibration) < 0))
    goto fail;
  H5Gclose(g);
  what = "/dwell";
  hsize_t n = m->dwells, np = m->pulses;
  if ((g = rf__h5_create_group(f, "dwell")) < 0 ||
      rf__h5_write_dset(g, "first_pulse", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n, m->first_pulse) < 0 ||
      rf__h5_write_dset(g, "num_pulses", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, m->num_pulses) < 0 ||
      rf__h5_write_dset(g, "azimuth_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->azimuth_deg) < 0 ||
      rf__h5_write_dset(g, "elevation_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->elevation_deg) < 0 ||
      (s->tx_bw_az_deg &&
       rf__h5_write_dset(g, "tx_beamwidth_az_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, s->tx_bw_az_deg) < 0) ||
      (s->tx_bw_el_deg &&
       rf__h5_write_dset(g, "tx_beamwidth_el_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, s->tx_bw_el_deg) < 0))
    goto fail;
  H5Gclose(g);
  g = H5I_INVALID_HID;
  what = "/pulse_time_s";
  if (rf__h5_write_dset(f, "pulse_time_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &np, m->pulse_time_s) < 0) goto fail;
  return 0;
fail:
  bad = 1;
  if (g >= 0) H5Gclose(g);
  return bad ? rf__err(RF_EIO, "%s: %s: cannot write: %s", path, what, rf__io_reason()) : 0;
}

/* ---- the import ------------------------------------------------------------------------------------ */
static int rf__kind_of(const rf__facts *f, const char *source, int *kind) {
  char fmt[32];
  int has = 0, st = rf__facts_str(f, "source", "format", fmt, sizeof fmt, &has);
  if (st) return st;
  if (has) {
    if (!strcasecmp(fmt, "sigmf")) *kind = RF_IMPORT_SIGMF;
    else if (!strcasecmp(fmt, "hdf5")) *kind = RF_IMPORT_HDF5;
    else if (!strcasecmp(fmt, "raw")) *kind = RF_IMPORT_RAW;
    else return rf__fact_err(rf__facts_get(f, "source", "format"), "'%s' is not sigmf, hdf5 or raw", fmt);
    return 0;
  }
  if (rf__sigmf_is(source)) *kind = RF_IMPORT_SIGMF;
  else if (H5Fis_hdf5(source) > 0) *kind = RF_IMPORT_HDF5;
  else *kind = RF_IMPORT_RAW;
  return 0;
}

/* Replaces every occurrence of `from` in the message with `to`. */
static void rf__msg_rename(const char *from, const char *to) {
  char msg[1024], out[1024];
  snprintf(msg, sizeof msg, "%s", rf_errmsg());
  size_t w = 0, fl = strlen(from);
  for (const char *p = msg; *p && w + 1 < sizeof out;) {
    if (fl && !strncmp(p, from, fl)) {
      w += (size_t)snprintf(out + w, sizeof out - w, "%s", to);
      if (w >= sizeof out) w = sizeof out - 1;
      p += fl;
    } else {
      out[w++] = *p++;
    }
  }
  out[w] = 0;
  rf__err(RF_EFORMAT, "%s", out);
}

int rf_import(const rf_import_opts *o, rf_import_report *rep) {
  rf__facts f = {0};
  rf__imp_source s = {0};
  rf__imp_meta x = {0};
  rf__imp_plan_out po = {0};
  hid_t out = H5I_INVALID_HID, fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
  char *tmp = NULL, where[PATH_MAX + 64];
  int st, replace = 0, kind = 0;
  memset(rep, 0, sizeof *rep);
  f.h5 = H5I_INVALID_HID;
  rf__h5_quiet();
  rf__h5_origin_prefix();
  if (!o || !o->source || !o->output) return rf__err(RF_EINVAL, "import: SOURCE and -o CAPTURE are required");
  struct stat sb;
  if (stat(o->source, &sb) == 0 && !S_ISREG(sb.st_mode))
    return rf__err(RF_EINVAL, "%s: not a regular file", o->source);
  if ((st = rf__out_check(o, &replace))) return st;
  snprintf(where, sizeof where, "%s%s%s", o->source, o->layout ? " with " : "", o->layout ? o->layout : "");
  f.where = where;
  if (o->layout && (st = rf__layout_load(&f, o->layout))) goto cleanup;
  for (size_t i = 0; i < o->nsets; i++)
    if ((st = rf__facts_set(&f, o->sets[i]))) goto cleanup;
  if ((st = rf__kind_of(&f, o->source, &kind))) goto cleanup;
  rep->kind = kind;
  if (kind != RF_IMPORT_SIGMF && (stat(o->source, &sb) < 0 || !S_ISREG(sb.st_mode))) {
    st = rf__err(RF_EINVAL, "%s: cannot open: %s", o->source, strerror(errno ? errno : ENOENT));
    goto cleanup;
  }
  if (kind == RF_IMPORT_SIGMF) {
    static const char *const allowed = "scale";
    for (size_t i = 0; i < f.n; i++)
      if (!strcmp(f.v[i].section, "source") && strcmp(f.v[i].key, allowed) && strcmp(f.v[i].key, "format")) {
        st = rf__err(RF_EFORMAT, "%s: the sample layout of a SigMF recording comes from its meta file (only scale may "
                     "be given)", f.v[i].origin);
        goto cleanup;
      }
    st = rf__sigmf_read(o->source, &f, &s);
  } else {
    if (!o->layout && f.n == 0) {
      st = rf__err(RF_EINVAL, "%s: not SigMF: a %s source needs --layout LAYOUT.ini describing it (docs/import.md)",
                   o->source, kind == RF_IMPORT_HDF5 ? "HDF5" : "raw");
      goto cleanup;
    }
    if (kind == RF_IMPORT_HDF5) {
      if ((fapl = rf__h5_fapl()) < 0 || (f.h5 = H5Fopen(o->source, H5F_ACC_RDONLY, fapl)) < 0) {
        st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", o->source, rf__h5_errdesc());
        goto cleanup;
      }
      f.h5_path = o->source;
    }
    s.kind = kind;
    st = rf__layout_source(o->source, kind, &f, &s);
  }
  if (st) goto cleanup;
  /* Never write over an input. */
  if ((st = rf__not_input(o->output, o->source)) || (st = rf__not_input(o->output, o->layout)) ||
      (kind == RF_IMPORT_SIGMF && (st = rf__not_input(o->output, s.meta_path))))
    goto cleanup;
  for (size_t i = 0; i < s.narr; i++)
    if ((st = rf__not_input(o->output, s.arr[i].file))) goto cleanup;
  size_t channels = rf__imp_channels(&s.arr[0]);
  if ((st = rf__build_meta(&f, &s, o->source, channels, &x))) goto cleanup;

  /* Write it all under a temporary name beside the target. */
  if (!(tmp = rf_tmp_path(o->output))) {
    st = rf__err(RF_ENOMEM, "out of memory");
    goto cleanup;
  }
  errno = 0;
  if ((fcpl = rf__h5_fcpl()) < 0 || (fapl < 0 && (fapl = rf__h5_fapl()) < 0) ||
      (out = H5Fcreate(tmp, H5F_ACC_EXCL, fcpl, fapl)) < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", o->output, rf__io_reason());
    goto cleanup;
  }
  if ((st = rf__write_meta(out, &x.m, &s, o->output))) goto cleanup;
  if ((st = rf__imp_write_iq(out, o->output, &s, channels, x.scale, o->copy, &po))) goto cleanup;
  errno = 0;
  static const char *const kinds[] = {"", "sigmf", "hdf5", "raw"};
  const char *storage = po.storage == RF_IQ_EXTERNAL ? "external" : po.storage == RF_IQ_VIRTUAL ? "virtual" : "copy";
  if (rf__write_strings(out, "external_sources", po.sources, po.nsources) < 0 ||
      rf__h5_write_attr_string(out, "import_program", RF__IMPORT_PROGRAM) < 0 ||
      rf__h5_write_attr_string(out, "import_source", o->source) < 0 ||
      rf__h5_write_attr_string(out, "import_kind", kinds[kind]) < 0 ||
      rf__h5_write_attr_string(out, "import_storage", storage) < 0 ||
      (o->layout && rf__h5_write_attr_string(out, "import_layout", o->layout) < 0)) {
    st = rf__err(RF_EIO, "%s: /: cannot write: %s", o->output, rf__io_reason());
    goto cleanup;
  }
  errno = 0;
  herr_t cr = H5Fclose(out);
  out = H5I_INVALID_HID;
  if (cr < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", o->output, rf__io_reason());
    goto cleanup;
  }
  /* Last check: the capture reader accepts it and reads its first and last
   * pulse through whatever storage was chosen. */
  {
    rf_capture *cap = NULL;
    void *buf = NULL;
    /* The capture may name the recording outside its folder on purpose
     * (processing it then needs --allow-external). */
    int was = rf_capture_allow_external(1);
    st = rf_capture_open(&cap, tmp);
    rf_capture_allow_external(was);
    if (!st) {
      const rf_capture_meta *cm = rf_capture_get_meta(cap);
      if (!(buf = rf__malloc(rf_capture_pulse_bytes(cm)))) st = rf__err(RF_ENOMEM, "out of memory");
      if (!st) st = rf_capture_read_pulses(cap, 0, 1, buf);
      if (!st) st = rf_capture_read_pulses(cap, cm->pulses - 1, 1, buf);
    }
    rf__free(buf);
    rf_capture_close(cap);
    if (st) {
      rf__msg_rename(tmp, o->output);
      st = RF_EFORMAT;
      goto cleanup;
    }
  }
  if (replace && !rf__h5_written_by(o->output, "import_program", "radarflow import")) {
    st = rf__err(RF_EINVAL, "%s: was replaced by another file while importing; not overwritten", o->output);
    goto cleanup;
  }
  st = rf__commit(tmp, o->output, replace);
  rf__free(tmp);
  tmp = NULL;
  if (st) goto cleanup;

  rep->storage = po.storage;
  snprintf(rep->reason, sizeof rep->reason, "%s", po.reason);
  rep->channels = channels;
  rep->pulses = s.pulses.n;
  rep->samples = s.pulses.samples;
  rep->dwells = s.dwells;
  for (size_t d = 0; d < s.dwells; d++) rep->pulses_unused += (size_t)s.num_pulses[d];
  rep->pulses_unused = s.pulses.n - rep->pulses_unused;
  rep->sample_type = po.sample_type;
  rep->sample_bytes = po.sample_bytes;
  rep->nsources = po.nsources;
  for (size_t i = 0; i < po.nsources && i < 8; i++)
    snprintf(rep->sources[i], sizeof rep->sources[i], "%s", po.sources[i]);
  rep->needs_allow_external = po.outside;
  rep->mappings = po.mappings;
  rep->segments = po.segments;
  if (stat(o->output, &sb) == 0) rep->file_bytes = (uint64_t)sb.st_size;
  rf__note(rep, s.notes);
cleanup:
  if (out >= 0) H5Fclose(out);
  if (tmp) unlink(tmp);
  rf__free(tmp);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (f.h5 >= 0) H5Fclose(f.h5);
  if (fapl >= 0) H5Pclose(fapl);
  rf__imp_plan_out_free(&po);
  rf__imp_meta_free(&x);
  rf__imp_source_free(&s);
  rf__facts_free(&f);
  return st;
}
