/* radarflow pipelines/: the multi-target tracker (rf_tracker.h,
 * docs/tracking.md). */
#include "rf_tracker.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rf_assign.h"
#include "rf_pipeline.h"

#define RF__DEG (RF_PI / 180.0)
/* The wrapped radial velocity is used only while the predicted radial
 * velocity's sigma (with the plot's) is below interval / this: then the
 * wrap picks the right alias with overwhelming probability (half the
 * interval is 4 sigma), so the ambiguity can never mislead the filter. */
#define RF__AMBIG_SIGMAS 8.0
/* The IMM's filters: constant velocity, coordinated turns left and right
 * at tracker.manoeuvre_accel_mps2 (both report as the manoeuvre mode), and
 * ballistic. */
enum { RF__K_CV = 0, RF__K_LEFT = 1, RF__K_RIGHT = 2, RF__K_BALLISTIC = 3 };
#define RF__NMOD_MAX 4
/* Components of the gating graph solved optimally up to this size (tracks,
 * plots); larger ones (never in practice) are assigned greedily by cost. */
#define RF__COMP_ROWS 256
#define RF__COMP_PLOTS 512
/* Ballistic batch refinement (docs/tracking.md): windows of the last
 * RF__BATCH_PLOTS plots of up to RF__BATCH_TRACKS ballistic tracks at once
 * (allocated with the tracker), refitted by Gauss-Newton after each update
 * once they hold RF__BATCH_MIN plots. */
#define RF__BATCH_TRACKS 32
#define RF__BATCH_PLOTS 256
#define RF__BATCH_MIN 12
#define RF__BATCH_ITERS 6
/* Refits: the first once the window holds RF__BATCH_MIN plots; then every
 * RF__BATCH_EVERY plots, and only while the ballistic mode is the likelier
 * (a single ballistic model: always). Between refits the filter carries
 * the refitted state forward; Gauss-Newton over a window of up to 256
 * plots costs as much as thousands of filter updates. */
#define RF__BATCH_EVERY 2
/* The IMM's model set follows the track (docs/tracking.md, "Which models
 * take part"). The turn modes join when the constant-velocity residuals
 * exceed the chi-square quantile at RF__TURN_ON_P - those of one update,
 * or their fading sum e = RF__TURN_FADE e + NIS (Bar-Shalom, Li,
 * Kirubarajan 11.2.2: about a chi-square of n (1 + a) / (1 - a) degrees of
 * freedom over 1 + a): a manoeuvre the straight line does not explain.
 * They leave when their probability together falls below RF__TURN_OFF
 * (they then move the combined estimate by less than that fraction) or,
 * RF__TURN_CALM updates after joining, below RF__TURN_CALM_P while the
 * constant-velocity mode's fading sum is below its mean n / (1 - a): the
 * straight line explains the plots again and the turns cannot be told
 * from it (a target far away, its turns hidden in the cross-range
 * error, keeps them near a few per cent for ever). While they are out, the gate is widened by
 * an unknown horizontal acceleration of tracker.manoeuvre_accel_mps2 over
 * the look's interval, so the plot of a turn's first look is still
 * taken. */
#define RF__TURN_ON_P 0.99
#define RF__TURN_OFF 0.01
#define RF__TURN_FADE 0.8
#define RF__TURN_CALM 5
#define RF__TURN_CALM_P 0.1
/* Dwells with at least this many tracks to predict and update share them
 * out (the tracks are independent): over the OpenMP threads, or with the
 * helper thread (rf_tracker_set_helper). */
#define RF__PARALLEL_MIN 256
/* Tracks taken at once by a thread of those loops. */
#define RF__JOB_CHUNK 16
enum { RF__JOB_PREDICT, RF__JOB_UPDATE };
/* Ballistic prediction: horizon, step. */
#define RF__BALLISTIC_HORIZON_S 3600.0
#define RF__BALLISTIC_STEP_S 0.5

typedef struct rf__track {
  int32_t id, status, plots, misses, looks;
  int32_t fast;                      /* IMM: the ballistic mode takes part */
  int32_t turns;                     /* IMM: the coordinated-turn modes take part */
  int32_t turn_age;                  /* updates since the turn modes joined */
  double nis_fade;                   /* fading sum of the constant-velocity mode's NIS */
  int32_t win;                       /* its batch window, or -1 */
  uint32_t hist;                     /* bit 0 = latest look, 1 = hit */
  double t;                          /* time of the state */
  double x[RF__NMOD_MAX][6], P[RF__NMOD_MAX][36], mu[RF__NMOD_MAX];
  double xc[6], Pc[36];              /* combined estimate */
} rf__track;

/* Per covered track, this dwell. */
typedef struct rf__pred {
  uint32_t trk;                      /* index into trk[] */
  int32_t plot;                      /* assigned plot or -1 */
  int32_t dims;                      /* dims of the assigned pair */
  int32_t look;                      /* inside the transmit beam: no plot is a miss */
  int32_t tentative;                 /* the track's status is tentative (gating stage 2) */
  int32_t single;                    /* one mode took part: its state is the combined one, so
                                        its update reuses zH */
  double zH[68];                     /* h(xc) (the predicted measurement), its Jacobian H,
                                        Pc H' (4 columns), H Pc H' (4 x 4) */
  int32_t claim;                     /* ballistic without a batch window: claims one if updated */
  double S0[16];                     /* H Pc H' plus the curvature terms */
  int32_t row;                       /* its row this dwell, or -1 */
  int32_t alt;                       /* IMM: further gates (zpa, S0a): both turn modes'
                                        predictions, or the manoeuvre-widened one */
  double zpa[2][4], S0a[2][16];
} rf__pred;

/* The second-order terms of a prediction (rf__second_order_m), kept for
 * its update (rf__update_curvature). */
typedef struct rf__so {
  double M11[9], M12[9], M21[9]; /* blocks of A P (A: radial velocity's Hessian) */
  double tr2, tr3;               /* tr((A P)^2), tr(M21^2): before clamping */
  int ok;                        /* r > 0 (else the terms are 0) */
} rf__so;

typedef struct rf__pair {
  uint32_t pred, plot;
  int32_t dims, next;                /* next pair of the same component, or -1 */
  double cost;
} rf__pair;

/* The plots of one ballistic track, oldest first (a ring). */
typedef struct rf__bwin {
  int32_t id;                        /* owning track id, 0 = free */
  int32_t n, head;
  int32_t since, fitted;             /* plots since the last refit; a refit was kept */
  double t[RF__BATCH_PLOTS];
  rf_track_meas m[RF__BATCH_PLOTS];
  int8_t dims[RF__BATCH_PLOTS];
} rf__bwin;

struct rf_tracker {
  rf_config cfg;
  rf__bwin *win;                     /* [RF__BATCH_TRACKS] */
  rf_track_sensor s;
  rf_geo_site site;
  rf_track_gravity grav;
  int nmod, kinds[RF__NMOD_MAX];     /* RF__K_* of each filter */
  int modes[RF__NMOD_MAX];           /* enum rf_track_mode (column) of each filter */
  int bal;                           /* IMM: index of the ballistic mode; -1 without */
  double q[RF__NMOD_MAX];
  double gate3, gate4, max_speed;
  double turn_on3, turn_on4;         /* NIS past which the turn modes join (3, 4 dims) */
  double fade_on3, fade_on4;         /* the same for the fading sum */
  size_t cap_tracks, cap_plots, cap_pairs;
  rf__track *trk;
  size_t ntrk;
  int32_t next_id;
  double last_time;
  int started;
  int defer;                         /* rows' derived columns left to rf_tracker_derive_rows */
  /* the per-track loops' job (rf__for_preds), shared with a helper thread */
  double job_now;                    /* this dwell's time */
  rf_track_row *job_rows;            /* this dwell's rows */
  void (*wake)(void *);              /* tells the helper a job is open (NULL: no helper) */
  void *wake_arg;
  int job_init, job_open, job_kind, job_users;
  pthread_mutex_t job_mu;
  pthread_cond_t job_cv;             /* the helper left the job */
  atomic_size_t job_next;            /* next item to take */
  /* per-dwell scratch */
  rf__pred *pred;
  rf__so *pso;                       /* [cap]: pred[i]'s second-order terms */
  size_t npred;
  rf_track_meas *meas;
  uint32_t *order;                   /* plot indices binned by range (counting pass) */
  double *order_r;                   /* their ranges, in that order (gating reads these first) */
  uint8_t *stat;                     /* [cap_tracks]: trk[i].status, kept beside the tracks
                                        so that the serial passes need not touch each */
  int32_t *bin_start;                /* [cap_plots + 1]: order[bin_start[b] .. bin_start[b+1]) */
  double bin_r0, bin_w;              /* bin b covers [r0 + b w, r0 + (b+1) w) */
  size_t nbins;
  int32_t *plot_pred, *plot_gated;   /* assigned pred / gated by a confirmed track */
  rf__pair *pairs;
  size_t npairs;
  int32_t *uf;                       /* union-find over preds then plots */
  int32_t *head;                     /* per union-find root: its first pair, or -1 */
  int32_t *loc_pred, *loc_plot, *comp_pred, *comp_plot, *r2c;
  double *dense;
  rf_assign *as;
};

/* ---- small linear algebra -------------------------------------------------------- */
/* Cholesky of an n x n SPD matrix a (row-major) into lower L, with the
 * reciprocals of its diagonal in place of the diagonal (the solves below
 * multiply where they would divide); -1 if not PD. */
static int rf__chol(const double *a, int n, double *L) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++) {
      double s = a[i * n + j];
      for (int k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (!(s > 0)) return -1;
        L[i * n + i] = 1.0 / sqrt(s);
      } else {
        L[i * n + j] = s * L[j * n + j];
      }
    }
  return 0;
}

/* Solves L L' y = b in place (L of rf__chol). */
static void rf__chol_solve(const double *L, int n, double *b) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s * L[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s * L[i * n + i];
  }
}

/* Forward substitution: y = L^-1 b (L of rf__chol, n x n); y may be b. */
static void rf__fwd(const double *L, int n, const double *b, double *y) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s * L[i * n + i];
  }
}

static void rf__symmetrize(double *P) {
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < i; j++) {
      double m = 0.5 * (P[i * 6 + j] + P[j * 6 + i]);
      P[i * 6 + j] = P[j * 6 + i] = m;
    }
}

/* ---- chi-square quantile --------------------------------------------------------- */
/* Regularised lower incomplete gamma P(a, x) (series / continued fraction). */
static double rf__gammap(double a, double x) {
  if (x <= 0) return 0;
  double gln = lgamma(a);
  if (x < a + 1) {
    double ap = a, sum = 1.0 / a, del = sum;
    for (int n = 0; n < 500; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (fabs(del) < fabs(sum) * 1e-15) break;
    }
    return sum * exp(-x + a * log(x) - gln);
  }
  double b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
  for (int i = 1; i < 500; i++) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-15) break;
  }
  return 1.0 - exp(-x + a * log(x) - gln) * h;
}

