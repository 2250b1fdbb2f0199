#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The man page renders without warnings, and it and --help document the
# same options; every field of the status document is in its schema.
# The configuration keys the parser knows are documented in conf(5), and
# each is in the shipped configuration file (set, or commented out).
# usage: docs.sh FSFREEZE_HOOK_BINARY MAN_PAGE CONF_MAN_PAGE CONFIG_C SHIPPED_CONF
set -eu
bin=$1 page=$2 conf_page=$3 config_c=$4 shipped_conf=$5

command -v man >/dev/null || { echo "SKIP: man is not installed (apt-get install man-db)"; exit 77; }

for p in "$page" "$conf_page"; do
    warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
    if [ -n "$warnings" ]; then
        echo "FAIL: $p renders with warnings:"
        echo "$warnings"
        exit 1
    fi
done

# Wide enough that no option name is hyphenated across lines.
text=$(MANWIDTH=300 man -E UTF-8 -l "$page" 2>/dev/null | col -b)
help=$("$bin" --help)
status=0

for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    printf '%s\n' "$text" | grep -qF -- "$opt" || { echo "FAIL: $opt is in --help but not in the man page"; status=1; }
done
# Options the man page describes, under OPTIONS.
options=$(printf '%s\n' "$text" | sed -n '/^OPTIONS/,/^[A-Z]/p')
for opt in $(printf '%s\n' "$options" | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u); do
    printf '%s\n' "$help" | grep -qF -- "$opt" || { echo "FAIL: $opt is in the man page but not in --help"; status=1; }
done
# Every key of fh_config_main_keys and fh_config_hook_keys, as KEY= in conf(5).
conf_text=$(MANWIDTH=300 man -E UTF-8 -l "$conf_page" 2>/dev/null | col -b)
keys=$(sed -n '/^const char \*const fh_config_\(main\|hook\)_keys\[\]/,/};/p' "$config_c" | grep -oE '"[a-z-]+"' | tr -d '"' | sort -u)
[ -n "$keys" ] || { echo "FAIL: no keys found in $config_c"; status=1; }
for key in $keys; do
    printf '%s\n' "$conf_text" | grep -qE "^ +$key=" || { echo "FAIL: key $key is not documented in $conf_page"; status=1; }
done
# The main group's keys, each in the shipped file as 'key=' or '#key='.
main_keys=$(sed -n '/^const char \*const fh_config_main_keys\[\]/,/};/p' "$config_c" | grep -oE '"[a-z-]+"' | tr -d '"')
for key in $main_keys; do
    grep -qE "^#?$key=" "$shipped_conf" || { echo "FAIL: key $key is not in the shipped $shipped_conf"; status=1; }
done
# Every field of the status document, after a freeze and after its thaw
# (one hook, no deadline armed), is named under STATUS DOCUMENT.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/hooks"
printf '#!/bin/sh\nexit 0\n' >"$tmp/hooks/10-a"
chmod 0755 "$tmp/hooks/10-a"
schema=$(printf '%s\n' "$text" | sed -n '/^STATUS DOCUMENT/,/^METRICS/p')
fields=
for phase in freeze thaw; do
    "$bin" --config=/dev/null --no-journal -l '' --freeze-deadline=0 --state-dir="$tmp/state" -d "$tmp/hooks" \
        "$phase" </dev/null >/dev/null
    fields="$fields $("$bin" --config=/dev/null --state-dir="$tmp/state" -d "$tmp/hooks" --status --json |
        grep -oE '"[a-z_]+": ' | tr -d '": ')"
done
fields=$(printf '%s\n' $fields | sort -u)
[ -n "$fields" ] || { echo "FAIL: no fields in --status --json"; status=1; }
for field in $fields; do
    printf '%s\n' "$schema" | grep -qw -- "$field" ||
        { echo "FAIL: status document field $field is not under STATUS DOCUMENT in $page"; status=1; }
done
[ "$status" = 0 ] && echo "PASS: $(printf '%s\n' "$fields" | wc -l) status document fields documented"
[ "$status" = 0 ] && echo "PASS: $(printf '%s\n' "$keys" | wc -l) configuration keys documented"
[ "$status" = 0 ] && echo "PASS: $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u | wc -l) options documented in both"
exit $status
