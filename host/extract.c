/* radarflow stage 6: plot extraction. Groups the CFAR hits of one dwell into
 * connected clusters across range, Doppler and neighbouring beams, keeps each
 * cluster's peak and refines it into range, radial velocity, direction and
 * SNR. Methods: docs/cfar.md. */
#include "rf_stages.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Log-power floor (dB) so zeroed (notched) cells stay finite. */
#define RF__EXTRACT_FLOOR_DB (-300.0)

typedef struct rf__cell {
  uint32_t beam, bin, cell;
} rf__cell;

typedef struct rf__group {
  uint32_t beam, bin, cell;        /* peak */
  float power;
} rf__group;

struct rf_extract {
  size_t beams, bins, cells, max_hits;
  size_t k;                 /* bins of the dwell being extracted (<= bins) */
  uint64_t *bits;                  /* [B*K*S] bits: unclaimed hits */
  rf__cell *stack;                 /* [max_hits] flood-fill stack */
  rf__group *groups;               /* [max_hits] */
};

int rf_extract_create(rf_extract **out, size_t beams, size_t bins, size_t cells, size_t max_hits) {
  rf_extract *x = NULL;
  size_t n, words;
  if (!out) return rf__err(RF_EINVAL, "extract: NULL argument");
  *out = NULL;
  if (!beams || !bins || !cells || !max_hits)
    return rf__err(RF_EINVAL, "extract: beams, bins, cells, max_hits must be >= 1 (got %zu, %zu, %zu, %zu)",
                   beams, bins, cells, max_hits);
  if (beams > UINT32_MAX || bins > UINT32_MAX || cells > UINT32_MAX ||
      rf__mul_size(beams, bins, &n) || rf__mul_size(n, cells, &n) || n > SIZE_MAX - 63 ||
      max_hits > SIZE_MAX / sizeof(rf__cell))
    return rf__err(RF_EINVAL, "extract: cube too large (%zu x %zu x %zu)", beams, bins, cells);
  words = (n + 63) / 64;
  if (!(x = rf__calloc(1, sizeof *x))) goto fail;
  x->beams = beams;
  x->bins = bins;
  x->k = bins;
  x->cells = cells;
  x->max_hits = max_hits;
  if (!(x->bits = rf__calloc(words, sizeof *x->bits))) goto fail;
  if (!(x->stack = rf__malloc(max_hits * sizeof *x->stack))) goto fail;
  if (!(x->groups = rf__malloc(max_hits * sizeof *x->groups))) goto fail;
  *out = x;
  return 0;
fail:
  rf_extract_destroy(x);
  return rf__err(RF_ENOMEM, "extract: out of memory (%zu x %zu x %zu cube, %zu hits)", beams, bins,
                 cells, max_hits);
}

void rf_extract_destroy(rf_extract *x) {
  if (!x) return;
  rf__free(x->groups);
  rf__free(x->stack);
  rf__free(x->bits);
  rf__free(x);
}

/* ---- helpers ------------------------------------------------------------------ */

static size_t rf__idx(const rf_extract *x, size_t b, size_t k, size_t s) {
  return (b * x->k + k) * x->cells + s;
}

static int rf__test_clear(uint64_t *bits, size_t i) {
  uint64_t m = (uint64_t)1 << (i & 63);
  if (!(bits[i >> 6] & m)) return 0;
  bits[i >> 6] &= ~m;
  return 1;
}

static int rf__key_cmp(const void *pa, const void *pb, void *ctx) {
  const rf__group *a = pa, *b = pb;
  (void)ctx;
  if (a->beam != b->beam) return a->beam < b->beam ? -1 : 1;
  if (a->bin != b->bin) return a->bin < b->bin ? -1 : 1;
  if (a->cell != b->cell) return a->cell < b->cell ? -1 : 1;
  return 0;
}

/* Strongest first, ties by key. */
static int rf__power_cmp(const void *pa, const void *pb, void *ctx) {
  const rf__group *a = pa, *b = pb;
  if (a->power != b->power) return a->power > b->power ? -1 : 1;
  return rf__key_cmp(a, b, ctx);
}

static double rf__db(float p) {
  return p > 0.0f ? 10.0 * log10((double)p) : RF__EXTRACT_FLOOR_DB;
}