double rf_chi2_quantile(int dof, double p) {
  if (dof < 1 || !(p > 0 && p < 1)) return NAN;
  double lo = 0, hi = 1;
  while (rf__gammap(0.5 * dof, 0.5 * hi) < p) hi *= 2;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
    double mid = 0.5 * (lo + hi);
    if (rf__gammap(0.5 * dof, 0.5 * mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* ---- measurement model ----------------------------------------------------------- */
void rf_track_h(const double x[6], double z[4]) {
  double e = x[0], n = x[1], u = x[2];
  double rho2 = e * e + n * n, rho = sqrt(rho2), r = sqrt(rho2 + u * u);
  z[0] = r;
  const double ys[2] = {e, u}, xs[2] = {n, rho};
  double a[2];
  rf_atan2x2(ys, xs, a);
  double az = a[0] / RF__DEG;
  z[1] = az < 0 ? az + 360.0 : az;
  z[2] = a[1] / RF__DEG;
  z[3] = r > 0 ? (e * x[3] + n * x[4] + u * x[5]) / r : 0;
}

/* h(x) and its Jacobian H [4][6] (angles in degrees). */
static void rf__h_jac(const double x[6], double z[4], double H[24]) {
  double e = x[0], n = x[1], u = x[2];
  double rho2 = e * e + n * n;
  if (rho2 < 1e-6) rho2 = 1e-6;
  double rho = sqrt(rho2), r2 = rho2 + u * u, r = sqrt(r2), k = 1.0 / RF__DEG;
  rf_track_h(x, z);
  /* Rows 0-2 (range, angles) have no velocity columns: left 0 here, and
   * the products below skip them. */
  memset(H, 0, 24 * sizeof *H);
  H[0] = e / r, H[1] = n / r, H[2] = u / r;
  H[6] = k * n / rho2, H[7] = -k * e / rho2;
  H[12] = -k * u * e / (r2 * rho), H[13] = -k * u * n / (r2 * rho), H[14] = k * rho / r2;
  double vr = z[3];
  H[18] = x[3] / r - vr * e / r2, H[19] = x[4] / r - vr * n / r2, H[20] = x[5] / r - vr * u / r2;
  H[21] = e / r, H[22] = n / r, H[23] = u / r;
}

/* P H' (6 x dims, row-major) for an H of rf__h_jac (rows 0-2 position
 * only). */
static void rf__pht(const double H[24], const double P[36], int dims, double PHt[24]) {
  for (int i = 0; i < 6; i++) {
    const double *pr = P + i * 6;
    for (int j = 0; j < 3 && j < dims; j++) PHt[i * dims + j] = pr[0] * H[j * 6] + pr[1] * H[j * 6 + 1] + pr[2] * H[j * 6 + 2];
    if (dims == 4) {
      double s = 0;
      for (int k = 0; k < 6; k++) s += pr[k] * H[18 + k];
      PHt[i * dims + 3] = s;
    }
  }
}

/* S = H PHt (dims x dims, symmetric) for PHt of rf__pht. */
static void rf__h_pht(const double H[24], const double PHt[24], int dims, double *S) {
  for (int i = 0; i < dims && i < 3; i++)
    for (int j = 0; j <= i; j++) {
      double s = 0;
      for (int k = 0; k < 3; k++) s += H[i * 6 + k] * PHt[k * dims + j];
      S[i * dims + j] = S[j * dims + i] = s;
    }
  if (dims == 4)
    for (int j = 0; j <= 3; j++) {
      double s = 0;
      for (int k = 0; k < 6; k++) s += H[18 + k] * PHt[k * 4 + j];
      S[12 + j] = S[j * 4 + 3] = s;
    }
}

/* S0 = H P H' (4x4). */
static void rf__hph(const double H[24], const double P[36], double S[16], double PHt[24]) {
  rf__pht(H, P, 4, PHt);
  rf__h_pht(H, PHt, 4, S);
}

/* tr(X Y) of 3x3 blocks. */
static double rf__tr3(const double *X, const double *Y) {
  double t = 0;
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 3; k++) t += X[i * 3 + k] * Y[k * 3 + i];
  return t;
}

/* Second-order terms of the EKF's two most curved measurements (a
 * Gaussian second-order filter's innovation variance, Bar-Shalom, Li,
 * Kirubarajan 10.3.2; the biases are neither computed nor applied: they
 * would move a noiseless track's fixed point off the truth). With T = I - d d', d = p / r:
 * - range r = |p| has the Hessian T / r: with position covariance Ppp its
 *   variance gains tr(T Ppp T Ppp) / (2 r^2) - the curvature of the range
 *   sphere across a wide cross-range uncertainty (60 km at 1400 km puts
 *   2.6 km of curvature under a 7.5 m range sigma: without it the update
 *   tears a new long-range track apart);
 * - radial velocity vr = p.v / r has the Hessian A = [Hpp T/r; T/r 0]
 *   over (p, v): its variance gains tr(A P A P) / 2, so a new track
 *   (velocity unknown, large cross-range error) does not trust the plots'
 *   precise radial velocity far too much. */
static void rf__second_order_m(const double x[6], const double *P, rf__so *so) {
  double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  so->ok = r > 0;
  so->tr2 = so->tr3 = 0;
  if (!so->ok) return;
  double d[3] = {x[0] / r, x[1] / r, x[2] / r}, v[3] = {x[3], x[4], x[5]};
  double vr = d[0] * v[0] + d[1] * v[1] + d[2] * v[2], r2 = r * r;
  /* Hessian of vr over (p, v): A = [B C; C 0], B = Hpp = (3 vr d d' - v d' -
   * d v' - vr I) / r^2, C = T / r (it matters for fast objects: 5 km/s at
   * 1400 km with 20 km of cross-range error gives ~1 m/s). With P's blocks
   * [P11 P12; P21 P22], M = A P = [B P11 + C P21, B P12 + C P22; C P11,
   * C P12] and tr(M M) = tr(M11^2) + 2 tr(M12 M21) + tr(M22^2). The range's
   * Hessian T / r on p gives tr(T P11 T P11) / r^2 = tr(M21^2). */
  /* C = (I - d d') / r and B = ((3 vr d - v) d' - d v' - vr I) / r^2 are
   * rank-one corrections of I: C X = (X - d (d'X)) / r and B X =
   * ((3 vr d - v)(d'X) - d (v'X) - vr X) / r^2, from the rows d'X, v'X. */
  const double *P11 = P, *P12 = P + 3, *P21 = P + 18, *P22 = P + 21;
  double a1[3], b1[3], c1[3], a2[3], b2[3], c2[3], g[3], M22[9];
  double *M11 = so->M11, *M12 = so->M12, *M21 = so->M21;
  for (int j = 0; j < 3; j++) {
    a1[j] = b1[j] = c1[j] = a2[j] = b2[j] = c2[j] = 0;
    for (int i = 0; i < 3; i++) {
      a1[j] += d[i] * P11[i * 6 + j], b1[j] += v[i] * P11[i * 6 + j], c1[j] += d[i] * P21[i * 6 + j];
      a2[j] += d[i] * P12[i * 6 + j], b2[j] += v[i] * P12[i * 6 + j], c2[j] += d[i] * P22[i * 6 + j];
    }
  }
  for (int i = 0; i < 3; i++) g[i] = 3 * vr * d[i] - v[i];
  const double ir = 1.0 / r, ir2 = 1.0 / r2;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      M21[i * 3 + j] = (P11[i * 6 + j] - d[i] * a1[j]) * ir;
      M22[i * 3 + j] = (P12[i * 6 + j] - d[i] * a2[j]) * ir;
      M11[i * 3 + j] = (g[i] * a1[j] - d[i] * b1[j] - vr * P11[i * 6 + j]) * ir2 + (P21[i * 6 + j] - d[i] * c1[j]) * ir;
      M12[i * 3 + j] = (g[i] * a2[j] - d[i] * b2[j] - vr * P12[i * 6 + j]) * ir2 + (P22[i * 6 + j] - d[i] * c2[j]) * ir;
    }
  so->tr2 = rf__tr3(M11, M11) + 2.0 * rf__tr3(M12, M21) + rf__tr3(M22, M22);
  so->tr3 = rf__tr3(M21, M21);
}

/* The variances of rf__second_order_m's terms: var (radial velocity),
 * rvar (range). */
static void rf__second_order(const double x[6], const double *P, double *var, double *rvar, rf__so *so) {
  rf__second_order_m(x, P, so);
  *var = so->tr2 > 0 ? 0.5 * so->tr2 : 0;
  *rvar = so->tr3 > 0 ? 0.5 * so->tr3 : 0;
}

void rf_track_meas_from_plot(const rf_track_sensor *s, const rf_config *cfg, const rf_plot *p,
                             rf_track_meas *m) {
  double snr = pow(10.0, p->snr_db / 10.0);
  if (!(snr >= 1.0)) snr = 1.0;
  double f = cfg->trk_sigma_floor, rel = sqrt(1.0 / (2.0 * snr) + f * f);
  m->z[0] = p->range_m;
  m->z[1] = p->azimuth_deg;
  m->z[2] = p->elevation_deg;
  m->z[3] = p->radial_velocity_mps;
  m->sigma[0] = s->range_cell_m * rel;
  m->sigma[1] = s->beamwidth_az_deg * rel;
  m->sigma[2] = s->beamwidth_el_deg > 0 ? s->beamwidth_el_deg * rel : cfg->trk_el_sigma_unmeasured;
  /* A velocity exactly on a Doppler bin was not refined (a neighbour was
   * blanked): its error is uniform over the bin. */
  double bins = p->radial_velocity_mps / s->doppler_cell_mps;
  double vrel = fabs(bins - nearbyint(bins)) < 1e-6 ? sqrt(1.0 / 12.0 + 1.0 / (2.0 * snr)) : rel;
  m->sigma[3] = s->doppler_cell_mps * vrel;
}

/* Iterated EKF (Gauss-Newton): relinearise at the new
 * estimate until the position moves by less than 1e-10 of the range (at
 * most RF__IEKF_MAX passes). A noiseless track is then followed exactly. */
#define RF__IEKF_MAX 5
#define RF__IEKF_TOL 1e-10
/* The tracker itself runs the plain EKF (one pass): on the simulated
 * scenes, iterating on real plots (whose errors are not the Gaussian the
 * sigmas describe: a linear array's elevation is the transmit elevation)
 * made position errors worse. rf_track_update iterates. */
#define RF__TRACKER_ITERS 1

/* The curvature terms (rv2: range, vv2: radial velocity variance) of an
 * update of state x, P by plot m, over the track's cross-range uncertainty
 * plus the plot's own: a track whose covariance has become overconfident
 * must not trust the Doppler's linearisation more than one plot's angles
 * allow. so: rf__second_order_m of x, P.
 * The plot's angles add D = sa^2 ua ua' + se^2 ue ue' to P's position
 * block (ua, ue: unit vectors across the line of sight d, orthogonal to
 * each other; sa, se: the angles' sigmas times the arcs' radii), so the
 * terms of P + D follow from those of P by a rank-two correction. For such
 * a u, C u = u / r and B u = -(d v'u + vr u) / r^2, and with s_k = sa^2,
 * se^2:
 *   tr((A (P + D))^2) = tr2 + 2 sum s_k (u_k' M11 B u_k + u_k' M12 u_k / r)
 *                       + sum s_k^2 vr^2 / r^4,
 *   tr((C (P11 + D))^2) = tr3 + 2 sum s_k u_k' M21 u_k / r + sum s_k^2 / r^2. */
static void rf__update_curvature(const double x[6], const rf__so *so, const rf_track_meas *m, double *rv2,
                                 double *vv2) {
  double tr2 = so->tr2, tr3 = so->tr3;
  double e = x[0], n = x[1], u = x[2], rho2 = e * e + n * n, rho = sqrt(rho2), r = sqrt(rho2 + u * u);
  if (so->ok && rho > 0) {
    /* Azimuth's arc is r cos(el) = rho. */
    double sa = rho * m->sigma[1] * RF__DEG, se = r * m->sigma[2] * RF__DEG;
    const double s[2] = {sa * sa, se * se};
    const double uk[2][3] = {{n / rho, -e / rho, 0}, {-u * e / (r * rho), -u * n / (r * rho), rho / r}};
    const double d[3] = {e / r, n / r, u / r}, ir = 1.0 / r, ir2 = 1.0 / (r * r);
    const double vr = d[0] * x[3] + d[1] * x[4] + d[2] * x[5];
    for (int k = 0; k < 2; k++) {
      const double *w = uk[k];
      double vu = x[3] * w[0] + x[4] * w[1] + x[5] * w[2], bu[3], q11 = 0, q12 = 0, q21 = 0;
      for (int i = 0; i < 3; i++) bu[i] = -(d[i] * vu + vr * w[i]) * ir2;
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
          q11 += w[i] * so->M11[i * 3 + j] * bu[j];
          q12 += w[i] * so->M12[i * 3 + j] * w[j];
          q21 += w[i] * so->M21[i * 3 + j] * w[j];
        }
      tr2 += 2.0 * s[k] * (q11 + q12 * ir) + s[k] * s[k] * vr * vr * ir2 * ir2;
      tr3 += 2.0 * s[k] * q21 * ir + s[k] * s[k] * ir2;
    }
  }
  *vv2 = tr2 > 0 ? 0.5 * tr2 : 0;
  *rv2 = tr3 > 0 ? 0.5 * tr3 : 0;
}

/* curv: the curvature terms {rv2, vv2} (rf__update_curvature), or NULL to
 * compute them from x, P. zH, when not NULL: h(x) (4), its Jacobian (24),
 * P H' for 4 measurements (24) and H P H' (16), already computed for this
 * x and P (the same numbers the first pass would compute). */
static int rf__update(const rf_track_meas *m, int dims, double interval, double x[6], double P[36],
                      double *nis, double *lndet, int iters, const double *curv, const double *zH) {
  /* With S = L L' (Cholesky), W = P H' L^-T and v = L^-1 nu: the gain
   * K = W L^-1, so K nu = W v, K H P = W W' and the NIS is |v|^2. */
  double xi[6], x0[6], zp[4], H[24], S[16] = {0}, L[16], nu[4] = {0}, PHt[24], W[24], v[4];
  memcpy(x0, x, sizeof x0);
  memcpy(xi, x, sizeof xi);
  double vv2 = 0, rv2 = 0;
  if (curv) rv2 = curv[0], vv2 = curv[1];
  else {
    rf__so so;
    rf__second_order_m(x, P, &so);
    rf__update_curvature(x, &so, m, &rv2, &vv2);
  }
  for (int it = 0; it < iters; it++) {
    if (it == 0 && zH) {
      memcpy(zp, zH, 4 * sizeof *zp);
      memcpy(H, zH + 4, 24 * sizeof *H);
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < dims; j++) PHt[i * dims + j] = zH[28 + i * 4 + j];
      for (int i = 0; i < dims; i++)
        for (int j = 0; j < dims; j++) S[i * dims + j] = zH[52 + i * 4 + j];
    } else {
      rf__h_jac(xi, zp, H);
      rf__pht(H, P, dims, PHt);
      rf__h_pht(H, PHt, dims, S);
    }
    for (int k = 0; k < dims; k++) nu[k] = m->z[k] - zp[k];
    nu[1] = rf_wrap(nu[1], 180.0);
    if (dims == 4 && interval > 0) nu[3] = rf_wrap(nu[3], 0.5 * interval);
    /* relinearised innovation: z - h(xi) - H (x0 - xi) */
    if (it)
      for (int k = 0; k < dims; k++)
        for (int c = 0; c < 6; c++) nu[k] -= H[k * 6 + c] * (x0[c] - xi[c]);
    for (int i = 0; i < dims; i++) S[i * dims + i] += m->sigma[i] * m->sigma[i];
    S[0] += rv2;
    if (dims == 4) S[15] += vv2;
    if (rf__chol(S, dims, L) < 0) return RF_ERANGE;
    rf__fwd(L, dims, nu, v);
    if (it == 0) {
      double d2 = 0, idet = 1; /* 1 / det L */
      for (int k = 0; k < dims; k++) d2 += v[k] * v[k], idet *= L[k * dims + k];
      if (nis) *nis = d2;
      if (lndet) *lndet = -2.0 * log(idet);
    }
    for (int i = 0; i < 6; i++) rf__fwd(L, dims, PHt + i * dims, W + i * dims);
    double xn[6], dp2 = 0;
    for (int i = 0; i < 6; i++) {
      double s = 0;
      for (int j = 0; j < dims; j++) s += W[i * dims + j] * v[j];
      xn[i] = x0[i] + s;
      double d = xn[i] - xi[i];
      if (i < 3) dp2 += d * d;
    }
    memcpy(xi, xn, sizeof xi);
    double r = zp[0] > 1 ? zp[0] : 1;
    if (sqrt(dp2) <= RF__IEKF_TOL * r) break;
  }
  memcpy(x, xi, sizeof xi);
  /* P - W W', on the lower triangle, mirrored (P stays symmetric). */
  for (int i = 0; i < 6; i++)
    for (int j = 0; j <= i; j++) {
      double s = 0;
      for (int k = 0; k < dims; k++) s += W[i * dims + k] * W[j * dims + k];
      P[i * 6 + j] = P[j * 6 + i] = P[i * 6 + j] - s;
    }
  return 0;
}

