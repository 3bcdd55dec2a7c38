/* Stage 5 on the device: CFAR over every beam's [k][s] power map, fused
 * with candidate compaction (compact.cl). Twins, same names and argument
 * order after the object's tables: rf_cfar_ca_ref / _go_ref / _so_ref /
 * _os_ref (host/cfar.c). Window: train + guard cells each side in range
 * (clipped at the map's edges, factor by cell count), dko rows each side in
 * Doppler (wrapping), of which the dkg nearest are guard rows.
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

typedef struct rf_cfar_geom {
  uint beams, bins, cells, baz, bel;
  uint w, gr, dko, dkg, rows, grows, nhalf;
} rf_cfar_geom;

/* max(a - b, 0), in signed arithmetic: the unsigned `a >= b ? a - b : 0`
 * compiles to llvm.usub.sat, which oclgrind 21.10 cannot run. a, b < 2^31. */
uint rf_cfar_sub0(uint a, uint b) { return (uint)max((int)a - (int)b, 0); }

uint rf_cfar_row(uint bin, int dk, uint bins) {
  int r = ((int)bin + dk) % (int)bins;
  return (uint)(r < 0 ? r + (int)bins : r);
}

/* kind 0 CA, 1 GO, 2 SO. alpha: CA by cell count [nmax + 1]; GO/SO: alpha[0]
 * both sides full, alpha[1] one side. */
void rf_cfar_mean(int kind, rf_cfar_geom g, __global const float *alpha, __global const float *power,
                  __local float *tile, __global rf_cand *cand, uint cap, __global uint *count) {
  uint lid = get_local_id(0), c0 = get_group_id(0) * RF_CFAR_TILE;
  uint c = c0 + lid, bin = get_global_id(1), b = get_global_id(2);
  const uint S = g.cells, W = g.w, gr = g.gr, span = RF_CFAR_TILE + 2 * W;
  __global const float *map = power + (size_t)b * g.bins * S;
  float all = 0.0f, left = 0.0f, right = 0.0f;
  for (int dk = -(int)g.dko; dk <= (int)g.dko; dk++) {
    __global const float *row = map + (size_t)rf_cfar_row(bin, dk, g.bins) * S;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = lid; i < span; i += RF_CFAR_TILE) {
      long col = (long)c0 - (long)W + (long)i;
      tile[i] = col >= 0 && col < (long)S ? row[col] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c >= S) continue;
    int guard_row = abs(dk) <= (int)g.dkg;
    /* tile[i] holds column c0 - W + i; column c is at lid + W. */
    uint at = lid + W;
    float l = 0.0f, r = 0.0f;
    uint skip = guard_row ? gr : 0;
    for (uint d = skip + 1; d <= W; d++) {
      l += tile[at - d]; /* zero beyond the edge */
      r += tile[at + d];
    }
    left += l;
    right += r;
    if (!guard_row) all += tile[at]; /* CA counts the CUT's column in full rows */
  }
  if (c >= S) return;
  float p = map[(size_t)bin * S + c];
  float noise, a;
  int lead = c >= W, lag = c + W < S;
  if (kind == 0) {
    uint lo = rf_cfar_sub0(c, W), hi = lag ? c + W : S - 1;
    uint glo = rf_cfar_sub0(c, gr), ghi = c + gr < S ? c + gr : S - 1;
    uint n = g.rows * (hi - lo + 1) - g.grows * (ghi - glo + 1);
    /* centre cells clipped at the edges were read as zeros: exact sums */
    noise = (left + right + all) / (float)n;
    a = alpha[n];
  } else {
    float ml = lead ? left / (float)g.nhalf : 0.0f, mr = lag ? right / (float)g.nhalf : 0.0f;
    if (lead && lag) {
      noise = kind == 1 ? fmax(ml, mr) : fmin(ml, mr);
      a = alpha[0];
    } else {
      noise = lead ? ml : mr;
      a = alpha[1];
    }
  }
  float thr = a * noise;
  if (p > thr)
    rf_emit_cand(cand, count, cap, power, g.beams, g.bins, S, g.baz, g.bel, b, bin, c, p, noise, thr);
}

__kernel void rf_cfar_ca(rf_cfar_geom g, __global const float *alpha, __local float *tile,
                         __global const float *power, __global rf_cand *hits, uint max_hits,
                         __global uint *nhits) {
  rf_cfar_mean(0, g, alpha, power, tile, hits, max_hits, nhits);
}

__kernel void rf_cfar_go(rf_cfar_geom g, __global const float *alpha, __local float *tile,
                         __global const float *power, __global rf_cand *hits, uint max_hits,
                         __global uint *nhits) {
  rf_cfar_mean(1, g, alpha, power, tile, hits, max_hits, nhits);
}

__kernel void rf_cfar_so(rf_cfar_geom g, __global const float *alpha, __local float *tile,
                         __global const float *power, __global rf_cand *hits, uint max_hits,
                         __global uint *nhits) {
  rf_cfar_mean(2, g, alpha, power, tile, hits, max_hits, nhits);
}

/* os_k [nmax + 1] rank (1-based) for n cells, os_norm its mean on unit
 * exponential noise, alpha the factor. */
__kernel void rf_cfar_os(rf_cfar_geom g, __global const float *alpha, __global const uint *os_k,
                         __global const float *os_norm, __global const float *power,
                         __global rf_cand *hits, uint max_hits, __global uint *nhits) {
  uint c = get_global_id(0), bin = get_global_id(1), b = get_global_id(2);
  const uint S = g.cells, W = g.w, gr = g.gr;
  if (c >= S) return;
  __global const float *map = power + (size_t)b * g.bins * S;
  uint lo = rf_cfar_sub0(c, W), hi = c + W < S ? c + W : S - 1;
  uint glo = rf_cfar_sub0(c, gr), ghi = c + gr < S ? c + gr : S - 1;
  uint n = g.rows * (hi - lo + 1) - g.grows * (ghi - glo + 1);
  uint kk = os_k[n] - 1, prefix = 0;
  for (int bit = 31; bit >= 0; bit--) {
    uint want = prefix >> bit; /* higher bits fixed, this bit 0 */
    uint cnt = 0;
    for (int dk = -(int)g.dko; dk <= (int)g.dko; dk++) {
      __global const uint *row = (__global const uint *)(map + (size_t)rf_cfar_row(bin, dk, g.bins) * S);
      int guard_row = abs(dk) <= (int)g.dkg;
      for (uint i = lo; i <= hi; i++) {
        if (guard_row && i >= glo && i <= ghi) continue;
        cnt += (row[i] >> bit) == want;
      }
    }
    if (kk >= cnt) {
      kk -= cnt;
      prefix |= 1u << bit;
    }
  }
  float x = as_float(prefix), p = map[(size_t)bin * S + c];
  float thr = alpha[n] * x;
  if (p > thr)
    rf_emit_cand(hits, nhits, max_hits, power, g.beams, g.bins, S, g.baz, g.bel, b, bin, c, p,
                 x / os_norm[n], thr);
}
