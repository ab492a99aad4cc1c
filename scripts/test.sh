#!/bin/sh
# test.sh - install dependencies, build, and run every test: the -Werror
# build runs the unit tests and what only a build without sanitizers can
# show (ctest label "release": the Debian package, the hardening flags,
# Pigeonhole's answers); each libFuzzer target then runs for a bounded time
# (LOFT_FUZZ_SECONDS, default 4, two targets at a time on two cores;
# `scripts/fuzz.sh --long` is the soak run); then the whole suite, unit and
# integration, runs under AddressSanitizer and UndefinedBehaviorSanitizer.
# LOFT_TEST_FULL=1 also runs the whole suite in the -Werror build first.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" build
if [ "${LOFT_TEST_FULL:-0}" = 1 ]; then
	(cd "$top/build" && ctest --output-on-failure -j2)
else
	(cd "$top/build" && ctest --output-on-failure -j2 -L 'unit|release')
fi
LOFT_FUZZ_SECONDS=${LOFT_FUZZ_SECONDS:-4} "$top/scripts/fuzz.sh"
"$top/scripts/build.sh" build-asan -DLOFT_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$top/build-asan" && ctest --output-on-failure -j2)
