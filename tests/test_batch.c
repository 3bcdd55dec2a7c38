/* radarflow batch: inputs and shards (in-process), then the CLI end to end -
 * a folder of good and bad captures (every bad one failed with its reason,
 * a worker crash contained), SIGKILL at random moments then --resume giving
 * byte-identical products, SIGTERM stopping cleanly, --resume redoing only
 * what changed, shards merged, full disk and read-only output, exit codes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../pipelines/rf_batch.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

/* SIGKILL rounds of the resume test; each kills one batch at a random moment
 * of a reference run's duration (fixed seed). */
#define RF_BATCH_KILL_ROUNDS 3
#define RF_BATCH_KILL_SEED 20240501u

/* ---- running the CLI with limits ---------------------------------------------------- */
typedef struct rf__run_opts {
  const char *log;    /* stdout and stderr (NULL: /dev/null) */
  long fsize_limit;   /* RLIMIT_FSIZE bytes, 0: none */
  int drop_dac;       /* drop CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (root only) */
} rf__run_opts;

static pid_t rf__start(const rf__run_opts *o, const char *const *args) {
  const char *argv[64];
  size_t n = 0;
  argv[n++] = rf_test_bin();
  for (; args[n - 1] && n < 63; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(o && o->log ? o->log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (o && o->fsize_limit) {
      struct rlimit rl = {(rlim_t)o->fsize_limit, (rlim_t)o->fsize_limit};
      signal(SIGXFSZ, SIG_IGN); /* writes fail with EFBIG instead */
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (o && o->drop_dac && geteuid() == 0) {
      /* Root reads any file; without these capabilities (also dropped from
       * the bounding set, so exec does not give them back) mode 000 holds. */
      prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0);
      prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

static int rf__finish(pid_t pid) {
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
}

static int rf__run(const rf__run_opts *o, ...) {
  const char *args[64];
  size_t n = 0;
  va_list ap;
  va_start(ap, o);
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < 62) args[n++] = a;
  va_end(ap);
  args[n] = NULL;
  pid_t pid = rf__start(o, args);
  ck_assert_int_gt(pid, 0);
  return rf__finish(pid);
}

static cJSON *rf__load_json(const char *path) {
  char *t = rf_test_read_file(path, NULL);
  ck_assert_msg(t != NULL, "cannot read %s", path);
  cJSON *j = cJSON_Parse(t);
  ck_assert_msg(j != NULL, "%s: not JSON", path);
  free(t);
  return j;
}

static cJSON *rf__capture_entry(cJSON *summary, const char *name) {
  cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(summary, "captures")) {
    if (!strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name)) return c;
  }
  return NULL;
}

static const char *rf__status(cJSON *summary, const char *name) {
  cJSON *c = rf__capture_entry(summary, name);
  ck_assert_msg(c != NULL, "summary lacks %s", name);
  return cJSON_GetObjectItem(c, "status")->valuestring;
}

/* A small good capture; seed changes the samples. */
static void rf__good(const char *dir, const char *name, uint32_t seed, size_t channels, size_t pulses,
                     size_t samples) {
  char p[512];
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.seed = seed;
  if (channels) o.channels = channels;
  if (pulses) o.pulses = pulses;
  if (samples) o.samples = samples;
  ck_assert_int_eq(rf_test_write_capture(rf_test_join(p, sizeof p, dir, name), &o), 0);
}

/* Entries of root that are temporaries (.<name>.tmp.* / .old.*). */
static size_t rf__temporaries(const char *root) {
  return rf_test_count_entries(root, ".tmp.") + rf_test_count_entries(root, ".old.");
}

/* ---- in-process: inputs, names, shards ---------------------------------------------- */
START_TEST(batch_expand_inputs) {
  char dir[512], sub[512], other[512], p[512], man[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_expand");
  rf_test_join(sub, sizeof sub, dir, "caps");
  rf_test_join(other, sizeof other, dir, "other");
  rf_test_mkdir_p(sub);
  rf_test_mkdir_p(other);
  rf_test_join(p, sizeof p, sub, "deeper");
  rf_test_mkdir_p(p);
  const char *files[] = {"caps/b.h5", "caps/a.h5", "caps/.hidden.h5", "caps/notes.txt", "caps/deeper/c.h5",
                         "other/a.h5"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    FILE *f = fopen(rf_test_join(p, sizeof p, dir, files[i]), "w");
    ck_assert_ptr_nonnull(f);
    fputs("x", f);
    fclose(f);
  }
  /* A manifest: comments, blanks, relative paths, a repeat of caps/a.h5
   * under another spelling, a same-named file elsewhere, a missing file. */
  rf_test_join(man, sizeof man, dir, "night.txt");
  FILE *f = fopen(man, "w");
  fputs("# tonight\n\n  caps/deeper/c.h5  \ncaps/./a.h5\nother/a.h5\r\nmissing.h5\n", f);
  fclose(f);
  const char *in[] = {sub, man};
  rf_batch_list l;
  ck_assert_int_eq(rf_batch_expand(&l, in, 2, NULL), 0);
  /* caps/a.h5, caps/b.h5, caps/deeper/c.h5, missing.h5, other/a.h5 */
  ck_assert_uint_eq(l.n, 5);
  ck_assert_uint_eq(l.total, 5);
  for (size_t i = 1; i < l.n; i++) ck_assert_int_lt(strcmp(l.v[i - 1].input, l.v[i].input), 0);
  ck_assert_str_eq(l.v[0].name, "a");
  ck_assert_str_eq(l.v[1].name, "b");
  ck_assert_str_eq(l.v[2].name, "c");
  ck_assert_str_eq(l.v[3].name, "missing");
  ck_assert_str_eq(l.v[4].name, "a-2"); /* the later holder of a name gets a suffix */
  ck_assert_ptr_nonnull(strstr(l.v[4].input, "other/a.h5"));
  rf_batch_list_free(&l);
  /* A missing command-line input is bad usage. */
  const char *bad[] = {"/nonexistent/folder"};
  ck_assert_int_eq(rf_batch_expand(&l, bad, 1, NULL), RF_EINVAL);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "/nonexistent/folder"));
  rf_batch_list_free(NULL);
}
END_TEST

