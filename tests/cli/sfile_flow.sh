#!/bin/sh
# cli.sfile_flow: a scenario file (docs/scenarios/cpu_race.yaml, copied) run
# end to end: explore --wrong finds and saves the violation, the replay file
# names the file (kind scenario-file, path, sha256), replay reproduces it
# byte for byte (re-reading the file itself), shrink shortens it and the
# shrunk schedule replays identically; the right setting is clean; a replay
# file whose scenario file changed or is gone is refused with one line and
# exit 2.
#   sh sfile_flow.sh MMNSIM SCENARIO_FILE WORKDIR
set -u
M=$1
F=$2
W=$3
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
cp "$F" ./race.yaml || exit 1

# 1. explore --wrong finds the use-after-free and saves it, naming the file.
"$M" explore race.yaml --wrong --out out >explore.txt 2>&1
check "explore --wrong exit status (violation found)" 1 $?
contains "explore found it" explore.txt "first at schedule"
contains "explore found the claimed kind" explore.txt "use_after_free"
replay=$(ls out/cpu-race-wrong-*.replay.json 2>/dev/null | head -n 1)
[ -n "$replay" ] && [ -f "${replay%.replay.json}.trace.txt" ]
check "replay file and trace saved" 0 $?
contains "replay file names the scenario file" "$replay" "\"kind\": \"scenario-file\""
contains "replay file has the file's path" "$replay" "\"path\": \"$W/race.yaml\""
contains "replay file has the file's sha256" "$replay" "\"sha256\": \"$(sha256sum race.yaml | cut -d' ' -f1)\""

# 2. replay re-reads the file and reproduces the schedule byte for byte.
"$M" replay "$replay" --trace again.txt >replay.txt 2>&1
check "replay exit status" 1 $?
contains "replay reproduces the violation" replay.txt "reproduced"
contains "replay trace identical" replay.txt "identical to the saved trace, byte for byte"
cmp -s again.txt "${replay%.replay.json}.trace.txt"
check "written trace equals the saved one" 0 $?

# 3. shrink: shorter, still violating, its replay identical.
shrink_and_replay "$M" "$replay" "scenario file" "scenario-file"

# 4. the right setting: nothing, by PCT; run runs one schedule.
"$M" explore race.yaml --runs 1000 --quiet --out out >right.txt 2>&1
check "explore right exit status" 0 $?
contains "explore right finds nothing" right.txt "violating   none"
"$M" run race.yaml >run.txt 2>&1
check "run exit status" 0 $?
contains "run: the claim holds" run.txt "claim       holds"

# 5. the file changed since the schedule was saved: one line, exit 2.
cp race.yaml saved.yaml
printf '# edited\n' >>race.yaml
"$M" replay "$replay" >changed.out 2>changed.err
check "changed file: exit status" 2 $?
contains "changed file: says so" changed.err "field 'source': the scenario-file $W/race.yaml has changed since the schedule was saved"
lines "changed file: one line" changed.err 1

# 6. the file is gone: one line, exit 2.
rm race.yaml
"$M" shrink "$replay" >gone.out 2>gone.err
check "missing file: exit status" 2 $?
contains "missing file: says so" gone.err "cannot read the scenario-file $W/race.yaml: No such file or directory"
lines "missing file: one line" gone.err 1

exit $fail
