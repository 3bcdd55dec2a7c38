/* radarflow: small 2D plotting layer over cairo (io/png_cairo.c) for the
 * quick-look pictures: a canvas written as PNG, axes with ticks and unit
 * labels, heat maps in the viridis colour map with a colour bar, markers,
 * lines and text. cairo and its font rendering do all drawing and PNG
 * encoding; cairo types stay inside png_cairo.c.
 *
 * Pixel coordinates: x to the right, y down, (0, 0) the top-left corner.
 * Data coordinates map into a frame (rf_plot_frame) linearly, y up. */
#ifndef RF_PLOTDRAW_H
#define RF_PLOTDRAW_H

#include "../host/rf_common.h"

/* A colour, components in [0, 1]. */
typedef struct rf_rgb {
  double r, g, b;
} rf_rgb;

/* A plot area: the pixel box [px0, px1] x [py0, py1] (py0 the top) shows
 * data x in [x0, x1] left to right and y in [y0, y1] bottom to top. */
typedef struct rf_plot_frame {
  double px0, py0, px1, py1;
  double x0, x1, y0, y1;
} rf_plot_frame;

/* Pixel position of data point (x, y) in frame f (not clipped). */
void rf_plot_frame_pixel(const rf_plot_frame *f, double x, double y, double *px, double *py);

/* The viridis colour map (matplotlib's 256-entry table, perceptually
 * uniform): t in [0, 1] (clamped; NaN gives entry 0) into 8-bit RGB. */
void rf_colormap_viridis(double t, uint8_t rgb[3]);
/* Entry i (0..255) of the table. */
void rf_colormap_viridis_entry(int i, uint8_t rgb[3]);

/* A "nice" tick step (1, 2 or 5 x 10^n) giving about `ticks` intervals
 * over span (> 0). */
double rf_nice_step(double span, int ticks);

typedef struct rf_canvas rf_canvas;

/* A width x height RGB canvas (16..8192 each), filled white. RF_ENOMEM or
 * RF_EINVAL. */
int rf_canvas_create(rf_canvas **cv, int width, int height);
void rf_canvas_destroy(rf_canvas *cv); /* NULL is a no-op */
/* Encodes the canvas as PNG and writes it to path atomically (temporary
 * name + rename). RF_EIO naming the file on failure. */
int rf_canvas_write_png(rf_canvas *cv, const char *path);
/* Any cairo error so far: 0 or RF_ENOMEM/RF_EIO with a message. */
int rf_canvas_status(rf_canvas *cv, const char *what);

/* Text. align: 0 left, 1 centre, 2 right of px; valign: 0 baseline at py,
 * 1 vertically centred on py, 2 top at py. angle_deg rotates about (px, py)
 * counter-clockwise (90: reading upwards). bold: 0/1. Text is UTF-8. */
void rf_draw_text(rf_canvas *cv, double px, double py, const char *text, double size_px,
                  int align, int valign, double angle_deg, int bold, rf_rgb col);
/* Width in pixels of text at size_px. */
double rf_text_width(rf_canvas *cv, const char *text, double size_px, int bold);

/* Title (bold, centred at the top) and an optional subtitle under it. */
void rf_draw_title(rf_canvas *cv, const char *title, const char *subtitle);

/* Frame box, ticks with labels every nice step, optional grid lines, and
 * the axis labels (with units) below and to the left. */
void rf_draw_axes(rf_canvas *cv, const rf_plot_frame *f, const char *xlabel, const char *ylabel,
                  int grid);

/* Heat map of values (dB) v[ny][nx] filling frame f: row 0 at the top
 * (y1), column 0 at the left (x0); viridis from vmin to vmax; NaN cells are
 * drawn light grey (masked). Pixels are drawn unsmoothed. */
int rf_draw_heatmap(rf_canvas *cv, const rf_plot_frame *f, const float *v, size_t nx, size_t ny,
                    double vmin, double vmax);
/* Vertical colour bar in the box (px, py, w, h) from vmin (bottom) to vmax
 * (top), ticked, with a label (units) to its right. */
