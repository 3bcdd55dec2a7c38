/* radarflow pipelines/: pieces of run.json shared by `process`
 * (process.c) and `track` (run_json.c), so the two records read alike.
 * Internal (cJSON in the interface). */
#ifndef RF_RUN_JSON_H
#define RF_RUN_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "rf_config.h"
#include "rf_tracker.h"

/* A new record: program, version, commit, command, started_utc and
 * finished_utc (now). NULL when out of memory. */
cJSON *rf__run_json_new(const char *command, const char *started_utc);
/* Adds "input": {"path": absolute path, "size_bytes"} and returns that
 * object for more members (NULL when out of memory). */
cJSON *rf__run_json_input(cJSON *root, const char *path, uint64_t size_bytes);
/* Adds "config": {section: {key: value}} with every setting: ints and
 * floats as JSON numbers, choices as strings, booleans as true/false. */
void rf__run_json_config(cJSON *root, const rf_config *cfg);
/* Adds "tracks" (ids), "tracks_confirmed", "tracks_tentative",
 * "tracks_deleted". */
void rf__run_json_tracks(cJSON *root, const rf_track_counts *c);
/* The record as text (cJSON_Print; free with cJSON_free), root deleted.
 * NULL when out of memory. */
char *rf__run_json_text(cJSON *root);

#endif
