/* Stage 4 on the device. rf_doppler_input forms the Doppler FFT's input:
 * beamforming (fused: rf_bf_pulse, beamform.cl), the clutter canceller
 * (MTI2/3), the slow-time window and, for the notch filter, the slow-time
 * sums whose mean is removed after the FFT (FFT(w (y - m)) = FFT(w y) - m
 * FFT(w), so the beam outputs are read once). After VkFFT's transform,
 * rf_doppler_power: notch mean removal in the frequency domain
 * (X[k] - m W[k], W the window's spectrum), fftshift, square law and notch
 * blanking. Twin: rf_doppler_execute (host/doppler.c), the first half
 * (canceller, window) and the second (after the FFT).
 *
 * rf_doppler_input, one work-item: range cell c, a tile of RF_BF_TB beams,
 * one group of the block's pulses. rows [pcount][n][row_stride], w
 * [tiles * RF_BF_TB][n] (per_channel: unused, beam b is channel b), dop [beams][k][s]: slow-time row j <- windowed
 * filter output j. msum [groups][beams][s]: notch sums, added across the
 * blocks of a dwell. state_in / state_out [2][beams][s]: beam outputs of the
 * last two pulses of the previous / this block (MTI). */
__kernel void rf_doppler_input(__global const float2 *rows, uint row_stride, uint n, uint s,
                               __global const float2 *w, uint per_channel, uint beams, uint pcount, uint p_first,
                               uint groups, int clutter, __global const float *win, uint k,
                               __global float2 *dop, __global float2 *msum,
                               __global const float2 *state_in, __global float2 *state_out) {
  uint c = get_global_id(0), bt = get_global_id(1) * RF_BF_TB, g = get_global_id(2);
  if (c >= s || bt >= beams || g >= groups) return;
  /* A group can be empty (a short block): it still starts its notch sums
   * at a dwell's first block, which rf_doppler_power adds up. */
  uint per = (pcount + groups - 1) / groups, lo = min(pcount, g * per), hi = min(pcount, lo + per);
  float2 y[RF_BF_TB], h1[RF_BF_TB], h2[RF_BF_TB], sum[RF_BF_TB];
  const size_t plane = (size_t)beams * s;
  for (int t = 0; t < RF_BF_TB; t++) h1[t] = h2[t] = sum[t] = (float2)(0.0f, 0.0f);
  /* History before the group's first pulse: from this block's rows, or the
   * previous block's last outputs. */
  if (clutter >= 2 && lo < hi) {
    for (int d = 2; d >= 1; d--) {
      long pl = (long)lo - d;
      if ((long)p_first + pl < 0) continue;
      if (pl >= 0) {
        rf_bf_pulse(rows, row_stride, n, c, w, per_channel, bt, (uint)pl, y);
      } else {
        for (int t = 0; t < RF_BF_TB; t++)
          y[t] = bt + t < beams ? state_in[(size_t)(-pl - 1) * plane + (size_t)(bt + t) * s + c]
                                : (float2)(0.0f, 0.0f);
      }
      for (int t = 0; t < RF_BF_TB; t++) {
        h2[t] = h1[t];
        h1[t] = y[t];
      }
    }
  }
  for (uint p = lo; p < hi; p++) {
    rf_bf_pulse(rows, row_stride, n, c, w, per_channel, bt, p, y);
    uint gp = p_first + p;
    for (int t = 0; t < RF_BF_TB; t++) {
      uint b = bt + t;
      if (b >= beams) break;
      __global float2 *o = dop + (size_t)b * k * s + c;
      if (clutter == 2) {
        if (gp >= 1) o[(size_t)(gp - 1) * s] = win[gp - 1] * (y[t] - h1[t]);
      } else if (clutter == 3) {
        if (gp >= 2) o[(size_t)(gp - 2) * s] = win[gp - 2] * (y[t] - 2.0f * h1[t] + h2[t]);
      } else {
        o[(size_t)gp * s] = win[gp] * y[t];
        sum[t] += y[t];
      }
      h2[t] = h1[t];
      h1[t] = y[t];
    }
  }
  for (int t = 0; t < RF_BF_TB; t++) {
    uint b = bt + t;
    if (b >= beams) break;
    if (clutter == 1) {
      size_t i = ((size_t)g * beams + b) * s + c;
      msum[i] = p_first ? msum[i] + sum[t] : sum[t];
    }
    if (lo < hi && hi == pcount && clutter >= 2) { /* the block's last group keeps its tail */
      state_out[(size_t)b * s + c] = h1[t];
      state_out[plane + (size_t)b * s + c] = h2[t];
    }
  }
}

__kernel void rf_doppler_power(__global const float2 *dop, __global const float2 *msum, uint groups,
                               uint pulses, __global const float2 *wft, int clutter, int notch_bins,
                               uint k, uint s, uint beams, __global float *power) {
  uint c = get_global_id(0), j = get_global_id(1), b = get_global_id(2);
  if (c >= s || j >= k || b >= beams) return;
  size_t o = ((size_t)b * k + j) * s + c;
  int off = (int)j - (int)(k / 2);
  if (clutter == 1 && off >= -notch_bins && off <= notch_bins) {
    power[o] = 0.0f;
    return;
  }
  uint src = (j + k / 2) % k;
  float2 v = dop[((size_t)b * k + src) * s + c];
  if (clutter == 1) {
    float2 m = (float2)(0.0f, 0.0f);
    for (uint g = 0; g < groups; g++) m += msum[((size_t)g * beams + b) * s + c];
    m /= (float)pulses;
    v -= rf_cmul(m, wft[src]);
  }
  power[o] = v.x * v.x + v.y * v.y;
}
