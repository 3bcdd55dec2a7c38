/* radarflow host/: progress lines on stderr (rf_progress.h). */
#include "rf_progress.h"
#include "rf_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Live line redraws at most this often, s. */
#define RF__PROGRESS_REDRAW_S 0.25
#define RF__PROGRESS_TEXT 512

struct rf_progress {
  int mode, eta;
  char label[128], note[160];
  const char *item;
  size_t done, total;
  double work_done, work_total, plain_every_s;
  double t0, last_draw, last_plain;
  int shown;            /* the live line is on the terminal */
  int printed;          /* PLAIN: lines printed so far */
  int printed_last;     /* PLAIN: the final item's line is out */
};

/* The one progress whose live line is on the terminal, cleared by rf_log. */
static rf_progress *rf__live;
static rf_progress *rf__dwells;

int rf_progress_auto_mode(void) {
  const char *term = getenv("TERM");
  return isatty(2) && !getenv("CI") && term && strcmp(term, "dumb") ? RF_PROGRESS_LINE : RF_PROGRESS_PLAIN;
}

static void rf__clear_live(void) {
  if (rf__live) rf_progress_clear(rf__live);
}

int rf_progress_create(rf_progress **out, const rf_progress_opts *o) {
  rf_progress *p = rf__calloc(1, sizeof *p);
  *out = p;
  if (!p) return rf__err(RF_ENOMEM, "progress: out of memory");
  p->mode = o->mode;
  p->eta = o->eta;
  snprintf(p->label, sizeof p->label, "%s", o->label ? o->label : "radarflow");
  p->item = o->item;
  p->total = o->total;
  p->work_total = o->work_total;
  p->plain_every_s = o->plain_every_s;
  p->t0 = rf_now_s();
  /* PLAIN: the first line after plain_every_s, so a short run prints none. */
  p->last_draw = -1e30;
  p->last_plain = p->t0;
  return 0;
}

void rf_progress_destroy(rf_progress *p) {
  if (!p) return;
  rf_progress_clear(p);
  if (rf__dwells == p) rf__dwells = NULL;
  rf__free(p);
}

void rf_progress_clear(rf_progress *p) {
  if (!p || !p->shown) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  p->shown = 0;
  if (rf__live == p) {
    rf__live = NULL;
    rf__log_before = NULL;
  }
}

