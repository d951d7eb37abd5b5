// concat, slice, reshape and flatten: shape arithmetic and autograd around the block copy
// in layers/cpu/shape_ops.h.
#include "layers/shape_ops.h"

#include "autograd/node.h"
#include "cuda/shape_ops.h"
#include "layers/cpu/shape_ops.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;

namespace {
int64_t normalize_dim(int64_t dim, const Shape& s, const char* op) {
  const int64_t rank = static_cast<int64_t>(s.size());
  const int64_t d = dim < 0 ? dim + rank : dim;
  MASKOFF_CHECK(d >= 0 && d < rank,
                op << ": dimension " << dim << " out of range for shape " << shape_str(s));
  return d;
}

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// Copies `blocks` runs of `len` elements: run b starts at from_at + b * from_run in `from`
// and at to_at + b * to_run in `to`.
void copy_runs(const Tensor& from, int64_t from_run, int64_t from_at, const Tensor& to,
               int64_t to_run, int64_t to_at, int64_t blocks, int64_t len, const char* op) {
  dispatch(
      from, op,
      [&](auto p) {
        cpu::copy_blocks(p(from) + from_at, from_run, p(to) + to_at, to_run, blocks, len);
      },
      [&] {
        cuda::copy_blocks(f32(from) + from_at, from_run, f32(to) + to_at, to_run, blocks, len);
      });
}
}  // namespace

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  MASKOFF_CHECK(!xs.empty(), "concat: no tensors given");
  for (size_t i = 0; i < xs.size(); ++i)
    MASKOFF_CHECK(xs[i].defined(), "concat: tensor " << i << " is undefined");
  const Shape& s0 = xs[0].shape();
  const int64_t d = normalize_dim(dim, s0, "concat");
  Shape out_shape = s0;
  out_shape[static_cast<size_t>(d)] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& si = xs[i].shape();
    check_same_dtype(xs[0], xs[i], "concat");
    check_same_device(xs[0], xs[i], "concat");
    bool agree = si.size() == s0.size();
    for (size_t k = 0; agree && k < s0.size(); ++k)
      agree = static_cast<int64_t>(k) == d || si[k] == s0[k];
    MASKOFF_CHECK(agree, "concat along dimension " << d << ": tensor " << i << " has shape "
                                                   << shape_str(si) << ", incompatible with "
                                                   << shape_str(s0));
    out_shape[static_cast<size_t>(d)] += si[static_cast<size_t>(d)];
  }
  const int64_t outer = product(s0, 0, static_cast<size_t>(d));
  const int64_t inner = product(s0, static_cast<size_t>(d) + 1, s0.size());
  const int64_t out_run = out_shape[static_cast<size_t>(d)] * inner;

  Tensor y = empty(out_shape, xs[0].dtype(), xs[0].device());
  std::vector<int64_t> offsets;  // start of each input along dim
  int64_t at = 0;
  for (const Tensor& x : xs) {
    offsets.push_back(at);
    const int64_t run = x.size(d) * inner;
    copy_runs(x, run, 0, y, out_run, at * inner, outer, run, "concat");
    at += x.size(d);
  }
  std::vector<int64_t> extents;
  for (const Tensor& x : xs) extents.push_back(x.size(d));
  return record(y, "concat", xs, [d, offsets, extents](const Tensor& gy, const Needs& need) {
    Grads g(need.size());
    for (size_t i = 0; i < need.size(); ++i)
      if (need[i]) g[i] = slice(gy, d, offsets[i], offsets[i] + extents[i]);
    return g;
  });
}

Tensor concat_channels(const std::vector<Tensor>& xs) {
  for (size_t i = 0; i < xs.size(); ++i) check_dim(xs[i], 4, "concat_channels", "input");
  return concat(xs, 1);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  MASKOFF_CHECK(x.defined(), "slice: input is undefined");
  const Shape& s = x.shape();
  const int64_t d = normalize_dim(dim, s, "slice");
  const int64_t extent = s[static_cast<size_t>(d)];
  const int64_t b = start < 0 ? start + extent : start;
  const int64_t e = end < 0 ? end + extent : end;
  MASKOFF_CHECK(0 <= b && b <= e && e <= extent,
                "slice: range [" << start << ", " << end << ") along dimension " << d
                                 << " is invalid for shape " << shape_str(s));
  const int64_t outer = product(s, 0, static_cast<size_t>(d));
  const int64_t inner = product(s, static_cast<size_t>(d) + 1, s.size());
  Shape out_shape = s;
  out_shape[static_cast<size_t>(d)] = e - b;
  Tensor y = empty(out_shape, x.dtype(), x.device());
  const int64_t run = extent * inner, len = (e - b) * inner;
  copy_runs(x, run, b * inner, y, len, 0, outer, len, "slice");
  return record(y, "slice", {x}, [s, outer, run, len, b, inner](const Tensor& gy, const Needs&) {
    Tensor gx = zeros(s, gy.dtype(), gy.device());
    copy_runs(gy, len, 0, gx, run, b * inner, outer, len, "slice_backward");
    return Grads{gx};
  });
}

Tensor reshape(const Tensor& x, const Shape& s) {
  MASKOFF_CHECK(x.defined(), "reshape: input is undefined");
  Shape target = s;
  int64_t known = 1, free_at = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      MASKOFF_CHECK(free_at < 0, "reshape: more than one -1 in " << shape_str(s));
      free_at = static_cast<int64_t>(i);
    } else {
      MASKOFF_CHECK(s[i] >= 0, "reshape: invalid extent in " << shape_str(s));
      known *= s[i];
    }
  }
  if (free_at >= 0) {
    MASKOFF_CHECK(known > 0 && x.numel() % known == 0,
                  "reshape: cannot reshape " << shape_str(x.shape()) << " into " << shape_str(s));
    target[static_cast<size_t>(free_at)] = x.numel() / known;
  }
  MASKOFF_CHECK(shape_numel(target) == x.numel(), "reshape: cannot reshape "
                                                      << shape_str(x.shape()) << " (" << x.numel()
                                                      << " elements) into " << shape_str(s));
  const Shape in_shape = x.shape();
  return record(
      x.view_as_shape(target), "reshape", {x},
      [in_shape](const Tensor& gy, const Needs&) { return Grads{gy.view_as_shape(in_shape)}; });
}

Tensor flatten(const Tensor& x) {
  MASKOFF_CHECK(x.defined() && x.dim() >= 1,
                "flatten: needs a tensor with a batch dimension, got " << x.str());
  const Shape& s = x.shape();
  return reshape(x, {s[0], product(s, 1, s.size())});
}

}  // namespace maskoff
