#!/usr/bin/env bash
# radarflow on a GPU machine, every measurement of issue 14 in one run.
#
# On the build machine (Debian 12), from the repository root:
#     make -j2 all && bash scripts/h200-bench.sh --pack ../shared/device/bundle.sh
# which bundles build/radarflow and the libraries it needs (bundle.sh),
# strips it and packs it as .device/radarflow-bundle.tar.gz (about 25 MB:
# unpacked, OpenBLAS alone is 35 MB and the bundle 69 MB, over the 64 MiB
# a device run may carry). Then the device run tool, carry [".device"]:
#     bash scripts/h200-bench.sh
# which unpacks the bundle, sources its gpu-env.sh (the NVIDIA OpenCL
# driver registered) and measures. Results go to $OUT (else ./h200-out), at
# most 8 files, none deeper than $OUT/x: summary.txt and summary.json (the
# figures), bench.json (every bench run's JSON, by name), bench.txt,
# profiles.json (device time per kernel and VkFFT transform, per workload)
# and h200-all.tar.gz (every log). Steps run under `timeout`; optional ones
# are skipped when the time budget (H200_BUDGET_S, default 480 s) would be
# passed, and a failed step does not stop the others.
#
# Environment: RF_BIN (default: the bundle's radarflow, else radarflow on
# the PATH, else build/radarflow); H200_QUICK=1: tiny sizes on any OpenCL
# device (PoCL), to check this script end to end where there is no GPU -
# its figures mean nothing.
set -uo pipefail

rf_root=$(cd "$(dirname "$0")/.." && pwd)
pack=$rf_root/.device/radarflow-bundle.tar.gz
if [[ ${1:-} == --pack ]]; then
  bundle_sh=${2:-$rf_root/../shared/device/bundle.sh}
  [[ -x $rf_root/build/radarflow ]] || { echo "h200-bench --pack: build/radarflow missing (make -j2 all)" >&2; exit 2; }
  [[ -f $bundle_sh ]] || { echo "h200-bench --pack: no bundle script at $bundle_sh" >&2; exit 2; }
  if [[ -e $rf_root/.device ]] && [[ -n $(find "$rf_root/.device" -mindepth 1 ! -name radarflow-bundle.tar.gz -print -quit) ]]; then
    echo "h200-bench --pack: $rf_root/.device holds other files (an unpacked bundle is too large to carry); remove it first" >&2
    exit 2
  fi
  tmp=$(mktemp -d)
  bash "$bundle_sh" "$rf_root/build/radarflow" -- "$tmp/b" >/dev/null || { rm -rf "$tmp"; exit 1; }
  strip --strip-unneeded "$tmp/b/bin/radarflow" 2>/dev/null
  mkdir -p "$rf_root/.device"
  tar -C "$tmp/b" -czf "$pack.tmp" . && mv "$pack.tmp" "$pack"
  rc=$?
  rm -rf "$tmp"
  ((rc == 0)) && echo "h200-bench --pack: $(du -h "$pack" | cut -f1) in $pack"
  exit $rc
fi

