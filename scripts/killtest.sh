#!/usr/bin/env bash
# SIGKILL at random moments of `radarflow process` (docs/reliability.md):
# OUTDIR holds an old product set (made with other settings); a new run is
# killed at a random moment, with RF_TEST_SWITCH_DELAY_MS widening each step
# of the product switch so that many kills land inside it. Then OUTDIR must
# hold exactly the complete old set or the complete new set (every product,
# byte for byte one run's, and a marker listing them). Every other round
# uses the rename fallback (RF_TEST_NO_EXCHANGE): there a kill between its
# two renames may leave OUTDIR missing, and the next run must put a complete
# set back before anything else. Finally one clean run removes every stale
# temporary. Prints the count of each outcome.
#   scripts/killtest.sh [RADARFLOW [WORKDIR [ROUNDS [SEED]]]]
set -euo pipefail
bin=${1:-build/radarflow}
work=${2:-build/killtest}
rounds=${3:-60}
seed=${4:-4242}
here=$(cd "$(dirname "$0")/.." && pwd)
delay_ms=150
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
cap="$work/cap.h5"
"$bin" simulate "$here/tests/oclgrind/tiny.ini" -o "$cap" --seed 1 -q
old_set=(--set cfar.pfa=1e-3 --set tracker.confirm_m=2)
"$bin" process "$cap" -o "$work/ref_old" --device cpu -q "${old_set[@]}"
"$bin" process "$cap" -o "$work/ref_new" --device cpu -q
products=(plots.h5 plots.csv tracks.h5 tracks.csv plots.ast tracks.ast plots.pcap tracks.pcap run.json)
# run.json holds wall-clock times: its presence is checked, the rest byte for byte.
digest() { (cd "$1" && sha256sum plots.h5 plots.csv tracks.h5 tracks.csv plots.ast tracks.ast plots.pcap tracks.pcap); }
digest "$work/ref_old" >"$work/old.sum"
digest "$work/ref_new" >"$work/new.sum"
cmp -s "$work/old.sum" "$work/new.sum" && { echo "killtest: old and new settings give the same products"; exit 1; }
# How long a run with the widened switch takes.
cp -a "$work/ref_old" "$work/out"
t0=$(date +%s%N)
RF_TEST_SWITCH_DELAY_MS=$delay_ms "$bin" process "$cap" -o "$work/out" --device cpu -q
span_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "killtest: a run with the switch widened by ${delay_ms} ms a step takes ${span_ms} ms; $rounds rounds"

# The state of OUTDIR: "old", "new", or why it is neither.
judge() {
  local d=$1
  [ -d "$d" ] || { echo "missing"; return; }
  local listed have
  have=$(cd "$d" && ls -A | grep -v '^\.radarflow-products$' | sort | tr '\n' ' ')
  [ "$have" = "$(printf '%s\n' "${products[@]}" | sort | tr '\n' ' ')" ] || { echo "files: $have"; return; }
  listed=$(/usr/bin/python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m['program'] == 'radarflow' and m['state'] == 'complete'
print(' '.join(sorted(m['files'])))" "$d/.radarflow-products" 2>/dev/null) || { echo "marker unreadable"; return; }
  [ "$listed " = "$have" ] || { echo "marker lists: $listed"; return; }
  digest "$d" >"$work/now.sum"
  if cmp -s "$work/now.sum" "$work/old.sum"; then echo old
  elif cmp -s "$work/now.sum" "$work/new.sum"; then echo new
  else echo "mixed"; fi
}

RANDOM=$seed
n_old=0; n_new=0; n_recovered=0; n_bad=0
for ((r = 0; r < rounds; r++)); do
  rm -rf "$work/out"
  cp -a "$work/ref_old" "$work/out"
  at=$(( RANDOM % (span_ms + 1) ))
  fallback=$(( r % 2 ))
  if [ $fallback = 1 ]; then export RF_TEST_NO_EXCHANGE=1; else unset RF_TEST_NO_EXCHANGE; fi
  RF_TEST_SWITCH_DELAY_MS=$delay_ms "$bin" process "$cap" -o "$work/out" --device cpu -q >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' "$at")" 2>/dev/null || sleep "$((at / 1000)).$(printf '%03d' $((at % 1000)))"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  state=$(judge "$work/out")
  if [ "$state" = missing ] && [ $fallback = 1 ]; then
    # Killed between the fallback's two renames: the next run restores a set
    # first (here one whose capture is missing, so only the recovery acts).
    "$bin" process "$work/missing.h5" -o "$work/out" --device cpu -q >/dev/null 2>&1 || true
    state=$(judge "$work/out")
    [ "$state" = old ] || [ "$state" = new ] && n_recovered=$((n_recovered + 1))
  fi
  case $state in
    old) n_old=$((n_old + 1)) ;;
    new) n_new=$((n_new + 1)) ;;
    *) n_bad=$((n_bad + 1)); echo "killtest: FAIL round $r (kill at ${at} ms, fallback $fallback): $state" ;;
  esac
done
unset RF_TEST_NO_EXCHANGE

# A clean run removes what the killed runs left beside OUTDIR.
stale_before=$(ls -A "$work" | grep -c '^\.out\.\(tmp\|old\)\.' || true)
"$bin" process "$cap" -o "$work/out" --device cpu -q
stale_after=$(ls -A "$work" | grep -c '^\.out\.\(tmp\|old\)\.' || true)
[ "$(judge "$work/out")" = new ] || { echo "killtest: FAIL the clean run did not leave the new set"; n_bad=$((n_bad + 1)); }
echo "killtest: $rounds kills: complete old set $n_old, complete new set $n_new (of which restored by the next run:" \
     "$n_recovered), neither: $n_bad; stale temporaries $stale_before before a clean run, $stale_after after"
[ "$n_bad" -eq 0 ] && [ "$stale_after" -eq 0 ]
