#!/usr/bin/env bash
# End-to-end test of scripts/slurm/nightly.sbatch on a real single-node Slurm
# cluster started here on loopback: munged with its own key, slurmctld and
# slurmd (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no
# accounting), a job array over a folder of small captures (one of them
# bad), a dependent job running batch-merge, then checks that the merged
# summary lists every capture exactly once with the right status. Everything
# it starts is stopped and its folder removed on exit.
#   tests/slurm/slurm_test.sh [RADARFLOW_BINARY]      (default build/radarflow)
# Needs root (slurmd), slurm-wlm and munge. Without them it exits 0 with a
# message, unless SLURM_TEST_REQUIRED is set (then 1). Exit 0 pass, 1 fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
bin=$(readlink -f "${1:-build/radarflow}")
skip() {
  if [ -n "${SLURM_TEST_REQUIRED:-}" ]; then echo "slurm_test: FAIL: $*" >&2; exit 1; fi
  echo "slurm_test: SKIP: $*"
  exit 0
}
for c in munged slurmctld slurmd sbatch sinfo scancel; do
  command -v $c >/dev/null 2>&1 || skip "$c not installed (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd needs root"
[ -x "$bin" ] || { echo "slurm_test: FAIL: no binary $bin (make first)" >&2; exit 1; }

w=$(mktemp -d "$top/build/slurm-test.XXXXXX")
chmod 755 "$w"
pids=()
fail() { echo "slurm_test: FAIL: $*" >&2; for f in "$w"/*.log "$w"/job-*.out; do [ -f "$f" ] && { echo "== $f"; tail -n 20 "$f"; } >&2; done; exit 1; }

# State of a process: empty when gone. Stopped daemons may linger as zombies
# (Z) until reaped, so kill -0 is not enough.
pstate() { [ -r /proc/$1/stat ] && sed 's/^.*) \(.\).*/\1/' /proc/$1/stat 2>/dev/null; }
stop_pid() {
  local p=$1 i
  [ -n "$(pstate $p)" ] || return 0
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 100); do
    case "$(pstate $p)" in ''|Z|X) break ;; esac
    sleep 0.1
  done
  case "$(pstate $p)" in ''|Z|X) ;; *) kill -KILL "$p" 2>/dev/null ;; esac
  wait "$p" 2>/dev/null
}
cleanup() {
  [ -n "${SLURM_CONF:-}" ] && scancel --quiet --user=root >/dev/null 2>&1
  local i
  for (( i=${#pids[@]}-1; i>=0; i-- )); do stop_pid "${pids[$i]}"; done
  rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

host=$(hostname -s)
ncpu=$(nproc)
cport=$(( 20000 + RANDOM % 5000 ))
dport=$(( cport + 5000 ))

# munge: own key, socket folder of mode 0755.
mkdir -p "$w/munge" "$w/state" "$w/spool"
chmod 755 "$w/munge"
chmod 700 "$w/state"
dd if=/dev/urandom of="$w/munge.key" bs=1024 count=1 status=none
chmod 400 "$w/munge.key"
munged -F --force --key-file="$w/munge.key" --socket="$w/munge/munge.socket.2" \
  --pid-file="$w/munged.pid" --log-file="$w/munged.log" --seed-file="$w/munged.seed" \
  >"$w/munged.stderr" 2>&1 &
pids+=($!)
for i in $(seq 50); do [ -S "$w/munge/munge.socket.2" ] && break; sleep 0.1; done
[ -S "$w/munge/munge.socket.2" ] || fail "munged did not start"

export SLURM_CONF="$w/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=rftest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$w/munge/munge.socket.2
StateSaveLocation=$w/state
SlurmdSpoolDir=$w/spool
SlurmctldPidFile=$w/slurmctld.pid
SlurmdPidFile=$w/slurmd.pid
SlurmctldLogFile=$w/slurmctld.log
SlurmdLogFile=$w/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
MinJobAge=4
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu State=UNKNOWN
PartitionName=rftest Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >"$w/slurmctld.stderr" 2>&1 &
pids+=($!)
slurmd -D -N "$host" -f "$SLURM_CONF" >"$w/slurmd.stderr" 2>&1 &
pids+=($!)
up=""
for i in $(seq 150); do
  st=$(sinfo -h -o %T 2>/dev/null | head -n 1)
  case "$st" in idle*|mix*|alloc*) up=1; break ;; esac
  sleep 0.2
done
[ -n "$up" ] || fail "the node did not come up (sinfo: ${st:-nothing})"
echo "slurm_test: cluster up ($host, $ncpu CPUs, ports $cport/$dport)"

# Captures: six small good ones and one that is not HDF5.
caps="$w/caps"
out="$w/out"
mkdir -p "$caps"
cat > "$w/small.ini" <<'INI'
[radar]
name = slurm test
center_frequency_hz = 3e9
[waveform]
type = lfm
bandwidth_hz = 1e6
pulse_width_s = 4e-6
sample_rate_hz = 2e6
pri_s = 100e-6
samples = 128
[array]
layout = ula
elements = 4
[scan]
dwells = 3
pulses_per_dwell = 16
[target a]
range_m = 3000
azimuth_deg = 0
snr_db = 10
INI
ngood=6
for i in $(seq $ngood); do
  "$bin" simulate "$w/small.ini" -o "$caps/night$i.h5" --seed $i -q || fail "simulate"
done
echo "not a capture" > "$caps/broken.h5"
total=$((ngood + 1))

ntask=3
jid=$(RADARFLOW="$bin" RF_JOBS=1 sbatch --parsable --array=0-$((ntask - 1)) --cpus-per-task=1 \
        --output="$w/job-%A_%a.out" scripts/slurm/nightly.sbatch "$caps" "$out") || fail "sbatch array"
jid=${jid%%;*}
echo "slurm_test: array job $jid ($ntask tasks) submitted"
sbatch --wait --dependency=afterany:"$jid" --output="$w/job-merge.out" \
  --wrap "'$bin' batch-merge '$out'" >/dev/null
merge_rc=$?

s="$out/summary.json"
[ -f "$s" ] || fail "no merged summary"
n_index=$(grep -c '"index":' "$s")
n_unique=$(grep '"name":' "$s" | sort -u | wc -l)
n_done=$(grep -c '"status":[[:space:]]*"done"' "$s")
n_failed=$(grep -c '"status":[[:space:]]*"failed"' "$s")
shards=$(ls "$out"/summary.shard-*-of-$ntask.json 2>/dev/null | wc -l)
echo "slurm_test: $shards shard summaries; merged: $n_index captures ($n_unique names), $n_done done, $n_failed failed; merge exit $merge_rc"
[ "$shards" -eq "$ntask" ] || fail "expected $ntask shard summaries, found $shards"
[ "$n_index" -eq "$total" ] || fail "merged summary lists $n_index captures, expected $total"
[ "$n_unique" -eq "$total" ] || fail "a capture is listed twice"
[ "$n_done" -eq "$ngood" ] || fail "expected $ngood done"
[ "$n_failed" -eq 1 ] || fail "expected the broken capture failed"
grep -q '"complete":[[:space:]]*true' "$s" || fail "merged summary not complete"
[ "$merge_rc" -eq 1 ] || fail "batch-merge should exit 1 (one capture failed), got $merge_rc"
for i in $(seq $ngood); do [ -f "$out/night$i/plots.h5" ] || fail "no products for night$i"; done
echo "slurm_test: PASS"
exit 0