/* Vertex offset of the parabola through (-1, ym), (0, y0), (+1, yp), clamped
 * to [-0.5, 0.5]; 0 when the three points do not bend downward or a
 * neighbour was blanked (power 0: the Doppler notch), where log power says
 * nothing about the peak's position. */
static double rf__parabola(double ym, double y0, double yp) {
  if (ym <= RF__EXTRACT_FLOOR_DB || yp <= RF__EXTRACT_FLOOR_DB) return 0.0;
  double den = ym - 2.0 * y0 + yp;
  if (!(den < 0.0)) return 0.0;
  double d = 0.5 * (ym - yp) / den;
  return d < -0.5 ? -0.5 : (d > 0.5 ? 0.5 : d);
}

static int rf__check_geom(const rf_extract *x, const rf_dwell_geom *g) {
  if (g->cells != x->cells || g->bins > x->bins || g->bins < 1 || g->beams_az * g->beams_el != x->beams)
    return rf__err(RF_EINVAL, "extract: geometry (%zu x %zu beams, %zu bins, %zu cells) does not match "
                   "the object (%zu beams, %zu bins, %zu cells)", g->beams_az, g->beams_el, g->bins,
                   g->cells, x->beams, x->bins, x->cells);
  if (!g->beam_az_deg || !g->beam_el_deg) return rf__err(RF_EINVAL, "extract: NULL beam directions");
  if (!(g->sample_rate_hz > 0.0) || !(g->pri_s > 0.0) || !(g->lambda_m > 0.0) ||
      !isfinite(g->sample_rate_hz) || !isfinite(g->pri_s) || !isfinite(g->lambda_m) ||
      !isfinite(g->range_gate_delay_s))
    return rf__err(RF_EINVAL, "extract: sample_rate_hz, pri_s, lambda_m must be finite and > 0 "
                   "(got %g, %g, %g)", g->sample_rate_hz, g->pri_s, g->lambda_m);
  return 0;
}

/* ---- execute ------------------------------------------------------------------ */

