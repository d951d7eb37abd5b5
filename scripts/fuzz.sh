#!/usr/bin/env bash
# Runs the libFuzzer targets (one per parser, fuzz/*_fuzz.cpp), or lists them.
#
#   bash scripts/fuzz.sh --list            the targets
#   bash scripts/fuzz.sh SECONDS           every target for SECONDS each
#   bash scripts/fuzz.sh SECONDS TARGET... only those
#
# The first run builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined). Each
# target starts from its committed seeds (fuzz/corpus/TARGET, read only) and the inputs it
# found before (build-fuzz/corpus/TARGET). Limits per input: 10 s, 2 GB of memory in all and
# 1 GB in one allocation, so a header that claims a huge size must be refused, not obeyed.
# A finding is saved as build-fuzz/findings/TARGET/crash-*: fix the bug, then copy the file
# into fuzz/regressions/TARGET/, where ctest replays it in every build from then on.
#
# Environment: FUZZ_BUILD_DIR (build-fuzz), JOBS (all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}

targets=()
for f in fuzz/*_fuzz.cpp; do
  t=$(basename "$f" _fuzz.cpp)
  targets+=("$t")
done

if [ "${1:-}" = "--list" ]; then
  for t in "${targets[@]}"; do
    printf '%-12s %s\n' "$t" "$(head -1 "fuzz/${t}_fuzz.cpp" | sed 's|^// ||')"
  done
  exit 0
fi
if ! [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  echo "usage: bash scripts/fuzz.sh SECONDS [TARGET...] | --list" >&2
  exit 2
fi
seconds=$1
shift
[ $# -gt 0 ] && targets=("$@")
for t in "${targets[@]}"; do
  [ -f "fuzz/${t}_fuzz.cpp" ] || { echo "fuzz.sh: no target '$t' (see --list)" >&2; exit 2; }
done

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMASKOFF_FUZZ=ON -DMASKOFF_SANITIZE=address,undefined -DMASKOFF_CUDA=OFF \
    -DMASKOFF_BUILD_TESTS=OFF -DMASKOFF_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]/%/_fuzz}"

summary=()
status=0
for t in "${targets[@]}"; do
  corpus="$BUILD_DIR/corpus/$t" findings="$BUILD_DIR/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$BUILD_DIR/fuzz-$t.log"
  echo "== $t: $seconds s"
  if "$BUILD_DIR/${t}_fuzz" "$corpus" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix="$findings/" -print_final_stats=1 \
      >"$log" 2>&1; then
    result=clean
  else
    result="FINDING (see $log and $findings)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  summary+=("$(printf '%-12s %10s runs in %5s s  %s' "$t" "$runs" "$seconds" "$result")")
done
echo
printf '%s\n' "${summary[@]}"
exit $status
