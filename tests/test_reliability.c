/* radarflow reliability: the eleven cases of issue 9, each written from its
 * description and asserting the safe outcome - inputs, user files and old
 * products intact, the exit code, a message naming the file and the field,
 * and a bounded time (docs/reliability.md). The CLI is run as a user runs
 * it; captures are made with the test capture writer and then damaged with
 * the HDF5 C library. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../host/rf_files.h"
#include "rf_testutil.h"

/* Longest a refused run may take: the checks come before any work. */
#define RF_QUICK_S 20.0

/* ---- running the CLI, bounded --------------------------------------------------------- */
typedef struct rf__run {
  const char *log;      /* stdout + stderr */
  const char *env;      /* "NAME=value" put in the child's environment, or NULL */
  const char *env2;     /* a second one */
  long fsize;           /* RLIMIT_FSIZE, 0 none */
  int drop_dac;         /* root without CAP_DAC_OVERRIDE (mode bits hold) */
  double kill_after_s;  /* send `sig` after this long (0: never) */
  int sig;
  double seconds;       /* out: wall time */
} rf__run;

static double rf__now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Runs the CLI with NULL-terminated arguments; exit status, 128 + signal
 * when killed; fails the test when it runs for more than 90 s. */
static int rf__cli(rf__run *o, ...) {
  const char *argv[64];
  size_t n = 0;
  argv[n++] = rf_test_bin();
  va_list ap;
  va_start(ap, o);
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < 63) argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  double t0 = rf__now();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(o->log ? o->log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (o->env) putenv((char *)o->env);
    if (o->env2) putenv((char *)o->env2);
    if (o->fsize) {
      struct rlimit rl = {(rlim_t)o->fsize, (rlim_t)o->fsize};
      signal(SIGXFSZ, SIG_IGN);
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (o->drop_dac && geteuid() == 0) {
      prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0);
      prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int ws = 0, sent = 0;
  for (;;) {
    pid_t r = waitpid(pid, &ws, WNOHANG);
    if (r == pid) break;
    double el = rf__now() - t0;
    if (o->kill_after_s > 0 && !sent && el >= o->kill_after_s) {
      kill(pid, o->sig);
      sent = 1;
    }
    if (el > 90) {
      kill(pid, SIGKILL);
      waitpid(pid, &ws, 0);
      ck_abort_msg("%s %s: still running after 90 s", argv[1], argv[2]);
    }
    usleep(20000);
  }
  o->seconds = rf__now() - t0;
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
}

/* The log must name every one of the NULL-terminated words. */
static void rf__log_names(const char *log, ...) {
  char *t = rf_test_read_file(log, NULL);
  ck_assert_msg(t != NULL, "no log %s", log);
  va_list ap;
  va_start(ap, log);
  const char *w;
  while ((w = va_arg(ap, const char *))) ck_assert_msg(strstr(t, w) != NULL, "message lacks '%s': %s", w, t);
  va_end(ap);
  free(t);
}

/* FNV-1a of a file's bytes (0 when missing). */
static uint64_t rf__file_hash(const char *path) {
  size_t n = 0;
  char *t = rf_test_read_file(path, &n);
  if (!t) return 0;
  uint64_t h = rf_fnv1a64(RF_FNV1A64_INIT, t, n);
  free(t);
  return h ? h : 1;
}

/* FNV-1a over a folder: every entry's name and bytes, sorted by name. */
static uint64_t rf__dir_hash(const char *dir) {
  char cmd[1200], p[1024];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | LC_ALL=C sort", dir);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  uint64_t h = RF_FNV1A64_INIT;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    h = rf_fnv1a64(h, line, strlen(line));
    uint64_t fh = rf__file_hash(rf_test_join(p, sizeof p, dir, line));
    h = rf_fnv1a64(h, &fh, sizeof fh);
  }
  pclose(f);
  return h;
}

static void rf__write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static void rf__capture(const char *path, uint32_t seed) {
  rf_test_capture_opts o = rf_test_capture_defaults();
  o.seed = seed;
  ck_assert_int_eq(rf_test_write_capture(path, &o), 0);
}

/* ---- damaging a capture with the HDF5 C library --------------------------------------- */
static hid_t rf__h5_rw(const char *path) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  return f;
}

static void rf__set_double(const char *path, const char *obj, const char *name, double v) {
  hid_t f = rf__h5_rw(path), o = H5Oopen(f, obj, H5P_DEFAULT), s = H5Screate(H5S_SCALAR);
  ck_assert_int_ge(o, 0);
  if (H5Aexists(o, name) > 0) ck_assert_int_ge(H5Adelete(o, name), 0);
  hid_t a = H5Acreate2(o, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(a, 0);
  ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_DOUBLE, &v), 0);
  H5Aclose(a);
  H5Sclose(s);
  H5Oclose(o);
  H5Fclose(f);
}

static void rf__rename_attr(const char *path, const char *obj, const char *from, const char *to) {
  hid_t f = rf__h5_rw(path), o = H5Oopen(f, obj, H5P_DEFAULT);
  ck_assert_int_ge(H5Arename(o, from, to), 0);
  H5Oclose(o);
  H5Fclose(f);
}