int rf_track_update(const rf_track_meas *m, int dims, double interval, double x[6], double P[36],
                    double *nis, double *lndet) {
  return rf__update(m, dims, interval, x, P, nis, lndet, RF__IEKF_MAX, NULL, NULL);
}

/* ---- motion models --------------------------------------------------------------- */
void rf_track_gravity_init(rf_track_gravity *g, int earth, const rf_geo_site *site) {
  memset(g, 0, sizeof *g);
  g->earth = earth;
  g->site_alt_m = site->alt_m;
  if (earth == RF_TRACK_EARTH_SPHERICAL) {
    g->centre_enu_m[2] = -(RF_TRACK_R_MEAN + site->alt_m);
  } else if (earth == RF_TRACK_EARTH_WGS84) {
    double c[3], w[3] = {0, 0, RF_TRACK_OMEGA_RPS};
    rf_geo_ecef_to_enu_vec(site, site->ecef, c);
    for (int k = 0; k < 3; k++) g->centre_enu_m[k] = -c[k];
    rf_geo_ecef_to_enu_vec(site, w, g->omega_enu_rps);
  }
}

void rf_track_gravity_accel(const rf_track_gravity *g, const double p[3], const double v[3], double a[3]) {
  if (g->earth == RF_TRACK_EARTH_FLAT) {
    a[0] = a[1] = 0;
    a[2] = -RF_TRACK_G0;
    return;
  }
  double d[3] = {p[0] - g->centre_enu_m[0], p[1] - g->centre_enu_m[1], p[2] - g->centre_enu_m[2]};
  double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2], r = sqrt(r2), k = -RF_TRACK_GM / (r2 * r);
  for (int i = 0; i < 3; i++) a[i] = k * d[i];
  if (g->earth == RF_TRACK_EARTH_WGS84) {
    /* Rotating frame: -2 W x v (Coriolis) - W x (W x d) (centrifugal). */
    const double *w = g->omega_enu_rps;
    double wv[3] = {w[1] * v[2] - w[2] * v[1], w[2] * v[0] - w[0] * v[2], w[0] * v[1] - w[1] * v[0]};
    double wd[3] = {w[1] * d[2] - w[2] * d[1], w[2] * d[0] - w[0] * d[2], w[0] * d[1] - w[1] * d[0]};
    double wwd[3] = {w[1] * wd[2] - w[2] * wd[1], w[2] * wd[0] - w[0] * wd[2], w[0] * wd[1] - w[1] * wd[0]};
    for (int i = 0; i < 3; i++) a[i] -= 2.0 * wv[i] + wwd[i];
  }
}

/* Ballistic state propagation over dt: exact for flat gravity, one RK4
 * step otherwise. */
static void rf__ballistic_step(const rf_track_gravity *g, double x[6], double dt) {
  if (g->earth == RF_TRACK_EARTH_FLAT) {
    for (int i = 0; i < 3; i++) x[i] += x[3 + i] * dt;
    x[2] -= 0.5 * RF_TRACK_G0 * dt * dt;
    x[5] -= RF_TRACK_G0 * dt;
    return;
  }
  double k1p[3], k1v[3], k2p[3], k2v[3], k3p[3], k3v[3], k4p[3], k4v[3], y[3], u[3];
  for (int i = 0; i < 3; i++) k1p[i] = x[3 + i];
  rf_track_gravity_accel(g, x, x + 3, k1v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + 0.5 * dt * k1p[i], u[i] = k2p[i] = x[3 + i] + 0.5 * dt * k1v[i];
  rf_track_gravity_accel(g, y, u, k2v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + 0.5 * dt * k2p[i], u[i] = k3p[i] = x[3 + i] + 0.5 * dt * k2v[i];
  rf_track_gravity_accel(g, y, u, k3v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + dt * k3p[i], u[i] = k4p[i] = x[3 + i] + dt * k3v[i];
  rf_track_gravity_accel(g, y, u, k4v);
  for (int i = 0; i < 3; i++) {
    x[i] += dt / 6.0 * (k1p[i] + 2 * k2p[i] + 2 * k3p[i] + k4p[i]);
    x[3 + i] += dt / 6.0 * (k1v[i] + 2 * k2v[i] + 2 * k3v[i] + k4v[i]);
  }
}

void rf_track_predict(int model, const rf_track_gravity *g, double q_accel, double dt, double x[6],
                      double P[36]) {
  if (!(dt > 0)) return;
  if (model == RF_TRACK_MODEL_BALLISTIC) {
    double rem = dt;
    while (rem > 0) {
      double h = rem > 10.0 ? 10.0 : rem;
      rf__ballistic_step(g, x, h);
      rem -= h;
    }
  } else {
    for (int i = 0; i < 3; i++) x[i] += x[3 + i] * dt;
  }
  /* F P F' for F = [I dt I; 0 I] by blocks, then Q of white acceleration
   * (q = a^2): [dt^3/3 dt^2/2; dt^2/2 dt] q per axis. The gravity gradient
   * (3e-6 /s^2) and the Coriolis term (1.5e-4 /s) are left out of F. */
  double q = q_accel * q_accel, dt2 = dt * dt;
  double pp[9], pv[9], vp[9], vv[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      pp[i * 3 + j] = P[i * 6 + j];
      pv[i * 3 + j] = P[i * 6 + 3 + j];
      vp[i * 3 + j] = P[(3 + i) * 6 + j];
      vv[i * 3 + j] = P[(3 + i) * 6 + 3 + j];
    }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int k = i * 3 + j;
      double npp = pp[k] + dt * (pv[k] + vp[k]) + dt2 * vv[k];
      double npv = pv[k] + dt * vv[k];
      double nvp = vp[k] + dt * vv[k];
      if (i == j) {
        npp += q * dt2 * dt / 3.0;
        npv += q * dt2 / 2.0;
        nvp += q * dt2 / 2.0;
      }
      P[i * 6 + j] = npp;
      P[i * 6 + 3 + j] = npv;
      P[(3 + i) * 6 + j] = nvp;
      P[(3 + i) * 6 + 3 + j] = vv[k] + (i == j ? q * dt : 0);
    }
}

/* Coordinated turn at horizontal acceleration a_turn (m/s^2; > 0 to the
 * right, heading increasing): the horizontal velocity turns at
 * w = a_turn / |v_h| (w held fixed over the step for the Jacobian), the
 * vertical is constant velocity; white acceleration q_accel^2 on top. */
static void rf__predict_turn(double a_turn, double q_accel, double dt, double x[6], double P[36]) {
  if (!(dt > 0)) return;
  double vh = hypot(x[3], x[4]);
  if (!(vh > 1.0)) {
    rf_track_predict(RF_TRACK_MODEL_CV, NULL, q_accel, dt, x, P);
    return;
  }
  double w = a_turn / vh, c = cos(w * dt), sn = sin(w * dt), a = sn / w, b = (1 - c) / w;
  /* F by rows, at most three non-zeros each: (column, value). */
  static const int col[6][3] = {{0, 3, 4}, {1, 3, 4}, {2, 5, 5}, {3, 4, 4}, {3, 4, 4}, {5, 5, 5}};
  const double val[6][3] = {{1, a, b}, {1, -b, a}, {1, dt, 0}, {c, sn, 0}, {-sn, c, 0}, {1, 0, 0}};
  double xn[6], FP[36], q = q_accel * q_accel, dt2 = dt * dt;
  for (int i = 0; i < 6; i++) {
    xn[i] = 0;
    for (int k = 0; k < 3; k++) xn[i] += val[i][k] * x[col[i][k]];
    for (int j = 0; j < 6; j++) {
      double v = 0;
      for (int k = 0; k < 3; k++) v += val[i][k] * P[col[i][k] * 6 + j];
      FP[i * 6 + j] = v;
    }
  }
  memcpy(x, xn, sizeof xn);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j <= i; j++) {
      double v = 0;
      for (int k = 0; k < 3; k++) v += FP[i * 6 + col[j][k]] * val[j][k];
      P[i * 6 + j] = P[j * 6 + i] = v;
    }
  for (int i = 0; i < 3; i++) {
    P[i * 6 + i] += q * dt2 * dt / 3.0;
    P[i * 6 + 3 + i] += q * dt2 / 2.0;
    P[(3 + i) * 6 + i] += q * dt2 / 2.0;
    P[(3 + i) * 6 + 3 + i] += q * dt;
  }
}

/* ---- time to go, impact ------------------------------------------------------------ */
double rf_track_time_to_go_cv(const double x[6], const double *P) {
  double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  if (!(r > 0)) return 0;
  double d[3] = {x[0] / r, x[1] / r, x[2] / r};
  double rdot = d[0] * x[3] + d[1] * x[4] + d[2] * x[5];
  if (!(rdot < 0)) return NAN;
  double v2 = x[3] * x[3] + x[4] * x[4] + x[5] * x[5], vt2 = v2 - rdot * rdot;
  if (P) {
    double tr = P[21] + P[28] + P[35], dpd = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) dpd += d[i] * P[(3 + i) * 6 + 3 + j] * d[j];
    vt2 -= tr - dpd;
  }
  if (vt2 < 0) vt2 = 0;
  return -r * rdot / (rdot * rdot + vt2);
}

/* Height of an ENU point above the impact surface. */
static double rf__height(const rf_track_gravity *g, const rf_geo_site *site, const double p[3]) {
  if (g->earth == RF_TRACK_EARTH_FLAT) return p[2] + site->alt_m;
  double lat, lon, alt;
  rf_geo_enu_to_geodetic(site, p, &lat, &lon, &alt);
  return alt;
}

void rf_track_ballistic_future(const rf_track_gravity *g, const rf_geo_site *site, const double x0[6],
                               double *t_go, double *t_impact, double impact_enu[3]) {
  double x[6], prev[6];
  memcpy(x, x0, sizeof x);
  *t_go = NAN;
  *t_impact = NAN;
  impact_enu[0] = impact_enu[1] = impact_enu[2] = NAN;
  double r0 = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  double rdot0 = r0 > 0 ? (x[0] * x[3] + x[1] * x[4] + x[2] * x[5]) / r0 : 0;
  int closing = rdot0 < 0, have_go = !closing;
  double h_prev = rf__height(g, site, x), r_prev = r0, r_prev2 = r0, t = 0;
  if (h_prev < 0) return;
  const double h = RF__BALLISTIC_STEP_S;
  while (t < RF__BALLISTIC_HORIZON_S) {
    memcpy(prev, x, sizeof prev);
    rf__ballistic_step(g, x, h);
    t += h;
    double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    double hh = rf__height(g, site, x);
    if (!have_go && r > r_prev) {
      /* Range minimum between t - 2h and t: parabola through the samples. */
      double den = r_prev2 - 2 * r_prev + r, off = den > 0 ? 0.5 * (r_prev2 - r) / den : 0;
      *t_go = t - h + off * h;
      have_go = 1;
    }
    if (hh <= 0) {
      /* Impact inside this step: the height's root by secant steps on the
       * trajectory itself (re-integrated from the step's start). */
      double a = 0, b = h, ha = h_prev, hb = hh, f = h * h_prev / (h_prev - hh), xf[6];
      for (int it = 0; it < 8; it++) {
        memcpy(xf, prev, sizeof xf);
        rf__ballistic_step(g, xf, f);
        double hf = rf__height(g, site, xf);
        if (fabs(hf) < 1e-3) break;
        if (hf > 0) a = f, ha = hf;
        else b = f, hb = hf;
        f = a + (b - a) * ha / (ha - hb);
      }
      memcpy(xf, prev, sizeof xf);
      rf__ballistic_step(g, xf, f);
      *t_impact = t - h + f;
      for (int i = 0; i < 3; i++) impact_enu[i] = xf[i];
      if (!have_go) *t_go = *t_impact;
      return;
    }
    h_prev = hh;
    r_prev2 = r_prev;
    r_prev = r;
  }
}

