/* radarflow: quick-look pictures of a product folder (`radarflow
 * quicklook`, docs/quicklook.md). Reads OUTDIR/run.json, plots.csv (or
 * plots.h5) and tracks.csv when present, recomputes one dwell's
 * range-Doppler map from the capture with the settings in run.json, and
 * writes PNG images and an index.html into OUTDIR/quicklook/. For a batch
 * OUTROOT (subfolders holding run.json) it does that for every capture and
 * writes OUTROOT/quicklook/index.html with every capture's images and its
 * summary row. */
#ifndef RF_QUICKLOOK_H
#define RF_QUICKLOOK_H

#include "../io/rf_plotdraw.h"

/* Image sizes, pixels. */
#define RF_QL_RD_WIDTH 1500
#define RF_QL_RD_HEIGHT 760
#define RF_QL_PPI_WIDTH 1060
#define RF_QL_PPI_HEIGHT 1000
#define RF_QL_TIME_WIDTH 1460
#define RF_QL_TIME_HEIGHT 920

/* File names inside OUTDIR/quicklook/. The range-Doppler map is
 * "rd_dwell<D>_beam<B>.png" so maps of several dwells can sit side by side. */
#define RF_QL_PPI_PNG "ppi.png"
#define RF_QL_TIME_PNG "tracks_time.png"
#define RF_QL_INDEX "index.html"
#define RF_QL_DIR "quicklook"
/* The list of files quicklook made in OUTDIR/quicklook/ (the only ones it
 * ever removes). */
#define RF_QL_MANIFEST ".radarflow-quicklook"

typedef struct rf_quicklook_opts {
  long dwell;          /* -1: the dwell of the strongest plot (0 when none) */
  long beam;           /* -1: the beam nearest the strongest plot of that dwell
                          (the centre beam when none) */
  const char *capture; /* NULL: run.json input.path, as written, else taken
                          relative to OUTDIR (borrowed) */
} rf_quicklook_opts;
void rf_quicklook_opts_default(rf_quicklook_opts *o);

/* What was drawn, and where, for one product folder. Frames give the data
 * to pixel mapping of each plot area (rf_plot_frame_pixel). */
typedef struct rf_quicklook_result {
  int has_rd;            /* 0 when the capture could not be opened (warned) */
  long dwell, beam;      /* of the range-Doppler map */
  char rd_png[64];       /* its file name in OUTDIR/quicklook/, "" if none */
  rf_plot_frame rd;      /* x range km, y radial velocity m/s */
  double rd_vmin_db, rd_vmax_db; /* colour scale of the map */
  rf_plot_frame ppi;     /* x east km, y north km */
  rf_plot_frame range_t; /* x seconds since time0_s, y range km */
  rf_plot_frame vel_t;   /* x seconds since time0_s, y radial velocity m/s: the
                            plots' (as measured, folded) and the tracks' folded
                            alike when vel_folded, else both unfolded */
  rf_plot_frame vel_track_t; /* the tracks' unfolded radial velocity: its own
                            panel when vel_folded, else vel_t */
  int vel_folded;        /* a track is faster than the velocity ambiguity */
  double vel_ambiguity_mps; /* lambda / (4 PRI), NaN when unknown */
  double time0_s;
  size_t plots, tracks, track_rows;
  char capture_name[256];
} rf_quicklook_result;

/* One product folder: writes OUTDIR/quicklook/{rd_*.png, ppi.png,
 * tracks_time.png, index.html}, each atomically, and the list of what it
 * made there (RF_QL_MANIFEST). Pictures it made of earlier products
 * (another run.json) and did not redraw now are removed; those of the same
 * products stay (maps of other dwells); nothing else is ever removed.
 * res may be NULL. RF_EFORMAT naming the file and field for unreadable
 * products; RF_EINVAL for a dwell or beam out of range. The capture that
 * run.json names may be missing: then only the range-Doppler map is left
 * out (a warning on stderr); a capture named in o->capture must open
 * (RF_EFORMAT naming it). */
int rf_quicklook_product(const char *outdir, const rf_quicklook_opts *o, rf_quicklook_result *res);

/* 1 when OUTDIR/quicklook/ holds pictures quicklook made (its list). */
int rf_quicklook_present(const char *outdir);
/* Removes what quicklook made in OUTDIR/quicklook/ (by its list), and the
 * folder when that leaves it empty. 0 (also when there is nothing). */
int rf_quicklook_remove(const char *outdir);

/* 1 if dir is a batch OUTROOT: it has a subfolder holding run.json. */
int rf_quicklook_is_batch(const char *dir);

/* A batch OUTROOT: rf_quicklook_product for every capture folder (one that
 * fails is reported on stderr and shown as failed in the index; the others
 * go on), then OUTROOT/quicklook/index.html with OUTROOT/summary.json's rows
 * when present. Returns the first failure's status, after the index is
 * written; *captures (may be NULL) the folders drawn. */
int rf_quicklook_batch(const char *outroot, const rf_quicklook_opts *o, size_t *captures);

/* Either of the above, by what dir holds. */
int rf_quicklook(const char *dir, const rf_quicklook_opts *o);

#endif