static void rf__delete_attr(const char *path, const char *obj, const char *name) {
  hid_t f = rf__h5_rw(path), o = H5Oopen(f, obj, H5P_DEFAULT);
  ck_assert_int_ge(H5Adelete(o, name), 0);
  H5Oclose(o);
  H5Fclose(f);
}

/* Overwrites a whole float64 dataset (same size). */
static void rf__write_doubles(const char *path, const char *dset, const double *v) {
  hid_t f = rf__h5_rw(path), d = H5Dopen2(f, dset, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
  H5Dclose(d);
  H5Fclose(f);
}

/* Replaces /iq with a link (external link to file:/iq, or external raw
 * storage over `file`). */
static void rf__iq_external_link(const char *path, const char *file) {
  hid_t f = rf__h5_rw(path);
  ck_assert_int_ge(H5Ldelete(f, "iq", H5P_DEFAULT), 0);
  ck_assert_int_ge(H5Lcreate_external(file, "/iq", f, "iq", H5P_DEFAULT, H5P_DEFAULT), 0);
  H5Fclose(f);
}

static void rf__iq_external_storage(const char *path, const char *file, const rf_test_capture_opts *o) {
  hid_t f = rf__h5_rw(path);
  ck_assert_int_ge(H5Ldelete(f, "iq", H5P_DEFAULT), 0);
  hsize_t dims[4] = {o->pulses, o->channels, o->samples, 2};
  hid_t s = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  ck_assert_int_ge(H5Pset_external(dcpl, file, 0, dims[0] * dims[1] * dims[2] * 2 * 2), 0);
  hid_t d = H5Dcreate2(f, "iq", H5T_STD_I16LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(d, 0);
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(s);
  H5Fclose(f);
}

/* ---- case 1: batch d/cap.hdf5 -o d ------------------------------------------------------ */
START_TEST(rel_01_batch_output_never_over_its_input) {
  char d[512], cap[512], log[512], p[512];
  rf_test_fresh_dir(d, sizeof d, "rel01");
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.hdf5"), 1);
  uint64_t before = rf__file_hash(cap);
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  int code = rf__cli(&o, "batch", cap, "-o", d, "-q", "-j", "1", NULL);
  ck_assert_msg(code == 0, "exit %d", code);
  /* The input is still the same file; its products went beside it. */
  struct stat sb;
  ck_assert_int_eq(stat(cap, &sb), 0);
  ck_assert(S_ISREG(sb.st_mode));
  ck_assert(rf__file_hash(cap) == before);
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, d, "cap.hdf5-2/plots.h5")));
}
END_TEST

/* ---- case 2: batch over a user's own folder of the same name --------------------------- */
START_TEST(rel_02_batch_never_removes_a_user_folder) {
  char d[512], in[512], out[512], user[512], log[512], p[512];
  rf_test_fresh_dir(d, sizeof d, "rel02");
  rf_test_join(in, sizeof in, d, "in");
  rf_test_join(out, sizeof out, d, "out");
  rf_test_join(user, sizeof user, out, "night1");
  ck_assert_int_eq(rf_test_mkdir_p(in), 0);
  ck_assert_int_eq(rf_test_mkdir_p(user), 0);
  rf__capture(rf_test_join(p, sizeof p, in, "night1.h5"), 2);
  rf__write_text(rf_test_join(p, sizeof p, user, "notes.txt"), "my own notes\n");
  rf__write_text(rf_test_join(p, sizeof p, user, "run.json"), "{\"program\": \"mine\"}\n");
  uint64_t before = rf__dir_hash(user);
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  int code = rf__cli(&o, "batch", in, "-o", out, "-j", "1", NULL);
  ck_assert_msg(code == 1, "exit %d (the capture fails, the folder is kept)", code);
  ck_assert(rf__dir_hash(user) == before);
  rf__log_names(log, "night1", "not a radarflow product folder", NULL);
  char *sum = rf_test_read_file(rf_test_join(p, sizeof p, out, "summary.json"), NULL);
  ck_assert_ptr_nonnull(sum);
  ck_assert_ptr_nonnull(strstr(sum, "\"failed\""));
  free(sum);
}
END_TEST

/* ---- case 3: the input inside the output folder ----------------------------------------- */
START_TEST(rel_03_process_never_overwrites_its_input) {
  char d[512], s[512], cap[512], in[512], log[512];
  rf_test_fresh_dir(d, sizeof d, "rel03");
  rf_test_join(s, sizeof s, d, "s");
  ck_assert_int_eq(rf_test_mkdir_p(s), 0);
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.h5"), 3);
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  /* cp cap.h5 s/plots.h5; radarflow process s/plots.h5 -o s */
  ck_assert_int_eq(rf_test_copy_file(cap, rf_test_join(in, sizeof in, s, "plots.h5"), -1), 0);
  uint64_t before = rf__file_hash(in);
  ck_assert_int_eq(rf__cli(&o, "process", in, "-o", s, "--device", "cpu", NULL), 2);
  ck_assert(rf__file_hash(in) == before);
  rf__log_names(log, in, NULL);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  /* The same when s is a radarflow product folder. */
  rf_test_join(s, sizeof s, d, "products");
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", s, "--device", "cpu", "-q", NULL), 0);
  ck_assert_int_eq(rf_test_copy_file(cap, rf_test_join(in, sizeof in, s, "plots.h5"), -1), 0);
  ck_assert_int_eq(rf__cli(&o, "process", in, "-o", s, "--device", "cpu", NULL), 2);
  ck_assert(rf__file_hash(in) == before);
  rf__log_names(log, in, "output folder", NULL);
}
END_TEST

