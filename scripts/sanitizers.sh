#!/usr/bin/env bash
# Builds everything with a sanitizer (clang) and runs the whole suite under it.
#
#   bash scripts/sanitizers.sh address   # AddressSanitizer + UBSan; the CUDA backend in the
#                                        # simulation build, so its tests run too (CI runs this)
#   bash scripts/sanitizers.sh thread    # ThreadSanitizer: the dataset builder's workers, the
#                                        # batch prefetch thread and the OpenMP kernels
#
# Under ThreadSanitizer the OpenMP runtime runs with libarcher, which tells the sanitizer
# about OpenMP's barriers, and scripts/tsan.supp silences the runtime's own allocator (the
# one place it needs to); two OpenMP threads make every parallel loop run in parallel. A
# report makes the program exit non-zero, so its test fails, the tools run by tests included.
#
# Environment: SAN_BUILD_DIR (build-asan or build-tsan), JOBS (all cores), and ctest
# arguments after the first: bash scripts/sanitizers.sh thread -R TrainRun
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
shift || true
JOBS=${JOBS:-$(nproc)}
case "$kind" in
  address)
    dir=${SAN_BUILD_DIR:-build-asan}
    flags=(-DMASKOFF_SANITIZE=address,undefined -DMASKOFF_CUDA=SIM)
    ;;
  thread)
    dir=${SAN_BUILD_DIR:-build-tsan}
    flags=(-DMASKOFF_SANITIZE=thread -DMASKOFF_CUDA=OFF)
    archer=$(clang++ -print-file-name=libarcher.so)
    [ -f "$archer" ] || archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | head -1)
    [ -f "$archer" ] || { echo "sanitizers.sh: libarcher.so not found (Debian: libomp-dev)" >&2; exit 2; }
    export OMP_NUM_THREADS=2 OMP_TOOL_LIBRARIES="$archer"
    export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
    ;;
  *)
    echo "usage: bash scripts/sanitizers.sh address|thread [ctest arguments...]" >&2
    exit 2
    ;;
esac
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMASKOFF_BUILD_TOOLS=ON \
  -DMASKOFF_BUILD_TESTS=ON -DMASKOFF_BUILD_BENCH=OFF \
  "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$JOBS"
MASKOFF_EXPECT_GPU=$([ "$kind" = address ] && echo 1 || echo 0) \
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 1800 "$@"
