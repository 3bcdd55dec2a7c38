/* radarflow: WGS-84 geodesy - geodetic <-> ECEF <-> site ENU (formats.md:
 * ENU origin at the array phase centre, site_* WGS-84 geodetic). */
#ifndef RF_GEODESY_H
#define RF_GEODESY_H

#include "rf_common.h"

#define RF_WGS84_A 6378137.0                 /* semi-major axis, m */
#define RF_WGS84_F (1.0 / 298.257223563)     /* flattening */

/* A site: its geodetic position and the ECEF <-> ENU rotation, made once. */
typedef struct rf_geo_site {
  double lat_deg, lon_deg, alt_m;
  double ecef[3];
  double sin_lat, cos_lat, sin_lon, cos_lon;
} rf_geo_site;

/* lat in [-90, 90], lon any, alt any (metres above the ellipsoid). */
void rf_geo_site_init(rf_geo_site *s, double lat_deg, double lon_deg, double alt_m);

void rf_geodetic_to_ecef(double lat_deg, double lon_deg, double alt_m, double ecef[3]);
/* Iterative (Bowring start, converges to < 1 mm for |alt| < 1e7 m);
 * longitude in (-180, 180]. */
void rf_ecef_to_geodetic(const double ecef[3], double *lat_deg, double *lon_deg, double *alt_m);

/* Site ENU (metres) <-> WGS-84 geodetic. */
void rf_geo_enu_to_geodetic(const rf_geo_site *s, const double enu[3], double *lat_deg,
                            double *lon_deg, double *alt_m);
void rf_geo_geodetic_to_enu(const rf_geo_site *s, double lat_deg, double lon_deg, double alt_m,
                            double enu[3]);
/* Rotations only (vectors, not points). */
void rf_geo_enu_to_ecef_vec(const rf_geo_site *s, const double enu[3], double ecef[3]);
void rf_geo_ecef_to_enu_vec(const rf_geo_site *s, const double ecef[3], double enu[3]);

#endif
