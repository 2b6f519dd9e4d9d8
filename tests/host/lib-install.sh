#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# libnvmep2p as a user gets it: install into a scratch root, build a program
# with pkg-config against the installed header and library, run it; the
# exported symbols are exactly the header's out-of-line functions (and the
# version script's list); every function of the header has a man page and
# every page renders without warnings.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVMEP2P_BUILDDIR:-$top}
header=$top/tools/lib/nvmep2p.h
map=$top/tools/lib/libnvmep2p.map
[ -f "$build/tools/lib/libnvmep2p.la" ] || bail "$build/tools/lib/libnvmep2p.la not built"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install_lib() {
	make -s -C "$build" DESTDIR="$root" install-libLTLIBRARIES \
		install-includeHEADERS install-nvmep2p_uapiHEADERS \
		install-pkgconfigDATA install-man >"$root/install.log" 2>&1
}
ok "install library, headers, pkg-config file and man pages" install_lib ||
	sed 's/^/# /' "$root/install.log"
prefix=$(sed -n 's/^prefix=//p' "$build/tools/lib/libnvmep2p.pc")
so=$(find "$root" -name libnvmep2p.so)
libdir=$(dirname "$so")
mandir=$root$prefix/share/man

export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags libnvmep2p) libs=$(pkg-config --libs libnvmep2p)
ok "pkg-config knows libnvmep2p (version $(pkg-config --modversion libnvmep2p))" \
	pkg-config --exists libnvmep2p
cat >"$root/user.c" <<'PROG'
#include <stdio.h>
#include <nvmep2p.h>
#include <nvme/util.h>
int main(void)
{
	struct nvmep2p_ctrl *ctrl;
	struct nvmep2p_sqe sqe;

	/* libnvme's names, and version 0.1's alias of one. */
	printf("%d %s %d %d %d\n", nvmep2p_ctrl_open("/dev/null", &ctrl),
	       nvmep2p_status_str(NVME_SC_LBA_RANGE),
	       nvmep2p_prep_read(&sqe, 1, 0, 0, 0, 0),
	       nvmep2p_prep_read(&sqe, 1, 0, 8, 0x1000, 0),
	       nvme_status_to_errno(NVMEP2P_STATUS_LBA_RANGE, false));
	return 0;
}
PROG
ok "a program builds against the installed header and library" \
	cc -std=c11 -Wall -Wextra -Werror $cflags -o "$root/user" "$root/user.c" $libs
is "$(LD_LIBRARY_PATH=$libdir "$root/user")" "-25 LBA Out of Range -22 0 121" \
	"it runs against the installed shared library (121: EREMOTEIO, libnvme's errno)"
is "$(objdump -p "$libdir/libnvmep2p.so" | awk '/SONAME/ {print $2}')" \
	"libnvmep2p.so.0" "soname libnvmep2p.so.0"

# Out-of-line functions of the header: declarations at column 0 that are
# not static inline.
decls=$(grep -E '^[a-z].*\bnvmep2p_[a-z0-9_]+\(' "$header" | grep -v '^static' |
	grep -oE '\bnvmep2p_[a-z0-9_]+\(' | tr -d '(' | sort)
inlines=$(grep -E '^static inline.*\bnvmep2p_[a-z0-9_]+\(' "$header" |
	grep -oE '\bnvmep2p_[a-z0-9_]+\(' | tr -d '(' | sort)
exported=$(nm -D --defined-only "$libdir/libnvmep2p.so" |
	awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u)
mapped=$(sed -n 's/^[[:space:]]*\(nvmep2p_[a-z0-9_]*\);/\1/p' "$map" | sort -u)
is "$exported" "$decls" "exported symbols are the header's out-of-line functions"
is "$mapped" "$decls" "the version script lists exactly those"
ok "symbols carry version LIBNVMEP2P_0.1" \
	bash -c "nm -D --defined-only '$libdir/libnvmep2p.so' | grep -q 'nvmep2p_ctrl_open@@LIBNVMEP2P_0.1'"
ok "the whole-command and wait functions carry LIBNVMEP2P_0.2" \
	bash -c "nm -D --defined-only '$libdir/libnvmep2p.so' | grep -q 'nvmep2p_queue_wait@@LIBNVMEP2P_0.2'"
ok "the dma-buf export functions carry LIBNVMEP2P_0.3" \
	bash -c "nm -D --defined-only '$libdir/libnvmep2p.so' | grep -q 'nvmep2p_region_dmabuf@@LIBNVMEP2P_0.3'"
ok "the dma-buf ring placement carries LIBNVMEP2P_0.4" \
	bash -c "nm -D --defined-only '$libdir/libnvmep2p.so' | grep -q 'nvmep2p_queue_create_dmabuf@LIBNVMEP2P_0.4'"
ok "the queue constructors carry LIBNVMEP2P_0.5 (the 0.5 queue layout) and keep their older versions" \
	bash -c "nm -D --defined-only '$libdir/libnvmep2p.so' | grep -c -e 'nvmep2p_queue_create@@LIBNVMEP2P_0.5' \
		-e 'nvmep2p_queue_create@LIBNVMEP2P_0.1' -e 'nvmep2p_queue_create_dmabuf@@LIBNVMEP2P_0.5' \
		-e 'nvmep2p_queue_create_dmabuf@LIBNVMEP2P_0.4' | grep -qx 4"
queue_user() {
	cat >"$root/queue-user.c" <<'QPROG'
#include <nvmep2p.h>
int main(void)
{
	struct nvmep2p_queue *q;

	return nvmep2p_queue_create(NULL, NULL, &q) == -EINVAL ? 0 : 1;
}
QPROG
	cc -std=c11 -Wall -Wextra -Werror $cflags -o "$root/queue-user" "$root/queue-user.c" $libs &&
		LD_LIBRARY_PATH=$libdir "$root/queue-user" &&
		objdump -T "$root/queue-user" | grep -q 'LIBNVMEP2P_0.5.*nvmep2p_queue_create$'
}
ok "a program built now binds the 0.5 constructor (an older library refuses it)" queue_user
is "$(echo "$decls" | wc -l)" 32 "the header declares 32 out-of-line functions"

missing= bad=
for f in $decls $inlines; do
	page=$mandir/man3/$f.3
	if [ ! -f "$page" ]; then
		missing="$missing $f"
		continue
	fi
	# .so links resolve from the man root; the rendered page names f.
	(cd "$mandir" && groff -man -Tutf8 -ww "man3/$f.3" 2>"$root/warn" |
		col -b | sed -n '/^NAME/,/^SYNOPSIS/p' | grep -qw "$f") &&
		[ ! -s "$root/warn" ] || bad="$bad $f"
done
is "${missing# }" "" "every function of the header has an installed man page"
is "${bad# }" "" "every page renders without groff warnings and names its function"
ok "libnvmep2p(7) renders without warnings" \
	bash -c "groff -man -Tutf8 -ww '$mandir/man7/libnvmep2p.7' 2>&1 >/dev/null | grep -c . | grep -qx 0"
nospdx=$(grep -L 'SPDX-License-Identifier: LGPL-2.1-or-later OR MIT' "$top"/tools/lib/man/* "$top"/tools/lib/*.[ch] "$map" "$top/tools/lib/libnvmep2p.pc.in")
is "$nospdx" "" "every library file carries the library's SPDX line"
done_testing
