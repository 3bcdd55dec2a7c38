#!/usr/bin/env bash
# Installs the Debian packages radarflow needs to build and test, only those
# missing. Used by `make deps` (and so by make check/demo/bench) and .ci/run.
set -euo pipefail
pkgs=(build-essential pkg-config libhdf5-dev libfftw3-dev libinih-dev libcjson-dev
      check libsubunit-dev
      ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo libvkfft-dev)
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
