# lmtp_common.sh - sourced by the LMTP benches: the users file, a loft
# config on an instance folder, and the smtp-source load.
#   bench_users DIR            - DIR/users: user0..user99@example.com
#   bench_loft_conf DIR PORT USERS - DIR/loft.conf: loftd with LMTP on PORT,
#                                mail under DIR/vmail as nobody, fsync optimized
#   bench_dovecot_conf DIR PORT USERS - DIR/dovecot.conf: Dovecot's LMTP
#                                the same way (run/, state/, vmail/ in DIR)
#   bench_blast PORT N S [PORT2] - N messages to the 100 users over PORT
#                                (user50..user99 over PORT2 when given), S
#                                sessions per smtp-source; prints seconds
#   bench_source PORT U N S    - the smtp-source of one user of bench_blast
#                                (4 KiB messages); a bench may redefine it
#   bench_cpu PID...           - for each PID, on one line from one pass
#                                over /proc: the CPU seconds (user + system)
#                                its process tree has used so far, each
#                                live process's own time plus what its
#                                reaped children used (cutime, cstime), so
#                                workers that came and went count too

bench_users() {
	i=0
	: > "$1/users"
	while [ $i -lt 100 ]; do
		echo "user$i@example.com:{PLAIN}x::::::" >> "$1/users"
		i=$((i + 1))
	done
}

# bench_mail_conf DIR PORT USERS FILE - FILE with what the loft and Dovecot
# configs share: mail as nobody under DIR/vmail, fsync optimized, the
# users, the listener
bench_mail_conf() {
	mkdir -p "$1/vmail" "$1/run"
	chown nobody:nogroup "$1/vmail"
	cat > "$4" <<EOT
base_dir = $1/run
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
mail_home = $1/vmail/%d/%n
mail_location = maildir:~/Maildir
mail_fsync = optimized
userdb {
  driver = passwd-file
  args = $3
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $2
  }
}
EOT
}

bench_loft_conf() {
	bench_mail_conf "$1" "$2" "$3" "$1/loft.conf"
	cat >> "$1/loft.conf" <<EOT
log_path = $1/loft.log
lmtp_user_concurrency_limit = 0
default_internal_user = nobody
EOT
}

bench_dovecot_conf() {
	mkdir -p "$1/state"
	bench_mail_conf "$1" "$2" "$3" "$1/dovecot.conf"
	cat >> "$1/dovecot.conf" <<EOT
state_dir = $1/state
log_path = $1/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_internal_user = root
default_internal_group = root
default_login_user = root
first_valid_gid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $3
}
EOT
}

bench_source() {
	smtp-source -L -s "$4" -m "$3" -l 4096 -f sender@example.org \
		-t "user$2@example.com" "127.0.0.1:$1"
}

bench_blast() {
	start=$(date +%s.%N)
	per=$(($2 / 100))
	u=0
	while [ $u -lt 100 ]; do
		port=$1
		[ $u -ge 50 ] && [ -n "${4:-}" ] && port=$4
		bench_source "$port" "$u" "$per" "$3" &
		u=$((u + 1))
		if [ $((u % 10)) -eq 0 ]; then wait; fi
	done
	wait
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

bench_cpu() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" \
		-v hz="$(getconf CLK_TCK)" '
	{
		pid = $1
		sub(/^.*\) /, "")	# the command may hold spaces and parens
		parent[pid] = $2
		ticks[pid] = $12 + $13 + $14 + $15
	}
	END {
		k = split(roots, root, " ")
		for (r = 1; r <= k; r++)
			is_root[root[r]] = r
		for (p in parent) {
			q = p
			while (!(q in is_root) && (q in parent) && parent[q] != q)
				q = parent[q]
			if (q in is_root)
				sum[is_root[q]] += ticks[p]
		}
		for (r = 1; r <= k; r++)
			printf "%s%.2f", (r > 1 ? " " : ""), sum[r] / hz
		printf "\n"
	}'
}
