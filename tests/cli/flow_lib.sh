# Shared by the CLI flow scripts (explore_flow.sh, plugin_flow.sh,
# sfile_flow.sh): sourced, not run. Each check prints "ok: ..." or
# "FAIL: ..." and a failure sets $fail, which the script exits with.
fail=0
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: expected '$2', got '$3'"
		fail=1
	else
		echo "ok: $1"
	fi
}
contains() { # contains DESCRIPTION FILE TEXT
	if grep -qF -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; cat "$2"; fail=1; fi
}
lines() { # lines DESCRIPTION FILE N
	check "$1" "$3" "$(wc -l <"$2" | tr -d ' ')"
}
# shrink_and_replay MMNSIM REPLAY WHAT KIND: shrink REPLAY (exit 1: still
# violating; a shorter choice list), the shrunk file records its source of
# KIND (described as WHAT), and its replay reproduces the saved trace.
shrink_and_replay() {
	"$1" shrink "$2" --json >shrink.json 2>&1
	check "shrink exit status" 1 $?
	before=$(sed -n 's/.*"choices_before": \([0-9]*\).*/\1/p' shrink.json)
	after=$(sed -n 's/.*"choices_after": \([0-9]*\).*/\1/p' shrink.json)
	[ -n "$before" ] && [ -n "$after" ] && [ "$after" -lt "$before" ]
	check "shrunk list shorter ($after < $before)" 0 $?
	shrunk=${2%.replay.json}.shrunk.replay.json
	contains "shrunk file names the $3" "$shrunk" "\"kind\": \"$4\""
	"$1" replay "$shrunk" >replay2.txt 2>&1
	check "replay of the shrunk schedule" 1 $?
	contains "shrunk replay identical" replay2.txt "identical to the saved trace"
}
