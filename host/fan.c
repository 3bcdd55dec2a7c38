/* radarflow: stage 3's receive beam fan (rf_stages.h). The fan covers the
 * transmit beam: beams spaced by half the receive 3 dB beamwidth (unless
 * set), as many as reach the transmit beam's 3 dB edges (an odd count, the
 * centre beam on the transmit axis), so every target inside the transmit
 * beam lies between two beams or within half a spacing past an outer one.
 * Direction is estimated monopulse-style from the power ratio of the peak
 * beam and its stronger neighbour, inverted through the two beams' known
 * patterns; outside the supported span (outer beams plus half a spacing)
 * no direction is reported. Per-channel mode: beam b is channel b, on the
 * transmit axis, with no direction estimate (plots carry the transmit
 * direction). Every distinct transmit direction gets its beams and ratio
 * tables once, at create; nothing after it allocates. */
#include "rf_stages.h"

#include <math.h>
#include <string.h>

/* Ratio table of a beam pair: RF__TAB angles over [lo - 0.75 s, hi + 0.75 s]. */
#define RF__TAB 97
#define RF__TAB_EXT 0.75

typedef struct rf__pair_tab {
  double a0, da;        /* angle of point 0 and the step, degrees */
  int i0, i1;           /* the monotonic span used, i0 < i1 (i0 == i1: none) */
  float q[RF__TAB];     /* 10 log10(G_hi / G_lo) */
} rf__pair_tab;

/* One distinct (transmit direction, transmit beamwidths). */
typedef struct rf__fan_dir {
  double az_deg, el_deg, tx_az_deg, tx_el_deg; /* tx: as given, 0 = not given */
  rf_fan_extent ext;
} rf__fan_dir;

struct rf_fan {
  size_t n, beams, beams_az, beams_el, dwells, ndirs, npair_az, npair_el;
  int estimate_az, estimate_el, taper, taylor_nbar, per_channel;
  double lambda_m, taylor_sll_db;
  double (*pos)[3];     /* [n] */
  size_t *dir_of;       /* [dwells]: index into dirs */
  rf__fan_dir *dirs;    /* [ndirs] */
  double *beam_az;      /* [ndirs][beams] */
  double *beam_el;      /* [ndirs][beams] */
  rf__pair_tab *tab_az; /* [ndirs][beams_el][beams_az - 1] */
  rf__pair_tab *tab_el; /* [ndirs][beams_az][beams_el - 1] */
};

void rf_fan_destroy(rf_fan *f) {
  if (!f) return;
  rf__free(f->pos);
  rf__free(f->dir_of);
  rf__free(f->dirs);
  rf__free(f->beam_az);
  rf__free(f->beam_el);
  rf__free(f->tab_az);
  rf__free(f->tab_el);
  rf__free(f);
}

static double rf__txw(const double *v, size_t d) { return v ? v[d] : 0.0; }

static int rf__cmp_dwell_dir(const void *a, const void *b, void *ctx) {
  const rf_fan_config *c = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  double ki[4] = {c->azimuth_deg[i], c->elevation_deg[i], rf__txw(c->tx_beamwidth_az_deg, i),
                  rf__txw(c->tx_beamwidth_el_deg, i)};
  double kj[4] = {c->azimuth_deg[j], c->elevation_deg[j], rf__txw(c->tx_beamwidth_az_deg, j),
                  rf__txw(c->tx_beamwidth_el_deg, j)};
  for (int k = 0; k < 4; k++)
    if (ki[k] != kj[k]) return ki[k] < kj[k] ? -1 : 1;
  return i < j ? -1 : i > j;
}

/* Beams along one axis covering a transmit half-width h with spacing s:
 * an odd count whose outer beams reach h. */
static size_t rf__count(double h, double s) {
  if (!(s > 0) || !(h > 0)) return 1;
  double k = ceil(h / s - 1e-9);
  return 2 * (size_t)(k < 1 ? 1 : k) + 1;
}

