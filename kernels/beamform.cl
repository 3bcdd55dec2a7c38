/* Stage 3 on the device: receive beamforming, a complex matrix product per
 * pulse (beams x channels weights times channels x cells rows). It runs
 * fused into the Doppler stage's input kernel (doppler.cl rf_doppler_input),
 * which forms each beam output as it walks a cell's pulses, so the beam cube
 * is never written and read back. Twin: rf_bf_execute (host/beamform.c).
 *
 * RF_BF_TB (beams per work-item) comes from the host's tuning table as a
 * -D build option (host/cl_runtime.c), like every tunable here. */
#ifndef RF_BF_TB
#error "RF_BF_TB comes from the host's tuning table (-D, host/cl_runtime.c)"
#endif

/* Beam outputs y[0, RF_BF_TB) of beams bt, bt + 1, ... for range cell c of
 * pulse p. rows [pulses][n][row_stride] (pulse-compressed), w
 * [tiles * RF_BF_TB][n] (rows past the last beam zero). per_channel: no
 * beamforming, beam b is channel b (w unused; beams past n are zero). */
void rf_bf_pulse(__global const float2 *rows, uint row_stride, uint n, uint c, __global const float2 *w,
                 uint per_channel, uint bt, uint p, float2 *y) {
  __global const float2 *x = rows + (size_t)p * n * row_stride + c;
  if (per_channel) {
    for (int t = 0; t < RF_BF_TB; t++)
      y[t] = bt + t < n ? x[(size_t)(bt + t) * row_stride] : (float2)(0.0f, 0.0f);
    return;
  }
  for (int t = 0; t < RF_BF_TB; t++) y[t] = (float2)(0.0f, 0.0f);
  for (uint ch = 0; ch < n; ch++) {
    float2 v = x[(size_t)ch * row_stride];
    for (int t = 0; t < RF_BF_TB; t++) y[t] += rf_cmul(w[(size_t)(bt + t) * n + ch], v);
  }
}
