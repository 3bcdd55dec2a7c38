/* Stages 1 and 2 on the device: conversion and calibration into rows of the
 * FFT length, then (between VkFFT's forward and inverse transforms) the
 * spectral multiply by the conjugated, tapered, normalised replica
 * spectrum. Twins: rf_pc_execute (host/pulse_compress.c). */

/* raw [rows][s] sample pairs, row = pulse * n + channel; out [rows][l]:
 * samples [0, s) written (VkFFT's zero padding treats [s, l) as zero).
 * The result goes out through vstore2: oclgrind 21.10 rewrites a store of a
 * vector built from its lanes into a store of `undef` followed by one store
 * per lane (Program::removeLValueLoads), which its uninitialised-value
 * check then reports although every lane is written. */
__kernel void rf_pc_convert_i16(__global const short2 *raw, __global const float2 *gain, uint n,
                                uint s, uint l, uint rows, __global float2 *out) {
  uint i = get_global_id(0), row = get_global_id(1);
  if (i >= s || row >= rows) return;
  float2 x = convert_float2(raw[(size_t)row * s + i]);
  vstore2(rf_cmul(x, gain[row % n]), (size_t)row * l + i, (__global float *)out);
}

__kernel void rf_pc_convert_f32(__global const float2 *raw, __global const float2 *gain, uint n,
                                uint s, uint l, uint rows, __global float2 *out) {
  uint i = get_global_id(0), row = get_global_id(1);
  if (i >= s || row >= rows) return;
  float2 x = raw[(size_t)row * s + i];
  vstore2(rf_cmul(x, gain[row % n]), (size_t)row * l + i, (__global float *)out);
}

/* x [rows][l] *= h [l] (vstore2: as above) */
__kernel void rf_pc_multiply(__global float2 *x, __global const float2 *h, uint l, uint rows) {
  uint k = get_global_id(0), row = get_global_id(1);
  if (k >= l || row >= rows) return;
  size_t i = (size_t)row * l + k;
  vstore2(rf_cmul(x[i], h[k]), i, (__global float *)x);
}
