#!/usr/bin/env bash
# End-to-end test of `plateau sweep --backend slurm` on a real, single-node Slurm cluster on
# localhost (Debian's slurm-wlm: munged + slurmctld + slurmd), as CI runs it (`.ci/run`).
#
#   scripts/slurm-e2e.sh            # needs root (installs packages, runs munged as munge)
#
# 1. installs slurm-wlm and munge when missing (apt-get);
# 2. writes a slurm.conf into a temporary state folder (settings measured on these machines:
#    ../shared/reference/SLURM.md) and starts munged (unless one already answers), slurmctld and
#    slurmd, waiting (bounded) for the node to be idle;
# 3. builds plateau (debug profile: `make test` has built it already) and submits
#    experiments/smoke.toml as a job array with `plateau sweep --backend slurm`;
# 4. waits (bounded) for the array to leave the queue, then checks that results.jsonl holds
#    every cell exactly once, all `ok`, and that `plateau sweep --status` agrees;
# 5. stops exactly the daemons it started (slurmd first, then slurmctld, then munged), also on
#    failure (trap on EXIT).
#
# Environment: PLATEAU_BIN (a plateau binary to use instead of building), SLURM_E2E_TIMEOUT
# (seconds to wait for the array, default 300), SLURM_E2E_KEEP=1 (keep the state folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
T0=$SECONDS

