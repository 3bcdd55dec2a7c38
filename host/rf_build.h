/* radarflow: how this copy was built - the source commit and the compiler,
 * recorded at build time (run.json, bench reports, --version). */
#ifndef RF_BUILD_H
#define RF_BUILD_H

/* The git commit the library was built from (12 hex digits, "-dirty" when
 * the tree had uncommitted changes), or "unknown" when it was not built
 * from a git checkout. */
const char *rf_build_commit(void);
/* The compiler that built the library, e.g. "gcc 12.2.0". */
const char *rf_build_compiler(void);

#endif