/* Index of hit (bin, cell) in a list sorted in map order; n if absent. */
static size_t rf__hit_find(const rf_cfar_hit *h, size_t n, uint32_t bin, uint32_t cell) {
  size_t lo = 0, hi = n;
  uint64_t key = (uint64_t)bin << 32 | cell;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t km = (uint64_t)h[mid].bin << 32 | h[mid].cell;
    if (km < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && h[lo].bin == bin && h[lo].cell == cell ? lo : n;
}

/* Power of a hit cell: from the cube, or (candidates) from its hit. */
static float rf__hit_power(const rf_extract *x, const float *power, const rf_cfar_hit *const *hits,
                           const size_t *nhits, size_t b, uint32_t k, uint32_t s) {
  if (power) return power[rf__idx(x, b, k, s)];
  return hits[b][rf__hit_find(hits[b], nhits[b], k, s)].power;
}

/* Neighbour j of the peak: from its candidate's table, else the cube. */
#define RF__NB(j, b_, k_, s_) (nbp ? nbp[j] : cube[rf__idx(x, (b_), (k_), (s_))])

static int rf__extract(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits, const float *const *nbt,
                       rf_detection *out, size_t max_out, size_t *nout);

int rf_extract_execute(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits,
                       rf_detection *out, size_t max_out, size_t *nout) {
  if (!power) return rf__err(RF_EINVAL, "extract: execute: NULL argument");
  return rf__extract(x, g, power, hits, nhits, NULL, out, max_out, nout);
}

int rf_extract_execute_nb(rf_extract *x, const rf_dwell_geom *g, const rf_cfar_hit *const *hits,
                          const size_t *nhits, const float *const *nb, rf_detection *out,
                          size_t max_out, size_t *nout) {
  if (!nb) return rf__err(RF_EINVAL, "extract: execute: NULL argument");
  for (size_t b = 0; x && g && nhits && b < x->beams; b++)
    if (nhits[b] && !nb[b]) return rf__err(RF_EINVAL, "extract: beam %zu: NULL neighbour table", b);
  return rf__extract(x, g, NULL, hits, nhits, nb, out, max_out, nout);
}

/* Validates every hit before any is marked, so a failure leaves the bitmap
 * clear. */
static int rf__check_hits(const rf_extract *x, const rf_cfar_hit *const *hits, const size_t *nhits) {
  size_t total = 0;
  for (size_t b = 0; b < x->beams; b++) {
    if (nhits[b] && !hits[b]) return rf__err(RF_EINVAL, "extract: beam %zu: NULL hit list", b);
    if (nhits[b] > x->max_hits - total)
      return rf__err(RF_EINVAL, "extract: more than max_hits (%zu) hits in the dwell", x->max_hits);
    total += nhits[b];
    for (size_t i = 0; i < nhits[b]; i++) {
      const rf_cfar_hit *h = &hits[b][i];
      if (h->bin >= x->k || h->cell >= x->cells)
        return rf__err(RF_EINVAL, "extract: beam %zu hit %zu at bin %u cell %u is outside the %zu x %zu map",
                       b, i, (unsigned)h->bin, (unsigned)h->cell, x->k, x->cells);
      if (i && (h->bin < h[-1].bin || (h->bin == h[-1].bin && h->cell <= h[-1].cell)))
        return rf__err(RF_EINVAL, "extract: beam %zu hits are not in map order at hit %zu", b, i);
    }
  }
  return 0;
}

/* Groups the hits by flood fill: a set bit is an unclaimed hit; claiming
 * clears it, so the bitmap is clear again at the end and each hit is pushed
 * at most once. Each group keeps its strongest cell. Returns the count. */
static size_t rf__group_hits(rf_extract *x, const rf_dwell_geom *g, const float *power,
                             const rf_cfar_hit *const *hits, const size_t *nhits) {
  const size_t B = x->beams, K = x->k, S = x->cells, baz = g->beams_az, bel = g->beams_el;
  for (size_t b = 0; b < B; b++)
    for (size_t i = 0; i < nhits[b]; i++) {
      size_t j = rf__idx(x, b, hits[b][i].bin, hits[b][i].cell);
      x->bits[j >> 6] |= (uint64_t)1 << (j & 63);
    }
  size_t ngroups = 0;
  for (size_t b0 = 0; b0 < B; b0++) {
    for (size_t i = 0; i < nhits[b0]; i++) {
      const rf_cfar_hit *h0 = &hits[b0][i];
      if (!rf__test_clear(x->bits, rf__idx(x, b0, h0->bin, h0->cell))) continue;
      size_t sp = 0;
      x->stack[sp++] = (rf__cell){(uint32_t)b0, h0->bin, h0->cell};
      rf__group *grp = &x->groups[ngroups++];
      *grp = (rf__group){(uint32_t)b0, h0->bin, h0->cell, rf__hit_power(x, power, hits, nhits, b0, h0->bin, h0->cell)};
      while (sp) {
        rf__cell v = x->stack[--sp];
        rf__group cand = {v.beam, v.bin, v.cell, rf__hit_power(x, power, hits, nhits, v.beam, v.bin, v.cell)};
        if (rf__power_cmp(&cand, grp, NULL) < 0) *grp = cand;
        /* this beam and its 4 grid neighbours, each with the 3x3 (bin, cell) block */
        size_t ia = v.beam % baz, ie = v.beam / baz, nb[5], nn = 0;
        nb[nn++] = v.beam;
        if (ia > 0) nb[nn++] = v.beam - 1;
        if (ia + 1 < baz) nb[nn++] = v.beam + 1;
        if (ie > 0) nb[nn++] = v.beam - baz;
        if (ie + 1 < bel) nb[nn++] = v.beam + baz;
        for (size_t q = 0; q < nn; q++) {
          for (int dk = 0; dk < 3; dk++) { /* bins k-1, k, k+1 (wrapping) */
            size_t k = (v.bin + K - 1 + (size_t)dk) % K;
            for (int dc = 0; dc < 3; dc++) { /* cells s-1, s, s+1 (clipped) */
              if ((dc == 0 && v.cell == 0) || (dc == 2 && v.cell + 1 >= S)) continue;
              size_t s = v.cell + (size_t)dc - 1;
              if (rf__test_clear(x->bits, rf__idx(x, nb[q], k, s)))
                x->stack[sp++] = (rf__cell){(uint32_t)nb[q], (uint32_t)k, (uint32_t)s};
            }
          }
        }
      }
    }
  }
  return ngroups;
}

/* A group's peak refined into a detection: range and Doppler by parabolas
 * through the log power of its neighbours, direction across the
 * neighbouring beams, SNR over its CFAR noise. nbp: the peak's neighbour
 * table (candidates), or NULL to read the cube. */
static void rf__refine(const rf_extract *x, const rf_dwell_geom *g, const rf__group *p, const float *cube,
                       const float *nbp, const rf_cfar_hit *bh, size_t bn, rf_detection *d) {
  const size_t K = x->k, S = x->cells, baz = g->beams_az, bel = g->beams_el;
  const size_t b = p->beam, k = p->bin, s = p->cell, ia = b % baz, ie = b / baz;
  const double y0 = rf__db(p->power);
  d->beam = p->beam;
  d->bin = p->bin;
  d->cell = p->cell;

  /* range: cells s-1, s, s+1 (none at the map's edges) */
  double dr = 0.0;
  if (s > 0 && s + 1 < S)
    dr = rf__parabola(rf__db(RF__NB(0, b, k, s - 1)), y0, rf__db(RF__NB(1, b, k, s + 1)));
  d->range_m = 0.5 * RF_C_MPS * (g->range_gate_delay_s + ((double)s + dr) / g->sample_rate_hz);

  /* Doppler: bins k-1, k, k+1 wrapping; f_d = (k - K/2) / (K pri) */
  double dd = 0.0;
  if (K >= 3)
    dd = rf__parabola(rf__db(RF__NB(2, b, (k + K - 1) % K, s)), y0, rf__db(RF__NB(3, b, (k + 1) % K, s)));
  double fd = ((double)k + dd - (double)(K / 2)) / ((double)K * g->pri_s);
  d->radial_velocity_mps = rf_wrap(-fd * g->lambda_m / 2.0, g->lambda_m / (4.0 * g->pri_s));

  /* azimuth: neighbouring beams of the row at the same bin and cell */
  d->azimuth_deg = g->beam_az_deg[b];
  if (ia > 0 && ia + 1 < baz) {
    double da = rf__parabola(rf__db(RF__NB(4, b - 1, k, s)), y0, rf__db(RF__NB(5, b + 1, k, s)));
    d->azimuth_deg += da * 0.5 * rf_wrap(g->beam_az_deg[b + 1] - g->beam_az_deg[b - 1], 180.0);
  }
  /* elevation: neighbouring beams of the column, if asked and >= 3 rows */
  d->elevation_deg = g->beam_el_deg[b];
  if (g->estimate_elevation && bel >= 3 && ie > 0 && ie + 1 < bel) {
    double de = rf__parabola(rf__db(RF__NB(6, b - baz, k, s)), y0, rf__db(RF__NB(7, b + baz, k, s)));
    d->elevation_deg += de * 0.5 * (g->beam_el_deg[b + baz] - g->beam_el_deg[b - baz]);
  }

  /* SNR from the peak over its CFAR noise estimate */
  size_t i = rf__hit_find(bh, bn, p->bin, p->cell);
  double noise = i < bn ? (double)bh[i].noise : -1.0;
  if (!(noise > 0.0)) noise = FLT_MIN;
  double r = (double)p->power / noise - 1.0;
  d->snr_db = 10.0 * log10(r > 1e-3 ? r : 1e-3);
}

static int rf__extract(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits, const float *const *nbt,
                       rf_detection *out, size_t max_out, size_t *nout) {
  if (!x || !g || !hits || !nhits || !nout || (max_out && !out))
    return rf__err(RF_EINVAL, "extract: execute: NULL argument");
  int st = rf__check_geom(x, g);
  if (st) return st;
  x->k = g->bins;
  if ((st = rf__check_hits(x, hits, nhits))) return st;
  size_t ngroups = rf__group_hits(x, g, power, hits, nhits);

  /* Keep the strongest max_out, then order by peak (beam, bin, cell). */
  size_t nkeep = ngroups;
  if (ngroups > max_out) {
    rf_sort(x->groups, ngroups, sizeof *x->groups, rf__power_cmp, NULL);
    nkeep = max_out;
  }
  rf_sort(x->groups, nkeep, sizeof *x->groups, rf__key_cmp, NULL);
  for (size_t i = 0; i < nkeep; i++) {
    const rf__group *p = &x->groups[i];
    const size_t b = p->beam;
    const float *nbp = power ? NULL : nbt[b] + 8 * rf__hit_find(hits[b], nhits[b], p->bin, p->cell);
    rf__refine(x, g, p, power, nbp, hits[b], nhits[b], &out[i]);
  }
  *nout = nkeep;
  return 0;
}
