/* radarflow io/: numbers as text for the CSV writers, fast and exact. Kept
 * apart because it is C++ inside (the {fmt} library, Debian libfmt-dev):
 * its shortest round-trip formatting (Dragonbox) is ten times faster than
 * printf's %.17g and reads back to the same double. Internal to io/. */
#ifndef RF_NUMFMT_H
#define RF_NUMFMT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text rf__fmt_double writes ("-2.2250738585072014e-308"), with
 * room to spare. */
#define RF_FMT_DOUBLE_MAX 32
/* Writes v into out (at least RF_FMT_DOUBLE_MAX bytes, not NUL-terminated)
 * as the shortest decimal that reads back (strtod) to exactly v, '.' as the
 * decimal point in every locale; "nan", "-nan"... as printf writes them:
 * "nan", "inf", "-inf". Returns the length. */
size_t rf__fmt_double(char *out, double v);

#ifdef __cplusplus
}
#endif

#endif
