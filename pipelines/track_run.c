/* radarflow pipelines/: the tracker's products - run the tracker over a
 * plot list and write tracks.h5, tracks.csv, plots.ast and tracks.ast, all
 * four or none. */
#include "rf_tracker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/rf_asterix.h"

int rf_track_products_sensor(const rf_plot *plots, size_t n, const rf_config *cfg,
                             const rf_track_sensor *s, const rf_product_info *info,
                             const char *outdir, size_t *ntracks) {
  rf_track_list rows = {0};
  char path[4][4200];
  static const char *const names[4] = {"tracks.h5", "tracks.csv", "plots.ast", "tracks.ast"};
  int written = 0, st;
  if (ntracks) *ntracks = 0;
  if (!outdir || (n && !plots) || !cfg || !s) return rf__err(RF_EINVAL, "track products: bad arguments");
  if ((st = rf_track_plots(plots, n, cfg, s, &rows))) goto done;
  if ((st = rf_mkdirs(outdir))) goto done;
  for (int k = 0; k < 4; k++)
    if (snprintf(path[k], sizeof path[k], "%s/%s", outdir, names[k]) >= (int)sizeof path[k]) {
      st = rf__err(RF_EINVAL, "%s: path too long", outdir);
      goto done;
    }
  rf_asterix_source src = {cfg->ast_sac, cfg->ast_sic, cfg->ast_service};
  size_t sk_plots = 0, sk_tracks = 0;
  if ((st = rf_tracks_write_h5(path[0], rows.v, rows.n, info))) goto done;
  written = 1;
  if ((st = rf_tracks_write_csv(path[1], rows.v, rows.n))) goto done;
  written = 2;
  if ((st = rf_asterix_write_plots(path[2], &src, plots, n, &sk_plots))) goto done;
  written = 3;
  if ((st = rf_asterix_write_tracks(path[3], &src, rows.v, rows.n, &sk_tracks))) goto done;
  written = 4;
  if (sk_plots || sk_tracks)
    rf_log(1, "asterix: %zu plots and %zu track rows beyond CAT048's 256 NM are not in the CAT048 records",
           sk_plots, sk_tracks);
  if (ntracks) {
    int32_t max_id = 0;
    for (size_t i = 0; i < rows.n; i++)
      if (rows.v[i].track_id > max_id) max_id = rows.v[i].track_id;
    *ntracks = (size_t)max_id;
  }
done:
  if (st)
    for (int k = 0; k < written && k < 4; k++) remove(path[k]);
  rf_track_list_free(&rows);
  return st;
}

int rf_track_products(const rf_plot *plots, size_t n, const rf_config *cfg,
                      const rf_product_info *info, double ambiguity_mps_or_0, const char *outdir,
                      size_t *ntracks) {
  rf_track_sensor s;
  rf_track_sensor_from_info(&s, info, cfg);
  if (ambiguity_mps_or_0 > 0) s.velocity_interval_mps = ambiguity_mps_or_0;
  return rf_track_products_sensor(plots, n, cfg, &s, info, outdir, ntracks);
}
