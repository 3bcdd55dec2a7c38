/* radarflow OpenCL C 1.2 kernels: shared types and helpers. Every .cl file
 * is concatenated after this one into one program (build/gen). Layouts
 * match the host structs in host/rf_cl.h. */

/* A CFAR crossing with what plot extraction needs around it: the powers of
 * its neighbours in range (cell -1, +1), Doppler (bin -1, +1, wrapping) and
 * beam (azimuth -1, +1, elevation row -1, +1); 0 where there is none. */
#define RF_NB 8
typedef struct rf_cand {
  uint beam, bin, cell;
  float power, noise, threshold;
  float nb[RF_NB];
} rf_cand;

float2 rf_cmul(float2 a, float2 b) {
  return (float2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

void rf_emit_cand(__global rf_cand *cand, __global uint *count, uint cap, __global const float *power,
                  uint beams, uint k, uint s, uint baz, uint bel, uint b, uint bin, uint c, float p,
                  float noise, float thr);
