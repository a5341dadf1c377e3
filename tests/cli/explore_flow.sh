#!/bin/sh
# cli.explore_flow: mmnsim explore → replay → shrink → replay on S1's wrong
# setting; replay files that are broken in one field each; and the merge of
# a two-shard exploration's JSON with the command of docs/exploration.md,
# which must equal the unsharded exploration.
#   sh explore_flow.sh MMNSIM WORKDIR JQ
set -u
M=$1
W=$2
JQ=${3:-}
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1

# 1. explore finds S1's use-after-free and saves it.
"$M" explore S1 --wrong --strategy pct --runs 3000 --out out >explore.txt 2>&1
check "explore exit status (violation found)" 1 $?
replay=$(ls out/*.replay.json | head -n 1)
[ -n "$replay" ] && [ -f "${replay%.replay.json}.trace.txt" ] && [ -f "${replay%.replay.json}.trace.json" ]
check "replay file and both traces saved" 0 $?
if [ -n "$JQ" ]; then
	"$JQ" -e '.traceEvents | length > 10' "${replay%.replay.json}.trace.json" >/dev/null
	check "Chrome trace parses, has events" 0 $?
fi

# 2. replay reproduces it, trace byte for byte (also written out and compared here).
"$M" replay "$replay" --trace again.txt >replay.txt 2>&1
check "replay exit status" 1 $?
contains "replay reproduces the violation" replay.txt "reproduced"
contains "replay trace identical" replay.txt "identical to the saved trace, byte for byte"
cmp -s again.txt "${replay%.replay.json}.trace.txt"
check "written trace equals the saved one" 0 $?

# 3. shrink: no longer, still violating, and its own replay agrees.
"$M" shrink "$replay" --json >shrink.json 2>&1
check "shrink exit status" 1 $?
before=$(sed -n 's/.*"choices_before": \([0-9]*\).*/\1/p' shrink.json)
after=$(sed -n 's/.*"choices_after": \([0-9]*\).*/\1/p' shrink.json)
[ -n "$before" ] && [ -n "$after" ] && [ "$after" -le "$before" ]
check "shrunk list no longer ($after <= $before)" 0 $?
pre=$(sed -n 's/.*"preemptions": \([0-9]*\).*/\1/p' shrink.json)
[ -n "$pre" ] && [ "$pre" -ge 1 ]
check "shrunk schedule needs at least one preemption ($pre)" 0 $?
shrunk=${replay%.replay.json}.shrunk.replay.json
"$M" shrink "$replay" --out again >shrink.txt 2>&1
check "shrink (text) exit status" 1 $?
contains "shrink lists the preemptions" shrink.txt "preemptions $pre:"
contains "a preemption line names who ran instead" shrink.txt " -> "
"$M" replay "$shrunk" >replay2.txt 2>&1
check "replay of the shrunk schedule" 1 $?
contains "shrunk replay identical" replay2.txt "identical to the saved trace"

# 4. broken replay files: one line naming the file and the field, exit 2.
bad() { # bad NAME SED-EXPRESSION EXPECTED-TEXT
	sed "$2" "$replay" >"$1.replay.json"
	"$M" replay "$1.replay.json" >/dev/null 2>"$1.err"
	check "$1: exit status" 2 $?
	check "$1: one line" 1 "$(wc -l <"$1.err" | tr -d ' ')"
	contains "$1: names it" "$1.err" "$3"
}
bad bad_scenario 's/"scenario": "S1"/"scenario": "S42"/' "field 'scenario'"
bad bad_choices 's/"choices": \[ [0-9]*/"choices": [ "x"/' "field 'choices'"
bad bad_profile 's/"profile": null/"profile": "2.6"/' "field 'profile'"
bad bad_knob 's/"knobs": \[ \]/"knobs": [ "nope=1" ]/' "field 'knobs'"
bad bad_syntax 's/"wrong": true,/"wrong": tru,/' "bad_syntax.replay.json:1: not a replay file"
bad bad_format 's/"mmnsim-replay"/"other"/' "field 'format'"
bad no_version 's/"version": 1,//' "field 'version': missing"
bad trailing_text '$ s/$/ x/' "trailing_text.replay.json:1: not a replay file: text after the JSON object"
bad second_object '$ s/$/ {}/' "second_object.replay.json:1: not a replay file: text after the JSON object"
sed 's/"choices": \[ [0-9]*/"choices": [ 3/' "$replay" >diverged.replay.json
cp "${replay%.replay.json}.trace.txt" .
# white space after the object is no garbage: the file still replays.
{ cat "$replay"; printf '\n \t\r\n\n'; } >blanks_after.replay.json
"$M" replay blanks_after.replay.json >blanks_after.txt 2>&1
check "blank lines after the object: replays (exit status)" 1 $?
contains "blank lines after the object: reproduced" blanks_after.txt "reproduced"
"$M" replay diverged.replay.json >/dev/null 2>diverged.err
check "a replay whose trace differs: exit status" 2 $?
contains "a replay whose trace differs: says so" diverged.err "differs from"

# 5. sharding: two shards merged with the documented jq command equal one run.
if [ -n "$JQ" ]; then
	common="S1 --wrong --strategy random --runs 400 --keep-going --max-saves 0 --json"
	"$M" explore $common >all.json
	"$M" explore $common --shard 0/2 >shard-0.json
	"$M" explore $common --shard 1/2 --jobs 2 >shard-1.json
	# The merge command of docs/exploration.md, verbatim:
	jq -s '{scenario: .[0].scenario, wrong: .[0].wrong, strategy: .[0].strategy,
	        runs: .[0].runs, shards: length,
	        schedules: (map(.schedules) | add), violating: (map(.violating) | add),
	        first_index: ([.[].first_index | select(. != null)] | min),
	        deadlocks: (map(.deadlocks) | add), budgets: (map(.budgets) | add),
	        steps: (map(.steps) | add), claims_held: (map(.claims_held) | add),
	        by_kind: (reduce (.[].by_kind | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
	        saved: (map(.saved) | add)}' shard-*.json >merged.json
	for k in schedules violating first_index deadlocks steps claims_held by_kind; do
		check "merged $k equals the unsharded run" "$("$JQ" -c ".$k" all.json)" \
			"$("$JQ" -c ".$k" merged.json)"
	done
else
	echo "FAIL: jq not found (scripts/deps.sh installs it)"
	fail=1
fi
exit $fail
