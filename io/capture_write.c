/* radarflow io/: capture writer (used by the simulator and tests). Writes
 * everything of formats.md "Capture file" under a temporary name beside the
 * target and renames it into place on close. */
#include "rf_capture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"

/* /iq chunks hold whole pulses; pulses smaller than this are grouped so a
 * chunk is not tiny (HDF5 per-chunk overhead). */
#define RF_IQ_MIN_CHUNK_BYTES ((size_t)64 << 10)

struct rf_capture_writer {
  char *path, *tmp;
  hid_t file, iq;
  size_t pulses, channels, samples;
  int sample_type;
  int truth_written;
};

/* Callers clear errno before the HDF5 calls whose failure this reports. */
static int rf__werr(rf_capture_writer *w, const char *what) {
  return rf__err(RF_EIO, "%s: %s: cannot write: %s", w->path, what, rf__io_reason());
}

/* Stamped on every capture this writer makes: the files it may replace. */
#define RF__SIMULATE_PROGRAM "radarflow simulate " RF_VERSION

static int rf__write_root(rf_capture_writer *w, const rf_capture_meta *m) {
  hid_t f = w->file;
  if (rf__h5_write_attr_string(f, "format", "radarflow.capture") < 0 ||
      rf__h5_write_attr_int32(f, "format_version", 1) < 0 ||
      rf__h5_write_attr_string(f, "radar_name", m->radar_name) < 0 ||
      rf__h5_write_attr_string(f, "simulate_program", RF__SIMULATE_PROGRAM) < 0 ||
      rf__h5_write_attr_double(f, "site_latitude_deg", m->site_latitude_deg) < 0 ||
      rf__h5_write_attr_double(f, "site_longitude_deg", m->site_longitude_deg) < 0 ||
      rf__h5_write_attr_double(f, "site_altitude_m", m->site_altitude_m) < 0)
    return rf__werr(w, "/");
  return 0;
}

static int rf__write_waveform(rf_capture_writer *w, const rf_capture_meta *m) {
  hid_t g = rf__h5_create_group(w->file, "waveform");
  int st = 0;
  if (g < 0 ||
      rf__h5_write_attr_string(g, "type", m->waveform_type == RF_WAVEFORM_CUSTOM ? "custom" : "lfm") < 0 ||
      rf__h5_write_attr_double(g, "center_frequency_hz", m->center_frequency_hz) < 0 ||
      rf__h5_write_attr_double(g, "sample_rate_hz", m->sample_rate_hz) < 0 ||
      rf__h5_write_attr_double(g, "bandwidth_hz", m->bandwidth_hz) < 0 ||
      rf__h5_write_attr_double(g, "pulse_width_s", m->pulse_width_s) < 0 ||
      rf__h5_write_attr_double(g, "pri_s", m->pri_s) < 0 ||
      rf__h5_write_attr_double(g, "range_gate_delay_s", m->range_gate_delay_s) < 0) {
    st = rf__werr(w, "/waveform");
  } else if (m->waveform_type == RF_WAVEFORM_CUSTOM) {
    hsize_t dims[2] = {m->reference_len, 2};
    if (rf__h5_write_dset(g, "reference", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, m->reference) < 0)
      st = rf__werr(w, "/waveform/reference");
  }
  if (g >= 0) H5Gclose(g);
  return st;
}

static int rf__write_array(rf_capture_writer *w, const rf_capture_meta *m) {
  hid_t g = rf__h5_create_group(w->file, "array");
  hsize_t pd[2] = {m->channels, 3}, cd[2] = {m->channels, 2};
  int st = 0;
  if (g < 0) st = rf__werr(w, "/array");
  else if (rf__h5_write_dset(g, "element_position_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, pd,
                             m->element_position_m) < 0)
    st = rf__werr(w, "/array/element_position_m");
  else if (m->has_calibration &&
           rf__h5_write_dset(g, "calibration", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, cd, m->calibration) < 0)
    st = rf__werr(w, "/array/calibration");
  if (g >= 0) H5Gclose(g);
  return st;
}