void rf_draw_colorbar(rf_canvas *cv, double px, double py, double w, double h, double vmin,
                      double vmax, const char *label);

/* Markers at data (x, y), clipped to the frame. Outline shapes leave their
 * centre undrawn so what lies under a marker stays visible. */
enum rf_marker {
  RF_MARK_DOT = 0,    /* filled disc */
  RF_MARK_CIRCLE = 1, /* ring */
  RF_MARK_SQUARE = 2, /* square outline */
  RF_MARK_CROSS = 3,  /* x */
  RF_MARK_DIAMOND = 4 /* diamond outline */
};
void rf_draw_marker(rf_canvas *cv, const rf_plot_frame *f, double x, double y, int shape,
                    double size_px, rf_rgb col, double line_px);
/* Polyline through n data points, clipped to the frame; NaN breaks it. */
void rf_draw_polyline(rf_canvas *cv, const rf_plot_frame *f, const double *x, const double *y,
                      size_t n, rf_rgb col, double line_px);
/* A segment (dashed if dash_px > 0) and a circle in data units, clipped to
 * the frame (the circle assumes equal x and y scales). */
void rf_draw_segment(rf_canvas *cv, const rf_plot_frame *f, double x0, double y0, double x1,
                     double y1, rf_rgb col, double line_px, double dash_px);
void rf_draw_circle(rf_canvas *cv, const rf_plot_frame *f, double cx, double cy, double r,
                    rf_rgb col, double line_px, double dash_px);
/* Text at data (x, y) offset by (dx, dy) pixels, clipped to the frame. */
void rf_draw_text_at(rf_canvas *cv, const rf_plot_frame *f, double x, double y, double dx,
                     double dy, const char *text, double size_px, rf_rgb col);

/* Legend: a box at (px, py) (top-left) with one row per entry; white with
 * dark text, or (dark = 1) dark with white text for use over heat maps. */
typedef struct rf_legend_entry {
  const char *label;
  int shape;   /* RF_MARK_*, or -1 for a line sample */
  rf_rgb col;
} rf_legend_entry;
void rf_draw_legend(rf_canvas *cv, double px, double py, const rf_legend_entry *e, size_t n,
                    int dark);

/* Width and height in pixels of the legend rf_draw_legend draws. */
void rf_legend_size(rf_canvas *cv, const rf_legend_entry *e, size_t n, double *w, double *h);

/* Labels that do not collide: boxes (pixels) taken so far on a canvas.
 * Caller-owned; start from {0}; rf_labels_free releases it. */
typedef struct rf_box {
  double x0, y0, x1, y1;
} rf_box;
typedef struct rf_labels {
  rf_box *v;
  size_t n, cap;
} rf_labels;
/* Marks a box as taken (text, legends, markers that labels must not
 * cover). 0 or RF_ENOMEM. */
int rf_labels_reserve(rf_labels *l, double x0, double y0, double x1, double y1);
/* Draws text (bold) near data point (x, y) of frame f at the first of
 * sixteen spots around it (right, left, above, below, then rows stacked
 * right and left of it with a leader line) that lies inside the frame and
 * clear of every box taken, and takes its box. 1 drawn, 0 no clear spot (nothing drawn), RF_ENOMEM. */
int rf_label_place(rf_canvas *cv, rf_labels *l, const rf_plot_frame *f, double x, double y, const char *text,
                   double size_px, rf_rgb col);
void rf_labels_free(rf_labels *l);

/* Common colours. */
#define RF_RGB_BLACK ((rf_rgb){0, 0, 0})
#define RF_RGB_WHITE ((rf_rgb){1, 1, 1})
#define RF_RGB_GREY ((rf_rgb){0.55, 0.55, 0.55})
#define RF_RGB_LIGHT ((rf_rgb){0.85, 0.85, 0.85})
#define RF_RGB_TEXT ((rf_rgb){0.1, 0.1, 0.1})
#define RF_RGB_RED ((rf_rgb){0.90, 0.10, 0.10})

#endif
