/* radarflow: the configuration table's parser, validator and printers. */
#include "rf_config.h"
#include "../host/rf_stages.h"
#include "../host/rf_suggest.h"

#include <ini.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rf__cfg_entry {
  const char *section, *key;
  int type;
  size_t offset;
  double def, lo, hi;
  const char *choices;
  const char *help;
} rf__cfg_entry;

static const rf__cfg_entry rf__cfg[] = {
#define RF__CFG_ROW(sec, k, t, field, d, l, h, ch, hp) \
  {#sec, #k, t, offsetof(rf_config, field), d, l, h, ch, hp},
    RF_CONFIG_TABLE(RF__CFG_ROW)
#undef RF__CFG_ROW
};
#define RF__NCFG (sizeof rf__cfg / sizeof rf__cfg[0])
_Static_assert(RF__NCFG <= RF_CONFIG_MAX_SETTINGS, "raise RF_CONFIG_MAX_SETTINGS");

size_t rf_config_count(void) { return RF__NCFG; }

static void rf__cfg_store(rf_config *cfg, const rf__cfg_entry *e, double v) {
  char *base = (char *)cfg + e->offset;
  if (e->type == RF_CFG_DBL)
    *(double *)base = v;
  else
    *(int *)base = (int)v;
}

static double rf__cfg_fetch(const rf_config *cfg, const rf__cfg_entry *e) {
  const char *base = (const char *)cfg + e->offset;
  return e->type == RF_CFG_DBL ? *(const double *)base : (double)*(const int *)base;
}

void rf_config_defaults(rf_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < RF__NCFG; i++) rf__cfg_store(cfg, &rf__cfg[i], rf__cfg[i].def);
}

/* Index of `word` in a "a|b|c" list, or -1. */
static int rf__choice_index(const char *choices, const char *word) {
  size_t wl = strlen(word);
  int idx = 0;
  for (const char *p = choices; *p; idx++) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == wl && strncmp(p, word, len) == 0) return idx;
    if (!bar) break;
    p = bar + 1;
  }
  return -1;
}

static void rf__choice_name(const char *choices, int idx, char *out, size_t len) {
  const char *p = choices;
  for (int i = 0; i < idx && p; i++) {
    p = strchr(p, '|');
    if (p) p++;
  }
  if (!p) {
    snprintf(out, len, "%d", idx);
    return;
  }
  const char *bar = strchr(p, '|');
  size_t n = bar ? (size_t)(bar - p) : strlen(p);
  snprintf(out, len, "%.*s", (int)n, p);
}

static const rf__cfg_entry *rf__cfg_find(const char *section, const char *key) {
  for (size_t i = 0; i < RF__NCFG; i++)
    if (strcmp(rf__cfg[i].section, section) == 0 && strcmp(rf__cfg[i].key, key) == 0)
      return &rf__cfg[i];
  return NULL;
}

/* "; did you mean SECTION.KEY?" for the nearest known setting, or "". */
static void rf__cfg_suggest(const char *section, const char *key, char *out, size_t len) {
  char names[RF__NCFG][96];
  const char *cands[RF__NCFG];
  char typed[300];
  for (size_t i = 0; i < RF__NCFG; i++) {
    snprintf(names[i], sizeof names[i], "%s.%s", rf__cfg[i].section, rf__cfg[i].key);
    cands[i] = names[i];
  }
  snprintf(typed, sizeof typed, "%s.%s", section, key);
  const char *near = rf_suggest(typed, cands, RF__NCFG);
  /* A right key in the wrong section, or a key known in one section only. */
  for (size_t i = 0; !near && i < RF__NCFG; i++)
    if (!strcmp(rf__cfg[i].key, key)) near = names[i];
  if (near) snprintf(out, len, "; did you mean %s?", near);
  else out[0] = 0;
}

