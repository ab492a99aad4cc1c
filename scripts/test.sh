#!/bin/sh
# test.sh - install dependencies, build, and run every test twice: a
# normal -Werror build, then the whole suite again under AddressSanitizer
# and UndefinedBehaviorSanitizer; in between, each libFuzzer target runs for
# a bounded time (LOFT_FUZZ_SECONDS, default 4, two targets at a time on
# two cores: about 45 s for 20 targets; `scripts/fuzz.sh --long` is the soak
# run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" build
(cd "$top/build" && ctest --output-on-failure -j2)
LOFT_FUZZ_SECONDS=${LOFT_FUZZ_SECONDS:-4} "$top/scripts/fuzz.sh"
"$top/scripts/build.sh" build-asan -DLOFT_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$top/build-asan" && ctest --output-on-failure -j2)
