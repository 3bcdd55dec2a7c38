/* radarflow pipelines/: run.json (rf_run.h, run_json.h). */
#include "rf_run.h"
#include "run_json.h"
#include "../host/rf_build.h"
#include "../host/rf_files.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The settings table's types, in table order (rf_config_describe's i). */
static const int rf__cfg_types[] = {
#define RF__TYPE_ROW(sec, key, type, field, def, lo, hi, choices, help) type,
    RF_CONFIG_TABLE(RF__TYPE_ROW)
#undef RF__TYPE_ROW
};

cJSON *rf__run_json_new(const char *command, const char *started_utc) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  char when[32];
  rf_utc_now(when, sizeof when);
  cJSON_AddStringToObject(root, "program", "radarflow");
  cJSON_AddStringToObject(root, "version", RF_VERSION);
  cJSON_AddStringToObject(root, "commit", rf_build_commit());
  cJSON_AddStringToObject(root, "command", command);
  cJSON_AddStringToObject(root, "started_utc", started_utc);
  cJSON_AddStringToObject(root, "finished_utc", when);
  return root;
}

cJSON *rf__run_json_input(cJSON *root, const char *path, uint64_t size_bytes) {
  char abs[4096];
  rf_path_absolute(path, abs, sizeof abs); /* a path too long stays as given */
  rf_errmsg_clear();
  cJSON *in = cJSON_AddObjectToObject(root, "input");
  if (!in) return NULL;
  cJSON_AddStringToObject(in, "path", abs);
  cJSON_AddNumberToObject(in, "size_bytes", (double)size_bytes);
  return in;
}

void rf__run_json_config(cJSON *root, const rf_config *cfg) {
  cJSON *c = cJSON_AddObjectToObject(root, "config");
  for (size_t i = 0; c && i < rf_config_count(); i++) {
    const char *sec, *key;
    char val[64];
    rf_config_describe(cfg, i, &sec, &key, val, sizeof val);
    cJSON *so = cJSON_GetObjectItemCaseSensitive(c, sec);
    if (!so) so = cJSON_AddObjectToObject(c, sec);
    int type = i < sizeof rf__cfg_types / sizeof rf__cfg_types[0] ? rf__cfg_types[i] : -1;
    if (type == RF_CFG_INT || type == RF_CFG_DBL)
      cJSON_AddNumberToObject(so, key, strtod(val, NULL)); /* the text reads back exactly */
    else if (!strcmp(val, "true") || !strcmp(val, "false"))
      cJSON_AddBoolToObject(so, key, val[0] == 't');
    else
      cJSON_AddStringToObject(so, key, val);
  }
}

void rf__run_json_tracks(cJSON *root, const rf_track_counts *c) {
  cJSON_AddNumberToObject(root, "tracks", (double)c->ids);
  cJSON_AddNumberToObject(root, "tracks_confirmed", (double)c->confirmed);
  cJSON_AddNumberToObject(root, "tracks_tentative", (double)c->tentative);
  cJSON_AddNumberToObject(root, "tracks_deleted", (double)c->deleted);
}

char *rf__run_json_text(cJSON *root) {
  char *txt = root ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  return txt;
}

int rf_track_write_run_json(const char *outdir, const rf_track_run *r) {
  char path[4096];
  int st = rf_path_join(path, sizeof path, outdir, "run.json");
  if (st) return st;
  struct stat sb;
  uint64_t size = stat(r->input, &sb) == 0 ? (uint64_t)sb.st_size : 0;
  cJSON *root = rf__run_json_new("track", r->started_utc ? r->started_utc : "");
  cJSON *in = root ? rf__run_json_input(root, r->input, size) : NULL;
  if (in) {
    cJSON_AddStringToObject(in, "kind", "plots");
    char cap[4096] = "";
    if (r->capture && r->capture[0]) rf_path_absolute(r->capture, cap, sizeof cap);
    rf_errmsg_clear();
    if (cap[0]) cJSON_AddStringToObject(in, "capture_path", cap);
    else cJSON_AddNullToObject(in, "capture_path");
    rf__run_json_config(root, r->cfg);
    cJSON_AddNumberToObject(root, "plots", (double)r->plots);
    rf__run_json_tracks(root, &r->tracks);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
  }
  char *txt = in ? rf__run_json_text(root) : (cJSON_Delete(root), NULL);
  if (!txt) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  st = rf_write_file_atomic(path, txt, strlen(txt));
  cJSON_free(txt);
  return st;
}
