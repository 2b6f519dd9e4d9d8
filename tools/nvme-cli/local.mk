# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.am; paths are relative to the top.
#
# nvme-cli with the "nvme p2p" plugin: Debian's nvme-cli 2.3 source package,
# fetched, unpacked and built with meson+ninja by build-nvme-cli under
# tools/nvme-cli/build/ (a cache: kept across "make clean", so that only a
# changed plugin is recompiled). The result is tools/nvme-cli/nvme, installed
# as $(sbindir)/nvme like Debian's.

nvme_cli_dir = $(srcdir)/tools/nvme-cli
nvme_cli_work = $(abs_top_builddir)/tools/nvme-cli/build
nvme_cli_inputs = $(nvme_cli_dir)/p2p-nvme.c $(nvme_cli_dir)/p2p-nvme.h \
	$(nvme_cli_dir)/p2p-common.h $(nvme_cli_dir)/p2p-common.c \
	$(nvme_cli_dir)/p2p-print.c $(nvme_cli_dir)/p2p-info.c \
	$(nvme_cli_dir)/p2p-list.c $(nvme_cli_dir)/p2p-create.c \
	$(nvme_cli_dir)/meson-plugin.patch $(nvme_cli_dir)/build-nvme-cli \
	$(srcdir)/uapi/linux/nvme_p2p.h $(srcdir)/scripts/deb-source

nvmecliexecdir = $(sbindir)
nvmecliexec_SCRIPTS = tools/nvme-cli/nvme

tools/nvme-cli/nvme: $(nvme_cli_inputs)
	$(AM_V_GEN)NVMEP2P_UAPI=$(abs_top_srcdir)/uapi \
		$(nvme_cli_dir)/build-nvme-cli $(nvme_cli_work) $@

man_MANS += $(nvme_cli_man_pages)
nvme_cli_man_pages = \
	tools/nvme-cli/man/nvme-p2p.1 \
	tools/nvme-cli/man/nvme-p2p-info.1 \
	tools/nvme-cli/man/nvme-p2p-peers.1 \
	tools/nvme-cli/man/nvme-p2p-list.1 \
	tools/nvme-cli/man/nvme-p2p-queue.1 \
	tools/nvme-cli/man/nvme-p2p-create-region.1 \
	tools/nvme-cli/man/nvme-p2p-create-queue.1

CLEANFILES += tools/nvme-cli/nvme

# The cached nvme-cli tree goes with distclean only.
distclean-local: distclean-nvme-cli
.PHONY: distclean-nvme-cli
distclean-nvme-cli:
	rm -rf $(nvme_cli_work)

# VM test helper (tests/vm/nvme-cli-queue.sh): I/O through an exported queue.
check_PROGRAMS += tests/vm/nvme-cli-queue-io
tests_vm_nvme_cli_queue_io_SOURCES = tests/vm/nvme-cli-queue-io.c
