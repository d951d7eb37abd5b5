#!/usr/bin/env bash
# A rehearsal of the lent GPU machine on this one, without a GPU: `bash bench/gpu_check.sh
# --build-only` must build the four GPU programs (maskoff_tests, cuda_ops_bench,
# cuda_conv_bench, train_step_timing) from .gpu_kit alone. In a private mount namespace,
# overlays hide every file of the Debian packages the lent machine lacks (Eigen, GoogleTest,
# Google Benchmark, CLI11, nlohmann-json, dlib, stb, zlib's headers) and the cuDNN files of
# the CUDA toolkit; cuDNN comes only from the nvidia-cudnn-cu13 wheel from PyPI, found the
# way the lent machine finds PyTorch's: by asking python3 where nvidia.cudnn is. The hiding
# is checked before the build (every file those packages installed must be gone, and the
# compiler must fail to find their headers), so the rehearsal cannot pass by accident.
#
#   bash scripts/gpu_rehearsal.sh
#
# Needs root (for unshare -m and the overlays), the CUDA toolkit, the Debian packages (to
# make the kit: scripts/gpu_kit.sh runs first) and, once, PyPI (the wheel is kept in .whl/).
# Exits 77 when this machine cannot rehearse at all (not root, no mount namespaces or
# overlays, no CUDA toolkit, no way to fetch the wheel), 0 when the build passed, 1 when not.
#
# Environment: REHEARSAL_BUILD_DIR (build-rehearsal; started afresh each time), JOBS (all
# cores), CUDNN_WHEEL_VERSION (9.19.0.56, the toolkit's cuDNN).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${REHEARSAL_BUILD_DIR:-build-rehearsal}
JOBS=${JOBS:-$(nproc)}
WHEEL_VERSION=${CUDNN_WHEEL_VERSION:-9.19.0.56}
WHEEL_DIR=$ROOT/.whl
WHEEL_SITE=$WHEEL_DIR/cudnn-$WHEEL_VERSION  # the wheel's nvidia/cudnn/{include,lib}, unpacked
CUDA_DIR=$(readlink -f /usr/local/cuda 2>/dev/null || true)

cannot() { echo "gpu_rehearsal: cannot rehearse here: $*" >&2; exit 77; }
fail() { echo "gpu_rehearsal: FAILED: $*" >&2; exit 1; }

# What the lent machine lacks. Each entry is a path relative to an overlay's root, or a glob.
HIDE_INCLUDE=(eigen3 gtest gmock benchmark CLI nlohmann dlib stb zlib.h zconf.h)
HIDE_SHARE=(eigen3 cmake/CLI11 cmake/nlohmann_json pkgconfig/eigen3.pc pkgconfig/CLI11.pc
  pkgconfig/nlohmann_json.pc)
HIDE_SRC=(googletest gtest)
HIDE_LIB=(cmake/GTest cmake/benchmark cmake/dlib 'libgtest*' 'libgmock*' 'libbenchmark*' 'libdlib*'
  'libstb*' libz.so libz.a pkgconfig/gtest.pc pkgconfig/gtest_main.pc pkgconfig/gmock.pc
  pkgconfig/gmock_main.pc pkgconfig/benchmark.pc pkgconfig/dlib-1.pc pkgconfig/stb.pc
  pkgconfig/zlib.pc)
HIDE_CUDA=('lib/libcudnn*' 'include/cudnn*')
# Every file these packages installed must be gone (their documentation aside).
HIDDEN_PACKAGES=(libeigen3-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  libbenchmark1debian libcli11-dev nlohmann-json3-dev libdlib-dev libdlib19.1 libstb-dev libstb0
  zlib1g-dev)

