/* radarflow stage 6: plot extraction. The CFAR hits of one dwell become
 * peaks: every hit that is a local maximum against its neighbours in range,
 * Doppler and the neighbouring beams, and the strongest hit of each group
 * of connected hits. Peaks are taken strongest first; one whose power is
 * within RF_EXTRACT_MASK of what the stronger peaks' known responses (range
 * compression, Doppler window, beam patterns) put at its cell is a
 * sidelobe and dropped. Each peak left is refined into range, radial
 * velocity, direction (monopulse-style, from the beam fan; none outside
 * what the fan supports: dropped and counted) and SNR against the map's
 * noise level. Methods: docs/cfar.md, docs/detection.md. */
#include "rf_stages.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Log-power floor (dB) so zeroed (notched) cells stay finite. */
#define RF__EXTRACT_FLOOR_DB (-300.0)

typedef struct rf__cell {
  uint32_t beam, bin, cell;
} rf__cell;

typedef struct rf__peak {
  uint32_t beam, bin, cell;
  float power;
} rf__peak;

struct rf_extract {
  size_t beams, bins, cells, max_hits;
  size_t k;                 /* bins of the dwell being extracted (<= bins) */
  uint64_t *bits;           /* [B*K*S] bits: unclaimed hits */
  rf__cell *stack;          /* [max_hits] flood-fill stack */
  rf__peak *peaks;          /* [max_hits] candidate peaks */
  rf_detection *acc;        /* [max_hits] accepted peaks, refined */
  uint8_t *dropped;         /* [max_hits] accepted but outside the fan */
  size_t ndropped;          /* of the last execute */
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
      max_hits > SIZE_MAX / sizeof(rf_detection))
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
  if (!(x->peaks = rf__malloc(max_hits * sizeof *x->peaks))) goto fail;
  if (!(x->acc = rf__malloc(max_hits * sizeof *x->acc))) goto fail;
  if (!(x->dropped = rf__malloc(max_hits * sizeof *x->dropped))) goto fail;
  *out = x;
  return 0;
fail:
  rf_extract_destroy(x);
  return rf__err(RF_ENOMEM, "extract: out of memory (%zu x %zu x %zu cube, %zu hits)", beams, bins,
                 cells, max_hits);
}

void rf_extract_destroy(rf_extract *x) {
  if (!x) return;
  rf__free(x->dropped);
  rf__free(x->acc);
  rf__free(x->peaks);
  rf__free(x->stack);
  rf__free(x->bits);
  rf__free(x);
}

size_t rf_extract_dropped(const rf_extract *x) { return x->ndropped; }

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
  const rf__peak *a = pa, *b = pb;
  (void)ctx;
  if (a->beam != b->beam) return a->beam < b->beam ? -1 : 1;
  if (a->bin != b->bin) return a->bin < b->bin ? -1 : 1;
  if (a->cell != b->cell) return a->cell < b->cell ? -1 : 1;
  return 0;
}

/* Strongest first, ties by key. */
static int rf__power_cmp(const void *pa, const void *pb, void *ctx) {
  const rf__peak *a = pa, *b = pb;
  if (a->power != b->power) return a->power > b->power ? -1 : 1;
  return rf__key_cmp(a, b, ctx);
}

static int rf__det_key_cmp(const void *pa, const void *pb, void *ctx) {
  const rf_detection *a = pa, *b = pb;
  (void)ctx;
  if (a->beam != b->beam) return a->beam < b->beam ? -1 : 1;
  if (a->bin != b->bin) return a->bin < b->bin ? -1 : 1;
  if (a->cell != b->cell) return a->cell < b->cell ? -1 : 1;
  return 0;
}

static double rf__db(float p) { return p > 0.0f ? 10.0 * log10((double)p) : RF__EXTRACT_FLOOR_DB; }

/* Vertex offset of the parabola through (-1, ym), (0, y0), (+1, yp), clamped
 * to [-0.5, 0.5]; 0 when the three points do not bend downward. */
