/* radarflow batch, batch-worker and batch-merge (docs/batch.md).
 *
 * `batch` plans the run (rf_batch.h), then hands captures one at a time to
 * worker processes: `radarflow batch-worker` started with posix_spawn of
 * /proc/self/exe (HDF5 is not thread-safe and OpenMP does not survive fork).
 * A worker reads one JSON header line (settings, threads, config hash), then
 * one JSON job per line on stdin, and answers one JSON result per line on
 * stdout; it keeps its FFTW wisdom and libraries loaded across captures. A
 * worker that dies fails only the capture it was on and is replaced. */
#include "../pipelines/rf_batch.h"
#include "rf_cmds.h"
#include "../pipelines/rf_pipeline.h"
#include "../pipelines/rf_supervise.h"
#include "../host/rf_progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Redraw period of the terminal progress line, s. */
#define RF__PROGRESS_PERIOD_S 0.25
/* A worker that dies this many times in a row without answering once means
 * workers cannot run at all: the batch stops instead of looping. */
#define RF__MAX_WORKER_DEATHS 3
#define RF__LINE_MAX ((size_t)1 << 20)
/* Default workers: one per core (one thread each; measured faster than fewer
 * workers with more threads on many small captures), at most this many so
 * memory stays bounded on large nodes. */
#define RF__DEFAULT_MAX_JOBS 32
/* After SIGINT/SIGTERM, workers get this long to stop between dwells before
 * they are killed (one stuck in a read never would). */
#define RF__CANCEL_GRACE_S 5.0
/* The fd a worker finds its progress block on ($RF_WATCH_FD). */
#define RF__WATCH_FD 3

static const char rf__help_batch[] =
    "Usage: radarflow batch INPUT... -o OUTROOT [OPTIONS]\n"
    "Processes many captures as `radarflow process` does, each into OUTROOT/<name>/,\n"
    "and writes OUTROOT/summary.json. INPUT: capture files, folders (their *.h5 files)\n"
    "or manifests (one capture or folder a line).\n\n"
    "  -o, --output DIR       output root (created if missing; required)\n"
    "  -j, --jobs N           worker processes (default: one per core, at most 32);\n"
    "                         each gets cores/N threads unless run.threads is set\n"
    "  -d, --device DEV       as for radarflow process: auto (default), cpu, opencl,\n"
    "                         opencl:P:D or part of a device name\n"
    "  -c, --config FILE      settings (INI), as for process\n"
    "      --set SEC.KEY=VAL  override one setting (repeatable)\n"
    "      --resume           skip captures whose products are complete and were made\n"
    "                         from the same input and settings\n"
    "      --shard K/N        process only slice K (0 <= K < N) of the sorted inputs;\n"
    "                         writes OUTROOT/summary.shard-K-of-N.json (see batch-merge)\n"
    "      --manifest FILE    read captures from FILE (one path a line)\n"
    "      --progress MODE    auto (a live line on a terminal, else timestamped lines),\n"
    "                         line, plain or none\n"
    "      --timeout S        stop a capture that takes longer than S seconds (it fails;\n"
    "                         the rest go on); default: no limit\n"
    "      --allow-external   read samples and follow HDF5 links into files outside a\n"
    "                         capture's folder (refused by default)\n"
    "  -q, --quiet            print only failures\n"
    "  -v, --verbose          print every capture and worker event\n\n"
    "Exit status: 0 every capture done or skipped, 1 any failed, 2 bad usage,\n"
    "130 interrupted (SIGINT/SIGTERM stop workers between dwells).\n";

static const char rf__help_merge[] =
    "Usage: radarflow batch-merge OUTROOT [-q]\n"
    "Joins OUTROOT/summary.shard-K-of-N.json of every shard into OUTROOT/summary.json\n"
    "and checks that every capture appears exactly once.\n"
    "Exit status: 0 complete and nothing failed, 1 a shard missing or a capture\n"
    "failed, 2 bad usage or unreadable shard summaries.\n";

/* Cores this process may use: its CPU affinity, capped by Slurm's
 * SLURM_CPUS_PER_TASK (task/none does not bind). */
static int rf__cores(void) {
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  const char *s = getenv("SLURM_CPUS_PER_TASK");
  if (s && atoi(s) > 0 && atoi(s) < n) n = atoi(s);
  return n > 0 ? n : 1;
}