static void rf__extent(const rf_fan_config *c, double az, double el, double tx_az, double tx_el,
                       size_t baz, size_t bel, rf_fan_extent *o) {
  memset(o, 0, sizeof *o);
  const double(*pos)[3] = c->element_position_m;
  o->beamwidth_az_deg = rf_beamwidth_deg(pos, c->channels, c->lambda_m, az, el, 0, c->taper, c->taylor_sll_db,
                                         c->taylor_nbar);
  o->beamwidth_el_deg = rf_beamwidth_deg(pos, c->channels, c->lambda_m, az, el, 1, c->taper, c->taylor_sll_db,
                                         c->taylor_nbar);
  o->tx_beamwidth_az_deg = tx_az > 0 ? tx_az : o->beamwidth_az_deg;
  o->tx_beamwidth_el_deg = tx_el > 0 ? tx_el : o->beamwidth_el_deg;
  if (c->per_channel) { /* every channel a "beam" on the transmit axis; no direction estimate */
    o->beams_az = c->channels;
    o->beams_el = 1;
    o->half_az_deg = o->beamwidth_az_deg > 0 ? 0.5 * o->tx_beamwidth_az_deg : 0;
    o->half_el_deg = o->beamwidth_el_deg > 0 ? 0.5 * o->tx_beamwidth_el_deg : 0;
    return;
  }
  o->spacing_az_deg = c->spacing_az_deg > 0 ? c->spacing_az_deg : 0.5 * o->beamwidth_az_deg;
  o->spacing_el_deg = c->spacing_el_deg > 0 ? c->spacing_el_deg : 0.5 * o->beamwidth_el_deg;
  o->beams_az = baz ? baz : rf__count(0.5 * o->tx_beamwidth_az_deg, o->spacing_az_deg);
  o->beams_el = bel ? bel : rf__count(0.5 * o->tx_beamwidth_el_deg, o->spacing_el_deg);
  if (!(o->beamwidth_el_deg > 0)) o->beams_el = 1; /* a linear array: one row */
  o->half_az_deg = 0.5 * (double)(o->beams_az - 1) * o->spacing_az_deg +
                   (o->beams_az > 1 ? 0.5 * o->spacing_az_deg : 0.5 * o->beamwidth_az_deg);
  o->half_el_deg = !(o->beamwidth_el_deg > 0) ? 0
                   : 0.5 * (double)(o->beams_el - 1) * o->spacing_el_deg +
                         (o->beams_el > 1 ? 0.5 * o->spacing_el_deg : 0.5 * o->beamwidth_el_deg);
}

void rf_fan_extent_at(const rf_fan_config *c, size_t dwell, rf_fan_extent *o) {
  rf__extent(c, c->azimuth_deg[dwell], c->elevation_deg[dwell], rf__txw(c->tx_beamwidth_az_deg, dwell),
             rf__txw(c->tx_beamwidth_el_deg, dwell), c->beams_az > 0 ? (size_t)c->beams_az : 0,
             c->beams_el > 0 ? (size_t)c->beams_el : 0, o);
}

/* Gain of beam (baz, bel) of direction k toward (az, el). */
static double rf__gain(const rf_fan *f, size_t k, size_t b, double az, double el) {
  return rf_beam_pattern((const double(*)[3])f->pos, f->n, f->lambda_m, f->beam_az[k * f->beams + b],
                         f->beam_el[k * f->beams + b], f->taper, f->taylor_sll_db, f->taylor_nbar, az, el);
}

/* The ratio table of beams lo < hi (adjacent along axis 0: azimuth at the
 * row's elevation; axis 1: elevation at the column's azimuth). */