/* ---- sensors ---------------------------------------------------------------------- */
void rf_track_sensor_from_meta(rf_track_sensor *s, const rf_capture_meta *m, const rf_config *cfg) {
  memset(s, 0, sizeof *s);
  double lambda = RF_C_MPS / m->center_frequency_hz;
  size_t K = rf_pipeline_bins(cfg, m->dwells ? (size_t)m->num_pulses[0] : 1);
  s->velocity_interval_mps = lambda / (2.0 * m->pri_s);
  s->range_cell_m = RF_C_MPS / (2.0 * m->sample_rate_hz);
  s->doppler_cell_mps = lambda / (2.0 * (double)(K ? K : 1) * m->pri_s);
  double az0 = m->dwells ? m->azimuth_deg[0] : 0, el0 = m->dwells ? m->elevation_deg[0] : 0;
  s->beamwidth_az_deg = rf_beamwidth_deg((const double(*)[3])m->element_position_m, m->channels, lambda,
                                         az0, el0, 0, cfg->array_taper, cfg->taylor_sll_db,
                                         cfg->taylor_nbar);
  s->beamwidth_el_deg = rf_beamwidth_deg((const double(*)[3])m->element_position_m, m->channels, lambda,
                                         az0, el0, 1, cfg->array_taper, cfg->taylor_sll_db,
                                         cfg->taylor_nbar);
  if (!(s->beamwidth_az_deg > 0)) s->beamwidth_az_deg = cfg->trk_bw_az;
  /* Receive fan (docs/pipeline.md step 3, host/fan.c): the span of
   * directions it supports at the first dwell. */
  rf_fan_config fc;
  rf_fan_extent fx;
  rf_engine_fan_config(m, cfg, &fc);
  rf_fan_extent_at(&fc, 0, &fx);
  s->coverage_az_deg = fx.half_az_deg;
  s->coverage_el_deg = s->beamwidth_el_deg > 0 ? fx.half_el_deg : 0;
  s->dwells = m->dwells;
  s->dwell_azimuth_deg = m->azimuth_deg;
  s->dwell_elevation_deg = m->elevation_deg;
  s->dwell_time_s = NULL; /* the caller's, from rf_track_dwell_mid_times */
  s->site_latitude_deg = m->site_latitude_deg;
  s->site_longitude_deg = m->site_longitude_deg;
  s->site_altitude_m = m->site_altitude_m;
}

void rf_track_dwell_mid_times(const rf_capture_meta *m, double *out) {
  for (size_t d = 0; d < m->dwells; d++) {
    size_t a = (size_t)m->first_pulse[d], b = a + (size_t)m->num_pulses[d] - 1;
    out[d] = 0.5 * (m->pulse_time_s[a] + m->pulse_time_s[b]);
  }
}

int rf_track_sensor_from_info(rf_track_sensor *s, const rf_product_info *info, unsigned present,
                              const rf_config *cfg, const char *path) {
  /* Each value the tracker needs: the file's bit, its setting, and where
   * both go. */
  static const struct {
    unsigned bit;
    const char *sec, *key, *what;
  } need[] = {
      {RF_TRACK_HAS_SITE, "site", "latitude_deg", "site_latitude_deg"},
      {RF_TRACK_HAS_SITE, "site", "longitude_deg", "site_longitude_deg"},
      {RF_TRACK_HAS_SITE, "site", "altitude_m", "site_altitude_m"},
      {RF_TRACK_HAS_VELOCITY_INTERVAL, "tracker", "velocity_interval_mps", "radial_velocity_interval_mps"},
      {RF_TRACK_HAS_RANGE_CELL, "tracker", "range_cell_m", "range_cell_m"},
      {RF_TRACK_HAS_DOPPLER_CELL, "tracker", "doppler_cell_mps", "doppler_cell_mps"},
      {RF_TRACK_HAS_BEAMWIDTH_AZ, "tracker", "beamwidth_az_deg", "beamwidth_az_deg"},
      {RF_TRACK_HAS_BEAMWIDTH_EL, "tracker", "beamwidth_el_deg", "beamwidth_el_deg"},
  };
  double *dst[] = {&s->site_latitude_deg, &s->site_longitude_deg, &s->site_altitude_m,
                   &s->velocity_interval_mps, &s->range_cell_m, &s->doppler_cell_mps,
                   &s->beamwidth_az_deg, &s->beamwidth_el_deg};
  const double from_cfg[] = {cfg->site_lat, cfg->site_lon, cfg->site_alt, cfg->trk_vel_interval,
                             cfg->trk_range_cell, cfg->trk_doppler_cell, cfg->trk_bw_az, cfg->trk_bw_el};
  char missing[600] = "";
  size_t ml = 0;
  memset(s, 0, sizeof *s);
  if (!info) present = 0;
  const double from_file[] = {info ? info->site_latitude_deg : 0, info ? info->site_longitude_deg : 0,
                              info ? info->site_altitude_m : 0, info ? info->radial_velocity_interval_mps : 0,
                              info ? info->range_cell_m : 0, info ? info->doppler_cell_mps : 0,
                              info ? info->beamwidth_az_deg : 0, info ? info->beamwidth_el_deg : 0};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (present & need[i].bit) *dst[i] = from_file[i];
    else if (rf_config_given(cfg, need[i].sec, need[i].key)) *dst[i] = from_cfg[i];
    else if (ml < sizeof missing - 1) {
      int w = snprintf(missing + ml, sizeof missing - ml, "%s%s (--set %s.%s=...)", ml ? ", " : "",
                       need[i].what, need[i].sec, need[i].key);
      if (w > 0) ml += (size_t)w < sizeof missing - ml ? (size_t)w : sizeof missing - ml - 1;
    }
  }
  if (ml)
    return rf__err(RF_EFORMAT, "%s: the plot file does not describe the sensor: missing %s", path,
                   missing);
  if (info) {
    s->coverage_az_deg = info->coverage_az_deg;
    s->coverage_el_deg = info->coverage_el_deg;
    s->dwells = info->dwells;
    s->dwell_time_s = info->dwell_time_s;
    s->dwell_azimuth_deg = info->dwell_azimuth_deg;
    s->dwell_elevation_deg = info->dwell_elevation_deg;
  }
  return 0;
}

void rf_track_sensor_to_info(const rf_track_sensor *s, rf_product_info *info) {
  info->radial_velocity_interval_mps = s->velocity_interval_mps;
  info->range_cell_m = s->range_cell_m;
  info->doppler_cell_mps = s->doppler_cell_mps;
  info->beamwidth_az_deg = s->beamwidth_az_deg;
  info->beamwidth_el_deg = s->beamwidth_el_deg;
  info->coverage_az_deg = s->coverage_az_deg;
  info->coverage_el_deg = s->coverage_el_deg;
  info->dwells = s->dwell_time_s ? s->dwells : 0;
  info->dwell_time_s = s->dwell_time_s;
  info->dwell_azimuth_deg = s->dwell_azimuth_deg;
  info->dwell_elevation_deg = s->dwell_elevation_deg;
}

/* ---- the tracker object ------------------------------------------------------------ */
void rf_tracker_destroy(rf_tracker *t) {
  if (!t) return;
  if (t->job_init) {
    pthread_cond_destroy(&t->job_cv);
    pthread_mutex_destroy(&t->job_mu);
  }
  rf__free(t->trk);
  rf__free(t->win);
  rf__free(t->pred);
  rf__free(t->pso);
  rf__free(t->meas);
  rf__free(t->order);
  rf__free(t->order_r);
  rf__free(t->stat);
  rf__free(t->plot_pred);
  rf__free(t->plot_gated);
  rf__free(t->pairs);
  rf__free(t->uf);
  rf__free(t->head);
  rf__free(t->bin_start);
  rf__free(t->loc_pred);
  rf__free(t->loc_plot);
  rf__free(t->comp_pred);
  rf__free(t->comp_plot);
  rf__free(t->r2c);
  rf__free(t->dense);
  rf_assign_destroy(t->as);
  rf__free(t);
}

int rf_tracker_create(rf_tracker **out, const rf_config *cfg, const rf_track_sensor *s,
                      size_t max_tracks, size_t max_plots) {
  *out = NULL;
  if (!cfg || !s) return rf__err(RF_EINVAL, "tracker: bad arguments");
  if (!(s->range_cell_m > 0) || !(s->doppler_cell_mps > 0) || !(s->beamwidth_az_deg > 0) ||
      !(s->beamwidth_el_deg >= 0) || !(s->velocity_interval_mps >= 0))
    return rf__err(RF_EINVAL, "tracker: sensor cells and beamwidths must be > 0 (elevation >= 0)");
  if (cfg->trk_confirm_m > cfg->trk_confirm_n)
    return rf__err(RF_EINVAL, "tracker: confirm_m (%d) must not exceed confirm_n (%d)",
                   cfg->trk_confirm_m, cfg->trk_confirm_n);
  size_t cap = (size_t)cfg->trk_max_tracks;
  if (max_tracks > 0 && max_tracks < cap) cap = max_tracks;
  if (max_plots < 1) max_plots = 1;
  if (cap > (size_t)INT32_MAX / 4 || max_plots > (size_t)INT32_MAX / 4)
    return rf__err(RF_EINVAL, "tracker: capacity too large");
  rf_tracker *t = rf__calloc(1, sizeof *t);
  if (!t) return rf__err(RF_ENOMEM, "tracker: out of memory");
  t->cfg = *cfg;
  t->s = *s;
  rf_geo_site_init(&t->site, s->site_latitude_deg, s->site_longitude_deg, s->site_altitude_m);
  rf_track_gravity_init(&t->grav, cfg->trk_earth, &t->site);
  t->bal = -1;
  if (cfg->trk_model == RF_TRACK_MODEL_IMM) {
    t->nmod = 4;
    for (int m = 0; m < 4; m++) t->kinds[m] = m;
    t->bal = RF__K_BALLISTIC;
  } else {
    t->nmod = 1;
    t->kinds[0] = cfg->trk_model == RF_TRACK_MODEL_BALLISTIC ? RF__K_BALLISTIC : RF__K_CV;
  }
  for (int m = 0; m < t->nmod; m++) {
    t->modes[m] = t->kinds[m] == RF__K_CV          ? RF_TRACK_MODE_CV
                  : t->kinds[m] == RF__K_BALLISTIC ? RF_TRACK_MODE_BALLISTIC
                                                   : RF_TRACK_MODE_MANOEUVRE;
    t->q[m] = t->kinds[m] == RF__K_BALLISTIC ? cfg->trk_ballistic_accel : cfg->trk_accel;
  }
  t->gate3 = rf_chi2_quantile(3, cfg->trk_gate_pg);
  t->gate4 = rf_chi2_quantile(4, cfg->trk_gate_pg);
  t->turn_on3 = rf_chi2_quantile(3, RF__TURN_ON_P);
  t->turn_on4 = rf_chi2_quantile(4, RF__TURN_ON_P);
  const double fa = RF__TURN_FADE, dof = (1 + fa) / (1 - fa);
  t->fade_on3 = rf_chi2_quantile((int)lround(3 * dof), RF__TURN_ON_P) / (1 + fa);
  t->fade_on4 = rf_chi2_quantile((int)lround(4 * dof), RF__TURN_ON_P) / (1 + fa);
  t->max_speed = cfg->trk_max_speed;
  t->cap_tracks = cap;
  t->cap_plots = max_plots;
  t->cap_pairs = 16 * (cap + max_plots);
  t->next_id = 1;
  size_t nodes = cap + max_plots;
  t->trk = rf__malloc(cap * sizeof *t->trk);
  t->pred = rf__malloc(cap * sizeof *t->pred);
  t->pso = rf__malloc(cap * sizeof *t->pso);
  t->meas = rf__malloc(max_plots * sizeof *t->meas);
  t->order = rf__malloc(max_plots * sizeof *t->order);
  t->order_r = rf__malloc(max_plots * sizeof *t->order_r);
  t->stat = rf__calloc(cap, sizeof *t->stat);
  t->plot_pred = rf__malloc(max_plots * sizeof *t->plot_pred);
  t->plot_gated = rf__malloc(max_plots * sizeof *t->plot_gated);
  t->pairs = rf__malloc(t->cap_pairs * sizeof *t->pairs);
  t->uf = rf__malloc(nodes * sizeof *t->uf);
  t->head = rf__malloc(nodes * sizeof *t->head);
  t->bin_start = rf__malloc((max_plots + 1) * sizeof *t->bin_start);
  t->win = t->bal >= 0 || t->kinds[0] == RF__K_BALLISTIC ? rf__calloc(RF__BATCH_TRACKS, sizeof *t->win)
                                                                  : rf__calloc(1, sizeof *t->win);
  t->loc_pred = rf__malloc(cap * sizeof *t->loc_pred);
  t->loc_plot = rf__malloc(max_plots * sizeof *t->loc_plot);
  t->comp_pred = rf__malloc(cap * sizeof *t->comp_pred);
  t->comp_plot = rf__malloc(max_plots * sizeof *t->comp_plot);
  t->r2c = rf__malloc(RF__COMP_ROWS * sizeof *t->r2c);
  t->dense = rf__malloc((size_t)RF__COMP_ROWS * (RF__COMP_PLOTS + RF__COMP_ROWS) * sizeof *t->dense);
  if (!t->trk || !t->pred || !t->pso || !t->meas || !t->order || !t->order_r || !t->stat || !t->plot_pred || !t->plot_gated || !t->pairs ||
      !t->uf || !t->head || !t->bin_start || !t->win || !t->loc_pred || !t->loc_plot || !t->comp_pred || !t->comp_plot || !t->r2c || !t->dense) {
    rf_tracker_destroy(t);
    return rf__err(RF_ENOMEM, "tracker: out of memory (%zu tracks, %zu plots per dwell)", cap, max_plots);
  }
  int st = rf_assign_create(&t->as, RF__COMP_ROWS, RF__COMP_PLOTS + RF__COMP_ROWS);
  if (st) {
    rf_tracker_destroy(t);
    return st;
  }
  for (size_t i = 0; i < cap; i++) t->loc_pred[i] = -1;
  for (size_t i = 0; i < max_plots; i++) t->loc_plot[i] = -1;
  for (size_t i = 0; i < nodes; i++) t->head[i] = -1;
  *out = t;
  return 0;
}

size_t rf_tracker_max_rows(const rf_tracker *t) { return t->cap_tracks; }
size_t rf_tracker_live(const rf_tracker *t) { return t->ntrk; }

