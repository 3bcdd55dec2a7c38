/* radarflow benchmarks: named workloads through the CPU pipeline, each
 * beside its floors measured in the same run - the same FFTs alone through
 * FFTW, and the machine's memory copy bandwidth. A capture of the workload's
 * shape is written first (noise plus one target) so the end-to-end figure
 * includes reading HDF5 from the page cache. The `big` workload (>= 2 GiB)
 * is processed in a child process whose peak RSS is reported.
 * --device runs the workloads on an OpenCL device instead: the per-stage
 * figures are then device times from profiling events, set beside the
 * device's copy bandwidth and its pinned host-to-device bandwidth, both
 * measured at the start of the same run. */
#include "rf_bench.h"
#include "../host/rf_cl.h"
#include "../host/rf_progress.h"
#include "../host/rf_suggest.h"
#include "../tools/rf_cmds.h"
#include "../pipelines/rf_pipeline.h"

#include <cjson/cJSON.h>
#include <fftw3.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct rf__workload {
  const char *name;
  size_t channels, pulses, samples, ref_len, dwells, doppler_fft;
  int sample_type;
  const char *what;
  const char *settings; /* space-separated section.key=value over the defaults, or NULL */
} rf__workload;

/* matx-exact: NVIDIA MatX's examples/simple_radar_pipeline.h as it runs -
 * no beamforming (each channel a beam of its own), Hamming-tapered replica,
 * the three-pulse canceller [1 -2 1], a Hamming window over the 126
 * canceller outputs, a 256-point Doppler FFT, and CA-CFAR over its 5 x 13
 * (Doppler x range) mask with a 3 x 3 hole (guard cells and the cell under
 * test) at Pfa 1e-5. It compresses with 10000-point FFTs where MatX pads to
 * 16384, and keeps all 9000 range cells where MatX keeps the 8001 of full
 * overlap. */
#define RF__MATX_EXACT                                                                                     \
  "beamforming.mode=channels doppler.clutter_filter=mti3 doppler.window=hamming doppler.fft_size=256 "      \
  "pulse_compression.window=hamming cfar.method=ca cfar.pfa=1e-5 cfar.train_range=5 cfar.guard_range=1 "   \
  "cfar.train_doppler=1 cfar.guard_doppler=1"
static const rf__workload rf__workloads[] = {
    {"demo", 16, 32, 1024, 60, 8, 0, RF_SAMPLE_FLOAT32, "the demo scenario's shape", NULL},
    {"matx", 16, 128, 9000, 1000, 4, 256, RF_SAMPLE_FLOAT32,
     "MatX simple radar pipeline's shape: 16 ch, 128 pulses, 9000 samples, 1000-sample waveform, 5 beams",
     "beamforming.beams_az=5"},
    {"matx-exact", 16, 128, 9000, 1000, 4, 256, RF_SAMPLE_FLOAT32,
     "MatX simple radar pipeline as MatX runs it: no beamforming (16 channels), 3-pulse canceller, "
     "2-D CA-CFAR 5 x 13",
     RF__MATX_EXACT},
    {"matx-exact-int16", 16, 128, 9000, 1000, 4, 256, RF_SAMPLE_INT16,
     "matx-exact from int16 samples (half the bytes over the bus)", RF__MATX_EXACT},
    {"early-warning", 64, 128, 8192, 1000, 2, 0, RF_SAMPLE_INT16, "64 ch, 128 pulses, 8192 samples", NULL},
    {"big", 16, 64, 8192, 500, 64, 0, RF_SAMPLE_INT16, "2 GiB int16 capture: peak RSS", NULL},
};
/* Tiny sizes for a quick check of the bench itself (--quick): every
 * workload's settings at 4 channels x 16 pulses x 512 samples, 2 dwells. */
#define RF__QUICK_CHANNELS 4
#define RF__QUICK_PULSES 16
#define RF__QUICK_SAMPLES 512

/* The workload's settings over the defaults. */
static int rf__workload_config(const rf__workload *w, rf_config *cfg) {
  rf_config_defaults(cfg);
  cfg->doppler_fft = (int)w->doppler_fft;
  if (!w->settings) return 0;
  char buf[1024], *save = NULL;
  snprintf(buf, sizeof buf, "%s", w->settings);
  for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    int st = rf_config_set(cfg, t);
    if (st) return st;
  }
  return 0;
}
#define RF__NWL (sizeof rf__workloads / sizeof rf__workloads[0])
/* Workloads that are not rf__workloads rows (bench_tracker.c, bench_batch.c). */
static const char *const rf__other_workloads[] = {"tracker", "batch"};
#define RF__NOTHER (sizeof rf__other_workloads / sizeof rf__other_workloads[0])

/* Progress on stderr (rf_progress.h): the workload and its stage. The live
 * line is cleared before the report goes on (stdout). */
static rf_progress *rf__prog;
static char rf__wl[96]; /* "demo (1 of 3)": the workload running, or "" */
static void rf__stage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rf__stage(const char *fmt, ...) {
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  rf_progress_stage(rf__prog, "%s%s%s", rf__wl, rf__wl[0] ? ": " : "", what);
}
#define RF__STAGE(...) rf__stage(__VA_ARGS__)
static void rf__stage_done(void) {
  rf_progress_clear(rf__prog);
  fflush(stdout);
}