static void rf__pair(const rf_fan *f, size_t k, size_t lo, size_t hi, int axis, double s, rf__pair_tab *t) {
  const double *ba = f->beam_az + k * f->beams, *be = f->beam_el + k * f->beams;
  double a_lo = axis ? be[lo] : ba[lo], a_hi = axis ? be[hi] : ba[hi];
  t->a0 = a_lo - RF__TAB_EXT * s;
  t->da = (a_hi - a_lo + 2.0 * RF__TAB_EXT * s) / (RF__TAB - 1);
  for (int i = 0; i < RF__TAB; i++) {
    double a = t->a0 + t->da * i, az = axis ? ba[lo] : a, el = axis ? a : be[lo];
    double g_lo = rf__gain(f, k, lo, az, el), g_hi = rf__gain(f, k, hi, az, el);
    t->q[i] = g_lo > 1e-30 && g_hi > 1e-30 ? (float)(10.0 * log10(g_hi / g_lo)) : NAN;
  }
  /* The monotonic span around the pair's midpoint. */
  int m = RF__TAB / 2;
  t->i0 = t->i1 = m;
  while (t->i0 > 0 && t->q[t->i0 - 1] < t->q[t->i0]) t->i0--;
  while (t->i1 < RF__TAB - 1 && t->q[t->i1 + 1] > t->q[t->i1]) t->i1++;
}

static void rf__fan_dir_setup(rf_fan *f, size_t k) {
  rf__fan_dir *dr = &f->dirs[k];
  const rf_fan_extent *x = &dr->ext;
  for (size_t ie = 0; ie < f->beams_el; ie++)
    for (size_t ia = 0; ia < f->beams_az; ia++) {
      size_t b = ie * f->beams_az + ia;
      f->beam_az[k * f->beams + b] = dr->az_deg + ((double)ia - 0.5 * (double)(f->beams_az - 1)) * x->spacing_az_deg;
      f->beam_el[k * f->beams + b] = dr->el_deg + ((double)ie - 0.5 * (double)(f->beams_el - 1)) * x->spacing_el_deg;
    }
  if (f->per_channel) return; /* no direction estimate: no ratio tables */
  for (size_t ie = 0; ie < f->beams_el; ie++)
    for (size_t ia = 0; ia + 1 < f->beams_az; ia++)
      rf__pair(f, k, ie * f->beams_az + ia, ie * f->beams_az + ia + 1, 0, x->spacing_az_deg,
               &f->tab_az[(k * f->beams_el + ie) * f->npair_az + ia]);
  for (size_t ia = 0; ia < f->beams_az; ia++)
    for (size_t ie = 0; ie + 1 < f->beams_el; ie++)
      rf__pair(f, k, ie * f->beams_az + ia, (ie + 1) * f->beams_az + ia, 1, x->spacing_el_deg,
               &f->tab_el[(k * f->beams_az + ia) * f->npair_el + ie]);
}

/* Distinct (direction, transmit beamwidths) of the dwells. */
static int rf__fan_dirs(rf_fan *f, const rf_fan_config *c) {
  size_t *ix = rf__malloc(c->dwells * sizeof *ix);
  if (!ix) return -1;
  for (size_t d = 0; d < c->dwells; d++) ix[d] = d;
  rf_sort(ix, c->dwells, sizeof *ix, rf__cmp_dwell_dir, (void *)c);
  for (size_t i = 0; i < c->dwells; i++) {
    size_t d = ix[i];
    rf__fan_dir nd;
    memset(&nd, 0, sizeof nd);
    nd.az_deg = c->azimuth_deg[d];
    nd.el_deg = c->elevation_deg[d];
    nd.tx_az_deg = rf__txw(c->tx_beamwidth_az_deg, d);
    nd.tx_el_deg = rf__txw(c->tx_beamwidth_el_deg, d);
    const rf__fan_dir *pd = f->ndirs ? &f->dirs[f->ndirs - 1] : NULL;
    if (!pd || pd->az_deg != nd.az_deg || pd->el_deg != nd.el_deg || pd->tx_az_deg != nd.tx_az_deg ||
        pd->tx_el_deg != nd.tx_el_deg)
      f->dirs[f->ndirs++] = nd;
    f->dir_of[d] = f->ndirs - 1;
  }
  rf__free(ix);
  return 0;
}