/* ---- case 4: a failed rerun keeps the old products -------------------------------------- */
START_TEST(rel_04_failed_rerun_keeps_old_products) {
  char d[512], a[512], b[512], out[512], log[512];
  rf_test_fresh_dir(d, sizeof d, "rel04");
  rf__capture(rf_test_join(a, sizeof a, d, "a.h5"), 4);
  rf__capture(rf_test_join(b, sizeof b, d, "b.h5"), 5);
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  ck_assert_int_eq(rf__cli(&o, "process", a, "-o", out, "--device", "cpu", "-q", NULL), 0);
  uint64_t before = rf__dir_hash(out);
  size_t n = rf_test_count_entries(out, NULL);
  ck_assert_uint_eq(n, 10); /* nine products and the marker */
  /* Bad settings: refused before any work, old set untouched. */
  ck_assert_int_eq(rf__cli(&o, "process", b, "-o", out, "--device", "cpu", "--set", "tracker.confirm_m=5", "--set",
                           "tracker.confirm_n=4", NULL),
                   2);
  rf__log_names(log, "tracker.confirm_m", "tracker.confirm_n", NULL);
  ck_assert(rf__dir_hash(out) == before);
  /* A full disk while writing (every write past 1 KiB fails). */
  rf__run full = {.log = log, .fsize = 1024};
  int code = rf__cli(&full, "process", b, "-o", out, "--device", "cpu", NULL);
  ck_assert_msg(code != 0 && code < 128, "exit %d", code);
  ck_assert(rf__dir_hash(out) == before);
  ck_assert_uint_eq(rf_test_count_entries(d, ".tmp."), 0); /* its temporary folder removed */
}
END_TEST

/* `radarflow track` into a product folder: the new track products in whole,
 * process's plots kept byte for byte; a failed rerun changes nothing; a
 * folder holding a user's file is refused and left as it was. */
START_TEST(rel_04b_track_into_products_keeps_them) {
  char d[512], a[512], out[512], log[512], p[512], user[512];
  rf_test_fresh_dir(d, sizeof d, "rel04b");
  rf__capture(rf_test_join(a, sizeof a, d, "a.h5"), 4);
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  ck_assert_int_eq(rf__cli(&o, "process", a, "-o", out, "--device", "cpu", "-q", NULL), 0);
  uint64_t h5 = rf__file_hash(rf_test_join(p, sizeof p, out, "plots.h5"));
  uint64_t csv = rf__file_hash(rf_test_join(p, sizeof p, out, "plots.csv"));
  char plots[512];
  rf_test_join(plots, sizeof plots, out, "plots.h5");
  ck_assert_int_eq(rf__cli(&o, "track", plots, "-o", out, "-q", "--set", "tracker.confirm_n=6", NULL), 0);
  ck_assert(rf__file_hash(rf_test_join(p, sizeof p, out, "plots.h5")) == h5);
  ck_assert(rf__file_hash(rf_test_join(p, sizeof p, out, "plots.csv")) == csv);
  ck_assert_uint_eq(rf_test_count_entries(out, NULL), 10); /* nine products and the marker */
  char *marker = rf_test_read_file(rf_test_join(p, sizeof p, out, RF_PRODUCTS_MARKER), NULL);
  ck_assert(marker && strstr(marker, "\"plots.h5\"") && strstr(marker, "\"tracks.pcap\"") &&
            strstr(marker, "\"complete\""));
  free(marker);
  char *run = rf_test_read_file(rf_test_join(p, sizeof p, out, "run.json"), NULL);
  ck_assert(run && strstr(run, "\"confirm_n\""));
  free(run);
  uint64_t before = rf__dir_hash(out);
  /* Bad settings, then a full disk: out exactly as it was, no temporary. */
  ck_assert_int_eq(rf__cli(&o, "track", plots, "-o", out, "--set", "tracker.confirm_m=5", "--set",
                           "tracker.confirm_n=4", NULL),
                   2);
  ck_assert(rf__dir_hash(out) == before);
  rf__run full = {.log = log, .fsize = 1024};
  int code = rf__cli(&full, "track", plots, "-o", out, NULL);
  ck_assert_msg(code != 0 && code < 128, "exit %d", code);
  ck_assert(rf__dir_hash(out) == before);
  ck_assert_uint_eq(rf_test_count_entries(d, ".tmp."), 0);
  /* A folder with a user's file: refused, the file untouched. */
  rf_test_join(user, sizeof user, d, "mine");
  ck_assert_int_eq(mkdir(user, 0777), 0);
  rf_test_join(p, sizeof p, user, "tracks.csv");
  FILE *f = fopen(p, "w");
  fputs("my own notes\n", f);
  fclose(f);
  uint64_t mine = rf__file_hash(p);
  ck_assert_int_eq(rf__cli(&o, "track", plots, "-o", user, NULL), 2);
  rf__log_names(log, user, "not a radarflow product folder", NULL);
  ck_assert(rf__file_hash(p) == mine);
  ck_assert_uint_eq(rf_test_count_entries(user, NULL), 1);
}
END_TEST

