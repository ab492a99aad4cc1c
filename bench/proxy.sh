#!/bin/sh
# bench/proxy.sh [MESSAGES] [SESSIONS] - what the LMTP proxy costs: LMTP
# throughput to a two-backend fleet of loft instances directly (each user
# sent to its own backend), through a loft proxy (lmtp_proxy = yes), and
# through Dovecot's LMTP proxy (dovecot-lmtpd, lmtp_proxy = yes, passdb
# proxy fields) in front of the same backends, in the same run; prints the
# three rates, the proxies' ratios to direct delivery, and the CPU time
# each role used per 1000 messages.
#
# user0..user49@example.com live on backend 1, user50..user99 on backend 2.
# The users are in PostgreSQL (a private cluster, bench/pg_common.sh), one
# table users(userid, proxy, host, port) and one dovecot-sql.conf.ext-style
# file read by all: loft's proxy and both backends through the sql userdb
# (user_query; the backends, lmtp_proxy = no, ignore the proxy fields and
# deliver), Dovecot's proxy through a sql passdb (password_query) as its
# LMTP proxy wants. No auth cache anywhere: every recipient costs the proxy
# one query and its backend another. LOFT_BENCH_USERDB=passwd-file puts the
# same users and routes in passwd-files instead (no PostgreSQL).
# Maildir, mail_fsync = optimized, 4 KiB messages from smtp-source -L (one
# recipient each), the backends trusting the proxies' XCLIENT
# (login_trusted_networks), SESSIONS sessions per smtp-source (default 10),
# MESSAGES per measured round (default 2000), LOFT_BENCH_ROUNDS interleaved
# rounds (default 3) after one unmeasured round of each path. Needs root.
#
# What the figures mean. All processes share this host's cores, so the
# throughputs mostly say how much CPU the proxy takes away from the
# backends, not how a fleet with a host per role would do. For that the
# bench reads, before and after each round, the CPU time (user + system,
# from /proc/<pid>/stat, reaped children included) of each role's process
# tree: the loft proxy's loftd, Dovecot's proxy (its master and all its
# processes, auth included), each backend's loftd, and PostgreSQL, and
# prints it per 1000 messages of the path. The backends' figure is both
# together, i.e. per 1000 messages stored (each message is stored once,
# by one of them). "backends one proxy feeds" is that figure divided by
# the proxy's: how many such backends one proxy host could keep busy if
# CPU were the limit on every host; at 2 or more the proxy is not the
# bottleneck of a two-backend fleet. (Backends are also bound by fsync,
# which costs wall time but no CPU; that only makes the proxy's share
# smaller.) CPU time does not depend on which core a process ran on, so
# the roles are not pinned: on 2 shared cores taskset would only slow the
# round down.
set -eu
n=${1:-2000}
sessions=${2:-10}
rounds=${LOFT_BENCH_ROUNDS:-3}
userdb=${LOFT_BENCH_USERDB:-sql}
case $userdb in
sql | passwd-file) ;;
*) echo "bench/proxy.sh: LOFT_BENCH_USERDB is sql or passwd-file" >&2; exit 1 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/proxy.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$top/build/bin/loftd" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-proxy-bench.XXXXXX)
chmod 755 "$t"
base=$((20000 + $$ % 10000))
b1=$base b2=$((base + 1)) lp=$((base + 2)) dp=$((base + 3)) pgport=$((base + 4))
cleanup() {
	for i in b1 b2 proxy; do
		"$top/build/bin/loftd" -c "$t/$i/loft.conf" stop >/dev/null 2>&1 || true
	done
	[ -f "$t/drun/master.pid" ] && kill "$(cat "$t/drun/master.pid")" 2>/dev/null
	bench_pg_stop "$t"
	sleep 1
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"
. "$top/bench/pg_common.sh"

bench_users "$t"
if [ "$userdb" = sql ]; then
	bench_pg_start "$t" "$pgport"
	bench_psql "CREATE TABLE users (userid text PRIMARY KEY, proxy text,
		host text, port integer)"
	bench_psql "INSERT INTO users SELECT 'user' || i || '@example.com', 'y',
		'127.0.0.1', CASE WHEN i < 50 THEN $b1 ELSE $b2 END
		FROM generate_series(0, 99) AS i"
	cat > "$t/sql.conf" <<EOT
driver = pgsql
connect = host=127.0.0.1 port=$pgport dbname=mail user=postgres
# loft: the proxy's and the backends' userdb
user_query = SELECT proxy, host, port FROM users WHERE userid = '%u'
# Dovecot's LMTP proxy: its passdb
password_query = SELECT '{PLAIN}x' AS password, proxy, host, port \\
  FROM users WHERE userid = '%u'
