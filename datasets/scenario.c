/* radarflow: scenario files (INI, libinih), documented in docs/scenarios.md.
 * Parsing is two passes: libinih collects every key with its line (unknown
 * sections and keys, duplicates and overlong lines fail here), then each
 * section is read and validated from that table, so every error names the
 * file, line, section and key. */
#include "sim_internal.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RF__MAX_TARGETS 1024
#define RF__MAX_LIST 65536 /* numbers in one list value */
#define RF__DEFAULT_START_TIME_S 1.7e9

/* ---- the key table ---------------------------------------------------------- */
/* Every key of every section, once. A list key may be continued on indented
 * lines or repeated (values append); any other key may appear once. */
typedef struct rf__key_def {
  const char *section; /* "target" stands for every [target ...] section */
  const char *key;
  int list;
} rf__key_def;

static const rf__key_def rf__keys[] = {
    {"radar", "name", 0}, {"radar", "site_latitude_deg", 0},
    {"radar", "site_longitude_deg", 0}, {"radar", "site_altitude_m", 0},
    {"radar", "center_frequency_hz", 0}, {"radar", "peak_power_w", 0},
    {"radar", "noise_figure_db", 0}, {"radar", "system_loss_db", 0},
    {"radar", "element_gain_dbi", 0},
    {"waveform", "type", 0}, {"waveform", "bandwidth_hz", 0},
    {"waveform", "pulse_width_s", 0}, {"waveform", "sample_rate_hz", 0},
    {"waveform", "pri_s", 0}, {"waveform", "range_gate_delay_s", 0},
    {"waveform", "range_min_m", 0}, {"waveform", "samples", 0},
    {"waveform", "range_max_m", 0}, {"waveform", "code", 0},
    {"waveform", "phase_code_deg", 1}, {"waveform", "chip_samples", 0},
    {"array", "layout", 0}, {"array", "elements", 0}, {"array", "spacing_m", 0},
    {"array", "elements_horizontal", 0}, {"array", "elements_vertical", 0},
    {"array", "spacing_horizontal_m", 0}, {"array", "spacing_vertical_m", 0},
    {"array", "face_azimuth_deg", 0}, {"array", "positions_enu_m", 1},
    {"array", "calibration_amplitude_std_db", 0},
    {"array", "calibration_phase_std_deg", 0},
    {"scan", "dwells", 0}, {"scan", "pulses_per_dwell", 1},
    {"scan", "azimuth_deg", 1}, {"scan", "elevation_deg", 1},
    {"scan", "start_time_s", 0}, {"scan", "dwell_gap_s", 0},
    {"scan", "tx_beamwidth_az_deg", 0}, {"scan", "tx_beamwidth_el_deg", 0},
    {"noise", "enabled", 0}, {"noise", "sample_type", 0}, {"noise", "noise_lsb", 0},
    {"clutter", "enabled", 0}, {"clutter", "cnr_db", 0}, {"clutter", "range_min_m", 0},
    {"clutter", "range_max_m", 0}, {"clutter", "scatterers", 0},
    {"clutter", "azimuth_spread_deg", 0}, {"clutter", "range_exponent", 0},
    {"target", "motion", 0}, {"target", "range_m", 0}, {"target", "azimuth_deg", 0},
    {"target", "elevation_deg", 0}, {"target", "position_enu_m", 0},
    {"target", "velocity_enu_mps", 0}, {"target", "speed_mps", 0},
    {"target", "heading_deg", 0}, {"target", "climb_deg", 0},
    {"target", "radial_velocity_mps", 0}, {"target", "rcs_m2", 0},
    {"target", "snr_db", 0}, {"target", "swerling", 0},
};

static const char *const rf__sections[] = {"radar", "waveform", "array", "scan", "noise", "clutter"};

/* One collected key. */
typedef struct rf__entry {
  char *section, *key, *value;
  int line;
} rf__entry;

/* One section as first seen, in file order. */
typedef struct rf__sect {
  char *name;
  int line;
} rf__sect;

typedef struct rf__parse {
  const char *path;
  FILE *fp;
  int line;       /* current line, counted by the reader */
  int status;     /* first error; its message is already set */
  rf__entry *e;
  size_t ne, cap_e;
  rf__sect *s;
  size_t ns, cap_s;
} rf__parse;

static int rf__is_target_section(const char *s) { return strncmp(s, "target", 6) == 0; }

static const rf__key_def *rf__find_def(const char *section, const char *key) {
  const char *kind = rf__is_target_section(section) ? "target" : section;
  for (size_t i = 0; i < sizeof rf__keys / sizeof rf__keys[0]; i++)
    if (!strcmp(rf__keys[i].section, kind) && !strcmp(rf__keys[i].key, key)) return &rf__keys[i];
  return NULL;
}

static int rf__known_section(const char *s) {
  if (rf__is_target_section(s)) return 1;
  for (size_t i = 0; i < sizeof rf__sections / sizeof rf__sections[0]; i++)
    if (!strcmp(rf__sections[i], s)) return 1;
  return 0;
}

/* fgets that counts lines and refuses lines longer than inih's buffer. */
static char *rf__reader(char *str, int num, void *stream) {
  rf__parse *p = stream;
  if (!fgets(str, num, p->fp)) return NULL;
  p->line++;
  size_t n = strlen(str);
  if (n > 0 && str[n - 1] != '\n' && !feof(p->fp)) {
    if (p->status == 0)
      p->status = rf__err(RF_EFORMAT, "%s:%d: line longer than %d characters; split long lists "
                          "over indented continuation lines", p->path, p->line, num - 3);
    int c;
    while ((c = fgetc(p->fp)) != EOF && c != '\n') {
    }
    str[0] = '\n';
    str[1] = 0;
  }
  return str;
}

static rf__entry *rf__find_entry(const rf__parse *p, const char *section, const char *key) {
  for (size_t i = 0; i < p->ne; i++)
    if (!strcmp(p->e[i].section, section) && !strcmp(p->e[i].key, key)) return &p->e[i];
  return NULL;
}

