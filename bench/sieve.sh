#!/bin/sh
# bench/sieve.sh [MESSAGES] [SESSIONS] - what Sieve costs at delivery:
# LMTP throughput of loftd without Sieve and with it (mail_plugins =
# sieve), and of Debian's Dovecot LMTP with Pigeonhole and without it,
# on the same scripts and mail, in the same run; prints the four rates,
# loft's cost of Sieve (goal: under 15%) and loft / Dovecot with Sieve.
#
# The scripts (bench/sieve/): a site sieve_before script and a 30-rule
# personal script in every user's ~/.dovecot.sieve (spam by header, lists
# by List-Id into Lists/<name> from variables, plus-address folders,
# flags, a vacation that does not fire). The mail (4 KiB, smtp-source -L
# -F) is of ten kinds, one per user0..user99 modulo 10: plain mail kept
# with and without flags, a newsletter, two lists, spam caught by the
# personal and by the global script, and plus-addressed mail.
# Instances otherwise as bench/lmtp.sh (maildir, fsync optimized,
# hierarchy separator /), SESSIONS parallel sessions (default 10),
# MESSAGES per round (default 2000), LOFT_BENCH_ROUNDS rounds (default
# 5) alternating the four; the Sieve cost is the median of the rounds'
# ratios. Afterwards the folders and flags loft and Dovecot stored with
# Sieve must be the same. Needs root, dovecot-lmtpd, dovecot-sieve.
set -eu
n=${1:-2000}
sessions=${2:-10}
rounds=${LOFT_BENCH_ROUNDS:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/sieve.sh: run as root" >&2; exit 1; }
"$top/scripts/deps.sh" --bench
[ -x "$top/build/bin/loftd" ] || "$top/scripts/build.sh" build
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

t=$(mktemp -d /var/tmp/loft-sieve-bench.XXXXXX)
chmod 755 "$t"
base=$((20000 + $$ % 10000))
cleanup() {
	for i in off on; do
		"$top/build/bin/loftd" -c "$t/$i/loft.conf" stop >/dev/null 2>&1 || true
	done
	for i in doff don; do
		[ -f "$t/$i/run/master.pid" ] &&
			kill "$(cat "$t/$i/run/master.pid")" 2>/dev/null
	done
	sleep 1
	[ -z "${LOFT_BENCH_KEEP:-}" ] || { echo "kept $t" >&2; return; }
	rm -rf "$t"
}
trap cleanup EXIT
. "$top/bench/lmtp_common.sh"
all="off on doff don"

# the mail: kind K goes to the users with number % 10 == K
mkdir -p "$t/mail"
message() {
	printf 'Date: Wed, 2 Dec 2026 10:00:00 +0000\n'
	printf 'To: <user@example.com>\n'
	printf 'Message-ID: <bench-%s@example.org>\n' "$1"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n'
	cat
	printf '\n'
	i=0
	while [ $i -lt 56 ]; do
		printf 'Line %02d of the body, some text to make a message of four KiB.....\n' $i
		i=$((i + 1))
	done
}
message 0 > "$t/mail/0" <<'EOT'
From: Alice <alice@work.example.com>
Subject: Re: the quarterly figures
EOT
message 1 > "$t/mail/1" <<'EOT'
From: Bob <bob@elsewhere.example.net>
Subject: dinner on friday
EOT
message 2 > "$t/mail/2" <<'EOT'
From: The Boss <boss@work.example.com>
Subject: budget, please look at it asap
EOT
message 3 > "$t/mail/3" <<'EOT'
From: Mum <mum@family.example.org>
Subject: photos
EOT
message 4 > "$t/mail/4" <<'EOT'
From: Shop <newsletter@shop.example.com>
Precedence: bulk
Subject: this week's offers
EOT
message 5 > "$t/mail/5" <<'EOT'
From: Carol <carol@dev.example.org>
List-Id: Developers <dev.lists.example.org>
Subject: [dev] patch review
EOT
message 6 > "$t/mail/6" <<'EOT'
From: Dan <dan@debian.example>
List-Id: <Debian-User.lists.debian.org>
Subject: question about apt
EOT
message 7 > "$t/mail/7" <<'EOT'
From: Offers <win@offers.example>
X-Spam-Flag: YES
X-Spam-Score: 7.5
Subject: you have won
EOT
message 8 > "$t/mail/8" <<'EOT'
From: Store <orders@store.example>
Subject: your order has shipped
EOT
message 9 > "$t/mail/9" <<'EOT'
From: Offers <cheap@pills.example>
X-Spam-Level: ************
Subject: cheap pills
EOT

# bench_source PORT U N S (for bench_blast): user U gets its kind's mail,
# kind 8 plus-addressed
bench_source() {
	rcpt="user$2@example.com"
	[ $(($2 % 10)) -eq 8 ] && rcpt="user$2+Shopping@example.com"
	smtp-source -L -s "$4" -m "$3" -F "$t/mail/$(($2 % 10))" \
		-f sender@example.org -t "$rcpt" "127.0.0.1:$1"
}

# homes with the personal script, owned by nobody (Pigeonhole writes
# the compiled .svbin beside it)
homes() {
	u=0
	while [ $u -lt 100 ]; do
		mkdir -p "$1/example.com/user$u"
		cp "$top/bench/sieve/personal.sieve" "$1/example.com/user$u/.dovecot.sieve"
		u=$((u + 1))
	done
	chown -R nobody:nogroup "$1"
}
mkdir -p "$t/global"
cp "$top/bench/sieve/before.sieve" "$t/global/before.sieve"
/usr/bin/sievec "$t/global/before.sieve"

# the same Sieve configuration for loft and Dovecot
cat > "$t/sieve.conf" <<EOT
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve_before = $t/global/before.sieve
}
EOT
bench_users "$t"
port_off=$base port_on=$((base + 1)) port_doff=$((base + 2)) port_don=$((base + 3))
for i in off on; do
	eval "bench_loft_conf \"$t/$i\" \$port_$i \"$t/users\""
	echo "sendmail_path = /bin/true" >> "$t/$i/loft.conf"
