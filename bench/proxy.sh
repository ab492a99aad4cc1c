#!/bin/sh
# bench/proxy.sh [MESSAGES] [SESSIONS] - what the LMTP proxy costs: LMTP
# throughput to a two-backend fleet of loft instances directly (each user
# sent to its own backend), through a loft proxy (lmtp_proxy = yes), and
# through Dovecot's LMTP proxy (dovecot-lmtpd, lmtp_proxy = yes, passdb
# proxy fields) in front of the same backends, in the same run; prints the
# three rates and the proxies' ratios to direct delivery.
#
# user0..user49@example.com live on backend 1, user50..user99 on backend 2;
# maildir, mail_fsync = optimized, 4 KiB messages from smtp-source -L,
# the backends trusting the proxies' XCLIENT (login_trusted_networks),
# SESSIONS sessions per smtp-source (default 10), MESSAGES per measured
# round (default 2000), two interleaved rounds each. Needs root.
set -eu
n=${1:-2000}
sessions=${2:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/proxy.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$top/build/bin/loftd" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-proxy-bench.XXXXXX)
chmod 755 "$t"
base=$((20000 + $$ % 10000))
b1=$base b2=$((base + 1)) lp=$((base + 2)) dp=$((base + 3))
cleanup() {
	for i in b1 b2 proxy; do
		"$top/build/bin/loftd" -c "$t/$i/loft.conf" stop >/dev/null 2>&1 || true
	done
	[ -f "$t/drun/master.pid" ] && kill "$(cat "$t/drun/master.pid")" 2>/dev/null
	sleep 1
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"

bench_users "$t"
bench_loft_conf "$t/b1" "$b1" "$t/users"
bench_loft_conf "$t/b2" "$b2" "$t/users"
# the backends trust the proxies: both send XCLIENT before each transaction
echo "login_trusted_networks = 127.0.0.1" >> "$t/b1/loft.conf"
echo "login_trusted_networks = 127.0.0.1" >> "$t/b2/loft.conf"
# the proxies' users: where each one lives
: > "$t/routes"
i=0
while [ $i -lt 100 ]; do
	port=$b1
	[ $i -ge 50 ] && port=$b2
	echo "user$i@example.com:{PLAIN}x::::::userdb_proxy=y userdb_host=127.0.0.1 userdb_port=$port proxy=y host=127.0.0.1 port=$port" >> "$t/routes"
	i=$((i + 1))
done
bench_loft_conf "$t/proxy" "$lp" "$t/routes"
echo "lmtp_proxy = yes" >> "$t/proxy/loft.conf"
mkdir -p "$t/drun" "$t/dstate"
cat > "$t/dovecot.conf" <<EOT
base_dir = $t/drun
state_dir = $t/dstate
log_path = $t/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_internal_user = root
default_internal_group = root
default_login_user = root
lmtp_proxy = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN $t/routes
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $dp
  }
}
EOT
for i in b1 b2 proxy; do
	"$top/build/bin/loftd" -c "$t/$i/loft.conf"
done
/usr/sbin/dovecot -c "$t/dovecot.conf"
sleep 1

# direct - the same load, each user sent straight to its backend
direct() {
	bench_blast "$b1" "$n" "$sessions" "$b2"
}

direct >/dev/null
bench_blast "$lp" "$n" "$sessions" >/dev/null
bench_blast "$dp" "$n" "$sessions" >/dev/null
s_direct=0 s_loft=0 s_dovecot=0
for round in 1 2; do
	s_direct=$(echo "$s_direct + $(direct)" | bc -l)
	s_loft=$(echo "$s_loft + $(bench_blast "$lp" "$n" "$sessions")" | bc -l)
	s_dovecot=$(echo "$s_dovecot + $(bench_blast "$dp" "$n" "$sessions")" | bc -l)
done
total=$(( (n / 100) * 100 * 2 ))
files=$(find "$t/b1/vmail" "$t/b2/vmail" -path '*/new/*' -type f | wc -l)
want=$(( (n / 100) * 100 * 9 ))
[ "$files" -eq "$want" ] || { echo "the backends stored $files of $want" >&2; exit 1; }
r_direct=$(echo "$total / $s_direct" | bc -l)
r_loft=$(echo "$total / $s_loft" | bc -l)
r_dovecot=$(echo "$total / $s_dovecot" | bc -l)
printf 'messages per path: %d (smtp-source -L -s %d, 4 KiB, two loft backends)\n' \
	"$total" "$sessions"
printf 'direct to backends : %8.1f msg/s\n' "$r_direct"
printf 'loft proxy         : %8.1f msg/s  (%.2f of direct)\n' "$r_loft" \
	"$(echo "$r_loft / $r_direct" | bc -l)"
printf 'dovecot lmtp proxy : %8.1f msg/s  (%.2f of direct)\n' "$r_dovecot" \
	"$(echo "$r_dovecot / $r_direct" | bc -l)"
printf 'loft / dovecot     : %8.2fx\n' "$(echo "$r_loft / $r_dovecot" | bc -l)"