static int rf__note_section(rf__parse *p, const char *section) {
  for (size_t i = 0; i < p->ns; i++)
    if (!strcmp(p->s[i].name, section)) return 0;
  if (p->ns == p->cap_s) {
    size_t nc = p->cap_s ? 2 * p->cap_s : 16;
    rf__sect *ns = rf__realloc(p->s, nc * sizeof *ns);
    if (!ns) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
    p->s = ns;
    p->cap_s = nc;
  }
  p->s[p->ns].name = rf__strdup(section);
  if (!p->s[p->ns].name) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  p->s[p->ns].line = p->line;
  p->ns++;
  return 0;
}

static int rf__handler(void *user, const char *section, const char *name, const char *value) {
  rf__parse *p = user;
  if (p->status) return 1; /* keep only the first error */
  int line = p->line;
  if (!section[0]) {
    p->status = rf__err(RF_EFORMAT, "%s:%d: key '%s' outside any section", p->path, line, name);
    return 1;
  }
  if (!rf__known_section(section)) {
    p->status = rf__err(RF_EFORMAT, "%s:%d: [%s]: unknown section (known: radar, waveform, array, "
                        "scan, noise, clutter, target NAME)", p->path, line, section);
    return 1;
  }
  const rf__key_def *def = rf__find_def(section, name);
  if (!def) {
    p->status = rf__err(RF_EFORMAT, "%s:%d: [%s] %s: unknown key", p->path, line, section, name);
    return 1;
  }
  int st = rf__note_section(p, section);
  if (st) {
    p->status = st;
    return 1;
  }
  rf__entry *e = rf__find_entry(p, section, name);
  if (e) {
    if (!def->list) {
      p->status = rf__err(RF_EFORMAT, "%s:%d: [%s] %s: key given twice (first on line %d)",
                          p->path, line, section, name, e->line);
      return 1;
    }
    size_t a = strlen(e->value), b = strlen(value);
    char *nv = rf__realloc(e->value, a + b + 2);
    if (!nv) {
      p->status = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
      return 1;
    }
    nv[a] = ',';
    memcpy(nv + a + 1, value, b + 1);
    e->value = nv;
    return 1;
  }
  if (p->ne == p->cap_e) {
    size_t nc = p->cap_e ? 2 * p->cap_e : 64;
    rf__entry *ne = rf__realloc(p->e, nc * sizeof *ne);
    if (!ne) {
      p->status = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
      return 1;
    }
    p->e = ne;
    p->cap_e = nc;
  }
  e = &p->e[p->ne];
  e->section = rf__strdup(section);
  e->key = rf__strdup(name);
  e->value = rf__strdup(value);
  e->line = line;
  p->ne++;
  if (!e->section || !e->key || !e->value) p->status = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  return 1;
}

static void rf__parse_free(rf__parse *p) {
  for (size_t i = 0; i < p->ne; i++) {
    rf__free(p->e[i].section);
    rf__free(p->e[i].key);
    rf__free(p->e[i].value);
  }
  rf__free(p->e);
  for (size_t i = 0; i < p->ns; i++) rf__free(p->s[i].name);
  rf__free(p->s);
}

/* ---- typed getters ------------------------------------------------------------ */
/* Each returns 0 with *out set (or left at the default when the key is
 * absent and not required), or RF_EFORMAT with the message set. */

static int rf__section_line(const rf__parse *p, const char *section) {
  for (size_t i = 0; i < p->ns; i++)
    if (!strcmp(p->s[i].name, section)) return p->s[i].line;
  return 0;
}

static int rf__missing(const rf__parse *p, const char *section, const char *key) {
  int line = rf__section_line(p, section);
  if (line > 0)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: required key missing", p->path, line, section, key);
  return rf__err(RF_EFORMAT, "%s: [%s] %s: required key missing (no [%s] section)", p->path,
                 section, key, section);
}

static int rf__parse_number(const char *s, double *v) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (*end || errno == ERANGE || !isfinite(x)) return -1;
  *v = x;
  return 0;
}

/* The entry of key (NULL when absent: an error if required) and its value,
 * which must be a finite number, and a whole one if `integer`. */
static int rf__get_number(const rf__parse *p, const char *section, const char *key, int required, int integer,
                          const rf__entry **e, double *v) {
  *e = rf__find_entry(p, section, key);
  if (!*e) return required ? rf__missing(p, section, key) : 0;
  if (rf__parse_number((*e)->value, v) || (integer && *v != floor(*v)))
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: expected %s (got '%s')", p->path, (*e)->line, section, key,
                   integer ? "an integer" : "a finite number", (*e)->value);
  return 0;
}

static int rf__get_double(const rf__parse *p, const char *section, const char *key, int required,
                          double lo, double hi, double *out) {
  const rf__entry *e;
  double v;
  int st = rf__get_number(p, section, key, required, 0, &e, &v);
  if (st || !e) return st;
  if (v < lo || v > hi)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: %g is outside [%g, %g]", p->path, e->line, section, key, v, lo, hi);
  *out = v;
  return 0;
}

static int rf__get_size(const rf__parse *p, const char *section, const char *key, int required,
                        size_t lo, size_t hi, size_t *out) {
  const rf__entry *e;
  double v;
  int st = rf__get_number(p, section, key, required, 1, &e, &v);
  if (st || !e) return st;
  if (v < (double)lo || v > (double)hi)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: %g is outside [%zu, %zu]", p->path, e->line, section, key, v, lo, hi);
  *out = (size_t)v;
  return 0;
}

static int rf__get_bool(const rf__parse *p, const char *section, const char *key, int *out) {
  const rf__entry *e = rf__find_entry(p, section, key);
  if (!e) return 0;
  static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (!strcasecmp(e->value, yes[i])) return *out = 1, 0;
    if (!strcasecmp(e->value, no[i])) return *out = 0, 0;
  }
  return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: expected true or false (got '%s')", p->path, e->line,
                 section, key, e->value);
}

