#!/bin/sh
# bench/journal.sh [N] - the disk journal (loft-stats' state_dir/journal.db):
# N delivery outcomes (default 1,000,000) through the real journal modules
# into a fresh SQLite file, the ingest rate (goal: well above loft's LMTP
# ~2,500 msg/s), then the time of queries by msgid, user mask, user,
# sender, session, result and time range on the full file (goal: under
# 50 ms each). Builds bench/journal_bench (bench/journal_bench.c).
set -eu
n=${1:-1000000}
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
[ -f "$top/build/CMakeCache.txt" ] || "$top/scripts/build.sh" build
cmake --build "$top/build" --target journal_bench >/dev/null
t=$(mktemp -d /var/tmp/loft-journal-bench.XXXXXX)
trap 'rm -rf "$t"' EXIT
"$top/build/bench/journal_bench" "$t" "$n"