static uint64_t rf__rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Writes a capture of the workload's shape: noise (std ~ 1) plus one target. */
static int rf__write_capture(const rf__workload *w, const char *path) {
  const size_t n = w->channels, s = w->samples, pulses = w->pulses * w->dwells;
  double (*pos)[3] = rf__malloc(n * sizeof *pos);
  int64_t *fp = rf__malloc(w->dwells * sizeof *fp);
  int32_t *np = rf__malloc(w->dwells * sizeof *np);
  double *az = rf__malloc(w->dwells * sizeof *az), *el = rf__malloc(w->dwells * sizeof *el);
  double *pt = rf__malloc(pulses * sizeof *pt);
  size_t pb = n * s * rf_sample_pair_bytes(w->sample_type);
  void *raw = rf__malloc(pb);
  rf_capture_writer *wr = NULL;
  int st = RF_ENOMEM;
  if (!pos || !fp || !np || !az || !el || !pt || !raw) goto done;
  const double fc = 3e9, lambda = RF_C_MPS / fc, fs = 10e6, pri = 1e-3;
  for (size_t i = 0; i < n; i++) {
    pos[i][0] = ((double)i - 0.5 * (double)(n - 1)) * lambda / 2;
    pos[i][1] = pos[i][2] = 0;
  }
  for (size_t d = 0; d < w->dwells; d++) {
    fp[d] = (int64_t)(d * w->pulses);
    np[d] = (int32_t)w->pulses;
    az[d] = 0;
    el[d] = 0;
  }
  for (size_t p = 0; p < pulses; p++) pt[p] = 1.7e9 + (double)p * pri;
  rf_capture_meta m = {.site_latitude_deg = 0, .site_longitude_deg = 0, .site_altitude_m = 0,
                       .waveform_type = RF_WAVEFORM_LFM, .center_frequency_hz = fc,
                       .sample_rate_hz = fs, .bandwidth_hz = 0.8 * fs,
                       .pulse_width_s = (double)w->ref_len / fs, .pri_s = pri,
                       .range_gate_delay_s = 0, .channels = n, .element_position_m = pos,
                       .pulses = pulses, .samples = s, .sample_type = w->sample_type,
                       .scale = w->sample_type == RF_SAMPLE_INT16 ? 1.0 / 64 : 1.0,
                       .dwells = w->dwells, .first_pulse = fp, .num_pulses = np,
                       .azimuth_deg = az, .elevation_deg = el, .pulse_time_s = pt};
  snprintf(m.radar_name, sizeof m.radar_name, "bench-%s", w->name);
  if ((st = rf_capture_writer_create(&wr, path, &m))) goto done;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (size_t p = 0; p < pulses; p++) {
    for (size_t i = 0; i < n * s * 2; i++) {
      /* Sum of two uniforms: cheap, roughly Gaussian noise. */
      double u = ((double)(rf__rng(&seed) >> 40) + (double)(rf__rng(&seed) >> 40)) / 16777216.0 - 1.0;
      if (w->sample_type == RF_SAMPLE_INT16)
        ((int16_t *)raw)[i] = (int16_t)lrint(u * 110.0);
      else
        ((float *)raw)[i] = (float)(u * 1.7);
    }
    if ((st = rf_capture_writer_write_pulses(wr, p, 1, raw))) goto done;
  }
  st = rf_capture_writer_close(wr);
  wr = NULL;
done:
  if (st == RF_ENOMEM) rf__err(st, "bench: out of memory");
  rf_capture_writer_abort(wr);
  rf__free(raw);
  rf__free(pt);
  rf__free(el);
  rf__free(az);
  rf__free(np);
  rf__free(fp);
  rf__free(pos);
  return st;
}

/* Memory copy bandwidth, bytes/s (read + write counted), best of 5. */
static double rf__copy_bandwidth(void) {
  const size_t bytes = (size_t)256 << 20;
  char *a = rf__malloc_aligned(bytes), *b = rf__malloc_aligned(bytes);
  if (!a || !b) {
    rf__free_aligned(a);
    rf__free_aligned(b);
    return 0;
  }
  memset(a, 1, bytes);
  memset(b, 2, bytes);
  double best = 1e30;
  int nt = omp_get_max_threads();
  for (int r = 0; r < 5; r++) {
    double t0 = rf_now_s();
#pragma omp parallel for num_threads(nt)
    for (int k = 0; k < nt; k++) {
      size_t chunk = bytes / (size_t)nt;
      memcpy(b + (size_t)k * chunk, a + (size_t)k * chunk, chunk);
    }
    double t = rf_now_s() - t0;
    if (t < best) best = t;
  }
  rf__free_aligned(a);
  rf__free_aligned(b);
  return 2.0 * (double)bytes / best;
}

/* Seconds for the pipeline's FFTs alone on one dwell: forward and inverse
 * of length L for every (pulse, channel) row, and a K-point FFT for every
 * (beam, range cell). FFTW's own threads, best of `repeat`. */
static double rf__fft_floor(size_t rows, size_t l, size_t cols, size_t k, int repeat) {
  fftwf_plan_with_nthreads(omp_get_max_threads());
  fftwf_complex *a = fftwf_malloc(rows * l * sizeof *a);
  fftwf_complex *b = fftwf_malloc(cols * k * sizeof *b);
  double best = -1;
  if (!a || !b) goto done;
  memset(a, 0, rows * l * sizeof *a);
  memset(b, 0, cols * k * sizeof *b);
  int nl = (int)l, nk = (int)k;
  fftwf_plan f = fftwf_plan_many_dft(1, &nl, (int)rows, a, NULL, 1, nl, a, NULL, 1, nl, FFTW_FORWARD, FFTW_ESTIMATE);
  fftwf_plan iv = fftwf_plan_many_dft(1, &nl, (int)rows, a, NULL, 1, nl, a, NULL, 1, nl, FFTW_BACKWARD, FFTW_ESTIMATE);
  fftwf_plan dp = fftwf_plan_many_dft(1, &nk, (int)cols, b, NULL, 1, nk, b, NULL, 1, nk, FFTW_FORWARD, FFTW_ESTIMATE);
  for (int r = 0; r < repeat + 1; r++) {
    double t0 = rf_now_s();
    fftwf_execute(f);
    fftwf_execute(iv);
    fftwf_execute(dp);
    double t = rf_now_s() - t0;
    if (r > 0 && (best < 0 || t < best)) best = t; /* first run warms up */
  }
  fftwf_destroy_plan(f);
  fftwf_destroy_plan(iv);
  fftwf_destroy_plan(dp);
done:
  fftwf_free(a);
  fftwf_free(b);
  fftwf_plan_with_nthreads(1);
  return best;
}

/* Other processes' share of the machine while a workload runs: CPU seconds
 * of the cores it may use (/proc/stat, steal included) less this process's
 * own (all its threads), per second of wall time. A run during which others
 * kept more than RF__BUSY_CORES cores busy on average is not meaningful as a
 * ratio to floors measured at another moment: OpenMP's static schedules wait
 * for the slowest thread, so one shared core slows a whole stage. The load
 * averages (1 minute) are recorded beside it. */
#define RF__BUSY_CORES 0.25
typedef struct rf__load {
  double wall_s, machine_cpu_s, own_cpu_s, loadavg;
} rf__load;

