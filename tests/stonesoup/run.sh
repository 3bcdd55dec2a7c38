#!/usr/bin/env bash
# radarflow's tracker against Stone Soup (tests/stonesoup/compare.py): the
# same plots for both on scenarios of >= 60 scans (turning aircraft, a
# Keplerian missile, clutter), scored against truth computed in the script;
# prints the table and exits 1 when radarflow is worse on any scenario.
# Creates build/venv-stonesoup (PyPI, test oracle only).
# Usage: tests/stonesoup/run.sh   (from the top folder; RF_BIN overrides build/radarflow)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RF_BIN:-build/radarflow}
VENV=build/venv-stonesoup
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -r tests/stonesoup/requirements.txt
[ -x "$BIN" ] || make --no-print-directory all
"$VENV/bin/python" tests/stonesoup/compare.py --bin "$BIN" --out build/stonesoup