/* Parses and range-checks one value; `where` prefixes the message. */
static int rf__cfg_assign(rf_config *cfg, const char *where, const char *section,
                          const char *key, const char *value) {
  const rf__cfg_entry *e = rf__cfg_find(section, key);
  if (!e) {
    char near[160];
    rf__cfg_suggest(section, key, near, sizeof near);
    return rf__err(RF_EINVAL, "%s[%s] %s: unknown setting%s", where, section, key, near);
  }
  double v;
  if (e->type == RF_CFG_ENUM) {
    int idx = rf__choice_index(e->choices, value);
    if (idx < 0)
      return rf__err(RF_EINVAL, "%s[%s] %s: '%s' is not one of %s", where, section, key, value,
                     e->choices);
    v = idx;
  } else {
    char *end;
    errno = 0;
    v = strtod(value, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == value || *end || errno || !isfinite(v))
      return rf__err(RF_EINVAL, "%s[%s] %s: '%s' is not a number", where, section, key, value);
    if (e->type == RF_CFG_INT && v != floor(v))
      return rf__err(RF_EINVAL, "%s[%s] %s: '%s' is not an integer", where, section, key,
                     value);
    if (v < e->lo || v > e->hi)
      return rf__err(RF_EINVAL, "%s[%s] %s: %s is outside [%g, %g]", where, section, key, value,
                     e->lo, e->hi);
  }
  rf__cfg_store(cfg, e, v);
  cfg->given[e - rf__cfg] = 1;
  return 0;
}

int rf_config_given(const rf_config *cfg, const char *section, const char *key) {
  const rf__cfg_entry *e = rf__cfg_find(section, key);
  return e ? cfg->given[e - rf__cfg] : 0;
}

typedef struct rf__cfg_parse {
  rf_config *cfg;
  const char *path;
  int status;
} rf__cfg_parse;

static int rf__cfg_handler(void *user, const char *section, const char *name, const char *value
#if INI_HANDLER_LINENO
                           , int lineno
#endif
) {
  rf__cfg_parse *ps = user;
  if (ps->status) return 0;
  char where[1100];
  snprintf(where, sizeof where, "%s: ", ps->path);
  ps->status = rf__cfg_assign(ps->cfg, where, section, name, value);
  return ps->status == 0;
}

/* The config file's text: a regular file of at most RF_CONFIG_MAX_BYTES,
 * opened without blocking (a FIFO) and checked before anything is read (a
 * device such as /dev/zero never ends). */
static int rf__config_text(const char *path, char **text) {
  *text = NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return rf__err(RF_EINVAL, "%s: cannot open config: %s", path, strerror(errno));
  struct stat sb;
  int st = 0;
  char *buf = NULL;
  if (fstat(fd, &sb) < 0) st = rf__err(RF_EINVAL, "%s: cannot open config: %s", path, strerror(errno));
  else if (S_ISDIR(sb.st_mode)) st = rf__err(RF_EINVAL, "%s: is a folder, not a config file", path);
  else if (!S_ISREG(sb.st_mode))
    st = rf__err(RF_EINVAL, "%s: config is not a regular file (a device, FIFO or socket is never read)", path);
  else if ((uint64_t)sb.st_size > RF_CONFIG_MAX_BYTES)
    st = rf__err(RF_EINVAL, "%s: config file of %lld bytes is longer than the limit of %zu bytes", path,
                 (long long)sb.st_size, RF_CONFIG_MAX_BYTES);
  else if (!(buf = rf__malloc(RF_CONFIG_MAX_BYTES + 2)))
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
  size_t n = 0;
  while (!st) {
    ssize_t r = read(fd, buf + n, RF_CONFIG_MAX_BYTES + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) st = rf__err(RF_EINVAL, "%s: cannot read config: %s", path, strerror(errno));
    else if (r == 0) break;
    else if ((n += (size_t)r) > RF_CONFIG_MAX_BYTES)
      st = rf__err(RF_EINVAL, "%s: config file is longer than the limit of %zu bytes", path, RF_CONFIG_MAX_BYTES);
  }
  close(fd);
  if (!st && memchr(buf, 0, n)) st = rf__err(RF_EINVAL, "%s: config file holds a NUL byte (not text)", path);
  if (st) {
    rf__free(buf);
    return st;
  }
  buf[n] = 0;
  *text = buf;
  return 0;
}