static void rf__load_sample(rf__load *l) {
  /* Busy time (user nice system irq softirq steal) of the CPUs this process
   * may run on (a Slurm or taskset CPU set), from their /proc/stat lines. */
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine)) CPU_ZERO(&mine);
  unsigned long long busy = 0, v[8];
  unsigned cpu;
  char line[512];
  FILE *f = fopen("/proc/stat", "r");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 9 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mine))
      busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  if (f) fclose(f);
  l->machine_cpu_s = (double)busy / (double)sysconf(_SC_CLK_TCK);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  l->own_cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
                 1e-6 * (double)ru.ru_stime.tv_usec;
  if (getloadavg(&l->loadavg, 1) != 1) l->loadavg = -1;
  l->wall_s = rf_now_s();
}

/* Cores other processes kept busy on average between a and b (-1: unknown). */
static double rf__others_cores(const rf__load *a, const rf__load *b) {
  double wall = b->wall_s - a->wall_s;
  if (wall <= 0 || b->machine_cpu_s <= 0) return -1;
  double o = (b->machine_cpu_s - a->machine_cpu_s - (b->own_cpu_s - a->own_cpu_s)) / wall;
  return o > 0 ? o : 0;
}

static double rf__median(double *v, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
      double t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int rf_bench_run_self(char *const argv[], double *seconds) { return rf_bench_run_self_to(argv, NULL, seconds); }

int rf_bench_run_self_to(char *const argv[], const char *stdout_path, double *seconds) {
  pid_t pid;
  int ws;
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa)) return rf__err(RF_ENOMEM, "bench: out of memory");
  if (stdout_path && posix_spawn_file_actions_addopen(&fa, 1, stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) {
    posix_spawn_file_actions_destroy(&fa);
    return rf__err(RF_ENOMEM, "bench: out of memory");
  }
  double t0 = rf_now_s();
  int e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e) return rf__err(RF_EIO, "bench: cannot start radarflow %s: %s", argv[1], strerror(e));
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return rf__err(RF_EIO, "bench: wait: %s", strerror(errno));
  *seconds = rf_now_s() - t0;
  if (!WIFEXITED(ws) || WEXITSTATUS(ws))
    return rf__err(RF_EIO, "bench: radarflow %s %s failed (status %d)", argv[1], argv[2], ws);
  return 0;
}

/* Peak RSS (KiB, from its run.json) and wall time of `radarflow process path -o outdir` run as
 * a fresh process (exec of this binary: a fork of an OpenMP process is not
 * safe to use OpenMP in). */
static int rf__child_rss(const char *path, const char *outdir, const char *device, long *rss_kb,
                         double *seconds) {
  char *const argv[] = {"radarflow", "process", (char *)path, "-o", (char *)outdir, "-q", "--device",
                        (char *)device, NULL};
  int st = rf_bench_run_self(argv, seconds);
  if (st) return st;
  /* The child's own peak (VmHWM) from its run.json: ru_maxrss of a spawned
   * child includes the parent's address space before exec. */
  char jp[4096], *buf;
  if ((st = rf_path_join(jp, sizeof jp, outdir, "run.json")) || (st = rf_slurp(jp, (size_t)16 << 20, &buf, NULL)))
    return st;
  cJSON *root = cJSON_Parse(buf);
  rf__free(buf);
  cJSON *rss = cJSON_GetObjectItem(root, "peak_rss_bytes");
  *rss_kb = cJSON_IsNumber(rss) ? (long)(rss->valuedouble / 1024.0) : -1;
  cJSON_Delete(root);
  return 0;
}

/* Device bandwidths for --device runs, bytes/s: buffer-to-buffer copy
 * (read + write counted) and pinned host-to-device writes; best of 5. */
typedef struct rf__dev_bw {
  double copy, h2d;
} rf__dev_bw;

static int rf__device_bandwidth(const char *device, rf__dev_bw *bw, char *name, size_t name_len) {
  rf_cl_device_info dev;
  rf_cl *cl = NULL;
  cl_mem a = NULL, b = NULL, pin = NULL;
  void *host = NULL;
  int st = rf_cl_select(device, &dev);
  if (st || (st = rf_cl_create(&cl, &dev))) return st;
  snprintf(name, name_len, "%s (%s)", dev.name, dev.id);
  size_t bytes = (size_t)256 << 20;
  while (bytes > ((size_t)16 << 20) && 3 * (uint64_t)bytes > rf_cl_budget(cl)) bytes /= 2;
  cl_command_queue q = rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE);
  if ((st = rf_cl_alloc(cl, bytes, CL_MEM_READ_WRITE, "bench source", &a)) ||
      (st = rf_cl_alloc(cl, bytes, CL_MEM_READ_WRITE, "bench target", &b)) ||
      (st = rf_cl_pinned(cl, bytes, "bench staging", &pin, &host)))
    goto done;
  memset(host, 1, bytes);
  bw->copy = bw->h2d = 0;
  for (int r = 0; r < 6; r++) {
    cl_event e1 = NULL, e2 = NULL;
    cl_int e = clEnqueueCopyBuffer(q, a, b, 0, 0, bytes, 0, NULL, &e1);
    if (e == CL_SUCCESS) e = clEnqueueWriteBuffer(q, a, CL_FALSE, 0, bytes, host, 0, NULL, &e2);
    if (e == CL_SUCCESS) e = clFinish(q);
    if (e != CL_SUCCESS) {
      rf_cl_release(&e1);
      rf_cl_release(&e2);
      st = rf__cl_err(e, "bench: bandwidth");
      goto done;
    }
    double tc = rf_cl_event_span(e1, e1), th = rf_cl_event_span(e2, e2);
    if (r > 0 && tc > 0 && 2.0 * (double)bytes / tc > bw->copy) bw->copy = 2.0 * (double)bytes / tc;
    if (r > 0 && th > 0 && (double)bytes / th > bw->h2d) bw->h2d = (double)bytes / th;
    rf_cl_release(&e1);
    rf_cl_release(&e2);
  }
done:
  rf_cl_pinned_free(cl, pin, host);
  rf_cl_free(cl, a);
  rf_cl_free(cl, b);
  rf_cl_destroy(cl);
  return st;
}

/* `repeat` end-to-end runs of one capture (after one that warms the page
 * cache and FFTW): their times, and the last run's summary. */
#define RF__MAX_RUNS 64
typedef struct rf__runs {
  int n;
  double e2e[RF__MAX_RUNS], stage[RF_STAGE_COUNT][RF__MAX_RUNS];
  double up[RF__MAX_RUNS], down[RF__MAX_RUNS], strm[RF__MAX_RUNS];
  double e2e_med, e2e_lo, e2e_hi;
  rf_run_summary s;
} rf__runs;

