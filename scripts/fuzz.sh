#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan) into
# build/fuzz/ and runs each for SECONDS (default 60) from its seed corpus
# (tests/fuzz/corpus/<target>/, copied so the repository is not touched).
# A crash stops that target and is saved as build/fuzz/crash-<target>-*:
# fix it, then add the file to tests/fuzz/regressions/<target>/ so the Check
# suite test_fuzz_regress_suite replays it. Exit 1 if any target failed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default targets: capture config scenario;
#   capture_raw (raw HDF5 bytes: finds libhdf5 parser crashes) only when named.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(capture config scenario)
CC=${FUZZ_CC:-clang}
out=build/fuzz
if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# glibc defines CMPLXF only for GCC >= 4.7; clang has the builtin it needs.
cmplx_f="-DCMPLXF(x,y)=__builtin_complex((float)(x),(float)(y))"
cmplx_d="-DCMPLX(x,y)=__builtin_complex((double)(x),(double)(y))"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags hdf5 inih libcjson sleef) $san"
libs="$(pkg-config --libs hdf5 inih libcjson sleef) -lm"
# Only what the readers need: no FFTW, no OpenMP.
srcs=(host/common.c host/geodesy.c host/files.c host/outdir.c host/suggest.c io/columns.c io/csv.c io/capture_read.c io/capture_chunks.c
      io/capture_sources.c io/capture_vds.c io/capture_write.c io/h5util.c io/products.c
      pipelines/config.c datasets/scenario.c)
objs=()
for s in "${srcs[@]}"; do
  o="$out/obj/$(echo "$s" | tr / _).o"
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$0" -nt "$o" ]; then
    $CC $flags "$cmplx_f" "$cmplx_d" -fsanitize=fuzzer-no-link -c "$s" -o "$o"
  fi
  objs+=("$o")
done
for t in "${targets[@]}"; do
  $CC $flags -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" "${objs[@]}" $libs -o "$out/fuzz_$t"
done
# Scratch files of the targets: memory-backed when /dev/shm is there.
export TMPDIR="$out"
[ -d /dev/shm ] && [ -w /dev/shm ] && TMPDIR=/dev/shm
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fail=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus-$t"
  cp -n tests/fuzz/corpus/"$t"/* "$out/corpus-$t/" 2>/dev/null || true
  maxlen=4096
  [ "$t" = capture_raw ] && maxlen=65536
  echo "fuzz: $t for ${secs} s"
  if ! "$out/fuzz_$t" -max_total_time="$secs" -max_len=$maxlen -timeout=20 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$out/crash-$t-" "$out/corpus-$t" \
       >"$out/fuzz_$t.log" 2>&1; then
    echo "fuzz: $t FAILED; see $out/fuzz_$t.log and $out/crash-$t-*" >&2
    tail -n 40 "$out/fuzz_$t.log" >&2
    fail=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$out/fuzz_$t.log" | tr '\n' ' '
    echo
  fi
done
exit $fail