/* ---- per-track steps ----------------------------------------------------------------- */
/* Whether filter m of track k takes part now: in an IMM, constant velocity
 * always, the turns while k->turns, ballistic while the track is surely
 * fast (k->fast; never both). */
static int rf__on(const rf_tracker *t, const rf__track *k, int m) {
  if (t->nmod == 1) return 1;
  int kind = t->kinds[m];
  return kind == RF__K_CV ? 1 : kind == RF__K_BALLISTIC ? k->fast : k->turns;
}

/* Moves the turn modes' probability to constant velocity and takes them
 * out. */
static void rf__turns_off(const rf_tracker *t, rf__track *k) {
  int cv = 0;
  double p = 0;
  for (int m = 0; m < t->nmod; m++)
    if (t->kinds[m] == RF__K_LEFT || t->kinds[m] == RF__K_RIGHT) p += k->mu[m], k->mu[m] = 0;
    else if (t->kinds[m] == RF__K_CV) cv = m;
  k->mu[cv] += p;
  k->turns = 0;
}

/* Brings the turn modes in from the constant-velocity mode's estimate,
 * the three modes even (as a new track's were before the model set
 * followed the track). */
static void rf__turns_on(const rf_tracker *t, rf__track *k) {
  int cv = 0;
  for (int m = 0; m < t->nmod; m++)
    if (t->kinds[m] == RF__K_CV) cv = m;
  for (int m = 0; m < t->nmod; m++) {
    int kind = t->kinds[m];
    if (kind != RF__K_LEFT && kind != RF__K_RIGHT) continue;
    memcpy(k->x[m], k->x[cv], sizeof k->x[m]);
    memcpy(k->P[m], k->P[cv], sizeof k->P[m]);
  }
  double cvp = k->mu[cv];
  for (int m = 0; m < t->nmod; m++) {
    int kind = t->kinds[m];
    if (kind == RF__K_LEFT || kind == RF__K_RIGHT || kind == RF__K_CV) k->mu[m] = cvp / 3.0;
  }
  k->turns = 1;
}

/* The mean and covariance of a Gaussian mixture of n components with
 * weights w (0 for those not taking part): xm = sum w x, Pm = sum w (P +
 * (x - xm)(x - xm)'). */
static void rf__moments(int n, const double *w, const double (*x)[6], const double (*P)[36], double xm[6],
                        double Pm[36]) {
  for (int a = 0; a < 6; a++) xm[a] = 0;
  for (int a = 0; a < 36; a++) Pm[a] = 0;
  for (int i = 0; i < n; i++) {
    if (!(w[i] > 0)) continue;
    for (int a = 0; a < 6; a++) xm[a] += w[i] * x[i][a];
    for (int a = 0; a < 36; a++) Pm[a] += w[i] * P[i][a];
  }
  for (int i = 0; i < n; i++) {
    if (!(w[i] > 0)) continue;
    double d[6], wd[6];
    for (int a = 0; a < 6; a++) d[a] = x[i][a] - xm[a], wd[a] = w[i] * d[a];
    for (int a = 0; a < 6; a++)
      for (int b = 0; b < 6; b++) Pm[a * 6 + b] += wd[a] * d[b];
  }
}

/* The combined estimate (modes not taking part are left as they are:
 * they restart from the combined estimate when they join). */
static void rf__combine(const rf_tracker *t, rf__track *k) {
  double w[RF__NMOD_MAX];
  int non = 0, last = 0;
  for (int m = 0; m < t->nmod; m++) {
    int on = rf__on(t, k, m);
    w[m] = on ? k->mu[m] : 0;
    if (on) non++, last = m;
  }
  if (non == 1) {
    memcpy(k->xc, k->x[last], sizeof k->xc);
    memcpy(k->Pc, k->P[last], sizeof k->Pc);
    return;
  }
  rf__moments(t->nmod, w, (const double(*)[6])k->x, (const double(*)[36])k->P, k->xc, k->Pc);
}

/* Switches the ballistic mode on while the track is surely (2 sigma) faster
 * than the ballistic minimum speed and off otherwise: for slower objects
 * gravity is not observable and its model would only pull them down. On:
 * it starts at probability 1/2 from the combined estimate; off: the others
 * share its probability. */
static void rf__win_release(rf_tracker *t, rf__track *k);
static void rf__ballistic_gate(rf_tracker *t, rf__track *k) {
  if (t->bal < 0) return;
  double sp = sqrt(k->xc[3] * k->xc[3] + k->xc[4] * k->xc[4] + k->xc[5] * k->xc[5]), vpv = 0;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) vpv += k->xc[3 + a] * k->Pc[(3 + a) * 6 + 3 + b] * k->xc[3 + b];
  double ssp = sp > 0 ? sqrt(vpv) / sp : INFINITY;
  int fast = sp - 2.0 * ssp > t->cfg.trk_ballistic_min_speed;
  if (fast == k->fast) return;
  /* No aircraft flies surely faster than the ballistic minimum speed
   * (1000 m/s by default, Mach 3): the coordinated turns leave. */
  if (fast && k->turns) rf__turns_off(t, k);
  double rest = 1.0 - k->mu[t->bal], scale = fast ? 0.5 / (rest > 0 ? rest : 1) : 1.0 / (rest > 0 ? rest : 1);
  for (int m = 0; m < t->nmod; m++) k->mu[m] = m == t->bal ? (fast ? 0.5 : 0.0) : k->mu[m] * scale;
  if (fast) {
    memcpy(k->x[t->bal], k->xc, sizeof k->xc);
    memcpy(k->P[t->bal], k->Pc, sizeof k->Pc);
  } else {
    rf__win_release(t, k);
  }
  k->fast = fast;
}

/* IMM mixing and prediction of every mode taking part to time `now`. The
 * mode stays with probability 1 - imm_switch_prob and switches to each of
 * the other n - 1 taking part with imm_switch_prob / (n - 1). */
static void rf__predict_track(rf_tracker *t, rf__track *k, double now) {
  double dt = now - k->t;
  if (t->nmod > 1) {
    rf__ballistic_gate(t, k);
    int on[RF__NMOD_MAX], non = 0;
    for (int m = 0; m < t->nmod; m++) non += on[m] = rf__on(t, k, m);
    if (non == 1) goto predict; /* nothing to mix */
    double sw = non > 1 ? t->cfg.trk_imm_switch / (non - 1) : 0, stay = non > 1 ? 1.0 - t->cfg.trk_imm_switch : 1;
    double c[RF__NMOD_MAX] = {0}, x0[RF__NMOD_MAX][6], P0[RF__NMOD_MAX][36];
    for (int j = 0; j < t->nmod; j++)
      for (int i = 0; i < t->nmod; i++)
        if (on[i] && on[j]) c[j] += (i == j ? stay : sw) * k->mu[i];
    for (int j = 0; j < t->nmod; j++) {
      if (!on[j]) continue;
      double w[RF__NMOD_MAX];
      for (int i = 0; i < t->nmod; i++)
        w[i] = !on[i] ? 0 : c[j] > 0 ? (i == j ? stay : sw) * k->mu[i] / c[j] : (i == j);
      rf__moments(t->nmod, w, (const double(*)[6])k->x, (const double(*)[36])k->P, x0[j], P0[j]);
    }
    for (int j = 0; j < t->nmod; j++) {
      if (!on[j]) continue;
      memcpy(k->x[j], x0[j], sizeof x0[j]);
      memcpy(k->P[j], P0[j], sizeof P0[j]);
      k->mu[j] = c[j];
    }
  }
predict:
  for (int m = 0; m < t->nmod; m++) {
    if (t->nmod > 1 && !rf__on(t, k, m)) continue;
    int kind = t->kinds[m];
    if (kind == RF__K_LEFT || kind == RF__K_RIGHT)
      rf__predict_turn(kind == RF__K_RIGHT ? t->cfg.trk_manoeuvre_accel : -t->cfg.trk_manoeuvre_accel, t->q[m], dt,
                       k->x[m], k->P[m]);
    else
      rf_track_predict(kind == RF__K_BALLISTIC ? RF_TRACK_MODEL_BALLISTIC : RF_TRACK_MODEL_CV, &t->grav, t->q[m], dt,
                       k->x[m], k->P[m]);
  }
  k->t = now;
  rf__combine(t, k);
}

/* ---- ballistic batch refinement ---------------------------------------------------- */
/* A state propagated by the ballistic model over dt (either sign). */
static void rf__propagate(const rf_track_gravity *g, double x[6], double dt) {
  int n = (int)ceil(fabs(dt) / 10.0);
  for (int i = 0; i < n; i++) rf__ballistic_step(g, x, dt / n);
}

static void rf__win_release(rf_tracker *t, rf__track *k) {
  if (k->win >= 0) t->win[k->win].id = 0;
  k->win = -1;
}

/* A ballistic track without a window claims a free one (before the
 * updates, which run in parallel); without a free window the track stays
 * with the filter alone. */
static void rf__win_claim(rf_tracker *t, rf__track *k) {
  int b = t->nmod == 1 ? (t->kinds[0] == RF__K_BALLISTIC) : k->fast;
  if (!b || k->win >= 0) return;
  for (int i = 0; i < RF__BATCH_TRACKS; i++)
    if (t->win[i].id == 0) {
      k->win = i;
      t->win[i].id = k->id, t->win[i].n = 0, t->win[i].head = 0, t->win[i].since = 0, t->win[i].fitted = 0;
      return;
    }
}

/* Keeps plot m (at time, used with dims) in track k's window. */
static void rf__win_push(rf_tracker *t, rf__track *k, double time, const rf_track_meas *m, int dims) {
  if (k->win < 0) return;
  rf__bwin *w = &t->win[k->win];
  int slot = (w->head + w->n) % RF__BATCH_PLOTS;
  if (w->n == RF__BATCH_PLOTS) w->head = (w->head + 1) % RF__BATCH_PLOTS;
  else w->n++;
  w->t[slot] = time, w->m[slot] = *m, w->dims[slot] = (int8_t)dims;
  w->since++;
}

/* Weighted residuals of the window against the trajectory through x at
 * `now`: the cost sum r' W r and, when J is wanted, the normal equations
 * (A = J' W J, b = J' W r), J from forward differences of the propagated
 * state (steps of 1 m, 1 mm/s). all_doppler: every plot's radial velocity
 * (wrapped into the interval about the trajectory's), not only those the
 * filter used. */
static double rf__batch_pass(const rf_tracker *t, const rf__bwin *w, double now, const double x[6], int want,
                             double A[36], double b[6], int all_doppler) {
  static const double step[6] = {1, 1, 1, 1e-3, 1e-3, 1e-3};
  double y[7][6], tc = now, cost = 0;
  int ny = want ? 7 : 1;
  for (int j = 0; j < ny; j++) {
    memcpy(y[j], x, sizeof y[j]);
    if (j) y[j][j - 1] += step[j - 1];
  }
  if (want) memset(A, 0, 36 * sizeof *A), memset(b, 0, 6 * sizeof *b);
  for (int q = w->n - 1; q >= 0; q--) {
    int i = (w->head + q) % RF__BATCH_PLOTS;
    for (int j = 0; j < ny; j++) rf__propagate(&t->grav, y[j], w->t[i] - tc);
    tc = w->t[i];
    const rf_track_meas *m = &w->m[i];
    int dims = all_doppler ? 4 : w->dims[i];
    double zp[4], H[24], r[4] = {0};
    rf__h_jac(y[0], zp, H);
    for (int c = 0; c < dims; c++) r[c] = m->z[c] - zp[c];
    r[1] = rf_wrap(r[1], 180.0);
    if (dims == 4 && t->s.velocity_interval_mps > 0) r[3] = rf_wrap(r[3], 0.5 * t->s.velocity_interval_mps);
    for (int c = 0; c < dims; c++) cost += r[c] * r[c] / (m->sigma[c] * m->sigma[c]);
    if (!want) continue;
    /* J rows: H times the state transition (columns by differences). */
    double Phi[36], J[24];
    for (int a = 0; a < 6; a++)
      for (int c = 0; c < 6; c++) Phi[a * 6 + c] = (y[c + 1][a] - y[0][a]) / step[c];
    for (int c = 0; c < dims; c++)
      for (int col = 0; col < 6; col++) {
        double v = 0;
        for (int a = 0; a < 6; a++) v += H[c * 6 + a] * Phi[a * 6 + col];
        J[c * 6 + col] = v;
      }
    for (int c = 0; c < dims; c++) {
      double wgt = 1.0 / (m->sigma[c] * m->sigma[c]);
      for (int a = 0; a < 6; a++) {
        b[a] += J[c * 6 + a] * wgt * r[c];
        for (int e = 0; e < 6; e++) A[a * 6 + e] += J[c * 6 + a] * wgt * J[c * 6 + e];
      }
    }
  }
  return cost;
}

/* Gauss-Newton (with step halving) fit of the state at `now` to the
 * window under the ballistic model, from x; on success x and P (the fit's
 * covariance, (J' W J)^-1) and 0; -1 when it does not converge or the fit
 * is not consistent with the plots' sigmas (cost above 3 per degree of
 * freedom: not a ballistic object, a wrong plot or a wrong alias). */
