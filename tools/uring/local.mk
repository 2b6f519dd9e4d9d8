# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.am; paths are relative to the top.
#
# io_uring with fixed buffers in CMB regions (the io_uring importer, issue
# 5): the example copy program, its VM test and the benchmark.

bin_PROGRAMS += tools/uring/nvmep2p-uring-copy
tools_uring_nvmep2p_uring_copy_SOURCES = tools/uring/nvmep2p-uring-copy.c
tools_uring_nvmep2p_uring_copy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib \
	$(LIBURING_CFLAGS)
tools_uring_nvmep2p_uring_copy_LDADD = tools/lib/libnvmep2p.la $(LIBURING_LIBS)

man_MANS += tools/uring/man/nvmep2p-uring-copy.1

# VM test (tests/vm/p2p-uring.sh): registration, copies, revocation.
check_PROGRAMS += tests/vm/p2p_uring
tests_vm_p2p_uring_SOURCES = tests/vm/p2p_uring.c tests/vm/p2p_test.c tests/vm/p2p_test.h \
	tests/tap.c tests/tap.h
tests_vm_p2p_uring_CPPFLAGS = $(AM_CPPFLAGS) $(LIBURING_CFLAGS)
tests_vm_p2p_uring_LDADD = $(LIBURING_LIBS)
