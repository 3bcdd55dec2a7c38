/* radarflow: the plotting layer of rf_plotdraw.h on cairo (image surfaces,
 * toy text API over fontconfig, PNG encoder). The PNG is encoded into memory
 * and written with rf_write_file_atomic, so a picture appears whole or not
 * at all. */
#include "rf_plotdraw.h"
#include "rf_products.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RF__FONT "DejaVu Sans"

struct rf_canvas {
  cairo_surface_t *surface;
  cairo_t *cr;
  int width, height;
};

/* matplotlib's viridis table (_cm_listed.py), rounded to 8 bits. */
static const uint8_t rf__viridis[256][3] = {
    {68,1,84}, {68,2,86}, {69,4,87}, {69,5,89}, {70,7,90}, {70,8,92}, {70,10,93}, {70,11,94},
    {71,13,96}, {71,14,97}, {71,16,99}, {71,17,100}, {71,19,101}, {72,20,103}, {72,22,104}, {72,23,105},
    {72,24,106}, {72,26,108}, {72,27,109}, {72,28,110}, {72,29,111}, {72,31,112}, {72,32,113}, {72,33,115},
    {72,35,116}, {72,36,117}, {72,37,118}, {72,38,119}, {72,40,120}, {72,41,121}, {71,42,122}, {71,44,122},
    {71,45,123}, {71,46,124}, {71,47,125}, {70,48,126}, {70,50,126}, {70,51,127}, {70,52,128}, {69,53,129},
    {69,55,129}, {69,56,130}, {68,57,131}, {68,58,131}, {68,59,132}, {67,61,132}, {67,62,133}, {66,63,133},
    {66,64,134}, {66,65,134}, {65,66,135}, {65,68,135}, {64,69,136}, {64,70,136}, {63,71,136}, {63,72,137},
    {62,73,137}, {62,74,137}, {62,76,138}, {61,77,138}, {61,78,138}, {60,79,138}, {60,80,139}, {59,81,139},
    {59,82,139}, {58,83,139}, {58,84,140}, {57,85,140}, {57,86,140}, {56,88,140}, {56,89,140}, {55,90,140},
    {55,91,141}, {54,92,141}, {54,93,141}, {53,94,141}, {53,95,141}, {52,96,141}, {52,97,141}, {51,98,141},
    {51,99,141}, {50,100,142}, {50,101,142}, {49,102,142}, {49,103,142}, {49,104,142}, {48,105,142}, {48,106,142},
    {47,107,142}, {47,108,142}, {46,109,142}, {46,110,142}, {46,111,142}, {45,112,142}, {45,113,142}, {44,113,142},
    {44,114,142}, {44,115,142}, {43,116,142}, {43,117,142}, {42,118,142}, {42,119,142}, {42,120,142}, {41,121,142},
    {41,122,142}, {41,123,142}, {40,124,142}, {40,125,142}, {39,126,142}, {39,127,142}, {39,128,142}, {38,129,142},
    {38,130,142}, {38,130,142}, {37,131,142}, {37,132,142}, {37,133,142}, {36,134,142}, {36,135,142}, {35,136,142},
    {35,137,142}, {35,138,141}, {34,139,141}, {34,140,141}, {34,141,141}, {33,142,141}, {33,143,141}, {33,144,141},
    {33,145,140}, {32,146,140}, {32,146,140}, {32,147,140}, {31,148,140}, {31,149,139}, {31,150,139}, {31,151,139},
    {31,152,139}, {31,153,138}, {31,154,138}, {30,155,138}, {30,156,137}, {30,157,137}, {31,158,137}, {31,159,136},
    {31,160,136}, {31,161,136}, {31,161,135}, {31,162,135}, {32,163,134}, {32,164,134}, {33,165,133}, {33,166,133},
    {34,167,133}, {34,168,132}, {35,169,131}, {36,170,131}, {37,171,130}, {37,172,130}, {38,173,129}, {39,173,129},
    {40,174,128}, {41,175,127}, {42,176,127}, {44,177,126}, {45,178,125}, {46,179,124}, {47,180,124}, {49,181,123},
    {50,182,122}, {52,182,121}, {53,183,121}, {55,184,120}, {56,185,119}, {58,186,118}, {59,187,117}, {61,188,116},
    {63,188,115}, {64,189,114}, {66,190,113}, {68,191,112}, {70,192,111}, {72,193,110}, {74,193,109}, {76,194,108},
    {78,195,107}, {80,196,106}, {82,197,105}, {84,197,104}, {86,198,103}, {88,199,101}, {90,200,100}, {92,200,99},
    {94,201,98}, {96,202,96}, {99,203,95}, {101,203,94}, {103,204,92}, {105,205,91}, {108,205,90}, {110,206,88},
    {112,207,87}, {115,208,86}, {117,208,84}, {119,209,83}, {122,209,81}, {124,210,80}, {127,211,78}, {129,211,77},
    {132,212,75}, {134,213,73}, {137,213,72}, {139,214,70}, {142,214,69}, {144,215,67}, {147,215,65}, {149,216,64},
    {152,216,62}, {155,217,60}, {157,217,59}, {160,218,57}, {162,218,55}, {165,219,54}, {168,219,52}, {170,220,50},
    {173,220,48}, {176,221,47}, {178,221,45}, {181,222,43}, {184,222,41}, {186,222,40}, {189,223,38}, {192,223,37},
    {194,223,35}, {197,224,33}, {200,224,32}, {202,225,31}, {205,225,29}, {208,225,28}, {210,226,27}, {213,226,26},
    {216,226,25}, {218,227,25}, {221,227,24}, {223,227,24}, {226,228,24}, {229,228,25}, {231,228,25}, {234,229,26},
    {236,229,27}, {239,229,28}, {241,229,29}, {244,230,30}, {246,230,32}, {248,230,33}, {251,231,35}, {253,231,37},
};

