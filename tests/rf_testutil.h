/* radarflow tests: shared helpers - temporary folders, paths, running the
 * CLI, small file utilities, a deterministic synthetic capture and a table
 * of malformed captures. Plain libc heap (malloc/free) is used here, never
 * the rf__malloc hook, so allocation-failure sweeps only count library
 * allocations. */
#ifndef RF_TESTUTIL_H
#define RF_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../io/rf_capture.h"

/* ---- folders and paths ------------------------------------------------------- */
/* The test scratch folder: $RF_TMP, default "build/test-tmp"; created if
 * missing. */
const char *rf_test_tmpdir(void);
/* Writes "<dir>/<name>" into out; returns out (aborts the test on overflow). */
char *rf_test_join(char *out, size_t len, const char *dir, const char *name);
/* Makes an empty folder "<tmpdir>/<name>" (its old contents removed) and
 * writes its path into out; returns out. */
char *rf_test_fresh_dir(char *out, size_t len, const char *name);
/* Creates a folder and its parents; 0 or -1. */
int rf_test_mkdir_p(const char *dir);
/* Removes a file or a folder tree; 0 or -1 (a missing path is 0). */
int rf_test_rm_rf(const char *path);

/* ---- files ---------------------------------------------------------------------- */
int rf_test_file_exists(const char *path);      /* 1 if path exists (any type) */
long long rf_test_file_size(const char *path);  /* -1 if missing */
/* Whole file into a malloc'd buffer (NUL-terminated; *len without the NUL);
 * NULL on failure. free() it. */
char *rf_test_read_file(const char *path, size_t *len);
/* Copies the first `bytes` bytes of src to dst (all when bytes < 0). */
int rf_test_copy_file(const char *src, const char *dst, long long bytes);
/* Number of entries in dir whose name contains `part` (NULL: all). */
size_t rf_test_count_entries(const char *dir, const char *part);

/* ---- product CSV precision ------------------------------------------------------------ */
/* A double read back from a product CSV is the written one to its column's
 * documented precision (docs/formats.md, "Numbers in the CSV files"):
 * within half a unit of the last printed decimal (plus the binary
 * representation error), exactly when |v| >= 1e15 (printed with %.17g),
 * NaN as NaN, infinities as themselves. 1 or 0. */
int rf_test_csv_same(double written, double read, int decimals);

/* ---- running programs -------------------------------------------------------------- */
/* The CLI under test: $RF_BIN, default "build/radarflow". */
const char *rf_test_bin(void);
/* Runs argv[0] with argv (NULL-terminated) via fork/exec, stdout and stderr
 * both to out_file (NULL: /dev/null). Returns the exit status, 128 + signal
 * when killed, or -1 when it could not be started. */
int rf_test_run(const char *out_file, const char *const argv[]);
/* Runs the CLI with NULL-terminated arguments (not including argv[0]). */
int rf_test_cli(const char *out_file, ...);
/* Ends a child that a test forked: exit() so atexit handlers run (a crash
 * there shows as a signal), or _exit() when Check runs tests in-process
 * (CK_FORK=no) and the inherited handlers belong to the runner. */
void rf_test_child_exit(int code) __attribute__((noreturn));
/* In a forked child: OpenMP loops on this thread alone. libgomp's threads
 * do not survive fork(), and a loop that waits for them hangs; with
 * CK_FORK=no earlier tests in the same process have started them. */
void rf_test_child_one_thread(void);
/* Forks a child whose files may grow to `bytes` at most: a write past it
 * fails with EFBIG (SIGXFSZ ignored), as on a full disk. stdio is flushed
 * first. 0 in the child (exit 99 when the limit cannot be set; its loops on
 * one thread: rf_test_child_one_thread), its pid in the parent. */
int rf_test_fork_fsize(long bytes);
/* Waits for child pid; the test fails unless it exited 0 (its exit code
 * names the check that failed). */
void rf_test_child_ok(int pid);

/* ---- independent ballistic truth ---------------------------------------------------- */
/* The Earth seen from a WGS-84 site, from the textbook formulas (not
 * host/geodesy.c): its centre in site ENU (m) and its rotation vector in
 * ENU (rad/s, 7.292115e-5 about the axis). */
typedef struct rf_test_earth {
  double centre[3], w[3];
} rf_test_earth;
rf_test_earth rf_test_earth_at(double lat_deg, double lon_deg, double alt_m);
/* A drag-free object under point-mass gravity (GM 3.986004418e14) in the
 * rotating site ENU frame (Coriolis and centrifugal terms): y = (position,
 * velocity relative to the ground) advanced by t seconds with classical RK4
 * at steps of at most 0.05 s. The test oracle for Keplerian motion. */
void rf_test_ballistic_integrate(const rf_test_earth *g, double y[6], double t);
/* WGS-84 height (m) of an ENU point of the site (Bowring's iteration, from
 * the textbook formulas). */
double rf_test_height(double lat_deg, double lon_deg, double alt_m, const double enu[3]);

/* ---- synthetic capture -------------------------------------------------------------- */
typedef struct rf_test_capture_opts {
  size_t channels, pulses, samples; /* pulses >= 6 (three dwells, 1/4, 1/3 and the rest) */
  int sample_type;                  /* RF_SAMPLE_* */
  int waveform_type;                /* RF_WAVEFORM_* (custom: 16-sample reference) */
  int has_calibration;
  int with_truth;                   /* two targets per dwell, at dwell mid times */
  uint32_t seed;
} rf_test_capture_opts;

/* The default small capture: 4 channels, 12 pulses, 64 samples, int16, LFM,
 * calibration and truth, seed 1. */
rf_test_capture_opts rf_test_capture_defaults(void);

typedef struct rf_test_capture {
  rf_capture_meta meta; /* arrays owned (malloc) */
  void *raw;            /* [pulses][channels][samples][2] in meta.sample_type */
  rf_truth *truth;      /* NULL unless with_truth (rf_truth_free) */
} rf_test_capture;

/* Fills tc deterministically from opts (values from a fixed-seed LCG). */
int rf_test_capture_build(rf_test_capture *tc, const rf_test_capture_opts *o);
/* Writes tc with rf_capture_writer (all pulses, truth if any); RF status. */
int rf_test_capture_write(const rf_test_capture *tc, const char *path);
void rf_test_capture_free(rf_test_capture *tc);
/* Builds and writes a capture in one call. */
int rf_test_write_capture(const char *path, const rf_test_capture_opts *o);

/* ---- malformed captures -------------------------------------------------------------- */
/* Number of malformed-capture kinds. */
size_t rf_test_bad_capture_count(void);
/* Writes malformed capture number i (0 <= i < count) into dir, as
 * "<dir>/bad_<kind>.h5", and gives its path, its kind's name and the field
 * that the reader's message must name. rf_capture_open fails on it with
 * RF_EFORMAT, except where rf_test_bad_capture_fails_at_read(i): then it
 * opens and rf_capture_read_pulses of all pulses fails with RF_EFORMAT.
 * Returns 0 or -1. */
int rf_test_make_bad_capture(size_t i, const char *dir, char *out_path, size_t out_len,
                             const char **kind_name, const char **field_name);
int rf_test_bad_capture_fails_at_read(size_t i);

#endif