/* Picks one of `words` (NULL-terminated); *out is its index. */
static int rf__get_enum(const rf__parse *p, const char *section, const char *key,
                        const char *const *words, int *out) {
  const rf__entry *e = rf__find_entry(p, section, key);
  if (!e) return 0;
  char known[256] = "";
  for (int i = 0; words[i]; i++) {
    if (!strcasecmp(e->value, words[i])) return *out = i, 0;
    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? "|" : "", words[i]);
  }
  return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: expected %s (got '%s')", p->path, e->line, section,
                 key, known, e->value);
}

/* A list of numbers separated by commas or blanks; *v is rf__malloc'd. */
static int rf__get_list(const rf__parse *p, const char *section, const char *key, double lo,
                        double hi, double **v, size_t *n) {
  *v = NULL;
  *n = 0;
  const rf__entry *e = rf__find_entry(p, section, key);
  if (!e) return 0;
  double *out = NULL;
  size_t k = 0, bad = 0;
  int st = rf_parse_doubles(e->value, &out, &k, &bad);
  if (st == RF_ENOMEM) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  if (st)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: item %zu is not a finite number", p->path, e->line, section, key,
                   bad + 1);
  for (size_t i = 0; i < k; i++)
    if (out[i] < lo || out[i] > hi) {
      double x = out[i];
      rf__free(out);
      return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: item %zu (%g) is outside [%g, %g]", p->path, e->line, section,
                     key, i + 1, x, lo, hi);
    }
  if (k > RF__MAX_LIST) {
    rf__free(out);
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: more than %d items", p->path, e->line, section, key,
                   RF__MAX_LIST);
  }
  if (k == 0) {
    rf__free(out);
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: empty list", p->path, e->line, section, key);
  }
  *v = out;
  *n = k;
  return 0;
}

/* A list of exactly 3 numbers. */
static int rf__get_vec3(const rf__parse *p, const char *section, const char *key, double out[3]) {
  double *v;
  size_t n;
  int st = rf__get_list(p, section, key, -HUGE_VAL, HUGE_VAL, &v, &n);
  if (st || !v) return st;
  if (n != 3) {
    rf__free(v);
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: expected 3 numbers (east, north, up), got %zu",
                   p->path, rf__find_entry(p, section, key)->line, section, key, n);
  }
  memcpy(out, v, 3 * sizeof *out);
  rf__free(v);
  return 0;
}

static int rf__has(const rf__parse *p, const char *section, const char *key) {
  return rf__find_entry(p, section, key) != NULL;
}

static int rf__line_of(const rf__parse *p, const char *section, const char *key) {
  const rf__entry *e = rf__find_entry(p, section, key);
  return e ? e->line : rf__section_line(p, section);
}

/* ---- sections ------------------------------------------------------------------- */
#define RF__TRY(x)                     \
  do {                                 \
    if ((st = (x)) != 0) goto cleanup; \
  } while (0)

static int rf__read_radar(const rf__parse *p, rf_scenario *sc) {
  int st = 0;
  const rf__entry *e = rf__find_entry(p, "radar", "name");
  snprintf(sc->name, sizeof sc->name, "%s", e ? e->value : "radarflow-sim");
  RF__TRY(rf__get_double(p, "radar", "site_latitude_deg", 0, -90, 90, &sc->site_lat_deg));
  RF__TRY(rf__get_double(p, "radar", "site_longitude_deg", 0, -180, 360, &sc->site_lon_deg));
  RF__TRY(rf__get_double(p, "radar", "site_altitude_m", 0, -1e4, 1e5, &sc->site_alt_m));
  RF__TRY(rf__get_double(p, "radar", "center_frequency_hz", 1, 1e3, 1e12, &sc->fc_hz));
  sc->lambda_m = RF_C_MPS / sc->fc_hz;
  sc->peak_power_w = 0;
  RF__TRY(rf__get_double(p, "radar", "peak_power_w", 0, 1e-3, 1e12, &sc->peak_power_w));
  sc->noise_figure_db = 3.0;
  RF__TRY(rf__get_double(p, "radar", "noise_figure_db", 0, 0, 100, &sc->noise_figure_db));
  RF__TRY(rf__get_double(p, "radar", "system_loss_db", 0, 0, 100, &sc->system_loss_db));
  RF__TRY(rf__get_double(p, "radar", "element_gain_dbi", 0, -50, 100, &sc->element_gain_dbi));
cleanup:
  return st;
}

/* Biphase Barker codes, as 0/1 for phase 0/180 degrees. */
static const char *rf__barker(const char *name) {
  static const char *const codes[][2] = {
      {"barker2", "10"}, {"barker3", "110"}, {"barker4", "1101"}, {"barker5", "11101"},
      {"barker7", "1110010"}, {"barker11", "11100010010"}, {"barker13", "1111100110101"}};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (!strcasecmp(name, codes[i][0])) return codes[i][1];
  return NULL;
}

/* The phases of a custom code: a named Barker code or phase_code_deg. */
static int rf__read_code(const rf__parse *p, double **phases, size_t *nph) {
  const char *S = "waveform";
  if (rf__has(p, S, "code") == rf__has(p, S, "phase_code_deg"))
    return rf__err(RF_EFORMAT, "%s:%d: [%s] code: type = custom needs exactly one of code or "
                   "phase_code_deg", p->path, rf__line_of(p, S, "code"), S);
  if (!rf__has(p, S, "code")) return rf__get_list(p, S, "phase_code_deg", -1e6, 1e6, phases, nph);
  const rf__entry *e = rf__find_entry(p, S, "code");
  const char *bits = rf__barker(e->value);
  if (!bits)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] code: unknown code '%s' (known: barker2, barker3, "
                   "barker4, barker5, barker7, barker11, barker13)", p->path, e->line, S, e->value);
  *nph = strlen(bits);
  if (!(*phases = rf__malloc(*nph * sizeof **phases))) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  for (size_t i = 0; i < *nph; i++) (*phases)[i] = bits[i] == '1' ? 0.0 : 180.0;
  return 0;
}

