/* radarflow validate: the curves as PNG (cairo, io/rf_plotdraw.h, as the
 * quick look draws). */
#include "validate.h"

#include "../../io/rf_plotdraw.h"

static const rf_rgb vr_palette[] = {
    {0.05, 0.05, 0.05}, {0.55, 0.55, 0.55}, {0.12, 0.47, 0.71}, {0.84, 0.15, 0.16},
    {0.17, 0.63, 0.17}, {0.58, 0.40, 0.74}, {1.00, 0.50, 0.05}, {0.55, 0.34, 0.29}};

int vr_plot_png(const char *path, const char *title, const char *subtitle, const char *xlabel, const char *ylabel,
                double x0, double x1, double y0, double y1, const vr_series *s, size_t ns) {
  rf_canvas *cv = NULL;
  int st = rf_canvas_create(&cv, 900, 620);
  if (st) return st;
  rf_draw_title(cv, title, subtitle);
  rf_plot_frame f = {90, 70, 640, 560, x0, x1, y0, y1};
  rf_draw_axes(cv, &f, xlabel, ylabel, 1);
  rf_legend_entry le[16];
  size_t nl = 0;
  for (size_t i = 0; i < ns; i++) {
    rf_rgb c = vr_palette[s[i].colour % (int)(sizeof vr_palette / sizeof vr_palette[0])];
    if (s[i].marker < 0) {
      if (s[i].dashed)
        for (size_t j = 1; j < s[i].n; j++)
          rf_draw_segment(cv, &f, s[i].x[j - 1], s[i].y[j - 1], s[i].x[j], s[i].y[j], c, 1.5, 5);
      else
        rf_draw_polyline(cv, &f, s[i].x, s[i].y, s[i].n, c, 2.0);
    } else {
      for (size_t j = 0; j < s[i].n; j++) rf_draw_marker(cv, &f, s[i].x[j], s[i].y[j], s[i].marker, 9, c, 1.6);
    }
    if (s[i].label && nl < 16) le[nl++] = (rf_legend_entry){s[i].label, s[i].marker, c};
  }
  rf_draw_legend(cv, 655, 75, le, nl, 0);
  if (!(st = rf_canvas_status(cv, path))) st = rf_canvas_write_png(cv, path);
  rf_canvas_destroy(cv);
  return st;
}
