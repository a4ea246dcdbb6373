#!/usr/bin/env bash
# Tests scripts/cluster/egd-array.sbatch on a real, throw-away single-node
# Slurm: starts munged, slurmctld and slurmd on this machine with their own
# config, sockets, ports and state under a temporary directory (the system's
# own services and /etc/slurm are not touched), submits a 3-shard
# `egd compare` as a job array plus its dependent `egd report` job, waits,
# and checks the merged table against an unsharded run (timings aside).
# Then stops the daemons it started.
#
# Needs root and Debian's slurm-wlm and munge (installed here with apt-get
# if missing). Not part of .ci/run: it starts system daemons as root, which a
# shared CI machine should not have to host; run it by hand. About two
# minutes on 2 cores after the build.
#   sudo scripts/cluster/test-slurm.sh      (EGD=path/to/egd to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
[[ $(id -u) -eq 0 ]] || { echo "test-slurm: needs root (it starts munged, slurmctld and slurmd)" >&2; exit 1; }
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
if [[ -z "${EGD:-}" ]]; then
  cargo build --release -p egd-bench --bin egd
  EGD=$repo/target/release/egd
fi

work=$(mktemp -d /tmp/egd-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for f in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munge/munged.pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a private key and socket.
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1 count=1024 status=none
chown -R munge:munge "$work/munge"
chmod 711 "$work/munge"
chmod 400 "$work/munge/munge.key"
su -s /bin/sh munge -c "munged --socket=$work/munge/munge.sock --key-file=$work/munge/munge.key \
  --pid-file=$work/munge/munged.pid --log-file=$work/munge/munged.log --seed-file=$work/munge/seed"

host=$(hostname)
cpus=$(nproc)
mkdir -p "$work/spool/d" "$work/spool/ctld" "$work/log"
cat > "$work/slurm.conf" <<CONF
ClusterName=egdtest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmdSpoolDir=$work/spool/d
StateSaveLocation=$work/spool/ctld
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=26817
SlurmdPort=26818
SchedulerType=sched/backfill
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=egdtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 50); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo

args=(compare --preset smoke-add-47 --optimizers sgd,egd --seeds 3 --epochs 70)
stem=compare_smoke-add-47_sgd-egd_3seeds
"$EGD" "${args[@]}" --jobs 1 --quiet --out "$work/whole" >/dev/null

submitted=$(scripts/cluster/egd-array.sbatch --shards 3 --out "$work/shared" --egd "$EGD" -- "${args[@]}")
echo "$submitted"
report_job=$(sed -n 's/.*report job \([0-9]*\).*/\1/p' <<<"$submitted")
for _ in $(seq 600); do
  [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break
  sleep 0.5
done
[[ -z $(squeue -h -o %i) ]] || { echo "test-slurm: jobs still queued after 5 minutes" >&2; squeue >&2; exit 1; }
log=$(compgen -G "$work/shared/slurm-$report_job-report.log" || true)
[[ -n "$log" ]] || { echo "test-slurm: the report job did not run" >&2; tail -n 20 "$work"/log/*.log "$work"/shared/*.log >&2; exit 1; }
cat "$log"
[[ $(compgen -G "$work/shared/results_*.jsonl" | wc -l) -eq 3 ]] || { echo "test-slurm: expected 3 results files" >&2; exit 1; }
grep -h "egd-array: shard" "$work"/shared/slurm-*_*.log
scripts/cluster/same-table.sh "$work/whole/$stem.md" "$work/shared/$stem.md"
echo "test-slurm: OK"