static int rf__repeat(const char *name, const char *cap, const char *out, const rf_config *cfg, const char *device,
                      int repeat, rf__runs *r) {
  int st;
  r->n = repeat < RF__MAX_RUNS ? repeat : RF__MAX_RUNS;
  (void)name;
  RF__STAGE("warm-up run");
  st = rf_process_capture_on(cap, out, cfg, device, &r->s);
  rf__stage_done();
  if (st) return st;
  if (r->s.fallback_reason[0]) printf("   (%s: %s)\n", r->s.device, r->s.fallback_reason);
  for (int k = 0; k < r->n; k++) {
    RF__STAGE("run %d of %d", k + 1, r->n);
    st = rf_process_capture_on(cap, out, cfg, device, &r->s);
    rf__stage_done();
    if (st) return st;
    r->e2e[k] = r->s.seconds;
    for (int i = 0; i < RF_STAGE_COUNT; i++) r->stage[i][k] = r->s.stage_s[i];
    r->up[k] = r->s.engine.upload_s;
    r->down[k] = r->s.engine.download_s;
    r->strm[k] = r->s.stream_s;
  }
  r->e2e_lo = r->e2e_hi = r->e2e[0];
  for (int k = 1; k < r->n; k++) {
    if (r->e2e[k] < r->e2e_lo) r->e2e_lo = r->e2e[k];
    if (r->e2e[k] > r->e2e_hi) r->e2e_hi = r->e2e[k];
  }
  r->e2e_med = rf__median(r->e2e, r->n);
  return 0;
}

/* The workload's shape, for the figures: FFT length, bins, beams, samples. */
typedef struct rf__shape {
  size_t l, k, beams;
  double ns, pair;             /* complex input samples of the capture; bytes per sample pair */
} rf__shape;

/* Per stage: median time, rates, bytes moved against the copy bandwidth
 * (device stages against the device's). */
static void rf__stage_figures(const rf__workload *w, const rf__shape *sh, rf__runs *r, int on_cpu, double copy_bw,
                              const rf__dev_bw *dbw, cJSON *j) {
  /* Bytes each stage must move at least (read input once, write output once). */
  const double ns = sh->ns, pair = sh->pair;
  const double bs = (double)sh->beams * (double)(w->pulses * w->samples * w->dwells);
  const double cells = (double)sh->beams * (double)(sh->k * w->samples * w->dwells);
  double bytes[RF_STAGE_COUNT] = {
      [RF_STAGE_read] = ns * pair,
      [RF_STAGE_pulse_compression] = ns * (pair + 8),
      [RF_STAGE_beamforming] = ns * 8 + bs * 8,
      [RF_STAGE_doppler] = bs * 8 + cells * 4,
      [RF_STAGE_cfar] = cells * 4,
      [RF_STAGE_extraction] = 0,
  };
  printf("   threads %d, FFT length %zu, %zu Doppler bins, %zu beams, device %s (%s)\n", omp_get_max_threads(),
         sh->l, sh->k, sh->beams, r->s.device, r->s.device_name);
  printf("   %-18s %10s %12s %10s %10s\n", "stage", "median s", "Msamples/s", "GB/s", "of copy BW");
  cJSON *js = cJSON_AddObjectToObject(j, "stages");
  for (int i = 0; i < RF_STAGE_COUNT; i++) {
    double t = rf__median(r->stage[i], r->n);
    double gbs = t > 0 ? bytes[i] / t / 1e9 : 0;
    int dev_stage = !on_cpu && i != RF_STAGE_read && i != RF_STAGE_extraction;
    double ref = dev_stage ? dbw->copy : copy_bw;
    printf("   %-18s %10.4f %12.1f %10.2f %9.1f%%%s\n", rf_stage_names[i], t, t > 0 ? ns / t / 1e6 : 0, gbs,
           ref > 0 ? 100.0 * gbs * 1e9 / ref : 0, dev_stage ? " (device time)" : "");
    cJSON *o = cJSON_AddObjectToObject(js, rf_stage_names[i]);
    cJSON_AddNumberToObject(o, "seconds", t);
    cJSON_AddNumberToObject(o, "samples_per_second", t > 0 ? ns / t : 0);
    cJSON_AddNumberToObject(o, "bytes", bytes[i]);
    cJSON_AddNumberToObject(o, "bytes_per_second", t > 0 ? bytes[i] / t : 0);
    cJSON_AddNumberToObject(o, "ratio_to_copy_bandwidth", t > 0 && ref > 0 ? bytes[i] / t / ref : 0);
    cJSON_AddBoolToObject(o, "device_time", dev_stage);
  }
  if (on_cpu) return;
  double tu = rf__median(r->up, r->n), td = rf__median(r->down, r->n), ub = ns * pair;
  printf("   %-18s %10.4f %12.1f %10.2f %9.1f%% of host-to-device BW (device time)\n", "upload", tu,
         tu > 0 ? ns / tu / 1e6 : 0, tu > 0 ? ub / tu / 1e9 : 0, tu > 0 && dbw->h2d > 0 ? 100.0 * ub / tu / dbw->h2d : 0);
  printf("   %-18s %10.4f   (candidates only)\n", "download", td);
  cJSON *o = cJSON_AddObjectToObject(js, "upload");
  cJSON_AddNumberToObject(o, "seconds", tu);
  cJSON_AddNumberToObject(o, "bytes", ub);
  cJSON_AddNumberToObject(o, "bytes_per_second", tu > 0 ? ub / tu : 0);
  cJSON_AddNumberToObject(o, "ratio_to_h2d_bandwidth", tu > 0 && dbw->h2d > 0 ? ub / tu / dbw->h2d : 0);
  o = cJSON_AddObjectToObject(js, "download");
  cJSON_AddNumberToObject(o, "seconds", td);
}

/* End to end against its floor: the FFTs alone (cpu) or the pinned
 * host-to-device bandwidth (opencl). A busy machine's ratios are null: not
 * reported. */