START_TEST(batch_shards_partition) {
  size_t k, n;
  ck_assert_int_eq(rf_batch_parse_shard("2/5", &k, &n), 0);
  ck_assert_uint_eq(k, 2);
  ck_assert_uint_eq(n, 5);
  const char *bad[] = {"5/5", "-1/2", "1/0", "a/b", "1/2x", "", "1", "1/-2"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(rf_batch_parse_shard(bad[i], &k, &n) == RF_EINVAL, "accepted '%s'", bad[i]);
  char dir[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_shards_unit");
  for (int i = 0; i < 17; i++) {
    char name[32];
    snprintf(name, sizeof name, "c%02d.h5", i);
    FILE *f = fopen(rf_test_join(p, sizeof p, dir, name), "w");
    fputs("x", f);
    fclose(f);
  }
  const char *in[] = {dir};
  for (size_t nn = 1; nn <= 6; nn++) {
    int seen[17] = {0};
    for (size_t kk = 0; kk < nn; kk++) {
      rf_batch_list l;
      ck_assert_int_eq(rf_batch_expand(&l, in, 1, NULL), 0);
      rf_batch_shard(&l, kk, nn);
      ck_assert_uint_eq(l.total, 17);
      /* Slices differ in size by at most one. */
      ck_assert_uint_ge(l.n, 17 / nn);
      ck_assert_uint_le(l.n, 17 / nn + 1);
      for (size_t i = 0; i < l.n; i++) seen[l.v[i].index]++;
      rf_batch_list_free(&l);
    }
    for (int i = 0; i < 17; i++) ck_assert_msg(seen[i] == 1, "N=%zu: item %d in %d shards", nn, i, seen[i]);
  }
}
END_TEST

/* ---- the CLI ---------------------------------------------------------------------- */
START_TEST(batch_usage_and_exit_codes) {
  char dir[512], out[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_usage");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf__run_opts o = {.log = log};
  rf__good(dir, "ok.h5", 1, 0, 0, 0);
  ck_assert_int_eq(rf__run(&o, "batch", "--help", NULL), 0);
  ck_assert_int_eq(rf__run(&o, "batch-merge", "--help", NULL), 0);
  ck_assert_int_eq(rf__run(&o, "batch", dir, NULL), 2);                               /* no -o */
  ck_assert_int_eq(rf__run(&o, "batch", "-o", out, NULL), 2);                         /* no input */
  ck_assert_int_eq(rf__run(&o, "batch", dir, "-o", out, "--shard", "3/3", NULL), 2);  /* bad shard */
  ck_assert_int_eq(rf__run(&o, "batch", dir, "-o", out, "--jobs", "0", NULL), 2);
  ck_assert_int_eq(rf__run(&o, "batch", dir, "-o", out, "--set", "cfar.pfa=7", NULL), 2);
  ck_assert_int_eq(rf__run(&o, "batch", "/nonexistent.h5", "-o", out, NULL), 2);
  ck_assert_int_eq(rf__run(&o, "batch", dir, "-o", out, "--bogus", NULL), 2);
  ck_assert_int_eq(rf__run(&o, "batch-merge", out, NULL), 2); /* no shard summaries */
  ck_assert(!rf_test_file_exists(out) || rf_test_count_entries(out, NULL) == 0);
  ck_assert_int_eq(rf__run(&o, "batch", dir, "-o", out, "-q", NULL), 0);
  char p[512];
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, "ok/plots.h5")));
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, "ok/" RF_BATCH_MARKER)));
}
END_TEST

