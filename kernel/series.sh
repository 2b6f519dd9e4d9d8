# SPDX-License-Identifier: GPL-2.0
# The series format, in one place: sourced by kernel/build.sh and the tests.
#
# kernel/series lists entries, one per line ('#' comments). An entry names a
# description in kernel/patches/: header lines, a blank line, the body.
#   Subject: subsystem: summary
#   Hooks: a.diff b.diff          unified diffs in kernel/hooks/, applied in order
#   Files: repo/path:tree/path    new files copied from the repo into the tree
# The repo holds new files as the whole series leaves them; a later entry's
# Hooks may change a file an earlier entry added (build.sh then undoes those
# changes to get the earlier entry's version).
series_top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# series_entries: the entries, in order.
series_entries() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$series_top/series"
}

# series_header ENTRY KEY: the value of header KEY of ENTRY's description.
series_header() {
	sed -n "1,/^\$/{s/^$2:[[:space:]]*//p}" "$series_top/patches/$1"
}

# series_new_files: the tree paths of every file the series adds.
series_new_files() {
	local e f
	for e in $(series_entries); do
		for f in $(series_header "$e" Files); do echo "${f#*:}"; done
	done
}

# series_later_hooks ENTRY: the hooks of the entries after ENTRY, in order.
series_later_hooks() {
	local e seen=0 h
	for e in $(series_entries); do
		if [ "$seen" = 1 ]; then
			for h in $(series_header "$e" Hooks); do echo "$h"; done
		fi
		[ "$e" = "$1" ] && seen=1
	done
}