/* ---- case 5: SIGKILL during the product switch ------------------------------------------ */
/* 1 when out holds one complete set: the nine products, the marker, and
 * plots.csv equal to want (a reference set's). */
static int rf__complete_set(const char *out, uint64_t want_plots) {
  char p[512];
  static const char *names[] = {"plots.h5",   "plots.csv",   "tracks.h5", "tracks.csv",        "plots.ast",
                                "tracks.ast", "plots.pcap", "tracks.pcap", "run.json", RF_PRODUCTS_MARKER};
  if (rf_test_count_entries(out, NULL) != 10) return 0;
  for (int i = 0; i < 10; i++)
    if (!rf_test_file_exists(rf_test_join(p, sizeof p, out, names[i]))) return 0;
  return rf__file_hash(rf_test_join(p, sizeof p, out, "plots.csv")) == want_plots;
}

START_TEST(rel_05_sigkill_during_switch_leaves_a_whole_set) {
  char d[512], cap[512], ref_old[512], ref_new[512], out[512], p[512], log[512];
  rf_test_fresh_dir(d, sizeof d, "rel05");
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.h5"), 6);
  rf_test_join(ref_old, sizeof ref_old, d, "ref_old");
  rf_test_join(ref_new, sizeof ref_new, d, "ref_new");
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", ref_old, "--device", "cpu", "-q", "--set", "cfar.pfa=1e-2", NULL), 0);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", ref_new, "--device", "cpu", "-q", NULL), 0);
  uint64_t h_old = rf__file_hash(rf_test_join(p, sizeof p, ref_old, "plots.csv"));
  uint64_t h_new = rf__file_hash(rf_test_join(p, sizeof p, ref_new, "plots.csv"));
  ck_assert(h_old != h_new);
  /* The switch widened to 3 x 300 ms; kills spread over a run's length
   * (measured), half of the rounds on the rename fallback. */
  rf__run t = {.log = log, .env = "RF_TEST_SWITCH_DELAY_MS=300"};
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "-q", "--set", "cfar.pfa=1e-2", NULL), 0);
  ck_assert_int_eq(rf__cli(&t, "process", cap, "-o", out, "--device", "cpu", "-q", NULL), 0);
  double span = t.seconds;
  int saw_old = 0, saw_new = 0;
  for (int r = 0; r < 8; r++) {
    rf_test_rm_rf(out);
    ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "-q", "--set", "cfar.pfa=1e-2", NULL), 0);
    rf__run k = {.log = log,
                 .env = "RF_TEST_SWITCH_DELAY_MS=300",
                 .env2 = r % 2 ? "RF_TEST_NO_EXCHANGE=1" : NULL,
                 .kill_after_s = span * (0.15 + 0.1 * r),
                 .sig = SIGKILL};
    rf__cli(&k, "process", cap, "-o", out, "--device", "cpu", "-q", NULL);
    if (!rf_test_file_exists(out)) {
      /* Killed between the fallback's two renames: the next run restores. */
      ck_assert_msg(r % 2, "round %d: OUTDIR missing after a kill with the exchange", r);
      rf__run again = {.log = log};
      rf_test_join(p, sizeof p, d, "missing.h5");
      ck_assert_int_eq(rf__cli(&again, "process", p, "-o", out, "--device", "cpu", NULL), 2);
    }
    int is_old = rf__complete_set(out, h_old), is_new = rf__complete_set(out, h_new);
    ck_assert_msg(is_old || is_new, "round %d: OUTDIR holds neither whole set", r);
    saw_old += is_old;
    saw_new += is_new;
  }
  ck_assert_int_gt(saw_old, 0);
  ck_assert_int_gt(saw_new, 0);
  /* The next clean run removes every temporary the kills left. */
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "-q", NULL), 0);
  ck_assert(rf__complete_set(out, h_new));
  ck_assert_uint_eq(rf_test_count_entries(d, ".out.tmp."), 0);
  ck_assert_uint_eq(rf_test_count_entries(d, ".out.old."), 0);
}
END_TEST

