/* radarflow tests: shared helpers (see rf_testutil.h). */
#include "rf_testutil.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- folders and paths ------------------------------------------------------- */
int rf_test_mkdir_p(const char *dir) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return -1;
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
  return 0;
}

const char *rf_test_tmpdir(void) {
  const char *d = getenv("RF_TMP");
  if (!d || !*d) d = "build/test-tmp";
  ck_assert_msg(rf_test_mkdir_p(d) == 0, "cannot create test folder %s: %s", d, strerror(errno));
  return d;
}

char *rf_test_join(char *out, size_t len, const char *dir, const char *name) {
  int n = snprintf(out, len, "%s/%s", dir, name);
  ck_assert_msg(n > 0 && (size_t)n < len, "path too long: %s/%s", dir, name);
  return out;
}

int rf_test_rm_rf(const char *path) { return rf_remove_tree(path); }

char *rf_test_fresh_dir(char *out, size_t len, const char *name) {
  rf_test_join(out, len, rf_test_tmpdir(), name);
  ck_assert_msg(rf_test_rm_rf(out) == 0, "cannot clear %s", out);
  ck_assert_msg(rf_test_mkdir_p(out) == 0, "cannot create %s", out);
  return out;
}

/* ---- files ---------------------------------------------------------------------- */
int rf_test_file_exists(const char *path) {
  struct stat sb;
  return lstat(path, &sb) == 0;
}

long long rf_test_file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

char *rf_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) {
      char *nb = realloc(b, cap * 2);
      if (!nb) free(b);
      b = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (!b) return NULL;
  b[n] = 0;
  if (len) *len = n;
  return b;
}

int rf_test_copy_file(const char *src, const char *dst, long long bytes) {
  size_t n;
  char *b = rf_test_read_file(src, &n);
  if (!b) return -1;
  if (bytes >= 0 && (size_t)bytes < n) n = (size_t)bytes;
  FILE *f = fopen(dst, "wb");
  int st = f && fwrite(b, 1, n, f) == n ? 0 : -1;
  if (f && fclose(f) != 0) st = -1;
  free(b);
  return st;
}

size_t rf_test_count_entries(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *e;
  if (!d) return 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!part || strstr(e->d_name, part))) n++;
  closedir(d);
  return n;
}

/* ---- running programs -------------------------------------------------------------- */
const char *rf_test_bin(void) {
  const char *b = getenv("RF_BIN");
  return b && *b ? b : "build/radarflow";
}

int rf_test_run(const char *out_file, const char *const argv[]) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(out_file ? out_file : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return -1;
}

int rf_test_cli(const char *out_file, ...) {
  const char *argv[64];
  size_t n = 0;
  va_list ap;
  argv[n++] = rf_test_bin();
  va_start(ap, out_file);
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < 63) argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  return rf_test_run(out_file, argv);
}

void rf_test_child_exit(int code) {
  const char *f = getenv("CK_FORK");
  if (f && strcmp(f, "no") == 0) _exit(code);
  exit(code);
}

void rf_test_child_one_thread(void) {
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}

int rf_test_fork_fsize(long bytes) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct rlimit rl = {(rlim_t)bytes, (rlim_t)bytes};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0) _exit(99);
    rf_test_child_one_thread();
  }
  return (int)pid;
}

void rf_test_child_ok(int pid) {
  int ws;
  ck_assert_int_eq(waitpid((pid_t)pid, &ws, 0), pid);
  ck_assert_msg(WIFEXITED(ws), "child killed by signal %d", WTERMSIG(ws));
  ck_assert_msg(WEXITSTATUS(ws) == 0, "child check %d failed", WEXITSTATUS(ws));
}

/* ---- synthetic capture -------------------------------------------------------------- */
rf_test_capture_opts rf_test_capture_defaults(void) {
  rf_test_capture_opts o = {.channels = 4,
                            .pulses = 12,
                            .samples = 64,
                            .sample_type = RF_SAMPLE_INT16,
                            .waveform_type = RF_WAVEFORM_LFM,
                            .has_calibration = 1,
                            .with_truth = 1,
                            .seed = 1};
  return o;
}

/* Numerical Recipes LCG: deterministic and identical on every platform. */
static uint32_t rf__lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s;
}

