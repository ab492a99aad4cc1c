#!/bin/sh
# bench/userdb_sql.sh [MESSAGES] [SESSIONS] - LMTP throughput of loftd with
# its users in PostgreSQL (sql userdb), without and with the auth cache,
# against the same users in a passwd-file, in the same run; prints the
# three rates and their ratios to passwd-file.
#
# A private PostgreSQL cluster (Debian's postgresql, initdb'd under a
# temporary folder as the postgres user, on a private port) holds
# user0..user99@example.com. The three loft instances are otherwise equal
# to bench/lmtp.sh's: maildir, mail_fsync = optimized, 4 KiB messages from
# smtp-source -L, SESSIONS parallel sessions (default 10), MESSAGES
# (default 2000) per measured round; two rounds each, interleaved.
set -eu
n=${1:-2000}
sessions=${2:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/userdb_sql.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$top/build/bin/loftd" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-sql-bench.XXXXXX)
chmod 755 "$t"
base=$((20000 + $$ % 10000))
pgport=$base
cleanup() {
	for i in file sql cache; do
		"$top/build/bin/loftd" -c "$t/$i/loft.conf" stop >/dev/null 2>&1 || true
	done
	bench_pg_stop "$t"
	sleep 1
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"
. "$top/bench/pg_common.sh"

bench_pg_start "$t" "$pgport"
bench_psql "CREATE TABLE users (userid text PRIMARY KEY, uid integer, gid integer)"
bench_psql "INSERT INTO users SELECT 'user' || i || '@example.com', NULL, NULL
	FROM generate_series(0, 99) AS i"
cat > "$t/loft-sql.conf" <<EOT
driver = pgsql
connect = host=127.0.0.1 port=$pgport dbname=mail user=postgres
user_query = SELECT uid, gid FROM users WHERE userid = '%u'
EOT
chmod 600 "$t/loft-sql.conf"

bench_users "$t"
port=$((base + 1))
for i in file sql cache; do
	bench_loft_conf "$t/$i" "$port" "$t/users"
	eval "port_$i=$port"
	port=$((port + 1))
done
for i in sql cache; do
	bench_sql_userdb "$t/$i/loft.conf" "$t/loft-sql.conf"
done
echo "auth_cache_size = 10M" >> "$t/cache/loft.conf"
for i in file sql cache; do
	"$top/build/bin/loftd" -c "$t/$i/loft.conf"
done
sleep 1

for i in file sql cache; do
	eval "bench_blast \$port_$i $n $sessions" >/dev/null
	eval "s_$i=0"
done
for round in 1 2; do
	for i in file sql cache; do
		eval "s=\$(bench_blast \$port_$i $n $sessions)"
		eval "s_$i=\$(echo \"\$s_$i + $s\" | bc -l)"
	done
done
total=$(( (n / 100) * 100 * 2 ))
for i in file sql cache; do
	files=$(find "$t/$i/vmail" -path '*/new/*' -type f | wc -l)
	want=$(( (n / 100) * 100 * 3 ))
	[ "$files" -eq "$want" ] || { echo "$i stored $files of $want" >&2; exit 1; }
	eval "rate_$i=\$(echo \"$total / \$s_$i\" | bc -l)"
done
printf 'messages per instance: %d (smtp-source -L -s %d, 4 KiB, maildir, fsync optimized)\n' \
	"$total" "$sessions"
printf 'passwd-file           : %8.1f msg/s\n' "$rate_file"
printf 'sql, no cache         : %8.1f msg/s  (%.2f of passwd-file)\n' "$rate_sql" \
	"$(echo "$rate_sql / $rate_file" | bc -l)"
printf 'sql, auth_cache_size  : %8.1f msg/s  (%.2f of passwd-file)\n' "$rate_cache" \
	"$(echo "$rate_cache / $rate_file" | bc -l)"