/* ---- case 6: libhdf5 crashes and hangs are contained -------------------------------------- */
START_TEST(rel_06_hdf5_crash_and_hang_contained) {
  char d[512], out[512], log[512], cap[512];
  rf_test_fresh_dir(d, sizeof d, "rel06");
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  /* The fuzzing find (global heap) and a bit flip found by scripts/bitflip.sh
   * that crashes libhdf5 1.10 in H5Aread of a variable-length string. */
  static const char *const crashers[] = {"tests/fuzz/hdf5-crashers/global_heap_segv.h5",
                                         "tests/fuzz/hdf5-crashers/vlen_string_flip_segv.h5"};
  for (int i = 0; i < 2; i++) {
    int code = rf__cli(&o, "process", crashers[i], "-o", out, "--device", "cpu", NULL);
    ck_assert_msg(code == 2, "%s: exit %d", crashers[i], code);
    rf__log_names(log, crashers[i], "corrupt", NULL);
    ck_assert(!rf_test_file_exists(out));
    /* inspect reads the same metadata, in its own supervised child. */
    code = rf__cli(&o, "inspect", crashers[i], NULL);
    ck_assert_msg(code == 2, "inspect %s: exit %d", crashers[i], code);
    rf__log_names(log, crashers[i], NULL);
  }
  /* The second one crashed the worker (under ASan: its report, exit 1), not radarflow. */
  {
    char *t = rf_test_read_file(log, NULL);
    ck_assert_msg(t && (strstr(t, "killed by signal 11") || strstr(t, "ended (status 1)")), "%s", t ? t : "");
    free(t);
  }
  /* A read that never ends (libhdf5 spinning, as on some flips), here made
   * by a test hook: the watchdog stops it and the file is reported. */
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.h5"), 7);
  rf__run hang = {.log = log, .env = "RF_TEST_STALL_BEFORE_DWELLS=1"};
  ck_assert_int_eq(rf__cli(&hang, "process", cap, "-o", out, "--device", "cpu", "--set", "run.watchdog_s=2", NULL), 2);
  rf__log_names(log, cap, "no progress for 2 s", "run.watchdog_s", NULL);
  ck_assert_double_lt(hang.seconds, RF_QUICK_S);
  /* ... and SIGINT / SIGTERM always stop it: exit 130, nothing written. */
  int sigs[] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; i++) {
    rf__run intr = {.log = log, .env = "RF_TEST_STALL_BEFORE_DWELLS=1", .kill_after_s = 1.0, .sig = sigs[i]};
    ck_assert_int_eq(rf__cli(&intr, "process", cap, "-o", out, "--device", "cpu", NULL), 130);
    ck_assert_double_lt(intr.seconds, 5.0);
    ck_assert(!rf_test_file_exists(out));
    ck_assert_uint_eq(rf_test_count_entries(d, ".out.tmp."), 0);
  }
}
END_TEST

/* ---- case 7: external links and storage; FIFOs; the batch goes on ----------------------- */
START_TEST(rel_07_external_files_refused_never_hang) {
  char d[512], sub[512], cap[512], fifo[512], log[512], out[512], p[512], bad[512];
  rf_test_fresh_dir(d, sizeof d, "rel07");
  rf_test_join(sub, sizeof sub, d, "caps");
  ck_assert_int_eq(rf_test_mkdir_p(sub), 0);
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  rf_test_capture_opts co = rf_test_capture_defaults();
  /* /iq as an external link to a FIFO in the capture's own folder. */
  ck_assert_int_eq(mkfifo(rf_test_join(fifo, sizeof fifo, sub, "pipe.h5"), 0644), 0);
  rf__capture(rf_test_join(cap, sizeof cap, sub, "link_fifo.h5"), 8);
  rf__iq_external_link(cap, "pipe.h5");
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/iq", "pipe.h5", "not a regular file", NULL);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  /* External raw storage on a FIFO. */
  rf__capture(rf_test_join(cap, sizeof cap, sub, "raw_fifo.h5"), 9);
  rf__iq_external_storage(cap, "pipe.h5", &co);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/iq", "pipe.h5", "not a regular file", NULL);
  /* External raw storage on /etc/passwd and on ../../ paths: outside. */
  rf__capture(rf_test_join(cap, sizeof cap, sub, "passwd.h5"), 10);
  rf__iq_external_storage(cap, "/etc/passwd", &co);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/etc/passwd", "outside the capture's folder", "--allow-external", NULL);
  rf__capture(rf_test_join(bad, sizeof bad, sub, "dotdot.h5"), 11);
  rf__write_text(rf_test_join(p, sizeof p, d, "secret.bin"), "0123456789");
  rf__iq_external_storage(bad, "../secret.bin", &co);
  ck_assert_int_eq(rf__cli(&o, "process", bad, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, "secret.bin", "outside the capture's folder", NULL);
  ck_assert(!rf_test_file_exists(out));
  /* A batch over all of them and a good capture: it ends, writes its
   * summary, and the good one is done. */
  rf__capture(rf_test_join(p, sizeof p, sub, "good.h5"), 12);
  rf_test_join(p, sizeof p, sub, "pipe.h5"); /* a FIFO named .h5: skipped by folder search */
  ck_assert_int_eq(rf__cli(&o, "batch", sub, fifo, "-o", out, "-j", "2", NULL), 1);
  ck_assert_double_lt(o.seconds, 60);
  char *sum = rf_test_read_file(rf_test_join(p, sizeof p, out, "summary.json"), NULL);
  ck_assert_ptr_nonnull(sum);
  ck_assert_ptr_nonnull(strstr(sum, "\"done\":\t1"));
  free(sum);
  /* --timeout: a capture whose worker hangs is stopped, the batch goes on. */
  char out2[512];
  rf_test_join(out2, sizeof out2, d, "out2");
  rf__run hang = {.log = log, .env = "RF_TEST_STALL_BEFORE_DWELLS=1"};
  ck_assert_int_eq(rf__cli(&hang, "batch", rf_test_join(p, sizeof p, sub, "good.h5"), "-o", out2, "-j", "1",
                           "--timeout", "2", "--set", "run.watchdog_s=0", NULL),
                   1);
  rf__log_names(log, "timed out after 2 s", NULL);
  ck_assert_double_lt(hang.seconds, 30);
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out2, "summary.json")));
  /* SIGTERM to the coordinator while its worker hangs: exit 130 and a summary. */
  char out3[512];
  rf_test_join(out3, sizeof out3, d, "out3");
  rf__run term = {.log = log, .env = "RF_TEST_STALL_BEFORE_DWELLS=1", .kill_after_s = 1.5, .sig = SIGTERM};
  ck_assert_int_eq(rf__cli(&term, "batch", rf_test_join(p, sizeof p, sub, "good.h5"), "-o", out3, "-j", "1", "--set",
                           "run.watchdog_s=0", NULL),
                   130);
  ck_assert_double_lt(term.seconds, 15);
  ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out3, "summary.json")));
}
END_TEST

