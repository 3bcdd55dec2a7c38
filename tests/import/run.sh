#!/usr/bin/env bash
# `radarflow import` against independent writers: the same simulated data is
# written natively (radarflow simulate) and as foreign recordings by other
# programs - SigMF by the `sigmf` package from PyPI (a test venv), HDF5 in
# other layouts by h5py (Debian's python3-h5py) - then each recording is
# imported, processed, and its plots must equal the native capture's
# (tests/import/compare_plots.py). Then large sparse SigMF recordings show
# that an import takes the same time and a few KiB of disk whatever the
# recording's size. Without PyPI the SigMF parts are skipped (the h5py parts
# still run); exit 0 only when everything that ran agreed.
# Usage: tests/import/run.sh   (from the top folder; RF_BIN overrides build/radarflow)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RF_BIN:-build/radarflow}
OUT=build/import-test
VENV=build/venv-import
PY=/usr/bin/python3
[ -x "$BIN" ] || make --no-print-directory all
rm -rf "$OUT"
mkdir -p "$OUT"

sigmf=0
# The venv sees Debian's numpy and h5py; pip comes with the venv.
[ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages "$VENV"
if "$VENV/bin/pip" index versions sigmf >/dev/null 2>&1; then
  "$VENV/bin/pip" install -q -r tests/import/requirements.txt
  sigmf=1
elif "$VENV/bin/python" -c "import sigmf" 2>/dev/null; then
  sigmf=1 # installed earlier
else
  echo "import: PyPI not reachable: the SigMF recordings are skipped (the h5py ones run)"
fi
[ $sigmf = 0 ] || PY="$VENV/bin/python"

# Native captures of one scenario, float32 and int16 samples.
sed 's/^sample_type = float32/sample_type = int16/' datasets/scenarios/demo.ini > "$OUT/demo16.ini"
"$BIN" simulate datasets/scenarios/demo.ini -o "$OUT/native32.h5" --seed 3 -q
"$BIN" simulate "$OUT/demo16.ini" -o "$OUT/native16.h5" --seed 3 -q
"$BIN" process "$OUT/native32.h5" -o "$OUT/native32" -q --device cpu
"$BIN" process "$OUT/native16.h5" -o "$OUT/native16" -q --device cpu

args=("$OUT/native32.h5" "$OUT/native16.h5" "$OUT/rec")
[ $sigmf = 1 ] || args+=(--no-sigmf)
PYTHONWARNINGS=ignore::DeprecationWarning "$PY" tests/import/make_recordings.py "${args[@]}" > /dev/null

status=0
# name, SOURCE (in its folder), layout, native it must equal, time tolerance (s)
check() {
  local name=$1 src=$2 layout=$3 native=$4 tol=$5
  local d="$OUT/rec/$name"
  [ -d "$d" ] || return 0
  echo "== $name"
  local largs=()
  [ -n "$layout" ] && largs=(--layout "$layout")
  if ! "$BIN" import "$d/$src" -o "$d/capture.h5" "${largs[@]}" | sed 's/^/   /'; then
    echo "   FAILED: import"; status=1; return
  fi
  echo "   recording $(du -k --apparent-size "$d"/rec.* | awk '{s+=$1} END {print s}') KiB," \
       "capture $(du -k --apparent-size "$d/capture.h5" | cut -f1) KiB"
  if ! "$BIN" process "$d/capture.h5" -o "$d/out" -q --device cpu; then
    echo "   FAILED: process"; status=1; return
  fi
  echo -n "   plots vs native: "
  "$PY" tests/import/compare_plots.py "$OUT/$native/plots.csv" "$d/out/plots.csv" --time-tol "$tol" || status=1
}
check sigmf_pri rec.sigmf-meta "" native32 1e-6
check sigmf_ann rec "" native16 1e-6
check h5_channel_major rec.h5 datasets/layouts/channel-major-complex.ini native32 0
check h5_channel_major_gzip rec.h5 datasets/layouts/channel-major-complex.ini native32 0
check h5_split_iq rec.h5 datasets/layouts/split-iq-int16.ini native16 0
check raw_be rec.bin "$OUT/rec/raw_be/layout.ini" native32 0

if [ $sigmf = 1 ]; then
  echo "== large SigMF recordings (sparse files: no disk for the samples)"
  # Same pulses (16384 of 4 channels), 1 GiB and 16 GiB of samples.
  for spec in "1 4096" "16 65536"; do
    set -- $spec
    stem="$OUT/large$1"
    "$PY" tests/import/make_large.py "$stem" "$1" 4 "$2"
    t0=$(date +%s.%N)
    "$BIN" import "$stem.sigmf-meta" -o "$stem.h5" -q
    t1=$(date +%s.%N)
    "$BIN" inspect "$stem.h5" > "$stem.inspect.txt"
    printf "   %2d GiB recording (%s KiB on disk): import %.3f s, capture %s bytes (%s KiB on disk)\n" "$1" \
      "$(du -k "$stem.sigmf-data" | cut -f1)" "$(awk "BEGIN {print $t1 - $t0}")" \
      "$(stat -c %s "$stem.h5")" "$(du -k "$stem.h5" | cut -f1)"
    grep -E "^/iq|storage|source:" "$stem.inspect.txt" | sed 's/^/     /'
  done
fi
exit $status