static int rf__fan_check(const rf_fan_config *c) {
  if (!c || !c->element_position_m || c->channels < 1 || !(c->lambda_m > 0) || c->beams_az < 0 ||
      c->beams_el < 0 || c->beams_az > 1024 || c->beams_el > 1024 || c->dwells < 1 || !c->azimuth_deg ||
      !c->elevation_deg || !(c->spacing_az_deg >= 0) || !(c->spacing_el_deg >= 0))
    return rf__err(RF_EINVAL, "beam fan: invalid configuration");
  for (size_t d = 0; d < c->dwells; d++) {
    if (!isfinite(c->azimuth_deg[d]) || !isfinite(c->elevation_deg[d]))
      return rf__err(RF_EINVAL, "beam fan: dwell %zu: transmit direction is not finite", d);
    double ta = rf__txw(c->tx_beamwidth_az_deg, d), te = rf__txw(c->tx_beamwidth_el_deg, d);
    if ((c->tx_beamwidth_az_deg && !(ta > 0 && ta <= 180)) || (c->tx_beamwidth_el_deg && !(te > 0 && te <= 180)))
      return rf__err(RF_EINVAL, "beam fan: dwell %zu: transmit beamwidth not in (0, 180]", d);
  }
  return 0;
}

int rf_fan_create(rf_fan **out, const rf_fan_config *c) {
  *out = NULL;
  int st = rf__fan_check(c);
  if (st) return st;
  rf_fan *f = rf__calloc(1, sizeof *f);
  if (!f) goto nomem;
  f->n = c->channels;
  f->lambda_m = c->lambda_m;
  f->taper = c->taper;
  f->taylor_sll_db = c->taylor_sll_db;
  f->taylor_nbar = c->taylor_nbar;
  f->dwells = c->dwells;
  if (!(f->pos = rf__malloc(f->n * sizeof *f->pos))) goto nomem;
  memcpy(f->pos, c->element_position_m, f->n * sizeof *f->pos);
  f->dir_of = rf__malloc(c->dwells * sizeof *f->dir_of);
  f->dirs = rf__malloc(c->dwells * sizeof *f->dirs);
  if (!f->dir_of || !f->dirs || rf__fan_dirs(f, c)) goto nomem;
  /* Beam counts: as set, else the most any direction needs. A linear array
   * (no elevation aperture at the first dwell's direction) has one row and
   * plots carry the dwell's elevation; an array with no azimuth aperture
   * (one element) one column. */
  for (size_t k = 0; k < f->ndirs; k++) {
    rf__fan_dir *dr = &f->dirs[k];
    rf__extent(c, dr->az_deg, dr->el_deg, dr->tx_az_deg, dr->tx_el_deg, c->beams_az > 0 ? (size_t)c->beams_az : 0,
               c->beams_el > 0 ? (size_t)c->beams_el : 0, &dr->ext);
    if (!k) {
      f->estimate_az = dr->ext.beamwidth_az_deg > 0;
      f->estimate_el = dr->ext.beamwidth_el_deg > 0;
    }
    if (dr->ext.beams_az > f->beams_az) f->beams_az = dr->ext.beams_az;
    if (dr->ext.beams_el > f->beams_el) f->beams_el = dr->ext.beams_el;
  }
  if (!f->estimate_el) f->beams_el = 1;
  if (!f->estimate_az && c->beams_az <= 0) f->beams_az = 1;
  if ((f->per_channel = c->per_channel)) { /* beam b is channel b, all on the transmit axis */
    f->estimate_az = f->estimate_el = 0;
    f->beams_az = c->channels;
    f->beams_el = 1;
  }
  f->beams = f->beams_az * f->beams_el;
  f->npair_az = f->per_channel ? 0 : f->beams_az - 1;
  f->npair_el = f->per_channel ? 0 : f->beams_el - 1;
  for (size_t k = 0; k < f->ndirs; k++) { /* every direction gets the common counts */
    rf_fan_extent *x = &f->dirs[k].ext;
    rf__extent(c, f->dirs[k].az_deg, f->dirs[k].el_deg, f->dirs[k].tx_az_deg, f->dirs[k].tx_el_deg, f->beams_az,
               f->beams_el, x);
  }
  size_t nb;
  if (rf__mul_size(f->ndirs, f->beams, &nb) || nb > SIZE_MAX / sizeof(rf__pair_tab)) goto nomem;
  f->beam_az = rf__malloc(nb * sizeof *f->beam_az);
  f->beam_el = rf__malloc(nb * sizeof *f->beam_el);
  f->tab_az = rf__malloc((f->ndirs * f->beams_el * f->npair_az + 1) * sizeof *f->tab_az);
  f->tab_el = rf__malloc((f->ndirs * f->beams_az * f->npair_el + 1) * sizeof *f->tab_el);
  if (!f->beam_az || !f->beam_el || !f->tab_az || !f->tab_el) goto nomem;
  for (size_t k = 0; k < f->ndirs; k++) rf__fan_dir_setup(f, k);
  *out = f;
  return 0;
nomem:
  rf_fan_destroy(f);
  return rf__err(RF_ENOMEM, "beam fan: out of memory (%zu channels, %zu dwells)", c->channels, c->dwells);
}

