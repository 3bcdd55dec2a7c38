/* radarflow test runner: gathers every suite. Each suite is declared here
 * and must be defined by its tests/test_<stem>.c: a listed suite that does
 * not exist stops the link (no weak symbols, nothing is skipped silently).
 * CK_RUN_SUITE=test_<stem>_suite runs one (Check's own variable). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define RF_SUITES(X)                                                                      \
  X(test_common_suite) X(test_files_suite) X(test_capture_suite) X(test_products_suite)   \
  X(test_sim_suite) X(test_pulse_compress_suite) X(test_beamform_suite)                   \
  X(test_doppler_suite) X(test_cfar_suite) X(test_extract_suite) X(test_config_suite)     \
  X(test_cli_suite) X(test_engine_suite) X(test_e2e_suite)                                \
  X(test_cl_runtime_suite) X(test_pulse_compress_cl_suite) X(test_beamform_cl_suite)      \
  X(test_doppler_cl_suite) X(test_cfar_cl_suite) X(test_cl_e2e_suite)                     \
  X(test_assign_suite) X(test_tracker_suite) X(test_tracks_io_suite)                      \
  X(test_asterix_suite) X(test_batch_suite) X(test_fuzz_regress_suite)                    \
  X(test_quicklook_suite) X(test_import_suite) X(test_validate_suite)         \
  X(test_reliability_suite)

#define RF__DECL(s) Suite *s(void);
RF_SUITES(RF__DECL)

int main(void) {
  SRunner *sr = srunner_create(NULL);
#define RF__ADD(s) srunner_add_suite(sr, s());
  RF_SUITES(RF__ADD)
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