START_TEST(batch_bad_captures) {
  char dir[512], caps[512], out[512], log[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_bad");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  rf__good(caps, "good1.h5", 1, 0, 0, 0);
  rf__good(caps, "good2.h5", 2, 0, 0, 0);
  rf__good(caps, "zz_good3.h5", 3, 0, 0, 0); /* sorted after the crash */
  size_t nbad = rf_test_bad_capture_count();
  const char *fields[64];
  char names[64][96];
  for (size_t i = 0; i < nbad; i++) {
    const char *kind;
    ck_assert_int_eq(rf_test_make_bad_capture(i, caps, p, sizeof p, &kind, &fields[i]), 0);
    snprintf(names[i], sizeof names[i], "bad_%s", kind);
  }
  /* NaN samples in a float32 capture. */
  {
    rf_test_capture tc;
    rf_test_capture_opts o = rf_test_capture_defaults();
    o.sample_type = RF_SAMPLE_FLOAT32;
    ck_assert_int_eq(rf_test_capture_build(&tc, &o), 0);
    ((float *)tc.raw)[5 * o.channels * o.samples * 2 + 17] = NAN;
    ck_assert_int_eq(rf_test_capture_write(&tc, rf_test_join(p, sizeof p, caps, "nan_samples.h5")), 0);
    rf_test_capture_free(&tc);
  }
  /* Unreadable: mode 000 (the batch runs without the capabilities that let
   * root read it anyway). */
  rf__good(caps, "unreadable.h5", 4, 0, 0, 0);
  ck_assert_int_eq(chmod(rf_test_join(p, sizeof p, caps, "unreadable.h5"), 0), 0);
  /* A file that crashes libhdf5 itself (found by fuzzing raw bytes): its
   * worker dies, the capture fails, a new worker takes the rest. */
  char crasher[512];
  ck_assert_int_eq(rf_test_copy_file("tests/fuzz/hdf5-crashers/global_heap_segv.h5",
                                     rf_test_join(crasher, sizeof crasher, caps, "hdf5_crash.h5"), -1),
                   0);
  /* A FIFO named like a capture is skipped by folder search; given by name
   * it fails without hanging the batch. */
  char fifo[512];
  ck_assert_int_eq(mkfifo(rf_test_join(fifo, sizeof fifo, dir, "fifo.h5"), 0644), 0);

  rf__run_opts o = {.log = log, .drop_dac = 1};
  int code = rf__run(&o, "batch", caps, fifo, "-o", out, "-j", "2", NULL);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_msg(code == 1, "exit %d: %s", code, txt);
  free(txt);
  chmod(rf_test_join(p, sizeof p, caps, "unreadable.h5"), 0644);

  cJSON *s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));
  cJSON *tot = cJSON_GetObjectItem(s, "totals");
  size_t expect_failed = nbad + 4; /* + NaN, unreadable, crasher, FIFO */
  ck_assert_int_eq(cJSON_GetObjectItem(tot, "captures")->valueint, (int)(expect_failed + 3));
  ck_assert_int_eq(cJSON_GetObjectItem(tot, "done")->valueint, 3);
  ck_assert_int_eq(cJSON_GetObjectItem(tot, "failed")->valueint, (int)expect_failed);
  const char *good[] = {"good1", "good2", "zz_good3"};
  for (int i = 0; i < 3; i++) {
    cJSON *c = rf__capture_entry(s, good[i]);
    ck_assert_str_eq(rf__status(s, good[i]), "done");
    ck_assert_int_eq(cJSON_GetObjectItem(c, "dwells")->valueint, 3);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(c, "plots")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(c, "seconds")));
    ck_assert_str_eq(cJSON_GetObjectItem(c, "device")->valuestring, "cpu");
    ck_assert(cJSON_GetObjectItem(c, "tracks") != NULL);
    ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, good[i])));
  }
  struct {
    const char *name, *why;
  } extra[] = {{"nan_samples", "not finite"},
               {"unreadable", "Permission denied"},
               {"hdf5_crash", "corrupt"},
               {"fifo", "not a regular file"}};
  for (size_t i = 0; i < 4; i++) {
    ck_assert_str_eq(rf__status(s, extra[i].name), "failed");
    const char *err = cJSON_GetObjectItem(rf__capture_entry(s, extra[i].name), "error")->valuestring;
    ck_assert_msg(strstr(err, extra[i].why), "%s: '%s' lacks '%s'", extra[i].name, err, extra[i].why);
  }
  for (size_t i = 0; i < nbad; i++) {
    ck_assert_str_eq(rf__status(s, names[i]), "failed");
    const char *err = cJSON_GetObjectItem(rf__capture_entry(s, names[i]), "error")->valuestring;
    ck_assert_msg(strstr(err, fields[i]) && strstr(err, names[i]), "%s: '%s' lacks %s", names[i], err, fields[i]);
    ck_assert_msg(!rf_test_file_exists(rf_test_join(p, sizeof p, out, names[i])), "%s: product left", names[i]);
  }
  /* Only the three product folders and the summary; no temporaries. */
  ck_assert_uint_eq(rf_test_count_entries(out, NULL), 4);
  ck_assert_uint_eq(rf__temporaries(out), 0);
  cJSON_Delete(s);
}
END_TEST

