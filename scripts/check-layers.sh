#!/bin/sh
# The layering rule of lib/, checked (docs/architecture.md, "The dependency
# rule"):   sh scripts/check-layers.sh [REPO_ROOT]
#
# docs/architecture.md names the layers of lib/ bottom to top on one line:
#     Layers, bottom to top: check, sync, ..., listeners*, scenarios*
# Each layer is a folder of lib/. A file in lib/L/ may include its own
# folder's headers, the public headers (<mmnsim/...>), lib/internal.h, and
# the internal headers of the folders listed before L. A layer marked * may
# include only its own folder's headers and the public ones: it is written as
# a user of the library writes. lib/internal.h (struct mmn_sim, which every
# layer reads) belongs to the bottom layer; lib/sim.c, which creates and
# destroys every layer's state, is the layer "sim".
#
# With OBJDIR (the object files of lib/, as CMake lays them out:
# build/<preset>/lib/CMakeFiles/mmnsim_objects.dir) it also checks the calls:
# every symbol an object file of layer L uses from another object file must
# be defined in a layer below L. An include can be dodged by a declaration;
# a call cannot. Calls made through a hook that a higher layer registers (the
# kernel's own indirections: pgmap->ops, the secondary-TLB hook) are not
# symbol references and are allowed.
#     sh scripts/check-layers.sh [REPO_ROOT [OBJDIR]]
# Prints one line per include or call against the order and exits 1 if there
# is any.
set -eu
root=${1:-$(dirname "$0")/..}
objdir=${2:-}
cd "$root"

order=$(sed -n 's/^Layers, bottom to top: *//p' docs/architecture.md | head -n 1)
if [ -z "$order" ]; then
	echo "check-layers: docs/architecture.md has no 'Layers, bottom to top:' line" >&2
	exit 2
fi

status=0
find lib -name '*.[ch]' | sort | while read -r f; do
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" /dev/null || true
done | awk -v order="$order" '
BEGIN {
	n = split(order, w, /[ ,]+/)
	for (i = 1; i <= n; i++) {
		if (w[i] == "") continue
		name = w[i]; pub = 0
		if (name ~ /\*$/) { pub = 1; sub(/\*$/, "", name) }
		rank[name] = ++nr; public[name] = pub
		if (nr == 1) bottom = name
	}
	bad = 0
}
# Normalise a path: fold "dir/../" and "./".
function norm(p,   a, k, m, out, i) {
	m = split(p, a, "/"); k = 0
	for (i = 1; i <= m; i++) {
		if (a[i] == "." || a[i] == "") continue
		if (a[i] == ".." && k > 0) { k--; continue }
		s[++k] = a[i]
	}
	out = s[1]
	for (i = 2; i <= k; i++) out = out "/" s[i]
	return out
}
function layer(p,   a, m) {
	m = split(p, a, "/")
	if (m == 2) return (a[2] == "internal.h") ? bottom : "sim"
	return a[2]
}
{
	# "lib/mm/mm.c:12:#include "x.h""
	file = $0; sub(/:.*/, "", file)
	rest = substr($0, length(file) + 2); ln = rest; sub(/:.*/, "", ln)
	inc = rest; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
	dir = file; sub(/\/[^\/]*$/, "", dir)
	cand = norm(dir "/" inc)
	if (system("test -f \"" cand "\"") != 0) cand = norm("lib/" inc)
	if (system("test -f \"" cand "\"") != 0) {
		printf "%s:%s: includes \"%s\", which is not a file of lib/\n", file, ln, inc; bad++; next
	}
	from = layer(file); to = layer(cand)
	if (from == to) next
	if (!(from in rank)) { printf "%s:%s: folder lib/%s is not in the layer order of docs/architecture.md\n", file, ln, from; bad++; next }
	if (!(to in rank)) { printf "%s:%s: includes %s, outside every layer\n", file, ln, cand; bad++; next }
	if (public[from]) {
		printf "%s:%s: %s includes %s: a %s file uses only public headers\n", file, ln, from, cand, from; bad++; next
	}
	if (cand == "lib/internal.h") next
	if (rank[to] >= rank[from]) {
		printf "%s:%s: %s includes %s, but %s is not below %s\n", file, ln, from, cand, to, from; bad++
	}
}
END {
	if (bad) { printf "check-layers: %d include(s) against the layer order: %s\n", bad, order; exit 1 }
	printf "check-layers: every include of lib/ follows the layer order: %s\n", order
}' || status=1

[ -n "$objdir" ] || exit "$status"
[ -d "$objdir" ] || { echo "check-layers: no object directory $objdir" >&2; exit 2; }
# "<layer> <D|U> <symbol>" for every global symbol of every object file.
# Objects whose source is gone (a moved file in an old build tree) are skipped.
( cd "$objdir" && find . -name '*.c.o' | sort | while read -r o; do
	src=$(echo "$o" | sed 's|^\./||; s|\.o$||')
	[ -f "$OLDPWD/lib/$src" ] || continue
	l=$(echo "$o" | sed 's|^\./||; s|/.*||; s|^sim\.c\.o$|sim|')
	nm -g "$o" | awk -v l="$l" 'NF == 3 { print l, "D", $3 } NF == 2 && $1 == "U" { print l, "U", $2 }'
done ) | awk -v order="$order" '
BEGIN {
	n = split(order, w, /[ ,]+/)
	for (i = 1; i <= n; i++) { name = w[i]; sub(/\*$/, "", name); if (name != "") rank[name] = ++nr }
	bad = 0
}
$2 == "D" { def[$3] = $1; next }
{ use[++nu] = $0 }
END {
	for (i = 1; i <= nu; i++) {
		split(use[i], f, " "); from = f[1]; sym = f[3]
		if (!(sym in def)) continue
		to = def[sym]
		if (to == from) continue
		if (!(from in rank) || !(to in rank) || rank[to] >= rank[from]) {
			printf "%s calls %s, defined in %s: not below %s\n", from, sym, to, from; bad++
		}
	}
	if (bad) { printf "check-layers: %d call(s) against the layer order\n", bad; exit 1 }
	printf "check-layers: every call between the object files of lib/ goes down the layer order\n"
}' || status=1
exit "$status"
