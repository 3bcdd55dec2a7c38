/* Stage 5 on the device: CFAR over every beam's [k][s] power map, fused
 * with candidate compaction (compact.cl), and the maps' noise-level
 * histograms. Twins, same names and argument order after the object's
 * tables: rf_cfar_ca_ref / _go_ref / _so_ref / _os_ref and rf_cfar_hist_ref
 * (host/cfar.c). Window: train + guard cells each side in range, dko rows
 * each side in Doppler (wrapping), of which the dkg nearest are guard
 * rows. The detection mask: blanked bins (blank[k]) are no cell under test
 * and no training row; cells >= sv are neither. A cell under test uses both
 * range sides when both lie in [0, sv), else the one that does (its class);
 * shape_of[3 k + class] indexes the factor tables (-1: not tested).
 *
 * CA/GO/SO: a work-group takes RF_CFAR_TILE cells of one (beam, bin) row and
 * stages each window row (tile + halo) in local memory: one global read per
 * cell and row. OS: the k-th smallest training cell by a 32-pass radix
 * select on the float bits (powers are >= 0, so their bits order like the
 * values): exact, no scratch. RF_CFAR_TILE comes from the host's tuning
 * table as a -D build option (host/cl_runtime.c). */
#ifndef RF_CFAR_TILE
#error "RF_CFAR_TILE comes from the host's tuning table (-D, host/cl_runtime.c)"
#endif

#define RF_CFAR_HIST 4096
#define RF_CFAR_HIST_SHIFT 20

typedef struct rf_cfar_geom {
  uint beams, bins, cells, baz, bel;
  uint sv, w, gr, dko, dkg;
} rf_cfar_geom;

/* Per shape: n cells, nside (GO/SO: lead side; OS: rank k), the factor and
 * (OS) the rank's mean on unit exponential noise. */
typedef struct rf_cfar_shape {
  uint n, nside, os_k, pad;
  float alpha, os_norm, pad1, pad2;
} rf_cfar_shape;

uint rf_cfar_row(uint bin, int dk, uint bins) {
  int r = ((int)bin + dk) % (int)bins;
  return (uint)(r < 0 ? r + (int)bins : r);
}

/* 0 both sides, 1 lead only, 2 lag only, -1 untested. */
int rf_cfar_class(uint c, uint w, uint sv) {
  if (c >= sv) return -1;
  int lead = c >= w, lag = c + w < sv;
  return lead && lag ? 0 : lead ? 1 : lag ? 2 : -1;
}

/* kind 0 CA, 1 GO, 2 SO. */
void rf_cfar_mean(int kind, rf_cfar_geom g, __global const int *blank, __global const int *shape_of,
                  __global const rf_cfar_shape *shapes, __global const float *power, __local float *tile,
                  __global rf_cand *cand, uint cap, __global uint *count) {
  uint lid = get_local_id(0), c0 = get_group_id(0) * RF_CFAR_TILE;
  uint c = c0 + lid, bin = get_global_id(1), b = get_global_id(2);
  const uint S = g.cells, W = g.w, gr = g.gr, span = RF_CFAR_TILE + 2 * W;
  if (blank[bin]) return; /* the whole work-group: one bin */
  __global const float *map = power + (size_t)b * g.bins * S;
  float lead = 0.0f, lag = 0.0f, centre = 0.0f;
  for (int dk = -(int)g.dko; dk <= (int)g.dko; dk++) {
    uint r = rf_cfar_row(bin, dk, g.bins);
    if (blank[r]) continue; /* uniform across the work-group */
    __global const float *row = map + (size_t)r * S;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = lid; i < span; i += RF_CFAR_TILE) {
      long col = (long)c0 - (long)W + (long)i;
      tile[i] = col >= 0 && col < (long)g.sv ? row[col] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c >= g.sv) continue;
    /* tile[i] holds column c0 - W + i; column c is at lid + W. */
    uint at = lid + W;
    float l = 0.0f, rr = 0.0f;
    for (uint d = gr + 1; d <= W; d++) {
      l += tile[at - d];
      rr += tile[at + d];
    }
    lead += l;
    lag += rr;
    if (abs(dk) > (int)g.dkg)
      for (uint d = 0; d <= 2 * gr; d++) centre += tile[at - gr + d];
  }
  int cls = rf_cfar_class(c, W, g.sv);
  if (cls < 0) return;
  int s = shape_of[3 * bin + (uint)cls];
  if (s < 0) return;
  rf_cfar_shape sh = shapes[s];
  float p = map[(size_t)bin * S + c], noise;
  if (kind == 0) {
    noise = (cls == 0 ? lead + lag + centre : cls == 1 ? lead : lag) / (float)sh.n;
  } else if (cls == 0) {
    float ml = lead / (float)sh.nside, mr = lag / (float)(sh.n - sh.nside);
    noise = kind == 1 ? fmax(ml, mr) : fmin(ml, mr);
  } else {
    noise = (cls == 1 ? lead : lag) / (float)sh.n;
  }
  float thr = sh.alpha * noise;
  if (p > thr) rf_emit_cand(cand, count, cap, power, g.beams, g.bins, S, g.baz, g.bel, b, bin, c, p, noise, thr);
}

