#!/usr/bin/env bash
# Fills .gpu_kit/ (git-ignored) with what the GPU programs (maskoff_tests, cuda_ops_bench,
# cuda_conv_bench, train_step_timing) need to build on a machine that has the CUDA toolkit,
# a compiler, CMake and Python but none of the Debian packages: the headers and CMake
# package files of Eigen, CLI11, nlohmann-json and Google Benchmark, Google Benchmark's
# shared library, and GoogleTest's sources. Everything is copied from this machine's
# installed Debian packages (scripts/install_deps.sh); nothing is downloaded.
#
#   bash scripts/gpu_kit.sh [KIT_DIR]        (default: .gpu_kit in the repository root)
#
# The kit is laid out like /usr (include/, share/, lib/x86_64-linux-gnu/), so the copied
# CMake package files find their headers and libraries relative to themselves; CMake takes
# it with -DMASKOFF_KIT=KIT_DIR (bench/gpu_check.sh does so). GoogleTest travels as sources
# (it builds in seconds, with the lent machine's own compiler); Google Benchmark has no
# Debian sources, so its shared library travels, with its soname as a plain file (no
# symbolic links: the kit is copied to the lent machine as plain files). It stays under
# 40 MB; the script checks that, and writes KIT.txt, the list of what is inside.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${1:-.gpu_kit}
LIMIT_BYTES=$((40 * 1000 * 1000))
ARCH=x86_64-linux-gnu
LIB=/usr/lib/$ARCH

die() { echo "gpu_kit: $*" >&2; exit 1; }

packages=(libeigen3-dev libcli11-dev nlohmann-json3-dev libbenchmark-dev googletest)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    die "the Debian package $p is not installed (run: bash scripts/install_deps.sh)"
done

rm -rf "$KIT"
mkdir -p "$KIT"

# copy SRC DEST_IN_KIT: a file or a folder, symbolic links replaced by what they point to.
copy() {
  [ -e "$1" ] || die "$1 is missing (from one of: ${packages[*]})"
  mkdir -p "$KIT/$(dirname "$2")"
  cp -rL "$1" "$KIT/$2"
}

# Eigen: headers (not unsupported/, which the engine does not use) and its CMake package.
mkdir -p "$KIT/include/eigen3"
copy /usr/include/eigen3/Eigen include/eigen3/Eigen
copy /usr/include/eigen3/signature_of_eigen3_matrix_library include/eigen3/signature_of_eigen3_matrix_library
copy /usr/share/eigen3/cmake share/eigen3/cmake

# CLI11 and nlohmann-json: header-only, with their CMake packages.
copy /usr/include/CLI include/CLI
copy /usr/share/cmake/CLI11 share/cmake/CLI11
copy /usr/include/nlohmann include/nlohmann
copy /usr/share/cmake/nlohmann_json share/cmake/nlohmann_json

# Google Benchmark: headers, CMake package (relative to lib/x86_64-linux-gnu/cmake/benchmark),
# the shared library under its file name and its soname, and benchmark_main (which the
# package file checks for, though nothing links it).
copy /usr/include/benchmark include/benchmark
copy "$LIB/cmake/benchmark" "lib/$ARCH/cmake/benchmark"
bench_so=$(readlink -f "$LIB/libbenchmark.so")
bench_soname=$(objdump -p "$bench_so" | awk '$1 == "SONAME" {print $2}')
[ -n "$bench_soname" ] || die "cannot read the soname of $bench_so"
copy "$bench_so" "lib/$ARCH/$(basename "$bench_so")"
[ "$bench_soname" = "$(basename "$bench_so")" ] || copy "$bench_so" "lib/$ARCH/$bench_soname"
copy "$LIB/libbenchmark_main.a" "lib/$ARCH/libbenchmark_main.a"
grep -q "lib/$ARCH/$(basename "$bench_so")" "$KIT/lib/$ARCH/cmake/benchmark/"benchmarkTargets-*.cmake ||
  die "Debian's benchmark package file does not name lib/$ARCH/$(basename "$bench_so"): the kit layout needs updating"

# GoogleTest: the sources that Debian's googletest package ships, without their own tests.
copy /usr/src/googletest src/googletest
rm -rf "$KIT/src/googletest/googletest/test" "$KIT/src/googletest/googlemock/test" \
  "$KIT/src/googletest/googletest/samples" "$KIT/src/googletest/googletest/docs" \
  "$KIT/src/googletest/googlemock/docs"

# The glibc and libstdc++ versions Google Benchmark's library needs: the lent machine's
# must be at least these (a newer distribution's are).
needs=$(objdump -T "$bench_so" | grep -o 'GLIBC_[0-9.]*\|GLIBCXX_[0-9.]*' | sort -uV |
  awk -F_ '{last[$1] = $0} END {print last["GLIBC"], last["GLIBCXX"]}')

{
  echo "maskoff GPU kit: made by scripts/gpu_kit.sh on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "from Debian packages (no download):"
  dpkg-query -W -f='  ${Package} ${Version}\n' "${packages[@]}"
  echo "libbenchmark needs at least: $needs"
  echo "use: cmake -DMASKOFF_KIT=<this folder> (bench/gpu_check.sh does)"
  echo "files:"
  (cd "$KIT" && find . -maxdepth 3 ! -name . | sort | sed "s/^/  /")
} >"$KIT/KIT.txt"

if [ -n "$(find "$KIT" -type l -print -quit)" ]; then
  die "$KIT holds symbolic links, which may not survive the copy to the lent machine"
fi
bytes=$(du -sb "$KIT" | cut -f1)
files=$(find "$KIT" -type f | wc -l)
[ "$bytes" -lt "$LIMIT_BYTES" ] || die "$KIT is $bytes bytes, over the $LIMIT_BYTES limit"
echo "gpu_kit: $KIT: $files files, $((bytes / 1000)) kB (limit $((LIMIT_BYTES / 1000)) kB); see $KIT/KIT.txt"