t_start=$(date +%s)
budget=${H200_BUDGET_S:-480}
quick=${H200_QUICK:-0}
out=${OUT:-./h200-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/h200-bench.XXXXXX")
bin=${RF_BIN:-}
if [[ -z $bin && -f $pack ]]; then
  mkdir -p "$work/bundle" && tar -C "$work/bundle" -xzf "$pack" || { echo "h200-bench: cannot unpack $pack" >&2; exit 1; }
  # shellcheck disable=SC1091
  source "$work/bundle/gpu-env.sh" # (it sets variables of its own, e.g. `here`)
  bin=$work/bundle/bin/radarflow
fi
if [[ -z $bin ]]; then
  if command -v radarflow >/dev/null; then bin=$(command -v radarflow); else bin=$rf_root/build/radarflow; fi
fi
export RF_CACHE_DIR=$work/cache
steps=$work/steps.tsv
: >"$steps"
echo "h200-bench: $(date -u +%FT%TZ), binary $bin, work $work, out $out, quick $quick, budget ${budget}s"

elapsed() { echo $(($(date +%s) - t_start)); }

# step NAME TIMEOUT_S OPTIONAL(0|1) CMD... : output to $work/NAME.txt
step() {
  local name=$1 limit=$2 optional=$3
  shift 3
  local left=$((budget - $(elapsed)))
  if ((optional && limit > left)); then
    printf '%s\tskipped\t0\t(%ss left, needs %ss)\n' "$name" "$left" "$limit" >>"$steps"
    echo "== $name: skipped (${left}s left of the budget)"
    return 0
  fi
  ((limit > left && left > 30)) && limit=$left
  echo "== $name (at most ${limit}s)"
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$work/$name.txt" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" >>"$steps"
  tail -n 3 "$work/$name.txt" | sed 's/^/   /'
  return $rc
}

# ---- the machine and the devices ----------------------------------------------------
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -a)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
  echo "memory: $(grep MemTotal /proc/meminfo)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
  echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-}"
  ls "${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}" 2>/dev/null
} >"$work/sysinfo.txt" 2>&1
command -v nvidia-smi >/dev/null && nvidia-smi -q -d CLOCK,PERFORMANCE >"$work/nvidia-smi-before.txt" 2>&1
step version 20 0 "$bin" --version
step devices 60 0 "$bin" devices
if [[ $quick != 1 ]] && ! grep -q 'type GPU' "$work/devices.txt"; then
  echo "h200-bench: no OpenCL GPU in 'radarflow devices' (see devices.txt); is .device/gpu-env.sh sourced?" >&2
  gpu_missing=1
else
  gpu_missing=0
fi

if [[ $quick == 1 ]]; then
  size=(--quick) rep=(--repeat 1) res=(--resident 3) long_dwells=4 tunings=("bf_tb=4")
else
  size=() rep=(--repeat 3) res=(--resident 50) long_dwells=32
  tunings=("bf_tb=4" "bf_tb=16" "wg=128" "wg=256" "max_groups=4" "max_groups=64")
fi

# ---- 1. every workload on the device: end to end from HDF5 in the page cache,
#         streamed, and device-resident; per-kernel profile -------------------------------
workloads=(matx-exact matx-exact-int16 matx demo early-warning)
if ((gpu_missing == 0)); then
  for w in "${workloads[@]}"; do
    mkdir -p "$work/prof-$w"
    RF_CL_PROFILE=$work/prof-$w step "bench-$w" 150 0 "$bin" bench --device opencl --workload "$w" \
      "${size[@]}" "${rep[@]}" "${res[@]}" --dir "$work/bench" --json "$work/bench-$w.json"
  done
  # ---- 2. a long stream: int16 MatX-exact, steady state over the bus ---------------------
  step stream-int16 150 1 "$bin" bench --device opencl --workload matx-exact-int16 "${size[@]}" \
    --dwells "$long_dwells" --repeat 2 --resident 0 --dir "$work/bench" --json "$work/bench-stream-int16.json"
  # ---- 3. start-up with and without the program and VkFFT plan caches --------------------
  step simulate-demo 60 1 "$bin" simulate "$rf_root/datasets/scenarios/demo.ini" -o "$work/demo.h5" --seed 1
  if [[ -s $work/demo.h5 ]]; then
    for run in cold warm; do
      RF_CACHE_DIR=$work/cache-startup step "startup-$run" 90 1 bash -c \
        't0=$(date +%s%N); "$0" "$@"; rc=$?; echo "real_ms $((($(date +%s%N) - t0) / 1000000))"; exit $rc' \
        "$bin" process "$work/demo.h5" -o "$work/demo-$run" -c "$rf_root/datasets/configs/demo.ini" --device opencl -q
    done
  fi
  # ---- 4. tuning rows to try (device-resident MatX-exact) --------------------------------
  for t in "${tunings[@]}"; do
    RF_CL_TUNING=$t step "tuning-${t//=/-}" 60 1 "$bin" bench --device opencl --workload matx-exact \
      "${size[@]}" --repeat 1 "${res[@]}" --dir "$work/bench" --json "$work/tuning-${t//=/-}.json"
  done
