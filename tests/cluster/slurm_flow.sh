#!/bin/sh
# SPDX-License-Identifier: MIT
#
# cluster.slurm_flow (label cluster): a private single-node Slurm (munged,
# slurmctld, slurmd, all files in one temporary directory named by
# SLURM_CONF) runs scripts/slurm/explore-array.sbatch as a 4-task job array;
# `mmnsim merge` of the four shard outputs must equal the unsharded run, under
# S1's wrong setting (violating schedules found: the tasks still succeed) and
# its right setting; a shard lost or given twice is refused by merge; a task
# given a bad option fails (exit 2). Every daemon is stopped by its PID, on
# success and on failure (trap). Needs root and Debian's slurmctld slurmd
# slurm-client munge (scripts/deps.sh).
#   slurm_flow.sh MMNSIM SBATCH_SCRIPT WORKDIR
set -u
mmnsim=$1
script=$2
work=$3
. "$(dirname "$0")/../cli/flow_lib.sh"

for t in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
	command -v "$t" >/dev/null || { echo "FAIL: $t is not installed (sh scripts/deps.sh installs it)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL: the private Slurm runs its daemons as root"; exit 1; }
# slurmd (22.05) will not start without a cgroup file system, which a chroot
# or a container may lack: that is no machine to test a cluster on (77: the
# test is skipped, and says why).
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ ! -d /sys/fs/cgroup/cpu ] &&
	[ ! -d /sys/fs/cgroup/systemd ] && [ ! -d /sys/fs/cgroup/cpuset ]; then
	echo "SKIP: no cgroup file system at /sys/fs/cgroup (a chroot or a container?): slurmd cannot start here"
	exit 77
fi

rm -rf "$work"
mkdir -p "$work/munge" "$work/state" "$work/spool"
chmod 700 "$work/munge"
dir=$(cd "$work" && pwd)
# munged refuses a socket in a directory that not everyone can reach through
# every parent (a build tree under /root is not): its socket, and the pid
# files beside it, go to a fresh directory under /tmp.
run=$(mktemp -d "${TMPDIR:-/tmp}/mmnsim-slurm.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
chmod 755 "$run"
pids=""
cleanup() {
	[ -n "${SLURM_CONF:-}" ] && scontrol shutdown >/dev/null 2>&1
	for p in $pids; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
		kill -9 "$p" 2>/dev/null
	done
	for f in "$run/munged.pid" "$run/slurmctld.pid" "$run/slurmd.pid"; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Two free ports (the kernel picks them: bind to port 0).
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' 2>/dev/null) ||
	ports="$((20000 + $$ % 20000)) $((20001 + $$ % 20000))"
set -- $ports
cpus=4
cat >"$dir/slurm.conf" <<CONF
ClusterName=mmnsim-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$1
SlurmdPort=$2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged --socket="$run/munge.socket.2" --key-file="$dir/munge/munge.key" \
	--pid-file="$run/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" ||
	{ echo "FAIL: munged did not start"; cat "$dir/munged.log"; exit 1; }
pids="$(cat "$run/munged.pid")"
slurmctld -i || { echo "FAIL: slurmctld did not start"; cat "$dir/slurmctld.log"; exit 1; }
slurmd -N localhost || { echo "FAIL: slurmd did not start"; cat "$dir/slurmd.log"; exit 1; }
for _ in $(seq 100); do [ -f "$run/slurmctld.pid" ] && [ -f "$run/slurmd.pid" ] && break; sleep 0.1; done
pids="$(cat "$run/slurmctld.pid") $(cat "$run/slurmd.pid") $pids"
state=""
for _ in $(seq 300); do
	state=$(sinfo -h -n localhost -o %T 2>/dev/null)
	[ "$state" = idle ] && break
	sleep 0.1
done
check "the private Slurm's node is idle" idle "$state"
[ "$state" = idle ] || { cat "$dir/slurmctld.log" "$dir/slurmd.log" | tail -40; exit 1; }

# submit NAME ARGS...: a 4-task array; waits for it; prints the job id.
submit() {
	name=$1
	shift
	job=$(cd "$dir" && MMNSIM="$mmnsim" sbatch --parsable --array=0-3 --export=ALL \
		-o "$dir/$name-%a.out" "$script" "$dir/$name" "$@") || return 1
	job=${job%%;*}
	for _ in $(seq 1200); do
		[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
		sleep 0.1
	done
	echo "$job"
}
# exit_codes JOB: the tasks' ExitCode fields, sorted and unique.
exit_codes() {
	scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^ExitCode=//p' | sort -u | tr '\n' ' '
}

args="S1 --strategy random --runs 400 --keep-going --max-saves 0"
for setting in wrong right; do
	flag=""
	[ $setting = wrong ] && flag=--wrong
	job=$(submit "$setting" $args $flag)
	check "$setting: the array's four tasks all succeed" "0:0 " "$(exit_codes "$job")"
	"$mmnsim" merge --json "$dir/$setting"/shard-*.json >"$dir/$setting.merged.json"
	rc=$?
	"$mmnsim" explore $args $flag --json >"$dir/$setting.all.json"
	check "$setting: merge's exit status is explore's" $? "$rc"
	keys='{schedules,violating,first_index,deadlocks,budgets,steps,claims_held,by_kind,counters}'
	check "$setting: the merged shards equal the unsharded run" \
		"$(jq -c "$keys" "$dir/$setting.all.json")" "$(jq -c "$keys" "$dir/$setting.merged.json")"
done
check "wrong: violating schedules were found" true \
	"$(jq '.violating > 0' "$dir/wrong.merged.json")"
check "right: none" 0 "$(jq .violating "$dir/right.merged.json")"

"$mmnsim" merge "$dir/wrong/shard-0.json" "$dir/wrong/shard-1.json" "$dir/wrong/shard-3.json" \
	>/dev/null 2>"$dir/missing.err"
check "a missing shard: exit 2" 2 $?
contains "a missing shard: named" "$dir/missing.err" "shard 2 of 4 is missing"
"$mmnsim" merge "$dir/wrong"/shard-*.json "$dir/wrong/shard-1.json" >/dev/null 2>"$dir/dup.err"
check "a shard given twice: exit 2" 2 $?
contains "a shard given twice: named" "$dir/dup.err" "field 'shard': shard 1 of 4 is also in"
"$mmnsim" merge "$dir/wrong/shard-0.json" "$dir/right/shard-1.json" "$dir/wrong/shard-2.json" \
	"$dir/wrong/shard-3.json" >/dev/null 2>"$dir/mix.err"
check "shards of two explorations: exit 2" 2 $?
contains "shards of two explorations: the field named" "$dir/mix.err" "field 'wrong'"

job=$(submit bad S1 --no-such-option)
check "a task given a bad option fails with explore's exit 2" "2:0 " "$(exit_codes "$job")"
exit $fail