/* ---- case 8: config files ---------------------------------------------------------------- */
START_TEST(rel_08_config_files_regular_and_bounded) {
  char d[512], cap[512], out[512], log[512], fifo[512], big[512];
  rf_test_fresh_dir(d, sizeof d, "rel08");
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.h5"), 13);
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  ck_assert_int_eq(mkfifo(rf_test_join(fifo, sizeof fifo, d, "cfg.fifo"), 0644), 0);
  FILE *f = fopen(rf_test_join(big, sizeof big, d, "big.ini"), "w");
  for (int i = 0; i < 70000; i++) fputs("; a comment line to make the file long\n", f);
  fclose(f);
  const char *bad[] = {"/dev/zero", "/dev/urandom", d, fifo, big};
  const char *why[] = {"not a regular file", "not a regular file", "is a folder", "not a regular file", "longer"};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "-c", bad[i], NULL), 2);
    rf__log_names(log, bad[i], why[i], NULL);
    ck_assert_double_lt(o.seconds, RF_QUICK_S);
  }
  ck_assert(!rf_test_file_exists(out));
}
END_TEST

/* ---- case 9: captures whose run would not fit ------------------------------------------- */
/* A capture of `dwells` dwells of `pulses` pulses, 1 channel x `samples`
 * samples, /iq chunked and never written (a few KiB on disk). */