/* type = custom: chips, their phases, pulse width and bandwidth from them. */
static int rf__read_custom(const rf__parse *p, rf_scenario *sc) {
  const char *S = "waveform";
  double *phases = NULL;
  size_t nph = 0;
  int st = 0;
  RF__TRY(rf__read_code(p, &phases, &nph));
  sc->chip_samples = 1;
  RF__TRY(rf__get_size(p, S, "chip_samples", 0, 1, 1u << 20, &sc->chip_samples));
  sc->chips = nph;
  sc->chip_phase_rad = rf__malloc(nph * sizeof *sc->chip_phase_rad);
  if (!sc->chip_phase_rad) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
    goto cleanup;
  }
  for (size_t i = 0; i < nph; i++) sc->chip_phase_rad[i] = phases[i] * RF_PI / 180.0;
  double T = (double)(nph * sc->chip_samples) / sc->fs_hz;
  if (rf__has(p, S, "pulse_width_s")) {
    double tw = 0;
    RF__TRY(rf__get_double(p, S, "pulse_width_s", 1, 1e-12, 1e3, &tw));
    if (fabs(tw - T) > 1e-9 * T) {
      st = rf__err(RF_EFORMAT, "%s:%d: [%s] pulse_width_s: %g disagrees with chips * chip_samples "
                   "/ sample_rate_hz = %g (leave it out)", p->path, rf__line_of(p, S, "pulse_width_s"), S, tw, T);
      goto cleanup;
    }
  }
  sc->pulse_width_s = T;
  sc->bandwidth_hz = sc->fs_hz / (double)sc->chip_samples;
  RF__TRY(rf__get_double(p, S, "bandwidth_hz", 0, 1.0, 1e12, &sc->bandwidth_hz));
cleanup:
  rf__free(phases);
  return st;
}

/* The receive window: range gate delay (or range_min_m) and samples (or
 * range_max_m), closing before the next pulse. */
static int rf__read_window(const rf__parse *p, rf_scenario *sc) {
  const char *S = "waveform";
  int st = 0;
  if (rf__has(p, S, "range_gate_delay_s") && rf__has(p, S, "range_min_m"))
    return rf__err(RF_EFORMAT, "%s:%d: [%s] range_min_m: give range_gate_delay_s or range_min_m, not both",
                   p->path, rf__line_of(p, S, "range_min_m"), S);
  sc->rgd_s = 0;
  RF__TRY(rf__get_double(p, S, "range_gate_delay_s", 0, 0, 1e3, &sc->rgd_s));
  if (rf__has(p, S, "range_min_m")) {
    double r = 0;
    RF__TRY(rf__get_double(p, S, "range_min_m", 0, 0, 1e11, &r));
    sc->rgd_s = 2.0 * r / RF_C_MPS;
  }
  if (rf__has(p, S, "samples") == rf__has(p, S, "range_max_m"))
    return rf__err(RF_EFORMAT, "%s:%d: [%s] samples: give exactly one of samples or range_max_m",
                   p->path, rf__line_of(p, S, "samples"), S);
  if (rf__has(p, S, "samples")) {
    RF__TRY(rf__get_size(p, S, "samples", 1, 1, RF_MAX_SAMPLES, &sc->samples));
  } else {
    double r = 0;
    RF__TRY(rf__get_double(p, S, "range_max_m", 1, 0, 1e11, &r));
    double n = ceil((2.0 * r / RF_C_MPS - sc->rgd_s) * sc->fs_hz);
    if (n < 1 || n > RF_MAX_SAMPLES)
      return rf__err(RF_EFORMAT, "%s:%d: [%s] range_max_m: gives %g samples, must be in [1, %u]",
                     p->path, rf__line_of(p, S, "range_max_m"), S, n, RF_MAX_SAMPLES);
    sc->samples = (size_t)n;
  }
  /* The receive window must close before the next pulse goes out. */
  double win_end = sc->rgd_s + (double)sc->samples / sc->fs_hz;
  if (win_end > sc->pri_s * (1 + 1e-12)) {
    const char *k = rf__has(p, S, "samples") ? "samples" : "range_max_m";
    return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: receive window ends at %g s, after the next pulse "
                   "(pri_s = %g s)", p->path, rf__line_of(p, S, k), S, k, win_end, sc->pri_s);
  }
cleanup:
  return st;
}

static int rf__read_waveform(const rf__parse *p, rf_scenario *sc) {
  static const char *const types[] = {"lfm", "custom", NULL};
  const char *S = "waveform";
  int st = 0, type = 0;
  RF__TRY(rf__get_enum(p, S, "type", types, &type));
  sc->waveform_type = type ? RF_WAVEFORM_CUSTOM : RF_WAVEFORM_LFM;
  RF__TRY(rf__get_double(p, S, "sample_rate_hz", 1, 1.0, 1e12, &sc->fs_hz));
  RF__TRY(rf__get_double(p, S, "pri_s", 1, 1e-9, 1e3, &sc->pri_s));
  if (sc->waveform_type == RF_WAVEFORM_LFM) {
    if (rf__has(p, S, "code") || rf__has(p, S, "phase_code_deg") || rf__has(p, S, "chip_samples")) {
      const char *k = rf__has(p, S, "code") ? "code" : rf__has(p, S, "phase_code_deg") ? "phase_code_deg" : "chip_samples";
      return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: only for type = custom", p->path, rf__line_of(p, S, k), S, k);
    }
    RF__TRY(rf__get_double(p, S, "bandwidth_hz", 1, 1.0, 1e12, &sc->bandwidth_hz));
    RF__TRY(rf__get_double(p, S, "pulse_width_s", 1, 1e-12, 1e3, &sc->pulse_width_s));
  } else {
    RF__TRY(rf__read_custom(p, sc));
  }
  if (sc->pulse_width_s >= sc->pri_s)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] pulse_width_s: pulse (%g s) must be shorter than pri_s (%g s)",
                   p->path, rf__line_of(p, S, "pulse_width_s"), S, sc->pulse_width_s, sc->pri_s);
  if (llround(sc->pulse_width_s * sc->fs_hz) < 1)
    return rf__err(RF_EFORMAT, "%s:%d: [%s] pulse_width_s: pulse shorter than one sample",
                   p->path, rf__line_of(p, S, "pulse_width_s"), S);
  st = rf__read_window(p, sc);
