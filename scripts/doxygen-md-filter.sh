#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Doxygen's input filter for the Markdown pages (Doxyfile FILTER_PATTERNS):
#   sh scripts/doxygen-md-filter.sh FILE.md  > what doxygen reads
# The pages are written for a repository browser; doxygen (1.9) needs three
# things spelt out that a browser infers:
# - page names: the first heading of docs/NAME.md gets {#NAME}, so the HTML
#   page is NAME.html, whatever directory the checkout is in (README.md is the
#   main page and keeps doxygen's name for it, index);
# - anchors: every other heading gets {#NAME-slug}, slug as a repository
#   browser makes it (lower case, punctuation dropped, spaces to '-', -1,
#   -2 ... after a repeated heading), and
#   links to NAME.md#slug, NAME.md and #slug become @ref links to them;
# - examples: links to examples/FILE (docs/examples/FILE from the README)
#   point at the copy that Doxyfile's HTML_EXTRA_FILES puts beside the pages.
# Fenced code blocks pass through untouched. The files themselves are not
# changed.
f=$1
stem=$(basename "$f" .md | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_]/_/g')
exec awk -v stem="$stem" '
function slug(t) {
	t = tolower(t)
	gsub(/[^a-z0-9 _-]/, "", t)
	gsub(/ /, "-", t)
	return t
}
function page(target,   base) {
	base = target
	sub(/.*\//, "", base)
	sub(/\.md$/, "", base)
	base = tolower(base)
	gsub(/[^a-z0-9_]/, "_", base)
	return base == "readme" ? "index" : base
}
# Rewrite the links of one line: ](X.md#a) ](X.md) ](#a) ](examples/F).
function links(line,   out, m, target, anchor, p) {
	out = ""
	while (match(line, /\]\([^) ]+\)/)) {
		m = substr(line, RSTART + 2, RLENGTH - 3)
		out = out substr(line, 1, RSTART - 1) "]("
		line = substr(line, RSTART + RLENGTH)
		if (m ~ /^[a-z]+:/) {                 # http:, mailto:, ...
			out = out m ")"
			continue
		}
		target = m
		anchor = ""
		if ((p = index(m, "#")) > 0) {
			target = substr(m, 1, p - 1)
			anchor = substr(m, p + 1)
		}
		if (target ~ /(^|\/)examples\/[^\/]+$/) {
			sub(/.*\//, "", target)
			out = out target ")"
		} else if (target == "" && anchor != "") {
			out = out "@ref " stem "-" anchor ")"
		} else if (target ~ /\.md$/) {
			p = page(target)
			out = out "@ref " (anchor != "" ? p "-" anchor : p) ")"
		} else {
			out = out m ")"
		}
	}
	return out line
}
/^(```|~~~)/ { fence = !fence; print; next }
fence { print; next }
/^#+ / && $0 !~ /\{#[^}]*\}[ \t]*$/ {
	text = $0
	sub(/^#+ +/, "", text)
	if (!titled) {
		titled = 1
		print (stem == "readme" ? $0 : $0 " {#" stem "}")
	} else {
		s = slug(text)
		n = seen[s]++ # a repeated heading gets -1, -2, ... as in a browser
		print links($0) " {#" stem "-" s (n ? "-" n : "") "}"
	}
	next
}
{ print links($0) }
' "$f"
