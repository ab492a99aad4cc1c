#!/bin/sh
# deps.sh - install what building and testing loft needs on Debian 12,
# skipping the apt run when everything is already there.
set -eu
PACKAGES="build-essential cmake pkg-config clang libmicrohttpd-dev libjson-c-dev
libprotobuf-c-dev protobuf-c-compiler check python3 python3-pytest"
if [ "${1:-}" = "--bench" ]; then
	PACKAGES="$PACKAGES dovecot-core bc"
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
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