cleanup:
  return st;
}

/* Element positions of a ula or upa layout, across the face (uh
 * horizontal, uv up), spaced lambda / 2 unless set. */
static int rf__array_grid(const rf__parse *p, rf_scenario *sc, int layout, const double uh[3], const double uv[3]) {
  const char *S = "array";
  double half = sc->lambda_m / 2, dh = half, dv = half;
  size_t nh = 1, nv = 1;
  int st = 0;
  if (layout == RF_SIM_ULA) {
    RF__TRY(rf__get_size(p, S, "elements", 1, 1, RF_MAX_CHANNELS, &nh));
    RF__TRY(rf__get_double(p, S, "spacing_m", 0, 1e-9, 1e6, &dh));
  } else {
    RF__TRY(rf__get_size(p, S, "elements_horizontal", 1, 1, RF_MAX_CHANNELS, &nh));
    RF__TRY(rf__get_size(p, S, "elements_vertical", 1, 1, RF_MAX_CHANNELS, &nv));
    RF__TRY(rf__get_double(p, S, "spacing_horizontal_m", 0, 1e-9, 1e6, &dh));
    RF__TRY(rf__get_double(p, S, "spacing_vertical_m", 0, 1e-9, 1e6, &dv));
    if (nh * nv > RF_MAX_CHANNELS)
      return rf__err(RF_EFORMAT, "%s:%d: [%s] elements_vertical: %zu x %zu elements exceed %d channels",
                     p->path, rf__line_of(p, S, "elements_vertical"), S, nh, nv, RF_MAX_CHANNELS);
  }
  sc->channels = nh * nv;
  if (!(sc->pos = rf__calloc(sc->channels, sizeof *sc->pos))) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  for (size_t v = 0; v < nv; v++)
    for (size_t h = 0; h < nh; h++) {
      double x = ((double)h - 0.5 * (double)(nh - 1)) * dh;
      double z = ((double)v - 0.5 * (double)(nv - 1)) * dv;
      for (int k = 0; k < 3; k++) sc->pos[v * nh + h][k] = layout == RF_SIM_ULA ? x * uh[k] : x * uh[k] + z * uv[k];
    }
cleanup:
  return st;
}

/* Element positions listed one by one (east, north, up). */
static int rf__array_custom(const rf__parse *p, rf_scenario *sc) {
  const char *S = "array";
  double *list = NULL;
  size_t nlist = 0;
  int st = 0;
  RF__TRY(rf__get_list(p, S, "positions_enu_m", -1e6, 1e6, &list, &nlist));
  if (!list) {
    st = rf__missing(p, S, "positions_enu_m");
    goto cleanup;
  }
  if (nlist % 3 || nlist / 3 > RF_MAX_CHANNELS) {
    st = rf__err(RF_EFORMAT, "%s:%d: [%s] positions_enu_m: needs 3 numbers (east, north, up) per "
                 "element, at most %d elements (got %zu numbers)", p->path,
                 rf__line_of(p, S, "positions_enu_m"), S, RF_MAX_CHANNELS, nlist);
    goto cleanup;
  }
  sc->channels = nlist / 3;
  if (!(sc->pos = rf__calloc(sc->channels, sizeof *sc->pos))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
    goto cleanup;
  }
  memcpy(sc->pos, list, nlist * sizeof *list);
cleanup:
  rf__free(list);
  return st;
}

static int rf__read_array(const rf__parse *p, rf_scenario *sc) {
  static const char *const layouts[] = {"ula", "upa", "custom", NULL};
  const char *S = "array";
  int st = 0, layout = 0;
  RF__TRY(rf__get_enum(p, S, "layout", layouts, &layout));
  sc->face_az_deg = 0;
  RF__TRY(rf__get_double(p, S, "face_azimuth_deg", 0, -360, 360, &sc->face_az_deg));
  double faz = sc->face_az_deg * RF_PI / 180.0;
  double uh[3] = {cos(faz), -sin(faz), 0}, uv[3] = {0, 0, 1};

  /* Keys of the other layouts are refused so a typo cannot pass silently. */
  static const char *const ula_keys[] = {"elements", "spacing_m", NULL};
  static const char *const upa_keys[] = {"elements_horizontal", "elements_vertical",
                                         "spacing_horizontal_m", "spacing_vertical_m", NULL};
  static const char *const custom_keys[] = {"positions_enu_m", NULL};
  const char *const *other[3][2] = {{upa_keys, custom_keys}, {ula_keys, custom_keys}, {ula_keys, upa_keys}};
  for (int o = 0; o < 2; o++)
    for (int i = 0; other[layout][o][i]; i++)
      if (rf__has(p, S, other[layout][o][i]))
        return rf__err(RF_EFORMAT, "%s:%d: [%s] %s: not a key of layout = %s", p->path,
                       rf__line_of(p, S, other[layout][o][i]), S, other[layout][o][i], layouts[layout]);
  RF__TRY(layout == RF_SIM_ULA || layout == RF_SIM_UPA ? rf__array_grid(p, sc, layout, uh, uv) : rf__array_custom(p, sc));
  RF__TRY(rf__get_double(p, S, "calibration_amplitude_std_db", 0, 0, 20, &sc->cal_amp_std_db));
  RF__TRY(rf__get_double(p, S, "calibration_phase_std_deg", 0, 0, 360, &sc->cal_phase_std_deg));
cleanup:
  return st;
}