static void rf__total_figures(const rf__shape *sh, rf__runs *r, int on_cpu, double fft, const rf__dev_bw *dbw,
                              int busy, cJSON *j) {
  const double ns = sh->ns, in_bps = ns * sh->pair / r->e2e_med;
  printf("   %-18s %10.4f %12.1f %10.2f   (input bytes; min %.4f, max %.4f, %d runs)\n", "end to end", r->e2e_med,
         ns / r->e2e_med / 1e6, in_bps / 1e9, r->e2e_lo, r->e2e_hi, r->n);
  if (on_cpu && busy) {
    printf("   %-18s %10.4f %12.1f   -> pipeline / FFT floor not reported: machine busy\n", "FFTs alone (FFTW)",
           fft, ns / fft / 1e6);
  } else if (on_cpu) {
    printf("   %-18s %10.4f %12.1f   -> pipeline / FFT floor = %.2fx\n", "FFTs alone (FFTW)", fft,
           ns / fft / 1e6, r->e2e_med / fft);
  } else {
    double ts = rf__median(r->strm, r->n), st_bps = ts > 0 ? ns * sh->pair / ts : 0;
    printf("   %-18s %10.4f %12.1f %10.2f   (dwells streamed, without context/program/plan setup)\n", "streamed", ts,
           ts > 0 ? ns / ts / 1e6 : 0, st_bps / 1e9);
    if (busy)
      printf("   input rate / host-to-device bandwidth not reported: machine busy\n");
    else
      printf("   input rate = %.1f%% (end to end) and %.1f%% (streamed) of the pinned host-to-device bandwidth "
             "(%.2f GB/s)\n", dbw->h2d > 0 ? 100.0 * in_bps / dbw->h2d : 0,
             dbw->h2d > 0 ? 100.0 * st_bps / dbw->h2d : 0, dbw->h2d / 1e9);
    cJSON_AddNumberToObject(j, "streamed_seconds_median", ts);
    if (busy)
      cJSON_AddNullToObject(j, "streamed_ratio_to_h2d_bandwidth");
    else
      cJSON_AddNumberToObject(j, "streamed_ratio_to_h2d_bandwidth", dbw->h2d > 0 ? st_bps / dbw->h2d : 0);
  }
  cJSON_AddNumberToObject(j, "threads", omp_get_max_threads());
  cJSON_AddNumberToObject(j, "seconds_median", r->e2e_med);
  cJSON_AddNumberToObject(j, "seconds_min", r->e2e_lo);
  cJSON_AddNumberToObject(j, "seconds_max", r->e2e_hi);
  cJSON_AddNumberToObject(j, "runs", r->n);
  cJSON_AddNumberToObject(j, "samples_per_second", ns / r->e2e_med);
  cJSON_AddNumberToObject(j, "input_bytes_per_second", in_bps);
  if (on_cpu) {
    cJSON_AddNumberToObject(j, "fft_floor_seconds", fft);
    if (busy)
      cJSON_AddNullToObject(j, "ratio_to_fft_floor");
    else
      cJSON_AddNumberToObject(j, "ratio_to_fft_floor", r->e2e_med / fft);
  } else if (busy) {
    cJSON_AddNullToObject(j, "ratio_to_h2d_bandwidth");
  } else {
    cJSON_AddNumberToObject(j, "ratio_to_h2d_bandwidth", dbw->h2d > 0 ? in_bps / dbw->h2d : 0);
  }
}

/* The `big` workload: processed by a child process whose peak RSS counts. */
static int rf__run_big(const rf__workload *w, const char *cap, const char *out, const char *device, int keep,
                       cJSON *j) {
  const double total_samples = (double)(w->channels * w->pulses * w->samples) * (double)w->dwells;
  long rss_kb = 0;
  double secs = 0;
  RF__STAGE("processing in a child process");
  int st = rf__child_rss(cap, out, device, &rss_kb, &secs);
  rf__stage_done();
  if (!keep) remove(cap);
  if (st) return st;
  printf("   end to end %.2f s, %.1f Msamples/s, peak RSS %.1f MB\n", secs, total_samples / secs / 1e6,
         (double)rss_kb / 1024.0);
  cJSON_AddNumberToObject(j, "seconds", secs);
  cJSON_AddNumberToObject(j, "samples_per_second", total_samples / secs);
  cJSON_AddNumberToObject(j, "peak_rss_bytes", (double)rss_kb * 1024.0);
  return 0;
}

/* Writes the workload's capture and describes it in j. */
static int rf__workload_capture(const rf__workload *w, const char *cap, cJSON *j) {
  double tw = rf_now_s();
  RF__STAGE("writing its capture");
  int st = rf__write_capture(w, cap);
  rf__stage_done();
  if (st) return st;
  tw = rf_now_s() - tw;
  struct stat sb;
  if (stat(cap, &sb) < 0) return rf__err(RF_EIO, "bench: %s: %s", cap, strerror(errno));
  cJSON_AddStringToObject(j, "workload", w->name);
  cJSON_AddStringToObject(j, "description", w->what);
  cJSON_AddNumberToObject(j, "channels", (double)w->channels);
  cJSON_AddNumberToObject(j, "pulses_per_dwell", (double)w->pulses);
  cJSON_AddNumberToObject(j, "samples", (double)w->samples);
  cJSON_AddNumberToObject(j, "waveform_samples", (double)w->ref_len);
  cJSON_AddNumberToObject(j, "dwells", (double)w->dwells);
  cJSON_AddStringToObject(j, "sample_type", w->sample_type == RF_SAMPLE_INT16 ? "int16" : "float32");
  cJSON_AddNumberToObject(j, "capture_bytes", (double)sb.st_size);
  printf("\n== %s: %s\n   %zu ch x %zu pulses x %zu samples, %zu dwells, %s, capture %.1f MB (written in %.1f s)\n",
         w->name, w->what, w->channels, w->pulses, w->samples, w->dwells,
         w->sample_type == RF_SAMPLE_INT16 ? "int16" : "float32", (double)sb.st_size / 1e6, tw);
  return 0;
}

/* Settings given with --set (section.key=value), applied to every workload. */
#define RF__MAX_SETS 16
static const char *rf__sets[RF__MAX_SETS];
static int rf__nsets;

/* Beams the engine's fan makes for the capture at path (its default count
 * follows the transmit beam: docs/detection.md). */
static size_t rf__fan_beams(const char *path, const rf_config *cfg) {
  rf_capture *c = NULL;
  rf_fan *f = NULL;
  size_t b = (size_t)(cfg->beams_az > 0 ? cfg->beams_az : 3);
  rf_fan_config fc;
  if (!rf_capture_open(&c, path)) {
    rf_engine_fan_config(rf_capture_get_meta(c), cfg, &fc);
    if (!rf_fan_create(&f, &fc)) b = rf_fan_beams(f);
  }
  rf_fan_destroy(f);
  rf_capture_close(c);
  return b;
}

