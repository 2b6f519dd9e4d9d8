#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the testbed kernel: pinned Debian base + the project's series, in a
# cache directory outside the source tree, with ccache.
#
#   kernel/build.sh [--debug] [--no-build] [--series DIR] [--print-image]
#
#   --debug        also apply config/debug.config (separate build directory)
#   --no-build     prepare the tree and .config only
#   --series DIR   write the numbered series with its cover letter into DIR
#                  (kernel/stack emit; touches no file the build reads)
#   --print-image  print the path of the bzImage that a build would produce
#
# Environment: NVMEP2P_CACHE (default /var/cache/nvme-p2p), NVMEP2P_CCACHE
# (the compiler cache, default $NVMEP2P_CACHE/ccache), JOBS (nproc).
#
# Layout of the cache:
#   src/linux      git tree: branch "base" is the pristine base, "series" the
#                  base plus the patch stack (kernel/stack apply)
#   out/<flavour>  kbuild output (O=) per config flavour
#   ccache/        compiler cache
# The tree is re-derived from "base" only when the patch stack changes, and
# files that come out unchanged keep their mtime; a .config is replaced only
# when its content changes: make rebuilds just what changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${NVMEP2P_CACHE:-/var/cache/nvme-p2p}
jobs=${JOBS:-$(nproc)}
flavour=testbed
do_build=1
series_dir=
print_image=0

while [ $# -gt 0 ]; do
	case "$1" in
	--debug) flavour=debug ;;
	--no-build) do_build=0 ;;
	--series) series_dir=$2; shift ;;
	--print-image) print_image=1 ;;
	-h|--help) sed -n '3,24p' "$0"; exit 0 ;;
	*) echo "build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

# shellcheck source=base.env
. "$here/base.env"
tree=$cache/src/linux
out=$cache/out/$flavour

if [ "$print_image" = 1 ]; then
	echo "$out/arch/x86/boot/bzImage"
	exit 0
fi

die() { echo "kernel/build.sh: error: $*" >&2; exit 1; }
say() { echo "kernel/build.sh: $*"; }

if [ -n "$series_dir" ]; then
	exec "$here/stack" emit "$series_dir"
fi

[ -r "$BASE_TARBALL" ] || die "$BASE_TARBALL missing: apt-get install $BASE_PACKAGE=$BASE_PACKAGE_VERSION"
have=$(dpkg-query -W -f='${Version}' "$BASE_PACKAGE" 2>/dev/null || true)
[ "$have" = "$BASE_PACKAGE_VERSION" ] ||
	die "$BASE_PACKAGE is '${have:-not installed}', the pinned base is $BASE_PACKAGE_VERSION: apt-get install $BASE_PACKAGE=$BASE_PACKAGE_VERSION"
for tool in git make gcc ccache flex bison bc; do
	command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/bootstrap)"
done

mkdir -p "$cache/src" "$cache/out" "$cache/ccache"
exec 9>"$cache/lock"
flock 9
export NVMEP2P_CACHE_LOCKED=1

"$here/stack" apply
series_key=$(cat "$cache/src/series-key")

# --- the configuration --------------------------------------------------------
fragments="$here/config/testbed.config"
[ "$flavour" = debug ] && fragments="$fragments $here/config/debug.config"
kmake() { make -s -C "$tree" O="$1" "${@:2}"; }

scratch=$cache/out/.config-scratch
rm -rf "$scratch" && mkdir -p "$scratch" "$out"
# tinyconfig is allnoconfig with the tiny fragments; ours are forced on top.
# shellcheck disable=SC2086
cat "$tree/kernel/configs/tiny-base.config" "$tree/kernel/configs/tiny.config" \
	"$tree/arch/x86/configs/tiny.config" $fragments >"$scratch/all.config"
kmake "$scratch" KCONFIG_ALLCONFIG="$scratch/all.config" allnoconfig >/dev/null
if ! cmp -s "$scratch/.config" "$out/.config"; then
	say "new .config for $flavour"
	cp "$scratch/.config" "$out/.config"
fi
rm -rf "$scratch"
kmake "$out" olddefconfig >/dev/null

# shellcheck disable=SC2086
missing=$("$here/check-config" "$out/.config" $fragments) ||
	die "wanted options did not end up in $out/.config (unmet dependencies?):
$missing"

# --- the build ------------------------------------------------------------------
[ "$do_build" = 1 ] || { say "tree and .config ready in $out"; exit 0; }

# Paths relative to the cache: hits survive a moved cache, and out/testbed
# and out/series-check share them.
export CCACHE_DIR=${NVMEP2P_CCACHE:-$cache/ccache} CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G} CCACHE_BASEDIR=$cache
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=nvme-p2p KBUILD_BUILD_HOST=testbed
start=$(date +%s)
cold=0
[ -e "$out/vmlinux" ] || cold=1
say "building $flavour kernel in $out (-j$jobs)"
# A line at least every 30 s: a cold build is 8-11 silent minutes otherwise.
"$here/progress" --expect 1161 "$out" make -s -C "$tree" O="$out" -j"$jobs" \
	CC="ccache gcc" HOSTCC="ccache gcc" bzImage modules
say "built $out/arch/x86/boot/bzImage in $(( $(date +%s) - start ))s ($(ccache -s 2>/dev/null | grep -iE '^ *hits' | head -1 | tr -s ' '))"
echo "$series_key" >"$out/nvmep2p-series-key"
# Kept for tests/testbed/timing: what the first (cold) build of this tree cost.
[ "$cold" = 0 ] || echo "$(( $(date +%s) - start ))" >"$out/nvmep2p-cold-build-seconds"