static int rf__read_scan(const rf__parse *p, rf_scenario *sc) {
  const char *S = "scan";
  int st = 0;
  double *ppd = NULL, *az = NULL, *el = NULL;
  size_t nppd = 0, naz = 0, nel = 0;
  double gap = 0;
  RF__TRY(rf__get_size(p, S, "dwells", 1, 1, RF_MAX_DWELLS, &sc->dwells));
  RF__TRY(rf__get_list(p, S, "pulses_per_dwell", 1, RF_MAX_PULSES_PER_DWELL, &ppd, &nppd));
  if (!ppd) {
    st = rf__missing(p, S, "pulses_per_dwell");
    goto cleanup;
  }
  for (size_t i = 0; i < nppd; i++)
    if (ppd[i] != floor(ppd[i])) {
      st = rf__err(RF_EFORMAT, "%s:%d: [%s] pulses_per_dwell: item %zu is not an integer", p->path,
                   rf__line_of(p, S, "pulses_per_dwell"), S, i + 1);
      goto cleanup;
    }
  RF__TRY(rf__get_list(p, S, "azimuth_deg", -360, 360, &az, &naz));
  RF__TRY(rf__get_list(p, S, "elevation_deg", -90, 90, &el, &nel));
  sc->start_time_s = RF__DEFAULT_START_TIME_S;
  RF__TRY(rf__get_double(p, S, "start_time_s", 0, 0, 1e11, &sc->start_time_s));
  RF__TRY(rf__get_double(p, S, "dwell_gap_s", 0, 0, 1e6, &gap));
  /* A spoiled (broad) transmit beam: its 3 dB widths, written to the capture. */
  RF__TRY(rf__get_double(p, S, "tx_beamwidth_az_deg", 0, 0.01, 180, &sc->tx_bw_az_deg));
  RF__TRY(rf__get_double(p, S, "tx_beamwidth_el_deg", 0, 0.01, 180, &sc->tx_bw_el_deg));

  sc->first_pulse = rf__calloc(sc->dwells, sizeof *sc->first_pulse);
  sc->num_pulses = rf__calloc(sc->dwells, sizeof *sc->num_pulses);
  sc->dwell_az_deg = rf__calloc(sc->dwells, sizeof *sc->dwell_az_deg);
  sc->dwell_el_deg = rf__calloc(sc->dwells, sizeof *sc->dwell_el_deg);
  if (!sc->first_pulse || !sc->num_pulses || !sc->dwell_az_deg || !sc->dwell_el_deg) goto nomem;
  size_t total = 0;
  for (size_t k = 0; k < sc->dwells; k++) {
    sc->first_pulse[k] = total;
    sc->num_pulses[k] = (size_t)ppd[k % nppd];
    total += sc->num_pulses[k];
    if (total > RF_MAX_PULSES) {
      st = rf__err(RF_EFORMAT, "%s:%d: [%s] dwells: more than %u pulses in all", p->path,
                   rf__line_of(p, S, "dwells"), S, RF_MAX_PULSES);
      goto cleanup;
    }
    /* Default beam: the array boresight, horizontal. */
    double a = az ? az[k % naz] : sc->face_az_deg;
    a = fmod(a, 360.0);
    sc->dwell_az_deg[k] = a < 0 ? a + 360.0 : a;
    sc->dwell_el_deg[k] = el ? el[k % nel] : 0.0;
  }
  sc->pulses = total;
  sc->t_rel_s = rf__malloc(total * sizeof *sc->t_rel_s);
  if (!sc->t_rel_s) goto nomem;
  /* Pulses of a dwell are pri_s apart; the next dwell starts one PRI plus
   * dwell_gap_s after the last pulse of the previous one. Times are kept
   * relative to start_time_s so that the physics keeps full precision. */
  double t = 0;
  for (size_t k = 0; k < sc->dwells; k++) {
    if (k) t += sc->pri_s + gap;
    for (size_t i = 0; i < sc->num_pulses[k]; i++) {
      sc->t_rel_s[sc->first_pulse[k] + i] = t + (double)i * sc->pri_s;
    }
    t += (double)(sc->num_pulses[k] - 1) * sc->pri_s;
  }
  goto cleanup;
nomem:
  st = rf__err(RF_ENOMEM, "%s: out of memory", p->path);
cleanup:
  rf__free(ppd);
  rf__free(az);
  rf__free(el);
  return st;
}

static int rf__read_noise(const rf__parse *p, rf_scenario *sc) {
  static const char *const types[] = {"float32", "int16", NULL};
  int st = 0, type = 0;
  sc->noise_enabled = 1;
  RF__TRY(rf__get_bool(p, "noise", "enabled", &sc->noise_enabled));
  RF__TRY(rf__get_enum(p, "noise", "sample_type", types, &type));
  sc->sample_type = type ? RF_SAMPLE_INT16 : RF_SAMPLE_FLOAT32;
  sc->noise_lsb = 8.0;
  RF__TRY(rf__get_double(p, "noise", "noise_lsb", 0, 0.01, 1e4, &sc->noise_lsb));
  if (sc->sample_type == RF_SAMPLE_FLOAT32 && rf__has(p, "noise", "noise_lsb")) {
    st = rf__err(RF_EFORMAT, "%s:%d: [noise] noise_lsb: only for sample_type = int16", p->path,
                 rf__line_of(p, "noise", "noise_lsb"));
    goto cleanup;
  }
cleanup:
  return st;
}