/* ---- worker ------------------------------------------------------------------------ */
int rf_batch_worker_cmd(int argc, char **argv) {
  if (argc != 2) return rf_cli_usage("batch-worker", "expected OUTROOT (internal command of batch)");
  const char *root = argv[1], *parent = getenv("RF_BATCH_PARENT");
  /* Die with the coordinator: a killed batch leaves no worker writing. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent && (long)getppid() != atol(parent)) return 1;
  rf_log_level = 0;
  char *line = NULL;
  size_t cap = 0;
  rf_config cfg;
  rf_config_defaults(&cfg);
  uint64_t config_hash = 0;
  int st = 0;
  if (getline(&line, &cap, stdin) < 0) goto done;
  cJSON *h = cJSON_Parse(line);
  const cJSON *sets = cJSON_GetObjectItemCaseSensitive(h, "settings"), *s;
  const cJSON *hash = cJSON_GetObjectItemCaseSensitive(h, "config_hash");
  const cJSON *dv = cJSON_GetObjectItemCaseSensitive(h, "device");
  char device[128] = "auto";
  if (cJSON_IsString(dv)) snprintf(device, sizeof device, "%s", dv->valuestring);
  if (!h || !cJSON_IsArray(sets) || !cJSON_IsString(hash)) {
    cJSON_Delete(h);
    fprintf(stderr, "radarflow: batch-worker: bad header line\n");
    st = 2;
    goto done;
  }
  cJSON_ArrayForEach(s, sets) {
    if (!cJSON_IsString(s) || rf_config_set(&cfg, s->valuestring)) {
      fprintf(stderr, "radarflow: batch-worker: %s\n", rf_errmsg());
      st = 2;
    }
  }
  config_hash = strtoull(hash->valuestring, NULL, 16);
  const cJSON *lv = cJSON_GetObjectItemCaseSensitive(h, "log_level");
  if (cJSON_IsNumber(lv) && lv->valueint > 1) rf_log_level = 2;
  rf_capture_allow_external(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "allow_external")));
  const char *wfd = getenv("RF_WATCH_FD");
  if (wfd) rf_watch_attach_fd(atoi(wfd));
  cJSON_Delete(h);
  if (st) goto done;
  while (!rf_cancel && getline(&line, &cap, stdin) > 0) {
    cJSON *job = cJSON_Parse(line);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(job, "input");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(job, "name");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(job, "i");
    rf_batch_result r;
    if (!cJSON_IsString(in) || !cJSON_IsString(name) || !cJSON_IsNumber(ix)) {
      cJSON_Delete(job);
      fprintf(stderr, "radarflow: batch-worker: bad job line\n");
      st = 2;
      break;
    }
    rf_batch_process_one(root, in->valuestring, name->valuestring, &cfg, device, config_hash, &r);
    char *ans = rf_batch_result_to_json(&r);
    /* The job number goes first so the coordinator can match the answer. */
    if (!ans || printf("{\"i\":%d,\"r\":%s}\n", ix->valueint, ans) < 0 || fflush(stdout) != 0) {
      rf__free(ans);
      cJSON_Delete(job);
      st = 1;
      break;
    }
    rf__free(ans);
    cJSON_Delete(job);
  }
done:
  free(line);
  return st;
}

/* ---- coordinator ------------------------------------------------------------------- */
typedef struct rf__worker {
  pid_t pid;          /* 0: not running */
  int in_fd, out_fd;  /* its stdin (we write), its stdout (we read) */
  long job;           /* item being processed, -1 idle */
  char *buf;          /* partial answer line */
  size_t len;
  rf_watch_block *wb; /* its progress block (shared memory), fd wfd */
  int wfd;
  rf_watchdog wd;
  double job_t0;      /* when the job was handed out */
  int stop;           /* why we killed it: 0 not, 1 --timeout, 2 no progress */
} rf__worker;

typedef struct rf__batch {
  const char *root, *device;
  rf_config cfg;
  uint64_t config_hash;
  rf_batch_list list;
  rf_batch_result *res;
  uint64_t *sizes;     /* input bytes per item (stat at planning) */
  int jobs, threads, verbose, quiet, progress; /* progress: 0 none, 1 plain, 2 line */
  rf__worker *w;
  size_t next;         /* next item to hand out */
  size_t finished, to_run, failed, worker_deaths;
  uint64_t bytes_done, bytes_to_run;
  double busy_s, busy_bytes;  /* worker seconds and input bytes of the captures done */
  size_t dwells_done;
  double t0;
  rf_progress *prog;   /* the live line (progress 2) and the rate / ETA text */
  int cancel_sent;
  double cancel_t;     /* when SIGTERM went to the workers */
  int timeout_s, allow_external;
  char *header;        /* worker header line */
} rf__batch;

/* The progress (host/rf_progress.h) brought up to date: captures finished
 * or up to date out of all, bytes of input processed out of those to run
 * (the ETA is by bytes, so captures of mixed sizes count by their size). */