int rf_config_load(rf_config *cfg, const char *path) {
  char *text;
  int st = rf__config_text(path, &text);
  if (st) return st;
  rf_config tmp = *cfg;
  rf__cfg_parse ps = {&tmp, path, 0};
  int line = ini_parse_string(text, rf__cfg_handler, &ps);
  rf__free(text);
  if (ps.status) {
    /* Add the line number to the message composed by the handler. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rf_errmsg());
    size_t pl = strlen(path) + 2;
    return rf__err(ps.status, "%s:%d: %s", path, line, strlen(msg) > pl ? msg + pl : msg);
  }
  if (line != 0) return rf__err(RF_EINVAL, "%s:%d: syntax error", path, line);
  *cfg = tmp;
  return 0;
}

int rf_config_check(const rf_config *cfg) {
  if (cfg->trk_confirm_m > cfg->trk_confirm_n)
    return rf__err(RF_EINVAL, "tracker.confirm_m = %d exceeds tracker.confirm_n = %d (M of N: M <= N)",
                   cfg->trk_confirm_m, cfg->trk_confirm_n);
  return 0;
}

int rf_config_check_maps(const rf_config *cfg, const char *what, size_t cells, size_t min_pulses,
                         size_t max_pulses, size_t (*bins_of)(const rf_config *cfg, size_t pulses)) {
  size_t drop = cfg->clutter_filter == RF_CLUTTER_MTI2 ? 1 : cfg->clutter_filter == RF_CLUTTER_MTI3 ? 2 : 0;
  if (min_pulses < drop + 1)
    return rf__err(RF_EINVAL, "%s: doppler.clutter_filter = %s needs dwells of at least %zu pulses; the shortest "
                   "dwell has %zu", what, drop == 1 ? "mti2" : "mti3", drop + 1, min_pulses);
  if (cfg->doppler_fft > 0 && (size_t)cfg->doppler_fft < max_pulses - drop)
    return rf__err(RF_EINVAL, "%s: doppler.fft_size = %d is smaller than the %zu pulses of the longest dwell%s",
                   what, cfg->doppler_fft, max_pulses - drop, drop ? " left by the clutter filter" : "");
  /* Automatic sizes (train_range 0, guard_* -1; rf_cfar_resolve) are
   * checked at their least: one training cell, no guard. */
  const int auto_r = cfg->train_range <= 0 || cfg->guard_range < 0, auto_d = cfg->guard_doppler < 0;
  const size_t tr = cfg->train_range > 0 ? (size_t)cfg->train_range : 1;
  const size_t gr = cfg->guard_range > 0 ? (size_t)cfg->guard_range : 0;
  const size_t gd = cfg->guard_doppler > 0 ? (size_t)cfg->guard_doppler : 0;
  size_t w = tr + gr;
  if (cells < 2 * w + 1)
    return rf__err(RF_EINVAL, "%s: cfar.train_range = %d and cfar.guard_range = %d make a range window of %s%zu "
                   "cells, wider than the range map of %zu samples", what, cfg->train_range, cfg->guard_range,
                   auto_r ? "at least " : "", 2 * w + 1, cells);
  size_t bins = bins_of(cfg, min_pulses), dk = (size_t)cfg->train_doppler + gd;
  if (cfg->train_doppler > 0 && bins < 2 * dk + 1)
    return rf__err(RF_EINVAL, "%s: cfar.train_doppler = %d and cfar.guard_doppler = %d make a Doppler window of "
                   "%s%zu bins, wider than the %zu Doppler bins of the shortest dwell (%zu pulses)", what,
                   cfg->train_doppler, cfg->guard_doppler, auto_d ? "at least " : "", 2 * dk + 1, bins, min_pulses);
  /* os_rank against an automatic window: checked when the engine sizes it */
  if (cfg->cfar_kind == RF_CFAR_OS && cfg->os_rank > 0 && !auto_r && !(cfg->train_doppler > 0 && auto_d)) {
    size_t rows = cfg->train_doppler > 0 ? 2 * dk + 1 : 1, grows = cfg->train_doppler > 0 ? 2 * gd + 1 : 1;
    size_t n = rows * (2 * w + 1) - grows * (2 * gr + 1);
    if ((size_t)cfg->os_rank > n)
      return rf__err(RF_EINVAL, "%s: cfar.os_rank = %d exceeds the %zu training cells of the CFAR window", what,
                     cfg->os_rank, n);
  }
  return 0;
}

int rf_config_set(rf_config *cfg, const char *assignment) {
  char buf[256];
  if (strlen(assignment) >= sizeof buf)
    return rf__err(RF_EINVAL, "--set %s: too long", assignment);
  strcpy(buf, assignment);
  char *eq = strchr(buf, '=');
  char *dot = strchr(buf, '.');
  if (!eq || !dot || dot > eq)
    return rf__err(RF_EINVAL, "--set %s: expected section.key=value", assignment);
  *eq = 0;
  *dot = 0;
  return rf__cfg_assign(cfg, "--set: ", buf, dot + 1, eq + 1);
}

int rf_config_describe(const rf_config *cfg, size_t i, const char **section, const char **key,
                       char *value, size_t value_len) {
  if (i >= RF__NCFG) return RF_EINVAL;
  const rf__cfg_entry *e = &rf__cfg[i];
  *section = e->section;
  *key = e->key;
  double v = rf__cfg_fetch(cfg, e);
  if (e->type == RF_CFG_ENUM)
    rf__choice_name(e->choices, (int)v, value, value_len);
  else if (e->type == RF_CFG_INT)
    snprintf(value, value_len, "%d", (int)v);
  else {
    /* Shortest text that reads back to the same double. */
    for (int prec = 6; prec <= 17; prec++) {
      snprintf(value, value_len, "%.*g", prec, v);
      if (strtod(value, NULL) == v) break;
    }
  }
  return 0;
}

/* Appends formatted text to a growing buffer; returns -1 on allocation failure. */
typedef struct rf__buf {
  char *s;
  size_t n, cap;
} rf__buf;

static int rf__buf_printf(rf__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rf__buf_printf(rf__buf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return -1;
    if (b->s && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return 0;
    }
    size_t ncap = (b->cap + (size_t)k + 256) * 2;
    char *ns = rf__realloc(b->s, ncap);
    if (!ns) return -1;
    b->s = ns;
    b->cap = ncap;
  }
}

char *rf_config_to_ini(const rf_config *cfg) {
  rf__buf b = {0};
  const char *last = "";
  for (size_t i = 0; i < RF__NCFG; i++) {
    const rf__cfg_entry *e = &rf__cfg[i];
    char val[64];
    const char *s, *k;
    rf_config_describe(cfg, i, &s, &k, val, sizeof val);
    if (strcmp(last, e->section) != 0 &&
        rf__buf_printf(&b, "%s[%s]\n", i ? "\n" : "", e->section))
      goto fail;
    last = e->section;
    if (rf__buf_printf(&b, "; %s\n%s = %s\n", e->help, e->key, val)) goto fail;
  }
  return b.s;
fail:
  rf__free(b.s);
  return NULL;
}

char *rf_config_doc_markdown(void) {
  rf__buf b = {0};
  rf_config def;
  rf_config_defaults(&def);
  if (rf__buf_printf(&b, "| section | key | default | range or choices | meaning |\n"
                         "|---|---|---|---|---|\n"))
    goto fail;
  for (size_t i = 0; i < RF__NCFG; i++) {
    const rf__cfg_entry *e = &rf__cfg[i];
    char val[64], range[96];
    const char *s, *k;
    rf_config_describe(&def, i, &s, &k, val, sizeof val);
    if (e->type == RF_CFG_ENUM)
      snprintf(range, sizeof range, "%s", e->choices);
    else
      snprintf(range, sizeof range, "%g .. %g", e->lo, e->hi);
    for (char *p = range; *p; p++)
      if (*p == '|') *p = '/';
    if (rf__buf_printf(&b, "| %s | %s | %s | %s | %s |\n", e->section, e->key, val, range,
                       e->help))
      goto fail;
  }
  return b.s;
fail:
  rf__free(b.s);
  return NULL;
}
