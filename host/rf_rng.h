/* radarflow host/: the one pseudo-random generator (xoshiro256**, seeded by
 * splitmix64), for the simulator's draws and the CFAR's calibration: fixed
 * seeds give the same stream on every machine. */
#ifndef RF_RNG_H
#define RF_RNG_H

#include <complex.h>
#include <math.h>
#include <stdint.h>

#include "rf_common.h"

typedef struct rf_rng {
  uint64_t s[4];
} rf_rng;

static inline uint64_t rf_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The state: four splitmix64 draws from seed. */
static inline void rf_rng_seed(rf_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = rf_splitmix64(&seed);
}

static inline uint64_t rf_rng_next(rf_rng *r) {
  uint64_t *s = r->s, x = s[1] * 5, out = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return out;
}

/* Uniform in (0, 1). */
static inline double rf_rng_uniform(rf_rng *r) { return ((double)(rf_rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Complex Gaussian of the given power (Box-Muller: E|z|^2 = power). */
static inline double complex rf_rng_cgauss(rf_rng *r, double power) {
  double u = rf_rng_uniform(r), ph = 2.0 * RF_PI * rf_rng_uniform(r);
  double a = sqrt(-power * log(u));
  return a * cos(ph) + I * a * sin(ph);
}

#endif
