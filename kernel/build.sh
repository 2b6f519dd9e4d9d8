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
#   --series DIR   write the series as `git format-patch` files into DIR
#   --print-image  print the path of the bzImage that a build would produce
#
# Environment: NVMEP2P_CACHE (default /var/cache/nvme-p2p), JOBS (nproc).
#
# Layout of the cache:
#   src/linux      git tree: branch "base" is the pristine base, "series" the
#                  base plus one commit per series entry
#   out/<flavour>  kbuild output (O=) per config flavour
#   ccache/        compiler cache
# The tree is re-derived from "base" only when the key of the series
# (base version + series content + this script) changes, and a .config is
# replaced only when its content changes, so make rebuilds just what changed.
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

git_tree() {
	git -C "$tree" -c user.name="nvme-p2p" -c user.email="nvme-p2p@example.org" \
		-c core.autocrlf=false "$@"
}

# --- the pristine base ------------------------------------------------------
if [ "$(cat "$cache/src/base-version" 2>/dev/null)" != "$BASE_PACKAGE_VERSION" ]; then
	say "unpacking $BASE_PACKAGE $BASE_PACKAGE_VERSION into $tree (one time)"
	rm -rf "$tree" "$cache/src/base-version" "$cache/out"
	mkdir -p "$tree" "$cache/out"
	tar -xf "$BASE_TARBALL" -C "$tree" --strip-components=1
	git_tree init -q -b base
	git_tree add -A -f
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git_tree commit -q -m "Linux $BASE_KERNELVERSION ($BASE_PACKAGE $BASE_PACKAGE_VERSION)"
	echo "$BASE_PACKAGE_VERSION" >"$cache/src/base-version"
fi

# --- the series ---------------------------------------------------------------
# shellcheck source=series.sh
. "$here/series.sh"
entries=$(series_entries)

series_inputs() {
	echo "$here/base.env" "$here/series" "$here/series.sh" "$0"
	local e
	for e in $entries; do
		local d=$here/patches/$e
		[ -f "$d" ] || die "series names '$e' but kernel/patches/$e does not exist"
		echo "$d"
		local h f
		for h in $(series_header "$e" Hooks); do echo "$here/hooks/$h"; done
		for f in $(series_header "$e" Files); do echo "$top/${f%%:*}"; done
	done
}

inputs=$(series_inputs)
for f in $inputs; do [ -f "$f" ] || die "series input $f does not exist"; done
# shellcheck disable=SC2086
series_key=$( (echo "$BASE_PACKAGE_VERSION"; cat $inputs) | sha256sum | cut -c1-16)

if [ "$(cat "$cache/src/series-key" 2>/dev/null)" != "$series_key" ]; then
	say "applying the series (key $series_key)"
	rm -f "$cache/src/series-key"
	# Remember content and mtime of what the old series touched: a file that
	# comes out identical gets its mtime back, so make does not rebuild it.
	declare -A old_state=()
	if git_tree rev-parse -q --verify series >/dev/null; then
		while IFS= read -r f; do
			[ -f "$tree/$f" ] &&
				old_state[$f]="$(git_tree hash-object -- "$f") $(stat -c %Y "$tree/$f")"
		done < <(git_tree diff --name-only base series)
	fi
	git_tree checkout -q -f -B series base
	git_tree clean -q -fdx
	n=0
	for e in $entries; do
		n=$((n + 1))
		d=$here/patches/$e
		subject=$(series_header "$e" Subject)
		[ -n "$subject" ] || die "kernel/patches/$e has no Subject:"
		for h in $(series_header "$e" Hooks); do
			git_tree apply --index "$here/hooks/$h" ||
				die "hook $h of '$e' does not apply to the base"
		done
		for f in $(series_header "$e" Files); do
			src=${f%%:*} dst=${f#*:}
			install -D -m 0644 "$top/$src" "$tree/$dst"
			# The repo holds the file as the whole series leaves it; later
			# entries' hooks that change it are undone, newest first, to
			# get it as this entry adds it.
			for h in $(series_later_hooks "$e" | tac); do
				git_tree apply -R --include="$dst" "$here/hooks/$h" ||
					die "hook $h does not undo on $dst (for '$e')"
			done
			git_tree add -f -- "$dst"
		done
		msg=$(mktemp)
		{ echo "$subject"; echo; sed '1,/^$/d' "$d"; } >"$msg"
		# Fixed dates keep the emitted series byte-identical across builds.
		GIT_AUTHOR_DATE="2026-01-01T00:00:$(printf %02d $n)Z" \
		GIT_COMMITTER_DATE="2026-01-01T00:00:$(printf %02d $n)Z" \
			git_tree commit -q -F "$msg"
		rm -f "$msg"
		say "  [$n] $subject"
	done
	while IFS= read -r f; do
		prev=${old_state[$f]:-}
		[ -n "$prev" ] && [ "${prev% *}" = "$(git_tree hash-object -- "$f")" ] &&
			touch -d "@${prev#* }" "$tree/$f"
	done < <(git_tree diff --name-only base series)
	echo "$series_key" >"$cache/src/series-key"
fi

if [ -n "$series_dir" ]; then
	mkdir -p "$series_dir"
	rm -f "$series_dir"/*.patch
	git_tree format-patch -q --no-signature -o "$(cd "$series_dir" && pwd)" base..series
	say "series written to $series_dir:"
	ls "$series_dir"
	exit 0
fi

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

export CCACHE_DIR=$cache/ccache CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=nvme-p2p KBUILD_BUILD_HOST=testbed
start=$(date +%s)
cold=0
[ -e "$out/vmlinux" ] || cold=1
say "building $flavour kernel in $out (-j$jobs)"
kmake "$out" -j"$jobs" CC="ccache gcc" HOSTCC="ccache gcc" bzImage modules
say "built $out/arch/x86/boot/bzImage in $(( $(date +%s) - start ))s ($(ccache -s 2>/dev/null | grep -iE '^ *hits' | head -1 | tr -s ' '))"
echo "$series_key" >"$out/nvmep2p-series-key"
# Kept for tests/testbed/timing: what the first (cold) build of this tree cost.
[ "$cold" = 0 ] || echo "$(( $(date +%s) - start ))" >"$out/nvmep2p-cold-build-seconds"