/* Compares every product file of two product folders except run.json (wall
 * times) and the resume marker (it records run.json's size). */
static void rf__same_products(const char *a, const char *b) {
  const char *files[] = {"plots.h5",   "plots.csv",  "tracks.h5",  "tracks.csv",
                         "plots.ast",  "tracks.ast", "plots.pcap", "tracks.pcap"};
  char pa[512], pb[512];
  int compared = 0;
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    rf_test_join(pa, sizeof pa, a, files[i]);
    rf_test_join(pb, sizeof pb, b, files[i]);
    ck_assert_int_eq(rf_test_file_exists(pa), rf_test_file_exists(pb));
    if (!rf_test_file_exists(pa)) continue;
    size_t na, nb;
    char *x = rf_test_read_file(pa, &na), *y = rf_test_read_file(pb, &nb);
    ck_assert_msg(x && y && na == nb && !memcmp(x, y, na), "%s and %s differ", pa, pb);
    free(x);
    free(y);
    compared++;
  }
  ck_assert_int_ge(compared, 2);
}

START_TEST(batch_sigkill_then_resume_is_identical) {
  char dir[512], caps[512], ref[512], out[512], log[512], p[512], q[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_kill");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(ref, sizeof ref, dir, "ref");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  const int ncap = 8;
  for (int i = 0; i < ncap; i++) {
    char name[32];
    snprintf(name, sizeof name, "cap%d.h5", i);
    rf__good(caps, name, 10 + (uint32_t)i, 8, 192, 1024);
  }
  rf__run_opts o = {.log = log};
  double t0 = rf_now_s();
  ck_assert_int_eq(rf__run(&o, "batch", caps, "-o", ref, "-j", "2", NULL), 0);
  double ref_s = rf_now_s() - t0;
  uint64_t rng = RF_BATCH_KILL_SEED;
  int killed = 0;
  for (int round = 0; round < RF_BATCH_KILL_ROUNDS; round++) {
    char name[32];
    snprintf(name, sizeof name, "out%d", round);
    rf_test_join(out, sizeof out, dir, name);
    /* A moment inside the run: start-up, mid-capture or mid-rename. */
    double at = ref_s * (0.05 + 0.55 * rf_test_uniform(&rng));
    const char *args[] = {"batch", caps, "-o", out, "-j", "2", NULL};
    pid_t pid = rf__start(&o, args);
    struct timespec ts = {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int killed_code = rf__finish(pid);
    /* A run faster than the reference may finish first; that round then
     * only checks --resume over a complete output. */
    ck_assert(killed_code == 128 + SIGKILL || killed_code == 0);
    killed += killed_code == 128 + SIGKILL;
    /* Whatever is in place is complete: every folder has its marker. */
    int code = rf__run(&o, "batch", caps, "-o", out, "-j", "2", "--resume", NULL);
    char *txt = rf_test_read_file(log, NULL);
    ck_assert_msg(code == 0, "round %d (kill at %.3f s of %.3f): exit %d: %s", round, at, ref_s, code, txt);
    free(txt);
    ck_assert_uint_eq(rf__temporaries(out), 0);
    for (int i = 0; i < ncap; i++) {
      snprintf(name, sizeof name, "cap%d", i);
      rf__same_products(rf_test_join(p, sizeof p, ref, name), rf_test_join(q, sizeof q, out, name));
    }
    cJSON *s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));
    cJSON *tot = cJSON_GetObjectItem(s, "totals");
    ck_assert_int_eq(cJSON_GetObjectItem(tot, "done")->valueint + cJSON_GetObjectItem(tot, "skipped")->valueint,
                     ncap);
    cJSON_Delete(s);
  }
  ck_assert_msg(killed >= 1, "no round was killed before it finished (reference %.3f s)", ref_s);
}
END_TEST

