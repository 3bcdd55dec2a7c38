#!/usr/bin/env bash
# Bit-flip campaign (docs/reliability.md): single bit flips in the metadata
# and the global heap (variable-length strings) of a small simulated
# capture, each processed by `radarflow process`. Every run must end within
# 60 s with exit 0 (the flip did not matter) or 2 (refused, named), never a
# signal or a timeout; the count of each outcome is printed.
#   scripts/bitflip.sh [RADARFLOW [WORKDIR [FLIPS [SEED]]]]
# Needs python3 (h5py, when present, keeps the flips off /iq's sample
# chunks; without it the whole file outside the chunks it cannot locate).
set -euo pipefail
bin=${1:-build/radarflow}
work=${2:-build/bitflip}
flips=${3:-240}
seed=${4:-20250101}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-/usr/bin/python3}
rm -rf "$work"
mkdir -p "$work/keep"
"$bin" simulate "${BITFLIP_SCENARIO:-$here/tests/oclgrind/tiny.ini}" -o "$work/base.h5" --seed 1 -q

# Where to flip: half the flips in global heap collections (GCOL, the
# variable-length strings), half anywhere outside /iq's sample chunks.
"$py" - "$work/base.h5" "$flips" "$seed" "$work/plan.txt" <<'PY'
import random, struct, sys
path, n, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
raw = []
try:
    import h5py
    with h5py.File(path, "r") as f:
        d = f["iq"].id
        if d.get_create_plist().get_layout() == h5py.h5d.CHUNKED:
            for i in range(d.get_num_chunks()):
                c = d.get_chunk_info(i)
                raw.append((c.byte_offset, c.byte_offset + c.size))
        else:
            off = d.get_offset()
            if off is not None:
                raw.append((off, off + d.get_storage_size()))
except Exception as e:  # no h5py: flips may land in samples too
    print(f"bitflip: h5py not usable ({e}); flipping outside no known chunk", file=sys.stderr)
mask = bytearray(len(data))
for a, b in raw:
    mask[a:b] = b"\x01" * (min(b, len(data)) - a)
meta = [o for o, m in enumerate(mask) if not m]
heaps = []
i = data.find(b"GCOL")
while i >= 0:
    size = struct.unpack_from("<Q", data, i + 8)[0]
    heaps.append((i, min(i + size, len(data))))
    i = data.find(b"GCOL", i + 4)
heap = [o for a, b in heaps for o in range(a, b)]
if not heap:
    sys.exit("bitflip: the capture has no global heap (variable-length strings expected)")
rng = random.Random(seed)
with open(out, "w") as f:
    for k in range(n):
        where = "heap" if k % 2 == 0 else "meta"
        o = rng.choice(heap if where == "heap" else meta)
        f.write(f"{k} {where} {o} {rng.randrange(8)}\n")
print(f"bitflip: {len(data)} bytes, {len(raw)} sample chunks ({sum(b - a for a, b in raw)} bytes) left alone, "
      f"{len(meta)} metadata bytes, {len(heaps)} global heap collection(s) of {len(heap)} bytes; {n} flips")
PY

ok=0; refused=0; crash_contained=0; hang_contained=0; bad=0; slowest=0
while read -r k where off bit; do
  f="$work/flip.h5"
  cp "$work/base.h5" "$f"
  "$py" -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1)[0]; f.seek(int(sys.argv[2]))
f.write(bytes([b ^ (1 << int(sys.argv[3]))])); f.close()" "$f" "$off" "$bit"
  rm -rf "$work/out"
  t0=$(date +%s%N)
  rc=0
  timeout -s KILL 60 "$bin" process "$f" -o "$work/out" --device cpu -q --set run.watchdog_s=5 \
    >"$work/log.txt" 2>&1 || rc=$?
  dt=$(( ($(date +%s%N) - t0) / 1000000 ))
  (( dt > slowest )) && slowest=$dt
  case $rc in
    0) ok=$((ok + 1)) ;;
    2)
      refused=$((refused + 1))
      if grep -q "killed by signal" "$work/log.txt"; then
        crash_contained=$((crash_contained + 1)); cp "$f" "$work/keep/crash-$k-$where-$off-$bit.h5"
      elif grep -q "no progress" "$work/log.txt"; then
        hang_contained=$((hang_contained + 1)); cp "$f" "$work/keep/hang-$k-$where-$off-$bit.h5"
      fi ;;
    *)
      bad=$((bad + 1)); cp "$f" "$work/keep/bad-$k-$where-$off-$bit-rc$rc.h5"
      echo "bitflip: FAIL flip $k ($where byte $off bit $bit): exit $rc"; sed 's/^/  /' "$work/log.txt" ;;
  esac
done <"$work/plan.txt"

total=$((ok + refused + bad))
echo "bitflip: $total runs: exit 0: $ok, exit 2: $refused (of which a libhdf5 crash contained: $crash_contained," \
     "a hang stopped by the watchdog: $hang_contained), other (signal, timeout, other code): $bad;" \
     "slowest run ${slowest} ms"
[ "$bad" -eq 0 ]