static int rf__read_clutter(const rf__parse *p, rf_scenario *sc) {
  const char *S = "clutter";
  int st = 0;
  sc->clutter_enabled = 0;
  RF__TRY(rf__get_bool(p, S, "enabled", &sc->clutter_enabled));
  sc->clutter_scatterers = 256;
  sc->clutter_az_spread_deg = 10;
  sc->clutter_range_exponent = 3;
  int req = sc->clutter_enabled;
  RF__TRY(rf__get_double(p, S, "cnr_db", req, -100, 100, &sc->cnr_db));
  RF__TRY(rf__get_double(p, S, "range_min_m", req, 1, 1e9, &sc->clutter_rmin_m));
  RF__TRY(rf__get_double(p, S, "range_max_m", req, 1, 1e9, &sc->clutter_rmax_m));
  RF__TRY(rf__get_size(p, S, "scatterers", 0, 1, 1u << 20, &sc->clutter_scatterers));
  RF__TRY(rf__get_double(p, S, "azimuth_spread_deg", 0, 0, 360, &sc->clutter_az_spread_deg));
  RF__TRY(rf__get_double(p, S, "range_exponent", 0, 0, 10, &sc->clutter_range_exponent));
  if (req && sc->clutter_rmax_m <= sc->clutter_rmin_m) {
    st = rf__err(RF_EFORMAT, "%s:%d: [%s] range_max_m: must exceed range_min_m", p->path,
                 rf__line_of(p, S, "range_max_m"), S);
    goto cleanup;
  }
cleanup:
  return st;
}

static int rf__read_target(const rf__parse *p, const char *S, rf_scenario *sc, rf_sim_target *t) {
  static const char *const motions[] = {"constant_velocity", "ballistic", NULL};
  int st = 0;
  const char *nm = S + 6;
  while (isspace((unsigned char)*nm)) nm++;
  snprintf(t->name, sizeof t->name, "%s", *nm ? nm : "target");
  RF__TRY(rf__get_enum(p, S, "motion", motions, &t->motion));

  /* Position: polar or ENU, exactly one. */
  int polar = rf__has(p, S, "range_m") || rf__has(p, S, "azimuth_deg") || rf__has(p, S, "elevation_deg");
  int enu = rf__has(p, S, "position_enu_m");
  if (polar == enu) {
    st = rf__err(RF_EFORMAT, "%s:%d: [%s] position_enu_m: give the position either as range_m, "
                 "azimuth_deg, elevation_deg or as position_enu_m", p->path,
                 rf__line_of(p, S, enu ? "position_enu_m" : "range_m"), S);
    goto cleanup;
  }
  if (polar) {
    double r = 0, az = 0, el = 0, d[3];
    RF__TRY(rf__get_double(p, S, "range_m", 1, 1, 1e11, &r));
    RF__TRY(rf__get_double(p, S, "azimuth_deg", 1, -360, 360, &az));
    RF__TRY(rf__get_double(p, S, "elevation_deg", 0, -90, 90, &el));
    rf_direction(az, el, d);
    for (int k = 0; k < 3; k++) t->p0[k] = r * d[k];
  } else {
    RF__TRY(rf__get_vec3(p, S, "position_enu_m", t->p0));
  }

  /* Velocity: ENU, speed/heading/climb, or radial; at most one; default 0. */
  int venu = rf__has(p, S, "velocity_enu_mps");
  int vshc = rf__has(p, S, "speed_mps") || rf__has(p, S, "heading_deg") || rf__has(p, S, "climb_deg");
  int vrad = rf__has(p, S, "radial_velocity_mps");
  if (venu + vshc + vrad > 1) {
    st = rf__err(RF_EFORMAT, "%s:%d: [%s] velocity_enu_mps: give the velocity one way only "
                 "(velocity_enu_mps, speed_mps/heading_deg/climb_deg or radial_velocity_mps)",
                 p->path, rf__line_of(p, S, venu ? "velocity_enu_mps" : vshc ? "speed_mps" : "radial_velocity_mps"), S);
    goto cleanup;
  }
  memset(t->v0, 0, sizeof t->v0);
  if (venu) {
    RF__TRY(rf__get_vec3(p, S, "velocity_enu_mps", t->v0));
  } else if (vshc) {
    double sp = 0, hd = 0, cl = 0, d[3];
    RF__TRY(rf__get_double(p, S, "speed_mps", 1, 0, 1e6, &sp));
    RF__TRY(rf__get_double(p, S, "heading_deg", 0, -360, 360, &hd));
    RF__TRY(rf__get_double(p, S, "climb_deg", 0, -90, 90, &cl));
    rf_direction(hd, cl, d);
    for (int k = 0; k < 3; k++) t->v0[k] = sp * d[k];
  } else if (vrad) {
    double vr = 0, r = sqrt(t->p0[0] * t->p0[0] + t->p0[1] * t->p0[1] + t->p0[2] * t->p0[2]);
    RF__TRY(rf__get_double(p, S, "radial_velocity_mps", 1, -1e6, 1e6, &vr));
    if (r < 1) {
      st = rf__err(RF_EFORMAT, "%s:%d: [%s] radial_velocity_mps: target at the radar has no line of sight",
                   p->path, rf__line_of(p, S, "radial_velocity_mps"), S);
      goto cleanup;
    }
    for (int k = 0; k < 3; k++) t->v0[k] = vr * t->p0[k] / r;
  }

  /* Size: rcs_m2 (radar equation) or snr_db, exactly one. */
  if (rf__has(p, S, "rcs_m2") == rf__has(p, S, "snr_db")) {
    st = rf__err(RF_EFORMAT, "%s:%d: [%s] rcs_m2: give exactly one of rcs_m2 or snr_db", p->path,
                 rf__line_of(p, S, "rcs_m2"), S);
    goto cleanup;
  }
  t->use_rcs = rf__has(p, S, "rcs_m2");
  if (t->use_rcs) {
    RF__TRY(rf__get_double(p, S, "rcs_m2", 1, 0, 1e9, &t->rcs_m2));
    if (sc->peak_power_w <= 0) {
      st = rf__err(RF_EFORMAT, "%s:%d: [%s] rcs_m2: needs [radar] peak_power_w", p->path,
                   rf__line_of(p, S, "rcs_m2"), S);
      goto cleanup;
    }
  } else {
    RF__TRY(rf__get_double(p, S, "snr_db", 1, -200, 200, &t->snr_db));
  }
  /* Swerling 0 (steady) or 1 (Rayleigh amplitude, new each dwell). */
  size_t sw = 0;
  RF__TRY(rf__get_size(p, S, "swerling", 0, 0, 1, &sw));
  t->swerling = (int)sw;
cleanup:
  return st;
}