size_t rf_fan_beams(const rf_fan *f) { return f->beams; }

int rf_fan_dwell(const rf_fan *f, size_t d, rf_fan_view *v) {
  if (d >= f->dwells) return rf__err(RF_EINVAL, "beam fan: dwell %zu of %zu", d, f->dwells);
  size_t k = f->dir_of[d];
  const rf__fan_dir *dr = &f->dirs[k];
  v->beams = f->beams;
  v->beams_az = f->beams_az;
  v->beams_el = f->beams_el;
  v->estimate_azimuth = f->estimate_az;
  v->estimate_elevation = f->estimate_el;
  v->beam_az_deg = f->beam_az + k * f->beams;
  v->beam_el_deg = f->beam_el + k * f->beams;
  v->beamwidth_az_deg = dr->ext.beamwidth_az_deg;
  v->beamwidth_el_deg = f->estimate_el ? dr->ext.beamwidth_el_deg : 0.0;
  v->extent = dr->ext;
  v->support_az_deg[0] = dr->az_deg - dr->ext.half_az_deg;
  v->support_az_deg[1] = dr->az_deg + dr->ext.half_az_deg;
  v->support_el_deg[0] = dr->el_deg - dr->ext.half_el_deg;
  v->support_el_deg[1] = dr->el_deg + dr->ext.half_el_deg;
  return 0;
}

int rf_fan_weights(const rf_fan *f, size_t d, float complex *w) {
  if (d >= f->dwells) return rf__err(RF_EINVAL, "beam fan: dwell %zu of %zu", d, f->dwells);
  size_t k = f->dir_of[d];
  if (f->per_channel) {
    for (size_t b = 0; b < f->beams; b++)
      for (size_t n = 0; n < f->n; n++) w[b * f->n + n] = b == n ? 1.0f : 0.0f;
    return 0;
  }
  rf_beam_weights((const double(*)[3])f->pos, f->n, f->lambda_m, f->beam_az + k * f->beams,
                  f->beam_el + k * f->beams, f->beams, f->taper, f->taylor_sll_db, f->taylor_nbar, w);
  return 0;
}

double rf_fan_gain(const rf_fan *f, size_t d, size_t beam, double az_deg, double el_deg) {
  if (d >= f->dwells || beam >= f->beams) return 0.0;
  if (f->per_channel) return 1.0; /* one element: the same gain every way */
  return rf__gain(f, f->dir_of[d], beam, az_deg, el_deg);
}

/* Angle of ratio q (dB) in table t; *out 1 below its span, 2 above. */
static double rf__invert(const rf__pair_tab *t, double q, int *out) {
  *out = 0;
  if (t->i0 >= t->i1) return NAN;
  if (!(q >= t->q[t->i0])) {
    *out = 1;
    return t->a0 + t->da * t->i0;
  }
  if (!(q <= t->q[t->i1])) {
    *out = 2;
    return t->a0 + t->da * t->i1;
  }
  int lo = t->i0, hi = t->i1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (t->q[mid] <= q) lo = mid;
    else hi = mid;
  }
  double f = (q - t->q[lo]) / (t->q[hi] - t->q[lo]);
  return t->a0 + t->da * ((double)lo + (f >= 0 && f <= 1 ? f : 0.5));
}

