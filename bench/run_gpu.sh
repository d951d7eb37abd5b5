#!/usr/bin/env bash
# Everything a machine with a GPU should run, in one go: configure and build a CUDA build,
# run the whole test suite, run the CUDA tests under compute-sanitizer's memcheck, run both
# GPU kernel benchmarks with JSON output, and time the whole training step against the
# PyTorch reference (when PyTorch is installed). Logs and results go to one folder.
#
#   bash bench/run_gpu.sh [OUTPUT_DIR]      (default: gpu_results)
#
# Environment: BUILD_DIR (default build-gpu), JOBS (default: all cores), MASKOFF_BUILD_TOOLS
# (default ON; the script retries with OFF when dlib is missing). Exits non-zero when a
# step failed, after running all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu_results}
BUILD_DIR=${BUILD_DIR:-build-gpu}
JOBS=${JOBS:-$(nproc)}
TOOLS=${MASKOFF_BUILD_TOOLS:-ON}
mkdir -p "$OUT"
failed=()

step() {  # step NAME COMMAND...: runs it, logs to $OUT/NAME.log, records a failure
  local name=$1
  shift
  echo "== $name: $*"
  if "$@" >"$OUT/$name.log" 2>&1; then
    echo "   ok"
  else
    echo "   FAILED (see $OUT/$name.log)"
    failed+=("$name")
  fi
}

{ nvidia-smi || true; } >"$OUT/nvidia-smi.txt" 2>&1

configure() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMASKOFF_CUDA=ON \
    -DMASKOFF_BUILD_TOOLS="$1" -DMASKOFF_TEST_GLOB='tests/*.cpp'
}
if ! configure "$TOOLS" >"$OUT/configure.log" 2>&1; then
  echo "configure with MASKOFF_BUILD_TOOLS=$TOOLS failed; retrying without the tools"
  rm -f "$BUILD_DIR/CMakeCache.txt"
  step configure configure OFF
fi
step build cmake --build "$BUILD_DIR" -j "$JOBS"

step ctest ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
# The CUDA tests once more in one process, for a readable log with each test's seed.
step cuda_tests "$BUILD_DIR/maskoff_tests" --gtest_filter='*Cuda*'

SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ -x "$SANITIZER" ]; then
  step memcheck "$SANITIZER" --tool memcheck --leak-check full --error-exitcode 1 \
    "$BUILD_DIR/maskoff_tests" --gtest_filter='*Cuda*'
else
  echo "compute-sanitizer not found" >"$OUT/memcheck.log"
  failed+=(memcheck)
fi

for b in cuda_ops_bench cuda_conv_bench; do
  step "$b" "$BUILD_DIR/$b" --benchmark_format=json --benchmark_out="$OUT/$b.json" \
    --benchmark_out_format=json
done

# The whole training step, ours and PyTorch's, side by side (bench/reference/README.md).
step train_step_timing "$BUILD_DIR/train_step_timing" --device cuda --configs fp32,tf32 --batch 1,16 \
  --profile --out "$OUT/maskoff_step.json"
if python3 -c 'import torch' 2>/dev/null; then
  step pytorch_step python3 bench/reference/pix2pix_step.py --batch 1,16 --out "$OUT/pytorch_step.json"
  step compare python3 bench/reference/compare.py "$OUT/maskoff_step.json" "$OUT/pytorch_step.json"
  cp "$OUT/compare.log" "$OUT/step_comparison.md" 2>/dev/null
else
  echo "PyTorch not importable: no reference timing" >"$OUT/pytorch_step.log"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed steps: ${failed[*]}"
  exit 1
fi
echo "all steps passed; results in $OUT"
