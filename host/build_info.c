/* radarflow host/: build facts (rf_build.h). The Makefile passes
 * RF_BUILD_COMMIT for this file alone, so only it is rebuilt when the
 * commit changes; other builds of the sources get "unknown". */
#include "rf_build.h"

#ifndef RF_BUILD_COMMIT
#define RF_BUILD_COMMIT ""
#endif

const char *rf_build_commit(void) { return RF_BUILD_COMMIT[0] ? RF_BUILD_COMMIT : "unknown"; }

const char *rf_build_compiler(void) {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#elif defined(__VERSION__)
  return __VERSION__;
#else
  return "unknown";
#endif
}