/* Device-resident figures (--device, --resident N): the workload's first
 * dwell uploaded once, its device stages repeated N times back to back
 * (rf_engine_cl_resident), as MatX's own benchmark measures its pipeline. */
static int rf__run_resident(const rf__workload *w, const rf__shape *sh, const char *cap, const rf_config *cfg,
                            const char *device, int repeats, const rf__dev_bw *dbw, cJSON *j) {
  rf_cl_device_info dev;
  rf_cl *cl = NULL;
  rf_capture *c = NULL;
  rf_engine *e = NULL;
  rf_engine_resident *rr = rf__calloc(1, sizeof *rr);
  int st = rr ? 0 : rf__err(RF_ENOMEM, "bench: out of memory");
  if (st || (st = rf_cl_select(!strcmp(device, "auto") ? "opencl" : device, &dev)) ||
      (st = rf_cl_create(&cl, &dev)) || (st = rf_capture_open(&c, cap)) ||
      (st = rf_engine_create_cl(&e, cl, cfg, c)) || (st = rf_engine_cl_resident(e, 0, repeats, rr)))
    goto done;
  double v[RF_ENGINE_RESIDENT_MAX];
  memcpy(v, rr->cpi_s, (size_t)rr->repeats * sizeof *v);
  double med = rf__median(v, rr->repeats), lo = v[0], hi = v[rr->repeats - 1];
  const double in_bytes = (double)(w->channels * rr->pulses * w->samples) * sh->pair;
  printf("   device-resident (dwell 0 uploaded once, %d repeats back to back, device time):\n", rr->repeats);
  printf("   %-18s %10.3f ms per CPI (min %.3f, max %.3f; back to back %.3f ms); input %.1f GB/s = %.1f%% of "
         "device copy BW\n", "CPI", 1e3 * med, 1e3 * lo, 1e3 * hi, 1e3 * rr->back_to_back_s,
         in_bytes / med / 1e9, dbw->copy > 0 ? 100.0 * in_bytes / med / dbw->copy : 0);
  cJSON *o = cJSON_AddObjectToObject(j, "device_resident");
  cJSON_AddNumberToObject(o, "repeats", rr->repeats);
  cJSON_AddNumberToObject(o, "dwell_pulses", (double)rr->pulses);
  cJSON_AddNumberToObject(o, "cpi_seconds_median", med);
  cJSON_AddNumberToObject(o, "cpi_seconds_min", lo);
  cJSON_AddNumberToObject(o, "cpi_seconds_max", hi);
  cJSON_AddNumberToObject(o, "back_to_back_seconds_per_cpi", rr->back_to_back_s);
  cJSON_AddNumberToObject(o, "input_bytes_per_cpi", in_bytes);
  cJSON_AddNumberToObject(o, "input_ratio_to_device_copy_bandwidth", dbw->copy > 0 ? in_bytes / med / dbw->copy : 0);
  cJSON_AddNumberToObject(o, "candidates", (double)rr->candidates);
  cJSON *js = cJSON_AddObjectToObject(o, "stage_seconds_mean");
  for (int i = 0; i < RF_STAGE_COUNT; i++) {
    if (i == RF_STAGE_read || i == RF_STAGE_extraction) continue;
    printf("   %-18s %10.3f ms (device time, mean)\n", rf_stage_names[i], 1e3 * rr->stage_s[i]);
    cJSON_AddNumberToObject(js, rf_stage_names[i], rr->stage_s[i]);
  }
done:
  rf_engine_destroy(e);
  rf_capture_close(c);
  rf_cl_destroy(cl);
  rf__free(rr);
  return st;
}

static int rf__run_workload(const rf__workload *w, const char *dir, int repeat, int keep, int resident,
                            double copy_bw, const char *device, const rf__dev_bw *dbw, cJSON *jout) {
  const int on_cpu = !strcmp(device, "cpu");
  char cap[4096], out[4096], name[256];
  int st;
  snprintf(name, sizeof name, "bench-%s.h5", w->name);
  if ((st = rf_path_join(cap, sizeof cap, dir, name))) return st;
  snprintf(name, sizeof name, "bench-%s-out", w->name);
  if ((st = rf_path_join(out, sizeof out, dir, name))) return st;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToArray(jout, j);
  if ((st = rf__workload_capture(w, cap, j))) return st;
  if (!strcmp(w->name, "big")) return rf__run_big(w, cap, out, device, keep, j);

  rf_config cfg;
  if ((st = rf__workload_config(w, &cfg))) return st;
  cJSON *sets = cJSON_AddArrayToObject(j, "settings");
  for (int i = 0; i < rf__nsets; i++) {
    if ((st = rf_config_set(&cfg, rf__sets[i]))) return st;
    cJSON_AddItemToArray(sets, cJSON_CreateString(rf__sets[i]));
  }
  rf__runs *r = rf__calloc(1, sizeof *r);
  if (!r) return rf__err(RF_ENOMEM, "bench: out of memory");
  rf__load load0, load1;
  rf__load_sample(&load0);
  if ((st = rf__repeat(w->name, cap, out, &cfg, device, repeat, r))) goto done;
  cJSON_AddStringToObject(j, "device", r->s.device);
  cJSON_AddStringToObject(j, "device_name", r->s.device_name);
  rf__shape sh = {.l = rf_pc_fft_len(w->samples, w->ref_len),
                  .k = rf_pipeline_bins(&cfg, w->pulses),
                  /* the engine's fan (linear array: one elevation beam; per-channel
                     mode: a beam a channel) */
                  .beams = rf__fan_beams(cap, &cfg),
                  .ns = (double)(w->channels * w->pulses * w->samples) * (double)w->dwells,
                  .pair = (double)rf_sample_pair_bytes(w->sample_type)};
  if (on_cpu) RF__STAGE("the FFTs alone (floor)");
  double fft = on_cpu ? rf__fft_floor(w->channels * w->pulses, sh.l, sh.beams * w->samples, sh.k, repeat) *
                            (double)w->dwells
                      : 0;
  rf__stage_done();
  rf__load_sample(&load1);
  const double others = rf__others_cores(&load0, &load1);
  const int busy = others > RF__BUSY_CORES;
  if (busy)
    printf("   machine busy: other processes kept %.2f cores busy (load average %.2f at start, %.2f at end); "
           "times are not meaningful\n", others, load0.loadavg, load1.loadavg);
  cJSON_AddNumberToObject(j, "load_average_start", load0.loadavg);
  cJSON_AddNumberToObject(j, "load_average_end", load1.loadavg);
  cJSON_AddNumberToObject(j, "other_processes_cores", others);
  cJSON_AddBoolToObject(j, "machine_busy", busy);
  rf__stage_figures(w, &sh, r, on_cpu, copy_bw, dbw, j);
  rf__total_figures(&sh, r, on_cpu, fft, dbw, busy, j);
  if (!on_cpu && resident > 0 && (st = rf__run_resident(w, &sh, cap, &cfg, device, resident, dbw, j))) goto done;
  if (!keep) remove(cap);
done:
  rf__free(r);
  return st;
}

