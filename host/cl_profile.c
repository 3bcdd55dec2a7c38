/* radarflow: per-kernel device times ($RF_CL_PROFILE=DIR). Every kernel
 * launch (rf_cl_run) and every VkFFT transform (between two markers on the
 * in-order queue) is timed by its profiling events; when the context is
 * destroyed, a JSON file DIR/cl-profile-<pid>-<n>.json (a new file, never
 * one that exists) lists per kernel name: launches, total, least and most
 * device seconds. Events wait in a ring and are read back in batches, so a
 * long run holds a bounded number of them. */
#include "rf_cl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RF__PROF_RING 4096 /* events pending at most */
#define RF__PROF_NAMES 64  /* distinct names; more are counted under "(other)" */

typedef struct rf__prof_stat {
  char name[64];
  size_t count;
  double total, lo, hi;
} rf__prof_stat;

struct rf__cl_prof {
  char dir[4096];
  struct {
    int stat;
    cl_event a, b;
  } ring[RF__PROF_RING];
  size_t head, n;
  rf__prof_stat stat[RF__PROF_NAMES + 1];
  size_t nstat;
};

int rf__cl_prof_create(rf__cl_prof **out, const char *dir) {
  *out = NULL;
  if (!dir || !*dir) return 0;
  rf__cl_prof *p = rf__calloc(1, sizeof *p);
  if (!p) return rf__err(RF_ENOMEM, "opencl: out of memory");
  if (snprintf(p->dir, sizeof p->dir, "%s", dir) >= (int)sizeof p->dir) {
    rf__free(p);
    return rf__err(RF_EINVAL, "RF_CL_PROFILE: folder name too long");
  }
  int st = rf_mkdirs(dir);
  if (st) {
    rf__free(p);
    return st;
  }
  *out = p;
  return 0;
}

/* The entry of a name; past RF__PROF_NAMES names, the last entry "(other)". */
static int rf__prof_stat_of(rf__cl_prof *p, const char *name) {
  for (size_t i = 0; i < p->nstat; i++)
    if (!strcmp(p->stat[i].name, name)) return (int)i;
  if (p->nstat < RF__PROF_NAMES) {
    snprintf(p->stat[p->nstat].name, sizeof p->stat[0].name, "%s", name);
    return (int)p->nstat++;
  }
  snprintf(p->stat[RF__PROF_NAMES].name, sizeof p->stat[0].name, "(other)");
  return RF__PROF_NAMES;
}

/* Reads back the oldest n pending entries. */
static void rf__prof_drain(rf__cl_prof *p, size_t n) {
  for (; n && p->n; n--, p->n--) {
    size_t i = (p->head + RF__PROF_RING - p->n) % RF__PROF_RING;
    cl_event last = p->ring[i].b ? p->ring[i].b : p->ring[i].a;
    if (clWaitForEvents(1, &last) == CL_SUCCESS) {
      double t = rf_cl_event_span(p->ring[i].a, last);
      rf__prof_stat *s = &p->stat[p->ring[i].stat];
      if (!s->count || t < s->lo) s->lo = t;
      if (!s->count || t > s->hi) s->hi = t;
      s->total += t;
      s->count++;
    }
    rf_cl_release(&p->ring[i].a);
    rf_cl_release(&p->ring[i].b);
  }
}

void rf__cl_prof_add(rf__cl_prof *p, const char *name, cl_event a, cl_event b) {
  if (!p || !a) return;
  if (p->n == RF__PROF_RING) rf__prof_drain(p, RF__PROF_RING / 2);
  clRetainEvent(a);
  if (b) clRetainEvent(b);
  p->ring[p->head].stat = rf__prof_stat_of(p, name);
  p->ring[p->head].a = a;
  p->ring[p->head].b = b;
  p->head = (p->head + 1) % RF__PROF_RING;
  p->n++;
}

/* Sorted by total time, largest first. */
static int rf__prof_cmp(const void *x, const void *y, void *ctx) {
  const rf__prof_stat *a = x, *b = y;
  (void)ctx;
  return a->total < b->total ? 1 : a->total > b->total ? -1 : 0;
}

void rf__cl_prof_finish(rf__cl_prof *p, const rf_cl_device_info *dev) {
  if (!p) return;
  rf__prof_drain(p, RF__PROF_RING);
  size_t ns = p->nstat + (p->stat[RF__PROF_NAMES].count ? 1 : 0); /* "(other)" follows the full table */
  rf_sort(p->stat, ns, sizeof p->stat[0], rf__prof_cmp, NULL);
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "device", dev->name);
  cJSON_AddStringToObject(root, "device_id", dev->id);
  cJSON_AddStringToObject(root, "driver", dev->driver);
  cJSON *arr = cJSON_AddArrayToObject(root, "kernels");
  for (size_t i = 0; i < ns; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->stat[i].name);
    cJSON_AddNumberToObject(o, "count", (double)p->stat[i].count);
    cJSON_AddNumberToObject(o, "seconds_total", p->stat[i].total);
    cJSON_AddNumberToObject(o, "seconds_min", p->stat[i].lo);
    cJSON_AddNumberToObject(o, "seconds_max", p->stat[i].hi);
    cJSON_AddItemToArray(arr, o);
  }
  char *txt = cJSON_Print(root);
  cJSON_Delete(root);
  /* A new file: never one that is there. */
  for (int k = 0; txt && k < 1000; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/cl-profile-%ld-%d.json", p->dir, (long)getpid(), k);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      rf_log(1, "RF_CL_PROFILE: cannot write %s: %s", path, strerror(errno));
      break;
    }
    size_t len = strlen(txt);
    int ok = write(fd, txt, len) == (ssize_t)len;
    if (close(fd) || !ok) rf_log(1, "RF_CL_PROFILE: cannot write %s", path);
    break;
  }
  if (txt) cJSON_free(txt);
  rf__free(p);
}
