# pg_common.sh - sourced by the benches that keep their users in
# PostgreSQL: a private cluster (Debian's postgresql, initdb'd under a
# bench's temporary folder as the postgres user, trust authentication,
# on 127.0.0.1 and a private port) and loft configs that use it.
#   bench_pg_start DIR PORT    - cluster in DIR/pg, listening on PORT,
#                                with an empty database "mail"
#   bench_pg_stop DIR          - stops it (immediate; for a trap)
#   bench_pg_pid DIR           - the postmaster's pid
#   bench_psql SQL             - runs SQL in "mail" (errors stop the bench)
#   bench_sql_userdb CONF SQLCONF - CONF (a bench_loft_conf loft.conf)
#                                with its userdb switched to driver = sql,
#                                args = SQLCONF

bench_pgbin() {
	ls -d /usr/lib/postgresql/*/bin | tail -n 1
}

bench_pg_start() {
	bench_pg_port=$2
	mkdir -p "$1/pg"
	chown postgres "$1/pg"
	runuser -u postgres -- "$(bench_pgbin)/initdb" -D "$1/pg/data" \
		--auth=trust -U postgres >/dev/null
	runuser -u postgres -- "$(bench_pgbin)/pg_ctl" -D "$1/pg/data" -w \
		-l "$1/pg/log" \
		-o "-p $2 -k $1/pg -c listen_addresses=127.0.0.1" start >/dev/null
	bench_psql_db postgres "CREATE DATABASE mail"
}

bench_pg_stop() {
	[ -d "$1/pg/data" ] || return 0
	runuser -u postgres -- "$(bench_pgbin)/pg_ctl" -D "$1/pg/data" \
		-m immediate stop >/dev/null 2>&1 || true
}

bench_pg_pid() {
	head -n 1 "$1/pg/data/postmaster.pid"
}

bench_psql_db() {
	runuser -u postgres -- "$(bench_pgbin)/psql" -h 127.0.0.1 \
		-p "$bench_pg_port" -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" >/dev/null
}

bench_psql() {
	bench_psql_db mail "$1"
}

bench_sql_userdb() {
	sed -i "/^userdb {/,/^}/ { s|driver = passwd-file|driver = sql|; s|args = .*|args = $2| }" \
		"$1"
}
