# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.am; paths are relative to the top.
#
# libnvmep2p: the userspace library for exported queue pairs and regions.
# Only the functions in libnvmep2p.map are exported; the version script is
# the ABI (bump -version-info and add a new map node when it changes).

lib_LTLIBRARIES += tools/lib/libnvmep2p.la
tools_lib_libnvmep2p_la_SOURCES = tools/lib/nvmep2p.c tools/lib/status.c \
	tools/lib/nvmep2p-private.h
tools_lib_libnvmep2p_la_CPPFLAGS = $(AM_CPPFLAGS) $(LIBNVME_CFLAGS)
tools_lib_libnvmep2p_la_LIBADD = $(LIBNVME_LIBS)
tools_lib_libnvmep2p_la_LDFLAGS = -version-info 4:0:4 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/tools/lib/libnvmep2p.map
EXTRA_tools_lib_libnvmep2p_la_DEPENDENCIES = tools/lib/libnvmep2p.map

include_HEADERS += tools/lib/nvmep2p.h
# nvmep2p.h includes <linux/nvme_p2p.h>; until the kernel ships it, it is
# installed beside the library's header, and the .pc file points there.
nvmep2p_uapidir = $(includedir)/nvmep2p/linux
nvmep2p_uapi_HEADERS = uapi/linux/nvme_p2p.h

pkgconfig_DATA += tools/lib/libnvmep2p.pc

man_MANS += $(nvmep2p_man_pages)
nvmep2p_man_pages = \
	tools/lib/man/nvmep2p_consume_fence.3 \
	tools/lib/man/nvmep2p_cmpl_status.3 \
	tools/lib/man/nvmep2p_cqe_dnr.3 \
	tools/lib/man/nvmep2p_cqe_get_data.3 \
	tools/lib/man/nvmep2p_cqe_status.3 \
	tools/lib/man/nvmep2p_ctrl_close.3 \
	tools/lib/man/nvmep2p_ctrl_fd.3 \
	tools/lib/man/nvmep2p_ctrl_info.3 \
	tools/lib/man/nvmep2p_ctrl_name.3 \
	tools/lib/man/nvmep2p_ctrl_open.3 \
	tools/lib/man/nvmep2p_dma_read_fence.3 \
	tools/lib/man/nvmep2p_dsm_range_set.3 \
	tools/lib/man/nvmep2p_ns_info.3 \
	tools/lib/man/nvmep2p_prep_cmd.3 \
	tools/lib/man/nvmep2p_prep_dsm.3 \
	tools/lib/man/nvmep2p_prep_flush.3 \
	tools/lib/man/nvmep2p_prep_read.3 \
	tools/lib/man/nvmep2p_prep_rw.3 \
	tools/lib/man/nvmep2p_prep_write.3 \
	tools/lib/man/nvmep2p_prep_write_zeroes.3 \
	tools/lib/man/nvmep2p_prp_fill.3 \
	tools/lib/man/nvmep2p_prp_list_bytes.3 \
	tools/lib/man/nvmep2p_queue_attach_prp_pool.3 \
	tools/lib/man/nvmep2p_queue_cmd_mem.3 \
	tools/lib/man/nvmep2p_queue_cq_doorbell.3 \
	tools/lib/man/nvmep2p_queue_cq_map.3 \
	tools/lib/man/nvmep2p_queue_cqe_seen.3 \
	tools/lib/man/nvmep2p_queue_create_dmabuf.3 \
	tools/lib/man/nvmep2p_queue_dmabuf.3 \
	tools/lib/man/nvmep2p_queue_create.3 \
	tools/lib/man/nvmep2p_queue_db_map.3 \
	tools/lib/man/nvmep2p_queue_depth.3 \
	tools/lib/man/nvmep2p_queue_destroy.3 \
	tools/lib/man/nvmep2p_queue_fd.3 \
	tools/lib/man/nvmep2p_queue_get_sqe.3 \
	tools/lib/man/nvmep2p_queue_inflight.3 \
	tools/lib/man/nvmep2p_queue_next_cmd_mem.3 \
	tools/lib/man/nvmep2p_queue_next_prps.3 \
	tools/lib/man/nvmep2p_queue_info.3 \
	tools/lib/man/nvmep2p_queue_peek_cqe.3 \
	tools/lib/man/nvmep2p_queue_poll.3 \
	tools/lib/man/nvmep2p_queue_poll_one.3 \
	tools/lib/man/nvmep2p_queue_prp_pool_bytes.3 \
	tools/lib/man/nvmep2p_queue_push_cmd.3 \
	tools/lib/man/nvmep2p_queue_push_cmds.3 \
	tools/lib/man/nvmep2p_queue_qid.3 \
	tools/lib/man/nvmep2p_queue_reap.3 \
	tools/lib/man/nvmep2p_queue_resync.3 \
	tools/lib/man/nvmep2p_queue_ring_cq.3 \
	tools/lib/man/nvmep2p_queue_set_prps.3 \
	tools/lib/man/nvmep2p_queue_sq_doorbell.3 \
	tools/lib/man/nvmep2p_queue_sq_map.3 \
	tools/lib/man/nvmep2p_queue_submit.3 \
	tools/lib/man/nvmep2p_queue_submit_cmd.3 \
	tools/lib/man/nvmep2p_queue_wait.3 \
	tools/lib/man/nvmep2p_region_create.3 \
	tools/lib/man/nvmep2p_region_dmabuf.3 \
	tools/lib/man/nvmep2p_region_destroy.3 \
	tools/lib/man/nvmep2p_sqe_cid.3 \
	tools/lib/man/nvmep2p_sqe_set_data.3 \
	tools/lib/man/nvmep2p_status_str.3 \
	tools/lib/man/nvmep2p_store_fence.3 \
	tools/lib/man/libnvmep2p.7