fi
# ---- 5. the host CPUs on the same shapes (FFTW + OpenMP, all cores) -----------------------
step bench-cpu 120 1 "$bin" bench --device cpu --workload matx,matx-exact "${size[@]}" "${rep[@]}" \
  --dir "$work/bench" --json "$work/bench-cpu.json"
command -v nvidia-smi >/dev/null && nvidia-smi -q -d CLOCK,PERFORMANCE >"$work/nvidia-smi-after.txt" 2>&1

# ---- results: summary, merged JSON, profiles, everything in a tarball ----------------------
cat "$work"/bench-*.txt >"$out/bench.txt" 2>/dev/null
if command -v python3 >/dev/null; then
  python3 - "$work" "$out" "$quick" <<'EOF' || echo "h200-bench: the summary failed (raw files are in the tarball)" >&2
import glob, json, os, sys
work, out, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def load(p):
    try:
        with open(p) as f: return json.load(f)
    except Exception: return None
runs = {}
for p in sorted(glob.glob(os.path.join(work, "bench-*.json"))):
    j = load(p)
    if j: runs[os.path.basename(p)[6:-5]] = j
with open(os.path.join(out, "bench.json"), "w") as f: json.dump(runs, f, indent=1)
profiles = {}
for d in sorted(glob.glob(os.path.join(work, "prof-*"))):
    tot = {}
    for p in glob.glob(os.path.join(d, "*.json")):
        j = load(p) or {}
        for k in j.get("kernels", []):
            t = tot.setdefault(k["name"], {"count": 0, "seconds_total": 0.0})
            t["count"] += k["count"]; t["seconds_total"] += k["seconds_total"]
    profiles[os.path.basename(d)[5:]] = dict(sorted(tot.items(), key=lambda kv: -kv[1]["seconds_total"]))
with open(os.path.join(out, "profiles.json"), "w") as f: json.dump(profiles, f, indent=1)
L = []; S = {"quick": quick, "workloads": {}}
first = next((j for n, j in runs.items() if not n.startswith("cpu")), {})
copy, h2d = first.get("device_copy_bandwidth_bytes_per_second", 0), first.get("h2d_bandwidth_bytes_per_second", 0)
S.update(device=first.get("device_name"), device_copy_bandwidth=copy, pinned_h2d_bandwidth=h2d)
L.append("radarflow on %s%s" % (first.get("device_name", "?"), " (QUICK: sizes cut, figures mean nothing)" if quick else ""))
L.append("measured in this run: device copy %.2f TB/s (read+write), pinned host-to-device %.1f GB/s" % (copy / 1e12, h2d / 1e9))
L.append("anchors measured by others on an H200 (issue 14): copy 4.28 TB/s, pinned H2D 55.5 GB/s; "
         "MatX's own CUDA example 2.87 ms per CPI; targets: matx-exact device-resident <= 0.45 ms per CPI, "
         "int16 end to end <= 1.66 ms per CPI")
