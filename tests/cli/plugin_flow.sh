#!/bin/sh
# cli.plugin_flow: the GPU mirror of docs/examples/explore_my_listener.c as a
# plugin (docs/examples/my_plugin.c): explore --wrong finds and saves the
# violation, replay reproduces it byte for byte (loading the plugin itself,
# from the path the replay file records), shrink shortens it, the right
# variant is clean, explore all has its rows; MMNSIM_PLUGINS loads it too;
# a replay file whose plugin is missing, changed or replaced is refused with
# one line and exit 2.
#   sh plugin_flow.sh MMNSIM PLUGIN OTHER_PLUGIN WORKDIR JQ
set -u
M=$1
P=$2
OTHER=$3
W=$4
JQ=${5:-}
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
cp "$P" ./my_plugin.so || exit 1

# 1. explore --wrong finds the use-after-free and saves it, with the plugin.
"$M" --load ./my_plugin.so explore gpu-mirror --wrong --out out >explore.txt 2>&1
check "explore --wrong exit status (violation found)" 1 $?
contains "explore found it" explore.txt "first at schedule"
replay=$(ls out/gpu-mirror-wrong-*.replay.json 2>/dev/null | head -n 1)
[ -n "$replay" ] && [ -f "${replay%.replay.json}.trace.txt" ]
check "replay file and trace saved" 0 $?
contains "replay file names the plugin" "$replay" "\"kind\": \"plugin\""
contains "replay file has the plugin's path" "$replay" "\"path\": \"$W/my_plugin.so\""
if [ -n "$JQ" ]; then
	sha=$("$JQ" -r .source.sha256 "$replay")
	check "replay file has the plugin's sha256" "$(sha256sum my_plugin.so | cut -d' ' -f1)" "$sha"
fi

# 2. replay without --load (the file says which plugin) and with it.
"$M" replay "$replay" --trace again.txt >replay.txt 2>&1
check "replay exit status" 1 $?
contains "replay reproduces the violation" replay.txt "reproduced"
contains "replay trace identical" replay.txt "identical to the saved trace, byte for byte"
cmp -s again.txt "${replay%.replay.json}.trace.txt"
check "written trace equals the saved one" 0 $?
"$M" --load "$W/my_plugin.so" replay "$replay" >replay-load.txt 2>&1
check "replay with --load exit status" 1 $?
contains "replay with --load identical" replay-load.txt "identical to the saved trace"

# 3. shrink: shorter, still violating, its replay identical.
shrink_and_replay "$M" "$replay" "plugin" "plugin"

# 4. the right variant: nothing, by PCT (MMNSIM_PLUGINS this time).
MMNSIM_PLUGINS="/nonexistent-dir-is-not-used::$W/my_plugin.so" "$M" explore gpu-mirror --quiet \
	>right.txt 2>right.err
check "MMNSIM_PLUGINS with a missing entry: exit status" 2 $?
contains "MMNSIM_PLUGINS names the missing plugin" right.err "/nonexistent-dir-is-not-used: cannot read"
# (fewer schedules under a sanitizer: MMN_CLI_RUNS_DIV)
MMNSIM_PLUGINS=":$W/my_plugin.so:" "$M" explore gpu-mirror --runs $((1000 / ${MMN_CLI_RUNS_DIV:-1})) \
	--quiet >right.txt 2>&1
check "explore right via MMNSIM_PLUGINS exit status" 0 $?
contains "explore right finds nothing" right.txt "violating   none"

# 5. explore all includes the plugin's rows.
"$M" --load ./my_plugin.so explore all --runs 300 --quiet >all.txt 2>&1
check "explore all exit status" 0 $?
contains "explore all: gpu-mirror wrong row" all.txt "gpu-mirror wrong"
contains "explore all: gpu-mirror right row" all.txt "gpu-mirror right"
contains "explore all: every row as claimed" all.txt "every row as the seeds claim"

# 6. the plugin changed since the schedule was saved: one line, exit 2.
cp my_plugin.so saved.so
printf 'x' >>my_plugin.so
"$M" replay "$replay" >changed.out 2>changed.err
check "changed plugin: exit status" 2 $?
contains "changed plugin: says so" changed.err "field 'source': the plugin $W/my_plugin.so has changed since the schedule was saved"
lines "changed plugin: one line" changed.err 1

# 7. another plugin registers the id: one line, exit 2.
cp saved.so my_plugin.so
"$M" --load "$OTHER" replay "$replay" >other.out 2>other.err
check "another plugin's gpu-mirror: exit status" 2 $?
contains "another plugin's gpu-mirror: says so" other.err "scenario gpu-mirror is registered by"
lines "another plugin's gpu-mirror: one line" other.err 1

# 8. the plugin is gone: one line, exit 2.
rm my_plugin.so
"$M" shrink "$replay" >gone.out 2>gone.err
check "missing plugin: exit status" 2 $?
contains "missing plugin: says so" gone.err "cannot read the plugin $W/my_plugin.so: No such file or directory"
lines "missing plugin: one line" gone.err 1

exit $fail
