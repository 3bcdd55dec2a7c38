/* radarflow validate: detection and estimation theory, computed here
 * independently of the processing code (docs/detection.md gives each
 * formula and its source). */
#ifndef RF_VALIDATE_THEORY_H
#define RF_VALIDATE_THEORY_H

#include <stddef.h>

/* Marcum Q1(a, b) = int_b^inf x exp(-(x^2 + a^2) / 2) I0(a x) dx, by
 * Simpson's rule on the scaled integrand (relative accuracy ~1e-8). */
double th_marcum_q1(double a, double b);

/* Detectors with n independent unit exponential training cells (n even for
 * GO/SO; OS rank k): the threshold factor for a design Pfa (closed forms:
 * CA; Gandhi & Kassam 1988 GO/SO; Rohling 1983 OS; solved by bisection),
 * and Pd at post-processing SNR s (linear) for Swerling 0 (numerical
 * integration over the noise statistic's density) and Swerling 1 (closed
 * form: the Pfa formula at alpha / (1 + s)). kind: 0 CA, 1 GO, 2 SO, 3 OS,
 * 4 the ideal detector (known noise: threshold -ln Pfa). */
double th_alpha(int kind, int n, int k, double pfa);
double th_pfa(int kind, int n, int k, double alpha);
double th_pd(int kind, int n, int k, double alpha, double snr, int swerling);

/* SNR (dB) at which a Pd curve pd(snr_db) crosses p, by bisection on
 * [lo, hi] (pd rising). */
double th_snr_at(int kind, int n, int k, double alpha, int swerling, double p, double lo, double hi);

#endif
