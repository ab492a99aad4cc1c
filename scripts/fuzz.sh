#!/bin/sh
# fuzz.sh - build loft's libFuzzer targets (tests/fuzz/fuzz_*.c) with clang,
# ASan and UBSan into build-fuzz, then run each for LOFT_FUZZ_SECONDS
# (default 10) seconds starting from its seed corpus in
# tests/fuzz/corpus/<target>/ (and its dictionary tests/fuzz/<target>.dict
# when there is one). Leak detection is on. Exits non-zero when any
# target crashes, leaks, trips a sanitizer or times out; the reproducer is
# left in build-fuzz/artifacts/. New corpus entries go to
# build-fuzz/corpus/<target>/, never into the committed seeds, and are kept
# between runs: each run starts from what the last ones found.
#
#   scripts/fuzz.sh [--long [SECONDS]] [TARGET...]
#
# --long runs each target for SECONDS (default 600) instead: the soak run
# that grows the working corpus. TARGET (fuzz_proxy, ...) limits the run to
# those targets. Targets run as many at a time as there are cores
# (LOFT_FUZZ_JOBS). Each target's summary line gives its executions and time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
seconds=${LOFT_FUZZ_SECONDS:-10}

if [ "${1:-}" = "--long" ]; then
	shift
	seconds=600
	case "${1:-}" in
	''|*[!0-9]*) ;;
	*) seconds=$1; shift ;;
	esac
fi

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz.sh: clang not found (run scripts/deps.sh)" >&2
	exit 1
fi

targets=""
for src in "$root"/tests/fuzz/fuzz_*.c; do
	targets="$targets $(basename "$src" .c)"
done
if [ $# -gt 0 ]; then
	for t in "$@"; do
		if [ ! -f "$root/tests/fuzz/$t.c" ]; then
			echo "fuzz.sh: no such target: $t" >&2
			exit 64
		fi
	done
	targets="$*"
fi

CC=clang cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang \
	-DLOFT_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" --target $targets -j"$(nproc)"

export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
mkdir -p "$build/artifacts"
# fuzz_one TARGET - one target for $seconds; its log in $build/TARGET.log,
# its verdict in $build/TARGET.status
fuzz_one() {
	t=$1
	work="$build/corpus/$t"
	mkdir -p "$work"
	# a target's dictionary, when it has one, sits beside its source
	dict=""
	[ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
	# shellcheck disable=SC2086
	if "$build/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 $dict \
		-detect_leaks=1 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" \
		"$work" "$root/tests/fuzz/corpus/$t" > "$build/$t.log" 2>&1; then
		echo ok > "$build/$t.status"
	else
		echo failed > "$build/$t.status"
	fi
}
# as many targets at once as there are cores (LOFT_FUZZ_JOBS)
jobs=${LOFT_FUZZ_JOBS:-$(nproc)}
running=0
for t in $targets; do
	echo "fuzz.sh: $t for ${seconds}s"
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
# libFuzzer's progress stays in the logs; the summary and any failure
# are printed
failed=""
for t in $targets; do
	work="$build/corpus/$t"
	if [ "$(cat "$build/$t.status" 2>/dev/null)" = ok ]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log")
		rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$build/$t.log")
		echo "fuzz.sh: $t: ${execs:-?} executions in ${seconds}s," \
			"peak RSS ${rss:-?} MB, corpus $(ls "$work" | wc -l) entries"
	else
		tail -n 60 "$build/$t.log"
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz.sh: FAILED:$failed (see $build/artifacts/)" >&2
	exit 1
fi
echo "fuzz.sh: all fuzz targets ran clean:$targets"
