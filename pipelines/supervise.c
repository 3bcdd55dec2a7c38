/* radarflow: supervised children for work on untrusted files
 * (rf_supervise.h, docs/reliability.md). */
#include "rf_supervise.h"
#include "rf_quicklook.h"
#include "../host/rf_files.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often the supervisor looks at the child, ms. */
#define RF__POLL_MS 100

struct rf_watch_block {
  atomic_int phase;
  atomic_ullong ticks;
};

static const char *const rf__phase_names[RF_PHASE_COUNT] = {"start", "open",  "setup",     "dwells",
                                                            "track", "write", "quicklook", "done"};

const char *rf_phase_name(int p) { return p >= 0 && p < RF_PHASE_COUNT ? rf__phase_names[p] : "unknown"; }

/* Phases in which the watchdog runs: those that read or write files. */
static int rf__timed(int p) {
  return p == RF_PHASE_START || p == RF_PHASE_OPEN || p == RF_PHASE_DWELLS || p == RF_PHASE_WRITE ||
         p == RF_PHASE_QUICKLOOK;
}

/* ---- child side ------------------------------------------------------------------------ */
static rf_watch_block *rf__watch; /* NULL unless supervised */

void rf_watch_phase(int phase) {
  if (!rf__watch) return;
  atomic_store(&rf__watch->phase, phase);
  atomic_fetch_add(&rf__watch->ticks, 1);
}

void rf_watch_tick(void) {
  if (rf__watch) atomic_fetch_add(&rf__watch->ticks, 1);
}

