#!/bin/sh
# cli.newuser_flow: the CLI defects found by trying mmnsim as a new user
# would (issue "readable evidence", items 1-6 and 9), one check each: what
# goes to stdout stays parseable, a bad --out or a missing saved trace is
# refused up front with one line naming what is wrong, an exploration that
# judged nothing says so with its own exit status, and run shows the
# violation's message and held-lock stacks.
#   sh newuser_flow.sh MMNSIM WORKDIR JQ
set -u
M=$1
W=$2
JQ=$3
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1

"$M" explore S1 --wrong --runs 3000 --max-saves 1 --out out --quiet >/dev/null 2>&1
replay=$(ls out/*.replay.json | head -n 1)
check "a violating schedule saved" true "$([ -f "$replay" ] && echo true)"

# 1. --chrome - writes only the JSON on stdout; the summary goes to stderr.
"$M" replay "$replay" --chrome - >chrome.json 2>summary.txt
check "replay --chrome -: exit status" 1 $?
"$JQ" -e '.traceEvents | length > 10' chrome.json >/dev/null
check "replay --chrome -: stdout is the trace JSON alone" 0 $?
contains "replay --chrome -: the summary on stderr" summary.txt "reproduced"
"$M" replay "$replay" --trace - >trace.txt 2>summary2.txt
cmp -s trace.txt "${replay%.replay.json}.trace.txt"
check "replay --trace -: stdout is the trace alone" 0 $?

# 2. --json with a '-' output: refused, nothing on stdout.
"$M" replay "$replay" --trace - --json >out2.txt 2>err2.txt
check "replay --trace - --json: exit 2" 2 $?
lines "replay --trace - --json: nothing on stdout" out2.txt 0
contains "replay --trace - --json: says why" err2.txt "--json and the '-' output both write to stdout"

# 3. a replay file holding null.
echo null >null.replay.json
"$M" replay null.replay.json >/dev/null 2>err3.txt
check "replay of null: exit 2" 2 $?
contains "replay of null: says what it is" err3.txt "not a replay file (null, not a JSON object)"
lines "replay of null: one line" err3.txt 1

# 4. --out naming a regular file: refused before exploring, one line.
: >afile
"$M" explore S1 --wrong --runs 50 --out afile >/dev/null 2>err4.txt
check "explore --out FILE: exit 2" 2 $?
contains "explore --out FILE: refused up front" err4.txt "--out afile: not a directory"
lines "explore --out FILE: one line" err4.txt 1

# 5. the saved trace missing: the replay file and its field are named.
mkdir -p moved && cp "$replay" moved/
"$M" replay "moved/$(basename "$replay")" >/dev/null 2>err5.txt
check "replay with its trace missing: exit 2" 2 $?
contains "replay with its trace missing: names file and field" err5.txt \
	"moved/$(basename "$replay"): field 'trace': the saved trace: cannot read"

# 6. every schedule over budget: no verdict, its own exit status.
"$M" explore S1 --wrong --runs 20 --max-steps 1 >out6.txt 2>&1
check "explore with nothing judged: exit 3" 3 $?
contains "explore with nothing judged: says so" out6.txt "NO VERDICT: every schedule exhausted its step budget"
"$M" explore S1 --wrong --runs 20 --max-steps 1 --json >out6.json 2>/dev/null
check "explore --json with nothing judged: judged false" false "$("$JQ" .judged out6.json)"

# 9. run S8 --wrong shows the reports with both actors' held locks.
"$M" run S8 --wrong >out9.txt 2>&1
check "run S8 --wrong: exit 1" 1 $?
contains "run S8 --wrong: the lock-order report" out9.txt "report      lock_order: possible circular locking"
contains "run S8 --wrong: the held locks under it" out9.txt "held locks of ioctl:"
contains "run S8 --wrong: the wait-for cycle" out9.txt "report      deadlock: wait-for cycle"
if grep -q "note .*first: .*[^.]$" out9.txt; then
	echo "FAIL: the note is cut"; fail=1
else
	echo "ok: the note is whole"
fi
"$M" run S8 --wrong --json >out9.json 2>/dev/null
check "run --json carries the reports" true "$("$JQ" '[.reports[].kind] | index("deadlock") != null' out9.json)"
# The progress line (on a terminal only) shows the time left.
if command -v script >/dev/null 2>&1; then
	# fewer under a sanitizer (MMN_CLI_RUNS_DIV), where each run is slower
	runs=$((20000 / ${MMN_CLI_RUNS_DIV:-1}))
	script -qec "'$M' explore S1 --runs $runs --max-saves 0" /dev/null >progress.txt 2>&1
	contains "the progress line on a terminal shows an ETA" progress.txt ", ETA "
fi
exit $fail
