/* radarflow pipelines/: the multi-target tracker (rf_tracker.h,
 * docs/tracking.md). */
#include "rf_tracker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rf_assign.h"
#include "rf_pipeline.h"

#define RF__DEG (RF_PI / 180.0)
#define RF__G0 9.80665               /* standard gravity, m/s^2 (flat earth) */
#define RF__GM 3.986004418e14        /* Earth's gravitational parameter, m^3/s^2 */
#define RF__R_MEAN 6371008.8         /* mean Earth radius (spherical gravity centre), m */
/* The wrapped radial velocity is used only while the predicted radial
 * velocity's sigma (with the plot's) is below interval / this: then the
 * wrap picks the right alias with overwhelming probability (half the
 * interval is 4 sigma), so the ambiguity can never mislead the filter. */
#define RF__AMBIG_SIGMAS 8.0
#define RF__NMOD_MAX 2
/* Components of the gating graph solved optimally up to this size (tracks,
 * plots); larger ones (never in practice) are assigned greedily by cost. */
#define RF__COMP_ROWS 256
#define RF__COMP_PLOTS 512
/* Ballistic prediction: horizon, step. */
#define RF__BALLISTIC_HORIZON_S 3600.0
#define RF__BALLISTIC_STEP_S 0.5

typedef struct rf__track {
  int32_t id, status, plots, misses, looks, fast;
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
  double zp[4], S0[16];              /* predicted measurement and H Pc H' */
} rf__pred;

typedef struct rf__pair {
  uint32_t pred, plot;
  int32_t dims, root;
  double cost;
} rf__pair;

struct rf_tracker {
  rf_config cfg;
  rf_track_sensor s;
  rf_geo_site site;
  int nmod, models[RF__NMOD_MAX];
  double q[RF__NMOD_MAX], pij[RF__NMOD_MAX][RF__NMOD_MAX];
  double gate3, gate4, max_speed;
  size_t cap_tracks, cap_plots, cap_pairs;
  rf__track *trk;
  size_t ntrk;
  int32_t next_id;
  double last_time;
  int started;
  /* per-dwell scratch */
  rf__pred *pred;
  size_t npred;
  rf_track_meas *meas;
  uint32_t *order;                   /* plots sorted by range */
  int32_t *plot_pred, *plot_gated;   /* assigned pred / gated by a confirmed track */
  rf__pair *pairs;
  size_t npairs;
  int32_t *uf;                       /* union-find over preds then plots */
  int32_t *loc_pred, *loc_plot, *comp_pred, *comp_plot, *r2c;
  double *dense;
  rf_assign *as;
};

/* ---- small linear algebra -------------------------------------------------------- */
/* Cholesky of an n x n SPD matrix a (row-major) into lower L; -1 if not PD. */
static int rf__chol(const double *a, int n, double *L) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++) {
      double s = a[i * n + j];
      for (int k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (!(s > 0)) return -1;
        L[i * n + i] = sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  return 0;
}

/* Solves L L' y = b in place. */
static void rf__chol_solve(const double *L, int n, double *b) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
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
  double rho = hypot(e, n), r = sqrt(e * e + n * n + u * u);
  z[0] = r;
  double az = atan2(e, n) / RF__DEG;
  z[1] = az < 0 ? az + 360.0 : az;
  z[2] = atan2(u, rho) / RF__DEG;
  z[3] = r > 0 ? (e * x[3] + n * x[4] + u * x[5]) / r : 0;
}

/* h(x) and its Jacobian H [4][6] (angles in degrees). */
static void rf__h_jac(const double x[6], double z[4], double H[24]) {
  double e = x[0], n = x[1], u = x[2];
  double rho2 = e * e + n * n;
  if (rho2 < 1e-6) rho2 = 1e-6;
  double rho = sqrt(rho2), r2 = rho2 + u * u, r = sqrt(r2), k = 1.0 / RF__DEG;
  rf_track_h(x, z);
  memset(H, 0, 24 * sizeof *H);
  H[0] = e / r, H[1] = n / r, H[2] = u / r;
  H[6] = k * n / rho2, H[7] = -k * e / rho2;
  H[12] = -k * u * e / (r2 * rho), H[13] = -k * u * n / (r2 * rho), H[14] = k * rho / r2;
  double vr = z[3];
  H[18] = x[3] / r - vr * e / r2, H[19] = x[4] / r - vr * n / r2, H[20] = x[5] / r - vr * u / r2;
  H[21] = e / r, H[22] = n / r, H[23] = u / r;
}

/* S0 = H P H' (4x4). */
static void rf__hph(const double H[24], const double P[36], double S[16]) {
  double HP[24];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 6; j++) {
      double s = 0;
      for (int k = 0; k < 6; k++) s += H[i * 6 + k] * P[k * 6 + j];
      HP[i * 6 + j] = s;
    }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j <= i; j++) {
      double s = 0;
      for (int k = 0; k < 6; k++) s += HP[i * 6 + k] * H[j * 6 + k];
      S[i * 4 + j] = S[j * 4 + i] = s;
    }
}

