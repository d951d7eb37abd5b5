#!/usr/bin/env bash
# The whole GPU check in one command, made for a lent machine (one GPU, the CUDA toolkit, a
# compiler, CMake, Python with PyTorch and its nvidia-* wheels, but no Debian packages and
# no network) and a short loan: it builds the four GPU programs from the kit that
# scripts/gpu_kit.sh made (.gpu_kit, carried along with the working tree), runs the CUDA
# tests with "no GPU" counted as a failure, compute-sanitizer's memcheck and racecheck,
# both kernel benchmarks, and the training step beside PyTorch's.
#
#   bash bench/gpu_check.sh [--build-only] [OUT_DIR]      (default OUT_DIR: gpu_results)
#   bash bench/gpu_check.sh --self-test [OUT_DIR]         (the step machinery, no GPU needed)
#
# Every step has a time cap and the whole run a deadline (GPU_CHECK_DEADLINE, 480 s): a step
# past its cap, or past the deadline, is stopped and reported, and the steps after it still
# run (those that need what it made are skipped, saying why). OUT_DIR receives two files:
# summary.md (each step's status and time, then the key numbers laid out as the tables of
# bench/RESULTS.md) and results.tgz (every log and JSON result). The summary is printed at
# the end too. Exits 0 when no step failed or timed out.
#
# Environment: GPU_CHECK_DEADLINE (480), BUILD_DIR (build-gpu), JOBS (all cores),
# MASKOFF_KIT (.gpu_kit when it exists), CUDNN_ROOT (else CMake asks python3 where the
# nvidia-cudnn wheel is), CUDA_ARCHS (90), STEP_WARMUP (5) and STEP_STEPS (25) for the
# training-step timings, SANITIZER (compute-sanitizer's path), GPU_CHECK_CAP_<step> (that
# step's cap in seconds).

# The steps' functions run through `step` (in a child bash), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD_ONLY=0
SELF_TEST=0
OUT=""
for a in "$@"; do
  case "$a" in
    --build-only) BUILD_ONLY=1 ;;
    --self-test) SELF_TEST=1 ;;
    -h | --help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu_check: unknown option $a (see --help)" >&2; exit 2 ;;
    *) OUT=$a ;;
  esac
done
OUT=${OUT:-gpu_results}

# ---- the step machinery ----------------------------------------------------------------
now_us() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/./}"; else date +%s%6N; fi; }
START_US=$(now_us)
DEADLINE=${GPU_CHECK_DEADLINE:-480}
RESERVE=8   # seconds kept back for the summary and the archive
MIN_STEP=3  # a step with less time than this left is not started
export SKIP_RC=200  # a step's own "skipped" (its reason is the last line of its log)

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 1
LOGS=$SCRATCH/results
mkdir -p "$LOGS" "$OUT" || exit 1

names=() statuses=() secs=() caps=()
elapsed_s() { echo $((($(now_us) - START_US) / 1000000)); }
record() {  # record NAME CAP STATUS SECONDS
  names+=("$1") caps+=("$2") statuses+=("$3") secs+=("$4")
  printf '   %-18s %s (%ss)\n' "$1" "$3" "$4"
}
status_of() {  # status_of NAME: the recorded status of a step ("" when it has not run)
  local i
  for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "${statuses[$i]}"; return; }; done
}
ok() { [ "$(status_of "$1")" = ok ]; }

# step NAME CAP COMMAND...: runs COMMAND (a program, or a function of this script) in its
# own process group with the time limit min(CAP, time left before the deadline), its output
# in $LOGS/NAME.log. Returns 0 when it succeeded.
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((DEADLINE - RESERVE - $(elapsed_s)))
  local limit=$((cap < left ? cap : left))
  if [ "$left" -lt "$MIN_STEP" ]; then
    record "$name" "$cap" "skipped (the ${DEADLINE} s deadline is reached)" 0
    return 1
  fi
  echo "== $name (cap ${cap} s$([ "$limit" -lt "$cap" ] && echo ", ${limit} s left")): $*"
  local t0 rc status
  t0=$(now_us)
  if declare -F "$1" >/dev/null; then
    timeout --kill-after=5 "$limit" bash -c "$(declare -f "$1"); $(printf '%q ' "$@")" \
      </dev/null >"$LOGS/$name.log" 2>&1
  else
    timeout --kill-after=5 "$limit" "$@" </dev/null >"$LOGS/$name.log" 2>&1
  fi
  rc=$?
  local us=$(($(now_us) - t0)) s
  s=$(awk -v d="$us" 'BEGIN {printf "%.1f", d / 1e6}')
  if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ "$us" -ge $((limit * 1000000 - 500000)) ]; then
    status="TIMEOUT (stopped at ${limit} s)"
    echo "[gpu_check: stopped at ${limit} s]" >>"$LOGS/$name.log"
  elif [ "$rc" -eq 0 ]; then
    status=ok
  elif [ "$rc" -eq "$SKIP_RC" ]; then
    status="skipped ($(tail -n 1 "$LOGS/$name.log" | cut -c1-100))"
  else
    status="FAILED (exit $rc)"
  fi
  record "$name" "$cap" "$status" "$s"
  [ "$rc" -eq 0 ]
}
skip() { record "$1" "$2" "skipped ($3)" 0; }