/* Uniform in [-1, 1). */
static double rf__uni(uint32_t *s) { return (double)rf__lcg(s) / 2147483648.0 - 1.0; }

void rf_test_capture_free(rf_test_capture *tc) {
  rf_capture_meta *m = &tc->meta;
  free(m->reference);
  free(m->element_position_m);
  free(m->calibration);
  free(m->first_pulse);
  free(m->num_pulses);
  free(m->azimuth_deg);
  free(m->elevation_deg);
  free(m->pulse_time_s);
  free(tc->raw);
  rf_truth_free(tc->truth);
  memset(tc, 0, sizeof *tc);
}

int rf_test_capture_build(rf_test_capture *tc, const rf_test_capture_opts *o) {
  rf_capture_meta *m = &tc->meta;
  uint32_t s = o->seed;
  memset(tc, 0, sizeof *tc);
  if (o->pulses < 6 || o->channels < 1 || o->samples < 32) return -1;
  snprintf(m->radar_name, sizeof m->radar_name, "test radar \xc3\xa9 %u", (unsigned)o->seed);
  m->site_latitude_deg = 52.0 + 0.123456789;
  m->site_longitude_deg = 4.0 + 1.0 / 3.0;
  m->site_altitude_m = 12.5;
  m->waveform_type = o->waveform_type;
  m->center_frequency_hz = 3.0e9;
  m->sample_rate_hz = 10.0e6;
  m->bandwidth_hz = 5.0e6;
  m->pulse_width_s = 2.0e-6; /* 20 samples */
  m->pri_s = 1.0e-3;
  m->range_gate_delay_s = 1.0e-6;
  m->channels = o->channels;
  m->pulses = o->pulses;
  m->samples = o->samples;
  m->sample_type = o->sample_type;
  m->scale = o->sample_type == RF_SAMPLE_INT16 ? 1.0 / 4096 : 1.0;
  m->has_calibration = o->has_calibration;
  m->dwells = 3;
  size_t len[3] = {o->pulses / 4, o->pulses / 3, 0};
  len[2] = o->pulses - len[0] - len[1];

  m->element_position_m = malloc(m->channels * sizeof *m->element_position_m);
  m->calibration = malloc(m->channels * sizeof *m->calibration);
  m->first_pulse = malloc(3 * sizeof *m->first_pulse);
  m->num_pulses = malloc(3 * sizeof *m->num_pulses);
  m->azimuth_deg = malloc(3 * sizeof *m->azimuth_deg);
  m->elevation_deg = malloc(3 * sizeof *m->elevation_deg);
  m->pulse_time_s = malloc(m->pulses * sizeof *m->pulse_time_s);
  size_t pair = rf_sample_pair_bytes(o->sample_type);
  tc->raw = malloc(m->pulses * m->channels * m->samples * pair);
  if (!m->element_position_m || !m->calibration || !m->first_pulse || !m->num_pulses ||
      !m->azimuth_deg || !m->elevation_deg || !m->pulse_time_s || !tc->raw)
    goto fail;
  double lambda = RF_C_MPS / m->center_frequency_hz;
  for (size_t n = 0; n < m->channels; n++) {
    m->element_position_m[n][0] = (double)n * lambda / 2 - (double)(m->channels - 1) * lambda / 4;
    m->element_position_m[n][1] = 0.001 * rf__uni(&s);
    m->element_position_m[n][2] = 0;
    double a = 1.0 + 0.01 * (double)n, ph = 0.1 * (double)n;
    m->calibration[n] = o->has_calibration ? CMPLXF((float)(a * cos(ph)), (float)(a * sin(ph))) : 1.0f;
  }
  size_t p = 0;
  for (size_t d = 0; d < 3; d++) {
    m->first_pulse[d] = (int64_t)p;
    m->num_pulses[d] = (int32_t)len[d];
    m->azimuth_deg[d] = 30.0 * (double)d + 0.25;
    m->elevation_deg[d] = 1.5 + (double)d;
    for (size_t k = 0; k < len[d]; k++, p++)
      m->pulse_time_s[p] = 1700000000.0 + 0.05 * (double)d + (double)k * m->pri_s;
  }
  if (o->waveform_type == RF_WAVEFORM_CUSTOM) {
    m->reference_len = 16;
    m->reference = malloc(16 * sizeof *m->reference);
    if (!m->reference) goto fail;
    for (size_t i = 0; i < 16; i++) {
      double ph = 0.3 * (double)(i * i) + 0.1 * rf__uni(&s);
      m->reference[i] = CMPLXF((float)cos(ph), (float)sin(ph));
    }
  }
  size_t nv = m->pulses * m->channels * m->samples * 2;
  for (size_t i = 0; i < nv; i++) {
    if (o->sample_type == RF_SAMPLE_INT16) ((int16_t *)tc->raw)[i] = (int16_t)(rf__uni(&s) * 3000.0);
    else ((float *)tc->raw)[i] = (float)(rf__uni(&s) * 3.0);
  }
  if (o->with_truth) {
    if (rf_truth_alloc(&tc->truth, 6) < 0) goto fail;
    rf_truth *t = tc->truth;
    for (size_t r = 0; r < 6; r++) {
      size_t d = r / 2, a = (size_t)m->first_pulse[d], b = a + (size_t)m->num_pulses[d] - 1;
      t->target_id[r] = (int32_t)(r % 2) + 7;
      t->dwell[r] = (int32_t)d;
      t->time_s[r] = 0.5 * (m->pulse_time_s[a] + m->pulse_time_s[b]);
      for (int k = 0; k < 3; k++) {
        t->position_enu_m[r][k] = 10000.0 * rf__uni(&s);
        t->velocity_enu_mps[r][k] = 100.0 * rf__uni(&s);
      }
      t->range_m[r] = 5000.0 + 1000.0 * (double)r;
      t->radial_velocity_mps[r] = 20.0 * rf__uni(&s);
      t->azimuth_deg[r] = m->azimuth_deg[d];
      t->elevation_deg[r] = m->elevation_deg[d];
      t->snr_db[r] = 10.0 + (double)r;
    }
  }
  return 0;
fail:
  rf_test_capture_free(tc);
  return -1;
}

