#!/usr/bin/env bash
# `make check SANITIZE=1`: runs the test binary ($@) and keeps its output in
# $RF_SAN_LOG. LeakSanitizer's own stop-the-world tracer sometimes crashes
# at a process's exit ("Tracer caught signal 11 ... LeakSanitizer has
# encountered a fatal error": google/sanitizers#1353, a runtime bug, not a
# leak report), which Check counts as an error of the test that just
# passed. When every error of a run is such a crash (as many crashes as
# errors, no failure), the errored test cases run once more, alone
# (CK_RUN_CASE), and must pass; anything else fails as it is.
set -uo pipefail
log=${RF_SAN_LOG:?RF_SAN_LOG names the log}
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && exit 0
crashes=$(grep -c "LeakSanitizer has encountered a fatal error" "$log")
errors=$(grep -cE '^[^:]+:[0-9]+:E:' "$log")
failures=$(grep -cE '^[^:]+:[0-9]+:F:' "$log")
if [ "$failures" != 0 ] || [ "$errors" = 0 ] || [ "$crashes" -lt "$errors" ]; then exit "$rc"; fi
cases=$(grep -E '^[^:]+:[0-9]+:E:' "$log" | awk -F: '{print $4}' | sort -u)
echo "check-san: $errors error(s), each LeakSanitizer's tracer crashing at exit (google/sanitizers#1353);" \
  "running the test case(s) again once: $(echo $cases)"
for c in $cases; do
  CK_RUN_CASE=$c "$@" || exit 1
done
echo "check-san: the rerun passed"
