# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.am; paths are relative to the top.
#
# libnvmep2p: the userspace library for exported queue pairs and regions.
# Only the functions in libnvmep2p.map are exported; the version script is
# the ABI (bump -version-info and add a new map node when it changes).

lib_LTLIBRARIES += tools/lib/libnvmep2p.la
tools_lib_libnvmep2p_la_SOURCES = tools/lib/nvmep2p.c tools/lib/status.c \
	tools/lib/nvmep2p-private.h
tools_lib_libnvmep2p_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/tools/lib/libnvmep2p.map
EXTRA_tools_lib_libnvmep2p_la_DEPENDENCIES = tools/lib/libnvmep2p.map

include_HEADERS += tools/lib/nvmep2p.h
# nvmep2p.h includes <linux/nvme_p2p.h>; until the kernel ships it, it is
# installed beside the library's header, and the .pc file points there.
nvmep2p_uapidir = $(includedir)/nvmep2p/linux
nvmep2p_uapi_HEADERS = uapi/linux/nvme_p2p.h

pkgconfig_DATA += tools/lib/libnvmep2p.pc

man_MANS += $(nvmep2p_man_pages)
nvmep2p_man_pages =

# Host unit test: builds the library's sources in to reach the internals.
check_PROGRAMS += tests/host/lib_unit
tests_host_lib_unit_SOURCES = tests/host/lib_unit.c tools/lib/nvmep2p.c \
	tools/lib/status.c
tests_host_lib_unit_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib
