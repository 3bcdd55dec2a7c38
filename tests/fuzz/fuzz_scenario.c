/* Fuzz target: the scenario parser (rf_scenario_load). */
#include "../../datasets/rf_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *rf__fuzz_sc_file(const char *what) {
  static char path[512];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/rf-fuzz-%s.%ld", dir && *dir ? dir : "/tmp", what, (long)getpid());
  return path;
}

int rf_fuzz_scenario(const uint8_t *data, size_t size) {
  const char *path = rf__fuzz_sc_file("scenario.ini");
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t w = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || w != size) return 0;
  rf_scenario *sc = NULL;
  if (rf_scenario_load(&sc, path) == 0) {
    rf_scenario_summary s;
    rf_scenario_get_summary(sc, &s);
  }
  rf_scenario_destroy(sc);
  unlink(path);
  return 0;
}

#ifndef RF_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return rf_fuzz_scenario(data, size); }
#endif