# The plan: each step's cap in seconds, in the order the steps run (most valuable first).
# Their sum plus the reserve stays within the deadline.
PLAN=(setup:10 configure:30 build:120 tests:40 sanitizer_probe:15 memcheck:50 racecheck:25
  cuda_ops_bench:25 cuda_conv_bench:35 train_step_timing:60 pytorch_step:50 compare:5)
# GPU_CHECK_CAP_<step>=SECONDS changes one cap (the rehearsal on two cores gives the build
# more time than the lent machine's sixteen need).
for i in "${!PLAN[@]}"; do
  override=GPU_CHECK_CAP_${PLAN[$i]%%:*}
  [ -n "${!override:-}" ] && PLAN[i]=${PLAN[$i]%%:*}:${!override}
done
if [ "$SELF_TEST" = 1 ]; then
  DEADLINE=7 RESERVE=0
  PLAN=(quick:5 unusable:5 broken:5 slow:2 cut:10 late:5)
fi
cap() { local p; for p in "${PLAN[@]}"; do [ "${p%%:*}" = "$1" ] && echo "${p#*:}"; done; }
cap_sum=0
for p in "${PLAN[@]}"; do cap_sum=$((cap_sum + ${p#*:})); done

# ---- the summary -----------------------------------------------------------------------
write_summary() {
  local f=$LOGS/summary.md i failed=0
  {
    echo "# GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    if [ -s "$SCRATCH/device.txt" ]; then cat "$SCRATCH/device.txt"; else echo "GPU: none found"; fi
    echo "Total $(elapsed_s) s of a ${DEADLINE} s deadline; the caps sum to ${cap_sum} s."
    echo
    echo "| step | cap s | status | seconds |"
    echo "| --- | ---: | --- | ---: |"
    for i in "${!names[@]}"; do
      echo "| ${names[$i]} | ${caps[$i]} | ${statuses[$i]} | ${secs[$i]} |"
    done
    echo
  } >"$f"
  for i in "${!statuses[@]}"; do
    case ${statuses[$i]} in FAILED* | TIMEOUT*) failed=1 ;; esac
  done
  if [ "$SELF_TEST" = 0 ] && command -v python3 >/dev/null; then
    timeout 20 python3 - "$LOGS" >>"$f" 2>"$LOGS/summary_errors.log" <<'PY' ||
import json, os, re, sys

logs = sys.argv[1]


def read(name):
    try:
        with open(os.path.join(logs, name), errors="replace") as f:
            return f.read()
    except OSError:
        return None


def load(name):
    try:
        with open(os.path.join(logs, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def gtest_counts(text):
    if not re.search(r"\[=+\] \d+ tests? from", text):
        return "no tests ran"
    get = lambda pat: (re.findall(pat, text) or ["0"])[-1]
    ran = get(r"\[=+\] (\d+) tests? from")
    passed, skipped = get(r"\[  PASSED  \] (\d+) test"), get(r"\[  SKIPPED \] (\d+) test")
    failed = get(r"\[  FAILED  \] (\d+) tests?, listed below")
    out = f"{ran} ran: {passed} passed, {failed} failed, {skipped} skipped"
    names = sorted(set(re.findall(r"^\[  FAILED  \] ([\w/]+\.[\w/]+)", text, re.M)))
    return out + ("; failed: " + ", ".join(names[:20]) if names else "")


lines = []
for name, what in (("tests", "CUDA tests (MASKOFF_EXPECT_GPU=1)"), ("memcheck", "memcheck (exact allocations)"),
                   ("racecheck", "racecheck (reductions)")):
    text = read(name + ".log")
    if text is None or "[==========]" not in text and "SUMMARY:" not in text:
        continue  # skipped, or stopped before a test ran: the step table says which
    line = f"- {what}: {gtest_counts(text)}"
    summ = re.findall(r"=+ (ERROR SUMMARY: .*|RACECHECK SUMMARY: .*)", text)
    if summ:
        line += f"; {summ[-1].strip()}"
    lines.append(line)
if lines:
    print("## Tests and sanitizers\n\n" + "\n".join(lines) + "\n")

floors = re.search(r"^(.*)\nfloors: D2D copy (\S+) GB/s, SGEMM (\S+) TFLOP/s \(FP32\), (\S+) TFLOP/s",
                   read("cuda_ops_bench.log") or read("cuda_conv_bench.log") or "", re.M)
if floors:
    print("## Device\n\n| device | copy bandwidth | SGEMM FP32 | SGEMM TF32 |\n| --- | ---: | ---: | ---: |")
    print(f"| {floors.group(1).strip()} | {floors.group(2)} GB/s | {floors.group(3)} TFLOP/s "
          f"| {floors.group(4)} TFLOP/s |\n")


def runs(doc):
    return [b for b in (doc or {}).get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]


ops = load("cuda_ops_bench.json")
if ops:
    print("## Kernels (`cuda_ops_bench`)\n\n| kernel | shape | time (us) | GB/s | of floor |\n"
          "| --- | --- | ---: | ---: | ---: |")
    for b in runs(ops):
        parts = b["name"].replace("/manual_time", "").split("/")
        if b.get("error_occurred"):
            print(f"| {parts[0][3:]} | {'x'.join(parts[1:])} | {b.get('error_message', 'error')} | | |")
            continue
        gbs = b.get("bytes_per_second", 0) / 1e9
        print(f"| {parts[0][3:]} | {'x'.join(parts[1:])} | {b['real_time']:.1f} | {gbs:.0f} "
              f"| {b.get('of_floor', 0):.2f} |")
    print()

conv = load("cuda_conv_bench.json")
if conv:
    table = {}
    for b in runs(conv):
        m = re.match(r"BM_Cuda(ConvTranspose2d|Conv2d)(Forward|BackwardData|BackwardWeight)(TF32)?/(\w+)", b["name"])
        if not m:
            continue
        cell = (b.get("error_message", "error") if b.get("error_occurred") else
                f"{b.get('FLOP/s', 0) / 1e12:.1f} ({b.get('of_floor', 0):.2f})")
        table.setdefault(bool(m.group(3)), {}).setdefault(m.group(4), {})[m.group(2)] = cell
    for tf32, rows in sorted(table.items()):
        print(f"## Convolutions (`cuda_conv_bench`, {'TF32' if tf32 else 'FP32'}; TFLOP/s (of floor))\n")
        print("| layer | forward | backward-data | backward-filter |\n| --- | ---: | ---: | ---: |")
        for layer, c in rows.items():
            print(f"| {layer} | {c.get('Forward', '')} | {c.get('BackwardData', '')} | {c.get('BackwardWeight', '')} |")
        print()

cmp = read("step_comparison.md")
if cmp:
    print("## The training step, side by side with PyTorch\n")
    print(cmp)
else:
    for name in ("maskoff_step.json", "pytorch_step.json"):
        doc = load(name)
        if doc:
            print(f"## {name}\n")
            for r in doc.get("results", []):
                m = r.get("ms_per_step", {}).get("median")
                print(f"- {r.get('config')} batch {r.get('batch')}: "
                      + (f"{m:.2f} ms/step" if m is not None else r.get("error", "no result")))
            print()
PY
      echo "(the key numbers could not be read: see summary_errors.log in results.tgz)" >>"$f"
  fi
  cp "$f" "$OUT/summary.md"
  tar -czf "$OUT/results.tgz" -C "$SCRATCH" results 2>/dev/null ||
    echo "gpu_check: could not write $OUT/results.tgz" >&2
  echo
  echo "======== summary ($OUT/summary.md; logs and JSON in $OUT/results.tgz)"
  awk '/^\| step/ {t = 1} t && /^$/ {exit} {print}' "$f"
  echo
  awk '/^## Tests/ {t = 1; print; next} t && /^## / {exit} t' "$f"
  return "$failed"
}

finish() {
  write_summary
  local rc=$?
  rm -rf "$SCRATCH"
  exit "$rc"
}

echo "gpu_check: steps and caps (s): ${PLAN[*]}; sum ${cap_sum} s, deadline ${DEADLINE} s" \
  "(${RESERVE} s kept for the summary)"
[ $((cap_sum + RESERVE)) -le "$DEADLINE" ] ||
  echo "gpu_check: the caps sum past the deadline; the last steps will be cut short"

# ---- the self-test: the machinery on fake steps ------------------------------------------
if [ "$SELF_TEST" = 1 ]; then
  broken() { echo "this step fails"; return 3; }
  unusable() { echo "no such tool here"; return "$SKIP_RC"; }
  step quick "$(cap quick)" true
  step unusable "$(cap unusable)" unusable
  step broken "$(cap broken)" broken
  step slow "$(cap slow)" sleep 30  # stopped by its cap
  # stopped by the deadline, 5 s before its cap, with the child it started
  step cut "$(cap cut)" bash -c 'sleep 30.017 & wait'
  step late "$(cap late)" true      # not started: no time left
  write_summary >/dev/null
  problems=()
  want() { grep -qF -- "$2" "$LOGS/summary.md" || problems+=("$1: no '$2' in the summary"); }
  want ok '| quick | 5 | ok |'
  want skip '| unusable | 5 | skipped (no such tool here) |'
  want failure '| broken | 5 | FAILED (exit 3) |'
  want cap '| slow | 2 | TIMEOUT (stopped at 2 s) |'
  want deadline '| cut | 10 | TIMEOUT (stopped at 5 s) |'
  want deadline '| late | 5 | skipped (the 7 s deadline is reached) |'
  sleep 1
  ! pgrep -f 'sleep 30.017' >/dev/null || problems+=("a stopped step left its child running")
  files=$(find "$OUT" -maxdepth 1 -type f | wc -l)
  [ "$files" -le 3 ] || problems+=("$OUT holds $files files, more than 3")
  [ "$(elapsed_s)" -le 10 ] || problems+=("the slow steps were not stopped in time ($(elapsed_s) s)")
  rm -rf "$SCRATCH"
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'gpu_check self-test FAILED: %s\n' "${problems[@]}" >&2
    exit 1
  fi
  echo "gpu_check self-test: ok (ok, skip, failure, timeouts by cap and by deadline reported; $files files)"
  exit 0
fi

# ---- setup: the toolchain and libraries --------------------------------------------------
BUILD_DIR=${BUILD_DIR:-build-gpu}
JOBS=${JOBS:-$(nproc)}
CUDA_ARCHS=${CUDA_ARCHS:-90}
NVCC=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
KIT=${MASKOFF_KIT:-}
[ -z "$KIT" ] && [ -f .gpu_kit/KIT.txt ] && KIT=$PWD/.gpu_kit
SANITIZER=${SANITIZER:-$(command -v compute-sanitizer || echo "$(dirname "$NVCC")/compute-sanitizer")}
[ -x "$SANITIZER" ] || SANITIZER=""
GENERATOR="Unix Makefiles"
command -v ninja >/dev/null && GENERATOR=Ninja
# CMake 4 refuses package files that ask for policies older than 3.5; the kit's ask for 2.x
# minimums with newer maxima, which this lets through on any CMake.
export CMAKE_POLICY_VERSION_MINIMUM=3.5
# What the steps' functions read (they run in a child bash).
export BUILD_DIR LOGS SCRATCH NVCC KIT SANITIZER JOBS GENERATOR CUDA_ARCHS

setup() {
  echo "repository: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git status --porcelain 2>/dev/null | wc -l) changed files"
  echo "cores: $(nproc); jobs: $JOBS; build folder: $BUILD_DIR"
  echo "kit: ${KIT:-none (the system packages)}"
  [ -n "$KIT" ] && head -n 8 "$KIT/KIT.txt"
  echo "nvcc: $NVCC"; "$NVCC" --version | tail -n 2
  echo "cmake: $(cmake --version | head -n 1); generator: $GENERATOR"
  echo "c++: $(c++ --version | head -n 1)"
  echo "compute-sanitizer: ${SANITIZER:-not found}"
  echo "CUDNN_ROOT: ${CUDNN_ROOT:-unset (the toolkit, else nvidia.cudnn as python3 sees it)}"
  timeout 10 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader |
    sed 's/^/GPU: /' | tee "$SCRATCH/device.txt"
  timeout 10 nvidia-smi
  echo "python3: $(python3 --version 2>&1)"
  timeout 30 python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
"cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.is_available())' 2>&1 | tail -n 1
  [ -n "$KIT" ] || echo "no .gpu_kit here: on a machine without the Debian packages, run" \
    "scripts/gpu_kit.sh where they are and carry .gpu_kit along"
  command -v cmake >/dev/null && [ -x "$NVCC" ]
}

configure() {
  local kit_arg=()
  [ -n "$KIT" ] && kit_arg=(-DMASKOFF_KIT="$KIT")
  # A build folder made by another generator is started over rather than refused.
  if [ -f "$BUILD_DIR/CMakeCache.txt" ] &&
    ! grep -qx "CMAKE_GENERATOR:INTERNAL=$GENERATOR" "$BUILD_DIR/CMakeCache.txt"; then
    rm -rf "$BUILD_DIR"
  fi
  cmake -S . -B "$BUILD_DIR" -G "$GENERATOR" -DCMAKE_BUILD_TYPE=Release -DMASKOFF_CUDA=ON \
    -DMASKOFF_BUILD_TOOLS=OFF -DMASKOFF_BUILD_TESTS=ON -DMASKOFF_BUILD_BENCH=ON \
    -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHS" \
    -DMASKOFF_TEST_GLOB='tests/*.cpp' "${kit_arg[@]}" || return 1
  grep -E '^(CUDNN_INCLUDE_DIR|CUDNN_LIBRARY|MASKOFF_KIT|CMAKE_CUDA_COMPILER):' "$BUILD_DIR/CMakeCache.txt"
}

GPU_PROGRAMS=(maskoff_tests cuda_ops_bench cuda_conv_bench train_step_timing)
build() {
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@" || return 1
  # Each program must start here as built: RUNPATH to cuDNN, cuBLAS, the runtime and the
  # kit's Google Benchmark, every library found without LD_LIBRARY_PATH.
  local p libs missing=0
  for p in "$@"; do
    echo "-- $p: $(readelf -d "$BUILD_DIR/$p" | grep -E 'RUNPATH|RPATH' | sed 's/.*: /RUNPATH /' ||
      echo 'no RUNPATH')"
    libs=$(env -u LD_LIBRARY_PATH ldd "$BUILD_DIR/$p")
    grep -E 'cudnn|cublas|cudart|benchmark|not found' <<<"$libs"
    if grep -q 'not found' <<<"$libs"; then
      echo "$p: a library is not found (above)"
      missing=1
    fi
  done
  return "$missing"
}

trap 'echo "gpu_check: interrupted"; finish' INT TERM

step setup "$(cap setup)" setup
if ok setup; then
  step configure "$(cap configure)" configure
else
  skip configure "$(cap configure)" "setup found no nvcc or cmake: see setup.log"
fi
if ok configure; then
  cp "$BUILD_DIR/CMakeCache.txt" "$LOGS/CMakeCache.txt" 2>/dev/null
  step build "$(cap build)" build "${GPU_PROGRAMS[@]}"
else
  skip build "$(cap build)" "not configured"
fi
[ "$BUILD_ONLY" = 1 ] && finish

B=$BUILD_DIR
need_build() { ok build || { skip "$1" "$(cap "$1")" "no build"; return 1; }; }

need_build tests &&
  step tests "$(cap tests)" env MASKOFF_EXPECT_GPU=1 "$B/maskoff_tests" --gtest_filter='*Cuda*' \
    --gtest_output="json:$LOGS/tests.json"

# compute-sanitizer: first a probe on one small test, as some machines refuse the sanitizer
# (no permission to the GPU's debug interface); a refusal skips both sanitizer steps.
sanitizer_probe() {
  [ -n "$SANITIZER" ] || { echo "compute-sanitizer not found"; return "$SKIP_RC"; }
  "$SANITIZER" --version | tail -n 1
  "$SANITIZER" --tool memcheck --error-exitcode 99 "$BUILD_DIR/maskoff_tests" \
    --gtest_filter=CudaRuntime.CopiesRoundTripExactly >"$SCRATCH/probe.txt" 2>&1
  local rc=$? tool_error
  cat "$SCRATCH/probe.txt"
  # The sanitizer's own errors (no supported device, no permission), as opposed to what it
  # found in the program, mean it is refused here.
  tool_error=$(grep -E '^=+ (Internal Sanitizer Error|Error: )' "$SCRATCH/probe.txt" |
    grep -v "process didn't terminate successfully" | head -n 1 | sed 's/^=* *//' | cut -c1-90)
  if [ -z "$tool_error" ] && grep -q 'ERROR SUMMARY: 0 errors' "$SCRATCH/probe.txt" && [ "$rc" -eq 0 ]; then
    echo ok >"$SCRATCH/sanitizer.state"
    return 0
  fi
  if [ -z "$tool_error" ] && grep -q 'ERROR SUMMARY: [1-9]' "$SCRATCH/probe.txt"; then
    echo ok >"$SCRATCH/sanitizer.state"  # it works, and found something
    return 1
  fi
  echo "refused" >"$SCRATCH/sanitizer.state"
  echo "compute-sanitizer refused here: ${tool_error:-exit $rc, no error summary}"
  return "$SKIP_RC"
}
sanitize() {  # sanitize TOOL FILTER [VAR=VALUE...]: one of compute-sanitizer's tools over tests
  case $(cat "$SCRATCH/sanitizer.state" 2>/dev/null) in
    ok) ;;
    refused) echo "compute-sanitizer refused here (sanitizer_probe.log)"; return "$SKIP_RC" ;;
    *) echo "no working compute-sanitizer (sanitizer_probe.log)"; return "$SKIP_RC" ;;
  esac
  env "${@:3}" "$SANITIZER" --tool "$1" --error-exitcode 99 --print-limit 30 \
    "$BUILD_DIR/maskoff_tests" --gtest_filter="$2"
}
# memcheck over the tests of our own kernels (cuDNN and cuBLAS calls, and the death test,
# left out: slow under the sanitizer, and not ours), each tensor its own exact-size
# cudaMalloc so that an overrun past a tensor's end lands outside the allocation.
MEMCHECK_TESTS='CudaElementwise*:CudaActivation*:CudaReduce*:CudaLoss*:CudaBatchNorm*:CudaPool*'
MEMCHECK_TESTS+=':CudaResize*:CudaShape*:CudaDropout*:CudaAdam*:CudaModel*'
MEMCHECK_TESTS+='-CudaModel.HostReadOfADevicePointerFailsLoudly'
RACECHECK_TESTS='CudaReduce*:CudaLoss*:CudaBatchNorm*'
if need_build sanitizer_probe; then
  step sanitizer_probe "$(cap sanitizer_probe)" sanitizer_probe
  step memcheck "$(cap memcheck)" sanitize memcheck "$MEMCHECK_TESTS" MASKOFF_CUDA_EXACT_ALLOC=1
  step racecheck "$(cap racecheck)" sanitize racecheck "$RACECHECK_TESTS"
