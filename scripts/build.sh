#!/bin/sh
# build.sh [DIR] [cmake options...] - configure and build loft into DIR
# (default build/); executables land in DIR/bin.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S "$top" -B "$top/$dir" -DLOFT_WERROR=ON "$@" >/dev/null
cmake --build "$top/$dir" -j"$(nproc)"
