#!/usr/bin/env bash
# The OpenCL path end to end under oclgrind (Debian package oclgrind, an
# OpenCL device simulator that checks every memory access, data races and
# uses of uninitialised values), on a tiny capture (tests/oclgrind/tiny.ini:
# the demo cut to 4 elements, 2 dwells of 8 pulses, 256 samples). Fails on
# any oclgrind report. About 1.5 minutes on 2 cores. docs/opencl.md,
# "Checked under oclgrind", says why each run is set up as it is.
#   scripts/oclgrind-check.sh [RADARFLOW [WORKDIR]]
set -euo pipefail
bin=${1:-build/radarflow}
work=${2:-build/oclgrind}
command -v oclgrind >/dev/null || { echo "oclgrind-check: oclgrind not installed (scripts/install-deps.sh ci)" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work"
export RF_CACHE_DIR="$work/cl-cache"
fail=0

"$bin" simulate tests/oclgrind/tiny.ini -o "$work/tiny.h5" --seed 1 -q
"$bin" process "$work/tiny.h5" -o "$work/cpu" --device cpu -q

# run NAME OCLGRIND-OPTIONS...: processes the capture under oclgrind; its
# reports go to NAME.log and anything else said to NAME.err (oclgrind's
# fatal errors when it builds a kernel): both must stay empty.
run() {
  local name=$1
  shift
  local t0=$SECONDS rc=0
  timeout -k 10 900 oclgrind --log "$work/$name.log" "$@" \
    "$bin" process "$work/tiny.h5" -o "$work/$name" --device opencl -q 2>"$work/$name.err" || rc=$?
  echo "oclgrind $name ($*): exit $rc, $((SECONDS - t0)) s, $(cat "$work/$name.log" 2>/dev/null | wc -l) report lines"
  if [ "$rc" -ne 0 ] || [ -s "$work/$name.log" ] || [ -s "$work/$name.err" ]; then
    head -n 40 "$work/$name.log" "$work/$name.err" 2>/dev/null || true
    fail=1
    return
  fi
  # The plots of the CPU path, within what tests/test_cl_e2e.c allows:
  # 1e-3 range cell (25 m), 1e-3 Doppler bin (31.2 m/s: lambda / (2 K PRI),
  # K = 8), 1e-3 degree, 1e-3 dB.
  if ! awk -F, 'NR == FNR { if (FNR > 1) c[FNR] = $0; n = FNR; next }
        FNR > 1 { split(c[FNR], a, ",")
                  if (a[2] != $2 || (a[3] - $3)^2 > 0.025^2 || (a[4] - $4)^2 > 0.0312^2 ||
                      (a[5] - $5)^2 > 1e-6 || (a[6] - $6)^2 > 1e-6 || (a[7] - $7)^2 > 1e-6) bad = 1 }
        END { if (bad || FNR != n) exit 1 }' "$work/cpu/plots.csv" "$work/$name/plots.csv"; then
    echo "oclgrind $name: plots differ from the CPU path's:"
    cat "$work/cpu/plots.csv" "$work/$name/plots.csv"
    fail=1
  fi
}

# 1. As shipped: default optimisation, fresh buffers zero filled. Every
#    access is bounds-checked (always on), data races, and oclgrind must be
#    able to run every kernel (an intrinsic it lacks is a report).
run shipped --data-races

# 2. Uninitialised values: buffers left unfilled (RF_CL_POISON=uninit), so
#    every byte no command wrote counts as uninitialised. Built without
#    optimisation: at -Oz oclgrind 21.10 misreports stores of vectors built
#    lane by lane (VkFFT's code is full of them) and cannot run the `freeze`
#    that LLVM adds to VkFFT's radix-3/5/7 kernels under --uninitialized.
RF_CL_POISON=uninit run uninit --build-options -cl-opt-disable --uninitialized --data-races

# 3. SIGTERM in the middle of a run: the run stops at the next kernel with
#    exit 130 and writes nothing. The capture has 8 dwells (5-6 s each under
#    oclgrind on an idle 2-core VM, after ~12 s of start-up), so that 15 s
#    falls inside a dwell however fast the machine (tiny.h5's two dwells can
#    end before 15 s).
sed 's/^dwells = 2\b/dwells = 8/' tests/oclgrind/tiny.ini >"$work/long.ini"
"$bin" simulate "$work/long.ini" -o "$work/long.h5" --seed 1 -q
rm -rf "$work/sigterm"
t0=$SECONDS
RF_CL_POISON=uninit oclgrind --build-options -cl-opt-disable --uninitialized \
  "$bin" process "$work/long.h5" -o "$work/sigterm" --device opencl -q >"$work/sigterm.txt" 2>&1 &
pid=$!
sleep 15
kill -TERM "$pid" 2>/dev/null || true
t1=$SECONDS
rc=0
wait "$pid" || rc=$?
echo "oclgrind SIGTERM after 15 s: exit $rc $((SECONDS - t1)) s later: $(head -c 200 "$work/sigterm.txt")"
if [ "$rc" -ne 130 ] || [ -e "$work/sigterm" ] || [ $((SECONDS - t1)) -gt 20 ]; then
  echo "oclgrind SIGTERM: want exit 130 within 20 s and no output folder"
  fail=1
fi

if [ "$fail" -ne 0 ]; then
  echo "oclgrind-check: FAILED (logs in $work)"
  exit 1
fi
echo "oclgrind-check: no reports; plots as on the CPU path; SIGTERM stops a dwell"
