/* A program of someone who uses an installed radarflow: built by
 * tests/install/run.sh against the installed headers and library only
 * (pkg-config radarflow), it opens a capture, prints its dimensions and
 * its first sample, which the script compares with h5py's reading. */
#include <radarflow/radarflow.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: open_capture CAPTURE.h5\n");
    return 2;
  }
  rf_capture *cap = NULL;
  int st = rf_capture_open(&cap, argv[1]);
  if (st) {
    fprintf(stderr, "open_capture: %s (%s)\n", rf_errmsg(), rf_err_name(st));
    return 1;
  }
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  printf("radar %s\n", m->radar_name);
  printf("iq %zu %zu %zu 2 %s\n", m->pulses, m->channels, m->samples,
         m->sample_type == RF_SAMPLE_INT16 ? "int16" : "float32");
  printf("dwells %zu\n", m->dwells);
  void *raw = malloc(rf_capture_pulse_bytes(m));
  if (!raw || (st = rf_capture_read_pulses(cap, 0, 1, raw))) {
    fprintf(stderr, "open_capture: %s\n", raw ? rf_errmsg() : "out of memory");
    free(raw);
    rf_capture_close(cap);
    return 1;
  }
  if (m->sample_type == RF_SAMPLE_INT16)
    printf("first %d %d\n", ((int16_t *)raw)[0], ((int16_t *)raw)[1]);
  else
    printf("first %.9g %.9g\n", ((float *)raw)[0], ((float *)raw)[1]);
  free(raw);
  rf_capture_close(cap);
  return 0;
}
