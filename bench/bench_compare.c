/* radarflow bench-compare A.json B.json: two bench reports side by side,
 * per workload and per stage, with B's time over A's - for two machines,
 * two devices or two builds (rf_bench.h). */
#include "rf_bench.h"
#include "../host/rf_common.h"
#include "../host/rf_files.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Largest report read. */
#define RF__REPORT_MAX ((size_t)64 << 20)

static const char rf__help_compare[] =
    "Usage: radarflow bench-compare A.json B.json\n"
    "Compares two reports of 'radarflow bench --json FILE' (two machines, two\n"
    "devices or two builds): for every workload both ran with the same shape, the\n"
    "end-to-end and per-stage times of A and B and B/A, B's time over A's (below 1:\n"
    "B is faster); for rates (tracker plots/s, batch captures/s) the ratio is of the\n"
    "time per item as well, and for peak memory of the bytes. Runs that their report\n"
    "marks as made on a busy machine are flagged.\n"
    "Exit status: 0 compared; 2 a file that is not a bench report, or reports with no\n"
    "workload in common.\n";

typedef struct rf__report {
  const char *path;
  char *text;
  cJSON *root;
  const cJSON *wl;  /* the workloads array */
} rf__report;

static const char *rf__str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double rf__num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int rf__load(rf__report *r, const char *path) {
  r->path = path;
  int st = rf_slurp(path, RF__REPORT_MAX, &r->text, NULL);
  if (st) return st;
  if (!(r->root = cJSON_Parse(r->text)) || !cJSON_IsObject(r->root))
    return rf__err(RF_EFORMAT, "%s: not a JSON object (a report of 'radarflow bench --json FILE' is)", path);
  r->wl = cJSON_GetObjectItemCaseSensitive(r->root, "workloads");
  if (!cJSON_IsArray(r->wl) || !cJSON_GetArraySize(r->wl))
    return rf__err(RF_EFORMAT, "%s: not a radarflow bench report: no \"workloads\" array, or an empty one", path);
  const cJSON *w;
  cJSON_ArrayForEach(w, r->wl) {
    if (!cJSON_IsObject(w) || (!rf__str(w, "workload") && !rf__str(w, "name")))
      return rf__err(RF_EFORMAT, "%s: /workloads: an entry without a \"workload\" name", path);
  }
  return 0;
}

/* A workload's key: its name, and what tells its runs apart (tracker
 * targets, batch workers). */
static void rf__key(const cJSON *w, char *out, size_t len) {
  const char *name = rf__str(w, "workload") ? rf__str(w, "workload") : rf__str(w, "name");
  double targets = rf__num(w, "targets"), jobs = rf__num(w, "jobs");
  if (isfinite(targets)) snprintf(out, len, "%s %.0f", name, targets);
  else if (isfinite(jobs)) snprintf(out, len, "%s %s", name, jobs == 1 ? "1 worker" : "all cores");
  else snprintf(out, len, "%s", name);
}

/* The shape of a pipeline workload ("" for others). */
static void rf__shape(const cJSON *w, char *out, size_t len) {
  double ch = rf__num(w, "channels");
  if (!isfinite(ch)) {
    out[0] = 0;
    return;
  }
  const char *t = rf__str(w, "sample_type");
  snprintf(out, len, "%.0f ch x %.0f pulses x %.0f samples, %.0f dwells, %s", ch, rf__num(w, "pulses_per_dwell"),
           rf__num(w, "samples"), rf__num(w, "dwells"), t ? t : "?");
}

static const cJSON *rf__find(const rf__report *r, const char *key) {
  const cJSON *w;
  char k[128];
  cJSON_ArrayForEach(w, r->wl) {
    rf__key(w, k, sizeof k);
    if (!strcmp(k, key)) return w;
  }
  return NULL;
}

static void rf__describe(const char *tag, const rf__report *r) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->root, "machine");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(r->root, "build");
  const cJSON *cl = cJSON_GetObjectItemCaseSensitive(r->root, "opencl_device");
  const char *date = rf__str(r->root, "date_utc"), *dev = rf__str(r->root, "device");
  printf("%s: %s\n   ", tag, r->path);
  printf("%s, host %s, %s (%.0f cores)", date ? date : "date unknown", m && rf__str(m, "host") ? rf__str(m, "host") : "?",
         m && rf__str(m, "cpu_model") ? rf__str(m, "cpu_model") : "CPU unknown", m ? rf__num(m, "cpu_cores_usable") : NAN);
  printf(", device %s", dev ? dev : "?");
  if (cJSON_IsObject(cl)) printf(" (%s, driver %s)", rf__str(cl, "name"), rf__str(cl, "driver_version"));
  const char *ver = b ? rf__str(b, "version") : rf__str(r->root, "version");
  printf(", radarflow %s", ver ? ver : "?");
  if (b && rf__str(b, "commit")) printf(" commit %s", rf__str(b, "commit"));
  printf("\n");
}