START_TEST(batch_sigterm_stops_cleanly) {
  char dir[512], caps[512], out[512], log[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_term");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  /* One capture long enough (about 0.5 s on one core) that the signal
   * lands while it is processed. */
  rf__good(caps, "long.h5", 5, 4, 6000, 256);
  rf__run_opts o = {.log = log};
  const char *args[] = {"batch", caps, "-o", out, "-j", "1", "-v", "--progress", "plain", NULL};
  pid_t pid = rf__start(&o, args);
  /* Wait until the worker runs. */
  for (int i = 0; i < 1000; i++) {
    char *t = rf_test_read_file(log, NULL);
    int up = t && strstr(t, "worker 0 started");
    free(t);
    if (up) break;
    usleep(2000);
  }
  double t0 = rf_now_s();
  kill(pid, SIGTERM);
  int code = rf__finish(pid);
  double stop_s = rf_now_s() - t0;
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_msg(code == 130, "exit %d: %s", code, txt);
  free(txt);
  cJSON *s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));
  ck_assert_str_eq(rf__status(s, "long"), "interrupted");
  cJSON_Delete(s);
  ck_assert(!rf_test_file_exists(rf_test_join(p, sizeof p, out, "long")));
  ck_assert_uint_eq(rf__temporaries(out), 0);
  ck_assert_uint_eq(rf_test_count_entries(out, NULL), 1); /* the summary only */
  /* Stops between dwells: well before the capture would have finished. */
  ck_assert_msg(stop_s < 5.0, "took %.2f s to stop", stop_s);
}
END_TEST

