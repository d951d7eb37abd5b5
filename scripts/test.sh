#!/usr/bin/env bash
# The test command. Three passes:
#  1. the default build (the CPU engine, and the CUDA backend compiled by nvcc when the
#     toolkit is present), configured once, built, and the whole suite run with ctest;
#  2. the whole suite again under AddressSanitizer and UBSan (clang), in the simulation build
#     (-DMASKOFF_CUDA=SIM): every Cuda test runs its kernels, cuBLAS and cuDNN calls on the
#     CPU, and none may skip (MASKOFF_EXPECT_GPU=1 turns a skip into a failure);
#     scripts/sanitizers.sh address does this, docs/cuda_sim.md says what the simulation runs;
#  3. the lent GPU machine, rehearsed: bench/gpu_check.sh's self-test (its caps, deadline and
#     summary, on fake steps), then scripts/gpu_rehearsal.sh, which builds the four GPU
#     programs from .gpu_kit alone with the Debian packages and the toolkit's cuDNN hidden.
#     It skips, saying why, only where this machine cannot rehearse (not root, no mount
#     namespaces, no CUDA toolkit, no PyPI for the cuDNN wheel).
# Tests that need a GPU skip with a reason in pass 1 when none is present; tests that use
# the data in ../shared skip with a message when it is absent.
#
# Before pass 1, every tracked C++ and CUDA file must be formatted as .clang-format says.
#
# Environment: BUILD_DIR (build), SIM_BUILD_DIR (build-sim), JOBS (all cores),
# MASKOFF_TEST_FORMAT=0 skips the format check, MASKOFF_TEST_SIM=0 skips pass 2,
# MASKOFF_TEST_REHEARSAL=0 skips pass 3.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SIM_BUILD_DIR=${SIM_BUILD_DIR:-build-sim}
JOBS=${JOBS:-$(nproc)}

# Formatting first: every tracked C++ and CUDA file as .clang-format says (clang-format 14).
if [ "${MASKOFF_TEST_FORMAT:-1}" != "0" ] && git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  command -v clang-format > /dev/null || { echo "clang-format is missing (bash scripts/install_deps.sh)"; exit 1; }
  git ls-files -z '*.h' '*.cpp' '*.cu' '*.cuh' | xargs -0 clang-format --dry-run --Werror
  echo "== formatting: clean"
fi

[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"

if [ "${MASKOFF_TEST_SIM:-1}" != "0" ]; then
  echo "== the whole suite under AddressSanitizer and UBSan, the CUDA tests in the simulation build"
  SAN_BUILD_DIR="$SIM_BUILD_DIR" JOBS="$JOBS" bash scripts/sanitizers.sh address
fi

if [ "${MASKOFF_TEST_REHEARSAL:-1}" != "0" ]; then
  echo "== the lent GPU machine, rehearsed: gpu_check.sh's self-test, then the GPU build from .gpu_kit"
  self_test_out=$(mktemp -d)
  bash bench/gpu_check.sh --self-test "$self_test_out"
  rm -rf "$self_test_out"
  rc=0
  bash scripts/gpu_rehearsal.sh || rc=$?
  if [ "$rc" -eq 77 ]; then
    echo "== rehearsal skipped: this machine cannot run it (the reason is above)"
  elif [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
fi