static int rf__read_targets(const rf__parse *p, rf_scenario *sc) {
  int st = 0;
  size_t n = 0;
  for (size_t i = 0; i < p->ns; i++) n += rf__is_target_section(p->s[i].name);
  if (n > RF__MAX_TARGETS) {
    return rf__err(RF_EFORMAT, "%s: more than %d target sections", p->path, RF__MAX_TARGETS);
  }
  sc->target = rf__calloc(n ? n : 1, sizeof *sc->target);
  if (!sc->target) return rf__err(RF_ENOMEM, "%s: out of memory", p->path);
  for (size_t i = 0; i < p->ns; i++) {
    if (!rf__is_target_section(p->s[i].name)) continue;
    st = rf__read_target(p, p->s[i].name, sc, &sc->target[sc->targets]);
    if (st) return st;
    sc->targets++;
  }
  return 0;
}

/* Sizes the reader would refuse are refused here, where the key is known. */
static int rf__check_sizes(const rf__parse *p, const rf_scenario *sc) {
  size_t pair = sc->sample_type == RF_SAMPLE_INT16 ? 4 : 8, bytes;
  if (rf__mul_size(sc->channels, sc->samples, &bytes) || rf__mul_size(bytes, pair, &bytes) ||
      bytes > RF_MAX_PULSE_BYTES)
    return rf__err(RF_EFORMAT, "%s:%d: [waveform] samples: %zu channels x %zu samples exceed the "
                   "%zu-byte pulse limit", p->path, rf__line_of(p, "waveform", "samples"),
                   sc->channels, sc->samples, (size_t)RF_MAX_PULSE_BYTES);
  return 0;
}

/* The Earth seen from the site (centre and rotation in ENU) and each
 * target's inertial start state, for Keplerian ballistic motion. */
void rf__sim_init_ballistic(rf_scenario *sc) {
  rf_geo_site_init(&sc->site, sc->site_lat_deg, sc->site_lon_deg, sc->site_alt_m);
  double axis[3] = {0, 0, RF_SIM_OMEGA_RPS}, c[3];
  rf_geo_ecef_to_enu_vec(&sc->site, sc->site.ecef, c);
  for (int k = 0; k < 3; k++) sc->earth_centre_enu_m[k] = -c[k];
  rf_geo_ecef_to_enu_vec(&sc->site, axis, sc->earth_rate_enu_rps);
  for (size_t j = 0; j < sc->targets; j++) {
    rf_sim_target *t = &sc->target[j];
    const double *w = sc->earth_rate_enu_rps, *r = t->r0_inertial;
    for (int k = 0; k < 3; k++) t->r0_inertial[k] = t->p0[k] - sc->earth_centre_enu_m[k];
    /* inertial velocity = ground velocity + Omega x r */
    double wr[3] = {w[1] * r[2] - w[2] * r[1], w[2] * r[0] - w[0] * r[2], w[0] * r[1] - w[1] * r[0]};
    for (int k = 0; k < 3; k++) t->u0_inertial[k] = t->v0[k] + wr[k];
  }
}

int rf_scenario_load(rf_scenario **out, const char *path) {
  int st = 0;
  rf__parse p = {0};
  rf_scenario *sc = NULL;
  *out = NULL;
  rf_errmsg_clear();
  p.path = path;
  p.fp = fopen(path, "r");
  if (!p.fp) return rf__err(RF_EFORMAT, "%s: cannot open scenario: %s", path, strerror(errno));
  int r = ini_parse_stream(rf__reader, &p, rf__handler, &p);
  fclose(p.fp);
  if (p.status) {
    st = p.status;
    goto cleanup;
  }
  if (r != 0) {
    st = rf__err(RF_EFORMAT, "%s:%d: syntax error (expected [section] or key = value)", path, r);
    goto cleanup;
  }

  sc = rf__calloc(1, sizeof *sc);
  if (!sc) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  snprintf(sc->path, sizeof sc->path, "%s", path);
  RF__TRY(rf__read_radar(&p, sc));
  RF__TRY(rf__read_waveform(&p, sc));
  RF__TRY(rf__read_array(&p, sc));
  RF__TRY(rf__read_scan(&p, sc));
  RF__TRY(rf__read_noise(&p, sc));
  RF__TRY(rf__read_clutter(&p, sc));
  RF__TRY(rf__read_targets(&p, sc));
  RF__TRY(rf__check_sizes(&p, sc));
  rf__sim_init_ballistic(sc);
  *out = sc;
  sc = NULL;
cleanup:
  rf_scenario_destroy(sc);
  rf__parse_free(&p);
  return st;
}

void rf_scenario_destroy(rf_scenario *sc) {
  if (!sc) return;
  rf__free(sc->chip_phase_rad);
  rf__free(sc->pos);
  rf__free(sc->first_pulse);
  rf__free(sc->num_pulses);
  rf__free(sc->dwell_az_deg);
  rf__free(sc->dwell_el_deg);
  rf__free(sc->t_rel_s);
  rf__free(sc->target);
  rf__free(sc);
}

void rf_scenario_get_summary(const rf_scenario *sc, rf_scenario_summary *s) {
  s->name = sc->name;
  s->channels = sc->channels;
  s->pulses = sc->pulses;
  s->samples = sc->samples;
  s->dwells = sc->dwells;
  s->targets = sc->targets;
  s->center_frequency_hz = sc->fc_hz;
  s->sample_rate_hz = sc->fs_hz;
  s->pri_s = sc->pri_s;
}
