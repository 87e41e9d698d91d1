#!/usr/bin/env bash
# Brings up a real one-node Slurm cluster on loopback (munged + slurmctld +
# slurmd), with every file (config, key, socket, state, logs, pids) under DIR,
# and tears it down again. Tests use it like this:
#   scripts/slurm-local.sh start "$dir"   # exit 0: up; exit 77: skip (reason on stderr)
#   . "$dir/env"                          # exports SLURM_CONF for sbatch/squeue/scontrol
#   ...                                   # submit jobs
#   scripts/slurm-local.sh stop "$dir"    # idempotent
# Missing packages are installed with apt-get when running as root.
# SLURM_LOCAL_CRED_EXPIRE (default 10, min 5): a requeued job restarts after that + 1 s.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
say() { echo "slurm-local: $*" >&2; }
skip() { say "SKIP: $*"; exit 77; }
[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || { say "usage: $0 start|stop DIR"; exit 2; }
cmd=$1
[[ $cmd == stop && ! -d $2 ]] && { say "nothing to stop ($2)"; exit 0; }
mkdir -p "$2"
dir=$(cd "$2" && pwd)

# A live daemon of this cluster: its command line names DIR (zombies have none,
# and a recycled pid of some other process does not match).
ours() { [[ $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) == *"$dir/"* ]]; }
pidof_() { cat "$dir/$1.pid" 2>/dev/null || true; }
stop() {
  local conf="$dir/slurm.conf" group d pid pids
  pid=$(pidof_ slurmctld)
  if [[ -n $pid ]] && ours "$pid"; then
    # Cancel what still runs, so no orphaned slurmstepd outlives the cluster.
    SLURM_CONF=$conf timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 20); do
      [[ -z "$(SLURM_CONF=$conf timeout 5 squeue -h -t R,CG -o %i 2>/dev/null)" ]] && break
      sleep 0.5
    done
  fi
  for group in "slurmd slurmctld" munged; do # munged last: the others need it to the end
    pids=()
    for d in $group; do
      pid=$(pidof_ "$d")
      if [[ -n $pid ]] && ours "$pid" && kill -TERM "$pid" 2>/dev/null; then pids+=("$pid"); fi
      rm -f "$dir/$d.pid"
    done
    for _ in $(seq 100); do
      for pid in "${pids[@]}"; do if ours "$pid"; then sleep 0.1; continue 2; fi; done
      break
    done
    for pid in "${pids[@]}"; do if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi; done
  done
}

if [[ $cmd == stop ]]; then stop; say "stopped ($dir)"; exit 0; fi

# 1. Binaries, installed when possible.
tools=(slurmctld slurmd munged sbatch sinfo squeue scontrol scancel)
missing() { local t; for t in "${tools[@]}"; do command -v "$t" >/dev/null || return 0; done; return 1; }
if missing; then
  [[ $(id -u) -eq 0 ]] || skip "slurm-wlm/munge not installed and not root"
  command -v apt-get >/dev/null || skip "slurm-wlm/munge not installed and no apt-get"
  say "installing slurm-wlm munge"
  # Keep package scripts from starting system-wide daemons (no init here).
  prc=/usr/sbin/policy-rc.d own_prc=
  if [[ ! -e $prc ]]; then own_prc=1; printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 755 "$prc"; trap 'rm -f "$prc"' EXIT; fi
  inst() { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq slurm-wlm munge >>"$dir/apt.log" 2>&1; }
  inst || { timeout 300 apt-get update -qq >>"$dir/apt.log" 2>&1 && inst; } || skip "apt-get install slurm-wlm munge failed (see $dir/apt.log)"
  if [[ -n $own_prc ]]; then rm -f "$prc"; trap - EXIT; fi
  missing && skip "slurm binaries still missing after apt-get install"
fi

# 2. Munge with a private key and socket.
stop # a previous cluster in the same DIR
rm -rf "$dir/state" "$dir/spool" "$dir/munge"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
sock="$dir/munge/munge.sock"
((${#sock} < 100)) || skip "DIR path too long for a unix socket: $sock"
[[ $dir != *[[:space:],]* ]] || skip "DIR must not contain blanks or commas: $dir"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$dir/munge/munge.key"
# --force: munged otherwise insists that everybody can traverse the socket's folder.
munged --force --key-file="$dir/munge/munge.key" --socket="$sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" \
  2>>"$dir/munged.log" || skip "munged did not start: $(tail -n 3 "$dir/munged.log" | tr '\n' ' ' || true)"

# 3. slurm.conf on two free loopback ports.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" && port_free $((port + 1)) && break
done
host=$(uname -n)
host=${host%%.*} # hostname -s
user=$(id -un)
mem=$(awk '/^MemTotal:/ {m = int($2 / 1024) - 1024; print (m < 512 ? 512 : m)}' /proc/meminfo)
: >"$dir/plugstack.conf"
cat >"$dir/slurm.conf" <<EOF
ClusterName=memscan-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
# cred_expire (>= 5, default 120) is how long a job credential stays valid, and a
# requeued job waits cred_expire+1 s before it can start again.
AuthInfo=socket=$sock,cred_expire=${SLURM_LOCAL_CRED_EXPIRE:-10}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
PlugStackConfig=$dir/plugstack.conf
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Schedule every second rather than every 30-60 s, so requeued/eligible jobs start at once.
SchedulerParameters=sched_interval=1,bf_interval=1
KillWait=5
# Purge finished jobs after 5 s (+ up to 60 s) instead of 300 s: sbatch --wait
# then polls every 2 s (it backs off to 32 s when MinJobAge > 5).
MinJobAge=5
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
printf 'export SLURM_CONF=%q\n' "$dir/slurm.conf" >"$dir/env"
export SLURM_CONF="$dir/slurm.conf"

# 4. Daemons; wait until the node is idle.
fail() {
  local logs
  logs=$(tail -q -n 3 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/daemons.log" 2>/dev/null | tr '\n' ' ' || true)
  stop
  skip "daemons did not start: $logs"
}
slurmctld -f "$SLURM_CONF" -i >>"$dir/daemons.log" 2>&1 || fail
slurmd -f "$SLURM_CONF" -N "$host" >>"$dir/daemons.log" 2>&1 || fail
state=
for _ in $(seq 60); do
  state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || fail
say "up ($dir/env)"
