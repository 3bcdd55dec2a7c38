/* radarflow: scenario files and the capture simulator behind
 * `radarflow simulate`. The scenario format is documented in
 * docs/scenarios.md. */
#ifndef RF_SIM_H
#define RF_SIM_H

#include "../host/rf_common.h"

typedef struct rf_scenario rf_scenario;

/* Parses and validates a scenario (INI, libinih). RF_EFORMAT with a message
 * naming the file, line, section and key on any error. */
int rf_scenario_load(rf_scenario **sc, const char *path);
void rf_scenario_destroy(rf_scenario *sc);      /* NULL is a no-op */

/* Summary for printing. */
typedef struct rf_scenario_summary {
  const char *name;
  size_t channels, pulses, samples, dwells, targets;
  double center_frequency_hz, sample_rate_hz, pri_s;
} rf_scenario_summary;
void rf_scenario_get_summary(const rf_scenario *sc, rf_scenario_summary *s);

/* Simulates the scenario into a capture file at out_path (written under a
 * temporary name and renamed), including /truth. Deterministic for a seed. */
int rf_simulate(const rf_scenario *sc, const char *out_path, uint64_t seed);

#endif
