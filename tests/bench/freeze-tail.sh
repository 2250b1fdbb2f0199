#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# How long a freeze takes after its last hook has finished (the time the
# applications hold their locks before qemu-ga's FIFREEZE), with the
# deadline armed through a stand-in systemd (tests/proc/fake-systemd.c)
# that answers at once, and one whose GetUnit never answers (a stalled
# systemd). Root only: the stand-in is bind-mounted on /run/systemd in a
# private mount namespace. Not part of the test run:
#
#   tests/bench/freeze-tail.sh build/src/fsfreeze-hook build/tests/fake-systemd [RUNS]
set -eu
bin=$(realpath "$1") fake=$(realpath "$2") runs=${3:-5}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
top=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$top"' EXIT
mkdir "$top/hooks"
printf '#!/bin/sh\ndate +%%s%%N > %s/last\n' "$top" > "$top/hooks/10-last"
chmod 755 "$top/hooks/10-last"
now() { date +%s%N; }

for mode in answering --stall-get-unit; do
        rm -rf "$top/systemd" "$top/state"
        mkdir "$top/systemd"
        if [ "$mode" = answering ]; then "$fake" "$top/systemd" & else "$fake" "$top/systemd" "$mode" & fi
        pid=$!
        while [ ! -S "$top/systemd/private" ]; do sleep 0.05; done
        tails=
        i=0
        while [ $i -lt "$runs" ]; do
                unshare -m --propagation private sh -c 'mount --bind "$1/systemd" /run/systemd &&
                        exec "$2" --config=/dev/null --state-dir="$1/state" --no-journal -d "$1/hooks" \
                        -l "$1/log" --freeze-deadline=3600 freeze' sh "$top" "$bin"
                end=$(now)
                tails="$tails $(( (end - $(cat "$top/last")) / 1000 ))"
                i=$((i + 1))
        done
        kill $pid; wait $pid 2>/dev/null || true
        median=$(printf '%s\n' $tails | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        echo "$mode: last hook's end to exit: median $median usec of$tails"
done
