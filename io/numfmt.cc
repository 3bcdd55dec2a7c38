// radarflow io/: shortest round-trip doubles through {fmt} (numfmt.h).
#include "numfmt.h"

#include <cmath>
#include <cstring>

#include <fmt/compile.h>
#include <fmt/format.h>

extern "C" size_t rf__fmt_double(char *out, double v) {
  if (std::isnan(v)) {
    // printf's spelling (the sign of a NaN carries no meaning here).
    std::memcpy(out, "nan", 3);
    return 3;
  }
  char *end = fmt::format_to(out, FMT_COMPILE("{}"), v);
  return static_cast<size_t>(end - out);
}