static int rf__batch_fit(const rf_tracker *t, const rf__bwin *w, double now, double x[6], double P[36], int alld) {
  double A[36], b[6], L[36], xt[6], cost = rf__batch_pass(t, w, now, x, 1, A, b, alld);
  int ncomp = 0, ok = 0;
  for (int q = 0; q < w->n; q++) ncomp += alld ? 4 : w->dims[(w->head + q) % RF__BATCH_PLOTS];
  for (int it = 0; it < RF__BATCH_ITERS && !ok; it++) {
    if (rf__chol(A, 6, L) < 0) return -1;
    double d[6];
    memcpy(d, b, sizeof d);
    rf__chol_solve(L, 6, d);
    double f = 1.0, c2 = INFINITY;
    for (int h = 0; h < 6; h++, f *= 0.5) {
      for (int a = 0; a < 6; a++) xt[a] = x[a] + f * d[a];
      if ((c2 = rf__batch_pass(t, w, now, xt, 0, NULL, NULL, alld)) <= cost) break;
    }
    if (!(c2 <= cost)) break;
    memcpy(x, xt, sizeof xt);
    ok = f * sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) < 0.1 &&
         f * sqrt(d[3] * d[3] + d[4] * d[4] + d[5] * d[5]) < 1e-4;
    cost = rf__batch_pass(t, w, now, x, 1, A, b, alld);
  }
  if (!(cost <= 3.0 * (ncomp - 6)) || rf__chol(A, 6, L) < 0) return -1;
  /* P = A^-1, column by column. */
  for (int c = 0; c < 6; c++) {
    double e[6] = {0};
    e[c] = 1;
    rf__chol_solve(L, 6, e);
    for (int a = 0; a < 6; a++) P[a * 6 + c] = e[a];
  }
  rf__symmetrize(P);
  return 0;
}

/* Updates every mode taking part with the plot's measurement; IMM
 * probabilities from the modes' likelihoods. */
/* zH: rf__pred's, when its single mode is the one updated, else NULL. */
/* so: the prediction's second-order terms (of xc, Pc). */
static void rf__update_track(rf_tracker *t, rf__track *k, const rf_track_meas *m, int dims, const double *zH,
                             const rf__so *so) {
  double logl[RF__NMOD_MAX], best = -INFINITY, curv[2], nis_cv = 0;
  int non = 0;
  /* One set of curvature terms for every mode, from the combined estimate
   * (the modes differ by far less than the plot's cross-range). */
  rf__update_curvature(k->xc, so, m, &curv[0], &curv[1]);
  for (int j = 0; j < t->nmod; j++) {
    logl[j] = -INFINITY;
    if (t->nmod > 1 && !rf__on(t, k, j)) continue;
    non++;
    double nis = 0, ld = 0;
    /* dims as a constant: the compiler specialises the small loops. */
    double iv = t->s.velocity_interval_mps;
    if ((dims == 4 ? rf__update(m, 4, iv, k->x[j], k->P[j], &nis, &ld, RF__TRACKER_ITERS, curv, zH)
                   : rf__update(m, 3, iv, k->x[j], k->P[j], &nis, &ld, RF__TRACKER_ITERS, curv, zH)) < 0)
      continue;
    logl[j] = -0.5 * (nis + ld);
    if (logl[j] > best) best = logl[j];
    if (t->kinds[j] == RF__K_CV) nis_cv = nis;
  }
  if (non > 1 && isfinite(best)) {
    double sum = 0;
    for (int j = 0; j < t->nmod; j++) sum += k->mu[j] *= isfinite(logl[j]) ? exp(logl[j] - best) : 0.0;
    if (sum > 0)
      for (int j = 0; j < t->nmod; j++) k->mu[j] /= sum;
    /* Keep every mode taking part alive so the IMM can switch back. */
    sum = 0;
    for (int j = 0; j < t->nmod; j++) {
      if (rf__on(t, k, j) && k->mu[j] < 1e-6) k->mu[j] = 1e-6;
      sum += k->mu[j];
    }
    for (int j = 0; j < t->nmod; j++) k->mu[j] /= sum;
  }
  /* The turn modes follow the track (RF__TURN_ON_P, RF__TURN_OFF). */
  if (t->nmod > 1 && !k->fast) {
    double man = 0;
    for (int j = 0; j < t->nmod; j++)
      if (t->kinds[j] == RF__K_LEFT || t->kinds[j] == RF__K_RIGHT) man += k->mu[j];
    k->nis_fade = RF__TURN_FADE * k->nis_fade + nis_cv;
    if (k->turns) {
      k->turn_age++;
      if (man < RF__TURN_OFF ||
          (man < RF__TURN_CALM_P && k->turn_age >= RF__TURN_CALM && k->nis_fade < dims / (1.0 - RF__TURN_FADE))) {
        rf__turns_off(t, k);
        k->nis_fade = 0;
      }
    } else if (nis_cv > (dims == 4 ? t->turn_on4 : t->turn_on3) ||
               k->nis_fade > (dims == 4 ? t->fade_on4 : t->fade_on3)) {
      rf__turns_on(t, k);
      k->nis_fade = 0;
      k->turn_age = 0;
    }
  }
  /* A ballistic object: its ballistic estimate refitted to its recent
   * plots at once (Gauss-Newton on the trajectory), which the one-pass
   * filter, linearised about a state tens of km off across the beam, cannot
   * match. */
  int b = t->nmod == 1 ? (t->kinds[0] == RF__K_BALLISTIC ? 0 : -1) : (k->fast ? t->bal : -1);
  if (b >= 0) {
    rf__win_push(t, k, k->t, m, dims);
    rf__bwin *w = k->win >= 0 ? &t->win[k->win] : NULL;
    int due = w && w->n >= RF__BATCH_MIN &&
              (!w->fitted || (w->since >= RF__BATCH_EVERY && (t->nmod == 1 || k->mu[b] > 0.5)));
    if (due) {
      w->since = 0;
      double x[6], P[36];
      memcpy(x, k->x[b], sizeof x);
      /* First on the measurements the filter used; then, from that fit,
       * with every plot's radial velocity (the fitted trajectory now picks
       * each ambiguous Doppler's alias; kept only if consistent). */
      if (rf__batch_fit(t, &t->win[k->win], k->t, x, P, 0) == 0) {
        double x2[6], P2[36];
        memcpy(x2, x, sizeof x2);
        if (rf__batch_fit(t, &t->win[k->win], k->t, x2, P2, 1) == 0) memcpy(x, x2, sizeof x2), memcpy(P, P2, sizeof P2);
        memcpy(k->x[b], x, sizeof x);
        memcpy(k->P[b], P, sizeof P);
        w->fitted = 1;
      }
    }
  }
  rf__combine(t, k);
}

static int rf__is_ballistic(const rf_tracker *t, const rf__track *k) {
  if (t->nmod == 1) return t->kinds[0] == RF__K_BALLISTIC;
  return k->fast && k->mu[t->bal] > 0.5;
}

/* The columns that follow from a row's own state and the site: range,
 * angles, radial velocity and the geodetic position. */
static void rf__derive_row(const rf_geo_site *site, rf_track_row *r) {
  const double x[6] = {r->east_m, r->north_m, r->up_m, r->v_east_mps, r->v_north_mps, r->v_up_mps};
  double z[4];
  rf_track_h(x, z);
  r->range_m = z[0], r->azimuth_deg = z[1], r->elevation_deg = z[2], r->radial_velocity_mps = z[3];
  rf_geo_enu_to_geodetic(site, x, &r->latitude_deg, &r->longitude_deg, &r->altitude_m);
}

void rf_tracker_derive_rows(const rf_tracker *t, rf_track_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) rf__derive_row(&t->site, &rows[i]);
}

void rf_tracker_defer_derived(rf_tracker *t, int on) { t->defer = on != 0; }

static void rf__fill_row(const rf_tracker *t, const rf__track *k, rf_track_row *r) {
  const double *x = k->xc;
  r->time_s = k->t;
  r->track_id = k->id;
  r->status = k->status;
  r->east_m = x[0], r->north_m = x[1], r->up_m = x[2];
  r->v_east_mps = x[3], r->v_north_mps = x[4], r->v_up_mps = x[5];
  if (!t->defer) rf__derive_row(&t->site, r);
  r->pos_sigma_m = sqrt(k->Pc[0] + k->Pc[7] + k->Pc[14]);
  r->plots = k->plots;
  double mu[RF_TRACK_MODES] = {0};
  for (int m = 0; m < t->nmod; m++) mu[t->modes[m]] += t->nmod == 1 ? 1.0 : k->mu[m];
  r->imm_cv_prob = mu[RF_TRACK_MODE_CV];
  r->imm_manoeuvre_prob = mu[RF_TRACK_MODE_MANOEUVRE];
  r->imm_ballistic_prob = mu[RF_TRACK_MODE_BALLISTIC];
  r->impact_time_s = r->impact_latitude_deg = r->impact_longitude_deg = NAN;
  if (rf__is_ballistic(t, k)) {
    /* The trajectory of the ballistic mode's own estimate (the others'
     * straight lines would only bend it). */
    const double *xb = k->x[t->nmod == 1 ? 0 : t->bal];
    double tgo, timp, p[3];
    rf_track_ballistic_future(&t->grav, &t->site, xb, &tgo, &timp, p);
    r->time_to_go_s = tgo;
    if (isfinite(timp)) {
      double alt;
      r->impact_time_s = k->t + timp;
      rf_geo_enu_to_geodetic(&t->site, p, &r->impact_latitude_deg, &r->impact_longitude_deg, &alt);
    }
  } else {
    r->time_to_go_s = rf_track_time_to_go_cv(x, k->Pc);
  }
}

/* Starts a tentative track on plot measurement m at time now. */
static void rf__init_track(rf_tracker *t, rf__track *k, const rf_track_meas *m, double now) {
  memset(k, 0, sizeof *k);
  double r = m->z[0], az = m->z[1] * RF__DEG, el = m->z[2] * RF__DEG;
  double sa = sin(az), ca = cos(az), se = sin(el), ce = cos(el);
  double x[6] = {r * ce * sa, r * ce * ca, r * se, 0, 0, 0}, P[36] = {0};
  /* Position covariance J R J', J = d(e, n, u) / d(r, az, el). */
  double J[9] = {ce * sa, r * ce * ca, -r * se * sa, ce * ca, -r * ce * sa, -r * se * ca, se, 0, r * ce};
  double var[3] = {m->sigma[0] * m->sigma[0], pow(m->sigma[1] * RF__DEG, 2), pow(m->sigma[2] * RF__DEG, 2)};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0;
      for (int c = 0; c < 3; c++) s += J[i * 3 + c] * var[c] * J[j * 3 + c];
      P[i * 6 + j] = s;
    }
  /* Velocity: isotropic, |v| up to max speed (variance max^2 / 3 per axis);
   * the plot's radial velocity only when no alias of it is a plausible
   * speed (interval >= 2 max speed). */
  double sv2 = t->max_speed * t->max_speed / 3.0, d[3] = {ce * sa, ce * ca, se};
  int use_vr = t->s.velocity_interval_mps == 0 || t->s.velocity_interval_mps >= 2.0 * t->max_speed;
  double svr2 = m->sigma[3] * m->sigma[3];
  for (int i = 0; i < 3; i++) {
    if (use_vr) x[3 + i] = m->z[3] * d[i];
    for (int j = 0; j < 3; j++)
      P[(3 + i) * 6 + 3 + j] = (i == j ? sv2 : 0) + (use_vr ? (svr2 - sv2) * d[i] * d[j] : 0);
  }
  /* IMM: constant velocity alone; the turns join on the first residuals
   * a straight line does not explain, ballistic once the track is surely
   * fast (a new track's velocity spread, the maximum speed, covers any
   * turn over its first looks). */
  for (int mm = 0; mm < t->nmod; mm++) {
    memcpy(k->x[mm], x, sizeof x);
    memcpy(k->P[mm], P, sizeof P);
    k->mu[mm] = t->nmod == 1 || t->kinds[mm] == RF__K_CV ? 1.0 : 0.0;
  }
  k->id = t->next_id++;
  k->win = -1;
  k->status = RF_TRACK_TENTATIVE;
  k->plots = 1;
  k->looks = 1;
  k->hist = 1;
  k->t = now;
  rf__combine(t, k);
}

/* ---- association ----------------------------------------------------------------------- */
static int32_t rf__find(int32_t *uf, int32_t a) {
  while (uf[a] != a) {
    uf[a] = uf[uf[a]];
    a = uf[a];
  }
  return a;
}

/* Bin of a range for the dwell's plots (clamped to the bins). */
static size_t rf__bin(const rf_tracker *t, double r) {
  double f = (r - t->bin_r0) / t->bin_w;
  if (!(f > 0)) return 0;
  return f >= (double)t->nbins ? t->nbins - 1 : (size_t)f;
}

/* Plots binned by range (a counting pass, stable): n bins over the dwell's
 * range span, so a gate's range window visits few plots outside it. */
static void rf__bin_plots(rf_tracker *t, size_t n) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t j = 0; j < n; j++) {
    if (t->meas[j].z[0] < lo) lo = t->meas[j].z[0];
    if (t->meas[j].z[0] > hi) hi = t->meas[j].z[0];
  }
  t->nbins = n ? n : 1;
  t->bin_r0 = n ? lo : 0;
  t->bin_w = n && hi > lo ? (hi - lo) / (double)t->nbins * (1 + 1e-12) : 1.0;
  int32_t *cnt = t->bin_start;
  for (size_t b = 0; b <= t->nbins; b++) cnt[b] = 0;
  for (size_t j = 0; j < n; j++) cnt[rf__bin(t, t->meas[j].z[0]) + 1]++;
  for (size_t b = 0; b < t->nbins; b++) cnt[b + 1] += cnt[b];
  /* Place with a moving cursor per bin (bin_start[b] temporarily advanced),
   * then shift back. */
  for (size_t j = 0; j < n; j++) t->order[cnt[rf__bin(t, t->meas[j].z[0])]++] = (uint32_t)j;
  for (size_t o = 0; o < n; o++) t->order_r[o] = t->meas[t->order[o]].z[0];
  for (size_t b = t->nbins; b > 0; b--) cnt[b] = cnt[b - 1];
  cnt[0] = 0;
}

