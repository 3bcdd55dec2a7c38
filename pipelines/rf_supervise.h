/* radarflow: work that reads untrusted files runs in a supervised child
 * process (docs/reliability.md). libhdf5 1.10 can crash or spin forever on
 * a corrupt file; a child that crashes or makes no progress is ended and
 * the file reported as corrupt (RF_EFORMAT, exit 2), while the supervisor
 * keeps honouring SIGINT/SIGTERM.
 *
 * Progress: the child names its phase in a block of shared memory
 * (rf_watch_phase); the supervisor also sees the bytes it reads and writes
 * (/proc/PID/io rchar, wchar). In the phases that read or write files
 * (open, dwells, write, quick look) a child whose phase, ticks and I/O all
 * stand still for run.watchdog_s seconds is killed. Setup (FFT plans,
 * OpenCL programs) and tracking do no file I/O and are not timed. */
#ifndef RF_SUPERVISE_H
#define RF_SUPERVISE_H

#include <sys/types.h>

#include "rf_pipeline.h"

enum rf_phase {
  RF_PHASE_START = 0, /* child started, nothing done */
  RF_PHASE_OPEN,      /* opening and validating the capture (HDF5 metadata) */
  RF_PHASE_SETUP,     /* engine: plans, buffers, OpenCL programs (not timed) */
  RF_PHASE_DWELLS,    /* the dwell loop: reading samples */
  RF_PHASE_TRACK,     /* the tracker (not timed) */
  RF_PHASE_WRITE,     /* writing products */
  RF_PHASE_QUICKLOOK, /* quick-look pictures (reads the capture again) */
  RF_PHASE_DONE,
  RF_PHASE_COUNT
};
/* "start", "open", ... */
const char *rf_phase_name(int phase);

/* The shared progress block. */
typedef struct rf_watch_block rf_watch_block;

/* Child side: records the phase (and counts a tick); a no-op in a process
 * nobody supervises. */
void rf_watch_phase(int phase);
void rf_watch_tick(void);
/* Attaches this process to the block mapped from fd (batch workers get it
 * as $RF_WATCH_FD). 0, or -1 when fd cannot be mapped. */
int rf_watch_attach_fd(int fd);

/* Supervisor side: a block in shared memory for a process to be spawned
 * (memfd: *fd is inherited by the child), or NULL. */
rf_watch_block *rf_watch_block_create(int *fd);
void rf_watch_block_destroy(rf_watch_block *b, int fd); /* NULL is a no-op */
int rf_watch_block_phase(const rf_watch_block *b);

/* A watchdog over one child: progress is any change of the block's phase
 * or ticks or of the child's read and written bytes. */
typedef struct rf_watchdog {
  pid_t pid;
  const rf_watch_block *b;
  int phase;
  unsigned long long ticks, io;
  double since; /* when progress was last seen, rf_now_s() */
} rf_watchdog;
void rf_watchdog_start(rf_watchdog *w, pid_t pid, const rf_watch_block *b);
/* 1 when the child has made no progress for limit_s seconds in a timed
 * phase (limit_s <= 0: never). */
int rf_watchdog_stalled(rf_watchdog *w, int limit_s);

/* The message for a child that died by signal sig (or was stopped by the
 * watchdog when stalled_s > 0) in `phase` while working on `file`: a crash
 * or hang while reading the file is RF_EFORMAT ("corrupt file"), in other
 * phases RF_EIO. Sets the message; returns the status. */
int rf_supervise_failure(const char *file, int phase, int sig, int stalled_s);

/* Runs fn(arg, result) in a child process made with fork() - the caller
 * must have no other threads (no OpenMP, OpenCL or HDF5 use yet) - and
 * returns its status, its message (rf_errmsg) and result_len bytes of its
 * result. Ends the child with SIGKILL on rf_cancel (then RF_EINTR) and
 * when the watchdog finds it stalled for watchdog_s seconds; a crash is
 * reported through rf_supervise_failure. file names the input in messages. */
typedef int (*rf_supervised_fn)(void *arg, void *result);
int rf_supervise(rf_supervised_fn fn, void *arg, void *result, size_t result_len, const char *file,
                 int watchdog_s);

/* `radarflow process`: checks outdir (rf_outset_create), processes the
 * capture in a supervised child into the temporary folder, and switches the
 * complete set in; with quicklook, then draws OUTDIR/quicklook/ in a second
 * supervised child. On any failure or interruption OUTDIR is as before. */
int rf_process_supervised(const char *capture, const char *outdir, const rf_config *cfg, const char *device,
                          int quicklook, rf_run_summary *sum);
/* The quick look of a product folder (OUTDIR/quicklook/), supervised. */
int rf_process_supervised_quicklook(const char *capture, const char *outdir, const rf_config *cfg);

#endif
