/* Fuzz target: the settings parser. The input is loaded as an INI file and
 * as one --set assignment; a file that loads must print (rf_config_to_ini)
 * to text that loads back to the same settings. */
#include "../../pipelines/rf_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *rf__fuzz_cfg_file(const char *what) {
  static char path[512];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/rf-fuzz-%s.%ld", dir && *dir ? dir : "/tmp", what, (long)getpid());
  return path;
}

int rf_fuzz_config(const uint8_t *data, size_t size) {
  const char *path = rf__fuzz_cfg_file("config.ini");
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t w = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || w != size) return 0;
  rf_config a, b;
  rf_config_defaults(&a);
  if (rf_config_load(&a, path) == 0) {
    char *ini = rf_config_to_ini(&a);
    if (ini) {
      f = fopen(path, "wb");
      if (f) {
        fputs(ini, f);
        fclose(f);
        rf_config_defaults(&b);
        char *again = NULL;
        if (rf_config_load(&b, path) != 0 || !(again = rf_config_to_ini(&b)) || strcmp(ini, again) != 0)
          abort(); /* printed settings must read back unchanged */
        rf__free(again);
      }
      rf__free(ini);
    }
  }
  unlink(path);
  char *s = malloc(size + 1);
  if (s) {
    memcpy(s, data, size);
    s[size] = 0;
    rf_config_defaults(&a);
    rf_config_set(&a, s);
    free(s);
  }
  return 0;
}

#ifndef RF_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return rf_fuzz_config(data, size); }
#endif