/* The normalised innovation squared of plot m (variances R) against a
 * prediction (zp, S0 = H P H'); +inf when S is not positive definite or
 * when one component alone puts the plot outside the gate g (the NIS is
 * at least any component's nu_k^2 / S_kk, by Cauchy-Schwarz). */
static double rf__d2(const double zp[4], const double S0[16], const rf_track_meas *m, const double R[4], int dims,
                     double iv, double g) {
  double S[16], L[16], nu[4], w[4];
  for (int k = 0; k < dims; k++) nu[k] = m->z[k] - zp[k];
  nu[1] = rf_wrap(nu[1], 180.0);
  if (dims == 4 && iv > 0) nu[3] = rf_wrap(nu[3], 0.5 * iv);
  for (int k = 0; k < dims; k++)
    if (nu[k] * nu[k] > g * (S0[k * 5] + R[k])) return INFINITY;
  for (int r = 0; r < dims; r++)
    for (int c = 0; c < dims; c++) S[r * dims + c] = S0[r * 4 + c] + (r == c ? R[r] : 0);
  if (rf__chol(S, dims, L) < 0) return INFINITY;
  /* nu' S^-1 nu = |L^-1 nu|^2 */
  rf__fwd(L, dims, nu, w);
  double d2 = 0;
  for (int k = 0; k < dims; k++) d2 += w[k] * w[k];
  return d2;
}

/* Gated pairs of the preds with (stage 1) confirmed / coasting or (stage 2)
 * tentative status against the plots not yet assigned. */
static int rf__gate(rf_tracker *t, size_t nplots, int stage, double rr_max) {
  t->npairs = 0;
  for (size_t i = 0; i < t->npred; i++) {
    rf__pred *pr = &t->pred[i];
    if ((stage == 1) != !pr->tentative) continue;
    double win = sqrt(t->gate4 * (pr->S0[0] + rr_max)), lo = pr->zH[0] - win, hi = pr->zH[0] + win;
    for (int a = 0; a < pr->alt; a++) {
      double wa = sqrt(t->gate4 * (pr->S0a[a][0] + rr_max));
      if (pr->zpa[a][0] - wa < lo) lo = pr->zpa[a][0] - wa;
      if (pr->zpa[a][0] + wa > hi) hi = pr->zpa[a][0] + wa;
    }
    if (!nplots || hi < t->bin_r0 || lo > t->bin_r0 + t->bin_w * (double)t->nbins) continue;
    size_t o0 = (size_t)t->bin_start[rf__bin(t, lo)], o1 = (size_t)t->bin_start[rf__bin(t, hi) + 1];
    for (size_t o = o0; o < o1; o++) {
      if (t->order_r[o] < lo || t->order_r[o] > hi) continue;
      uint32_t j = t->order[o];
      const rf_track_meas *m = &t->meas[j];
      if (t->plot_pred[j] >= 0) continue;
      double R[4] = {m->sigma[0] * m->sigma[0], m->sigma[1] * m->sigma[1], m->sigma[2] * m->sigma[2],
                     m->sigma[3] * m->sigma[3]};
      double iv = t->s.velocity_interval_mps;
      int dims = iv == 0 || sqrt(pr->S0[15] + R[3]) < iv / RF__AMBIG_SIGMAS ? 4 : 3;
      double g = dims == 4 ? t->gate4 : t->gate3;
      double d2 = dims == 4 ? rf__d2(pr->zH, pr->S0, m, R, 4, iv, g) : rf__d2(pr->zH, pr->S0, m, R, 3, iv, g);
      /* An IMM track also takes a plot inside its manoeuvre mode's gate:
       * at the start of a turn the constant-velocity mode still dominates
       * the combined prediction, and its gate alone would lose the plot. */
      for (int a = 0; a < pr->alt && !(d2 <= g); a++)
        d2 = dims == 4 ? rf__d2(pr->zpa[a], pr->S0a[a], m, R, 4, iv, g) : rf__d2(pr->zpa[a], pr->S0a[a], m, R, 3, iv, g);
      if (!(d2 <= g)) continue;
      if (stage == 1) t->plot_gated[j] = 1;
      if (t->npairs == t->cap_pairs)
        return rf__err(RF_ERANGE, "tracker: more than %zu gated track-plot pairs in one dwell; raise "
                                  "tracker.max_tracks or lower tracker.gate_probability", t->cap_pairs);
      t->pairs[t->npairs++] = (rf__pair){(uint32_t)i, j, dims, -1, d2};
    }
  }
  return 0;
}

/* Solves the pairs of one stage: optimal assignment per connected
 * component of the gating graph (found by union-find and walked as a list
 * of its pairs), a plot or a miss (cost = the gate) for every track. */
static int rf__assign_pairs(rf_tracker *t) {
  if (t->npairs == 0) return 0;
  size_t np = t->npred;
  for (size_t k = 0; k < t->npairs; k++) {
    t->uf[t->pairs[k].pred] = (int32_t)t->pairs[k].pred;
    t->uf[np + t->pairs[k].plot] = (int32_t)(np + t->pairs[k].plot);
  }
  for (size_t k = 0; k < t->npairs; k++) {
    int32_t a = rf__find(t->uf, (int32_t)t->pairs[k].pred), b = rf__find(t->uf, (int32_t)(np + t->pairs[k].plot));
    if (a != b) t->uf[a] = b;
  }
  /* Each root's pairs as a list, in pair order (pushed from the back). */
  for (size_t k = t->npairs; k-- > 0;) {
    int32_t root = rf__find(t->uf, (int32_t)t->pairs[k].pred);
    t->pairs[k].next = t->head[root];
    t->head[root] = (int32_t)k;
  }
  for (size_t k0 = 0; k0 < t->npairs; k0++) {
    int32_t root = rf__find(t->uf, (int32_t)t->pairs[k0].pred);
    int32_t first = t->head[root];
    if (first < 0) continue; /* component done */
    t->head[root] = -1;
    size_t nr = 0, nc = 0;
    for (int32_t k = first; k >= 0; k = t->pairs[k].next) {
      rf__pair *p = &t->pairs[k];
      if (t->loc_pred[p->pred] < 0) t->loc_pred[p->pred] = (int32_t)nr, t->comp_pred[nr++] = (int32_t)p->pred;
      if (t->loc_plot[p->plot] < 0) t->loc_plot[p->plot] = (int32_t)nc, t->comp_plot[nc++] = (int32_t)p->plot;
    }
    if (nr == 1 && nc == 1 && t->pairs[first].next < 0) {
      /* One track, one plot, one pair (most components): the plot, when it
       * costs less than the miss (as rf_assign_execute would choose). */
      rf__pair *p = &t->pairs[first];
      double cost = p->dims == 4 ? p->cost : p->cost * t->gate4 / t->gate3;
      if (cost < t->gate4) {
        t->pred[p->pred].plot = (int32_t)p->plot;
        t->pred[p->pred].dims = p->dims;
        t->plot_pred[p->plot] = (int32_t)p->pred;
      }
    } else if (nr <= RF__COMP_ROWS && nc <= RF__COMP_PLOTS) {
      size_t cols = nc + nr;
      for (size_t k = 0; k < nr * cols; k++) t->dense[k] = RF_ASSIGN_FORBIDDEN;
      for (size_t r = 0; r < nr; r++) t->dense[r * cols + nc + r] = t->gate4; /* miss */
      for (int32_t k = first; k >= 0; k = t->pairs[k].next) {
        rf__pair *p = &t->pairs[k];
        double *c = &t->dense[(size_t)t->loc_pred[p->pred] * cols + (size_t)t->loc_plot[p->plot]];
        /* A 3-D pair's d2 is put on the 4-D scale (same gate probability). */
        double cost = p->dims == 4 ? p->cost : p->cost * t->gate4 / t->gate3;
        if (cost < *c) *c = cost;
      }
      int st = rf_assign_execute(t->as, t->dense, nr, cols, t->r2c, NULL);
      if (st) return st;
      for (size_t r = 0; r < nr; r++) {
        int32_t c = t->r2c[r];
        if (c >= 0 && (size_t)c < nc) {
          int32_t pi = t->comp_pred[r], pl = t->comp_plot[c];
          t->pred[pi].plot = pl;
          t->plot_pred[pl] = pi;
        }
      }
      for (int32_t k = first; k >= 0; k = t->pairs[k].next)
        if (t->pred[t->pairs[k].pred].plot == (int32_t)t->pairs[k].plot) t->pred[t->pairs[k].pred].dims = t->pairs[k].dims;
    } else {
      /* Components this large do not occur in practice: each track, in
       * pair order, takes its cheapest plot still free. */
      for (int32_t k = first; k >= 0; k = t->pairs[k].next) {
        rf__pair *p = &t->pairs[k];
        if (t->pred[p->pred].plot >= 0) continue;
        int32_t best = -1;
        for (int32_t q = k; q >= 0; q = t->pairs[q].next)
          if (t->pairs[q].pred == p->pred && t->plot_pred[t->pairs[q].plot] < 0 &&
              (best < 0 || t->pairs[q].cost < t->pairs[best].cost))
            best = q;
        if (best < 0) continue;
        t->pred[p->pred].plot = (int32_t)t->pairs[best].plot;
        t->pred[p->pred].dims = t->pairs[best].dims;
        t->plot_pred[t->pairs[best].plot] = (int32_t)p->pred;
      }
    }
    for (size_t r = 0; r < nr; r++) t->loc_pred[t->comp_pred[r]] = -1;
    for (size_t c = 0; c < nc; c++) t->loc_plot[t->comp_plot[c]] = -1;
  }
  return 0;
}

/* Whether dwell `dwell` can see track k (its predicted direction inside the
 * receive fan: 1, the track is predicted and gated) and whether it should
 * have (inside the transmit beam's 3 dB width as well: 2, a look, so no
 * plot is a miss). 0: neither. Without a dwell table every dwell looks at
 * every track. */
static int rf__covered(const rf_tracker *t, const rf__track *k, int32_t dwell, double now) {
  const rf_track_sensor *s = &t->s;
  if (dwell < 0 || (size_t)dwell >= s->dwells || !s->dwell_azimuth_deg || !(s->coverage_az_deg > 0))
    return 2;
  double dt = now - k->t, p[3];
  for (int i = 0; i < 3; i++) p[i] = k->xc[i] + k->xc[3 + i] * dt;
  double r, az, el;
  rf_enu_to_rae(p, &r, &az, &el);
  double daz = fabs(rf_wrap(az - s->dwell_azimuth_deg[dwell], 180.0));
  double del = s->dwell_elevation_deg ? fabs(el - s->dwell_elevation_deg[dwell]) : 0;
  if (daz > s->coverage_az_deg || (s->coverage_el_deg > 0 && del > s->coverage_el_deg)) return 0;
  if (daz > 0.5 * s->beamwidth_az_deg || (s->beamwidth_el_deg > 0 && del > 0.5 * s->beamwidth_el_deg))
    return 1;
  return 2;
}

/* Position sigma past which a track is deleted: the setting, or (0) the
 * size of a resolution cell at the track's range (range cell and both
 * beamwidths; twice the unmeasured-elevation sigma for linear arrays); never
 * below min_delete_sigma_m, so that near the radar, where a cell is a few
 * hundred metres, one missed look does not end a track. */
static double rf__max_sigma(const rf_tracker *t, const rf__track *k) {
  double lim = t->cfg.trk_max_pos_sigma;
  if (!(lim > 0)) {
    double r = sqrt(k->xc[0] * k->xc[0] + k->xc[1] * k->xc[1] + k->xc[2] * k->xc[2]);
    double bel = t->s.beamwidth_el_deg > 0 ? t->s.beamwidth_el_deg : 2.0 * t->cfg.trk_el_sigma_unmeasured;
    double a = r * t->s.beamwidth_az_deg * RF__DEG, e = r * bel * RF__DEG;
    lim = sqrt(t->s.range_cell_m * t->s.range_cell_m + a * a + e * e);
  }
  return lim > t->cfg.trk_min_delete_sigma ? lim : t->cfg.trk_min_delete_sigma;
}

/* Predicted measurement zp, its Jacobian H, P H' and H P H' of a state
 * (also into hph when not NULL), plus the curvature terms (curv: {range,
 * radial velocity} variances; computed here, with their second-order
 * products into so, when so is not NULL, else taken as given). */
static void rf__predict_meas(const double x[6], const double P[36], double zp[4], double H[24], double S0[16],
                             double PHt[24], double *hph, double curv[2], rf__so *so) {
  rf__h_jac(x, zp, H);
  rf__hph(H, P, S0, PHt);
  if (hph) memcpy(hph, S0, 16 * sizeof *S0);
  if (so) rf__second_order(x, P, &curv[1], &curv[0], so);
  S0[0] += curv[0];
  S0[15] += curv[1];
}

/* The gate of a track whose turn modes are out (RF__TURN_ON_P): S0 plus
 * H Q H' of an unknown horizontal acceleration a over dt, taken as one
 * sigma: (a dt^2 / 2)^2 on east and north position, (a dt)^2 on their
 * velocities. */
static void rf__manoeuvre_gate(const double H[24], double a, double dt, const double S0[16], double S0a[16]) {
  double qp = 0.25 * a * a * dt * dt * dt * dt, qv = a * a * dt * dt;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      S0a[i * 4 + j] = S0[i * 4 + j] + qp * (H[i * 6] * H[j * 6] + H[i * 6 + 1] * H[j * 6 + 1]) +
                       qv * (H[i * 6 + 3] * H[j * 6 + 3] + H[i * 6 + 4] * H[j * 6 + 4]);
}

