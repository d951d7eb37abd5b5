#!/usr/bin/env bash
# Installs the Debian packages maskoff builds against (only those missing).
# The CUDA toolkit is optional and not installed here: when /usr/local/cuda exists the
# build picks it up, otherwise it builds the CPU engine alone.
set -euo pipefail

packages=(
  build-essential cmake
  libeigen3-dev          # CPU linear algebra (GEMM behind convolutions and matmul)
  libstb-dev             # stb_image / stb_image_write: image IO
  zlib1g-dev             # PNG compression
  libjpeg-dev libpng-dev # decoding JPEG and PNG
  libdlib-dev libdlib-data  # face detector and the 68-point landmark model
  libgtest-dev googletest   # tests
  libbenchmark-dev          # benchmarks
  libcli11-dev              # command-line parsing in tools
  nlohmann-json3-dev        # JSON outputs
  clang libomp-dev libclang-rt-14-dev llvm  # the simulation build's compiler, OpenMP, sanitizers, symbolizer
  clang-format              # the format check in scripts/test.sh (.clang-format)
  python3-pip               # the GPU rehearsal fetches the cuDNN wheel (scripts/gpu_rehearsal.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