static void rf__sparse_capture(const char *path, size_t dwells, size_t pulses, size_t samples) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), s1 = H5Screate(H5S_SCALAR);
  ck_assert_int_ge(f, 0);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 32);
  struct {
    const char *obj, *name;
    double v;
  } nums[] = {{"/", "site_latitude_deg", 52}, {"/", "site_longitude_deg", 4}, {"/", "site_altitude_m", 0},
              {"waveform", "center_frequency_hz", 3e9}, {"waveform", "sample_rate_hz", 6e6},
              {"waveform", "bandwidth_hz", 5e6}, {"waveform", "pulse_width_s", 1e-5}, {"waveform", "pri_s", 2e-4}};
  hid_t wf = H5Gcreate2(f, "waveform", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t ar = H5Gcreate2(f, "array", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t dw = H5Gcreate2(f, "dwell", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char *strs[][3] = {{"/", "format", "radarflow.capture"}, {"/", "radar_name", "sparse"}, {"waveform", "type", "lfm"}};
  for (int i = 0; i < 3; i++) {
    hid_t o = H5Oopen(f, strs[i][0], H5P_DEFAULT), a = H5Acreate2(o, strs[i][1], str, s1, H5P_DEFAULT, H5P_DEFAULT);
    char b[32] = {0};
    snprintf(b, sizeof b, "%s", strs[i][2]);
    H5Awrite(a, str, b);
    H5Aclose(a);
    H5Oclose(o);
  }
  int one = 1;
  hid_t a = H5Acreate2(f, "format_version", H5T_STD_I32LE, s1, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, &one);
  H5Aclose(a);
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    hid_t o = H5Oopen(f, nums[i].obj, H5P_DEFAULT);
    a = H5Acreate2(o, nums[i].name, H5T_IEEE_F64LE, s1, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &nums[i].v);
    H5Aclose(a);
    H5Oclose(o);
  }
  double pos[3] = {0, 0, 0};
  hsize_t d2[2] = {1, 3};
  hid_t sp = H5Screate_simple(2, d2, NULL), ds = H5Dcreate2(ar, "element_position_m", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pos);
  H5Dclose(ds);
  H5Sclose(sp);
  size_t np = dwells * pulses;
  int64_t *first = malloc(dwells * sizeof *first);
  int32_t *num = malloc(dwells * sizeof *num);
  double *az = malloc(dwells * sizeof *az), *el = calloc(dwells, sizeof *el), *t = malloc(np * sizeof *t);
  for (size_t i = 0; i < dwells; i++) first[i] = (int64_t)(i * pulses), num[i] = (int32_t)pulses, az[i] = 30;
  for (size_t i = 0; i < np; i++) t[i] = 1.7e9 + 2e-4 * (double)i;
  hsize_t nd = dwells, npp = np;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hsize_t ch = dwells < 65536 ? dwells : 65536;
  H5Pset_chunk(dcpl, 1, &ch);
  H5Pset_deflate(dcpl, 6);
  sp = H5Screate_simple(1, &nd, NULL);
  struct {
    const char *n;
    hid_t ft, mt;
    void *v;
  } cols[] = {{"first_pulse", H5T_STD_I64LE, H5T_NATIVE_INT64, first}, {"num_pulses", H5T_STD_I32LE, H5T_NATIVE_INT32, num},
              {"azimuth_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, az}, {"elevation_deg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, el}};
  for (int i = 0; i < 4; i++) {
    ds = H5Dcreate2(dw, cols[i].n, cols[i].ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ck_assert_int_ge(H5Dwrite(ds, cols[i].mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, cols[i].v), 0);
    H5Dclose(ds);
  }
  H5Sclose(sp);
  H5Pclose(dcpl);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  ch = npp < 65536 ? npp : 65536;
  H5Pset_chunk(dcpl, 1, &ch);
  H5Pset_deflate(dcpl, 6);
  sp = H5Screate_simple(1, &npp, NULL);
  ds = H5Dcreate2(f, "pulse_time_s", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t), 0);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Pclose(dcpl);
  hsize_t iq[4] = {np, 1, samples, 2}, ich[4] = {1, 1, samples < 65536 ? samples : 65536, 2};
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 4, ich);
  sp = H5Screate_simple(4, iq, NULL);
  ds = H5Dcreate2(f, "iq", H5T_STD_I16LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ck_assert_int_ge(ds, 0);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Pclose(dcpl);
  free(first), free(num), free(az), free(el), free(t);
  H5Tclose(str);
  H5Sclose(s1);
  H5Gclose(wf), H5Gclose(ar), H5Gclose(dw);
  H5Fclose(f);
}

START_TEST(rel_09_runs_that_would_not_fit_are_refused) {
  char d[512], cap[512], out[512], log[512];
  rf_test_fresh_dir(d, sizeof d, "rel09");
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt")};
  /* 1 channel (one beam: no aperture) x 2 M samples x one 512-pulse dwell:
   * about 30 GiB of maps. */
  rf__sparse_capture(rf_test_join(cap, sizeof cap, d, "huge_dwell.h5"), 1, 512, 1 << 21);
  ck_assert_int_lt(rf_test_file_size(cap), 200000);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "--set", "run.memory_mb=4096", NULL), 2);
  rf__log_names(log, cap, "dwell 0", "512 pulses", "2097152 samples", "GiB", "run.memory_mb = 4096", NULL);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  /* With the default budget (3/4 of this machine's memory) as well. */
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, "run.memory_mb", NULL);
  /* 2^20 + 1 one-pulse dwells: past the dwell limit. */
  rf__sparse_capture(rf_test_join(cap, sizeof cap, d, "many_dwells.h5"), ((size_t)1 << 20) + 1, 1, 64);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/dwell", "1048577 dwells", "at most 1048576", NULL);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  ck_assert(!rf_test_file_exists(out));
}
END_TEST

/* ---- case 10: values that would give silently wrong products ---------------------------- */
START_TEST(rel_10_implausible_values_refused_at_open) {
  char d[512], cap[512], out[512], log[512];
  rf_test_fresh_dir(d, sizeof d, "rel10");
  rf_test_join(out, sizeof out, d, "out");
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt"), .env = "RF_TEST_STALL_BEFORE_DWELLS=1"};
  /* Each is refused at open: with the stall hook a run that got to its
   * dwells would hang instead. */
  rf__capture(rf_test_join(cap, sizeof cap, d, "scale.h5"), 14);
  rf__set_double(cap, "/iq", "scale", 1e39);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/iq", "scale", NULL);
  rf__capture(rf_test_join(cap, sizeof cap, d, "scale2.h5"), 15);
  rf__set_double(cap, "/iq", "scale", 1e20); /* finite in float32, overflows the power maps */
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/iq", "overflow float32", NULL);
  {
    rf_test_capture_opts co = rf_test_capture_defaults();
    rf_test_capture tc;
    ck_assert_int_eq(rf_test_capture_build(&tc, &co), 0);
    tc.meta.calibration[1] = 3e38f;
    ck_assert_int_eq(rf_test_capture_write(&tc, rf_test_join(cap, sizeof cap, d, "cal.h5")), 0);
    rf_test_capture_free(&tc);
    ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
    rf__log_names(log, cap, "/array/calibration", "channel 1", NULL);
  }
  rf__capture(rf_test_join(cap, sizeof cap, d, "delay.h5"), 16);
  rf__set_double(cap, "/waveform", "range_gate_delay_s", 1e300);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "/waveform", "range_gate_delay_s", NULL);
  /* A bit flip renames range_gate_delay_s ('s' 0x73 -> 'c' 0x63): both named. */
  rf__capture(rf_test_join(cap, sizeof cap, d, "renamed.h5"), 17);
  rf__set_double(cap, "/waveform", "range_gate_delay_s", 2e-5);
  rf__rename_attr(cap, "/waveform", "range_gate_delay_s", "range_gate_delay_c");
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
  rf__log_names(log, cap, "range_gate_delay_c", "range_gate_delay_s", NULL);
  /* Reversed pulse times: at open, naming the file and /pulse_time_s. */
  {
    rf_test_capture_opts co = rf_test_capture_defaults();
    rf__capture(rf_test_join(cap, sizeof cap, d, "reversed.h5"), 18);
    double t[64];
    ck_assert_uint_le(co.pulses, 64);
    for (size_t i = 0; i < co.pulses; i++) t[i] = 1.7e9 - 1e-3 * (double)i;
    rf__write_doubles(cap, "/pulse_time_s", t);
    ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", NULL), 2);
    rf__log_names(log, cap, "/pulse_time_s", "must increase", NULL);
  }
  ck_assert(!rf_test_file_exists(out));
  /* A capture that simply lacks range_gate_delay_s is read by the
   * contract's default (0) and processed. */
  rf__run ok = {.log = log};
  rf__capture(rf_test_join(cap, sizeof cap, d, "no_delay.h5"), 19);
  hid_t f = rf__h5_rw(cap), w = H5Gopen2(f, "waveform", H5P_DEFAULT);
  int has = H5Aexists(w, "range_gate_delay_s") > 0;
  H5Gclose(w);
  H5Fclose(f);
  if (has) rf__delete_attr(cap, "/waveform", "range_gate_delay_s");
  ck_assert_int_eq(rf__cli(&ok, "process", cap, "-o", out, "--device", "cpu", "-q", NULL), 0);
}
END_TEST

