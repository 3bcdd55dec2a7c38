/* radarflow: run.json, the record of a run that the other products lack
 * (docs/formats.md "run.json"): program, version and commit, what ran, on
 * which input (absolute path), with which settings (as numbers, words and
 * booleans by the settings table's types), and what came out. `process`
 * and `track` both write one, so `quicklook` draws the products of either. */
#ifndef RF_RUN_H
#define RF_RUN_H

#include "rf_config.h"
#include "rf_tracker.h"

/* What `radarflow track` ran. Strings borrowed. */
typedef struct rf_track_run {
  const char *input;          /* the plot file, as given */
  const char *capture;        /* the capture the plots came from (plots.h5
                                 source_path), or "" / NULL when unknown */
  const char *started_utc;    /* rf_utc_now at the start */
  const rf_config *cfg;
  size_t plots;
  rf_track_counts tracks;
  double seconds;
} rf_track_run;

/* Writes outdir/run.json for a `radarflow track` run, atomically. 0, or
 * RF_ENOMEM / RF_EIO naming the file. */
int rf_track_write_run_json(const char *outdir, const rf_track_run *r);

#endif