for name, j in runs.items():
    if name.startswith("cpu"): continue
    for w in j.get("workloads", []):
        d = max(1, w.get("dwells", 1))
        r = w.get("device_resident", {})
        e = {"dwells": d, "end_to_end_ms_per_cpi": 1e3 * w.get("seconds_median", 0) / d,
             "streamed_ms_per_cpi": 1e3 * w.get("streamed_seconds_median", 0) / d,
             "streamed_ratio_to_h2d": w.get("streamed_ratio_to_h2d_bandwidth"),
             "resident_ms_per_cpi": 1e3 * r.get("cpi_seconds_median", 0) if r else None,
             "resident_back_to_back_ms": 1e3 * r.get("back_to_back_seconds_per_cpi", 0) if r else None,
             "resident_stage_ms": {k: 1e3 * v for k, v in r.get("stage_seconds_mean", {}).items()},
             "machine_busy": w.get("machine_busy")}
        S["workloads"][name] = e
        L.append("")
        L.append("%s (%s): %d dwells" % (name, w.get("description", ""), d))
        ratio = e["streamed_ratio_to_h2d"]
        L.append("  end to end %.3f ms/CPI (with set-up), streamed %.3f ms/CPI, streamed input rate %s of pinned H2D"
                 % (e["end_to_end_ms_per_cpi"], e["streamed_ms_per_cpi"],
                    "%.1f%%" % (100 * ratio) if ratio is not None else "not reported (host busy)"))
        if r:
            L.append("  device-resident %.3f ms/CPI (median of %d; back to back %.3f ms); stages %s"
                     % (e["resident_ms_per_cpi"], r.get("repeats", 0), e["resident_back_to_back_ms"],
                        ", ".join("%s %.3f" % kv for kv in e["resident_stage_ms"].items())))
            if name == "matx-exact":
                L.append("  MatX's 2.87 ms / this: %.2f (target: >= 6.4, i.e. <= 0.45 ms)" % (2.87 / max(e["resident_ms_per_cpi"], 1e-9)))
        if name == "stream-int16":
            L.append("  int16 target 1.66 ms/CPI streamed: %s" % ("met" if 0 < e["streamed_ms_per_cpi"] <= 1.66 else "not met"))
        prof = profiles.get(name, {})
        if prof:
            L.append("  device time by kernel (all runs of this workload): " +
                     ", ".join("%s %.1f ms x%d" % (k, 1e3 * v["seconds_total"], v["count"]) for k, v in list(prof.items())[:8]))
for p in sorted(glob.glob(os.path.join(work, "tuning-*.json"))):
    j = load(p) or {}
    for w in j.get("workloads", []):
        r = w.get("device_resident", {})
        if r:
            L.append("tuning %s: matx-exact device-resident %.3f ms/CPI" % (os.path.basename(p)[7:-5], 1e3 * r["cpi_seconds_median"]))
            S.setdefault("tuning", {})[os.path.basename(p)[7:-5]] = 1e3 * r["cpi_seconds_median"]
for run in ("cold", "warm"):
    try:
        ms = [l for l in open(os.path.join(work, "startup-%s.txt" % run)) if l.startswith("real_ms")][0].split()[1]
        L.append("demo scenario, radarflow process with %s program and VkFFT plan caches: %.2f s" % (run, float(ms) / 1e3))
        S["startup_%s_s" % run] = float(ms) / 1e3
    except Exception: pass
cpu = load(os.path.join(work, "bench-cpu.json"))
if cpu:
    for w in cpu.get("workloads", []):
        L.append("host CPU %s (%d threads): %.3f s end to end for %d dwells, FFT floor ratio %s"
                 % (w["workload"], cpu.get("threads", 0), w.get("seconds_median", 0), w.get("dwells", 0), w.get("ratio_to_fft_floor")))
L.append(""); L.append("steps (name, exit status, seconds):")
L += ["  " + l.rstrip("\n") for l in open(os.path.join(work, "steps.tsv"))]
with open(os.path.join(out, "summary.txt"), "w") as f: f.write("\n".join(L) + "\n")
with open(os.path.join(out, "summary.json"), "w") as f: json.dump(S, f, indent=1)
print("\n".join(L))
EOF
else
  cp "$steps" "$out/summary.txt"
fi
tar -C "$work" -czf "$out/h200-all.tar.gz" --exclude=./bench --exclude=./cache --exclude=./cache-startup \
  --exclude=./bundle --exclude='*.h5' --exclude=./demo-cold --exclude=./demo-warm . 2>/dev/null
rm -rf "$work"
echo "h200-bench: done in $(elapsed) s; results in $out: $(ls "$out" | tr '\n' ' ')"
