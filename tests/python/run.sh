#!/usr/bin/env bash
# Runs docs/python.md from top to bottom, as a reader would: its sh blocks
# as shell commands (radarflow being RADARFLOW_BINARY, `ex` the source's
# datasets/), its python blocks each as its own python3 process with h5py
# (Debian's python3-h5py), in a scratch folder. Fails if any block fails;
# the last block checks the plot of the capture the page writes itself
# against where the page put the target.
#   tests/python/run.sh [RADARFLOW_BINARY]   (default build/radarflow)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
bin=$(realpath "${1:-build/radarflow}")
py=${PYTHON:-/usr/bin/python3}
"$py" -c 'import h5py, numpy' || { echo "python: h5py and numpy are needed (apt-get install python3-h5py)" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The page as one bash script: ```sh blocks verbatim (their ex= line pointed
# at the source tree), ```python blocks as here-documents to python3.
awk -v py="$py" -v ex="$here/datasets" '
  /^```sh$/ { mode = "sh"; n++; print "echo \"== docs/python.md block " n " (sh)\""; next }
  /^```python$/ { mode = "py"; n++; print "echo \"== docs/python.md block " n " (python)\""; print py " - <<'"'"'RF_PY_EOF'"'"'"; next }
  /^```$/ && mode { if (mode == "py") print "RF_PY_EOF"; mode = ""; next }
  mode == "sh" && /^ex=/ { print "ex=" ex; next }
  mode { print }' docs/python.md > "$scratch/page.sh"
grep -q RF_PY_EOF "$scratch/page.sh" || { echo "python: no python blocks found in docs/python.md" >&2; exit 1; }
cd "$scratch"
radarflow() { "$bin" "$@"; }
export -f radarflow
export bin
bash -euo pipefail page.sh
echo "python: every block of docs/python.md ran"