static int rf__write_dwell(rf_capture_writer *w, const rf_capture_meta *m) {
  hid_t g = rf__h5_create_group(w->file, "dwell");
  hsize_t n = m->dwells, np = m->pulses;
  int st = 0;
  if (g < 0) st = rf__werr(w, "/dwell");
  else if (rf__h5_write_dset(g, "first_pulse", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n, m->first_pulse) < 0)
    st = rf__werr(w, "/dwell/first_pulse");
  else if (rf__h5_write_dset(g, "num_pulses", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, m->num_pulses) < 0)
    st = rf__werr(w, "/dwell/num_pulses");
  else if (rf__h5_write_dset(g, "azimuth_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->azimuth_deg) < 0)
    st = rf__werr(w, "/dwell/azimuth_deg");
  else if (rf__h5_write_dset(g, "elevation_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->elevation_deg) < 0)
    st = rf__werr(w, "/dwell/elevation_deg");
  else if (m->tx_beamwidth_az_deg &&
           rf__h5_write_dset(g, "tx_beamwidth_az_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n,
                             m->tx_beamwidth_az_deg) < 0)
    st = rf__werr(w, "/dwell/tx_beamwidth_az_deg");
  else if (m->tx_beamwidth_el_deg &&
           rf__h5_write_dset(g, "tx_beamwidth_el_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n,
                             m->tx_beamwidth_el_deg) < 0)
    st = rf__werr(w, "/dwell/tx_beamwidth_el_deg");
  else if (rf__h5_write_dset(w->file, "pulse_time_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &np,
                             m->pulse_time_s) < 0)
    st = rf__werr(w, "/pulse_time_s");
  if (g >= 0) H5Gclose(g);
  return st;
}

/* /iq: chunked by whole pulses (several when a pulse is tiny), Fletcher-32
 * checksummed so a corrupted chunk fails to read instead of giving garbage. */
static int rf__create_iq(rf_capture_writer *w, const rf_capture_meta *m) {
  size_t pb = rf_capture_pulse_bytes(m);
  size_t per = pb >= RF_IQ_MIN_CHUNK_BYTES ? 1 : RF_IQ_MIN_CHUNK_BYTES / pb;
  if (per > m->pulses) per = m->pulses;
  hsize_t dims[4] = {m->pulses, m->channels, m->samples, 2}, chunk[4] = {per, m->channels, m->samples, 2};
  hid_t ft = m->sample_type == RF_SAMPLE_INT16 ? H5T_STD_I16LE : H5T_IEEE_F32LE;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), s = H5Screate_simple(4, dims, NULL);
  int st = 0;
  if (dcpl < 0 || s < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 || H5Pset_chunk(dcpl, 4, chunk) < 0 ||
      H5Pset_fletcher32(dcpl) < 0 ||
      (w->iq = H5Dcreate2(w->file, "iq", ft, s, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
      rf__h5_write_attr_double(w->iq, "scale", m->scale) < 0)
    st = rf__werr(w, "/iq");
  if (s >= 0) H5Sclose(s);
  if (dcpl >= 0) H5Pclose(dcpl);
  return st;
}

int rf_capture_writer_create(rf_capture_writer **out, const char *path, const rf_capture_meta *m) {
  rf_capture_writer *w = NULL;
  hid_t fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
  int st = 0;
  *out = NULL;
  rf__h5_quiet();
  if (!path || !m || m->channels < 1 || m->samples < 1 || m->pulses < 1 || m->dwells < 1 ||
      !rf_sample_pair_bytes(m->sample_type) || !m->element_position_m || !m->first_pulse ||
      !m->num_pulses || !m->azimuth_deg || !m->elevation_deg || !m->pulse_time_s ||
      (m->has_calibration && !m->calibration) ||
      (m->waveform_type == RF_WAVEFORM_CUSTOM && (!m->reference || m->reference_len < 1)) ||
      (m->waveform_type != RF_WAVEFORM_CUSTOM && m->waveform_type != RF_WAVEFORM_LFM))
    return rf__err(RF_EINVAL, "%s: capture writer: incomplete capture description", path ? path : "(null)");
  /* Never over a file this writer did not make. */
  struct stat sb;
  if (lstat(path, &sb) == 0 && (!S_ISREG(sb.st_mode) || !rf__h5_written_by(path, "simulate_program", "radarflow simulate")))
    return rf__err(RF_EINVAL, "%s: exists and was not written by radarflow simulate; radarflow never overwrites it "
                   "(choose another output)", path);
  if (!(w = rf__calloc(1, sizeof *w))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  w->file = w->iq = H5I_INVALID_HID;
  if (!(w->path = rf__strdup(path)) || !(w->tmp = rf_tmp_path(path))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  w->pulses = m->pulses;
  w->channels = m->channels;
  w->samples = m->samples;
  w->sample_type = m->sample_type;
  errno = 0;
  if ((fcpl = rf__h5_fcpl()) < 0 || (fapl = rf__h5_fapl()) < 0 ||
      (w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__io_reason());
    goto cleanup;
  }
  errno = 0;
  if ((st = rf__write_root(w, m)) < 0 || (st = rf__write_waveform(w, m)) < 0 ||
      (st = rf__write_array(w, m)) < 0 || (st = rf__write_dwell(w, m)) < 0 ||
      (st = rf__create_iq(w, m)) < 0)
    goto cleanup;
  *out = w;
  w = NULL;
cleanup:
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  rf_capture_writer_abort(w);
  return st;
}

int rf_capture_writer_write_pulses(rf_capture_writer *w, size_t first, size_t count, const void *raw) {
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  int st = 0;
  if (first > w->pulses || count > w->pulses - first)
    return rf__err(RF_EINVAL, "%s: /iq: pulses %zu..%zu are outside 0..%zu", w->path, first, first + count,
                   w->pulses);
  if (count == 0) return 0;
  rf__h5_quiet();
  hsize_t start[4] = {first, 0, 0, 0}, cnt[4] = {count, w->channels, w->samples, 2};
  hid_t mt = w->sample_type == RF_SAMPLE_INT16 ? H5T_NATIVE_INT16 : H5T_NATIVE_FLOAT;
  errno = 0;
  fs = H5Dget_space(w->iq);
  ms = H5Screate_simple(4, cnt, NULL);
  if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
      H5Dwrite(w->iq, mt, ms, fs, H5P_DEFAULT, raw) < 0)
    st = rf__werr(w, "/iq");
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  return st;
}

int rf_capture_writer_write_truth(rf_capture_writer *w, const rf_truth *t) {
  if (w->truth_written) return rf__err(RF_EINVAL, "%s: /truth: already written", w->path);
  rf__h5_quiet();
  errno = 0;
  hid_t g = rf__h5_create_group(w->file, "truth");
  hsize_t n = t->rows, d3[2] = {t->rows, 3};
  int st = 0;
  const struct {
    const char *name;
    const void *data;
    int vec, i32;
  } ds[] = {
      {"target_id", t->target_id, 0, 1},
      {"time_s", t->time_s, 0, 0},
      {"position_enu_m", t->position_enu_m, 1, 0},
      {"velocity_enu_mps", t->velocity_enu_mps, 1, 0},
      {"range_m", t->range_m, 0, 0},
      {"radial_velocity_mps", t->radial_velocity_mps, 0, 0},
      {"azimuth_deg", t->azimuth_deg, 0, 0},
      {"elevation_deg", t->elevation_deg, 0, 0},
      {"snr_db", t->snr_db, 0, 0},
      {"dwell", t->dwell, 0, 1}, /* extension, docs/formats.md */
  };
  if (g < 0) {
    st = rf__werr(w, "/truth");
    goto cleanup;
  }
  for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
    hid_t ft = ds[k].i32 ? H5T_STD_I32LE : H5T_IEEE_F64LE, mt = ds[k].i32 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE;
    if (rf__h5_write_dset(g, ds[k].name, ft, mt, ds[k].vec ? 2 : 1, ds[k].vec ? d3 : &n, ds[k].data) < 0) {
      char what[48];
      snprintf(what, sizeof what, "/truth/%s", ds[k].name);
      st = rf__werr(w, what);
      goto cleanup;
    }
  }
  w->truth_written = 1;
cleanup:
  if (g >= 0) H5Gclose(g);
  return st;
}

int rf_capture_writer_close(rf_capture_writer *w) {
  int st = 0;
  if (!w) return rf__err(RF_EINVAL, "capture writer is NULL");
  rf__h5_quiet();
  errno = 0;
  if (w->iq >= 0 && H5Dclose(w->iq) < 0) st = rf__werr(w, "/iq");
  w->iq = H5I_INVALID_HID;
  if (H5Fclose(w->file) < 0 && st == 0) st = rf__err(RF_EIO, "%s: cannot write: %s", w->path, rf__io_reason());
  w->file = H5I_INVALID_HID;
  if (st == 0) st = rf_commit_tmp(w->tmp, w->path);
  else unlink(w->tmp);
  rf__free(w->tmp);
  rf__free(w->path);
  rf__free(w);
  return st;
}

void rf_capture_writer_abort(rf_capture_writer *w) {
  if (!w) return;
  if (w->iq >= 0) H5Dclose(w->iq);
  if (w->file >= 0) H5Fclose(w->file);
  if (w->tmp) unlink(w->tmp);
  rf__free(w->tmp);
  rf__free(w->path);
  rf__free(w);
}