/* ---- case 11: errors found before the first dwell --------------------------------------- */
START_TEST(rel_11_errors_found_before_any_dwell) {
  char d[512], cap[512], out[512], log[512], ro[512];
  rf_test_fresh_dir(d, sizeof d, "rel11");
  rf__capture(rf_test_join(cap, sizeof cap, d, "cap.h5"), 20);
  rf_test_join(out, sizeof out, d, "out");
  /* With the stall hook any run that reached its dwells would hang (and be
   * stopped after run.watchdog_s = 60 s): each must end quickly, exit 2. */
  rf__run o = {.log = rf_test_join(log, sizeof log, d, "log.txt"), .env = "RF_TEST_STALL_BEFORE_DWELLS=1"};
  rf_test_join(ro, sizeof ro, d, "readonly");
  ck_assert_int_eq(rf_test_mkdir_p(ro), 0);
  ck_assert_int_eq(chmod(ro, 0555), 0);
  char ro_out[600];
  snprintf(ro_out, sizeof ro_out, "%s/out", ro);
  o.drop_dac = 1;
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", ro_out, "--device", "cpu", NULL), 2);
  rf__log_names(log, ro_out, "not writable", NULL);
  o.drop_dac = 0;
  chmod(ro, 0755);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "--set", "tracker.confirm_m=5",
                           "--set", "tracker.confirm_n=4", NULL),
                   2);
  rf__log_names(log, "tracker.confirm_m = 5", "tracker.confirm_n = 4", NULL);
  /* The test capture has 64 samples and dwells of 3, 4 and 5 pulses. */
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "--set", "cfar.train_range=40", NULL), 2);
  rf__log_names(log, cap, "cfar.train_range = 40", "wider than the range map", NULL);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "--set", "cfar.train_doppler=8", NULL), 2);
  rf__log_names(log, cap, "cfar.train_doppler = 8", "Doppler", NULL);
  ck_assert_int_eq(rf__cli(&o, "process", cap, "-o", out, "--device", "cpu", "--set", "doppler.fft_size=2", NULL), 2);
  rf__log_names(log, cap, "doppler.fft_size = 2", NULL);
  ck_assert_double_lt(o.seconds, RF_QUICK_S);
  ck_assert(!rf_test_file_exists(out));
  ck_assert_uint_eq(rf_test_count_entries(d, ".tmp."), 0);
}
END_TEST

Suite *test_reliability_suite(void) {
  Suite *s = suite_create("reliability");
  TCase *c = tcase_create("issue9");
  tcase_set_timeout(c, 240);
  tcase_add_test(c, rel_01_batch_output_never_over_its_input);
  tcase_add_test(c, rel_02_batch_never_removes_a_user_folder);
  tcase_add_test(c, rel_03_process_never_overwrites_its_input);
  tcase_add_test(c, rel_04_failed_rerun_keeps_old_products);
  tcase_add_test(c, rel_04b_track_into_products_keeps_them);
  tcase_add_test(c, rel_05_sigkill_during_switch_leaves_a_whole_set);
  tcase_add_test(c, rel_06_hdf5_crash_and_hang_contained);
  tcase_add_test(c, rel_07_external_files_refused_never_hang);
  tcase_add_test(c, rel_08_config_files_regular_and_bounded);
  tcase_add_test(c, rel_09_runs_that_would_not_fit_are_refused);
  tcase_add_test(c, rel_10_implausible_values_refused_at_open);
  tcase_add_test(c, rel_11_errors_found_before_any_dwell);
  suite_add_tcase(s, c);
  return s;
}
