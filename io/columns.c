/* radarflow io/: the glossary of product columns (table.h): unit,
 * description and CSV precision of every column of plots and tracks, by
 * name, so a quantity reads the same in every file. docs/formats.md lists
 * the same. Precision: what the quantity needs, well under its measurement
 * error - times to the microsecond (float64 epoch seconds resolve ~0.24 us),
 * metres to the millimetre, velocities to the mm/s, directions to 1e-7 deg
 * (1.7 mm at 1000 km), latitude and longitude to 1e-8 deg (1.1 mm),
 * probabilities to 1e-6. */
#include "table.h"

#include <string.h>

#define RF__EPOCH_UNIT "s since 1970-01-01T00:00:00Z"

/* `what` NULL: any table; else the entry is that table's own. */
static const struct {
  const char *what;
  rf__col_doc d;
} rf__glossary[] = {
    {"plots", {"time_s", RF__EPOCH_UNIT, "time of the plot: the mid time of its dwell (CPI), UTC (POSIX time)", 6}},
    {"tracks", {"time_s", RF__EPOCH_UNIT, "time of the update, UTC (POSIX time)", 6}},
    {NULL, {"dwell", "1", "index of the dwell (CPI) in the capture", -1}},
    {"plots", {"range_m", "m", "refined (interpolated) one-way range", 3}},
    {"tracks", {"range_m", "m", "one-way range of the estimated position", 3}},
    {"plots",
     {"radial_velocity_mps", "m/s",
      "refined radial velocity, + receding; folded into the unambiguous interval [-lambda/(4 PRI), +lambda/(4 PRI))",
      3}},
    {"tracks",
     {"radial_velocity_mps", "m/s", "radial velocity of the estimated state, + receding; not folded", 3}},
    {NULL, {"azimuth_deg", "deg", "azimuth, clockwise from north, in [0, 360)", 7}},
    {NULL, {"elevation_deg", "deg", "elevation above the local horizontal", 7}},
    {NULL, {"snr_db", "dB", "estimated post-processing signal-to-noise ratio", 3}},
    {NULL, {"east_m", "m", "position east of the site (ENU frame at the array phase centre)", 3}},
    {NULL, {"north_m", "m", "position north of the site (ENU)", 3}},
    {NULL, {"up_m", "m", "position up from the site (ENU)", 3}},
    {NULL, {"track_id", "1", "track identifier, stable for the life of a track", -1}},
    {NULL, {"status", "", "track status: tentative, confirmed, coasting or deleted", -1}},
    {NULL, {"v_east_mps", "m/s", "estimated velocity, east (ENU)", 3}},
    {NULL, {"v_north_mps", "m/s", "estimated velocity, north (ENU)", 3}},
    {NULL, {"v_up_mps", "m/s", "estimated velocity, up (ENU)", 3}},
    {NULL, {"latitude_deg", "deg", "WGS-84 geodetic latitude of the estimated position", 8}},
    {NULL, {"longitude_deg", "deg", "WGS-84 longitude of the estimated position", 8}},
    {NULL, {"altitude_m", "m", "height of the estimated position above the WGS-84 ellipsoid", 3}},
    {NULL, {"pos_sigma_m", "m", "square root of the trace of the position covariance", 3}},
    {NULL, {"plots", "1", "plots associated with the track so far", -1}},
    {NULL, {"time_to_go_s", "s", "predicted time to closest approach to the site; NaN when opening", 3}},
    {NULL,
     {"impact_time_s", RF__EPOCH_UNIT,
      "predicted impact time of a ballistic track, UTC; NaN when not ballistic or not coming down within an hour", 3}},
    {NULL, {"impact_latitude_deg", "deg", "WGS-84 latitude of the predicted impact point; NaN as impact_time_s", 7}},
    {NULL, {"impact_longitude_deg", "deg", "WGS-84 longitude of the predicted impact point; NaN as impact_time_s", 7}},
    {NULL, {"imm_cv_prob", "1", "IMM probability of the constant-velocity mode", 6}},
    {NULL, {"imm_manoeuvre_prob", "1", "IMM probability of the manoeuvre mode (coordinated turns left and right together)", 6}},
    {NULL, {"imm_ballistic_prob", "1", "IMM probability of the ballistic mode (0 while the track is not surely fast)", 6}},
};

const rf__col_doc *rf__col_doc_find(const char *what, const char *name) {
  const rf__col_doc *any = NULL;
  for (size_t i = 0; i < sizeof rf__glossary / sizeof rf__glossary[0]; i++) {
    if (strcmp(rf__glossary[i].d.name, name)) continue;
    if (rf__glossary[i].what && what && !strcmp(rf__glossary[i].what, what)) return &rf__glossary[i].d;
    if (!rf__glossary[i].what || !any) any = &rf__glossary[i].d;
  }
  return any;
}
