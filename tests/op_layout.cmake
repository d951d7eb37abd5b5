# Checks that every op family has its test suites (the op map in docs/tour.md):
#
#   cmake -DSOURCE_DIR=<repository root> -P tests/op_layout.cmake
#
# The families are read from the folders, so a new one is checked as soon as its files
# exist. An op family <f> is layers/<f>.cpp or losses/<f>.cpp (layers/module.cpp and
# layers/modules.cpp are the module system, not ops), and it needs:
#   - its CPU reference, layers/cpu/<f>.h (losses/cpu/<f>.h);
#   - its gradient checks, tests/grad_<f>_test.cpp with a suite named ...Grad;
#   - when it has a CUDA implementation, cuda/<f>.cu or cuda/<f>.cpp: its CPU-vs-CUDA
#     comparisons, tests/cuda_<f>_test.cpp with a suite named Cuda...
# An optimiser (optim/<f>.cpp) has no gradient to check, but a CUDA kernel of its own
# needs a Cuda suite all the same. Any other kernel in cuda/ must serve a family (its
# header included by the family's op or CUDA file), whose Cuda suite then tests it.
# Exits non-zero with one line per missing piece.
cmake_minimum_required(VERSION 3.18)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repository root> -P tests/op_layout.cmake")
endif()

set(problems "")
macro(problem text)
  list(APPEND problems "${text}")
endmacro()

# True when `file` exists and holds a TEST or TEST_F whose suite matches `suite_regex`.
function(has_suite out file suite_regex)
  set(${out} FALSE PARENT_SCOPE)
  if(EXISTS "${file}")
    file(STRINGS "${file}" tests REGEX "^TEST(_F)?\\(${suite_regex},")
    if(tests)
      set(${out} TRUE PARENT_SCOPE)
    endif()
  endif()
endfunction()

# The Cuda suite of `name`: tests/cuda_<name>_test.cpp, or .cu for tests with kernels.
function(has_cuda_suite out name)
  foreach(ext cpp cu)
    has_suite(found "${SOURCE_DIR}/tests/cuda_${name}_test.${ext}" "Cuda[A-Za-z0-9_]*")
    if(found)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

set(families "")
set(owned_kernels "")
foreach(dir layers losses optim)
  file(GLOB sources RELATIVE "${SOURCE_DIR}/${dir}" "${SOURCE_DIR}/${dir}/*.cpp")
  foreach(source ${sources})
    string(REGEX REPLACE "\\.cpp$" "" f "${source}")
    if(dir STREQUAL "layers" AND f MATCHES "^modules?$")
      continue()
    endif()
    set(cuda_impl "")
    foreach(ext cu cpp)
      if(EXISTS "${SOURCE_DIR}/cuda/${f}.${ext}")
        set(cuda_impl "cuda/${f}.${ext}")
      endif()
    endforeach()
    if(NOT dir STREQUAL "optim")
      list(APPEND families "${dir}/${f}")
      if(NOT EXISTS "${SOURCE_DIR}/${dir}/cpu/${f}.h")
        problem("${dir}/${f}.cpp: no CPU reference kernel: add ${dir}/cpu/${f}.h")
      endif()
      has_suite(found "${SOURCE_DIR}/tests/grad_${f}_test.cpp" "[A-Za-z0-9_]*Grad")
      if(NOT found)
        problem("${dir}/${f}.cpp: no gradient checks: add tests/grad_${f}_test.cpp \
with a suite named ...Grad")
      endif()
    endif()
    if(cuda_impl)
      list(APPEND owned_kernels "cuda/${f}.cu")
      has_cuda_suite(found "${f}")
      if(NOT found)
        problem("${dir}/${f}.cpp has a CUDA implementation (${cuda_impl}) but no CPU-vs-CUDA \
comparisons: add tests/cuda_${f}_test.cpp with a suite named Cuda...")
      endif()
    endif()
  endforeach()
endforeach()

# Kernels that belong to no family by name must be used by one.
file(GLOB users "${SOURCE_DIR}/layers/*.cpp" "${SOURCE_DIR}/losses/*.cpp"
     "${SOURCE_DIR}/optim/*.cpp" "${SOURCE_DIR}/cuda/*.cpp" "${SOURCE_DIR}/cuda/*.cu")
file(GLOB kernels RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/cuda/*.cu")
foreach(kernel ${kernels})
  if(kernel IN_LIST owned_kernels)
    continue()
  endif()
  string(REGEX REPLACE "^cuda/(.*)\\.cu$" "\\1" k "${kernel}")
  has_cuda_suite(found "${k}")
  if(found)
    continue()
  endif()
  set(used_by "")
  foreach(user ${users})
    if(NOT user STREQUAL "${SOURCE_DIR}/${kernel}")
      file(STRINGS "${user}" includes REGEX "^#include \"cuda/${k}\\.h\"")
      if(includes)
        list(APPEND used_by "${user}")
      endif()
    endif()
  endforeach()
  if(NOT used_by)
    problem("${kernel}: a kernel of no op family and used by none: make it part of one, or \
add tests/cuda_${k}_test.cpp with a suite named Cuda...")
  endif()
endforeach()

list(LENGTH families count)
if(problems)
  foreach(p ${problems})
    message("op layout: ${p}")
  endforeach()
  message(FATAL_ERROR
    "op layout: the test suites do not cover every op family (docs/tour.md, 'The op map')")
endif()
message(STATUS "op layout: ${count} op families, each with a CPU reference, gradient checks \
and, where it has a CUDA implementation, CPU-vs-CUDA comparisons")