else
  skip memcheck "$(cap memcheck)" "no build"
  skip racecheck "$(cap racecheck)" "no build"
fi

for b in cuda_ops_bench cuda_conv_bench; do
  need_build "$b" &&
    step "$b" "$(cap "$b")" "$B/$b" --benchmark_min_time=0.05 --benchmark_out="$LOGS/$b.json" \
      --benchmark_out_format=json
done

# The whole training step, ours and PyTorch's, with the same warm-up and step counts.
WARMUP=${STEP_WARMUP:-5}
STEPS=${STEP_STEPS:-25}
need_build train_step_timing &&
  step train_step_timing "$(cap train_step_timing)" "$B/train_step_timing" --device cuda \
    --configs fp32,tf32 --batch 1,16 --warmup "$WARMUP" --steps "$STEPS" --profile \
    --out "$LOGS/maskoff_step.json"
pytorch_step() {
  python3 -c 'import torch' 2>/dev/null || { echo "PyTorch is not importable"; return "$SKIP_RC"; }
  python3 bench/reference/pix2pix_step.py --device cuda --configs eager_fp32,eager_tf32,amp_bf16_cl \
    --batch 1,16 --warmup "$1" --steps "$2" --out "$LOGS/pytorch_step.json"
}
step pytorch_step "$(cap pytorch_step)" pytorch_step "$WARMUP" "$STEPS"
if [ -f "$LOGS/maskoff_step.json" ] && [ -f "$LOGS/pytorch_step.json" ]; then
  step compare "$(cap compare)" bash -c "set -o pipefail; python3 bench/reference/compare.py \
'$LOGS/maskoff_step.json' '$LOGS/pytorch_step.json' | tee '$LOGS/step_comparison.md'"
else
  skip compare "$(cap compare)" "needs both step timings"
fi

finish