static void rf__progress_update(rf__batch *b) {
  char note[64] = "";
  if (b->failed) snprintf(note, sizeof note, "%zu failed", b->failed);
  /* The captures in flight count by how far they probably are: their time
   * so far at the rate one worker processed the captures done (bytes per
   * worker second), up to their size. */
  double work = (double)b->bytes_done, now = rf_now_s();
  for (int i = 0; b->w && b->busy_s > 0 && i < b->jobs; i++)
    if (b->w[i].pid && b->w[i].job >= 0)
      work += fmin((double)b->sizes[b->w[i].job], (now - b->w[i].job_t0) * b->busy_bytes / b->busy_s);
  rf_progress_update(b->prog, b->finished + (b->list.n - b->to_run), b->list.n, work, note);
}

/* Rate and time-left text for the report lines. */
static void rf__stats(const rf__batch *b, char *out, size_t len) { rf_progress_format_rates(b->prog, out, len); }

static void rf__clear_line(rf__batch *b) { rf_progress_clear(b->prog); }

static void rf__draw(rf__batch *b, int force) {
  (void)force;
  rf__progress_update(b);
}

/* One line per finished capture: failures always, others unless quiet (in
 * line mode only with --verbose, the live line shows the rest). */
static void rf__report(rf__batch *b, size_t i) {
  const rf_batch_result *r = &b->res[i];
  int fail = r->status == RF_BATCH_FAILED;
  if (!fail && (b->quiet || (b->progress == 2 && !b->verbose) || b->progress == 0)) return;
  rf__clear_line(b);
  char when[32], st[512];
  rf_utc_now(when, sizeof when);
  rf__progress_update(b);
  rf__stats(b, st, sizeof st);
  size_t done = b->finished + (b->list.n - b->to_run);
  if (r->status == RF_BATCH_DONE)
    fprintf(stderr, "%s [%zu/%zu] %s: done, %zu dwells, %zu plots, %.2f s on %s | %s\n", when, done,
            b->list.n, b->list.v[i].name, r->dwells, r->plots, r->seconds, r->device[0] ? r->device : "?", st);
  else
    fprintf(stderr, "%s [%zu/%zu] %s: %s: %s\n", when, done, b->list.n, b->list.v[i].name,
            rf_batch_status_name(r->status), r->error);
  fflush(stderr);
}

static void rf__close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static int rf__spawn(rf__batch *b, int id) {
  rf__worker *w = &b->w[id];
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  char **env = NULL;
  char e_parent[64], e_worker[64], e_workers[64];
  int st = 0, fa_ok = 0, at_ok = 0;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
    st = rf__err(RF_EIO, "batch: cannot create a pipe: %s", strerror(errno));
    goto done;
  }
  size_t ne = 0;
  while (environ[ne]) ne++;
  if (!(env = rf__calloc(ne + 6, sizeof *env))) {
    st = rf__err(RF_ENOMEM, "batch: out of memory");
    goto done;
  }
  size_t k = 0;
  for (size_t i = 0; i < ne; i++)
    if (strncmp(environ[i], "RF_BATCH_", 9) && strncmp(environ[i], "RF_WATCH_FD=", 12)) env[k++] = environ[i];
  snprintf(e_parent, sizeof e_parent, "RF_BATCH_PARENT=%ld", (long)getpid());
  snprintf(e_worker, sizeof e_worker, "RF_BATCH_WORKER=%d", id);
  snprintf(e_workers, sizeof e_workers, "RF_BATCH_WORKERS=%d", b->jobs);
  env[k++] = e_parent;
  env[k++] = e_worker;
  env[k++] = e_workers;
  /* Idle OpenMP threads of one worker must not spin on cores another uses. */
  if (b->jobs > 1 && !getenv("OMP_WAIT_POLICY")) env[k++] = "OMP_WAIT_POLICY=PASSIVE";
  env[k] = NULL;
  if (!w->wb && !(w->wb = rf_watch_block_create(&w->wfd))) {
    st = rf__err(RF_EIO, "batch: cannot create a progress block: %s", strerror(errno));
    goto done;
  }
  env[k++] = "RF_WATCH_FD=3";
  env[k] = NULL;
  if (posix_spawn_file_actions_init(&fa) || (fa_ok = 1, posix_spawn_file_actions_adddup2(&fa, in[0], 0)) ||
      posix_spawn_file_actions_adddup2(&fa, out[1], 1) ||
      posix_spawn_file_actions_adddup2(&fa, w->wfd, RF__WATCH_FD) || posix_spawnattr_init(&at) ||
      (at_ok = 1, 0)) {
    st = rf__err(RF_ENOMEM, "batch: out of memory");
    goto done;
  }
  sigset_t def, none;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char *argv[] = {"radarflow", "batch-worker", (char *)b->root, NULL};
  int e = posix_spawn(&w->pid, "/proc/self/exe", &fa, &at, argv, env);
  if (e) {
    w->pid = 0;
    st = rf__err(RF_EIO, "batch: cannot start a worker: %s", strerror(e));
    goto done;
  }
  w->in_fd = in[1];
  w->out_fd = out[0];
  in[1] = out[0] = -1;
  w->job = -1;
  w->len = 0;
  w->stop = 0;
  size_t hl = strlen(b->header);
  if (write(w->in_fd, b->header, hl) != (ssize_t)hl) { /* the death shows as EOF */ }
  if (b->verbose) {
    rf__clear_line(b);
    fprintf(stderr, "batch: worker %d started (pid %ld, %d threads)\n", id, (long)w->pid, b->threads);
  }
