#!/usr/bin/env bash
# make demo: simulate the built-in demo scenario, process it, summarise.
# usage: demo.sh RADARFLOW_BINARY OUTPUT_FOLDER
set -euo pipefail
bin=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
echo "== simulating datasets/scenarios/demo.ini"
"$bin" simulate "$here/datasets/scenarios/demo.ini" -o "$out/demo.h5" --seed 1
echo "== processing $out/demo.h5"
"$bin" process "$out/demo.h5" -o "$out/products"
echo "== first plots ($out/products/plots.csv)"
head -n 8 "$out/products/plots.csv" | cut -d, -f1-7 | column -t -s, 2>/dev/null ||
  head -n 8 "$out/products/plots.csv"
echo "== products in $out/products: plots.h5 plots.csv run.json; capture: $out/demo.h5"