static uint32_t rf__popcount(uint32_t v) { return (uint32_t)__builtin_popcount(v); }

/* ---- the per-track loops ---------------------------------------------------------- */
/* Prediction i of this dwell: the track's state, its predicted
 * measurement and gates. */
static void rf__predict_pred(rf_tracker *t, size_t i) {
  rf__pred *pr = &t->pred[i];
  rf__track *k = &t->trk[pr->trk];
  double dt = t->job_now - k->t, curv[2] = {0, 0}, Ha[24], PHta[24];
  rf__predict_track(t, k, t->job_now);
  pr->claim = (t->nmod == 1 ? t->kinds[0] == RF__K_BALLISTIC : k->fast) && k->win < 0;
  rf__predict_meas(k->xc, k->Pc, pr->zH, pr->zH + 4, pr->S0, pr->zH + 28, pr->zH + 52, curv, &t->pso[i]);
  int non = 0;
  for (int m = 0; m < t->nmod; m++) non += rf__on(t, k, m);
  pr->single = non == 1; /* rf__combine copied that mode: xc, Pc are its own */
  pr->alt = 0;
  if (t->nmod > 1 && k->turns) {
    /* Both turn modes' predictions (with the combined estimate's
     * curvature terms). */
    rf__predict_meas(k->x[RF__K_LEFT], k->P[RF__K_LEFT], pr->zpa[0], Ha, pr->S0a[0], PHta, NULL, curv, NULL);
    rf__predict_meas(k->x[RF__K_RIGHT], k->P[RF__K_RIGHT], pr->zpa[1], Ha, pr->S0a[1], PHta, NULL, curv, NULL);
    pr->alt = 2;
  } else if (t->nmod > 1 && !k->fast) {
    rf__manoeuvre_gate(pr->zH + 4, t->cfg.trk_manoeuvre_accel, dt, pr->S0, pr->S0a[0]);
    memcpy(pr->zpa[0], pr->zH, sizeof pr->zpa[0]);
    pr->alt = 1;
  }
}

/* Update (or miss) of prediction i of this dwell, its track's status and
 * row. */
static void rf__update_pred(rf_tracker *t, size_t i) {
  const int M = t->cfg.trk_confirm_m, N = t->cfg.trk_confirm_n;
  const uint32_t win = N >= 32 ? 0xffffffffu : ((1u << N) - 1);
  rf__pred *pr = &t->pred[i];
  rf__track *k = &t->trk[pr->trk];
  if (pr->row < 0) return; /* seen by the fan only: no news */
  k->looks++;
  if (pr->plot >= 0) {
    rf__update_track(t, k, &t->meas[pr->plot], pr->dims, pr->single ? pr->zH : NULL, &t->pso[i]);
    k->hist = (k->hist << 1) | 1u;
    k->plots++;
    k->misses = 0;
  } else {
    k->hist <<= 1;
    k->misses++;
  }
  if (k->status == RF_TRACK_TENTATIVE) {
    uint32_t hits = rf__popcount(k->hist & win);
    int seen = k->looks < N ? k->looks : N;
    if ((int)hits >= M) k->status = RF_TRACK_CONFIRMED;
    else if (seen - (int)hits > N - M) k->status = RF_TRACK_DELETED;
  } else {
    k->status = pr->plot >= 0 ? RF_TRACK_CONFIRMED : RF_TRACK_COASTING;
    if (k->misses >= t->cfg.trk_delete_misses) k->status = RF_TRACK_DELETED;
  }
  if (sqrt(k->Pc[0] + k->Pc[7] + k->Pc[14]) > rf__max_sigma(t, k)) k->status = RF_TRACK_DELETED;
  t->stat[pr->trk] = (uint8_t)k->status;
  rf__fill_row(t, k, &t->job_rows[pr->row]);
}

static void rf__job_item(rf_tracker *t, int kind, size_t i) {
  if (kind == RF__JOB_PREDICT) rf__predict_pred(t, i);
  else rf__update_pred(t, i);
}

/* Takes chunks of the open job until none is left; the items done. */
static size_t rf__job_work(rf_tracker *t) {
  size_t n = t->npred, done = 0;
  for (;;) {
    size_t i = atomic_fetch_add_explicit(&t->job_next, RF__JOB_CHUNK, memory_order_relaxed);
    if (i >= n) return done;
    size_t e = n - i < RF__JOB_CHUNK ? n : i + RF__JOB_CHUNK;
    for (; i < e; i++, done++) rf__job_item(t, t->job_kind, i);
  }
}

size_t rf_tracker_help(rf_tracker *t) {
  pthread_mutex_lock(&t->job_mu);
  if (!t->job_open) {
    pthread_mutex_unlock(&t->job_mu);
    return 0;
  }
  t->job_users++;
  pthread_mutex_unlock(&t->job_mu);
  size_t done = rf__job_work(t);
  pthread_mutex_lock(&t->job_mu);
  if (--t->job_users == 0) pthread_cond_signal(&t->job_cv);
  pthread_mutex_unlock(&t->job_mu);
  return done;
}

int rf_tracker_set_helper(rf_tracker *t, void (*wake)(void *), void *arg) {
  if (wake && !t->job_init) {
    if (pthread_mutex_init(&t->job_mu, NULL)) return rf__err(RF_ENOMEM, "tracker: cannot make a lock");
    if (pthread_cond_init(&t->job_cv, NULL)) {
      pthread_mutex_destroy(&t->job_mu);
      return rf__err(RF_ENOMEM, "tracker: cannot make a condition variable");
    }
    t->job_init = 1;
  }
  t->wake = wake;
  t->wake_arg = arg;
  return 0;
}

/* Every prediction of this dwell through job `kind`: shared with the
 * helper (rf_tracker_set_helper) or over the OpenMP threads when there are
 * many; on this thread alone otherwise. */
static void rf__for_preds(rf_tracker *t, int kind) {
  if (t->wake && t->npred >= RF__PARALLEL_MIN) {
    pthread_mutex_lock(&t->job_mu);
    t->job_kind = kind;
    atomic_store_explicit(&t->job_next, 0, memory_order_relaxed);
    t->job_open = 1;
    pthread_mutex_unlock(&t->job_mu);
    t->wake(t->wake_arg);
    rf__job_work(t);
    /* The helper's chunks are done once it has left. */
    pthread_mutex_lock(&t->job_mu);
    t->job_open = 0;
    while (t->job_users) pthread_cond_wait(&t->job_cv, &t->job_mu);
    pthread_mutex_unlock(&t->job_mu);
    return;
  }
#pragma omp parallel for schedule(dynamic, RF__JOB_CHUNK) if (t->npred >= RF__PARALLEL_MIN)
  for (size_t i = 0; i < t->npred; i++) rf__job_item(t, kind, i);
}

int rf_tracker_process_dwell(rf_tracker *t, double now, int32_t dwell, const rf_plot *plots, size_t n,
                             rf_track_row *rows, size_t max_rows, size_t *nrows) {
  *nrows = 0;
  if (n && !plots) return rf__err(RF_EINVAL, "tracker: bad arguments");
  if (n > t->cap_plots)
    return rf__err(RF_ERANGE, "tracker: %zu plots in dwell %d, more than the %zu it was made for", n,
                   (int)dwell, t->cap_plots);
  if (!isfinite(now) || (t->started && now < t->last_time))
    return rf__err(RF_EINVAL, "tracker: dwell %d: time %.6f is before the previous dwell's %.6f",
                   (int)dwell, now, t->last_time);
  t->started = 1;
  t->last_time = now;
  /* Measurements, range order. */
  double rr_max = 0;
  for (size_t j = 0; j < n; j++) {
    rf_track_meas_from_plot(&t->s, &t->cfg, &plots[j], &t->meas[j]);
    if (!isfinite(t->meas[j].z[0]) || !isfinite(t->meas[j].z[1]) || !isfinite(t->meas[j].z[2]) ||
        !isfinite(t->meas[j].z[3]))
      return rf__err(RF_EFORMAT, "tracker: dwell %d: plot %zu has a non-finite value", (int)dwell, j);
    double v = t->meas[j].sigma[0] * t->meas[j].sigma[0];
    if (v > rr_max) rr_max = v;
    t->order[j] = (uint32_t)j;
    t->plot_pred[j] = -1;
    t->plot_gated[j] = 0;
  }
  rf__bin_plots(t, n);
  /* Predict the tracks this dwell looks at (the tracks are independent:
   * on all threads when there are many). */
  t->npred = 0;
  for (size_t i = 0; i < t->ntrk; i++) {
    int cov = rf__covered(t, &t->trk[i], dwell, now);
    if (!cov) continue;
    rf__pred *pr = &t->pred[t->npred++];
    pr->look = cov == 2;
    pr->tentative = t->stat[i] == RF_TRACK_TENTATIVE;
    pr->trk = (uint32_t)i;
    pr->plot = -1;
    pr->dims = 3;
  }
  t->job_now = now;
  rf__for_preds(t, RF__JOB_PREDICT);
  /* Confirmed tracks first, then tentative ones on the plots left. */
  int st;
  for (int stage = 1; stage <= 2; stage++) {
    if ((st = rf__gate(t, n, stage, rr_max)) || (st = rf__assign_pairs(t))) return st;
  }
  /* Rows: one per look or update, in prediction order; ballistic tracks
   * that will take a plot claim their batch window here (one at a time). */
  size_t nr = 0;
  for (size_t i = 0; i < t->npred; i++) {
    rf__pred *pr = &t->pred[i];
    pr->row = pr->plot >= 0 || pr->look ? (int32_t)nr++ : -1;
    if (pr->plot >= 0 && pr->claim) rf__win_claim(t, &t->trk[pr->trk]);
  }
  if (nr > max_rows) return rf__err(RF_ERANGE, "tracker: more than %zu rows in one dwell", max_rows);
  t->job_rows = rows;
  rf__for_preds(t, RF__JOB_UPDATE);
  /* New tentative tracks on plots no track took and no confirmed track
   * gated, in plot order. */
  for (size_t j = 0; j < n; j++) {
    if (t->plot_pred[j] >= 0 || t->plot_gated[j]) continue;
    if (t->ntrk == t->cap_tracks)
      return rf__err(RF_ERANGE, "tracker: more than %zu tracks alive; raise tracker.max_tracks", t->cap_tracks);
    t->stat[t->ntrk] = RF_TRACK_TENTATIVE;
    rf__track *k = &t->trk[t->ntrk++];
    rf__init_track(t, k, &t->meas[j], now);
    if (nr == max_rows) return rf__err(RF_ERANGE, "tracker: more than %zu rows in one dwell", max_rows);
    rf__fill_row(t, k, &rows[nr++]);
  }
  /* Drop deleted tracks (their last row says so). */
  for (size_t i = 0; i < t->ntrk;) {
    if (t->stat[i] == RF_TRACK_DELETED) {
      rf__win_release(t, &t->trk[i]);
      t->trk[i] = t->trk[--t->ntrk];
      t->stat[i] = t->stat[t->ntrk];
    } else {
      i++;
    }
  }
  *nrows = nr;
  return 0;
}

/* ---- whole plot lists ------------------------------------------------------------------- */
int rf_track_plots(const rf_plot *plots, size_t n, const rf_config *cfg, const rf_track_sensor *s,
                   rf_track_list *out) {
  rf_tracker *t = NULL;
  rf_track_row *rows = NULL;
  int st = 0;
  size_t maxg = 1;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && plots[j].dwell == plots[i].dwell && plots[j].time_s == plots[i].time_s) j++;
    if (j - i > maxg) maxg = j - i;
    if (j < n && plots[j].time_s < plots[i].time_s)
      return rf__err(RF_EINVAL, "tracker: plot %zu: plots must be ordered by time", j);
    i = j;
  }
  size_t maxt = n + 1;
  if ((st = rf_tracker_create(&t, cfg, s, maxt, maxg))) return st;
  size_t mr = rf_tracker_max_rows(t);
  if (!(rows = rf__malloc(mr * sizeof *rows))) {
    rf_tracker_destroy(t);
    return rf__err(RF_ENOMEM, "tracker: out of memory");
  }
  /* With a dwell table (with times) every dwell is processed, so a dwell
   * without plots still counts as a look; plots must then be ordered by
   * dwell. Without one, each run of plots with the same dwell and time is
   * a dwell. */
  const int table = s->dwells > 0 && s->dwell_time_s != NULL;
  size_t i = 0, d = 0;
  while (table ? d < s->dwells : i < n) {
    size_t j = i, nrow;
    double now;
    int32_t dw;
    if (table) {
      if (i < n && (plots[i].dwell < (int32_t)d || (size_t)plots[i].dwell >= s->dwells)) {
        st = rf__err(RF_EINVAL, "tracker: plot %zu: dwell %d is not in the dwell table or out of order", i,
                     (int)plots[i].dwell);
        break;
      }
      while (j < n && plots[j].dwell == (int32_t)d) j++;
      now = s->dwell_time_s[d];
      dw = (int32_t)d++;
    } else {
      while (j < n && plots[j].dwell == plots[i].dwell && plots[j].time_s == plots[i].time_s) j++;
      now = plots[i].time_s;
      dw = plots[i].dwell;
    }
    if ((st = rf_tracker_process_dwell(t, now, dw, plots + i, j - i, rows, mr, &nrow))) break;
    for (size_t r = 0; r < nrow && !st; r++) st = rf_track_list_push(out, &rows[r]);
    if (st) break;
    i = j;
  }
  rf__free(rows);
  rf_tracker_destroy(t);
  return st;
}