/* The estimate of pair table t from powers plo, phi (its lower and upper
 * beam) and its weight: the squared slope of the ratio (dB per degree)
 * over the ratio's variance, 1/plo + 1/phi up to the common noise power
 * (18.9 = (10 / ln 10)^2). *out as rf__invert. */
static double rf__pair_est(const rf__pair_tab *t, float plo, float phi, double *w, int *out) {
  *w = 0;
  *out = 0;
  if (!(plo > 0) || !(phi > 0)) return NAN;
  double a = rf__invert(t, 10.0 * log10((double)phi / (double)plo), out);
  if (isnan(a) || *out) return a;
  double u = (a - t->a0) / t->da;
  int i = (int)floor(u);
  if (i < t->i0) i = t->i0;
  if (i >= t->i1) i = t->i1 - 1;
  double slope = (t->q[i + 1] - t->q[i]) / t->da;
  *w = slope * slope / (18.9 * (1.0 / plo + 1.0 / phi));
  return a;
}

/* One axis: n beams, the peak at index i, powers p0 (peak), pm (i - 1),
 * pp (i + 1), tabs[j] the pair (j, j + 1). Each pair with the peak beam
 * whose ratio lies in its table gives an estimate; they are averaged by
 * their weights (inverse variances). Returns 1 when the stronger
 * neighbour's estimate falls past an outer pair's span (outside what the
 * fan supports). */
static int rf__axis(const rf__pair_tab *tabs, size_t n, size_t i, double centre, float p0, float pm, float pp,
                    double *a) {
  *a = centre;
  if (n < 2) return 0;
  int up = i == 0 ? 1 : i + 1 == n ? 0 : pp > pm;
  double sum = 0, sw = 0;
  for (int side = 0; side < 2; side++) { /* the stronger neighbour first */
    int u = side ? !up : up;
    if ((u && i + 1 >= n) || (!u && i == 0)) continue;
    size_t j = u ? i : i - 1;
    double w;
    int out;
    double v = rf__pair_est(&tabs[j], u ? p0 : pm, u ? pp : p0, &w, &out);
    if (side == 0 && ((out == 1 && j == 0) || (out == 2 && j + 2 == n))) return 1;
    if (isnan(v) || out || !(w > 0)) continue;
    sum += w * v;
    sw += w;
  }
  if (sw > 0) *a = sum / sw;
  return 0;
}

int rf_fan_direction(const rf_fan *f, size_t d, size_t beam, const float p[5], double *az_deg, double *el_deg) {
  size_t k = f->dir_of[d], ia = beam % f->beams_az, ie = beam / f->beams_az;
  const double *ba = f->beam_az + k * f->beams, *be = f->beam_el + k * f->beams;
  int outside = 0;
  *az_deg = ba[beam];
  *el_deg = be[beam];
  if (f->estimate_az)
    outside |= rf__axis(f->tab_az + (k * f->beams_el + ie) * f->npair_az, f->beams_az, ia, ba[beam], p[0], p[1], p[2],
                        az_deg);
  if (f->estimate_el)
    outside |= rf__axis(f->tab_el + (k * f->beams_az + ia) * f->npair_el, f->beams_el, ie, be[beam], p[0], p[3], p[4],
                        el_deg);
  const rf__fan_dir *dr = &f->dirs[k];
  if (f->estimate_az && f->beams_az > 1 && fabs(rf_wrap(*az_deg - dr->az_deg, 180.0)) > dr->ext.half_az_deg + 1e-9)
    outside = 1;
  if (f->estimate_el && f->beams_el > 1 && fabs(*el_deg - dr->el_deg) > dr->ext.half_el_deg + 1e-9) outside = 1;
  return outside;
}
