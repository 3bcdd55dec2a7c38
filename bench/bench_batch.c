/* radarflow benchmark: a batch of many small captures through `radarflow
 * batch` (worker processes), reporting captures per second and the share of
 * worker time spent outside the signal processing (start-up, planning,
 * reading, writing, bookkeeping). One demo-scenario capture is simulated and
 * hard-linked under many names, so the batch reads from the page cache and
 * the disk holds one copy. */
#include "rf_bench.h"
#include "../datasets/rf_sim.h"
#include "../pipelines/rf_batch.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RF__BENCH_SCENARIO "datasets/scenarios/demo.ini"

/* Runs `radarflow batch caps -o out -j jobs` (this binary); wall seconds. */
static int rf__run_batch(const char *caps, const char *out, int jobs, double *wall) {
  char j[16];
  snprintf(j, sizeof j, "%d", jobs);
  char *argv[] = {"radarflow", "batch", (char *)caps, "-o", (char *)out, "-j", j, "-q", NULL};
  return rf_bench_run_self(argv, wall);
}

/* One run's figures from its summary.json: DSP, I/O and busy time per
 * capture against the workers' wall time. */
static int rf__batch_report(const char *out, size_t captures, int j, double wall, struct cJSON *workloads) {
  char p[4096], *txt;
  int st;
  if ((st = rf_path_join(p, sizeof p, out, "summary.json")) || (st = rf_slurp(p, (size_t)64 << 20, &txt, NULL)))
    return st;
  cJSON *s = cJSON_Parse(txt);
  rf__free(txt);
  if (!s) return rf__err(RF_EIO, "%s: cannot read the batch summary", p);
  double dsp = 0, io = 0, busy = 0, dwells = 0;
  cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(s, "captures")) {
    dsp += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "dsp_seconds"));
    io += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "io_seconds"));
    busy += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "seconds"));
    dwells += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "dwells"));
  }
  int threads = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "threads_per_worker"));
  cJSON_Delete(s);
  /* Worker time is wall x workers; what is not DSP is overhead. */
  double worker_s = wall * j, outside = worker_s > 0 ? 1.0 - dsp / worker_s : 0;
  double per_capture_ms = 1e3 * (worker_s - busy) / (double)captures;
  printf("  %d workers x %d threads: %.2f s, %.1f captures/s, %.0f dwells/s; outside DSP %.0f%% "
         "(read+write %.0f%%, start-up/planning/bookkeeping %.0f%%); %.1f ms per capture outside "
         "the capture's own time\n",
         j, threads, wall, (double)captures / wall, dwells / wall, 100 * outside, 100 * io / worker_s,
         100 * (outside - io / worker_s), per_capture_ms);
  if (!workloads) return 0;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToArray(workloads, o);
  cJSON_AddStringToObject(o, "name", "batch");
  cJSON_AddNumberToObject(o, "captures", (double)captures);
  cJSON_AddNumberToObject(o, "jobs", j);
  cJSON_AddNumberToObject(o, "threads_per_worker", threads);
  cJSON_AddNumberToObject(o, "seconds", wall);
  cJSON_AddNumberToObject(o, "captures_per_second", (double)captures / wall);
  cJSON_AddNumberToObject(o, "dwells_per_second", dwells / wall);
  cJSON_AddNumberToObject(o, "share_outside_dsp", outside);
  cJSON_AddNumberToObject(o, "share_io", io / worker_s);
  cJSON_AddNumberToObject(o, "overhead_ms_per_capture", per_capture_ms);
  return 0;
}

/* `captures` hard links to one simulated demo capture in caps. */
static int rf__batch_inputs(const char *caps, const char *master, size_t captures) {
  rf_scenario *sc = NULL;
  int st;
  if ((st = rf_mkdirs(caps)) || (st = rf_scenario_load(&sc, RF__BENCH_SCENARIO)) || (st = rf_simulate(sc, master, 1)))
    goto done;
  for (size_t i = 0; i < captures && !st; i++) {
    char name[32], p[4096];
    snprintf(name, sizeof name, "c%04zu.h5", i);
    if (!(st = rf_path_join(p, sizeof p, caps, name)) && link(master, p) < 0)
      st = rf__err(RF_EIO, "%s: cannot link: %s", p, strerror(errno));
  }
done:
  rf_scenario_destroy(sc);
  return st;
}

int rf_bench_batch(const char *dir, size_t captures, int jobs, struct cJSON *workloads) {
  char caps[4096], out[4096], master[4096];
  int st;
  if (captures < 1) captures = 200;
  if ((st = rf_path_join(caps, sizeof caps, dir, "batch-caps")) || (st = rf_path_join(out, sizeof out, dir, "batch-out")) ||
      (st = rf_path_join(master, sizeof master, dir, "batch-demo.h5")))
    return st;
  rf_remove_tree(caps);
  if ((st = rf__batch_inputs(caps, master, captures))) goto done;
  cpu_set_t set;
  int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  int list[2] = {jobs > 0 ? jobs : 1, cores};
  int nrun = jobs > 0 || cores == 1 ? 1 : 2;
  printf("\nbatch: %zu captures of the demo scenario (%s), %d cores\n", captures, RF__BENCH_SCENARIO, cores);
  for (int r = 0; r < nrun && !st; r++) {
    double wall = 0;
    rf_remove_tree(out);
    if (!(st = rf__run_batch(caps, out, list[r], &wall))) st = rf__batch_report(out, captures, list[r], wall, workloads);
  }
done:
  rf_remove_tree(caps);
  rf_remove_tree(out);
  remove(master);
  return st;
}