# Host unit test: builds the library's sources in to reach the internals.
check_PROGRAMS += tests/host/lib_unit
tests_host_lib_unit_SOURCES = tests/host/lib_unit.c tests/tap.c tests/tap.h tools/lib/nvmep2p.c \
	tools/lib/status.c
tests_host_lib_unit_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib $(LIBNVME_CFLAGS)
tests_host_lib_unit_LDADD = $(LIBNVME_LIBS)

# VM test: real I/O through the library on the testbed. -no-install links
# the uninstalled library by rpath: no libtool wrapper script, which would
# want to write into the (read-only in the guest) build tree.
check_PROGRAMS += tests/vm/lib_queue
tests_vm_lib_queue_SOURCES = tests/vm/lib_queue.c tests/vm/p2p_test.c tests/vm/p2p_test.h \
	tests/vm/p2p_harness.h
tests_vm_lib_queue_CPPFLAGS = $(KSELFTEST_CPPFLAGS) -I$(top_srcdir)/tools/lib $(LIBNVME_CFLAGS)
$(tests_vm_lib_queue_OBJECTS): $(kselftest_header)
tests_vm_lib_queue_LDADD = tools/lib/libnvmep2p.la $(LIBNVME_LIBS)
tests_vm_lib_queue_LDFLAGS = -no-install

# The data path's cost per I/O against a software controller (make
# bench-overhead, tests/host/lib-overhead.sh). Built with the library's
# sources and flags, like the unit test, to reach nvmep2p__queue_init_mem.
noinst_PROGRAMS += tools/lib/bench/nvmep2p-overhead
tools_lib_bench_nvmep2p_overhead_SOURCES = tools/lib/bench/overhead.c \
	tools/lib/nvmep2p.c tools/lib/status.c
tools_lib_bench_nvmep2p_overhead_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib $(LIBNVME_CFLAGS)
tools_lib_bench_nvmep2p_overhead_LDADD = $(LIBNVME_LIBS)

# What writing a command into controller memory costs against host memory
# (make bench: the emulator's share of the engine's CPU per I/O).
noinst_PROGRAMS += tools/lib/bench/nvmep2p-store-cost
tools_lib_bench_nvmep2p_store_cost_SOURCES = tools/lib/bench/store-cost.c
tools_lib_bench_nvmep2p_store_cost_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib $(LIBNVME_CFLAGS)
tools_lib_bench_nvmep2p_store_cost_LDADD = tools/lib/libnvmep2p.la $(LIBNVME_LIBS)
tools_lib_bench_nvmep2p_store_cost_LDFLAGS = -no-install
