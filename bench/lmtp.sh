#!/bin/sh
# bench/lmtp.sh [MESSAGES] [SESSIONS] - LMTP throughput of loftd and of
# Debian's Dovecot (dovecot-lmtpd) in the same run, with Postfix's
# smtp-source -L as the client; prints both rates and their ratio.
#
# Equivalent instances: passwd-file userdb of 100 users, maildir:~/Maildir,
# mail_uid nobody, mail_fsync = optimized, 127.0.0.1 TCP, 4 KiB messages to
# one recipient each, SESSIONS parallel sessions (default 10), MESSAGES
# messages (default 2000) spread over the users. Both daemons run as root
# and write as nobody. Needs root, dovecot-lmtpd and postfix (smtp-source).
set -eu
n=${1:-2000}
sessions=${2:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/lmtp.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$top/build/bin/loftd" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-lmtp-bench.XXXXXX)
chmod 755 "$t"
lport=$((20000 + $$ % 10000)) dport=$((lport + 1))
cleanup() {
	"$top/build/bin/loftd" -c "$t/loft/loft.conf" stop >/dev/null 2>&1 || true
	[ -f "$t/dovecot/run/master.pid" ] && kill "$(cat "$t/dovecot/run/master.pid")" 2>/dev/null
	sleep 1
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"
bench_users "$t"
bench_loft_conf "$t/loft" "$lport" "$t/users"
bench_dovecot_conf "$t/dovecot" "$dport" "$t/users"
"$top/build/bin/loftd" -c "$t/loft/loft.conf"
/usr/sbin/dovecot -c "$t/dovecot/dovecot.conf"
sleep 1

# blast NAME PORT - n messages to user0..user99, print seconds
blast() {
	bench_blast "$2" "$n" "$sessions"
}

# warm both up, then measure alternately
blast warm-loft "$lport" >/dev/null
blast warm-dovecot "$dport" >/dev/null
loft_s=$(blast loft "$lport")
dovecot_s=$(blast dovecot "$dport")
loft_s=$(echo "$loft_s + $(blast loft "$lport")" | bc -l)
dovecot_s=$(echo "$dovecot_s + $(blast dovecot "$dport")" | bc -l)
total=$(( (n / 100) * 100 * 2 ))
loft_files=$(find "$t/loft/vmail" -path '*/new/*' -type f | wc -l)
dovecot_files=$(find "$t/dovecot/vmail" -path '*/new/*' -type f | wc -l)
expected=$(( (n / 100) * 100 * 3 ))
[ "$loft_files" -eq "$expected" ] || { echo "loft stored $loft_files of $expected" >&2; exit 1; }
[ "$dovecot_files" -eq "$expected" ] || { echo "dovecot stored $dovecot_files of $expected" >&2; exit 1; }
loft_rate=$(echo "$total / $loft_s" | bc -l)
dovecot_rate=$(echo "$total / $dovecot_s" | bc -l)
printf 'messages per side : %d (10 x smtp-source -L -s %d, 4 KiB, maildir, fsync optimized)\n' "$total" "$sessions"
printf 'loftd (loft-lmtp) : %8.1f msg/s\n' "$loft_rate"
printf 'dovecot lmtp      : %8.1f msg/s\n' "$dovecot_rate"
printf 'ratio loft/dovecot: %8.2fx\n' "$(echo "$loft_rate / $dovecot_rate" | bc -l)"
