#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The man page renders without warnings, and it and --help document the
# same options.
# usage: docs.sh FSFREEZE_HOOK_BINARY MAN_PAGE
set -eu
bin=$1 page=$2

command -v man >/dev/null || { echo "SKIP: man is not installed (apt-get install man-db)"; exit 77; }

warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
if [ -n "$warnings" ]; then
    echo "FAIL: $page renders with warnings:"
    echo "$warnings"
    exit 1
fi

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
[ "$status" = 0 ] && echo "PASS: $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u | wc -l) options documented in both"
exit $status