done:
  if (fa_ok) posix_spawn_file_actions_destroy(&fa);
  if (at_ok) posix_spawnattr_destroy(&at);
  rf__free(env);
  rf__close_fd(&in[0]);
  rf__close_fd(&in[1]);
  rf__close_fd(&out[0]);
  rf__close_fd(&out[1]);
  return st;
}

static void rf__give_job(rf__batch *b, rf__worker *w) {
  while (b->next < b->list.n && b->res[b->next].status != RF_BATCH_PENDING) b->next++;
  if (b->next >= b->list.n) return;
  size_t i = b->next++;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "i", (double)i);
  cJSON_AddStringToObject(j, "input", b->list.v[i].input);
  cJSON_AddStringToObject(j, "name", b->list.v[i].name);
  char *t = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  w->job = (long)i;
  w->job_t0 = rf_now_s();
  rf_watchdog_start(&w->wd, w->pid, w->wb);
  if (!t) return; /* out of memory: the job stays with the worker and fails below */
  size_t n = strlen(t);
  t[n] = '\n';
  ssize_t wr = write(w->in_fd, t, n + 1); /* a short write means the worker died: EOF follows */
  (void)wr;
  cJSON_free(t);
}

/* The worker's end: its capture (if any) fails with how it died. */
static void rf__reap(rf__batch *b, int id) {
  rf__worker *w = &b->w[id];
  int ws = 0;
  rf__close_fd(&w->in_fd);
  rf__close_fd(&w->out_fd);
  while (waitpid(w->pid, &ws, 0) < 0 && errno == EINTR) {}
  if (w->job >= 0) {
    rf_batch_result *r = &b->res[w->job];
    memset(r, 0, sizeof *r);
    r->tracks = -1;
    r->worker = id;
    if (rf_cancel) {
      r->status = RF_BATCH_INTERRUPTED;
      r->code = RF_EINTR;
      snprintf(r->error, sizeof r->error, "%s: interrupted", b->list.v[w->job].input);
    } else {
      const char *in = b->list.v[w->job].input;
      int phase = rf_watch_block_phase(w->wb);
      r->status = RF_BATCH_FAILED;
      r->code = RF_EIO;
      if (w->stop == 1) {
        snprintf(r->error, sizeof r->error, "%s: timed out after %d s (--timeout); its worker was stopped in phase "
                 "%s, nothing was written", in, b->timeout_s, rf_phase_name(phase));
      } else if (w->stop == 2 || WIFSIGNALED(ws)) {
        r->code = rf_supervise_failure(in, phase, w->stop == 2 ? 0 : WTERMSIG(ws), w->stop == 2 ? b->cfg.watchdog_s : 0);
        snprintf(r->error, sizeof r->error, "%s", rf_errmsg());
      } else {
        snprintf(r->error, sizeof r->error, "%s: worker exited with status %d while processing it", in,
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
      }
      b->failed++;
    }
    /* Its temporary folder, if any (the worker is gone, so it is stale). */
    rf_batch_list tmp_list = {.v = &b->list.v[w->job], .n = 1, .total = 1};
    rf_batch_clean_stale(b->root, &tmp_list);
    b->finished++;
    rf__report(b, (size_t)w->job);
    b->worker_deaths++;
  } else if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) && !rf_cancel) {
    b->worker_deaths++;
  }
  if (b->verbose) {
    rf__clear_line(b);
    fprintf(stderr, "batch: worker %d (pid %ld) ended: %s %d\n", id, (long)w->pid,
            WIFSIGNALED(ws) ? "signal" : "exit", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
  }
  w->pid = 0;
  w->job = -1;
  w->stop = 0;
}

/* Stops workers past --timeout or without progress for run.watchdog_s, and
 * after SIGINT/SIGTERM those that did not stop within the grace time; their
 * pipes then close and rf__reap reports them. */