EOT
	chmod 600 "$t/sql.conf"
	dovecot_db="passdb {
  driver = sql
  args = $t/sql.conf
}
userdb {
  driver = sql
  args = $t/sql.conf
}"
else
	# where each user lives, as passdb fields (Dovecot) and userdb_
	# fields (loft)
	: > "$t/routes"
	i=0
	while [ $i -lt 100 ]; do
		port=$b1
		[ $i -ge 50 ] && port=$b2
		echo "user$i@example.com:{PLAIN}x::::::userdb_proxy=y userdb_host=127.0.0.1 userdb_port=$port proxy=y host=127.0.0.1 port=$port" >> "$t/routes"
		i=$((i + 1))
	done
	dovecot_db="passdb {
  driver = passwd-file
  args = scheme=PLAIN $t/routes
}"
fi
bench_loft_conf "$t/b1" "$b1" "$t/users"
bench_loft_conf "$t/b2" "$b2" "$t/users"
bench_loft_conf "$t/proxy" "$lp" "$t/routes"
echo "lmtp_proxy = yes" >> "$t/proxy/loft.conf"
# the backends trust the proxies: both send XCLIENT before each transaction
echo "login_trusted_networks = 127.0.0.1" >> "$t/b1/loft.conf"
echo "login_trusted_networks = 127.0.0.1" >> "$t/b2/loft.conf"
if [ "$userdb" = sql ]; then
	for i in b1 b2 proxy; do
		bench_sql_userdb "$t/$i/loft.conf" "$t/sql.conf"
	done
fi
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
$dovecot_db
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

# the roles whose CPU time is read, in the order of the columns below
roots="$(cat "$t/proxy/run/master.pid") $(cat "$t/drun/master.pid")"
roots="$roots $(cat "$t/b1/run/master.pid") $(cat "$t/b2/run/master.pid")"
if [ "$userdb" = sql ]; then roots="$roots $(bench_pg_pid "$t")"; fi

# measure PATH PORT [PORT2] - one round of the load on PORT (user50..99 on
# PORT2 when given); appends "PATH seconds cpu-before... cpu-after..."
measure() {
	before=$(bench_cpu "$roots")
	s=$(bench_blast "$2" "$n" "$sessions" "${3:-}")
	after=$(bench_cpu "$roots")
	echo "$1 $s $before $after" >> "$t/rounds"
}

load0=$(cut -d ' ' -f 1-3 /proc/loadavg)
bench_blast "$b1" "$n" "$sessions" "$b2" >/dev/null
bench_blast "$lp" "$n" "$sessions" >/dev/null
bench_blast "$dp" "$n" "$sessions" >/dev/null
round=0
while [ $round -lt "$rounds" ]; do
	measure direct "$b1" "$b2"
	measure loft "$lp"
	measure dovecot "$dp"
	round=$((round + 1))
done
load1=$(cut -d ' ' -f 1-3 /proc/loadavg)
per=$(( (n / 100) * 100 ))
files=$(find "$t/b1/vmail" "$t/b2/vmail" -path '*/new/*' -type f | wc -l)
want=$(( per * 3 * (rounds + 1) ))
[ "$files" -eq "$want" ] || { echo "the backends stored $files of $want" >&2; exit 1; }

printf 'messages per path: %d (%d rounds, smtp-source -L -s %d, 4 KiB, two loft backends, users in %s; load %s -> %s)\n' \
	"$((per * rounds))" "$rounds" "$sessions" "$userdb" "$load0" "$load1"
awk -v msgs="$((per * rounds))" '
{
	k = (NF - 2) / 2
	secs[$1] += $2
	for (r = 1; r <= k; r++) {
		d[r] = $(2 + k + r) - $(2 + r)
		cpu[$1, r] += d[r]
	}
	px = $1 == "loft" ? d[1] : $1 == "dovecot" ? d[2] : 0
	if (px > 0)
		each[$1] = each[$1] sprintf(" %.1f", (d[3] + d[4]) / px)
}
END {
	# columns: 1 loft proxy, 2 Dovecot proxy, 3 backend 1, 4 backend 2,
	# 5 PostgreSQL (sql only)
	for (p in secs)
		rate[p] = msgs / secs[p]
	printf "direct to backends : %8.1f msg/s\n", rate["direct"]
	printf "loft proxy         : %8.1f msg/s  (%.2f of direct)\n",
		rate["loft"], rate["loft"] / rate["direct"]
	printf "dovecot lmtp proxy : %8.1f msg/s  (%.2f of direct)\n",
		rate["dovecot"], rate["dovecot"] / rate["direct"]
	printf "loft / dovecot     : %8.2fx\n", rate["loft"] / rate["dovecot"]
	printf "CPU seconds per 1000 messages (process trees, same rounds):\n"
	printf "  %-19s %6s  %-20s%s\n", "", "proxy", "backends (b1 + b2)",
		(k > 4 ? "  postgres" : "")
	split("direct loft dovecot", path, " ")
	split("direct to backends,loft proxy,dovecot lmtp proxy", name, ",")
	for (i = 1; i <= 3; i++) {
		p = path[i]
		px = p == "loft" ? cpu[p, 1] : p == "dovecot" ? cpu[p, 2] : -1
		be = cpu[p, 3] + cpu[p, 4]
		printf "  %-19s %6s  %5.2f (%5.2f + %5.2f)", name[i],
			(px < 0 ? "-" : sprintf("%5.2f", px * 1000 / msgs)),
			be * 1000 / msgs, cpu[p, 3] * 1000 / msgs,
			cpu[p, 4] * 1000 / msgs
		if (k > 4)
			printf "  %8.2f", cpu[p, 5] * 1000 / msgs
		printf "\n"
		if (px > 0)
			feeds[p] = be / px
	}
	printf "backends one proxy feeds (CPU; 2 or more: not the bottleneck of a two-backend fleet):\n"
	printf "  loft %.1f (rounds:%s), dovecot %.1f (rounds:%s)\n",
		feeds["loft"], each["loft"], feeds["dovecot"], each["dovecot"]
}' "$t/rounds"
