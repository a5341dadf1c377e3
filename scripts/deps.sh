#!/bin/sh
# Install the Debian 12 packages mmnsim needs to build and run its tests:
#   sh scripts/deps.sh
# Installs only what is missing (one `apt-get update`, one `apt-get install`),
# so a second run does nothing and prints nothing. Needs root only when
# something is missing.
set -eu

# gcc 12 brings the ASan/UBSan/TSan runtimes (libasan8, libubsan1, libtsan2);
# binutils gives nm (export check) and ld; libc-bin gives ldd; doxygen
# builds the API reference and runs the docs.doxygen check; json-c reads and
# writes the replay files of `mmnsim explore`; libyaml reads scenario files; jq runs the documented merge of
# sharded explorations (a CLI test). The fuzz preset (tests/fuzz) builds with
# clang (Debian's clang 14) and links libFuzzer and clang's ASan/UBSan
# runtimes, which only libclang-rt-14-dev ships (libclang_rt.fuzzer-x86_64.a;
# clang-14 does not depend on it). Slurm (slurmctld, slurmd, the client) and
# munge run a private single-node cluster for the cluster test
# (tests/cluster, docs/cluster.md). Node.js and npm (only when no npm is on
# PATH) install the pinned npm packages of scripts/npm (package-lock.json)
# that the Kubernetes schema check of that test uses.
packages="gcc libc6-dev binutils make cmake pkg-config libcmocka-dev liburcu-dev libjson-c-dev nettle-dev libyaml-dev jq doxygen clang libclang-rt-14-dev slurmctld slurmd slurm-client munge"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "scripts/deps.sh: no dpkg-query: this script is for Debian 12; install by hand: $packages" >&2
	exit 1
fi

root=$(cd "$(dirname "$0")/.." && pwd)

# The npm packages, once npm is there: `npm ci` when node_modules is absent or
# older than the lock file.
npm_packages() {
	lock=$root/scripts/npm/package-lock.json
	stamp=$root/scripts/npm/node_modules/.package-lock.json
	if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
		echo "scripts/deps.sh: npm ci in scripts/npm"
		# The registry may be out of reach (no network, or a TLS proxy whose
		# CA this system lacks): then the tests that need these packages say
		# so and skip; nothing else needs them.
		npm ci --prefix "$root/scripts/npm" --no-audit --no-fund --loglevel=error >/dev/null ||
			echo "scripts/deps.sh: npm ci failed: the tests that use scripts/npm's packages will be skipped" >&2
	fi
}

missing=
for p in $packages; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
		missing="$missing $p"
	fi
done
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -z "$missing" ]; then
	npm_packages
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: missing Debian packages:$missing" >&2
	echo "scripts/deps.sh: run it as root (e.g. sudo sh scripts/deps.sh)" >&2
	exit 1
fi

echo "scripts/deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "scripts/deps.sh: installed:$missing"
npm_packages