static double rf__parabola(double ym, double y0, double yp) {
  if (ym <= RF__EXTRACT_FLOOR_DB || yp <= RF__EXTRACT_FLOOR_DB) return 0.0;
  double den = ym - 2.0 * y0 + yp;
  if (!(den < 0.0)) return 0.0;
  double d = 0.5 * (ym - yp) / den;
  return d < -0.5 ? -0.5 : (d > 0.5 ? 0.5 : d);
}

/* The Doppler response |W(x)|^2 / |W(0)|^2 at x bins (table of
 * RF_EXTRACT_DOP_STEPS per bin over [0, K/2], symmetric). */
static double rf__dop_resp(const rf_dwell_geom *g, double x) {
  if (!g->doppler_response) return 0.0;
  double K = (double)g->bins;
  x = fabs(rf_wrap(x, 0.5 * K)) * RF_EXTRACT_DOP_STEPS;
  size_t i = (size_t)x, imax = g->bins / 2 * RF_EXTRACT_DOP_STEPS;
  if (i >= imax) return g->doppler_response[imax];
  double f = x - (double)i;
  return (1.0 - f) * g->doppler_response[i] + f * g->doppler_response[i + 1];
}

/* Offset d in [-0.5, 0.5] of a target at bin k + d from the power ratio
 * r = P(k + side) / P(k) of one neighbour, through the known response:
 * R(side - d) / R(d) = r. 0 without a response table. */