START_TEST(batch_resume_redoes_what_changed) {
  char dir[512], caps[512], out[512], log[512], p[512], c2[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_resume");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  rf__good(caps, "c1.h5", 1, 0, 0, 0);
  rf__good(caps, "c2.h5", 2, 0, 0, 0);
  rf__good(caps, "c3.h5", 3, 0, 0, 0);
  rf__run_opts o = {.log = log};
  ck_assert_int_eq(rf__run(&o, "batch", caps, "-o", out, NULL), 0);
  struct stat before, after;
  ck_assert_int_eq(stat(rf_test_join(p, sizeof p, out, "c1/plots.h5"), &before), 0);

#define RF__RESUME(...)                                                                   \
  do {                                                                                    \
    ck_assert_int_eq(rf__run(&o, "batch", caps, "-o", out, "--resume", __VA_ARGS__), 0);  \
    if (s) cJSON_Delete(s);                                                               \
    s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));                     \
  } while (0)
  cJSON *s = NULL;
  RF__RESUME(NULL);
  ck_assert_str_eq(rf__status(s, "c1"), "skipped");
  ck_assert_str_eq(rf__status(s, "c2"), "skipped");
  ck_assert_str_eq(rf__status(s, "c3"), "skipped");
  ck_assert_int_eq(cJSON_GetObjectItem(rf__capture_entry(s, "c1"), "dwells")->valueint, 3);
  ck_assert_int_eq(stat(rf_test_join(p, sizeof p, out, "c1/plots.h5"), &after), 0);
  ck_assert(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

  /* Same size and mtime, other content: the header hash tells. */
  struct stat old;
  ck_assert_int_eq(stat(rf_test_join(c2, sizeof c2, caps, "c2.h5"), &old), 0);
  rf__good(caps, "c2.h5", 22, 0, 0, 0);
  ck_assert_int_eq(rf_test_file_size(c2), (long long)old.st_size);
  struct timespec tv[2] = {old.st_atim, old.st_mtim};
  ck_assert_int_eq(utimensat(AT_FDCWD, c2, tv, 0), 0);
  RF__RESUME(NULL);
  ck_assert_str_eq(rf__status(s, "c1"), "skipped");
  ck_assert_str_eq(rf__status(s, "c2"), "done");
  ck_assert_str_eq(rf__status(s, "c3"), "skipped");

  /* A new modification time alone. */
  struct timespec later[2] = {{0, UTIME_NOW}, {old.st_mtim.tv_sec + 10, 0}};
  ck_assert_int_eq(utimensat(AT_FDCWD, rf_test_join(p, sizeof p, caps, "c3.h5"), later, 0), 0);
  RF__RESUME(NULL);
  ck_assert_str_eq(rf__status(s, "c2"), "skipped");
  ck_assert_str_eq(rf__status(s, "c3"), "done");

  /* A product removed by hand. */
  ck_assert_int_eq(unlink(rf_test_join(p, sizeof p, out, "c1/plots.csv")), 0);
  RF__RESUME(NULL);
  ck_assert_str_eq(rf__status(s, "c1"), "done");
  ck_assert_str_eq(rf__status(s, "c2"), "skipped");
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, "c1/plots.csv")));

  /* Threads do not change products; a setting that does redoes all. */
  RF__RESUME("--set", "run.threads=1", NULL);
  ck_assert_uint_eq((size_t)cJSON_GetObjectItem(cJSON_GetObjectItem(s, "totals"), "skipped")->valueint, 3);
  RF__RESUME("--set", "cfar.pfa=1e-5", NULL);
  ck_assert_uint_eq((size_t)cJSON_GetObjectItem(cJSON_GetObjectItem(s, "totals"), "done")->valueint, 3);
  cJSON_Delete(s);
  ck_assert_uint_eq(rf__temporaries(out), 0);
#undef RF__RESUME
}
END_TEST

START_TEST(batch_shards_merge_cover_once) {
  char dir[512], caps[512], out[512], log[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_shard");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  const int ncap = 7, nshard = 3;
  for (int i = 0; i < ncap; i++) {
    char name[32];
    snprintf(name, sizeof name, "s%d.h5", i);
    rf__good(caps, name, 30 + (uint32_t)i, 0, 0, 0);
  }
  rf__run_opts o = {.log = log};
  for (int k = 0; k < nshard; k++) {
    char sh[16];
    snprintf(sh, sizeof sh, "%d/%d", k, nshard);
    ck_assert_int_eq(rf__run(&o, "batch", caps, "-o", out, "--shard", sh, "-j", "1", NULL), 0);
  }
  ck_assert(!rf_test_file_exists(rf_test_join(p, sizeof p, out, "summary.json")));
  ck_assert_int_eq(rf__run(&o, "batch-merge", out, NULL), 0);
  cJSON *s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(s, "complete")));
  ck_assert_int_eq(cJSON_GetObjectItem(s, "shards")->valueint, nshard);
  cJSON *arr = cJSON_GetObjectItem(s, "captures"), *c;
  ck_assert_int_eq(cJSON_GetArraySize(arr), ncap);
  int i = 0;
  cJSON_ArrayForEach(c, arr) {
    char name[32];
    snprintf(name, sizeof name, "s%d", i);
    ck_assert_int_eq(cJSON_GetObjectItem(c, "index")->valueint, i);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "name")->valuestring, name);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "status")->valuestring, "done");
    ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, name)));
    i++;
  }
  cJSON_Delete(s);
  /* A missing shard: the merge says so and exits 1. */
  ck_assert_int_eq(unlink(rf_test_join(p, sizeof p, out, "summary.shard-2-of-3.json")), 0);
  ck_assert_int_eq(rf__run(&o, "batch-merge", out, NULL), 1);
  s = rf__load_json(rf_test_join(p, sizeof p, out, "summary.json"));
  ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(s, "complete")));
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "missing_shards")), 1);
  cJSON_Delete(s);
}
END_TEST

