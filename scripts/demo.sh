#!/usr/bin/env bash
# make demo: simulate the built-in demo scenario, process it (plots, tracks,
# ASTERIX, quick-look pictures), summarise.
# usage: demo.sh RADARFLOW_BINARY OUTPUT_FOLDER
set -euo pipefail
bin=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
echo "== simulating datasets/scenarios/demo.ini"
"$bin" simulate "$here/datasets/scenarios/demo.ini" -o "$out/demo.h5" --seed 1
echo "== processing $out/demo.h5"
"$bin" process "$out/demo.h5" -o "$out/products" -c "$here/datasets/configs/demo.ini" --quicklook
echo "== plots ($out/products/plots.csv, first rows)"
head -n 6 "$out/products/plots.csv" | cut -d, -f2-7 | column -t -s, 2>/dev/null ||
  head -n 6 "$out/products/plots.csv"
echo "== confirmed tracks at the last update ($out/products/tracks.csv)"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
         $c["status"] == "confirmed" { last[$c["track_id"]] = $0 }
         END { printf "%-6s %12s %10s %12s %14s\n", "track", "range_m", "az_deg", "v_r_mps", "time_to_go_s";
               for (t in last) { split(last[t], f, ",");
                 printf "%-6s %12.0f %10.2f %12.1f %14.1f\n", t, f[c["range_m"]], f[c["azimuth_deg"]],
                        f[c["radial_velocity_mps"]], f[c["time_to_go_s"]] } }' "$out/products/tracks.csv"
echo "== products in $out/products/: plots.h5 plots.csv tracks.h5 tracks.csv plots.ast tracks.ast plots.pcap tracks.pcap run.json"
echo "   pictures: $out/products/quicklook/index.html; capture: $out/demo.h5"
