/* Fuzz target: the capture reader on raw bytes. The input is written to a file and
 * opened with rf_capture_open; when that succeeds, the first pulses and the
 * truth are read as `radarflow process` would. Built by scripts/fuzz.sh
 * (libFuzzer); tests/test_fuzz_regress.c replays corpus and regressions
 * through rf_fuzz_capture_raw. Raw bytes mostly exercise libhdf5's own parser,
 * which crashes on some corrupt files (tests/fuzz/hdf5-crashers/); it is run
 * by hand (scripts/fuzz.sh 60 capture_raw), not in CI. */
#include "../../io/rf_capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads at most this many bytes of samples per input: the reader's own
 * limits allow 256 MiB pulses, which would only slow fuzzing down. */
#define RF_FUZZ_READ_BYTES ((size_t)256 << 10)

static const char *rf__fuzz_file(const char *what) {
  static char path[512];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/rf-fuzz-%s.%ld", dir && *dir ? dir : "/tmp", what, (long)getpid());
  return path;
}

static int rf__fuzz_write(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int st = fwrite(data, 1, size, f) == size ? 0 : -1;
  if (fclose(f) != 0) st = -1;
  return st;
}

int rf_fuzz_capture_raw(const uint8_t *data, size_t size) {
  const char *path = rf__fuzz_file("capture.h5");
  if (rf__fuzz_write(path, data, size)) return 0;
  rf_capture *cap = NULL;
  if (rf_capture_open(&cap, path) == 0) {
    const rf_capture_meta *m = rf_capture_get_meta(cap);
    size_t pb = rf_capture_pulse_bytes(m);
    if (pb > 0 && pb <= RF_FUZZ_READ_BYTES) {
      size_t n = RF_FUZZ_READ_BYTES / pb;
      if (n > m->pulses) n = m->pulses;
      void *raw = malloc(n * pb);
      if (raw) rf_capture_read_pulses(cap, 0, n, raw);
      free(raw);
    }
    rf_truth *t = NULL;
    if (rf_capture_read_truth(cap, &t) == 0) rf_truth_free(t);
    rf_capture_close(cap);
  }
  unlink(path);
  return 0;
}

#ifndef RF_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return rf_fuzz_capture_raw(data, size); }
#endif
