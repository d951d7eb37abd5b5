// One fuzz target per parser. Each target file defines maskoff_fuzz_one(data, size), which
// feeds the bytes to a reader and checks what it returns. A reader may reject its input
// only with maskoff::Error (a clear message naming the input); anything else (a crash, a
// sanitizer report, another exception, a hang, an allocation past the memory bound) is a
// finding.
//
// The same file builds two ways: with clang's -fsanitize=fuzzer as a libFuzzer program
// (scripts/fuzz.sh runs it), and with fuzz/replay_main.cpp as a program that replays files,
// which ctest runs over the committed seeds and every past finding (fuzz/corpus/TARGET,
// fuzz/regressions/TARGET) in every build.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tensor/error.h"

// The target's body: throws maskoff::Error for inputs it rejects.
void maskoff_fuzz_one(const uint8_t* data, size_t size);
// Once before the first input (memory bounds and the like).
void maskoff_fuzz_init();

// A property of an accepted input that must hold; its failure is a finding.
#define FUZZ_REQUIRE(cond)                                                                \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "fuzz: %s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  maskoff_fuzz_init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    maskoff_fuzz_one(data, size);
  } catch (const maskoff::Error&) {
    // A clear rejection: what a reader should do with bad bytes.
  }
  return 0;
}
