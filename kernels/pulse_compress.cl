/* Stages 1 and 2 on the device: conversion and calibration into rows of the
 * FFT length, then (between VkFFT's forward and inverse transforms) the
 * spectral multiply by the conjugated, tapered, normalised replica
 * spectrum. Twins: rf_pc_execute (host/pulse_compress.c). */

/* raw [rows][s] sample pairs, row = pulse * n + channel; out [rows][l]:
 * samples [0, s) written (VkFFT's zero padding treats [s, l) as zero). */
__kernel void rf_pc_convert_i16(__global const short2 *raw, __global const float2 *gain, uint n,
                                uint s, uint l, uint rows, __global float2 *out) {
  uint i = get_global_id(0), row = get_global_id(1);
  if (i >= s || row >= rows) return;
  float2 x = convert_float2(raw[(size_t)row * s + i]);
  float2 g = gain[row % n];
  out[(size_t)row * l + i] = (float2)(x.x * g.x - x.y * g.y, x.x * g.y + x.y * g.x);
}

__kernel void rf_pc_convert_f32(__global const float2 *raw, __global const float2 *gain, uint n,
                                uint s, uint l, uint rows, __global float2 *out) {
  uint i = get_global_id(0), row = get_global_id(1);
  if (i >= s || row >= rows) return;
  float2 x = raw[(size_t)row * s + i];
  float2 g = gain[row % n];
  out[(size_t)row * l + i] = (float2)(x.x * g.x - x.y * g.y, x.x * g.y + x.y * g.x);
}

/* x [rows][l] *= h [l] */
__kernel void rf_pc_multiply(__global float2 *x, __global const float2 *h, uint l, uint rows) {
  uint k = get_global_id(0), row = get_global_id(1);
  if (k >= l || row >= rows) return;
  size_t i = (size_t)row * l + k;
  x[i] = rf_cmul(x[i], h[k]);
}