/* Whether `name` is one of the comma-separated names in `list`. */
static int rf__wanted(const char *list, const char *name) {
  size_t ln = strlen(name);
  for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
    if ((p == list || p[-1] == ',') && (p[ln] == 0 || p[ln] == ',')) return 1;
  return 0;
}

/* Every name of the comma-separated list is a workload: checked before
 * anything is measured. RF_EINVAL naming the first unknown one, with the
 * nearest name; *count the workloads asked for. */
static int rf__check_workloads(const char *list, size_t *count) {
  const char *names[RF__NWL + RF__NOTHER];
  char known[256] = "", word[64];
  size_t n = 0;
  for (size_t i = 0; i < RF__NWL; i++) names[n++] = rf__workloads[i].name;
  for (size_t i = 0; i < RF__NOTHER; i++) names[n++] = rf__other_workloads[i];
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(known);
    snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", names[i]);
  }
  *count = 0;
  for (const char *p = list;; p++) {
    size_t len = strcspn(p, ",");
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), p);
    int ok = 0;
    for (size_t i = 0; i < n && !ok; i++) ok = !strcmp(word, names[i]);
    if (!ok) {
      const char *near = rf_suggest(word, names, n);
      if (near) return rf__err(RF_EINVAL, "bench: no workload named '%s'; did you mean '%s'? (workloads: %s)", word, near, known);
      return rf__err(RF_EINVAL, "bench: no workload named '%s' (workloads: %s)", word, known);
    }
    (*count)++;
    p += len;
    if (!*p) break;
  }
  return 0;
}

/* The floors measured at the start: host copy bandwidth and, for a device,
 * its copy and pinned host-to-device bandwidths; *root the JSON report. */
static int rf__bench_floors(const char *device, double *bw, rf__dev_bw *dbw, cJSON **root) {
  RF__STAGE("memory copy bandwidth");
  *bw = rf__copy_bandwidth();
  rf__stage_done();
  printf("radarflow %s bench: %d threads, memory copy bandwidth %.2f GB/s (read+write)\n", RF_VERSION,
         omp_get_max_threads(), *bw / 1e9);
  char dname[400] = "FFTW + OpenMP";
  if (strcmp(device, "cpu")) {
    RF__STAGE("device bandwidths");
    int st = rf__device_bandwidth(!strcmp(device, "auto") ? "opencl" : device, dbw, dname, sizeof dname);
    rf__stage_done();
    if (st && strcmp(device, "auto")) return st;
    if (!st)
      printf("device %s: copy bandwidth %.2f GB/s (read+write), pinned host-to-device %.2f GB/s\n", dname,
             dbw->copy / 1e9, dbw->h2d / 1e9);
  }
  *root = cJSON_CreateObject();
  rf_bench_describe_run(*root, device);
  cJSON_AddStringToObject(*root, "version", RF_VERSION);
  cJSON_AddStringToObject(*root, "device", device);
  cJSON_AddStringToObject(*root, "device_name", dname);
  cJSON_AddNumberToObject(*root, "device_copy_bandwidth_bytes_per_second", dbw->copy);
  cJSON_AddNumberToObject(*root, "h2d_bandwidth_bytes_per_second", dbw->h2d);
  cJSON_AddNumberToObject(*root, "threads", omp_get_max_threads());
  cJSON_AddNumberToObject(*root, "copy_bandwidth_bytes_per_second", *bw);
  return 0;
}

static const char rf__help_bench[] =
    "Usage: radarflow bench [--workload W[,W...]] [--device DEV] [--repeat N] [--json FILE]\n"
    "                       [--dir DIR] [--keep] [--resident N] [--quick] [--dwells N] [-q]\n"
    "                       [--set section.key=value ...]\n"
    "Runs benchmark workloads through the whole pipeline and prints, per stage, the\n"
    "median time, rates and bytes moved against the memory copy bandwidth measured\n"
    "in the same run; end to end against the FFTs alone (CPU) or the host-to-device\n"
    "bandwidth (OpenCL). Compare two reports with 'radarflow bench-compare'.\n\n"
    "  -w, --workload LIST  comma-separated: %s (default: all)\n"
    "  -D, --device DEV     cpu (default), auto, opencl, opencl:P:D or a device name\n"
    "                       (see 'radarflow devices')\n"
    "  -r, --repeat N       measured runs per workload, after a warm-up run (default 5)\n"
    "  -j, --json FILE      also write the report as JSON: the machine, build, load\n"
    "                       and every figure (docs/formats.md, bench reports); an\n"
    "                       existing FILE must be an earlier report\n"
    "  -d, --dir DIR        where captures are written, in a folder of their own\n"
    "                       (DIR/radarflow-bench.XXXXXX; DIR default build/bench),\n"
    "                       removed at the end unless --keep\n"
    "      --resident N     on a device, also time the first dwell's device stages N\n"
    "                       times with its samples already on the device (default 20;\n"
    "                       0: not)\n"
    "      --quick          every workload cut to %d channels x %d pulses x %d samples,\n"
    "                       2 dwells (checks the bench itself; its times mean nothing)\n"
    "      --dwells N       every workload's capture gets N dwells (longer streams)\n"
    "  -S, --set S.K=V      a processing setting for every workload, over its own\n"
    "                       (docs/config.md), e.g. beamforming.beams_az=9; repeatable\n"
    "  -q, --quiet          no progress line (the report is still printed)\n";

/* The --json path may be written: absent, or an earlier bench report
 * ("report": "radarflow.bench"); anything else is never overwritten. */