int rf_watch_attach_fd(int fd) {
  void *p = mmap(NULL, sizeof(rf_watch_block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -1;
  rf__watch = p;
  return 0;
}

/* ---- supervisor side ------------------------------------------------------------------- */
rf_watch_block *rf_watch_block_create(int *fd) {
  *fd = -1;
  int f = memfd_create("radarflow-watch", MFD_CLOEXEC); /* given to a child by dup2 only */
  if (f < 0) return NULL;
  if (ftruncate(f, sizeof(rf_watch_block)) < 0) {
    close(f);
    return NULL;
  }
  void *p = mmap(NULL, sizeof(rf_watch_block), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
  if (p == MAP_FAILED) {
    close(f);
    return NULL;
  }
  *fd = f;
  return p;
}

void rf_watch_block_destroy(rf_watch_block *b, int fd) {
  if (b) munmap(b, sizeof *b);
  if (fd >= 0) close(fd);
}

int rf_watch_block_phase(const rf_watch_block *b) {
  return b ? atomic_load(&((rf_watch_block *)b)->phase) : RF_PHASE_START;
}

/* Bytes a process has read and written (rchar + wchar of /proc/PID/io). */
static unsigned long long rf__io_bytes(pid_t pid) {
  char p[64], line[128];
  unsigned long long sum = 0, v;
  snprintf(p, sizeof p, "/proc/%ld/io", (long)pid);
  FILE *f = fopen(p, "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "rchar: %llu", &v) == 1 || sscanf(line, "wchar: %llu", &v) == 1) sum += v;
  fclose(f);
  return sum;
}

void rf_watchdog_start(rf_watchdog *w, pid_t pid, const rf_watch_block *b) {
  w->pid = pid;
  w->b = b;
  w->phase = rf_watch_block_phase(b);
  w->ticks = b ? atomic_load(&((rf_watch_block *)b)->ticks) : 0;
  w->io = rf__io_bytes(pid);
  w->since = rf_now_s();
}

int rf_watchdog_stalled(rf_watchdog *w, int limit_s) {
  int phase = rf_watch_block_phase(w->b);
  unsigned long long ticks = w->b ? atomic_load(&((rf_watch_block *)w->b)->ticks) : 0, io = rf__io_bytes(w->pid);
  double now = rf_now_s();
  if (phase != w->phase || ticks != w->ticks || io != w->io || !rf__timed(phase)) {
    w->phase = phase;
    w->ticks = ticks;
    w->io = io;
    w->since = now;
    return 0;
  }
  return limit_s > 0 && now - w->since >= (double)limit_s;
}

int rf_supervise_failure(const char *file, int phase, int sig, int stalled_s) {
  int reading = phase == RF_PHASE_START || phase == RF_PHASE_OPEN || phase == RF_PHASE_DWELLS ||
                phase == RF_PHASE_QUICKLOOK;
  if (stalled_s > 0)
    return rf__err(reading ? RF_EFORMAT : RF_EIO,
                   "%s: %sno progress for %d s while %s (run.watchdog_s); stopped%s", file,
                   reading ? "corrupt file: " : "", stalled_s,
                   phase == RF_PHASE_WRITE ? "writing products" : "reading it (libhdf5 loops on some damaged files)",
                   reading ? ", nothing was written" : "");
  if (reading)
    return rf__err(RF_EFORMAT, "%s: corrupt file: the worker reading it was killed by signal %d (%s) in phase %s "
                   "(libhdf5 crashes on some damaged files); nothing was written", file, sig, strsignal(sig),
                   rf_phase_name(phase));
  return rf__err(RF_EIO, "%s: the worker processing it was killed by signal %d (%s) in phase %s; nothing was written",
                 file, sig, strsignal(sig), rf_phase_name(phase));
}

/* What the child sends back: its status and message, then the result. */
typedef struct rf__answer {
  int status;
  char msg[2048];
} rf__answer;

static int rf__write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static void rf__child(int fd, pid_t parent, rf_watch_block *b, rf_supervised_fn fn, void *arg, void *result,
                      size_t result_len) {
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the supervisor */
  if (getppid() != parent) _exit(1);
  rf__watch = b;
  rf_watch_phase(RF_PHASE_START);
  rf__answer a;
  memset(&a, 0, sizeof a);
  rf_errmsg_clear();
  a.status = fn(arg, result);
  snprintf(a.msg, sizeof a.msg, "%s", rf_errmsg());
  int ok = rf__write_all(fd, &a, sizeof a) == 0 && rf__write_all(fd, result, result_len) == 0;
  /* _exit: the parent's stdio buffers and atexit handlers are not ours. */
  _exit(ok ? 0 : 1);
}

int rf_supervise(rf_supervised_fn fn, void *arg, void *result, size_t result_len, const char *file,
                 int watchdog_s) {
  int fds[2] = {-1, -1}, st = 0;
  rf_watch_block *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  size_t want = sizeof(rf__answer) + result_len, got = 0;
  char *buf = rf__malloc(want);
  if (b == MAP_FAILED || !buf || pipe2(fds, O_CLOEXEC) < 0) {
    st = rf__err(RF_EIO, "%s: cannot start a worker: %s", file, !buf ? "out of memory" : strerror(errno));
    goto done;
  }
  atomic_store(&b->phase, RF_PHASE_START);
  atomic_store(&b->ticks, 0);
  fflush(stdout);
  fflush(stderr);
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) {
    st = rf__err(RF_EIO, "%s: cannot start a worker: %s", file, strerror(errno));
    goto done;
  }
  if (pid == 0) {
    close(fds[0]);
    rf__child(fds[1], parent, b, fn, arg, result, result_len);
  }
  close(fds[1]);
  fds[1] = -1;
  rf_watchdog w;
  rf_watchdog_start(&w, pid, b);
  int killed = 0, stalled = 0, eof = 0, ws = 0;
  while (!eof) {
    struct pollfd pf = {fds[0], POLLIN, 0};
    int r = poll(&pf, 1, RF__POLL_MS);
    if (r > 0) {
      ssize_t n = read(fds[0], buf + got, want - got);
      if (n > 0) got += (size_t)n;
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) eof = 1;
      if (got == want) eof = 1;
    }
    if (eof) break;
    if (rf_cancel) {
      killed = 1;
      break;
    }
    if (rf_watchdog_stalled(&w, watchdog_s)) {
      stalled = 1;
      break;
    }
  }
  int phase = rf_watch_block_phase(b);
  if (killed || stalled) kill(pid, SIGKILL);
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  if (killed) {
    st = rf__err(RF_EINTR, "%s: interrupted; nothing was written and the output folder is as it was", file);
  } else if (stalled) {
    st = rf_supervise_failure(file, phase, 0, watchdog_s);
  } else if (got == want) {
    const rf__answer *a = (const rf__answer *)buf;
    memcpy(result, buf + sizeof *a, result_len);
    st = a->status;
    if (st) rf__err(st, "%s", a->msg);
  } else if (WIFSIGNALED(ws)) {
    st = rf_supervise_failure(file, phase, WTERMSIG(ws), 0);
  } else if (phase == RF_PHASE_START || phase == RF_PHASE_OPEN || phase == RF_PHASE_DWELLS ||
             phase == RF_PHASE_QUICKLOOK) {
    /* E.g. a sanitizer's report on a crash inside libhdf5 exits with 1. */
    st = rf__err(RF_EFORMAT, "%s: corrupt file: the worker reading it ended (status %d) without an answer in phase "
                 "%s; nothing was written", file, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, rf_phase_name(phase));
  } else {
    st = rf__err(RF_EIO, "%s: the worker ended (status %d) without an answer in phase %s", file,
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, rf_phase_name(phase));
  }
done:
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
  if (b != MAP_FAILED) munmap(b, sizeof *b);
  rf__free(buf);
  return st;
}

/* ---- radarflow process ------------------------------------------------------------------ */
typedef struct rf__proc_job {
  const char *capture, *dir, *guard, *device;
  const rf_config *cfg;
} rf__proc_job;

static int rf__proc_child(void *arg, void *result) {
  const rf__proc_job *j = arg;
  return rf_process_capture_into(j->capture, j->dir, j->guard, j->cfg, j->device, result);
}

static int rf__quicklook_child(void *arg, void *result) {
  const rf__proc_job *j = arg;
  (void)result;
  rf_quicklook_opts qo;
  rf_quicklook_opts_default(&qo);
  qo.capture = j->capture;
  rf_watch_phase(RF_PHASE_QUICKLOOK);
  return rf_quicklook_product(j->dir, &qo, NULL);
}

int rf_process_supervised(const char *capture, const char *outdir, const rf_config *cfg, const char *device,
                          int quicklook, rf_run_summary *sum) {
  rf_outset *o = NULL;
  memset(sum, 0, sizeof *sum);
  int st = rf_config_check(cfg);
  if (!st) st = rf_outset_create(&o, outdir, &capture, 1, 0);
  if (st) return st;
  rf__proc_job j = {capture, rf_outset_tmpdir(o), rf_outset_dir(o), device, cfg};
  st = rf_supervise(rf__proc_child, &j, sum, sizeof *sum, capture, cfg->watchdog_s);
  if (!st && rf_cancel) st = rf__err(RF_EINTR, "%s: interrupted; the output folder was left as it was", capture);
  if (!st) st = rf_outset_commit(o);
  rf_outset_destroy(o);
  if (!st && quicklook && !rf_cancel) st = rf_process_supervised_quicklook(capture, outdir, cfg);
  return st;
}

int rf_process_supervised_quicklook(const char *capture, const char *outdir, const rf_config *cfg) {
  char dummy = 0;
  rf__proc_job j = {capture, outdir, NULL, NULL, cfg};
  return rf_supervise(rf__quicklook_child, &j, &dummy, sizeof dummy, capture, cfg->watchdog_s);
}