static void rf__police(rf__batch *b) {
  double now = rf_now_s();
  for (int i = 0; i < b->jobs; i++) {
    rf__worker *w = &b->w[i];
    if (!w->pid || w->stop) continue;
    if (b->cancel_sent && now - b->cancel_t > RF__CANCEL_GRACE_S) {
      w->stop = 3;
      kill(w->pid, SIGKILL);
    } else if (w->job >= 0 && b->timeout_s > 0 && now - w->job_t0 > (double)b->timeout_s) {
      w->stop = 1;
      kill(w->pid, SIGKILL);
    } else if (w->job >= 0 && rf_watchdog_stalled(&w->wd, b->cfg.watchdog_s)) {
      w->stop = 2;
      kill(w->pid, SIGKILL);
    }
  }
}

/* Handles the complete lines of a worker's answer buffer. */
static void rf__answers(rf__batch *b, rf__worker *w) {
  char *nl;
  while ((nl = memchr(w->buf, '\n', w->len))) {
    *nl = 0;
    cJSON *a = cJSON_Parse(w->buf);
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(a, "i"), *r = cJSON_GetObjectItemCaseSensitive(a, "r");
    char *rt = r ? cJSON_PrintUnformatted(r) : NULL;
    rf_batch_result res;
    if (cJSON_IsNumber(ix) && ix->valueint == w->job && rt && rf_batch_result_from_json(rt, &res) == 0) {
      res.worker = (int)(w - b->w);
      b->res[w->job] = res;
      if (res.status == RF_BATCH_FAILED) b->failed++;
      b->dwells_done += res.dwells;
      b->bytes_done += b->sizes[w->job];
      if (res.status == RF_BATCH_DONE && res.seconds > 0) {
        b->busy_s += res.seconds;
        b->busy_bytes += (double)b->sizes[w->job];
      }
      b->finished++;
      b->worker_deaths = 0;
      rf__report(b, (size_t)w->job);
      w->job = -1;
    }
    if (rt) cJSON_free(rt);
    cJSON_Delete(a);
    size_t used = (size_t)(nl - w->buf) + 1;
    memmove(w->buf, nl + 1, w->len - used);
    w->len -= used;
  }
}

/* 1 while items wait to be handed out (and no stop was asked for). */
static int rf__has_pending(rf__batch *b) {
  while (b->next < b->list.n && b->res[b->next].status != RF_BATCH_PENDING) b->next++;
  return b->next < b->list.n && !rf_cancel;
}

/* Runs the pending items through the worker pool. */
static int rf__run_pool(rf__batch *b) {
  struct pollfd *pf = rf__calloc((size_t)b->jobs, sizeof *pf);
  int *who = rf__calloc((size_t)b->jobs, sizeof *who);
  int st = 0;
  if (!pf || !who) {
    st = rf__err(RF_ENOMEM, "batch: out of memory");
    goto done;
  }
  for (int i = 0; i < b->jobs; i++) {
    b->w[i].in_fd = b->w[i].out_fd = -1;
    b->w[i].wfd = -1;
    b->w[i].job = -1;
    if (!(b->w[i].buf = rf__malloc(RF__LINE_MAX))) {
      st = rf__err(RF_ENOMEM, "batch: out of memory");
      goto done;
    }
  }
  for (;;) {
    int more = rf__has_pending(b) && !st;
    if (more && b->worker_deaths >= RF__MAX_WORKER_DEATHS * (size_t)b->jobs) {
      rf__clear_line(b);
      fprintf(stderr, "radarflow: batch: workers keep dying; the remaining captures are not run\n");
      st = RF_EIO;
      more = 0;
    }
    int n = 0;
    for (int i = 0; i < b->jobs; i++) {
      rf__worker *w = &b->w[i];
      if (!w->pid && more && (st = rf__spawn(b, i))) {
        rf__clear_line(b);
        fprintf(stderr, "radarflow: %s\n", rf_errmsg());
        more = 0;
      }
      if (!w->pid) continue;
      if (w->job < 0 && more) {
        rf__give_job(b, w);
        more = rf__has_pending(b) && !st;
      }
      if (w->job < 0) rf__close_fd(&w->in_fd); /* nothing for it: EOF, it exits */
      pf[n].fd = w->out_fd;
      pf[n].events = POLLIN;
      who[n++] = i;
    }
    if (!n) break;
    if (rf_cancel && !b->cancel_sent) {
      /* Workers stop between dwells and answer "interrupted". */
      for (int i = 0; i < b->jobs; i++)
        if (b->w[i].pid) kill(b->w[i].pid, SIGTERM);
      b->cancel_sent = 1;
      b->cancel_t = rf_now_s();
    }
    rf__police(b);
    int r = poll(pf, (nfds_t)n, (int)(RF__PROGRESS_PERIOD_S * 1000));
    if (r < 0 && errno != EINTR) {
      st = rf__err(RF_EIO, "batch: poll: %s", strerror(errno));
      break;
    }
    for (int k = 0; r > 0 && k < n; k++) {
      if (!pf[k].revents) continue;
      rf__worker *w = &b->w[who[k]];
      ssize_t got = read(w->out_fd, w->buf + w->len, RF__LINE_MAX - 1 - w->len);
      if (got > 0) {
        w->len += (size_t)got;
        rf__answers(b, w);
        if (w->len >= RF__LINE_MAX - 1) w->len = 0; /* an absurd line: dropped */
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        rf__reap(b, who[k]);
      }
    }
    rf__draw(b, 0);
  }
done:
  for (int i = 0; b->w && i < b->jobs; i++) {
    if (b->w[i].pid) {
      kill(b->w[i].pid, SIGKILL);
      rf__reap(b, i);
    }
    rf__free(b->w[i].buf);
    rf_watch_block_destroy(b->w[i].wb, b->w[i].wfd);
  }
  rf__free(pf);
  rf__free(who);
  return st;
}