# ---- inside the namespace ----------------------------------------------------------------
if [ "${1:-}" = --inside ]; then
  SCRATCH=$2
  mount -t tmpfs rehearsal "$SCRATCH"
  n=0
  # hide DIR ENTRY...: an overlay on DIR whose upper layer holds a whiteout (a 0/0 character
  # device) for each entry, so the entry is absent, not merely empty.
  hide() {
    local dir=$1 e p
    shift
    n=$((n + 1))
    mkdir -p "$SCRATCH/$n/upper" "$SCRATCH/$n/work"
    for e in "$@"; do
      for p in "$dir"/$e; do
        [ -e "$p" ] || [ -L "$p" ] || continue
        p=${p#"$dir"/}
        mkdir -p "$SCRATCH/$n/upper/$(dirname "$p")"
        mknod "$SCRATCH/$n/upper/$p" c 0 0
      done
    done
    mount -t overlay "rehearsal$n" \
      -o "lowerdir=$dir,upperdir=$SCRATCH/$n/upper,workdir=$SCRATCH/$n/work" "$dir" ||
      exit 77
  }
  hide /usr/include "${HIDE_INCLUDE[@]}"
  hide /usr/share "${HIDE_SHARE[@]}"
  hide /usr/src "${HIDE_SRC[@]}"
  hide /usr/lib/x86_64-linux-gnu "${HIDE_LIB[@]}"
  hide "$CUDA_DIR" "${HIDE_CUDA[@]}"

  echo "== checking that the packages and the toolkit's cuDNN are hidden"
  left=()
  for pkg in "${HIDDEN_PACKAGES[@]}"; do
    dpkg-query -W "$pkg" >/dev/null 2>&1 || continue
    while IFS= read -r f; do
      case $f in /usr/share/doc/* | /usr/share/man/* | /usr/share/lintian/*) continue ;; esac
      if [ -L "$f" ] || { [ -e "$f" ] && [ ! -d "$f" ]; }; then left+=("$f ($pkg)"); fi
    done < <(dpkg -L "$pkg")
  done
  for f in "$CUDA_DIR"/lib/libcudnn* "$CUDA_DIR"/include/cudnn* /usr/local/include/cudnn.h \
    /usr/local/lib/libcudnn.so; do
    [ -e "$f" ] && left+=("$f (cuDNN)")
  done
  [ ${#left[@]} -eq 0 ] || fail "still visible: ${left[*]:0:10}"
  for header in "Eigen/Core -I/usr/include/eigen3" gtest/gtest.h benchmark/benchmark.h CLI/CLI.hpp \
    nlohmann/json.hpp dlib/image_processing.h stb_image.h zlib.h "cudnn.h -I$CUDA_DIR/include"; do
    # shellcheck disable=SC2086
    if echo "#include <${header%% *}>" | c++ -fsyntax-only -x c++ - ${header#"${header%% *}"} 2>/dev/null; then
      fail "the compiler still finds ${header%% *}"
    fi
  done
  if [ ! -e "$CUDA_DIR/lib/libcublas.so" ] || [ ! -e "$CUDA_DIR/include/cuda_runtime.h" ]; then
    fail "the rest of the toolkit should stay visible"
  fi
  echo "   hidden: every file of ${HIDDEN_PACKAGES[*]}; cuDNN in $CUDA_DIR"

  echo "== bash bench/gpu_check.sh --build-only, cuDNN from the wheel (PYTHONPATH=$WHEEL_SITE)"
  rm -rf "$BUILD_DIR"
  rc=0
  # The build's cap is made for the lent machine's 16 cores; this one may have 2.
  env -u CUDNN_ROOT -u LD_LIBRARY_PATH -u CMAKE_PREFIX_PATH -u MASKOFF_KIT PYTHONPATH="$WHEEL_SITE" \
    BUILD_DIR="$BUILD_DIR" JOBS="$JOBS" GPU_CHECK_CAP_build=900 GPU_CHECK_DEADLINE=1200 \
    bash bench/gpu_check.sh --build-only "$SCRATCH/out" || rc=$?
  # The logs outlive the namespace beside the build.
  cp "$SCRATCH/out/results.tgz" "$BUILD_DIR/gpu_check_results.tgz" 2>/dev/null || true
  tar -xzf "$SCRATCH/out/results.tgz" -C "$SCRATCH" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    for log in setup configure build; do
      [ -f "$SCRATCH/results/$log.log" ] && { echo "---- the end of $log.log"; tail -n 40 "$SCRATCH/results/$log.log"; }
    done
    fail "gpu_check.sh --build-only exited $rc (every log: $BUILD_DIR/gpu_check_results.tgz)"
  fi
  grep -q "maskoff: dependencies from the kit $ROOT/.gpu_kit" "$SCRATCH/results/configure.log" ||
    fail "the configure step did not take the kit"
  grep -q "cuDNN $WHEEL_SITE/nvidia/cudnn/lib/libcudnn.so.9 from python3's nvidia.cudnn" \
    "$SCRATCH/results/configure.log" || fail "cuDNN was not taken from the wheel through python3"
  # (ldd's output is read whole first: grep -q stopping early would break ldd's pipe.)
  for p in maskoff_tests cuda_ops_bench cuda_conv_bench train_step_timing; do
    [ -x "$BUILD_DIR/$p" ] || fail "$BUILD_DIR/$p was not built"
    libs=$(ldd "$BUILD_DIR/$p")
    grep -q "libcudnn.so.9 => $WHEEL_SITE/" <<<"$libs" ||
      fail "$p does not load cuDNN from the wheel by its RUNPATH: $libs"
  done
  libs=$(ldd "$BUILD_DIR/cuda_ops_bench")
  grep -q "libbenchmark.so.[^ ]* => $ROOT/.gpu_kit/" <<<"$libs" ||
    fail "cuda_ops_bench does not load Google Benchmark from the kit: $libs"
  # The GPU build's skip-to-failure switch, on a machine with no GPU.
  out=$(MASKOFF_EXPECT_GPU=1 "$BUILD_DIR/maskoff_tests" --gtest_filter=CudaRuntime.CopiesRoundTripExactly 2>&1) &&
    fail "with MASKOFF_EXPECT_GPU=1 and no GPU, a CUDA test passed: $out"
  grep -q "MASKOFF_EXPECT_GPU is set, but there is no CUDA device" <<<"$out" ||
    fail "with MASKOFF_EXPECT_GPU=1 and no GPU, a CUDA test did not fail for that reason: $out"
  echo "   the four programs built from .gpu_kit; cuDNN from the wheel, Benchmark from the kit" \
    "by RUNPATH; MASKOFF_EXPECT_GPU=1 fails a CUDA test without a GPU"
  exit 0
fi

# ---- outside: what the rehearsal needs, then the namespace ---------------------------------
start=$(date +%s)
[ "$(id -u)" -eq 0 ] || cannot "needs root (for unshare -m and overlay mounts)"
[ -x "$CUDA_DIR/bin/nvcc" ] || cannot "no CUDA toolkit at /usr/local/cuda"
unshare -m true 2>/dev/null || cannot "unshare -m is refused (no mount namespaces here)"
# shellcheck disable=SC2016
unshare -m sh -c 'd=$(mktemp -d) && mkdir "$d/l" "$d/u" "$d/w" &&
  mount -t overlay o -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/l"; r=$?; rm -rf "$d"; exit $r' \
  2>/dev/null || cannot "overlay mounts are refused"

echo "== the kit"
bash scripts/gpu_kit.sh

if [ ! -f "$WHEEL_SITE/nvidia/cudnn/lib/libcudnn.so.9" ]; then
  echo "== the nvidia-cudnn-cu13 $WHEEL_VERSION wheel"
  mkdir -p "$WHEEL_DIR"
  wheel=$(find "$WHEEL_DIR" -maxdepth 1 -name "nvidia_cudnn_cu13-$WHEEL_VERSION-*x86_64.whl" | head -n 1)
  if [ -z "$wheel" ]; then
    python3 -m pip --version >/dev/null 2>&1 || cannot "no pip to fetch the cuDNN wheel"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEEL_DIR" \
      "nvidia-cudnn-cu13==$WHEEL_VERSION" ||
      cannot "could not fetch nvidia-cudnn-cu13==$WHEEL_VERSION from PyPI (no network?)"
    wheel=$(find "$WHEEL_DIR" -maxdepth 1 -name "nvidia_cudnn_cu13-$WHEEL_VERSION-*x86_64.whl" | head -n 1)
  fi
  [ -n "$wheel" ] || fail "no nvidia_cudnn_cu13-$WHEEL_VERSION wheel in $WHEEL_DIR after the download"
  # Only what the build needs: the headers and the library it links (the others, 490 MB,
  # are loaded by libcudnn.so.9 at run time, which the rehearsal never reaches).
  python3 - "$wheel" "$WHEEL_SITE" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist()
             if n.startswith("nvidia/cudnn/include/") or n == "nvidia/cudnn/lib/libcudnn.so.9"]
    z.extractall(dest, names)
print(f"unpacked {len(names)} files of {wheel} into {dest}")
PY
  rm -f "$wheel"  # 366 MB; the unpacked part is what later runs use
fi
[ -f "$WHEEL_SITE/nvidia/cudnn/include/cudnn.h" ] || fail "$WHEEL_SITE holds no nvidia/cudnn/include/cudnn.h"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpu_rehearsal.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export ROOT BUILD_DIR JOBS WHEEL_SITE CUDA_DIR
rc=0
unshare -m --propagation private bash "$0" --inside "$scratch" || rc=$?
[ "$rc" -ne 77 ] || cannot "overlay mounts failed inside the namespace"
[ "$rc" -eq 0 ] || exit 1
echo "gpu_rehearsal: ok in $(($(date +%s) - start)) s"
