/* radarflow bench: what a report needs to be compared with another from
 * another machine or build (rf_bench.h): when, where, on what, built how,
 * and how busy the machine was. */
#include "rf_bench.h"
#include "../host/rf_build.h"
#include "../host/rf_cl.h"

#include <cjson/cJSON.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The CPU's model name from /proc/cpuinfo ("model name", else "Hardware"
 * or "cpu model" on other architectures); "" when none. */
static void rf__cpu_model(char *out, size_t len) {
  static const char *const keys[] = {"model name", "Hardware", "cpu model", "Model"};
  char line[512];
  out[0] = 0;
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !out[0]; k++) {
    rewind(f);
    while (fgets(line, sizeof line, f)) {
      size_t kl = strlen(keys[k]);
      if (strncmp(line, keys[k], kl) || !strchr(line, ':')) continue;
      const char *v = strchr(line, ':') + 1;
      while (*v == ' ' || *v == '\t') v++;
      snprintf(out, len, "%.*s", (int)strcspn(v, "\n"), v);
      break;
    }
  }
  fclose(f);
}

/* Load averages (1, 5, 15 minutes) as an array; nulls when unknown. */
static cJSON *rf__loadavg(void) {
  double l[3];
  int n = getloadavg(l, 3);
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < 3; i++) cJSON_AddItemToArray(a, i < n ? cJSON_CreateNumber(l[i]) : cJSON_CreateNull());
  return a;
}

static void rf__opencl(cJSON *root, const char *device) {
  rf_cl_device_info d;
  if (!strcmp(device, "cpu") || rf_cl_select(!strcmp(device, "auto") ? "opencl" : device, &d)) {
    rf_errmsg_clear();
    cJSON_AddNullToObject(root, "opencl_device");
    return;
  }
  cl_device_type t = 0;
  clGetDeviceInfo(d.device_id, CL_DEVICE_TYPE, sizeof t, &t, NULL);
  cJSON *o = cJSON_AddObjectToObject(root, "opencl_device");
  cJSON_AddStringToObject(o, "id", d.id);
  cJSON_AddStringToObject(o, "name", d.name);
  cJSON_AddStringToObject(o, "type", t & CL_DEVICE_TYPE_GPU ? "GPU" : t & CL_DEVICE_TYPE_CPU ? "CPU"
                                      : t & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "other");
  cJSON_AddStringToObject(o, "vendor", d.vendor);
  cJSON_AddStringToObject(o, "driver_version", d.driver);
  cJSON_AddStringToObject(o, "opencl_version", d.version);
  cJSON_AddStringToObject(o, "platform", d.platform_name);
  cJSON_AddNumberToObject(o, "compute_units", d.compute_units);
  cJSON_AddNumberToObject(o, "global_memory_bytes", (double)d.global_mem_bytes);
}

void rf_bench_describe_run(cJSON *root, const char *device) {
  char when[32], host[256] = "", model[256];
  rf_utc_now(when, sizeof when);
  if (gethostname(host, sizeof host - 1)) host[0] = 0;
  rf__cpu_model(model, sizeof model);
  cpu_set_t set;
  int usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  struct utsname u;
  int have_u = uname(&u) == 0;
  cJSON_AddStringToObject(root, "report", "radarflow.bench");
  cJSON_AddStringToObject(root, "date_utc", when);
  cJSON *m = cJSON_AddObjectToObject(root, "machine");
  cJSON_AddStringToObject(m, "host", host);
  cJSON_AddStringToObject(m, "cpu_model", model);
  cJSON_AddNumberToObject(m, "cpu_cores_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
  cJSON_AddNumberToObject(m, "cpu_cores_usable", usable);
  cJSON_AddNumberToObject(m, "memory_bytes", pages > 0 && page > 0 ? (double)pages * (double)page : 0);
  if (have_u) {
    char os[400];
    snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    cJSON_AddStringToObject(m, "os", os);
  }
  rf__opencl(root, device);
  cJSON *b = cJSON_AddObjectToObject(root, "build");
  cJSON_AddStringToObject(b, "version", RF_VERSION);
  cJSON_AddStringToObject(b, "commit", rf_build_commit());
  cJSON_AddStringToObject(b, "compiler", rf_build_compiler());
  cJSON_AddItemToObject(root, "load_average_start", rf__loadavg());
}

void rf_bench_finish_run(cJSON *root) {
  if (root) cJSON_AddItemToObject(root, "load_average_end", rf__loadavg());
}