/* The worker header: every setting as section.key=value, the hash, log level. */
static char *rf__make_header(const rf__batch *b) {
  cJSON *h = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(h, "settings");
  char hex[17], a[256];
  for (size_t i = 0; i < rf_config_count(); i++) {
    const char *sec, *key;
    char val[64];
    rf_config_describe(&b->cfg, i, &sec, &key, val, sizeof val);
    snprintf(a, sizeof a, "%s.%s=%s", sec, key, val);
    cJSON_AddItemToArray(arr, cJSON_CreateString(a));
  }
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)b->config_hash);
  cJSON_AddStringToObject(h, "config_hash", hex);
  cJSON_AddStringToObject(h, "device", b->device);
  cJSON_AddNumberToObject(h, "log_level", b->verbose ? 2 : 1);
  cJSON_AddBoolToObject(h, "allow_external", b->allow_external);
  char *t = cJSON_PrintUnformatted(h);
  cJSON_Delete(h);
  if (!t) return NULL;
  size_t n = strlen(t);
  char *out = rf__malloc(n + 2);
  if (out) {
    memcpy(out, t, n);
    out[n] = '\n';
    out[n + 1] = 0;
  }
  cJSON_free(t);
  return out;
}

/* What the command line asks for, beyond the rf__batch it fills. */
typedef struct rf__batch_args {
  const char *manifest, *progress;
  int resume, sharded;
  size_t shard_k, shard_n;
} rf__batch_args;

/* Options into b and a; 0 to go on, else the exit code (help: 0 with *done). */
static int rf__batch_options(int argc, char **argv, rf__batch *b, rf__batch_args *a, int *done) {
  enum { OPT_SET = 256, OPT_RESUME, OPT_SHARD, OPT_MANIFEST, OPT_PROGRESS, OPT_TIMEOUT, OPT_EXTERNAL };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"jobs", required_argument, 0, 'j'},
                                       {"device", required_argument, 0, 'd'},
                                       {"config", required_argument, 0, 'c'},
                                       {"set", required_argument, 0, OPT_SET},
                                       {"resume", no_argument, 0, OPT_RESUME},
                                       {"shard", required_argument, 0, OPT_SHARD},
                                       {"manifest", required_argument, 0, OPT_MANIFEST},
                                       {"progress", required_argument, 0, OPT_PROGRESS},
                                       {"timeout", required_argument, 0, OPT_TIMEOUT},
                                       {"allow-external", no_argument, 0, OPT_EXTERNAL},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c, st;
  *done = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:j:d:c:qvh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': b->root = optarg; break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 1024) return rf_cli_usage("batch", "--jobs needs an integer in 1..1024");
      b->jobs = (int)v;
      break;
    }
    case 'd': b->device = optarg; break;
    case 'c':
      if ((st = rf_config_load(&b->cfg, optarg))) return rf_cli_fail(st);
      break;
    case OPT_SET:
      if ((st = rf_config_set(&b->cfg, optarg))) return rf_cli_fail(st);
      break;
    case OPT_RESUME: a->resume = 1; break;
    case OPT_SHARD:
      if ((st = rf_batch_parse_shard(optarg, &a->shard_k, &a->shard_n))) return rf_cli_fail(st);
      a->sharded = 1;
      break;
    case OPT_MANIFEST: a->manifest = optarg; break;
    case OPT_PROGRESS: a->progress = optarg; break;
    case OPT_TIMEOUT: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || !*optarg || v < 1 || v > 86400 * 30)
        return rf_cli_usage("batch", "--timeout needs whole seconds in 1..2592000");
      b->timeout_s = (int)v;
      break;
    }
    case OPT_EXTERNAL: b->allow_external = 1; break;
    case 'q': b->quiet = 1; break;
    case 'v': b->verbose = 1; break;
    case 'h': fputs(rf__help_batch, stdout); *done = 1; return 0;
    default: return rf_cli_bad_option("batch", argv, "o:j:d:c:qvh", opts);
    }
  }
  if (!b->root) return rf_cli_usage("batch", "-o OUTROOT is required");
  if (optind >= argc && !a->manifest) return rf_cli_usage("batch", "expected INPUT captures, folders or a manifest");
  if (!*b->device) return rf_cli_usage("batch", "--device needs a value");
  if (!strcmp(a->progress, "auto")) {
    const char *term = getenv("TERM");
    b->progress = isatty(2) && !getenv("CI") && term && strcmp(term, "dumb") ? 2 : 1;
  } else if (!strcmp(a->progress, "line")) b->progress = 2;
  else if (!strcmp(a->progress, "plain")) b->progress = 1;
  else if (!strcmp(a->progress, "none")) b->progress = 0;
  else return rf_cli_usage("batch", "--progress: auto, line, plain or none");
  if (b->quiet && b->progress == 2) b->progress = 0;
  return 0;
}

