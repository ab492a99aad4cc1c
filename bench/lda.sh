#!/bin/sh
# bench/lda.sh [N] - deliver N messages (default 500) with loft-lda and with
# Debian's dovecot-lda on equivalent configs, in the same run, and print
# both rates and their ratio.
#
# Both run the way Postfix's mailbox_command runs them: as the recipient
# (user nobody here, via setpriv), without -d, $HOME and $USER set, one exec
# per message; maildir:~/Maildir, mail_fsync = optimized, the same 4 KiB
# message, alternating rounds so that neither side gets a warmer cache.
# (dovecot-lda with -d needs a running Dovecot auth service; the
# mailbox_command mode needs none, for either side.) Needs root and the
# dovecot-core package (scripts/deps.sh --bench installs it).
set -eu
n=${1:-500}
top=$(cd "$(dirname "$0")/.." && pwd)
loft_lda="$top/build/bin/loft-lda"
dovecot_lda=/usr/lib/dovecot/dovecot-lda
[ "$(id -u)" -eq 0 ] || { echo "bench/lda.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$loft_lda" ] || "$top/scripts/build.sh" build -DCMAKE_BUILD_TYPE=Release

t=$(mktemp -d /var/tmp/loft-bench.XXXXXX)
trap 'rm -rf "$t"' EXIT
chmod 755 "$t"
uid=$(id -u nobody) gid=$(id -g nobody)
mkdir -p "$t/loft-home" "$t/dovecot-home" "$t/run-loft" "$t/run-dovecot"
chown "$uid:$gid" "$t/loft-home" "$t/dovecot-home"

cat > "$t/loft.conf" <<EOT
base_dir = $t/run-loft
hostname = bench
log_path = $t/loft-home/loft.log
mail_location = maildir:~/Maildir
mail_fsync = optimized
EOT
cat > "$t/dovecot.conf" <<EOT
base_dir = $t/run-dovecot
log_path = $t/dovecot-home/dovecot.log
mail_location = maildir:~/Maildir
mail_fsync = optimized
ssl = no
protocols =
EOT
chmod 644 "$t/loft.conf" "$t/dovecot.conf"

{
	printf 'From: Bench <bench-sender@example.org>\nTo: bench@example.com\n'
	printf 'Subject: benchmark\nMessage-ID: <bench@example.org>\n\n'
	i=0
	while [ $i -lt 60 ]; do
		printf 'The quick brown fox jumps over the lazy dog, line %02d of the body.\n' $i
		i=$((i + 1))
	done
} > "$t/msg"

# run_round NAME BIN CONF HOME COUNT - deliver COUNT messages as the
# recipient (one shell as nobody execs BIN once per message), print seconds
run_round() {
	start=$(date +%s.%N)
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env -i HOME="$4" USER=nobody PATH=/usr/bin:/bin \
		sh -c 'i=0; while [ $i -lt "$3" ]; do
			"$1" -c "$2" -f sender@example.org < "$4" || exit $?
			i=$((i + 1)); done' run_round "$2" "$3" "$5" "$t/msg" ||
		{ echo "$1 failed (exit $?)" >&2; exit 1; }
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

rounds=5
per=$((n / rounds))
loft_s=0 dovecot_s=0
r=0
while [ $r -lt $rounds ]; do
	loft_s=$(echo "$loft_s + $(run_round loft-lda "$loft_lda" "$t/loft.conf" "$t/loft-home" $per)" | bc -l)
	dovecot_s=$(echo "$dovecot_s + $(run_round dovecot-lda "$dovecot_lda" "$t/dovecot.conf" "$t/dovecot-home" $per)" | bc -l)
	r=$((r + 1))
done
total=$((per * rounds))
loft_new=$(ls "$t/loft-home/Maildir/new" | wc -l)
dovecot_new=$(ls "$t/dovecot-home/Maildir/new" | wc -l)
[ "$loft_new" -eq "$total" ] || { echo "loft stored $loft_new of $total" >&2; exit 1; }
[ "$dovecot_new" -eq "$total" ] || { echo "dovecot stored $dovecot_new of $total" >&2; exit 1; }
loft_rate=$(echo "$total / $loft_s" | bc -l)
dovecot_rate=$(echo "$total / $dovecot_s" | bc -l)
printf 'messages per side : %d (mailbox_command style, mail_fsync=optimized, maildir)\n' "$total"
printf 'loft-lda          : %8.1f msg/s\n' "$loft_rate"
printf 'dovecot-lda       : %8.1f msg/s\n' "$dovecot_rate"
printf 'ratio loft/dovecot: %8.2fx\n' "$(echo "$loft_rate / $dovecot_rate" | bc -l)"
