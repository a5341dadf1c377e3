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