__kernel void rf_cfar_ca(rf_cfar_geom g, __global const int *blank, __global const int *shape_of,
                         __global const rf_cfar_shape *shapes, __local float *tile, __global const float *power,
                         __global rf_cand *hits, uint max_hits, __global uint *nhits) {
  rf_cfar_mean(0, g, blank, shape_of, shapes, power, tile, hits, max_hits, nhits);
}

__kernel void rf_cfar_go(rf_cfar_geom g, __global const int *blank, __global const int *shape_of,
                         __global const rf_cfar_shape *shapes, __local float *tile, __global const float *power,
                         __global rf_cand *hits, uint max_hits, __global uint *nhits) {
  rf_cfar_mean(1, g, blank, shape_of, shapes, power, tile, hits, max_hits, nhits);
}

__kernel void rf_cfar_so(rf_cfar_geom g, __global const int *blank, __global const int *shape_of,
                         __global const rf_cfar_shape *shapes, __local float *tile, __global const float *power,
                         __global rf_cand *hits, uint max_hits, __global uint *nhits) {
  rf_cfar_mean(2, g, blank, shape_of, shapes, power, tile, hits, max_hits, nhits);
}

/* Counts the training cells of class cls whose bits >> bit equal want. */
uint rf_cfar_os_count(rf_cfar_geom g, __global const int *blank, __global const float *map, uint bin, uint c,
                      int cls, int bit, uint want) {
  uint cnt = 0;
  for (int dk = -(int)g.dko; dk <= (int)g.dko; dk++) {
    uint r = rf_cfar_row(bin, dk, g.bins);
    if (blank[r]) continue;
    __global const uint *row = (__global const uint *)(map + (size_t)r * g.cells);
    if (cls != 2)
      for (uint i = c - g.w; i < c - g.gr; i++) cnt += (row[i] >> bit) == want;
    if (cls != 1)
      for (uint i = c + g.gr + 1; i <= c + g.w; i++) cnt += (row[i] >> bit) == want;
    if (cls == 0 && abs(dk) > (int)g.dkg)
      for (uint i = c - g.gr; i <= c + g.gr; i++) cnt += (row[i] >> bit) == want;
  }
  return cnt;
}

__kernel void rf_cfar_os(rf_cfar_geom g, __global const int *blank, __global const int *shape_of,
                         __global const rf_cfar_shape *shapes, __global const float *power,
                         __global rf_cand *hits, uint max_hits, __global uint *nhits) {
  uint c = get_global_id(0), bin = get_global_id(1), b = get_global_id(2);
  if (c >= g.cells || blank[bin]) return;
  int cls = rf_cfar_class(c, g.w, g.sv);
  if (cls < 0) return;
  int s = shape_of[3 * bin + (uint)cls];
  if (s < 0) return;
  rf_cfar_shape sh = shapes[s];
  __global const float *map = power + (size_t)b * g.bins * g.cells;
  uint kk = sh.os_k - 1, prefix = 0;
  for (int bit = 31; bit >= 0; bit--) {
    uint want = prefix >> bit; /* higher bits fixed, this bit 0 */
    uint cnt = rf_cfar_os_count(g, blank, map, bin, c, cls, bit, want);
    if (kk >= cnt) {
      kk -= cnt;
      prefix |= 1u << bit;
    }
  }
  float x = as_float(prefix), p = map[(size_t)bin * g.cells + c];
  float thr = sh.alpha * x;
  if (p > thr)
    rf_emit_cand(hits, nhits, max_hits, power, g.beams, g.bins, g.cells, g.baz, g.bel, b, bin, c, p,
                 x / sh.os_norm, thr);
}

/* Noise-level histograms: hist[b][i] counts the usable cells of beam b's
 * map (unblanked bins, cells < sv) whose power / variance(bin) has its
 * float bits >> RF_CFAR_HIST_SHIFT equal to i. */
__kernel void rf_cfar_hist_clear(__global uint *hist) { hist[get_global_id(0)] = 0u; }

__kernel void rf_cfar_hist(rf_cfar_geom g, __global const int *blank, __global const float *inv_var,
                           __global const float *power, __global uint *hist) {
  uint c = get_global_id(0), bin = get_global_id(1), b = get_global_id(2);
  if (c >= g.sv || blank[bin]) return;
  float v = power[((size_t)b * g.bins + bin) * g.cells + c] * inv_var[bin];
  uint i = (as_uint(v) >> RF_CFAR_HIST_SHIFT) & (RF_CFAR_HIST - 1u);
  atomic_inc(&hist[(size_t)b * RF_CFAR_HIST + i]);
}
