/* radarflow pipelines/: the tracker's products - run the tracker over a
 * plot list and write tracks.h5, tracks.csv, plots.ast and tracks.ast, all
 * four or none. */
#include "rf_tracker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/rf_asterix.h"

void rf_track_count_rows(const rf_track_row *rows, size_t n, rf_track_counts *c) {
  memset(c, 0, sizeof *c);
  int32_t max_id = 0;
  for (size_t i = 0; i < n; i++)
    if (rows[i].track_id > max_id) max_id = rows[i].track_id;
  if (max_id <= 0) return;
  /* Per id: 1 seen, 2 ever confirmed (or coasting after it), 4 last row deleted. */
  unsigned char *f = rf__calloc((size_t)max_id + 1, 1);
  if (!f) return;
  for (size_t i = 0; i < n; i++) {
    int32_t id = rows[i].track_id;
    if (id <= 0) continue;
    int s = rows[i].status;
    f[id] = (unsigned char)((f[id] & 3) | 1 | (s == RF_TRACK_CONFIRMED || s == RF_TRACK_COASTING ? 2 : 0) |
                            (s == RF_TRACK_DELETED ? 4 : 0));
  }
  for (int32_t id = 1; id <= max_id; id++) {
    if (!f[id]) continue;
    c->ids++;
    if (f[id] & 2) c->confirmed++;
    else c->tentative++;
    if (f[id] & 4) c->deleted++;
  }
  rf__free(f);
}

int rf_track_products_sensor(const rf_plot *plots, size_t n, const rf_config *cfg,
                             const rf_track_sensor *s, const rf_product_info *info,
                             const char *outdir, size_t *ntracks) {
  rf_track_counts c;
  int st = rf_track_products_counted(plots, n, cfg, s, info, outdir, &c);
  if (ntracks) *ntracks = st ? 0 : c.ids;
  return st;
}

int rf_track_products_counted(const rf_plot *plots, size_t n, const rf_config *cfg,
                              const rf_track_sensor *s, const rf_product_info *info,
                              const char *outdir, rf_track_counts *counts) {
  rf_track_list rows = {0};
  char path[4][4200];
  static const char *const names[4] = {"tracks.h5", "tracks.csv", "plots.ast", "tracks.ast"};
  int written = 0, st;
  memset(counts, 0, sizeof *counts);
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
    rf_warn("asterix: %zu plots and %zu track rows beyond CAT048's 256 NM are not in the CAT048 records",
            sk_plots, sk_tracks);
  rf_track_count_rows(rows.v, rows.n, counts);
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