/* Sizes, resume checks, workers and threads for the planned list. */
static int rf__batch_plan(rf__batch *b, const rf__batch_args *a) {
  b->config_hash = rf_batch_config_hash(&b->cfg);
  int cores = rf__cores();
  if (!b->jobs) b->jobs = cores < RF__DEFAULT_MAX_JOBS ? cores : RF__DEFAULT_MAX_JOBS;
  b->res = rf__calloc(b->list.n ? b->list.n : 1, sizeof *b->res);
  b->sizes = rf__calloc(b->list.n ? b->list.n : 1, sizeof *b->sizes);
  if (!b->res || !b->sizes) return rf__err(RF_ENOMEM, "batch: out of memory");
  size_t removed = rf_batch_clean_stale(b->root, &b->list);
  if (removed && b->verbose) fprintf(stderr, "batch: removed %zu temporaries of an earlier run\n", removed);
  for (size_t i = 0; i < b->list.n; i++) {
    b->res[i].tracks = -1;
    b->res[i].worker = -1;
    struct stat sb;
    b->sizes[i] = stat(b->list.v[i].input, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (a->resume && rf_batch_check_resume(b->root, &b->list.v[i], b->config_hash, &b->res[i])) continue;
    b->to_run++;
    b->bytes_to_run += b->sizes[i];
  }
  if (b->jobs > (int)b->to_run) b->jobs = b->to_run ? (int)b->to_run : 1;
  b->threads = b->cfg.threads > 0 ? b->cfg.threads : (cores / b->jobs > 1 ? cores / b->jobs : 1);
  b->cfg.threads = b->threads;
  if (!b->quiet && b->progress)
    fprintf(stderr, "batch: %zu captures (%zu to run, %zu up to date)%s, %d workers x %d threads -> %s\n",
            b->list.n, b->to_run, b->list.n - b->to_run, a->sharded ? " in this shard" : "", b->jobs, b->threads,
            b->root);
  return 0;
}

/* The pending captures through the worker pool (b->header and b->w made);
 * the pool's status. */
static int rf__batch_run(rf__batch *b) {
  if (!b->to_run) return 0;
  /* A dead worker's pipe must not kill the coordinator. */
  signal(SIGPIPE, SIG_IGN);
  rf_progress_opts po = {.mode = b->progress == 2 ? RF_PROGRESS_LINE : RF_PROGRESS_NONE, .label = "batch",
                         .item = "capture", .total = b->list.n, .work_total = (double)b->bytes_to_run, .eta = 1};
  int st = rf_progress_create(&b->prog, &po);
  if (st) return st;
  st = rf__run_pool(b);
  rf__draw(b, 1);
  rf__clear_line(b);
  rf_progress_destroy(b->prog);
  b->prog = NULL;
  /* Again at the end: workers of a killed earlier run may still have been
   * exiting (their temporaries then looked alive) when this run began. */
  rf_batch_clean_stale(b->root, &b->list);
  return st;
}

/* Marks what was not run, writes the summary, prints the totals; the exit
 * code: 130 interrupted, 1 anything failed or not run, else 0. */
static int rf__batch_finish(rf__batch *b, const rf__batch_args *a, const char *started, const char *sum_path,
                            int pool_st) {
  for (size_t i = 0; i < b->list.n; i++)
    if (b->res[i].status == RF_BATCH_PENDING) {
      b->res[i].status = RF_BATCH_INTERRUPTED;
      b->res[i].code = rf_cancel ? RF_EINTR : RF_EIO;
      snprintf(b->res[i].error, sizeof b->res[i].error, "%s: not run: %s", b->list.v[i].input,
               rf_cancel ? "the batch was interrupted" : "the workers could not run");
    }
  rf_batch_run_info info = {.started_utc = started,
                            .shard_k = a->shard_k,
                            .shard_n = a->sharded ? a->shard_n : 0,
                            .jobs = b->jobs,
                            .threads = b->threads,
                            .seconds = rf_now_s() - b->t0,
                            .config_hash = b->config_hash};
  int wst = rf_batch_write_summary(sum_path, &b->list, b->res, &info);
  if (wst) fprintf(stderr, "radarflow: %s\n", rf_errmsg());
  rf_batch_totals t;
  rf_batch_count(b->res, b->list.n, &t);
  double el = rf_now_s() - b->t0;
  if (!b->quiet)
    printf("batch: %zu captures: %zu done, %zu skipped, %zu failed%s%s in %.2f s (%.2f captures/s)%s%s\n",
           t.captures, t.done, t.skipped, t.failed, t.interrupted ? ", interrupted: " : "",
           t.interrupted ? "not all run" : "", el, el > 0 ? (double)t.done / el : 0.0,
           wst ? "" : "; summary ", wst ? "" : sum_path);
  fflush(stdout);
  return rf_cancel ? 130 : (t.failed || t.interrupted || wst || pool_st) ? 1 : 0;
}

int rf_batch_cmd(int argc, char **argv) {
  rf__batch b;
  rf__batch_args a = {.progress = "auto"};
  memset(&b, 0, sizeof b);
  b.device = "auto";
  rf_config_defaults(&b.cfg);
  int done, code = rf__batch_options(argc, argv, &b, &a, &done), st;
  if (code || done) return code;
  char started[32], sum_path[4096];
  rf_utc_now(started, sizeof started);
  b.t0 = rf_now_s();
  if ((st = rf_batch_expand(&b.list, (const char *const *)argv + optind, (size_t)(argc - optind), a.manifest)))
    return rf_cli_fail(st);
  if ((st = rf_batch_protect_inputs(&b.list, b.root))) {
    rf_batch_list_free(&b.list);
    return rf_cli_fail(st);
  }
  if (a.sharded) rf_batch_shard(&b.list, a.shard_k, a.shard_n);
  if ((st = rf_batch_summary_path(sum_path, sizeof sum_path, b.root, a.shard_k, a.sharded ? a.shard_n : 0)) ||
      (st = rf_batch_check_summary(sum_path)) || (st = rf_config_check(&b.cfg)) ||
      (st = rf_batch_prepare_root(b.root)) || (st = rf__batch_plan(&b, &a)))
    code = rf_cli_fail(st);
  else if (b.to_run && (!(b.header = rf__make_header(&b)) || !(b.w = rf__calloc((size_t)b.jobs, sizeof *b.w))))
    code = rf_cli_fail(rf__err(RF_ENOMEM, "batch: out of memory"));
  else
    code = rf__batch_finish(&b, &a, started, sum_path, rf__batch_run(&b));
  rf__free(b.header);
  rf__free(b.w);
  rf__free(b.res);
  rf__free(b.sizes);
  rf_batch_list_free(&b.list);
  return code;
}

/* ---- merge ----------------------------------------------------------------------- */
int rf_batch_merge_cmd(int argc, char **argv) {
  static const struct option opts[] = {{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int quiet = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
    switch (c) {
    case 'q': quiet = 1; break;
    case 'h': fputs(rf__help_merge, stdout); return 0;
    default: return rf_cli_bad_option("batch-merge", argv, "qh", opts);
    }
  }
  if (optind + 1 != argc) return rf_cli_usage("batch-merge", "expected one OUTROOT");
  rf_batch_totals t;
  size_t missing = 0;
  int st = rf_batch_merge(argv[optind], &t, &missing);
  if (st) return rf_cli_fail(st);
  if (!quiet)
    printf("batch-merge: %zu captures: %zu done, %zu skipped, %zu failed, %zu interrupted; %s -> %s/summary.json\n",
           t.captures, t.done, t.skipped, t.failed, t.interrupted,
           missing ? "INCOMPLETE (shards or captures missing)" : "complete", argv[optind]);
  if (missing) fprintf(stderr, "radarflow: batch-merge: %zu shard(s) or capture(s) missing\n", missing);
  return missing || t.failed || t.interrupted || t.pending ? 1 : 0;
}
