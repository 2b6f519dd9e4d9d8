# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.am; paths are relative to the top.
#
# The fio external ioengine (fio-engine/nvmep2p.c). It is compiled against
# the Debian source of the installed fio, unpacked and configured the way
# debian/rules does it by fio-engine/fio-source, once, into the build
# directory (fio-engine/fio-src; delete it to fetch again). The flags below
# are those of fio's own Makefile that change what its headers declare.
# The module lands in fio-engine/.libs/nvmep2p.so in the build tree and in
# $(pkglibdir)/nvmep2p.so when installed: ioengine=external:<that path>.

fio_engine_src = $(abs_top_builddir)/fio-engine/fio-src
fio_engine_stamp = $(fio_engine_src)/.configured

$(fio_engine_stamp): $(top_srcdir)/fio-engine/fio-source
	$(AM_V_GEN)$(top_srcdir)/fio-engine/fio-source $(fio_engine_src) >/dev/null

fioenginedir = $(pkglibdir)
fioengine_LTLIBRARIES = fio-engine/nvmep2p.la
fio_engine_nvmep2p_la_SOURCES = fio-engine/nvmep2p.c
# fio's headers come in as system headers: our warnings, not theirs.
fio_engine_nvmep2p_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/lib \
	-D_GNU_SOURCE -include $(fio_engine_src)/current/config-host.h \
	-isystem $(fio_engine_src)/current \
	-D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64 -DFIO_INC_DEBUG \
	-DFIO_EXTERNAL_ENGINE
fio_engine_nvmep2p_la_CFLAGS = $(AM_CFLAGS) -std=gnu99
# A dlopen()ed module; fio's own symbols resolve against /usr/bin/fio.
fio_engine_nvmep2p_la_LDFLAGS = -module -avoid-version -shared
fio_engine_nvmep2p_la_LIBADD = tools/lib/libnvmep2p.la
$(fio_engine_nvmep2p_la_OBJECTS): $(fio_engine_stamp)
