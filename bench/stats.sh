#!/bin/sh
# bench/stats.sh [MESSAGES] [SESSIONS] - the cost of observability: LMTP
# messages/s through loftd with loft-stats running, and with loft-stats
# stopped (SIGSTOP: its socket fills, the services drop and count events
# instead of waiting), measured alternately in the same run; prints both and
# the difference. Goal: under 5%. Needs root and postfix (smtp-source).
set -eu
n=${1:-2000}
sessions=${2:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/stats.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh"
[ -x "$top/build/bin/loft-stats" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-stats-bench.XXXXXX)
chmod 755 "$t"
port=$((30000 + $$ % 10000))
cleanup() {
	[ -n "${stats_pid:-}" ] && kill -CONT "$stats_pid" 2>/dev/null
	"$top/build/bin/loftd" -c "$t/loft.conf" stop >/dev/null 2>&1 || true
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"
bench_users "$t"
bench_loft_conf "$t" "$port" "$t/users"
"$top/build/bin/loftd" -c "$t/loft.conf"
sleep 1
stats_pid=$(pgrep -f "loft-stats" -P "$(cat "$t/run/master.pid")" | head -n 1)

blast() {
	bench_blast "$port" "$n" "$sessions"
}

blast >/dev/null
# rounds alternate on/off; fsync latency drifts, so each round's pair
# gives one ratio and the median of those is the figure
rounds=${LOFT_BENCH_ROUNDS:-7}
per=$(( (n / 100) * 100 ))
ratios="" on=0 off=0
r=0
while [ $r -lt "$rounds" ]; do
	a=$(blast)
	kill -STOP "$stats_pid"
	b=$(blast)
	kill -CONT "$stats_pid"
	on=$(echo "$on + $a" | bc -l)
	off=$(echo "$off + $b" | bc -l)
	ratios="$ratios $(echo "$b / $a" | bc -l)"
	r=$((r + 1))
done
median=$(printf '%s\n' $ratios | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
total=$((per * rounds))
printf 'messages per side   : %d in %d alternating rounds (smtp-source -L, %d sessions x 10, 4 KiB)\n' "$total" "$rounds" "$sessions"
printf 'loft-stats running  : %8.1f msg/s\n' "$(echo "$total / $on" | bc -l)"
printf 'loft-stats stopped  : %8.1f msg/s\n' "$(echo "$total / $off" | bc -l)"
printf 'cost of stats       : %8.2f %% (median of the rounds)\n' "$(echo "(1 - $median) * 100" | bc -l)"