int rf_test_capture_write(const rf_test_capture *tc, const char *path) {
  rf_capture_writer *w;
  int st = rf_capture_writer_create(&w, path, &tc->meta);
  if (st < 0) return st;
  /* Two calls, so writing in parts is exercised. */
  size_t half = tc->meta.pulses / 2, pb = rf_capture_pulse_bytes(&tc->meta);
  if ((st = rf_capture_writer_write_pulses(w, 0, half, tc->raw)) < 0 ||
      (st = rf_capture_writer_write_pulses(w, half, tc->meta.pulses - half, (const char *)tc->raw + half * pb)) < 0 ||
      (tc->truth && (st = rf_capture_writer_write_truth(w, tc->truth)) < 0)) {
    rf_capture_writer_abort(w);
    return st;
  }
  return rf_capture_writer_close(w);
}

int rf_test_write_capture(const char *path, const rf_test_capture_opts *o) {
  rf_test_capture tc;
  if (rf_test_capture_build(&tc, o) < 0) return RF_ENOMEM;
  int st = rf_test_capture_write(&tc, path);
  rf_test_capture_free(&tc);
  return st;
}

/* ---- malformed captures -------------------------------------------------------------- */
/* Small raw-HDF5 edits on a valid capture. Each returns 0 or -1. */
static int rf__set_attr_double(hid_t f, const char *obj, const char *name, double v) {
  hid_t o = H5Oopen(f, obj, H5P_DEFAULT), s = H5Screate(H5S_SCALAR), a = -1;
  int st = -1;
  if (o >= 0 && s >= 0 && (H5Aexists(o, name) <= 0 || H5Adelete(o, name) >= 0) &&
      (a = H5Acreate2(o, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
      H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0)
    st = 0;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  if (o >= 0) H5Oclose(o);
  return st;
}

static int rf__set_attr_int(hid_t f, const char *obj, const char *name, int v) {
  hid_t o = H5Oopen(f, obj, H5P_DEFAULT), s = H5Screate(H5S_SCALAR), a = -1;
  int st = -1;
  if (o >= 0 && s >= 0 && (H5Aexists(o, name) <= 0 || H5Adelete(o, name) >= 0) &&
      (a = H5Acreate2(o, name, H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
      H5Awrite(a, H5T_NATIVE_INT, &v) >= 0)
    st = 0;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  if (o >= 0) H5Oclose(o);
  return st;
}

static int rf__set_attr_fixed_string(hid_t f, const char *obj, const char *name, const char *v) {
  hid_t o = H5Oopen(f, obj, H5P_DEFAULT), s = H5Screate(H5S_SCALAR), t = H5Tcopy(H5T_C_S1), a = -1;
  int st = -1;
  if (o >= 0 && s >= 0 && t >= 0 && H5Tset_size(t, strlen(v) + 1) >= 0 &&
      (H5Aexists(o, name) <= 0 || H5Adelete(o, name) >= 0) &&
      (a = H5Acreate2(o, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, v) >= 0)
    st = 0;
  if (a >= 0) H5Aclose(a);
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (o >= 0) H5Oclose(o);
  return st;
}

/* Replaces dataset `name` by one of type ft and the given shape, written from
 * data in memory type mt (no write when data is NULL). dcpl may be
 * H5P_DEFAULT. */
static int rf__replace_dset(hid_t f, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims,
                            const void *data, hid_t dcpl) {
  hid_t s = -1, d = -1;
  int st = -1;
  if (H5Lexists(f, name, H5P_DEFAULT) > 0 && H5Ldelete(f, name, H5P_DEFAULT) < 0) return -1;
  if ((s = H5Screate_simple(rank, dims, NULL)) >= 0 &&
      (d = H5Dcreate2(f, name, ft, s, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 &&
      (!data || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0))
    st = 0;
  if (d >= 0) H5Dclose(d);
  if (s >= 0) H5Sclose(s);
  return st;
}

/* Flips bytes in the middle of /iq's first chunk on disk. */
static int rf__corrupt_iq_chunk(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, s = -1;
  haddr_t addr = 0;
  hsize_t size = 0, off[4];
  unsigned mask;
  int st = -1;
  if (f >= 0 && (d = H5Dopen2(f, "iq", H5P_DEFAULT)) >= 0 && (s = H5Dget_space(d)) >= 0 &&
      H5Dget_chunk_info(d, s, 0, off, &mask, &addr, &size) >= 0 && size > 16)
    st = 0;
  if (s >= 0) H5Sclose(s);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  if (st < 0) return -1;
  int fd = open(path, O_RDWR);
  unsigned char b[8];
  off_t at = (off_t)(addr + size / 2);
  if (fd < 0) return -1;
  st = pread(fd, b, sizeof b, at) == (ssize_t)sizeof b ? 0 : -1;
  for (size_t i = 0; i < sizeof b; i++) b[i] ^= 0x5a;
  if (st == 0 && pwrite(fd, b, sizeof b, at) != (ssize_t)sizeof b) st = -1;
  close(fd);
  return st;
}

enum rf__bad {
  RF_BAD_TRUNCATED,
  RF_BAD_NOT_HDF5,
  RF_BAD_FORMAT,
  RF_BAD_VERSION,
  RF_BAD_NO_WAVEFORM,
  RF_BAD_NO_NUM_PULSES,
  RF_BAD_NAN_PRI,
  RF_BAD_PULSE_OVER_PRI,
  RF_BAD_POSITIONS,
  RF_BAD_DWELL_PAST_END,
  RF_BAD_IQ_INT32,
  RF_BAD_IQ_TERABYTES,
  RF_BAD_IQ_CORRUPT,
  RF_BAD_NAN_CALIBRATION,
  RF_BAD_LFM_ALIAS,
  RF_BAD_ELEVATION,
  RF_BAD_NO_REFERENCE,
  RF_BAD_SCALE_ZERO,
  RF_BAD_NO_PULSE_TIME,
  RF_BAD_COUNT
};

static const struct {
  const char *kind, *field;
} rf__bad_table[RF_BAD_COUNT] = {
    [RF_BAD_TRUNCATED] = {"truncated", "HDF5"},
    [RF_BAD_NOT_HDF5] = {"not_hdf5", "HDF5"},
    [RF_BAD_FORMAT] = {"wrong_format", "format"},
    [RF_BAD_VERSION] = {"wrong_version", "format_version"},
    [RF_BAD_NO_WAVEFORM] = {"missing_waveform", "/waveform"},
    [RF_BAD_NO_NUM_PULSES] = {"missing_num_pulses", "/dwell/num_pulses"},
    [RF_BAD_NAN_PRI] = {"nan_pri", "pri_s"},
    [RF_BAD_PULSE_OVER_PRI] = {"pulse_longer_than_pri", "pulse_width_s"},
    [RF_BAD_POSITIONS] = {"positions_not_channels", "/array/element_position_m"},
    [RF_BAD_DWELL_PAST_END] = {"dwell_past_end", "/dwell"},
    [RF_BAD_IQ_INT32] = {"iq_int32", "/iq"},
    [RF_BAD_IQ_TERABYTES] = {"iq_terabytes", "/iq"},
    [RF_BAD_IQ_CORRUPT] = {"iq_corrupt_chunk", "/iq"},
    [RF_BAD_NAN_CALIBRATION] = {"nan_calibration", "/array/calibration"},
    [RF_BAD_LFM_ALIAS] = {"lfm_bandwidth_over_rate", "bandwidth_hz"},
    [RF_BAD_ELEVATION] = {"elevation_out_of_range", "/dwell/elevation_deg"},
    [RF_BAD_NO_REFERENCE] = {"custom_without_reference", "/waveform/reference"},
    [RF_BAD_SCALE_ZERO] = {"iq_scale_zero", "scale"},
    [RF_BAD_NO_PULSE_TIME] = {"missing_pulse_time", "/pulse_time_s"},
};

size_t rf_test_bad_capture_count(void) { return RF_BAD_COUNT; }

int rf_test_bad_capture_fails_at_read(size_t i) { return i == RF_BAD_IQ_CORRUPT; }

int rf_test_make_bad_capture(size_t i, const char *dir, char *out_path, size_t out_len,
                             const char **kind_name, const char **field_name) {
  if (i >= RF_BAD_COUNT) return -1;
  char name[96], good[4096];
  snprintf(name, sizeof name, "bad_%s.h5", rf__bad_table[i].kind);
  if (snprintf(out_path, out_len, "%s/%s", dir, name) >= (int)out_len) return -1;
  if (snprintf(good, sizeof good, "%s.good", out_path) >= (int)sizeof good) return -1;
  if (kind_name) *kind_name = rf__bad_table[i].kind;
  if (field_name) *field_name = rf__bad_table[i].field;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

  if (i == RF_BAD_NOT_HDF5) {
    static const char text[] = "time_s,dwell\nthis is not an HDF5 file\n";
    FILE *fp = fopen(out_path, "wb");
    int st = fp && fwrite(text, 1, sizeof text - 1, fp) == sizeof text - 1 ? 0 : -1;
    if (fp && fclose(fp) != 0) st = -1;
    return st;
  }
  rf_test_capture_opts o = rf_test_capture_defaults();
  if (i == RF_BAD_NO_REFERENCE) o.waveform_type = RF_WAVEFORM_CUSTOM;
  if (rf_test_write_capture(good, &o) < 0) return -1;
  if (i == RF_BAD_TRUNCATED) {
    int st = rf_test_copy_file(good, out_path, rf_test_file_size(good) / 2);
    unlink(good);
    return st;
  }
  if (rename(good, out_path) < 0) return -1;
  if (i == RF_BAD_IQ_CORRUPT) return rf__corrupt_iq_chunk(out_path);

  hid_t f = H5Fopen(out_path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return -1;
  int st = -1;
  hsize_t d4[4] = {o.pulses, o.channels, o.samples, 2};
  switch ((enum rf__bad)i) {
  case RF_BAD_FORMAT: st = rf__set_attr_fixed_string(f, "/", "format", "radarflow.plots"); break;
  case RF_BAD_VERSION: st = rf__set_attr_int(f, "/", "format_version", 2); break;
  case RF_BAD_NO_WAVEFORM: st = H5Ldelete(f, "waveform", H5P_DEFAULT) < 0 ? -1 : 0; break;
  case RF_BAD_NO_NUM_PULSES: st = H5Ldelete(f, "dwell/num_pulses", H5P_DEFAULT) < 0 ? -1 : 0; break;
  case RF_BAD_NAN_PRI: st = rf__set_attr_double(f, "/waveform", "pri_s", NAN); break;
  case RF_BAD_PULSE_OVER_PRI: st = rf__set_attr_double(f, "/waveform", "pulse_width_s", 2e-3); break;
  case RF_BAD_POSITIONS: {
    double pos[5][3] = {{0}};
    hsize_t d[2] = {o.channels + 1, 3};
    st = rf__replace_dset(f, "array/element_position_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d, pos,
                          H5P_DEFAULT);
    break;
  }
  case RF_BAD_DWELL_PAST_END: {
    int32_t num[3] = {3, 4, 6}; /* the last dwell starts at pulse 7 of 12 */
    hsize_t d = 3;
    st = rf__replace_dset(f, "dwell/num_pulses", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &d, num, H5P_DEFAULT);
    break;
  }
  case RF_BAD_IQ_INT32:
    st = rf__replace_dset(f, "iq", H5T_STD_I32LE, H5T_NATIVE_INT32, 4, d4, NULL, H5P_DEFAULT);
    break;
  case RF_BAD_IQ_TERABYTES: {
    /* 2^30 pulses of 1 KiB: 1 TiB, declared but never written (chunked). */
    hsize_t big[4] = {(hsize_t)1 << 30, o.channels, o.samples, 2}, ch[4] = {1, o.channels, o.samples, 2};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0 && H5Pset_chunk(dcpl, 4, ch) >= 0)
      st = rf__replace_dset(f, "iq", H5T_STD_I16LE, H5T_NATIVE_INT16, 4, big, NULL, dcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    break;
  }
  case RF_BAD_NAN_CALIBRATION: {
    float cal[4][2] = {{1, 0}, {1, 0}, {NAN, 0}, {1, 0}};
    hsize_t d[2] = {o.channels, 2};
    st = rf__replace_dset(f, "array/calibration", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, cal, H5P_DEFAULT);
    break;
  }
  case RF_BAD_LFM_ALIAS: st = rf__set_attr_double(f, "/waveform", "bandwidth_hz", 20e6); break;
  case RF_BAD_ELEVATION: {
    double el[3] = {1, 95, 2};
    hsize_t d = 3;
    st = rf__replace_dset(f, "dwell/elevation_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d, el, H5P_DEFAULT);
    break;
  }
  case RF_BAD_NO_REFERENCE: st = H5Ldelete(f, "waveform/reference", H5P_DEFAULT) < 0 ? -1 : 0; break;
  case RF_BAD_SCALE_ZERO: st = rf__set_attr_double(f, "/iq", "scale", 0.0); break;
  case RF_BAD_NO_PULSE_TIME: st = H5Ldelete(f, "pulse_time_s", H5P_DEFAULT) < 0 ? -1 : 0; break;
  default: break;
  }
  if (H5Fclose(f) < 0) st = -1;
  return st;
}

int rf_test_csv_same(double w, double r, int decimals) {
  if (isnan(w) || isnan(r)) return isnan(w) && isnan(r);
  if (isinf(w) || isinf(r)) return w == r;
  if (fabs(w) >= 1e15) return w == r;
  double tol = 0.5 * pow(10.0, -decimals) + fabs(w) * 0x1p-51;
  return fabs(w - r) <= tol;
}

/* ---- independent ballistic truth ---------------------------------------------------- */
#define RF_TEST_GM 3.986004418e14
#define RF_TEST_OMEGA 7.292115e-5
#define RF_TEST_RK4_STEP_S 0.05
#define RF_TEST_WGS84_A 6378137.0
#define RF_TEST_WGS84_F (1.0 / 298.257223563)

/* ENU axes (as ECEF unit vectors) and ECEF position of a site. */
static void rf__test_site(double lat_deg, double lon_deg, double alt_m, double s[3], double E[3], double N[3],
                          double U[3]) {
  const double a = RF_TEST_WGS84_A, f = RF_TEST_WGS84_F, e2 = f * (2 - f), d = 3.14159265358979323846 / 180;
  double la = lat_deg * d, lo = lon_deg * d, Nr = a / sqrt(1 - e2 * sin(la) * sin(la));
  s[0] = (Nr + alt_m) * cos(la) * cos(lo), s[1] = (Nr + alt_m) * cos(la) * sin(lo), s[2] = (Nr * (1 - e2) + alt_m) * sin(la);
  E[0] = -sin(lo), E[1] = cos(lo), E[2] = 0;
  N[0] = -sin(la) * cos(lo), N[1] = -sin(la) * sin(lo), N[2] = cos(la);
  U[0] = cos(la) * cos(lo), U[1] = cos(la) * sin(lo), U[2] = sin(la);
}

rf_test_earth rf_test_earth_at(double lat_deg, double lon_deg, double alt_m) {
  double s[3], E[3], N[3], U[3];
  rf__test_site(lat_deg, lon_deg, alt_m, s, E, N, U);
  rf_test_earth g;
  g.centre[0] = -(E[0] * s[0] + E[1] * s[1] + E[2] * s[2]);
  g.centre[1] = -(N[0] * s[0] + N[1] * s[1] + N[2] * s[2]);
  g.centre[2] = -(U[0] * s[0] + U[1] * s[1] + U[2] * s[2]);
  g.w[0] = RF_TEST_OMEGA * E[2], g.w[1] = RF_TEST_OMEGA * N[2], g.w[2] = RF_TEST_OMEGA * U[2];
  return g;
}

static void rf__test_deriv(const rf_test_earth *g, const double y[6], double dy[6]) {
  double d[3] = {y[0] - g->centre[0], y[1] - g->centre[1], y[2] - g->centre[2]};
  double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]), k = -RF_TEST_GM / (r * r * r);
  const double *w = g->w, *v = y + 3;
  double wv[3] = {w[1] * v[2] - w[2] * v[1], w[2] * v[0] - w[0] * v[2], w[0] * v[1] - w[1] * v[0]};
  double wd[3] = {w[1] * d[2] - w[2] * d[1], w[2] * d[0] - w[0] * d[2], w[0] * d[1] - w[1] * d[0]};
  double wwd[3] = {w[1] * wd[2] - w[2] * wd[1], w[2] * wd[0] - w[0] * wd[2], w[0] * wd[1] - w[1] * wd[0]};
  for (int i = 0; i < 3; i++) dy[i] = v[i], dy[3 + i] = k * d[i] - 2 * wv[i] - wwd[i];
}

void rf_test_ballistic_integrate(const rf_test_earth *g, double y[6], double t) {
  int n = (int)ceil(fabs(t) / RF_TEST_RK4_STEP_S);
  double h = n ? t / n : 0;
  for (int s = 0; s < n; s++) {
    double k1[6], k2[6], k3[6], k4[6], z[6];
    rf__test_deriv(g, y, k1);
    for (int i = 0; i < 6; i++) z[i] = y[i] + 0.5 * h * k1[i];
    rf__test_deriv(g, z, k2);
    for (int i = 0; i < 6; i++) z[i] = y[i] + 0.5 * h * k2[i];
    rf__test_deriv(g, z, k3);
    for (int i = 0; i < 6; i++) z[i] = y[i] + h * k3[i];
    rf__test_deriv(g, z, k4);
    for (int i = 0; i < 6; i++) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
}

double rf_test_height(double lat_deg, double lon_deg, double alt_m, const double enu[3]) {
  double s[3], E[3], N[3], U[3], x[3];
  rf__test_site(lat_deg, lon_deg, alt_m, s, E, N, U);
  for (int i = 0; i < 3; i++) x[i] = s[i] + E[i] * enu[0] + N[i] * enu[1] + U[i] * enu[2];
  const double a = RF_TEST_WGS84_A, f = RF_TEST_WGS84_F, e2 = f * (2 - f), b = a * (1 - f);
  double p = hypot(x[0], x[1]), la = atan2(x[2], p * (1 - e2)), h = 0;
  for (int it = 0; it < 10; it++) {
    double Nr = a / sqrt(1 - e2 * sin(la) * sin(la));
    h = fabs(cos(la)) > 1e-9 ? p / cos(la) - Nr : fabs(x[2]) - b;
    la = atan2(x[2], p * (1 - e2 * Nr / (Nr + h)));
  }
  return h;
}
