/* radarflow: stage 3's receive beam fan (rf_stages.h). Every distinct
 * transmit direction of the capture gets its beamwidths and beam
 * directions once, at create; a dwell's weights are computed from them on
 * request without allocating. */
#include "rf_stages.h"

#include <math.h>
#include <string.h>

/* One distinct transmit direction: beamwidths, then the beams' directions. */
typedef struct rf__fan_dir {
  double az_deg, el_deg, bw_az_deg, bw_el_deg;
} rf__fan_dir;

struct rf_fan {
  size_t n, beams, beams_az, beams_el, dwells, ndirs;
  int estimate_el, taper, taylor_nbar;
  double lambda_m, taylor_sll_db, spacing_az_deg, spacing_el_deg;
  double (*pos)[3];     /* [n] */
  size_t *dir_of;       /* [dwells]: index into dirs */
  rf__fan_dir *dirs;    /* [ndirs] */
  double *beam_az;      /* [ndirs][beams] */
  double *beam_el;      /* [ndirs][beams] */
};

void rf_fan_destroy(rf_fan *f) {
  if (!f) return;
  rf__free(f->pos);
  rf__free(f->dir_of);
  rf__free(f->dirs);
  rf__free(f->beam_az);
  rf__free(f->beam_el);
  rf__free(f);
}

static int rf__cmp_dwell_dir(const void *a, const void *b, void *ctx) {
  const rf_fan_config *c = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  double ai = c->azimuth_deg[i], aj = c->azimuth_deg[j], ei = c->elevation_deg[i], ej = c->elevation_deg[j];
  if (ai != aj) return ai < aj ? -1 : 1;
  if (ei != ej) return ei < ej ? -1 : 1;
  return i < j ? -1 : i > j;
}

/* Beams of direction k: a fan centred on it, spaced by the setting or
 * half the 3 dB beamwidth there. */
static void rf__fan_beams(rf_fan *f, size_t k) {
  rf__fan_dir *dr = &f->dirs[k];
  dr->bw_az_deg = rf_beamwidth_deg((const double(*)[3])f->pos, f->n, f->lambda_m, dr->az_deg, dr->el_deg, 0,
                                   f->taper, f->taylor_sll_db, f->taylor_nbar);
  dr->bw_el_deg = f->estimate_el ? rf_beamwidth_deg((const double(*)[3])f->pos, f->n, f->lambda_m, dr->az_deg,
                                                    dr->el_deg, 1, f->taper, f->taylor_sll_db, f->taylor_nbar)
                                 : 0.0;
  double sa = f->spacing_az_deg > 0 ? f->spacing_az_deg : 0.5 * dr->bw_az_deg;
  double se = f->spacing_el_deg > 0 ? f->spacing_el_deg : 0.5 * dr->bw_el_deg;
  for (size_t ie = 0; ie < f->beams_el; ie++)
    for (size_t ia = 0; ia < f->beams_az; ia++) {
      size_t b = ie * f->beams_az + ia;
      f->beam_az[k * f->beams + b] = dr->az_deg + ((double)ia - 0.5 * (double)(f->beams_az - 1)) * sa;
      f->beam_el[k * f->beams + b] = dr->el_deg + ((double)ie - 0.5 * (double)(f->beams_el - 1)) * se;
    }
}

/* Distinct directions of the dwells (sorted positions, then runs). */
static int rf__fan_dirs(rf_fan *f, const rf_fan_config *c) {
  size_t *ix = rf__malloc(c->dwells * sizeof *ix);
  if (!ix) return -1;
  for (size_t d = 0; d < c->dwells; d++) ix[d] = d;
  rf_sort(ix, c->dwells, sizeof *ix, rf__cmp_dwell_dir, (void *)c);
  for (size_t i = 0; i < c->dwells; i++) {
    size_t d = ix[i];
    if (!i || c->azimuth_deg[d] != f->dirs[f->ndirs - 1].az_deg || c->elevation_deg[d] != f->dirs[f->ndirs - 1].el_deg)
      f->dirs[f->ndirs++] = (rf__fan_dir){c->azimuth_deg[d], c->elevation_deg[d], 0, 0};
    f->dir_of[d] = f->ndirs - 1;
  }
  rf__free(ix);
  return 0;
}

static int rf__fan_check(const rf_fan_config *c) {
  if (!c || !c->element_position_m || c->channels < 1 || !(c->lambda_m > 0) || c->beams_az < 1 ||
      c->beams_el < 0 || c->dwells < 1 || !c->azimuth_deg || !c->elevation_deg || c->spacing_az_deg < 0 ||
      c->spacing_el_deg < 0)
    return rf__err(RF_EINVAL, "beam fan: invalid configuration");
  for (size_t d = 0; d < c->dwells; d++)
    if (!isfinite(c->azimuth_deg[d]) || !isfinite(c->elevation_deg[d]))
      return rf__err(RF_EINVAL, "beam fan: dwell %zu: transmit direction is not finite", d);
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
  f->spacing_az_deg = c->spacing_az_deg;
  f->spacing_el_deg = c->spacing_el_deg;
  f->dwells = c->dwells;
  if (!(f->pos = rf__malloc(f->n * sizeof *f->pos))) goto nomem;
  memcpy(f->pos, c->element_position_m, f->n * sizeof *f->pos);
  /* A linear array has no elevation aperture (at the first dwell's
   * direction): one elevation beam, plots carry the dwell's elevation. */
  f->estimate_el = rf_beamwidth_deg(c->element_position_m, f->n, f->lambda_m, c->azimuth_deg[0], c->elevation_deg[0],
                                    1, f->taper, f->taylor_sll_db, f->taylor_nbar) > 0;
  f->beams_az = (size_t)c->beams_az;
  f->beams_el = c->beams_el > 0 ? (size_t)c->beams_el : (f->estimate_el ? 3 : 1);
  if (!f->estimate_el) f->beams_el = 1;
  f->beams = f->beams_az * f->beams_el;
  f->dir_of = rf__malloc(c->dwells * sizeof *f->dir_of);
  f->dirs = rf__malloc(c->dwells * sizeof *f->dirs);
  if (!f->dir_of || !f->dirs || rf__fan_dirs(f, c)) goto nomem;
  size_t nb;
  if (rf__mul_size(f->ndirs, f->beams, &nb) || nb > SIZE_MAX / sizeof(double)) goto nomem;
  f->beam_az = rf__malloc(nb * sizeof *f->beam_az);
  f->beam_el = rf__malloc(nb * sizeof *f->beam_el);
  if (!f->beam_az || !f->beam_el) goto nomem;
  for (size_t k = 0; k < f->ndirs; k++) rf__fan_beams(f, k);
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
  v->beams = f->beams;
  v->beams_az = f->beams_az;
  v->beams_el = f->beams_el;
  v->estimate_elevation = f->estimate_el;
  v->beam_az_deg = f->beam_az + k * f->beams;
  v->beam_el_deg = f->beam_el + k * f->beams;
  v->beamwidth_az_deg = f->dirs[k].bw_az_deg;
  v->beamwidth_el_deg = f->dirs[k].bw_el_deg;
  return 0;
}

int rf_fan_weights(const rf_fan *f, size_t d, float complex *w) {
  if (d >= f->dwells) return rf__err(RF_EINVAL, "beam fan: dwell %zu of %zu", d, f->dwells);
  size_t k = f->dir_of[d];
  rf_beam_weights((const double(*)[3])f->pos, f->n, f->lambda_m, f->beam_az + k * f->beams,
                  f->beam_el + k * f->beams, f->beams, f->taper, f->taylor_sll_db, f->taylor_nbar, w);
  return 0;
}
