/* radarflow: progress of long runs on stderr - the dwells of `process`,
 * the workloads and stages of `bench`, the captures of `batch` - one
 * module for all three, so they read alike.
 *
 * On a terminal (RF_PROGRESS_LINE) one live line is redrawn in place, at
 * most a few times a second, and cleared before anything else is written
 * (rf_log clears it too); elsewhere (RF_PROGRESS_PLAIN: a log file, CI)
 * timestamped lines, at most one per `plain_every_s`; RF_PROGRESS_NONE
 * (-q) prints nothing. A line reads
 *   demo.h5: dwell 5 of 8 (62%), 12.3 dwells/s, 45.6 MB/s, ETA 0m03s; 12 plots
 * with the rate and time left from the work done so far (bytes when the
 * total work is known, else items). */
#ifndef RF_PROGRESS_H
#define RF_PROGRESS_H

#include <stddef.h>

enum rf_progress_mode { RF_PROGRESS_NONE = 0, RF_PROGRESS_PLAIN = 1, RF_PROGRESS_LINE = 2 };

/* LINE when stderr is a terminal (TERM set and not "dumb", CI unset), else
 * PLAIN. */
int rf_progress_auto_mode(void);

typedef struct rf_progress_opts {
  int mode;              /* enum rf_progress_mode */
  const char *label;     /* starts every line ("demo.h5", "batch"); copied */
  const char *item;      /* what is counted, singular ("dwell"); NULL: no count shown; borrowed */
  size_t total;          /* items; 0 until known (rf_progress_update may set it) */
  double work_total;     /* bytes of work for the MB/s and ETA; 0: the items are the work */
  double plain_every_s;  /* PLAIN: at most one line per this many seconds (0: every update) */
  int eta;               /* show the time left */
} rf_progress_opts;

typedef struct rf_progress rf_progress;

/* RF_ENOMEM or 0. Starts the clock. */
int rf_progress_create(rf_progress **p, const rf_progress_opts *o);
/* Clears the live line; NULL is a no-op. */
void rf_progress_destroy(rf_progress *p);

/* done of total items (total 0: keep the one known), work_done bytes, and
 * a note for the end of the line (NULL: none; copied). Draws the line
 * (LINE, throttled) or prints one (PLAIN, throttled; the last item always). */
void rf_progress_update(rf_progress *p, size_t done, size_t total, double work_done, const char *note);
/* A new stage: the note replaced and shown at once (PLAIN: one line). */
void rf_progress_stage(rf_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The line's text without timestamp, and its rates and time left alone
 * (for callers' own report lines). "" for NULL. */
void rf_progress_format(const rf_progress *p, char *out, size_t len);
void rf_progress_format_rates(const rf_progress *p, char *out, size_t len);
/* Clears the live line (it comes back at the next update). */
void rf_progress_clear(rf_progress *p);

/* The dwell loop of rf_process_capture_on reports each dwell here:
 * rf_progress_dwell(done, of, plots so far). It goes to the progress set by
 * rf_progress_set_dwells (the command line sets one around `process`); with
 * none it is logged at level 2 (-v). */
void rf_progress_set_dwells(rf_progress *p);
void rf_progress_dwell(size_t done, size_t total, size_t plots);

#endif
