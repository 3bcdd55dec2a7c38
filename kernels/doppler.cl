/* Stage 4 after VkFFT's Doppler transform: notch mean removal in the
 * frequency domain (X[k] - m W[k], W the window's spectrum), fftshift,
 * square law and notch blanking. Twin: the second half of
 * rf_doppler_execute (host/doppler.c). dop [beams][k][s] spectra, msum
 * [groups][beams][s] slow-time sums of `pulses` pulses, power [beams][k][s]
 * with output bin j = FFT bin (j + k/2) mod k. */
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