/* One row: figure, A's and B's values and B/A (time ratio). */
static void rf__row(const char *key, const char *figure, double a, double b, const char *unit, int rate,
                    const char *flag) {
  if (!isfinite(a) || !isfinite(b) || a <= 0 || b <= 0) return;
  double ratio = rate ? a / b : b / a;
  printf("%-22s %-20s %12.4g %-4s %12.4g %-4s %7.2f%s\n", key, figure, a, unit, b, unit, ratio, flag);
}

static void rf__compare(const char *key, const cJSON *a, const cJSON *b) {
  int ba = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "machine_busy"));
  int bb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "machine_busy"));
  const char *flag = ba && bb ? "  (A and B busy)" : ba ? "  (A busy)" : bb ? "  (B busy)" : "";
  double ea = rf__num(a, "seconds_median"), eb = rf__num(b, "seconds_median");
  if (!isfinite(ea)) ea = rf__num(a, "seconds"), eb = rf__num(b, "seconds");
  rf__row(key, "end to end", ea, eb, "s", 0, flag);
  const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "stages"), *sb = cJSON_GetObjectItemCaseSensitive(b, "stages"), *x;
  cJSON_ArrayForEach(x, sa) {
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(sb, x->string);
    if (y) rf__row(key, x->string, rf__num(x, "seconds"), rf__num(y, "seconds"), "s", 0, flag);
  }
  rf__row(key, "peak RSS", rf__num(a, "peak_rss_bytes") / 1e6, rf__num(b, "peak_rss_bytes") / 1e6, "MB", 0, flag);
  rf__row(key, "plots per second", rf__num(a, "plots_per_second"), rf__num(b, "plots_per_second"), "/s", 1, flag);
  rf__row(key, "captures per second", rf__num(a, "captures_per_second"), rf__num(b, "captures_per_second"), "/s", 1,
          flag);
}

int rf_bench_compare_main(int argc, char **argv) {
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(rf__help_compare, stdout);
    return 0;
  }
  if (argc != 3)
    return rf__err(RF_EINVAL, "bench-compare: expected two reports, A.json B.json (see 'radarflow bench-compare --help')");
  rf__report r[2] = {{0}, {0}};
  int st = rf__load(&r[0], argv[1]);
  if (!st) st = rf__load(&r[1], argv[2]);
  size_t common = 0;
  if (!st) {
    printf("radarflow bench-compare\n");
    rf__describe("A", &r[0]);
    rf__describe("B", &r[1]);
    printf("B/A: B's time over A's (below 1: B is faster); rates compared as time per item.\n"
           "busy: the report says other processes kept cores busy during that run.\n\n");
    printf("%-22s %-20s %17s %17s %7s\n", "workload", "figure", "A", "B", "B/A");
    const cJSON *w;
    char key[128], sa[160], sb[160];
    cJSON_ArrayForEach(w, r[0].wl) {
      rf__key(w, key, sizeof key);
      const cJSON *o = rf__find(&r[1], key);
      if (!o) {
        printf("%-22s only in A\n", key);
        continue;
      }
      rf__shape(w, sa, sizeof sa);
      rf__shape(o, sb, sizeof sb);
      if (strcmp(sa, sb)) {
        printf("%-22s not comparable: A %s, B %s\n", key, sa, sb);
        continue;
      }
      rf__compare(key, w, o);
      common++;
    }
    cJSON_ArrayForEach(w, r[1].wl) {
      rf__key(w, key, sizeof key);
      if (!rf__find(&r[0], key)) printf("%-22s only in B\n", key);
    }
    if (!common)
      st = rf__err(RF_EFORMAT, "bench-compare: %s and %s have no workload in common (with the same shape)", argv[1],
                   argv[2]);
  }
  for (int i = 0; i < 2; i++) {
    cJSON_Delete(r[i].root);
    rf__free(r[i].text);
  }
  return st;
}