static int rf__json_replaceable(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) < 0) return 0;
  char *txt = NULL;
  size_t len = 0;
  cJSON *r = S_ISREG(sb.st_mode) && !rf_slurp(path, (size_t)64 << 20, &txt, &len) ? cJSON_Parse(txt) : NULL;
  const cJSON *rep = cJSON_GetObjectItemCaseSensitive(r, "report");
  int ours = cJSON_IsString(rep) && !strcmp(rep->valuestring, "radarflow.bench");
  cJSON_Delete(r);
  rf__free(txt);
  rf_errmsg_clear();
  return ours ? 0
              : rf__err(RF_EINVAL, "%s: exists and is not a radarflow bench report; radarflow never overwrites it "
                        "(choose another --json)", path);
}

int rf_bench_main(int argc, char **argv) {
  static const struct option opts[] = {{"workload", required_argument, 0, 'w'},
                                       {"repeat", required_argument, 0, 'r'},
                                       {"json", required_argument, 0, 'j'},
                                       {"dir", required_argument, 0, 'd'},
                                       {"keep", no_argument, 0, 'k'},
                                       {"device", required_argument, 0, 'D'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"resident", required_argument, 0, 'R'},
                                       {"quick", no_argument, 0, 'Q'},
                                       {"dwells", required_argument, 0, 'n'},
                                       {"set", required_argument, 0, 'S'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  static const char shorts[] = "w:r:j:d:kD:S:qR:n:h";
  const char *only = "demo,matx,matx-exact,matx-exact-int16,early-warning,big,tracker,batch", *json = NULL,
             *dir = "build/bench", *device = "cpu";
  int repeat = 5, keep = 0, quiet = 0, resident = 20, quick = 0, dwells = 0, c;
  optind = 1;
  rf__nsets = 0;
  while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
    switch (c) {
    case 'S':
      if (rf__nsets == RF__MAX_SETS) return rf__err(RF_EINVAL, "bench: more than %d --set", RF__MAX_SETS);
      rf__sets[rf__nsets++] = optarg;
      break;
    case 'w': only = optarg; break;
    case 'r': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 1000000) return rf__err(RF_EINVAL, "bench: --repeat needs an integer >= 1");
      repeat = (int)v;
      break;
    }
    case 'j': json = optarg; break;
    case 'd': dir = optarg; break;
    case 'k': keep = 1; break;
    case 'D': device = optarg; break;
    case 'q': quiet = 1; break;
    case 'R': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 0 || v > RF_ENGINE_RESIDENT_MAX)
        return rf__err(RF_EINVAL, "bench: --resident must be an integer in [0, %d]", RF_ENGINE_RESIDENT_MAX);
      resident = (int)v;
      break;
    }
    case 'Q': quick = 1; break;
    case 'n': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 100000) return rf__err(RF_EINVAL, "bench: --dwells must be an integer in [1, 100000]");
      dwells = (int)v;
      break;
    }
    case 'h': {
      char names[256] = "";
      for (size_t i = 0; i < RF__NWL + RF__NOTHER; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "",
                 i < RF__NWL ? rf__workloads[i].name : rf__other_workloads[i - RF__NWL]);
      }
      printf(rf__help_bench, names, RF__QUICK_CHANNELS, RF__QUICK_PULSES, RF__QUICK_SAMPLES);
      return 0;
    }
    default: return rf_cli_option_error("bench", argv, shorts, opts);
    }
  }
  if (optind != argc) return rf__err(RF_EINVAL, "bench: unexpected argument '%s' (see 'radarflow bench --help')", argv[optind]);
  size_t nwork;
  int st = rf__check_workloads(only, &nwork);
  if (st || (json && (st = rf__json_replaceable(json))) || (st = rf_mkdirs(dir))) return st;
  /* Everything bench writes goes into a folder of its own under DIR, so no
   * file already in DIR is ever overwritten or removed. */
  char scratch[4096];
  if (snprintf(scratch, sizeof scratch, "%s/radarflow-bench.XXXXXX", dir) >= (int)sizeof scratch)
    return rf__err(RF_EINVAL, "%s: path too long", dir);
  if (!mkdtemp(scratch)) return rf__err(RF_EIO, "%s: cannot create a folder in it: %s", dir, strerror(errno));
  dir = scratch;
  rf_progress_opts po = {.mode = quiet ? RF_PROGRESS_NONE : rf_progress_auto_mode(), .label = "bench",
                         .plain_every_s = 5};
  if ((st = rf_progress_create(&rf__prog, &po))) return st;
  fftwf_init_threads();
  double bw;
  rf__dev_bw dbw = {0, 0};
  cJSON *root = NULL;
  size_t done = 0;
  if ((st = rf__bench_floors(device, &bw, &dbw, &root))) goto out;
  cJSON_AddBoolToObject(root, "quick", quick);
  cJSON_AddNumberToObject(root, "resident_repeats", resident);
  cJSON *arr = cJSON_AddArrayToObject(root, "workloads");
  for (size_t i = 0; i < RF__NWL && !st; i++) {
    if (!rf__wanted(only, rf__workloads[i].name)) continue;
    snprintf(rf__wl, sizeof rf__wl, "%s (%zu of %zu)", rf__workloads[i].name, ++done, nwork);
    rf__workload w = rf__workloads[i];
    if (quick) {
      w.channels = RF__QUICK_CHANNELS;
      w.pulses = RF__QUICK_PULSES;
      w.samples = RF__QUICK_SAMPLES;
      w.ref_len = w.ref_len < 64 ? w.ref_len : 64;
      w.dwells = 2;
    }
    if (dwells) w.dwells = (size_t)dwells;
    st = rf__run_workload(&w, dir, repeat, keep, resident, bw, device, &dbw, arr);
    fflush(stdout);
  }
  /* Plots per second through the tracker; captures per second in a batch.
   * They print as they go: no live line over them. */
  if (!st && rf__wanted(only, "tracker")) {
    rf__stage_done();
    st = rf_bench_tracker(dir, arr);
    fflush(stdout);
  }
  if (!st && rf__wanted(only, "batch")) {
    rf__stage_done();
    st = rf_bench_batch(dir, 200, 0, arr);
    fflush(stdout);
  }
  rf_bench_finish_run(root);
  if (!st && json) {
    char *txt = cJSON_Print(root);
    st = txt ? rf_write_file_atomic(json, txt, strlen(txt)) : rf__err(RF_ENOMEM, "bench: out of memory");
    if (txt) cJSON_free(txt);
    if (!st) printf("\nwrote %s\n", json);
  }
out:
  if (keep) printf("captures kept in %s\n", scratch);
  else rf_remove_tree(scratch);
  rf_progress_destroy(rf__prog);
  rf__prog = NULL;
  rf__wl[0] = 0;
  cJSON_Delete(root);
  return st;
}
