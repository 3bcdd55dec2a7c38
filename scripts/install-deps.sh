#!/usr/bin/env bash
# Installs the Debian packages radarflow needs, only those missing.
#   install-deps.sh         build, run and `make check` (make deps, check, demo, bench)
#   install-deps.sh fuzz    + clang and its fuzzer runtime (make fuzz)
#   install-deps.sh ci      + everything .ci/run uses: fuzzing, tshark (ASTERIX
#                           decode test), chromium (index.html screenshot),
#                           slurm-wlm and munge (single-node cluster test),
#                           python3-venv (Stone Soup comparison; sigmf for the
#                           import test), man-db and groff-base (the installed
#                           man page), python3-h5py (docs/python.md examples,
#                           install check, import test), oclgrind
#                           (OpenCL kernels checked in a device simulator)
set -euo pipefail
pkgs=(build-essential pkg-config libhdf5-dev libfftw3-dev libinih-dev libcjson-dev libsleef-dev
      check libsubunit-dev libcairo2-dev fonts-dejavu-core
      ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo libvkfft-dev
      libopenblas-openmp-dev)
case "${1:-}" in
  "") ;;
  fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
  ci) pkgs+=(clang libclang-rt-14-dev tshark chromium slurm-wlm munge python3-venv curl
            man-db groff-base python3-h5py oclgrind) ;;
  *) echo "usage: install-deps.sh [fuzz|ci]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