static double rf__ratio_offset(const rf_dwell_geom *g, double r, int side) {
  if (!g->doppler_response || !(r > 0)) return 0.0;
  double lo = -0.5, hi = 0.5;
  for (int it = 0; it < 50; it++) {
    double mid = 0.5 * (lo + hi);
    double v = rf__dop_resp(g, side - mid) / fmax(rf__dop_resp(g, mid), 1e-300);
    /* side = +1: v rises with d; side = -1: falls */
    if ((side > 0) == (v < r)) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
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

/* The eight axial neighbours of (b, k, s): range -1, +1; Doppler -1, +1
 * (wrapping); azimuth beam -1, +1; elevation row -1, +1 (0 where none):
 * from the candidate's table (nbp) or the cube. */
static void rf__neighbours(const rf_extract *x, const rf_dwell_geom *g, const float *cube, const float *nbp,
                           size_t b, size_t k, size_t s, float nb[8]) {
  if (nbp) {
    memcpy(nb, nbp, 8 * sizeof *nb);
    return;
  }
  const size_t K = x->k, S = x->cells, baz = g->beams_az, bel = g->beams_el, ia = b % baz, ie = b / baz;
  nb[0] = s > 0 ? cube[rf__idx(x, b, k, s - 1)] : 0.0f;
  nb[1] = s + 1 < S ? cube[rf__idx(x, b, k, s + 1)] : 0.0f;
  nb[2] = cube[rf__idx(x, b, (k + K - 1) % K, s)];
  nb[3] = cube[rf__idx(x, b, (k + 1) % K, s)];
  nb[4] = ia > 0 ? cube[rf__idx(x, b - 1, k, s)] : 0.0f;
  nb[5] = ia + 1 < baz ? cube[rf__idx(x, b + 1, k, s)] : 0.0f;
  nb[6] = ie > 0 ? cube[rf__idx(x, b - baz, k, s)] : 0.0f;
  nb[7] = ie + 1 < bel ? cube[rf__idx(x, b + baz, k, s)] : 0.0f;
}

/* Neighbour table of hit i of beam b (candidates), or NULL (cube). */
static const float *rf__nbp(const float *const *nbt, size_t b, size_t i) { return nbt ? nbt[b] + 8 * i : NULL; }

/* A local maximum: above each of its eight neighbours, ties broken by the
 * key (the neighbour with the larger key loses). */
static int rf__local_max(const rf_extract *x, const rf_dwell_geom *g, float p, const float nb[8]) {
  (void)x;
  (void)g;
  for (int j = 0; j < 8; j++) {
    if (nb[j] > p) return 0;
    /* an equal neighbour: the one earlier in (beam, bin, cell) order wins;
     * neighbours j = 0, 2, 4, 6 come earlier (but for Doppler wrapping) */
    if (nb[j] == p && (j % 2 == 0)) return 0;
  }
  return 1;
}

/* Candidate peaks: every hit that is a local maximum, and every group's
 * strongest hit (groups by flood fill over 3 x 3 (bin, cell) blocks in the
 * beam and its 4 grid neighbours; each hit is claimed, clearing its bit,
 * when pushed, so the bitmap is clear again afterwards). */
static size_t rf__candidates(rf_extract *x, const rf_dwell_geom *g, const float *cube,
                             const rf_cfar_hit *const *hits, const size_t *nhits, const float *const *nbt) {
  const size_t B = x->beams, K = x->k, S = x->cells, baz = g->beams_az, bel = g->beams_el;
  size_t np = 0;
  for (size_t b = 0; b < B; b++)
    for (size_t i = 0; i < nhits[b]; i++) {
      const rf_cfar_hit *h = &hits[b][i];
      size_t j = rf__idx(x, b, h->bin, h->cell);
      x->bits[j >> 6] |= (uint64_t)1 << (j & 63);
      float nb[8];
      rf__neighbours(x, g, cube, rf__nbp(nbt, b, i), b, h->bin, h->cell, nb);
      if (rf__local_max(x, g, h->power, nb)) x->peaks[np++] = (rf__peak){(uint32_t)b, h->bin, h->cell, h->power};
    }
  for (size_t b0 = 0; b0 < B; b0++) {
    for (size_t i = 0; i < nhits[b0]; i++) {
      const rf_cfar_hit *h0 = &hits[b0][i];
      if (!rf__test_clear(x->bits, rf__idx(x, b0, h0->bin, h0->cell))) continue;
      size_t sp = 0;
      x->stack[sp++] = (rf__cell){(uint32_t)b0, h0->bin, h0->cell};
      rf__peak best = {(uint32_t)b0, h0->bin, h0->cell, h0->power};
      while (sp) {
        rf__cell v = x->stack[--sp];
        const rf_cfar_hit *hv = &hits[v.beam][rf__hit_find(hits[v.beam], nhits[v.beam], v.bin, v.cell)];
        rf__peak cand = {v.beam, v.bin, v.cell, hv->power};
        if (rf__power_cmp(&cand, &best, NULL) < 0) best = cand;
        size_t ia = v.beam % baz, ie = v.beam / baz, nb[5], nn = 0;
        nb[nn++] = v.beam;
        if (ia > 0) nb[nn++] = v.beam - 1;
        if (ia + 1 < baz) nb[nn++] = v.beam + 1;
        if (ie > 0) nb[nn++] = v.beam - baz;
        if (ie + 1 < bel) nb[nn++] = v.beam + baz;
        for (size_t q = 0; q < nn; q++)
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
      /* the group's strongest, unless a local maximum already */
      float nb[8];
      size_t hb = rf__hit_find(hits[best.beam], nhits[best.beam], best.bin, best.cell);
      rf__neighbours(x, g, cube, rf__nbp(nbt, best.beam, hb), best.beam, best.bin, best.cell, nb);
      if (!rf__local_max(x, g, best.power, nb)) x->peaks[np++] = best;
    }
  }
  return np;
}

/* A peak refined into a detection: range and Doppler by parabolas through
 * the log power of its neighbours (one-sided through the Doppler response
 * where a neighbour bin is blanked), direction by the fan (monopulse
 * ratio) or, without one, a parabola across beams; SNR over the map's
 * noise level (or the peak's CFAR noise estimate). Returns 1 when the fan
 * does not support the direction. */
static int rf__refine(const rf_extract *x, const rf_dwell_geom *g, const rf__peak *p, const float nb[8],
                      const rf_cfar_hit *bh, size_t bn, rf_detection *d, double *dr_out, double *dd_out) {
  const size_t K = x->k, S = x->cells, baz = g->beams_az, bel = g->beams_el;
  const size_t b = p->beam, k = p->bin, s = p->cell, ia = b % baz, ie = b / baz;
  const double y0 = rf__db(p->power);
  int outside = 0;
  d->beam = p->beam;
  d->bin = p->bin;
  d->cell = p->cell;

  /* range: cells s-1, s, s+1 (none at the map's edges) */
  double dr = 0.0;
  if (s > 0 && s + 1 < S) dr = rf__parabola(rf__db(nb[0]), y0, rf__db(nb[1]));
  d->range_m = 0.5 * RF_C_MPS * (g->range_gate_delay_s + ((double)s + dr) / g->sample_rate_hz);

  /* Doppler: bins k-1, k, k+1 wrapping; a blanked neighbour is no data */
  double dd = 0.0;
  if (K >= 3) {
    int bm = g->cfar && rf_cfar_blanked(g->cfar, (k + K - 1) % K), bp = g->cfar && rf_cfar_blanked(g->cfar, (k + 1) % K);
    if (!bm && !bp) dd = rf__parabola(rf__db(nb[2]), y0, rf__db(nb[3]));
    else if (!bp && p->power > 0) dd = rf__ratio_offset(g, (double)nb[3] / (double)p->power, 1);
    else if (!bm && p->power > 0) dd = rf__ratio_offset(g, (double)nb[2] / (double)p->power, -1);
  }
  double fd = ((double)k + dd - (double)(K / 2)) / ((double)K * g->pri_s);
  d->radial_velocity_mps = rf_wrap(-fd * g->lambda_m / 2.0, g->lambda_m / (4.0 * g->pri_s));

  /* direction */
  d->azimuth_deg = g->beam_az_deg[b];
  d->elevation_deg = g->beam_el_deg[b];
  if (g->fan) {
    const float pw[5] = {p->power, nb[4], nb[5], nb[6], nb[7]};
    outside = rf_fan_direction(g->fan, (size_t)g->dwell, b, pw, &d->azimuth_deg, &d->elevation_deg);
    if (!g->estimate_elevation) d->elevation_deg = g->beam_el_deg[b];
  } else {
    if (ia > 0 && ia + 1 < baz) {
      double da = rf__parabola(rf__db(nb[4]), y0, rf__db(nb[5]));
      d->azimuth_deg += da * 0.5 * rf_wrap(g->beam_az_deg[b + 1] - g->beam_az_deg[b - 1], 180.0);
    }
    if (g->estimate_elevation && bel >= 3 && ie > 0 && ie + 1 < bel) {
      double de = rf__parabola(rf__db(nb[6]), y0, rf__db(nb[7]));
      d->elevation_deg += de * 0.5 * (g->beam_el_deg[b + baz] - g->beam_el_deg[b - baz]);
    }
  }

  /* SNR: the peak over the noise level */
  double noise = -1.0;
  if (g->noise_level && g->noise_level[b] > 0)
    noise = g->noise_level[b] * (g->cfar ? rf_cfar_variance(g->cfar, k) : 1.0);
  else {
    size_t i = rf__hit_find(bh, bn, p->bin, p->cell);
    noise = i < bn ? (double)bh[i].noise : -1.0;
  }
  if (!(noise > 0.0)) noise = FLT_MIN;
  double r = (double)p->power / noise - 1.0;
  d->snr_db = 10.0 * log10(r > 1e-3 ? r : 1e-3);
  *dr_out = dr;
  *dd_out = dd;
  return outside;
}

/* What accepted peak q (refined offsets dr, dd, direction) puts at peak
 * p's cell through the known responses, relative to q's power: range x
 * Doppler x beam. 0 when a response is not known. */
static double rf__leak(const rf_dwell_geom *g, const rf__peak *q, const rf_detection *dq, double dr, double dd,
                       const rf__peak *p, double bound) {
  /* bound: the smallest relative leak that could matter (early exits; the
   * Doppler and beam factors are taken as at most 2) */
  if (!g->pc) return 0.0;
  double xr = (double)p->cell - (double)q->cell;
  double rr = rf_pc_response(g->pc, xr - dr) / fmax(rf_pc_response(g->pc, -dr), 1e-30);
  if (!(rr * 2.0 > bound)) return 0.0;
  double rd = 1.0;
  if (g->doppler_response) {
    double xd = rf_wrap((double)p->bin - (double)q->bin, 0.5 * (double)g->bins);
    rd = rf__dop_resp(g, xd - dd) / fmax(rf__dop_resp(g, -dd), 1e-30);
  } else if (p->bin != q->bin) {
    return 0.0;
  }
  if (!(rr * rd * 2.0 > bound)) return 0.0;
  double rb = 1.0;
  if (p->beam != q->beam) {
    if (!g->fan) return 0.0;
    double gq = rf_fan_gain(g->fan, (size_t)g->dwell, q->beam, dq->azimuth_deg, dq->elevation_deg);
    double gp = rf_fan_gain(g->fan, (size_t)g->dwell, p->beam, dq->azimuth_deg, dq->elevation_deg);
    rb = gq > 0 ? gp / gq : 0.0;
  }
  return rr * rd * rb;
}

static int rf__extract(rf_extract *x, const rf_dwell_geom *g, const float *power,
                       const rf_cfar_hit *const *hits, const size_t *nhits, const float *const *nbt,
                       rf_detection *out, size_t max_out, size_t *nout) {
  if (!x || !g || !hits || !nhits || !nout || (max_out && !out))
    return rf__err(RF_EINVAL, "extract: execute: NULL argument");
  int st = rf__check_geom(x, g);
  if (st) return st;
  x->k = g->bins;
  x->ndropped = 0;
  if ((st = rf__check_hits(x, hits, nhits))) return st;
  size_t np = rf__candidates(x, g, power, hits, nhits, nbt);

  /* Strongest first; a peak inside the stronger ones' responses is a
   * sidelobe. */
  rf_sort(x->peaks, np, sizeof *x->peaks, rf__power_cmp, NULL);
  size_t na = 0;
  for (size_t i = 0; i < np; i++) {
    const rf__peak *p = &x->peaks[i];
    double pred = 0.0, bound = p->power / RF_EXTRACT_MASK;
    for (size_t j = 0; j < na && pred * RF_EXTRACT_MASK < p->power; j++) {
      const rf_detection *dq = &x->acc[j];
      rf__peak q = {dq->beam, dq->bin, dq->cell, (float)dq->peak_power};
      double rel = bound / q.power;
      pred += q.power * rf__leak(g, &q, dq, dq->cell_offset, dq->bin_offset, p, rel);
    }
    if (pred * RF_EXTRACT_MASK >= p->power) continue;
    size_t hi = rf__hit_find(hits[p->beam], nhits[p->beam], p->bin, p->cell);
    float nb[8];
    rf__neighbours(x, g, power, rf__nbp(nbt, p->beam, hi), p->beam, p->bin, p->cell, nb);
    rf_detection *d = &x->acc[na];
    double dr, dd;
    x->dropped[na] = (uint8_t)rf__refine(x, g, p, nb, hits[p->beam], nhits[p->beam], d, &dr, &dd);
    d->peak_power = p->power;
    d->cell_offset = dr;
    d->bin_offset = dd;
    x->ndropped += x->dropped[na];
    na++;
  }
  /* The detections inside the fan: the strongest max_out of them, in
   * (beam, bin, cell) order. */
  size_t nkeep = 0;
  for (size_t i = 0; i < na; i++)
    if (!x->dropped[i]) x->acc[nkeep++] = x->acc[i];
  if (nkeep > max_out) nkeep = max_out; /* acc is strongest first */
  rf_sort(x->acc, nkeep, sizeof *x->acc, rf__det_key_cmp, NULL);
  if (nkeep) memcpy(out, x->acc, nkeep * sizeof *out); /* out may be NULL with max_out 0 */
  *nout = nkeep;
  /* the bitmap is clear again: every hit was claimed */
  return 0;
}

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

void rf_extract_doppler_response(const float *win, size_t pout, size_t bins, float *resp) {
  const size_t n = bins / 2 * RF_EXTRACT_DOP_STEPS + 1;
  double w0 = 0;
  for (size_t p = 0; p < pout; p++) w0 += win[p];
  for (size_t i = 0; i < n; i++) {
    double x = (double)i / RF_EXTRACT_DOP_STEPS, re = 0, im = 0;
    for (size_t p = 0; p < pout; p++) {
      double ph = 2.0 * RF_PI * x * (double)p / (double)bins;
      re += win[p] * cos(ph);
      im += win[p] * sin(ph);
    }
    resp[i] = w0 != 0 ? (float)((re * re + im * im) / (w0 * w0)) : 0.0f;
  }
}