/* Second-order terms of the radial velocity vr = p.v / r, whose Hessian
 * has the cross block T / r (T = I - d d', d = p / r): with position and
 * velocity errors of covariance P, vr's expected value shifts by
 * tr(T Ppv) / r (*bias, reported but not applied: it would move a noiseless
 * track's fixed point off the truth) and it gains the variance
 * [tr(T Pvv T Ppp) + tr(T Pvp T Pvp)] / r^2, added to the innovation
 * covariance. Without it a new track (velocity unknown, large cross-range
 * error) would trust the plots' precise radial velocity far too much. */
static void rf__vr_second_order(const double x[6], const double *P, double *bias, double *var) {
  double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  *bias = *var = 0;
  if (!(r > 0)) return;
  double d[3] = {x[0] / r, x[1] / r, x[2] / r}, T[9], pp[9], pv[9], vp[9], vv[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      T[i * 3 + j] = (i == j) - d[i] * d[j];
      pp[i * 3 + j] = P[i * 6 + j];
      pv[i * 3 + j] = P[i * 6 + 3 + j];
      vp[i * 3 + j] = P[(3 + i) * 6 + j];
      vv[i * 3 + j] = P[(3 + i) * 6 + 3 + j];
    }
  double a[9], b[9], c[9], e[9], tb = 0, t1 = 0, t2 = 0;
  /* a = T vv, b = T pp, c = T vp, e = T pv */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double sa = 0, sb = 0, sc = 0, se = 0;
      for (int k = 0; k < 3; k++) {
        sa += T[i * 3 + k] * vv[k * 3 + j];
        sb += T[i * 3 + k] * pp[k * 3 + j];
        sc += T[i * 3 + k] * vp[k * 3 + j];
        se += T[i * 3 + k] * pv[k * 3 + j];
      }
      a[i * 3 + j] = sa, b[i * 3 + j] = sb, c[i * 3 + j] = sc, e[i * 3 + j] = se;
    }
  for (int i = 0; i < 3; i++) {
    tb += e[i * 3 + i];
    for (int k = 0; k < 3; k++) {
      t1 += a[i * 3 + k] * b[k * 3 + i];
      t2 += c[i * 3 + k] * c[k * 3 + i];
    }
  }
  *bias = tb / r;
  *var = (t1 + t2) / (r * r);
  if (*var < 0) *var = 0;
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

static int rf__update(const rf_track_meas *m, int dims, double interval, double x[6], double P[36],
                      double *nis, double *lndet, int iters) {
  double xi[6], x0[6], zp[4], H[24], S[16] = {0}, L[16], nu[4] = {0}, PHt[24], K[24];
  memcpy(x0, x, sizeof x0);
  memcpy(xi, x, sizeof xi);
  double vb = 0, vv2 = 0;
  for (int it = 0; it < iters; it++) {
    rf__h_jac(xi, zp, H);
    if (it == 0 && dims == 4) rf__vr_second_order(xi, P, &vb, &vv2);
    for (int k = 0; k < dims; k++) nu[k] = m->z[k] - zp[k];
    nu[1] = rf_wrap(nu[1], 180.0);
    if (dims == 4 && interval > 0) nu[3] = rf_wrap(nu[3], 0.5 * interval);
    /* relinearised innovation: z - h(xi) - H (x0 - xi) */
    for (int k = 0; k < dims; k++)
      for (int c = 0; c < 6; c++) nu[k] -= H[k * 6 + c] * (x0[c] - xi[c]);
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < dims; j++) {
        double s = 0;
        for (int k = 0; k < 6; k++) s += P[i * 6 + k] * H[j * 6 + k];
        PHt[i * dims + j] = s;
      }
    for (int i = 0; i < dims; i++)
      for (int j = 0; j <= i; j++) {
        double s = 0;
        for (int k = 0; k < 6; k++) s += H[i * 6 + k] * PHt[k * dims + j];
        S[i * dims + j] = S[j * dims + i] = s;
      }
    for (int i = 0; i < dims; i++) S[i * dims + i] += m->sigma[i] * m->sigma[i];
    if (dims == 4) S[15] += vv2;
    if (rf__chol(S, dims, L) < 0) return RF_ERANGE;
    if (it == 0) {
      double w[4];
      memcpy(w, nu, sizeof w);
      rf__chol_solve(L, dims, w);
      double d2 = 0, ld = 0;
      for (int k = 0; k < dims; k++) {
        d2 += nu[k] * w[k];
        ld += 2.0 * log(L[k * dims + k]);
      }
      if (nis) *nis = d2;
      if (lndet) *lndet = ld;
    }
    for (int i = 0; i < 6; i++) {
      double row[4];
      for (int j = 0; j < dims; j++) row[j] = PHt[i * dims + j];
      rf__chol_solve(L, dims, row);
      for (int j = 0; j < dims; j++) K[i * dims + j] = row[j];
    }
    double xn[6], dp2 = 0, dv2 = 0;
    for (int i = 0; i < 6; i++) {
      double s = 0;
      for (int j = 0; j < dims; j++) s += K[i * dims + j] * nu[j];
      xn[i] = x0[i] + s;
      double d = xn[i] - xi[i];
      if (i < 3) dp2 += d * d;
      else dv2 += d * d;
    }
    memcpy(xi, xn, sizeof xi);
    double r = zp[0] > 1 ? zp[0] : 1;
    (void)dv2;
    if (sqrt(dp2) <= RF__IEKF_TOL * r) break;
  }
  memcpy(x, xi, sizeof xi);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++) {
      double s = 0;
      for (int k = 0; k < dims; k++) s += K[i * dims + k] * PHt[j * dims + k];
      P[i * 6 + j] -= s;
    }
  rf__symmetrize(P);
  return 0;
}