done
for i in doff don; do
	eval "bench_dovecot_conf \"$t/$i\" \$port_$i \"$t/users\""
	cat >> "$t/$i/dovecot.conf" <<EOT
postmaster_address = postmaster@example.com
sendmail_path = /bin/true
namespace inbox {
  inbox = yes
  separator = /
}
EOT
done
cat "$t/sieve.conf" >> "$t/on/loft.conf"
cat "$t/sieve.conf" >> "$t/don/dovecot.conf"
for i in $all; do
	homes "$t/$i/vmail"
done
for i in off on; do
	"$top/build/bin/loftd" -c "$t/$i/loft.conf"
done
for i in doff don; do
	/usr/sbin/dovecot -c "$t/$i/dovecot.conf"
done
sleep 1

# the warm-up round creates the folders one session per user: Dovecot
# creating a folder's parent in two sessions at once fails one of them
for i in $all; do
	eval "bench_blast \$port_$i $n 1" >/dev/null
	eval "s_$i=0"
done
ratios=""
r=0
while [ $r -lt "$rounds" ]; do
	for i in $all; do
		eval "s=\$(bench_blast \$port_$i $n $sessions)"
		eval "s_$i=\$(echo \"\$s_$i + $s\" | bc -l)"
		eval "round_$i=$s"
	done
	ratios="$ratios $(echo "$round_off / $round_on" | bc -l)"
	r=$((r + 1))
done

# every message stored once; with Sieve, the same folders and flags
per=$(( (n / 100) * 100 ))
want=$((per * (rounds + 1)))
# stored DIR - "count mailbox/new|cur:flags" of every message under DIR
stored() {
	find "$1" -path '*/Maildir/*' \( -path '*/new/*' -o -path '*/cur/*' \) -type f |
		sed -e 's|.*/Maildir/||' -e 's|/\([^/]*\)$| \1|' \
		    -e 's| [^:]*\(:2,\)\{0,1\}| \1|' | sort | uniq -c
}
for i in $all; do
	files=$(stored "$t/$i/vmail" | awk '{ s += $1 } END { print s + 0 }')
	[ "$files" -eq "$want" ] || { echo "$i stored $files of $want" >&2; exit 1; }
done
if ! stored "$t/on/vmail" > "$t/on.stored" || ! stored "$t/don/vmail" > "$t/don.stored" ||
   ! cmp -s "$t/on.stored" "$t/don.stored"; then
	echo "loft and Dovecot filed the mail differently:" >&2
	diff "$t/on.stored" "$t/don.stored" >&2
	exit 1
fi
total=$((per * rounds))
for i in $all; do
	eval "rate_$i=\$(echo \"$total / \$s_$i\" | bc -l)"
done
median=$(printf '%s\n' $ratios | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
printf 'messages per instance: %d in %d alternating rounds (smtp-source -L -s %d, 4 KiB, 10 kinds)\n' \
	"$total" "$rounds" "$sessions"
printf 'loft, no sieve        : %8.1f msg/s\n' "$rate_off"
printf 'loft, sieve           : %8.1f msg/s  (cost %.1f %%, median of rounds %.1f %%)\n' \
	"$rate_on" "$(echo "(1 - $rate_on / $rate_off) * 100" | bc -l)" \
	"$(echo "(1 - $median) * 100" | bc -l)"
printf 'dovecot, no sieve     : %8.1f msg/s\n' "$rate_doff"
printf 'dovecot, pigeonhole   : %8.1f msg/s  (cost %.1f %%)\n' "$rate_don" \
	"$(echo "(1 - $rate_don / $rate_doff) * 100" | bc -l)"
printf 'loft / dovecot, sieve : %8.2fx\n' "$(echo "$rate_on / $rate_don" | bc -l)"
printf 'folders and flags, loft = dovecot:\n'
sed 's/^/  /' "$t/on.stored"
