// Kernel launch: the simulator's replacement for `kernel<<<grid, block, shared, stream>>>(args)`.
//
//   cudaError_t st = cudasim::launch(kernel, grid, block, shared_bytes, stream, "kernel", args...);
//
// The arguments are converted to the kernel's parameter types and copied at the call, as
// a CUDA launch copies them into the kernel's parameter buffer; the grid then runs when
// the stream reaches it (cudasim/src/stream.cpp). A bad configuration is refused here,
// with the error a GPU gives, and also left for cudaGetLastError.
#pragma once
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace cudasim {
namespace detail {
cudaError_t launch_grid(const void* kernel, const char* name, dim3 grid, dim3 block,
                        size_t shared_bytes, cudaStream_t stream, std::function<void()> body);
}  // namespace detail

template <class... Params, class... Args>
cudaError_t launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                   cudaStream_t stream, const char* name, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "wrong number of kernel arguments");
  static_assert((std::is_trivially_copyable_v<std::decay_t<Params>> && ...),
                "kernel parameters must be trivially copyable: a launch copies them byte by byte");
  auto params = std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...);
  return detail::launch_grid(reinterpret_cast<const void*>(kernel), name, grid, block, shared_bytes,
                             stream, [kernel, params] { std::apply(kernel, params); });
}
}  // namespace cudasim
