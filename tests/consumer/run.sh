#!/bin/sh
# Consumer check (CTest test "consumer.install", see CMakeLists.txt beside).
#
# Installs the just-built tree into a scratch prefix, then builds and runs
# tests/consumer/consumer.c outside the library's tree against the *installed*
# library, four ways:
#   find_package(mmnsim CONFIG): mmnsim::mmnsim (shared), mmnsim::mmnsim_static
#   pkg-config:                  mmnsim (shared), mmnsim-static (--static)
#
# usage: run.sh SRC_DIR BIN_DIR WORK_DIR LIBDIR CC CMAKE GENERATOR PKG_CONFIG VERSION [FLAGS]
#   LIBDIR  CMAKE_INSTALL_LIBDIR of the build (relative to the prefix)
#   FLAGS   extra compile+link flags for the consumer (the sanitizer flags of
#           a sanitizer build: its libraries need the sanitizer runtime)
set -eu

src=$1 bin=$2 work=$3 libdir=$4 cc=$5 cmake=$6 generator=$7 pkgconfig=$8 version=$9
shift 9
flags=${1:-}

prefix=$work/prefix
warn="-Wall -Wextra -Werror"

step() { printf '== %s\n' "$*"; }
fail() { printf 'consumer check FAILED: %s\n' "$*"; exit 1; }
# run a command quietly; show its output only if it fails
quiet() {
	log=$work/last.log
	if ! "$@" >"$log" 2>&1; then
		cat "$log"
		fail "$*"
	fi
}

case $libdir in
/*) fail "CMAKE_INSTALL_LIBDIR is absolute ($libdir): cannot relocate the install" ;;
esac

rm -rf "$work"
mkdir -p "$work"

step "install $bin into $prefix"
quiet "$cmake" --install "$bin" --prefix "$prefix"
for f in include/mmnsim/mmnsim.h include/mmnsim/version.h \
	 "$libdir/libmmnsim.so" "$libdir/libmmnsim.a" \
	 "$libdir/cmake/mmnsim/mmnsimConfig.cmake" \
	 "$libdir/cmake/mmnsim/mmnsimConfigVersion.cmake" \
	 "$libdir/cmake/mmnsim/mmnsimTargets.cmake" \
	 "$libdir/pkgconfig/mmnsim.pc" "$libdir/pkgconfig/mmnsim-static.pc" \
	 "$libdir/pkgconfig/mmnsim-compat.pc" include/mmnsim/compat/linux/mmu_notifier.h \
	 include/mmnsim/compat/linux/hmm.h include/mmnsim/compat.h; do
	[ -e "$prefix/$f" ] || fail "not installed: $f"
done
# The command and its man pages, where the build has the command.
if [ -e "$bin/sim/mmnsim" ]; then
	for f in bin/mmnsim share/man/man1/mmnsim.1 share/man/man5/mmnsim-scenario.5; do
		[ -e "$prefix/$f" ] || fail "not installed: $f"
	done
	step "the installed mmnsim runs from the prefix"
	quiet "$prefix/bin/mmnsim" --version
	ldd "$prefix/bin/mmnsim" | grep -q "libmmnsim\.so.* => $prefix/bin/\.\./$libdir/" ||
		{ ldd "$prefix/bin/mmnsim"; fail "the installed mmnsim does not load libmmnsim.so from $prefix"; }
	step "mmnsim.1 names every command and option of mmnsim --help"
	for w in $("$prefix/bin/mmnsim" --help | grep -o -- '--[a-z][a-z-]*' | sort -u) \
		list run explore replay shrink merge trace help; do
		case $w in
		--*) pat="^\.O\{0,1\}p\{0,1\} *Fl -${w#--}\b\|Fl -${w#--}\b" ;;
		*) pat="^\.Cm $w\b" ;;
		esac
		grep -q "$pat" "$prefix/share/man/man1/mmnsim.1" || fail "mmnsim.1 does not mention $w"
	done
fi

# $1: executable; $2: "shared" or "static"
check_and_run() {
	if [ "$2" = shared ]; then
		ldd "$1" | grep -q "libmmnsim\.so.* => $prefix/$libdir/" ||
			{ ldd "$1"; fail "$1 does not load libmmnsim.so from $prefix"; }
	else
		if ldd "$1" | grep -q libmmnsim; then
			ldd "$1"; fail "$1 should not need libmmnsim.so"
		fi
	fi
	"$1" || fail "$1 exited with $?"
}

step "find_package(mmnsim $version CONFIG) with CMAKE_PREFIX_PATH=$prefix"
quiet "$cmake" -S "$src/tests/consumer/project" -B "$work/cmake-build" -G "$generator" \
	-DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_C_FLAGS="$flags" \
	-DCMAKE_EXE_LINKER_FLAGS="$flags" \
	-DCMAKE_PREFIX_PATH="$prefix" \
	-DMMN_EXPECT_PREFIX="$prefix" \
	-DMMN_EXPECT_VERSION="$version"
quiet "$cmake" --build "$work/cmake-build"
check_and_run "$work/cmake-build/consumer_shared" shared
check_and_run "$work/cmake-build/consumer_static" static
check_and_run "$work/cmake-build/consumer_compat" shared

step "pkg-config with PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig"
PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
v=$("$pkgconfig" --modversion mmnsim)
[ "$v" = "$version" ] || fail "pkg-config --modversion mmnsim: $v, expected $version"
static_libs=$("$pkgconfig" --static --libs mmnsim)
for l in -lmmnsim -lurcu-memb -lurcu-common -lurcu-cds -pthread; do
	case " $static_libs " in
	*" $l "*) ;;
	*) fail "pkg-config --static --libs mmnsim lacks $l: $static_libs" ;;
	esac
done
# shellcheck disable=SC2046,SC2086 # word splitting of the flags is intended
quiet "$cc" $warn $flags -o "$work/pc_shared" "$src/tests/consumer/consumer.c" \
	$("$pkgconfig" --cflags --libs mmnsim) -Wl,-rpath,"$prefix/$libdir"
check_and_run "$work/pc_shared" shared
# shellcheck disable=SC2046,SC2086
quiet "$cc" $warn $flags -o "$work/pc_static" "$src/tests/consumer/consumer.c" \
	$("$pkgconfig" --static --cflags --libs mmnsim-static)
check_and_run "$work/pc_static" static

step "a kernel-style file with pkg-config mmnsim-compat"
# shellcheck disable=SC2046,SC2086
quiet "$cc" $warn -Wno-unused-parameter $flags -o "$work/pc_compat" "$src/tests/consumer/compat_main.c" \
	"$src/docs/examples/compat/dmirror_compat.c" -I"$src/docs/examples/compat" \
	$("$pkgconfig" --cflags --libs mmnsim-compat) -Wl,-rpath,"$prefix/$libdir"
check_and_run "$work/pc_compat" shared

echo "consumer check passed: find_package shared+static+compat, pkg-config shared+static+compat"
