// MASKOFF_HD marks a function that runs both on the host and in CUDA kernels: the counter-
// based generator (tensor/random.h) and the index arithmetic of the CPU kernels' geometry
// structs (layers/cpu/, losses/cpu/), which the kernels in cuda/ take as they are. Only
// index arithmetic is shared this way; what a kernel computes from the values stays
// written twice, so the CPU code remains an independent reference for the CUDA code.
//
// Under nvcc it is __host__ __device__ (and force-inlined); for the host compiler, the
// simulation build included (where __host__ and __device__ mean nothing), it is inline.
#pragma once

#if defined(__CUDACC__)
#define MASKOFF_HD __host__ __device__ __forceinline__
#else
#define MASKOFF_HD inline
#endif