void rf_colormap_viridis_entry(int i, uint8_t rgb[3]) {
  if (i < 0) i = 0;
  if (i > 255) i = 255;
  memcpy(rgb, rf__viridis[i], 3);
}

void rf_colormap_viridis(double t, uint8_t rgb[3]) {
  if (!(t > 0)) t = 0; /* NaN too */
  if (t > 1) t = 1;
  rf_colormap_viridis_entry((int)lround(t * 255.0), rgb);
}

void rf_plot_frame_pixel(const rf_plot_frame *f, double x, double y, double *px, double *py) {
  *px = f->px0 + (x - f->x0) / (f->x1 - f->x0) * (f->px1 - f->px0);
  *py = f->py1 - (y - f->y0) / (f->y1 - f->y0) * (f->py1 - f->py0);
}

double rf_nice_step(double span, int ticks) {
  if (!(span > 0) || ticks < 1) return 1;
  double raw = span / ticks, p = pow(10.0, floor(log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* At exit, cairo's font caches and fontconfig's configuration (loaded by
 * cairo's text backend) are released, so leak checkers see a clean exit.
 * FcFini is found at run time: fontconfig is already loaded through cairo,
 * and linking it directly would add a build dependency for one call. */
static void rf__cairo_release(void) {
  cairo_debug_reset_static_data();
  void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
  if (fc_fini) fc_fini();
}

int rf_canvas_create(rf_canvas **out, int width, int height) {
  static int registered;
  *out = NULL;
  if (!registered) registered = !atexit(rf__cairo_release);
  if (width < 16 || height < 16 || width > 8192 || height > 8192)
    return rf__err(RF_EINVAL, "canvas: size %dx%d out of range", width, height);
  rf_canvas *cv = rf__calloc(1, sizeof *cv);
  if (!cv) return rf__err(RF_ENOMEM, "canvas: out of memory");
  cv->width = width;
  cv->height = height;
  cv->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cv->cr = cairo_create(cv->surface);
  if (cairo_status(cv->cr) != CAIRO_STATUS_SUCCESS) {
    rf_canvas_destroy(cv);
    return rf__err(RF_ENOMEM, "canvas: cannot create a %dx%d image", width, height);
  }
  cairo_set_source_rgb(cv->cr, 1, 1, 1);
  cairo_paint(cv->cr);
  *out = cv;
  return 0;
}

void rf_canvas_destroy(rf_canvas *cv) {
  if (!cv) return;
  if (cv->cr) cairo_destroy(cv->cr);
  if (cv->surface) cairo_surface_destroy(cv->surface);
  rf__free(cv);
}

int rf_canvas_status(rf_canvas *cv, const char *what) {
  cairo_status_t s = cairo_status(cv->cr);
  if (s == CAIRO_STATUS_SUCCESS) return 0;
  return rf__err(s == CAIRO_STATUS_NO_MEMORY ? RF_ENOMEM : RF_EIO, "%s: drawing failed: %s", what,
                 cairo_status_to_string(s));
}

/* Growable memory buffer for the PNG stream. */
typedef struct rf__membuf {
  unsigned char *p;
  size_t n, cap;
} rf__membuf;

static cairo_status_t rf__png_write(void *closure, const unsigned char *data, unsigned int len) {
  rf__membuf *b = closure;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + len) cap *= 2;
    unsigned char *p = rf__realloc(b->p, cap);
    if (!p) return CAIRO_STATUS_NO_MEMORY;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
  return CAIRO_STATUS_SUCCESS;
}

int rf_canvas_write_png(rf_canvas *cv, const char *path) {
  int st = rf_canvas_status(cv, path);
  if (st) return st;
  cairo_surface_flush(cv->surface);
  rf__membuf b = {0};
  cairo_status_t cs = cairo_surface_write_to_png_stream(cv->surface, rf__png_write, &b);
  if (cs != CAIRO_STATUS_SUCCESS)
    st = rf__err(cs == CAIRO_STATUS_NO_MEMORY ? RF_ENOMEM : RF_EIO, "%s: PNG encoding failed: %s",
                 path, cairo_status_to_string(cs));
  else
    st = rf_write_file_atomic(path, b.p, b.n);
  rf__free(b.p);
  return st;
}

static void rf__set(cairo_t *cr, rf_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

static void rf__font(cairo_t *cr, double size, int bold) {
  cairo_select_font_face(cr, RF__FONT, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double rf_text_width(rf_canvas *cv, const char *text, double size_px, int bold) {
  cairo_text_extents_t e;
  rf__font(cv->cr, size_px, bold);
  cairo_text_extents(cv->cr, text, &e);
  return e.x_advance;
}

void rf_draw_text(rf_canvas *cv, double px, double py, const char *text, double size_px, int align,
                  int valign, double angle_deg, int bold, rf_rgb col) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  rf__font(cr, size_px, bold);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_text_extents_t e;
  cairo_text_extents(cr, text, &e);
  cairo_translate(cr, px, py);
  if (angle_deg != 0) cairo_rotate(cr, -angle_deg * RF_PI / 180.0);
  double dx = align == 1 ? -e.x_advance / 2 : align == 2 ? -e.x_advance : 0;
  /* Centre on the cap height (ascent less the descender gap), not the box. */
  double cap = fe.ascent * 0.72;
  double dy = valign == 1 ? cap / 2 : valign == 2 ? cap : 0;
  cairo_move_to(cr, dx, dy);
  rf__set(cr, col);
  cairo_show_text(cr, text);
  cairo_restore(cr);
}

void rf_draw_title(rf_canvas *cv, const char *title, const char *subtitle) {
  rf_draw_text(cv, cv->width / 2.0, 30, title, 20, 1, 0, 0, 1, RF_RGB_TEXT);
  if (subtitle && *subtitle)
    rf_draw_text(cv, cv->width / 2.0, 54, subtitle, 14, 1, 0, 0, 0, (rf_rgb){0.3, 0.3, 0.3});
}

/* Tick label text: as few decimals as the step needs. */
static void rf__tick_label(char *out, size_t len, double v, double step) {
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (dec > 6) dec = 6;
  if (fabs(v) < step * 1e-6) v = 0;
  snprintf(out, len, "%.*f", dec, v);
}

void rf_draw_axes(rf_canvas *cv, const rf_plot_frame *f, const char *xlabel, const char *ylabel,
                  int grid) {
  cairo_t *cr = cv->cr;
  char lab[64];
  const double fs = 13;
  cairo_save(cr);
  cairo_set_line_width(cr, 1);
  double xs = rf_nice_step(fabs(f->x1 - f->x0), (int)((f->px1 - f->px0) / 90) + 1);
  double ys = rf_nice_step(fabs(f->y1 - f->y0), (int)((f->py1 - f->py0) / 60) + 1);
  double xlo = fmin(f->x0, f->x1), xhi = fmax(f->x0, f->x1);
  double ylo = fmin(f->y0, f->y1), yhi = fmax(f->y0, f->y1);
  double maxw = 0;
  for (double v = ceil(xlo / xs - 1e-9) * xs; v <= xhi + xs * 1e-9; v += xs) {
    double px, py;
    rf_plot_frame_pixel(f, v, f->y0, &px, &py);
    px = floor(px) + 0.5;
    if (grid) {
      rf__set(cr, RF_RGB_LIGHT);
      cairo_move_to(cr, px, f->py0);
      cairo_line_to(cr, px, f->py1);
      cairo_stroke(cr);
    }
    rf__set(cr, RF_RGB_TEXT);
    cairo_move_to(cr, px, f->py1);
    cairo_line_to(cr, px, f->py1 + 6);
    cairo_stroke(cr);
    rf__tick_label(lab, sizeof lab, v, xs);
    rf_draw_text(cv, px, f->py1 + 9, lab, fs, 1, 2, 0, 0, RF_RGB_TEXT);
  }
  for (double v = ceil(ylo / ys - 1e-9) * ys; v <= yhi + ys * 1e-9; v += ys) {
    double px, py;
    rf_plot_frame_pixel(f, f->x0, v, &px, &py);
    py = floor(py) + 0.5;
    if (grid) {
      rf__set(cr, RF_RGB_LIGHT);
      cairo_move_to(cr, f->px0, py);
      cairo_line_to(cr, f->px1, py);
      cairo_stroke(cr);
    }
    rf__set(cr, RF_RGB_TEXT);
    cairo_move_to(cr, f->px0 - 6, py);
    cairo_line_to(cr, f->px0, py);
    cairo_stroke(cr);
    rf__tick_label(lab, sizeof lab, v, ys);
    double w = rf_text_width(cv, lab, fs, 0);
    if (w > maxw) maxw = w;
    rf_draw_text(cv, f->px0 - 9, py, lab, fs, 2, 1, 0, 0, RF_RGB_TEXT);
  }
  rf__set(cr, RF_RGB_TEXT);
  cairo_rectangle(cr, floor(f->px0) + 0.5, floor(f->py0) + 0.5, floor(f->px1 - f->px0),
                  floor(f->py1 - f->py0));
  cairo_stroke(cr);
  cairo_restore(cr);
  if (xlabel)
    rf_draw_text(cv, (f->px0 + f->px1) / 2, f->py1 + 44, xlabel, 14, 1, 0, 0, 0, RF_RGB_TEXT);
  if (ylabel)
    rf_draw_text(cv, f->px0 - 18 - maxw, (f->py0 + f->py1) / 2, ylabel, 14, 1, 0, 90, 0,
                 RF_RGB_TEXT);
}

int rf_draw_heatmap(rf_canvas *cv, const rf_plot_frame *f, const float *v, size_t nx, size_t ny,
                    double vmin, double vmax) {
  if (!nx || !ny || nx > 8192 || ny > 8192)
    return rf__err(RF_EINVAL, "heat map: size %zux%zu out of range", nx, ny);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)nx, (int)ny);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return rf__err(RF_ENOMEM, "heat map: out of memory");
  }
  cairo_surface_flush(img);
  unsigned char *data = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  double span = vmax > vmin ? vmax - vmin : 1;
  for (size_t j = 0; j < ny; j++) {
    uint32_t *row = (uint32_t *)(void *)(data + (size_t)stride * j);
    for (size_t i = 0; i < nx; i++) {
      float x = v[j * nx + i];
      uint8_t c[3] = {217, 217, 217};
      if (!isnan(x)) rf_colormap_viridis((x - vmin) / span, c);
      row[i] = (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  cairo_rectangle(cr, f->px0, f->py0, f->px1 - f->px0, f->py1 - f->py0);
  cairo_clip(cr);
  cairo_translate(cr, f->px0, f->py0);
  cairo_scale(cr, (f->px1 - f->px0) / (double)nx, (f->py1 - f->py0) / (double)ny);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  return rf_canvas_status(cv, "heat map");
}

void rf_draw_colorbar(rf_canvas *cv, double px, double py, double w, double h, double vmin,
                      double vmax, const char *label) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  for (int i = 0; i < (int)h; i++) {
    uint8_t c[3];
    rf_colormap_viridis(1.0 - (i + 0.5) / h, c);
    cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
    cairo_rectangle(cr, px, py + i, w, 1);
    cairo_fill(cr);
  }
  rf__set(cr, RF_RGB_TEXT);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, floor(px) + 0.5, floor(py) + 0.5, floor(w), floor(h));
  cairo_stroke(cr);
  double step = rf_nice_step(vmax - vmin, (int)(h / 50) + 1), maxw = 0;
  char lab[64];
  for (double v = ceil(vmin / step - 1e-9) * step; v <= vmax + 1e-9 * step; v += step) {
    double y = floor(py + h - (v - vmin) / (vmax - vmin) * h) + 0.5;
    cairo_move_to(cr, px + w, y);
    cairo_line_to(cr, px + w + 5, y);
    cairo_stroke(cr);
    rf__tick_label(lab, sizeof lab, v, step);
    double tw = rf_text_width(cv, lab, 13, 0);
    if (tw > maxw) maxw = tw;
    rf__set(cr, RF_RGB_TEXT);
    rf_draw_text(cv, px + w + 8, y, lab, 13, 0, 1, 0, 0, RF_RGB_TEXT);
  }
  cairo_restore(cr);
  if (label) rf_draw_text(cv, px + w + 16 + maxw, py + h / 2, label, 14, 1, 1, 90, 0, RF_RGB_TEXT);
}

static void rf__clip_frame(cairo_t *cr, const rf_plot_frame *f) {
  cairo_rectangle(cr, f->px0, f->py0, f->px1 - f->px0, f->py1 - f->py0);
  cairo_clip(cr);
}

static void rf__marker_path(cairo_t *cr, double px, double py, int shape, double s) {
  double r = s / 2;
  switch (shape) {
  case RF_MARK_DOT:
  case RF_MARK_CIRCLE: cairo_new_sub_path(cr); cairo_arc(cr, px, py, r, 0, 2 * RF_PI); break;
  case RF_MARK_SQUARE: cairo_rectangle(cr, px - r, py - r, s, s); break;
  case RF_MARK_DIAMOND:
    cairo_move_to(cr, px, py - r);
    cairo_line_to(cr, px + r, py);
    cairo_line_to(cr, px, py + r);
    cairo_line_to(cr, px - r, py);
    cairo_close_path(cr);
    break;
  default: /* cross, its centre left open */
    for (int k = 0; k < 4; k++) {
      double sx = (k & 1) ? 1 : -1, sy = (k & 2) ? 1 : -1;
      cairo_move_to(cr, px + sx * r * 0.35, py + sy * r * 0.35);
      cairo_line_to(cr, px + sx * r, py + sy * r);
    }
  }
}

void rf_draw_marker(rf_canvas *cv, const rf_plot_frame *f, double x, double y, int shape,
                    double size_px, rf_rgb col, double line_px) {
  if (!isfinite(x) || !isfinite(y)) return;
  cairo_t *cr = cv->cr;
  double px, py;
  rf_plot_frame_pixel(f, x, y, &px, &py);
  cairo_save(cr);
  if (f) rf__clip_frame(cr, f);
  rf__marker_path(cr, px, py, shape, size_px);
  rf__set(cr, col);
  if (shape == RF_MARK_DOT) {
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
  } else {
    cairo_set_line_width(cr, line_px);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
}

void rf_draw_polyline(rf_canvas *cv, const rf_plot_frame *f, const double *x, const double *y,
                      size_t n, rf_rgb col, double line_px) {
  cairo_t *cr = cv->cr;
  cairo_save(cr);
  rf__clip_frame(cr, f);
  int open = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) {
      open = 0;
      continue;
    }
    double px, py;
    rf_plot_frame_pixel(f, x[i], y[i], &px, &py);
    if (open) cairo_line_to(cr, px, py);
    else cairo_move_to(cr, px, py);
    open = 1;
  }
  rf__set(cr, col);
  cairo_set_line_width(cr, line_px);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_stroke(cr);
  cairo_restore(cr);
}

static void rf__dash(cairo_t *cr, double dash_px) {
  if (dash_px > 0) {
    double d[2] = {dash_px, dash_px};
    cairo_set_dash(cr, d, 2, 0);
  }
}

void rf_draw_segment(rf_canvas *cv, const rf_plot_frame *f, double x0, double y0, double x1,
                     double y1, rf_rgb col, double line_px, double dash_px) {
  cairo_t *cr = cv->cr;
  double a, b, c, d;
  rf_plot_frame_pixel(f, x0, y0, &a, &b);
  rf_plot_frame_pixel(f, x1, y1, &c, &d);
  cairo_save(cr);
  rf__clip_frame(cr, f);
  rf__dash(cr, dash_px);
  cairo_move_to(cr, a, b);
  cairo_line_to(cr, c, d);
  rf__set(cr, col);
  cairo_set_line_width(cr, line_px);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void rf_draw_circle(rf_canvas *cv, const rf_plot_frame *f, double cx, double cy, double r,
                    rf_rgb col, double line_px, double dash_px) {
  cairo_t *cr = cv->cr;
  double px, py;
  rf_plot_frame_pixel(f, cx, cy, &px, &py);
  double rp = r / fabs(f->x1 - f->x0) * (f->px1 - f->px0);
  cairo_save(cr);
  rf__clip_frame(cr, f);
  rf__dash(cr, dash_px);
  cairo_new_sub_path(cr);
  cairo_arc(cr, px, py, rp, 0, 2 * RF_PI);
  rf__set(cr, col);
  cairo_set_line_width(cr, line_px);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void rf_draw_text_at(rf_canvas *cv, const rf_plot_frame *f, double x, double y, double dx,
                     double dy, const char *text, double size_px, rf_rgb col) {
  if (!isfinite(x) || !isfinite(y)) return;
  double px, py;
  rf_plot_frame_pixel(f, x, y, &px, &py);
  cairo_save(cv->cr);
  rf__clip_frame(cv->cr, f);
  rf_draw_text(cv, px + dx, py + dy, text, size_px, 0, 1, 0, 1, col);
  cairo_restore(cv->cr);
}

/* Legend geometry: font size, row height, padding. */
#define RF__LEG_FS 13.0
#define RF__LEG_ROW 20.0
#define RF__LEG_PAD 8.0

void rf_legend_size(rf_canvas *cv, const rf_legend_entry *e, size_t n, double *w, double *h) {
  double tw = 0;
  for (size_t i = 0; i < n; i++) {
    double t = rf_text_width(cv, e[i].label, RF__LEG_FS, 0);
    if (t > tw) tw = t;
  }
  *w = n ? tw + 3 * RF__LEG_PAD + 24 : 0;
  *h = n ? n * RF__LEG_ROW + RF__LEG_PAD : 0;
}

void rf_draw_legend(rf_canvas *cv, double px, double py, const rf_legend_entry *e, size_t n,
                    int dark) {
  if (!n) return;
  cairo_t *cr = cv->cr;
  const double fs = RF__LEG_FS, row = RF__LEG_ROW, pad = RF__LEG_PAD;
  double w, h;
  rf_legend_size(cv, e, n, &w, &h);
  cairo_save(cr);
  cairo_rectangle(cr, floor(px) + 0.5, floor(py) + 0.5, floor(w), floor(h));
  if (dark) cairo_set_source_rgba(cr, 0.12, 0.12, 0.16, 0.85);
  else cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
  cairo_fill_preserve(cr);
  rf__set(cr, RF_RGB_GREY);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  cairo_restore(cr);
  /* A frame covering the whole canvas so markers are not clipped. */
  rf_plot_frame all = {0, 0, cv->width, cv->height, 0, cv->width, cv->height, 0};
  for (size_t i = 0; i < n; i++) {
    double cy = py + pad / 2 + row * (i + 0.5);
    double cx = px + pad + 12;
    if (e[i].shape < 0) {
      rf_draw_segment(cv, &all, cx - 11, cy, cx + 11, cy, e[i].col, 2.5, 0);
    } else {
      rf_draw_marker(cv, &all, cx, cy, e[i].shape, 11, e[i].col, 2);
    }
    rf_draw_text(cv, cx + 12 + pad, cy, e[i].label, fs, 0, 1, 0, 0,
                 dark ? RF_RGB_WHITE : RF_RGB_TEXT);
  }
}

/* ---- labels that do not collide ---------------------------------------------------- */
int rf_labels_reserve(rf_labels *l, double x0, double y0, double x1, double y1) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    rf_box *v = rf__realloc(l->v, cap * sizeof *v);
    if (!v) return rf__err(RF_ENOMEM, "labels: out of memory");
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (rf_box){fmin(x0, x1), fmin(y0, y1), fmax(x0, x1), fmax(y0, y1)};
  return 0;
}

void rf_labels_free(rf_labels *l) {
  if (!l) return;
  rf__free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

static int rf__box_clear(const rf_labels *l, const rf_box *b) {
  for (size_t i = 0; i < l->n; i++) {
    const rf_box *o = &l->v[i];
    if (b->x0 < o->x1 && o->x0 < b->x1 && b->y0 < o->y1 && o->y0 < b->y1) return 0;
  }
  return 1;
}

int rf_label_place(rf_canvas *cv, rf_labels *l, const rf_plot_frame *f, double x, double y, const char *text,
                   double size_px, rf_rgb col) {
  if (!isfinite(x) || !isfinite(y)) return 0;
  double px, py;
  rf_plot_frame_pixel(f, x, y, &px, &py);
  const double w = rf_text_width(cv, text, size_px, 1) + 2, h = size_px + 2, gap = 6;
  /* Spots for the box's top-left corner: right, left, above, below the
   * point, then stacked rows right and left of it, further each time (with
   * a leader line), so labels of nearby points line up instead of piling. */
  for (int k = 0; k < 16; k++) {
    double x0, y0;
    if (k < 4) {
      x0 = k == 0 ? px + gap : k == 1 ? px - gap - w : px - w / 2;
      y0 = k < 2 ? py - h / 2 : k == 2 ? py - gap - h : py + gap;
    } else {
      int row = (k - 4) / 4 + 1, side = (k - 4) % 2, up = ((k - 4) / 2) % 2;
      x0 = side ? px - gap - w : px + gap;
      y0 = py - h / 2 + (up ? -1 : 1) * row * h;
    }
    rf_box b = {x0, y0, x0 + w, y0 + h};
    if (b.x0 < f->px0 || b.x1 > f->px1 || b.y0 < f->py0 || b.y1 > f->py1 || !rf__box_clear(l, &b)) continue;
    int st = rf_labels_reserve(l, b.x0, b.y0, b.x1, b.y1);
    if (st) return st;
    if (k >= 4) { /* a leader from the point to the box's nearest edge */
      double ex = fmin(fmax(px, b.x0), b.x1), ey = fmin(fmax(py, b.y0), b.y1);
      cairo_save(cv->cr);
      rf__set(cv->cr, col);
      cairo_set_line_width(cv->cr, 1);
      cairo_move_to(cv->cr, px, py);
      cairo_line_to(cv->cr, ex, ey);
      cairo_stroke(cv->cr);
      cairo_restore(cv->cr);
    }
    rf_draw_text(cv, b.x0 + 1, (b.y0 + b.y1) / 2, text, size_px, 0, 1, 0, 1, col);
    return 1;
  }
  return 0;
}