int rf_track_update(const rf_track_meas *m, int dims, double interval, double x[6], double P[36],
                    double *nis, double *lndet) {
  return rf__update(m, dims, interval, x, P, nis, lndet, RF__IEKF_MAX);
}

/* ---- motion models --------------------------------------------------------------- */
static void rf__gravity(int earth, double site_alt, const double p[3], double a[3]) {
  if (earth == RF_TRACK_EARTH_FLAT) {
    a[0] = a[1] = 0;
    a[2] = -RF__G0;
    return;
  }
  /* Spherical Earth: centre below the site by mean radius + site height. */
  double d[3] = {p[0], p[1], p[2] + RF__R_MEAN + site_alt};
  double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2], r = sqrt(r2), k = -RF__GM / (r2 * r);
  for (int i = 0; i < 3; i++) a[i] = k * d[i];
}

/* Ballistic state propagation (RK4 on position/velocity) over dt. */
static void rf__ballistic_step(int earth, double site_alt, double x[6], double dt) {
  if (earth == RF_TRACK_EARTH_FLAT) {
    for (int i = 0; i < 3; i++) x[i] += x[3 + i] * dt;
    x[2] -= 0.5 * RF__G0 * dt * dt;
    x[5] -= RF__G0 * dt;
    return;
  }
  double k1p[3], k1v[3], k2p[3], k2v[3], k3p[3], k3v[3], k4p[3], k4v[3], y[3];
  for (int i = 0; i < 3; i++) k1p[i] = x[3 + i];
  rf__gravity(earth, site_alt, x, k1v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + 0.5 * dt * k1p[i], k2p[i] = x[3 + i] + 0.5 * dt * k1v[i];
  rf__gravity(earth, site_alt, y, k2v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + 0.5 * dt * k2p[i], k3p[i] = x[3 + i] + 0.5 * dt * k2v[i];
  rf__gravity(earth, site_alt, y, k3v);
  for (int i = 0; i < 3; i++) y[i] = x[i] + dt * k3p[i], k4p[i] = x[3 + i] + dt * k3v[i];
  rf__gravity(earth, site_alt, y, k4v);
  for (int i = 0; i < 3; i++) {
    x[i] += dt / 6.0 * (k1p[i] + 2 * k2p[i] + 2 * k3p[i] + k4p[i]);
    x[3 + i] += dt / 6.0 * (k1v[i] + 2 * k2v[i] + 2 * k3v[i] + k4v[i]);
  }
}

void rf_track_predict(int model, int earth, double site_alt, double q_accel, double dt,
                      double x[6], double P[36]) {
  if (!(dt > 0)) return;
  if (model == RF_TRACK_MODEL_BALLISTIC) {
    double rem = dt;
    while (rem > 0) {
      double h = rem > 10.0 ? 10.0 : rem;
      rf__ballistic_step(earth, site_alt, x, h);
      rem -= h;
    }
  } else {
    for (int i = 0; i < 3; i++) x[i] += x[3 + i] * dt;
  }
  /* F P F' for F = [I dt I; 0 I] by blocks, then Q of white acceleration
   * (q = a^2): [dt^3/3 dt^2/2; dt^2/2 dt] q per axis. The gravity gradient
   * (3e-6 /s^2) is left out of F. */
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
static double rf__height(int earth, const rf_geo_site *site, const double p[3]) {
  if (earth == RF_TRACK_EARTH_FLAT) return p[2] + site->alt_m;
  double lat, lon, alt;
  rf_geo_enu_to_geodetic(site, p, &lat, &lon, &alt);
  return alt;
}

void rf_track_ballistic_future(int earth, const rf_geo_site *site, const double x0[6],
                               double *t_go, double *t_impact, double impact_enu[3]) {
  double x[6], prev[6];
  memcpy(x, x0, sizeof x);
  *t_go = NAN;
  *t_impact = NAN;
  impact_enu[0] = impact_enu[1] = impact_enu[2] = NAN;
  double r0 = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  double rdot0 = r0 > 0 ? (x[0] * x[3] + x[1] * x[4] + x[2] * x[5]) / r0 : 0;
  int closing = rdot0 < 0, have_go = !closing;
  double h_prev = rf__height(earth, site, x), r_prev = r0, r_prev2 = r0, t = 0;
  if (h_prev < 0) return;
  const double h = RF__BALLISTIC_STEP_S;
  while (t < RF__BALLISTIC_HORIZON_S) {
    memcpy(prev, x, sizeof prev);
    rf__ballistic_step(earth, site->alt_m, x, h);
    t += h;
    double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    double hh = rf__height(earth, site, x);
    if (!have_go && r > r_prev) {
      /* Range minimum between t - 2h and t: parabola through the samples. */
      double den = r_prev2 - 2 * r_prev + r, off = den > 0 ? 0.5 * (r_prev2 - r) / den : 0;
      *t_go = t - h + off * h;
      have_go = 1;
    }
    if (hh <= 0) {
      double f = h_prev / (h_prev - hh);
      *t_impact = t - h + f * h;
      for (int i = 0; i < 3; i++) impact_enu[i] = prev[i] + f * (x[i] - prev[i]);
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

void rf_track_sensor_from_info(rf_track_sensor *s, const rf_product_info *info, const rf_config *cfg) {
  memset(s, 0, sizeof *s);
  s->velocity_interval_mps = cfg->trk_vel_interval;
  s->range_cell_m = cfg->trk_range_cell;
  s->doppler_cell_mps = cfg->trk_doppler_cell;
  s->beamwidth_az_deg = cfg->trk_bw_az;
  s->beamwidth_el_deg = cfg->trk_bw_el;
  s->site_latitude_deg = cfg->site_lat;
  s->site_longitude_deg = cfg->site_lon;
  s->site_altitude_m = cfg->site_alt;
  if (!info) return;
  if (info->radial_velocity_interval_mps > 0) s->velocity_interval_mps = info->radial_velocity_interval_mps;
  if (info->range_cell_m > 0) s->range_cell_m = info->range_cell_m;
  if (info->doppler_cell_mps > 0) s->doppler_cell_mps = info->doppler_cell_mps;
  if (info->beamwidth_az_deg > 0) {
    s->beamwidth_az_deg = info->beamwidth_az_deg;
    /* The plot file describes the sensor: its elevation beamwidth, 0
     * included (not measured), is the truth. */
    s->beamwidth_el_deg = info->beamwidth_el_deg;
  }
  s->coverage_az_deg = info->coverage_az_deg;
  s->coverage_el_deg = info->coverage_el_deg;
  s->dwells = info->dwells;
  s->dwell_time_s = info->dwell_time_s;
  s->dwell_azimuth_deg = info->dwell_azimuth_deg;
  s->dwell_elevation_deg = info->dwell_elevation_deg;
  s->site_latitude_deg = info->site_latitude_deg;
  s->site_longitude_deg = info->site_longitude_deg;
  s->site_altitude_m = info->site_altitude_m;
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
  rf__free(t->trk);
  rf__free(t->pred);
  rf__free(t->meas);
  rf__free(t->order);
  rf__free(t->plot_pred);
  rf__free(t->plot_gated);
  rf__free(t->pairs);
  rf__free(t->uf);
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
  if (cfg->trk_model == RF_TRACK_MODEL_IMM) {
    t->nmod = 2;
    t->models[0] = RF_TRACK_MODEL_CV;
    t->models[1] = RF_TRACK_MODEL_BALLISTIC;
  } else {
    t->nmod = 1;
    t->models[0] = cfg->trk_model;
  }
  for (int m = 0; m < t->nmod; m++) {
    t->q[m] = t->models[m] == RF_TRACK_MODEL_CV ? cfg->trk_accel : cfg->trk_ballistic_accel;
    for (int k = 0; k < t->nmod; k++)
      t->pij[m][k] = t->nmod == 1 ? 1.0 : (m == k ? 1.0 - cfg->trk_imm_switch : cfg->trk_imm_switch);
  }
  t->gate3 = rf_chi2_quantile(3, cfg->trk_gate_pg);
  t->gate4 = rf_chi2_quantile(4, cfg->trk_gate_pg);
  t->max_speed = cfg->trk_max_speed;
  t->cap_tracks = cap;
  t->cap_plots = max_plots;
  t->cap_pairs = 16 * (cap + max_plots);
  t->next_id = 1;
  size_t nodes = cap + max_plots;
  t->trk = rf__malloc(cap * sizeof *t->trk);
  t->pred = rf__malloc(cap * sizeof *t->pred);
  t->meas = rf__malloc(max_plots * sizeof *t->meas);
  t->order = rf__malloc(max_plots * sizeof *t->order);
  t->plot_pred = rf__malloc(max_plots * sizeof *t->plot_pred);
  t->plot_gated = rf__malloc(max_plots * sizeof *t->plot_gated);
  t->pairs = rf__malloc(t->cap_pairs * sizeof *t->pairs);
  t->uf = rf__malloc(nodes * sizeof *t->uf);
  t->loc_pred = rf__malloc(cap * sizeof *t->loc_pred);
  t->loc_plot = rf__malloc(max_plots * sizeof *t->loc_plot);
  t->comp_pred = rf__malloc(cap * sizeof *t->comp_pred);
  t->comp_plot = rf__malloc(max_plots * sizeof *t->comp_plot);
  t->r2c = rf__malloc(RF__COMP_ROWS * sizeof *t->r2c);
  t->dense = rf__malloc((size_t)RF__COMP_ROWS * (RF__COMP_PLOTS + RF__COMP_ROWS) * sizeof *t->dense);
  if (!t->trk || !t->pred || !t->meas || !t->order || !t->plot_pred || !t->plot_gated || !t->pairs ||
      !t->uf || !t->loc_pred || !t->loc_plot || !t->comp_pred || !t->comp_plot || !t->r2c || !t->dense) {
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
  *out = t;
  return 0;
}

size_t rf_tracker_max_rows(const rf_tracker *t) { return t->cap_tracks; }
size_t rf_tracker_live(const rf_tracker *t) { return t->ntrk; }

/* ---- per-track steps ----------------------------------------------------------------- */
static void rf__combine(const rf_tracker *t, rf__track *k) {
  if (t->nmod == 1 || k->mu[1] == 0.0) {
    if (t->nmod > 1) {
      memcpy(k->x[1], k->x[0], sizeof k->x[1]);
      memcpy(k->P[1], k->P[0], sizeof k->P[1]);
    }
    memcpy(k->xc, k->x[0], sizeof k->xc);
    memcpy(k->Pc, k->P[0], sizeof k->Pc);
    return;
  }
  for (int i = 0; i < 6; i++) {
    double s = 0;
    for (int m = 0; m < t->nmod; m++) s += k->mu[m] * k->x[m][i];
    k->xc[i] = s;
  }
  for (int i = 0; i < 36; i++) k->Pc[i] = 0;
  for (int m = 0; m < t->nmod; m++) {
    double d[6];
    for (int i = 0; i < 6; i++) d[i] = k->x[m][i] - k->xc[i];
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 6; j++) k->Pc[i * 6 + j] += k->mu[m] * (k->P[m][i * 6 + j] + d[i] * d[j]);
  }
}

/* IMM mixing and prediction of every model to time `now`. */
static void rf__predict_track(const rf_tracker *t, rf__track *k, double now) {
  double dt = now - k->t;
  if (t->nmod > 1) {
    /* The ballistic model competes only while the track is surely (2 sigma)
     * faster than the ballistic minimum speed: for slower objects gravity
     * is not observable and its model would only pull them down. */
    double sp = sqrt(k->xc[3] * k->xc[3] + k->xc[4] * k->xc[4] + k->xc[5] * k->xc[5]), vpv = 0;
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) vpv += k->xc[3 + a] * k->Pc[(3 + a) * 6 + 3 + b] * k->xc[3 + b];
    double ssp = sp > 0 ? sqrt(vpv) / sp : INFINITY;
    if (!(sp - 2.0 * ssp > t->cfg.trk_ballistic_min_speed)) {
      /* Slow: constant velocity alone (the ballistic model is a copy). */
      k->mu[0] = 1.0;
      k->mu[1] = 0.0;
      k->fast = 0;
      rf_track_predict(RF_TRACK_MODEL_CV, t->cfg.trk_earth, t->s.site_altitude_m, t->q[0], dt, k->x[0], k->P[0]);
      k->t = now;
      rf__combine(t, k);
      return;
    } else if (!k->fast) {
      /* Surely fast from now on: both models start even. */
      k->mu[0] = k->mu[1] = 0.5;
      k->fast = 1;
    }
    double c[RF__NMOD_MAX], x0[RF__NMOD_MAX][6], P0[RF__NMOD_MAX][36];
    for (int j = 0; j < t->nmod; j++) {
      c[j] = 0;
      for (int i = 0; i < t->nmod; i++) c[j] += t->pij[i][j] * k->mu[i];
    }
    for (int j = 0; j < t->nmod; j++) {
      double w[RF__NMOD_MAX];
      for (int i = 0; i < t->nmod; i++) w[i] = c[j] > 0 ? t->pij[i][j] * k->mu[i] / c[j] : (i == j);
      for (int a = 0; a < 6; a++) {
        double s = 0;
        for (int i = 0; i < t->nmod; i++) s += w[i] * k->x[i][a];
        x0[j][a] = s;
      }
      for (int a = 0; a < 36; a++) P0[j][a] = 0;
      for (int i = 0; i < t->nmod; i++) {
        double d[6];
        for (int a = 0; a < 6; a++) d[a] = k->x[i][a] - x0[j][a];
        for (int a = 0; a < 6; a++)
          for (int b = 0; b < 6; b++) P0[j][a * 6 + b] += w[i] * (k->P[i][a * 6 + b] + d[a] * d[b]);
      }
    }
    for (int j = 0; j < t->nmod; j++) {
      memcpy(k->x[j], x0[j], sizeof x0[j]);
      memcpy(k->P[j], P0[j], sizeof P0[j]);
      k->mu[j] = c[j];
    }
  }
  for (int m = 0; m < t->nmod; m++)
    rf_track_predict(t->models[m], t->cfg.trk_earth, t->s.site_altitude_m, t->q[m], dt, k->x[m], k->P[m]);
  k->t = now;
  rf__combine(t, k);
}

/* Updates every model with the plot's measurement; IMM probabilities from
 * the models' likelihoods. */
static void rf__update_track(const rf_tracker *t, rf__track *k, const rf_track_meas *m, int dims) {
  double logl[RF__NMOD_MAX], best = -INFINITY;
  int nm = t->nmod > 1 && k->mu[1] == 0.0 ? 1 : t->nmod; /* slow track: CV alone */
  for (int j = 0; j < nm; j++) {
    double nis = 0, ld = 0;
    if (rf__update(m, dims, t->s.velocity_interval_mps, k->x[j], k->P[j], &nis, &ld,
                   RF__TRACKER_ITERS) < 0) {
      logl[j] = -INFINITY;
      continue;
    }
    logl[j] = -0.5 * (nis + ld);
    if (logl[j] > best) best = logl[j];
  }
  if (nm > 1 && isfinite(best)) {
    double sum = 0;
    for (int j = 0; j < t->nmod; j++) sum += k->mu[j] *= exp(logl[j] - best);
    if (sum > 0)
      for (int j = 0; j < t->nmod; j++) k->mu[j] /= sum;
    /* Keep every model alive so the IMM can switch back. */
    for (int j = 0; j < t->nmod; j++)
      if (k->mu[j] < 1e-6) k->mu[j] = 1e-6;
  }
  rf__combine(t, k);
}

static int rf__is_ballistic(const rf_tracker *t, const rf__track *k) {
  if (t->nmod == 1) return t->models[0] == RF_TRACK_MODEL_BALLISTIC;
  return k->mu[1] > 0.5;
}

static void rf__fill_row(const rf_tracker *t, const rf__track *k, rf_track_row *r) {
  const double *x = k->xc;
  double z[4];
  rf_track_h(x, z);
  r->time_s = k->t;
  r->track_id = k->id;
  r->status = k->status;
  r->east_m = x[0], r->north_m = x[1], r->up_m = x[2];
  r->v_east_mps = x[3], r->v_north_mps = x[4], r->v_up_mps = x[5];
  r->range_m = z[0], r->azimuth_deg = z[1], r->elevation_deg = z[2], r->radial_velocity_mps = z[3];
  rf_geo_enu_to_geodetic(&t->site, x, &r->latitude_deg, &r->longitude_deg, &r->altitude_m);
  r->pos_sigma_m = sqrt(k->Pc[0] + k->Pc[7] + k->Pc[14]);
  r->plots = k->plots;
  r->impact_time_s = r->impact_latitude_deg = r->impact_longitude_deg = NAN;
  if (rf__is_ballistic(t, k)) {
    double tgo, timp, p[3];
    rf_track_ballistic_future(t->cfg.trk_earth, &t->site, x, &tgo, &timp, p);
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
  for (int mm = 0; mm < t->nmod; mm++) {
    memcpy(k->x[mm], x, sizeof x);
    memcpy(k->P[mm], P, sizeof P);
    k->mu[mm] = mm == 0 ? 1.0 : 0.0; /* IMM: constant velocity until surely fast */
  }
  k->id = t->next_id++;
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

static int rf__cmp_range(const void *a, const void *b, void *ctx) {
  const rf_track_meas *m = ctx;
  double ra = m[*(const uint32_t *)a].z[0], rb = m[*(const uint32_t *)b].z[0];
  return ra < rb ? -1 : ra > rb;
}

static int rf__cmp_pair_root(const void *a, const void *b) {
  const rf__pair *p = a, *q = b;
  if (p->root != q->root) return p->root < q->root ? -1 : 1;
  return p->cost < q->cost ? -1 : p->cost > q->cost;
}

static int rf__cmp_pair_cost(const void *a, const void *b) {
  const rf__pair *p = a, *q = b;
  return p->cost < q->cost ? -1 : p->cost > q->cost;
}

/* Gated pairs of the preds with (stage 1) confirmed / coasting or (stage 2)
 * tentative status against the plots not yet assigned. */
static int rf__gate(rf_tracker *t, size_t nplots, int stage, double rr_max) {
  t->npairs = 0;
  for (size_t i = 0; i < t->npred; i++) {
    rf__pred *pr = &t->pred[i];
    int st = t->trk[pr->trk].status;
    if ((stage == 1) != (st != RF_TRACK_TENTATIVE)) continue;
    double win = sqrt(t->gate4 * (pr->S0[0] + rr_max)), lo = pr->zp[0] - win, hi = pr->zp[0] + win;
    /* first plot with range >= lo */
    size_t a = 0, b = nplots;
    while (a < b) {
      size_t mid = (a + b) / 2;
      if (t->meas[t->order[mid]].z[0] < lo) a = mid + 1;
      else b = mid;
    }
    for (size_t o = a; o < nplots; o++) {
      uint32_t j = t->order[o];
      const rf_track_meas *m = &t->meas[j];
      if (m->z[0] > hi) break;
      if (t->plot_pred[j] >= 0) continue;
      double R[4] = {m->sigma[0] * m->sigma[0], m->sigma[1] * m->sigma[1], m->sigma[2] * m->sigma[2],
                     m->sigma[3] * m->sigma[3]};
      double iv = t->s.velocity_interval_mps;
      int dims = iv == 0 || sqrt(pr->S0[15] + R[3]) < iv / RF__AMBIG_SIGMAS ? 4 : 3;
      double S[16], L[16], nu[4], w[4];
      for (int r = 0; r < dims; r++)
        for (int c = 0; c < dims; c++) S[r * dims + c] = pr->S0[r * 4 + c] + (r == c ? R[r] : 0);
      for (int k = 0; k < dims; k++) nu[k] = m->z[k] - pr->zp[k];
      nu[1] = rf_wrap(nu[1], 180.0);
      if (dims == 4 && iv > 0) nu[3] = rf_wrap(nu[3], 0.5 * iv);
      if (rf__chol(S, dims, L) < 0) continue;
      memcpy(w, nu, sizeof w);
      rf__chol_solve(L, dims, w);
      double d2 = 0;
      for (int k = 0; k < dims; k++) d2 += nu[k] * w[k];
      double g = dims == 4 ? t->gate4 : t->gate3;
      if (!(d2 <= g)) continue;
      if (stage == 1) t->plot_gated[j] = 1;
      if (t->npairs == t->cap_pairs)
        return rf__err(RF_ERANGE, "tracker: more than %zu gated track-plot pairs in one dwell; raise "
                                  "tracker.max_tracks or lower tracker.gate_probability", t->cap_pairs);
      t->pairs[t->npairs++] = (rf__pair){(uint32_t)i, j, dims, 0, d2};
    }
  }
  return 0;
}

/* Solves the pairs of one stage: optimal assignment per connected
 * component, a plot or a miss (cost = the gate) for every track. */
static int rf__assign_pairs(rf_tracker *t, size_t nplots) {
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
  for (size_t k = 0; k < t->npairs; k++) t->pairs[k].root = rf__find(t->uf, (int32_t)t->pairs[k].pred);
  qsort(t->pairs, t->npairs, sizeof *t->pairs, rf__cmp_pair_root);
  (void)nplots;
  size_t g0 = 0;
  while (g0 < t->npairs) {
    size_t g1 = g0;
    while (g1 < t->npairs && t->pairs[g1].root == t->pairs[g0].root) g1++;
    size_t nr = 0, nc = 0;
    for (size_t k = g0; k < g1; k++) {
      rf__pair *p = &t->pairs[k];
      if (t->loc_pred[p->pred] < 0) t->loc_pred[p->pred] = (int32_t)nr, t->comp_pred[nr++] = (int32_t)p->pred;
      if (t->loc_plot[p->plot] < 0) t->loc_plot[p->plot] = (int32_t)nc, t->comp_plot[nc++] = (int32_t)p->plot;
    }
    if (nr <= RF__COMP_ROWS && nc <= RF__COMP_PLOTS) {
      size_t cols = nc + nr;
      for (size_t k = 0; k < nr * cols; k++) t->dense[k] = RF_ASSIGN_FORBIDDEN;
      for (size_t r = 0; r < nr; r++) t->dense[r * cols + nc + r] = t->gate4; /* miss */
      for (size_t k = g0; k < g1; k++) {
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
          for (size_t k = g0; k < g1; k++)
            if ((int32_t)t->pairs[k].pred == pi && (int32_t)t->pairs[k].plot == pl) t->pred[pi].dims = t->pairs[k].dims;
        }
      }
    } else {
      /* Greedy by cost (components this large do not occur in practice). */
      qsort(&t->pairs[g0], g1 - g0, sizeof *t->pairs, rf__cmp_pair_cost);
      for (size_t k = g0; k < g1; k++) {
        rf__pair *p = &t->pairs[k];
        if (t->pred[p->pred].plot >= 0 || t->plot_pred[p->plot] >= 0) continue;
        t->pred[p->pred].plot = (int32_t)p->plot;
        t->pred[p->pred].dims = p->dims;
        t->plot_pred[p->plot] = (int32_t)p->pred;
      }
    }
    for (size_t r = 0; r < nr; r++) t->loc_pred[t->comp_pred[r]] = -1;
    for (size_t c = 0; c < nc; c++) t->loc_plot[t->comp_plot[c]] = -1;
    g0 = g1;
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
 * beamwidths; twice the unmeasured-elevation sigma for linear arrays). */
static double rf__max_sigma(const rf_tracker *t, const rf__track *k) {
  if (t->cfg.trk_max_pos_sigma > 0) return t->cfg.trk_max_pos_sigma;
  double r = sqrt(k->xc[0] * k->xc[0] + k->xc[1] * k->xc[1] + k->xc[2] * k->xc[2]);
  double bel = t->s.beamwidth_el_deg > 0 ? t->s.beamwidth_el_deg : 2.0 * t->cfg.trk_el_sigma_unmeasured;
  double a = r * t->s.beamwidth_az_deg * RF__DEG, e = r * bel * RF__DEG;
  return sqrt(t->s.range_cell_m * t->s.range_cell_m + a * a + e * e);
}

static uint32_t rf__popcount(uint32_t v) { return (uint32_t)__builtin_popcount(v); }

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
  qsort_r(t->order, n, sizeof *t->order, rf__cmp_range, t->meas);
  /* Predict the tracks this dwell looks at. */
  t->npred = 0;
  for (size_t i = 0; i < t->ntrk; i++) {
    rf__track *k = &t->trk[i];
    int cov = rf__covered(t, k, dwell, now);
    if (!cov) continue;
    rf__predict_track(t, k, now);
    rf__pred *pr = &t->pred[t->npred++];
    double H[24];
    pr->look = cov == 2;
    pr->trk = (uint32_t)i;
    pr->plot = -1;
    pr->dims = 3;
    rf__h_jac(k->xc, pr->zp, H);
    rf__hph(H, k->Pc, pr->S0);
    double vb, vv;
    rf__vr_second_order(k->xc, k->Pc, &vb, &vv);
    pr->S0[15] += vv;
  }
  /* Confirmed tracks first, then tentative ones on the plots left. */
  int st;
  for (int stage = 1; stage <= 2; stage++) {
    if ((st = rf__gate(t, n, stage, rr_max)) || (st = rf__assign_pairs(t, n))) return st;
  }
  size_t nr = 0;
  const int M = t->cfg.trk_confirm_m, N = t->cfg.trk_confirm_n;
  const uint32_t win = N >= 32 ? 0xffffffffu : ((1u << N) - 1);
  for (size_t i = 0; i < t->npred; i++) {
    rf__pred *pr = &t->pred[i];
    rf__track *k = &t->trk[pr->trk];
    if (pr->plot < 0 && !pr->look) continue; /* seen by the fan only: no news */
    k->looks++;
    if (pr->plot >= 0) {
      rf__update_track(t, k, &t->meas[pr->plot], pr->dims);
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
    if (nr == max_rows) return rf__err(RF_ERANGE, "tracker: more than %zu rows in one dwell", max_rows);
    rf__fill_row(t, k, &rows[nr++]);
  }
  /* New tentative tracks on plots no track took and no confirmed track gated. */
  for (size_t o = 0; o < n; o++) {
    uint32_t j = t->order[o];
    if (t->plot_pred[j] >= 0 || t->plot_gated[j]) continue;
    if (t->ntrk == t->cap_tracks)
      return rf__err(RF_ERANGE, "tracker: more than %zu tracks alive; raise tracker.max_tracks", t->cap_tracks);
    rf__track *k = &t->trk[t->ntrk++];
    rf__init_track(t, k, &t->meas[j], now);
    if (nr == max_rows) return rf__err(RF_ERANGE, "tracker: more than %zu rows in one dwell", max_rows);
    rf__fill_row(t, k, &rows[nr++]);
  }
  /* Drop deleted tracks (their last row says so). */
  for (size_t i = 0; i < t->ntrk;) {
    if (t->trk[i].status == RF_TRACK_DELETED) t->trk[i] = t->trk[--t->ntrk];
    else i++;
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