say() { echo "slurm-e2e: $*"; }
die() {
    echo "slurm-e2e: FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (installs packages and starts munged as the munge user)"

# --- 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -n 1 | awk '{print $1}')"

# --- 2. configuration and daemons
STATE=$(mktemp -d /tmp/plateau-slurm-e2e.XXXXXX)
chmod 755 "$STATE"
export SLURM_CONF="$STATE/slurm.conf"
STARTED_MUNGED=""
SLURMCTLD_PID=""
SLURMD_PID=""

# Waits up to $1 seconds for process $2 to exit.
wait_gone() {
    local deadline=$((SECONDS + $1))
    while kill -0 "$2" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

# Stops one daemon we started: SIGTERM, a bounded wait, then SIGKILL.
stop_pid() {
    local name=$1 pid=$2
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone 20 "$pid"; then
        say "$name ($pid) ignored SIGTERM for 20 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone 5 "$pid" || true
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT
    # slurmd before slurmctld: a slurmd without its controller ignores SIGTERM for a while.
    stop_pid slurmd "$SLURMD_PID"
    stop_pid slurmctld "$SLURMCTLD_PID"
    stop_pid munged "$STARTED_MUNGED"
    if [ $rc -ne 0 ]; then
        for f in "$STATE"/slurmctld.log "$STATE"/slurmd.log; do
            [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 30 "$f" >&2; }
        done
        say "state kept in $STATE"
    elif [ "${SLURM_E2E_KEEP:-0}" = 1 ]; then
        say "state kept in $STATE"
    else
        rm -rf "$STATE"
    fi
    exit $rc
}
trap cleanup EXIT

# munged: as the munge user, with /run/munge present; an already running one is reused.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running: reusing it"
else
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey -c -k /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    runuser -u munge -- munged
    for _ in $(seq 50); do
        [ -s /run/munge/munged.pid ] && break
        sleep 0.1
    done
    STARTED_MUNGED=$(cat /run/munge/munged.pid 2>/dev/null || true)
    [ -n "$STARTED_MUNGED" ] || die "munged did not start"
    munge -n | unmunge >/dev/null || die "munge credentials do not round-trip"
fi

CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
# RealMemory must stay below what the machine reports, or the node is marked invalid.
REAL_MEM=$((MEM_MB * 8 / 10))
[ $REAL_MEM -le 2000 ] || REAL_MEM=2000
mkdir -p "$STATE/ctld" "$STATE/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=plateau-e2e
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((REAL_MEM / CPUS))
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=localhost CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=e2e Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# await_pid DAEMON VAR: waits (up to 5 s) for DAEMON to write $STATE/DAEMON.pid and stores the
# pid in VAR; dies if it never does.
await_pid() {
    for _ in $(seq 50); do
        [ -s "$STATE/$1.pid" ] && break
        sleep 0.1
    done
    local pid
    pid=$(cat "$STATE/$1.pid" 2>/dev/null || true)
    [ -n "$pid" ] || die "$1 did not start"
    printf -v "$2" '%s' "$pid"
}
slurmctld -f "$SLURM_CONF"
await_pid slurmctld SLURMCTLD_PID
slurmd -f "$SLURM_CONF" -N localhost
await_pid slurmd SLURMD_PID

deadline=$((SECONDS + 60))
until [ "$(sinfo -h -N -o '%T' 2>/dev/null)" = "idle" ]; do
    [ $SECONDS -lt $deadline ] || die "node not idle after 60 s: $(sinfo -h -N -o '%T %E' 2>&1)"
    sleep 0.5
done
say "cluster up (slurmctld $SLURMCTLD_PID, slurmd $SLURMD_PID, $CPUS CPUs) after $((SECONDS - T0)) s"

# --- 3. submit the smoke sweep
if [ -n "${PLATEAU_BIN:-}" ]; then
    PLATEAU=$(realpath "$PLATEAU_BIN")
else
    bash scripts/bootstrap-libtorch.sh >/dev/null
    cargo build -q -p plateau -p plateau-experiments --bins
    PLATEAU=$ROOT/target/debug/plateau
fi
CONFIG=$ROOT/experiments/smoke.toml
RES=$STATE/results
CELLS=$("$PLATEAU" sweep "$CONFIG" --dry-run 2>/dev/null | wc -l)
[ "$CELLS" -ge 2 ] || die "smoke.toml has $CELLS cells"
T1=$SECONDS
JOB=$("$PLATEAU" sweep "$CONFIG" --backend slurm --results "$RES")
[[ "$JOB" =~ ^[0-9]+$ ]] || die "no job id from plateau sweep: '$JOB'"
say "submitted job $JOB ($CELLS array tasks)"
grep -q "^#SBATCH --array=0-$((CELLS - 1))\$" "$RES/slurm/array.sh" || die "array.sh: $(cat "$RES/slurm/array.sh")"

# --- 4. wait for the array, then check the store
deadline=$((SECONDS + ${SLURM_E2E_TIMEOUT:-300}))
while :; do
    if out=$(squeue -h -r -j "$JOB" -o '%i %T' 2>&1); then
        [ -z "$out" ] && break
    elif [[ "$out" == *"Invalid job id"* ]]; then
        break # finished and already purged
    else
        die "squeue failed (controller down?): $out"
    fi
    [ $SECONDS -lt $deadline ] || die "job $JOB still queued after ${SLURM_E2E_TIMEOUT:-300} s: $out"
    sleep 1
done
say "array finished in $((SECONDS - T1)) s"

LOGS=$(find "$RES/slurm/logs" -name "${JOB}_*.out" | wc -l)
[ "$LOGS" -eq "$CELLS" ] || die "$LOGS task logs for $CELLS cells"
LINES=$(wc -l <"$RES/results.jsonl")
IDS=$(grep -o '"id":"[0-9a-f]*"' "$RES/results.jsonl" | sort)
WANT=$("$PLATEAU" sweep "$CONFIG" --dry-run 2>/dev/null | cut -f2 | sed 's/.*/"id":"&"/' | sort)
[ "$LINES" -eq "$CELLS" ] || die "results.jsonl has $LINES lines for $CELLS cells"
[ "$IDS" = "$WANT" ] || die "cell ids in results.jsonl differ from the config's: $IDS"
OK=$(grep -c '"status":"ok"' "$RES/results.jsonl" || true)
[ "$OK" -eq "$CELLS" ] || die "$OK of $CELLS cells ok: $(grep -v '"status":"ok"' "$RES/results.jsonl" | head -c 2000)"
# The whole output, then its first line (a `| head` would close the pipe under plateau).
STATUS=$("$PLATEAU" sweep "$CONFIG" --results "$RES" --status)
STATUS=${STATUS%%$'\n'*}
EXPECT="smoke: $CELLS cells: $CELLS done ($CELLS ok), 0 failed, 0 running, 0 queued, 0 pending"
[ "$STATUS" = "$EXPECT" ] || die "status: '$STATUS', expected '$EXPECT'"
# Resubmitting a finished sweep submits nothing.
[ -z "$("$PLATEAU" sweep "$CONFIG" --backend slurm --results "$RES" 2>/dev/null)" ] ||
    die "a finished sweep was submitted again"
say "PASS: $CELLS cells, each once and ok; $((SECONDS - T0)) s in all"
