#!/usr/bin/env bash
# Detection on captures radarflow did not write: tests/detection/gen_check.py
# writes them with numpy and h5py (Debian's python3-h5py) from
# docs/formats.md alone and checks `radarflow process`'s plots against what
# it wrote (coverage of a declared transmit beam, resolution, SNR, no
# sidelobe plots). About half a minute.
#   tests/detection/run.sh [RADARFLOW_BINARY]   (default build/radarflow)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-build/radarflow}")
py=${PYTHON:-/usr/bin/python3}
"$py" -c 'import h5py, numpy' || { echo "detection: h5py and numpy are needed (apt-get install python3-h5py)" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
OMP_WAIT_POLICY=PASSIVE "$py" tests/detection/gen_check.py "$bin" "$scratch"
