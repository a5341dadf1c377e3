#!/bin/sh
# List the C functions longer than N lines (default 100), longest first:
#   sh scripts/long-functions.sh [N] [DIR...]      (default DIRs: lib sim)
# A function is a line at column 0 that opens a definition, up to the next
# line that is exactly "}" (the kernel's and this project's style).
set -eu
max=${1:-100}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- lib sim
find "$@" -name '*.c' | sort | xargs awk -v max="$max" '
FNR == 1 { name = "" }
/^[A-Za-z_].*\(/ && !/;[ \t]*$/ && !/^(static )?(const )?(struct|enum|union) [a-z_0-9]+ *[{=]/ {
	if (name == "") { line = $0; start = FNR; name = line; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n] }
}
/^}/ { if (name != "" && FNR - start + 1 > max) printf "%d %s:%d %s\n", FNR - start + 1, FILENAME, start, name; name = "" }
/;[ \t]*$/ && name != "" && FNR == start { name = "" }
' | sort -rn