/* A private mount namespace, so test mounts vanish with the test process. */
static int rf__private_mounts(void) {
  if (unshare(CLONE_NEWNS) < 0) return -1;
  return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

START_TEST(batch_full_disk_and_read_only_output) {
  char dir[512], caps[512], out[512], log[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "batch_disk");
  rf_test_join(caps, sizeof caps, dir, "caps");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_test_mkdir_p(caps);
  rf__good(caps, "d1.h5", 1, 0, 0, 0);
  rf__good(caps, "d2.h5", 2, 0, 0, 0);
  int mounts = rf__private_mounts() == 0;

  /* Full disk: a small tmpfs, or when mounting is not allowed a file size
   * limit (EFBIG instead of ENOSPC). */
  rf_test_join(out, sizeof out, dir, "full");
  rf_test_mkdir_p(out);
  const char *why = "File too large";
  rf__run_opts o = {.log = log};
  if (mounts && mount("tmpfs", out, "tmpfs", 0, "size=64k") == 0) {
    why = "No space left on device";
    /* Leave a few pages: some product files fit, the rest do not. */
    FILE *f = fopen(rf_test_join(p, sizeof p, out, "filler"), "w");
    static char page[4096];
    while (f && fwrite(page, 1, sizeof page, f) == sizeof page && fflush(f) == 0) {}
    if (f) fclose(f);
    truncate(p, rf_test_file_size(p) - 3 * 4096);
  } else {
    o.fsize_limit = 4096;
  }
  int code = rf__run(&o, "batch", caps, "-o", out, NULL);
  char *txt = rf_test_read_file(log, NULL);
  ck_assert_msg(code == 1, "full disk: exit %d: %s", code, txt);
  ck_assert_msg(strstr(txt, why), "full disk: '%s' not reported: %s", why, txt);
  free(txt);
  ck_assert(!rf_test_file_exists(rf_test_join(p, sizeof p, out, "d1")));
  ck_assert(!rf_test_file_exists(rf_test_join(p, sizeof p, out, "d2")));
  ck_assert_uint_eq(rf__temporaries(out), 0);
  if (!o.fsize_limit) umount2(out, MNT_DETACH);

  /* Read-only output folder: a read-only mount, or a folder without write
   * permission when not root. */
  rf_test_join(out, sizeof out, dir, "ro");
  rf_test_mkdir_p(out);
  if (mounts && mount("tmpfs", out, "tmpfs", MS_RDONLY, "size=64k") == 0) why = "Read-only file system";
  else if (geteuid() != 0 && chmod(out, 0555) == 0) why = "Permission denied";
  else why = NULL;
  if (why) {
    o.fsize_limit = 0;
    code = rf__run(&o, "batch", caps, "-o", out, NULL);
    txt = rf_test_read_file(log, NULL);
    ck_assert_msg(code == 1, "read-only: exit %d: %s", code, txt);
    ck_assert_msg(strstr(txt, why) && strstr(txt, out), "read-only: '%s' not reported: %s", why, txt);
    free(txt);
    ck_assert_uint_eq(rf_test_count_entries(out, NULL), 0);
    if (mounts) umount2(out, MNT_DETACH);
    chmod(out, 0755);
  } else {
    fprintf(stderr, "batch_full_disk_and_read_only_output: read-only case skipped (no mount, root)\n");
  }
}
END_TEST

Suite *test_batch_suite(void) {
  Suite *s = suite_create("test_batch_suite");
  TCase *tc = tcase_create("batch");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, batch_expand_inputs);
  tcase_add_test(tc, batch_shards_partition);
  tcase_add_test(tc, batch_usage_and_exit_codes);
  tcase_add_test(tc, batch_bad_captures);
  tcase_add_test(tc, batch_sigkill_then_resume_is_identical);
  tcase_add_test(tc, batch_sigterm_stops_cleanly);
  tcase_add_test(tc, batch_resume_redoes_what_changed);
  tcase_add_test(tc, batch_shards_merge_cover_once);
  tcase_add_test(tc, batch_full_disk_and_read_only_output);
  suite_add_tcase(s, tc);
  return s;
}
