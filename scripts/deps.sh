#!/bin/sh
# deps.sh - install what building and testing loft needs on Debian 12,
# skipping the apt run when everything is already there.
set -eu
# one group per line, so that additions merge cleanly
PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev"
PACKAGES="$PACKAGES libmicrohttpd-dev libjson-c-dev libsqlite3-dev"
PACKAGES="$PACKAGES libprotobuf-c-dev protobuf-c-compiler check"
PACKAGES="$PACKAGES python3 python3-pytest python3-yaml postfix swaks prometheus"
# the sql userdb, and the PostgreSQL server its tests start
PACKAGES="$PACKAGES libpq-dev postgresql"
# sd_notify, systemd-analyze, the man page checks, the syscall filter test
PACKAGES="$PACKAGES libsystemd-dev systemd man-db groff-base strace"
# dovecot-core: test_lda_headers.py compares loft-lda with dovecot-lda,
# test_auth.py runs a private Dovecot for its auth-userdb socket, doveadm
# checks loft's maildirsize (test_quota.py); dovecot-lmtpd: a Dovecot LMTP
# backend behind loft's proxy (test_lmtp_proxy.py)
PACKAGES="$PACKAGES dovecot-core dovecot-lmtpd"
# the package test: cpack, lintian and what the maintainer scripts use
PACKAGES="$PACKAGES dpkg-dev lintian adduser logrotate"
# Pigeonhole's sieve-test for the Sieve conformance test (run with a
# private config; no dovecot service is started)
PACKAGES="$PACKAGES dovecot-sieve"
# TLS: OpenSSL, and swaks' TLS (test_tls.py)
PACKAGES="$PACKAGES libssl-dev openssl libio-socket-ssl-perl"
if [ "${1:-}" = "--bench" ]; then
	# bc for the arithmetic, dovecot-pgsql for bench/proxy.sh's Dovecot proxy
	PACKAGES="$PACKAGES bc dovecot-pgsql"
fi
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# postfix is installed for its smtp-source test client only: no
	# configuration, and its service is never started; dovecot-core
	# (doveadm, and a Dovecot auth-userdb socket the tests start
	# privately) likewise
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	made_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=yes
	fi
	apt-get update -qq
	# shellcheck disable=SC2086
	status=0
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		status=$?
	if [ $made_policy = yes ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	exit $status
fi
