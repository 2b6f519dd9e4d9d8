#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kernel/check-config catches wanted options that did not stick.
. "$(dirname "$0")/../tap.sh"
check=$(dirname "$0")/../../kernel/check-config
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

printf 'CONFIG_A=y\nCONFIG_B="x"\n# CONFIG_C is not set\nCONFIG_D=m\n' >"$d/config"
printf '# comment\nCONFIG_A=y\nCONFIG_B="x"\n# CONFIG_C is not set\n' >"$d/good"
printf 'CONFIG_A=y\nCONFIG_C=y\nCONFIG_E=y\n# CONFIG_D is not set\n' >"$d/bad"

"$check" "$d/config" "$d/good" >/dev/null
is "$?" 0 "all wanted options present: exit 0"
out=$("$check" "$d/config" "$d/bad"); rc=$?
is "$rc" 1 "options that did not stick: exit 1"
ok "an option left unset is named with what it got" grep -qF 'CONFIG_C=y (got: # CONFIG_C is not set)' <<<"$out"
ok "an option absent from .config is named" grep -qF 'CONFIG_E=y (got: absent)' <<<"$out"
ok "an option wanted off but set is named" grep -qF 'CONFIG_D (wanted: not set; got: CONFIG_D=m)' <<<"$out"
is "$(grep -c . <<<"$out")" 3 "and nothing else is reported"
"$check" "$d/nonexistent" "$d/good" 2>/dev/null
is "$?" 2 "unreadable .config: exit 2"
done_testing
