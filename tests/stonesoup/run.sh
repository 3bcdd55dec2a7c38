#!/usr/bin/env bash
# GOSPA comparison of radarflow's tracker with Stone Soup (GNN + EKF) on the
# demo and early-warning scenarios. Creates build/venv-stonesoup (PyPI),
# simulates, processes, tracks and compares. Exit 0 only when radarflow's
# mean GOSPA is no worse than Stone Soup's on both scenarios.
# Usage: tests/stonesoup/run.sh   (from the top folder; RF_BIN overrides build/radarflow)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RF_BIN:-build/radarflow}
VENV=build/venv-stonesoup
OUT=build/stonesoup
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -r tests/stonesoup/requirements.txt
[ -x "$BIN" ] || make --no-print-directory all
mkdir -p "$OUT"
status=0
# scenario, tracker settings, GOSPA cutoff (m), sensor for Stone Soup's sigmas
run() {
  local name=$1 ini=$2 sets=$3 cutoff=$4 speed=$5
  local cap="$OUT/$name.h5" dir="$OUT/$name"
  "$BIN" simulate "$ini" -o "$cap" --seed 1 -q
  local setargs=()
  for s in $sets; do setargs+=(--set "$s"); done
  "$BIN" process "$cap" -o "$dir" -q "${setargs[@]}"
  # Until `radarflow process` writes tracks itself, run the tracker on plots.h5.
  [ -f "$dir/tracks.csv" ] || "$BIN" track "$dir/plots.h5" -o "$dir" -q "${setargs[@]}"
  # The sensor as the tracker saw it (plots.h5 root attributes).
  local sensor
  sensor=$("$VENV/bin/python" - "$dir/plots.h5" <<'PY'
import sys, h5py
a = h5py.File(sys.argv[1], "r").attrs
g = lambda k, d: float(a[k]) if k in a and float(a[k]) > 0 else d
print(f"--range-cell {g('range_cell_m', 30)} --beamwidth-az {g('beamwidth_az_deg', 2)} "
      f"--beamwidth-el {float(a['beamwidth_el_deg']) if 'beamwidth_el_deg' in a else 0}")
PY
)
  echo "== $name"
  # shellcheck disable=SC2086
  "$VENV/bin/python" tests/stonesoup/gospa_compare.py "$cap" "$dir/plots.csv" "$dir/tracks.csv" \
    --cutoff "$cutoff" --max-speed "$speed" $sensor || status=1
}
run demo datasets/scenarios/demo.ini "tracker.max_speed_mps=120" 200 120
run early-warning datasets/scenarios/early-warning.ini "tracker.earth=flat tracker.ballistic_accel_mps2=10" 50000 4000
exit $status
