/* radarflow tests: named tolerances (each with its reason) and a small
 * seeded generator shared by the stage tests. */
#ifndef RF_TOLERANCES_H
#define RF_TOLERANCES_H

#include <math.h>
#include <stdint.h>

/* float32 FFT fast convolution vs double direct sums: error grows like
 * eps * log2(L) * a few; 1e-4 of the output peak is the project's bar for
 * a float32 stage against its reference (also the OpenCL bar). */
#define RF_TOL_STAGE_REL 1e-4
/* Mean power of 2^16 unit-power noise samples: std of the mean is
 * 1/sqrt(2^16) = 0.4%; 3% is > 7 sigma. */
#define RF_TOL_NOISE_POWER 0.03
/* Array 3 dB beamwidth against the textbook 0.886 lambda / (N d): the
 * formula is a large-N approximation, 1% off at N = 16. */
#define RF_TOL_BEAMWIDTH_REL 0.02

/* splitmix64: deterministic test data. */
static inline uint64_t rf_test_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform in (0, 1). */
static inline double rf_test_uniform(uint64_t *s) {
  return ((double)(rf_test_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
/* Standard normal (Box-Muller). */
static inline double rf_test_gauss(uint64_t *s) {
  double u = rf_test_uniform(s), v = rf_test_uniform(s);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif
