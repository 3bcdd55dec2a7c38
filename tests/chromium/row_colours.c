/* Counts, in a PNG screenshot, the horizontal bands of a colour: runs of
 * consecutive pixel rows each holding at least MIN_PIXELS pixels within
 * TOLERANCE (per channel) of the colour. A table row with that background
 * is one band (its cell borders and text take only part of a line).
 *   row_colours SHOT.png RRGGBB [RRGGBB...]   prints "RRGGBB BANDS" a line
 * Used by screenshot.sh to check the batch index's row colours by pixels. */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PIXELS 250
#define TOLERANCE 3

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: row_colours SHOT.png RRGGBB...\n");
    return 2;
  }
  cairo_surface_t *s = cairo_image_surface_create_from_png(argv[1]);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "%s: not a readable PNG\n", argv[1]);
    return 2;
  }
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *d = cairo_image_surface_get_data(s);
  for (int c = 2; c < argc; c++) {
    unsigned long rgb = strtoul(argv[c], NULL, 16);
    int want[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
    int bands = 0, in = 0;
    for (int y = 0; y < h; y++) {
      int n = 0;
      for (int x = 0; x < w; x++) {
        unsigned v;
        memcpy(&v, d + (size_t)y * stride + 4 * (size_t)x, 4);
        int px[3] = {(int)(v >> 16) & 255, (int)(v >> 8) & 255, (int)v & 255};
        if (abs(px[0] - want[0]) <= TOLERANCE && abs(px[1] - want[1]) <= TOLERANCE && abs(px[2] - want[2]) <= TOLERANCE)
          n++;
      }
      int hit = n >= MIN_PIXELS;
      if (hit && !in) bands++;
      in = hit;
    }
    printf("%s %d\n", argv[c], bands);
  }
  cairo_surface_destroy(s);
  return 0;
}