/* "1m05s", "2h03m", "7s". */
static void rf__duration(double s, char *out, size_t len) {
  long v = (long)(s + 0.5);
  if (v >= 3600) snprintf(out, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
  else if (v >= 60) snprintf(out, len, "%ldm%02lds", v / 60, v % 60);
  else snprintf(out, len, "%lds", v);
}

/* "1.2 GB", "33.6 MB", "512 kB". */
static void rf__bytes(double b, char *out, size_t len) {
  if (b >= 1e9) snprintf(out, len, "%.1f GB", b / 1e9);
  else if (b >= 1e6) snprintf(out, len, "%.1f MB", b / 1e6);
  else snprintf(out, len, "%.0f kB", b / 1e3);
}

/* The line; with rates_only, only the rates and the time left. */
static void rf__format(const rf_progress *p, char *out, size_t len, int rates_only) {
  if (!p) {
    if (len) out[0] = 0;
    return;
  }
  double el = rf_now_s() - p->t0;
  size_t o = 0;
#define RF__PUT(...)                                                        \
  do {                                                                      \
    int k_ = snprintf(out + o, o < len ? len - o : 0, __VA_ARGS__);         \
    if (k_ > 0) o += (size_t)k_;                                            \
  } while (0)
  if (len) out[0] = 0;
  const char *sep = "";
  if (!rates_only) {
    RF__PUT("%s:", p->label);
    sep = " ";
  }
  if (rates_only) {
  } else if (p->item && p->total && p->work_total > 0) { /* the share of the work: items may differ in size */
    char b[32];
    rf__bytes(p->work_total, b, sizeof b);
    RF__PUT(" %s %zu of %zu (%.0f%% of %s)", p->item, p->done, p->total, 100.0 * p->work_done / p->work_total, b);
    sep = ", ";
  } else if (p->item && p->total) {
    RF__PUT(" %s %zu of %zu (%.0f%%)", p->item, p->done, p->total, 100.0 * (double)p->done / (double)p->total);
    sep = ", ";
  } else if (p->item && p->done) {
    RF__PUT(" %s %zu", p->item, p->done);
    sep = ", ";
  }
  if (el > 0.2 && p->item && p->done) {
    RF__PUT("%s%.1f %ss/s", sep, (double)p->done / el, p->item);
    sep = ", ";
  }
  if (el > 0.2 && p->work_done > 0) {
    RF__PUT("%s%.1f MB/s", sep, p->work_done / el / 1e6);
    sep = ", ";
  }
  if (p->eta && el > 0.2 && !(p->total && p->done >= p->total)) {
    double left = -1;
    if (p->work_total > 0 && p->work_done > 0) left = (p->work_total - p->work_done) * el / p->work_done;
    else if (p->work_total <= 0 && p->total && p->done) left = (double)(p->total - p->done) * el / (double)p->done;
    if (left >= 0) {
      char d[32];
      rf__duration(left, d, sizeof d);
      RF__PUT("%sETA %s", sep, d);
      sep = ", ";
    }
  }
  if (p->note[0] && !rates_only) RF__PUT("%s%s", sep[0] == ',' ? "; " : " ", p->note);
#undef RF__PUT
}

void rf_progress_format(const rf_progress *p, char *out, size_t len) { rf__format(p, out, len, 0); }
void rf_progress_format_rates(const rf_progress *p, char *out, size_t len) { rf__format(p, out, len, 1); }

static int rf__columns(void) {
  struct winsize ws;
  return ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
}

static void rf__draw(rf_progress *p, int force) {
  double now = rf_now_s();
  char text[RF__PROGRESS_TEXT];
  if (p->mode == RF_PROGRESS_LINE) {
    if (!force && now - p->last_draw < RF__PROGRESS_REDRAW_S) return;
    p->last_draw = now;
    if (rf__live && rf__live != p) rf_progress_clear(rf__live);
    rf_progress_format(p, text, sizeof text);
    size_t cols = (size_t)rf__columns() - 1;
    if (strlen(text) > cols) text[cols] = 0; /* a wrapped line cannot be redrawn */
    fprintf(stderr, "\r\033[K%s", text);
    fflush(stderr);
    p->shown = 1;
    rf__live = p;
    rf__log_before = rf__clear_live;
  } else if (p->mode == RF_PROGRESS_PLAIN) {
    /* The last item's line closes a run that printed lines before. */
    int last = p->total && p->done == p->total && !p->printed_last && (p->printed || p->plain_every_s <= 0);
    if (!last && now - p->last_plain < p->plain_every_s) return;
    if (p->total && p->done == p->total) p->printed_last = 1;
    p->printed++;
    p->last_plain = now;
    char when[32];
    rf_utc_now(when, sizeof when);
    rf_progress_format(p, text, sizeof text);
    fprintf(stderr, "%s %s\n", when, text);
    fflush(stderr);
  }
}

void rf_progress_update(rf_progress *p, size_t done, size_t total, double work_done, const char *note) {
  if (!p) return;
  p->done = done;
  if (total) p->total = total;
  p->work_done = work_done;
  snprintf(p->note, sizeof p->note, "%s", note ? note : "");
  rf__draw(p, 0);
}

void rf_progress_stage(rf_progress *p, const char *fmt, ...) {
  if (!p) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->note, sizeof p->note, fmt, ap);
  va_end(ap);
  rf__draw(p, 1);
}

void rf_progress_set_dwells(rf_progress *p) { rf__dwells = p; }

void rf_progress_dwell(size_t done, size_t total, size_t plots) {
  char note[64];
  snprintf(note, sizeof note, "%zu plot%s", plots, plots == 1 ? "" : "s");
  if (!rf__dwells) {
    rf_log(2, "dwell %zu of %zu: %zu plots so far", done, total, plots);
    return;
  }
  /* Dwells are taken as equal shares of the capture's bytes. */
  double work = rf__dwells->work_total > 0 && total ? rf__dwells->work_total * (double)done / (double)total : 0;
  rf_progress_update(rf__dwells, done, total, work, note);
}
