// CPU convolution kernels: im2col + Eigen GEMM for general convolutions, direct loops where
// the GEMM would degenerate (depthwise: K = kh*kw; one output channel per group: a GEMV
// whose column matrix costs more to write than the product does to compute).
#include "layers/cpu/conv.h"

#include <Eigen/Core>
#include <algorithm>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "layers/cpu/im2col.h"

namespace maskoff::cpu {
namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// Row-major views with an explicit row stride, for tiles and slices of larger matrices.
template <class T>
using SMat = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T>
using CSMat = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T>
SMat<T> mat(T* p, int64_t rows, int64_t cols, int64_t ld) {
  return SMat<T>(p, rows, cols, Eigen::OuterStride<>(ld));
}
template <class T>
CSMat<T> cmat(const T* p, int64_t rows, int64_t cols, int64_t ld) {
  return CSMat<T>(p, rows, cols, Eigen::OuterStride<>(ld));
}

constexpr int64_t kGrain = 1 << 15;  // below this many multiply-adds, one thread

// Grow-only per-thread buffers (slot 0: column matrices and tiles, slot 1: GEMM temporaries,
// slot 2: partial weight gradients). Re-using them matters: a fresh 16 MB allocation is an
// mmap whose first touch page-faults, which costs as much as the im2col itself.
template <class T, int Slot = 0>
T* scratch(int64_t n) {
  thread_local std::vector<T> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// ---- threading -----------------------------------------------------------------------------
// A pass is cut into chunks, a few per thread, handed out dynamically in one parallel
// region. Each chunk does its own data movement (the im2col of its tile, the col2im of its
// channels) and a single-threaded Eigen GEMM on its slice of the output; Eigen does not
// thread inside a parallel region. Why not let Eigen thread each GEMM: on a machine shared
// with other jobs a thread is regularly parked for a scheduler quantum, and Eigen makes its
// threads wait for each other on every packed block, while with dynamic chunks the running
// thread simply takes over the remaining chunks. Tiles also keep each block of the column
// matrix in cache between being written and being multiplied, and threads split the
// im2col/col2im work for free.

constexpr int kChunksPerThread = 4;

int pass_threads(double flops) {
#ifdef _OPENMP
  // Below a few MFLOP a fork costs more than it saves.
  if (omp_in_parallel() || flops < double(1 << 22)) return 1;
  return omp_get_max_threads();
#else
  (void)flops;
  return 1;
#endif
}

// How many chunks to cut `units` independent pieces of work into.
int64_t chunk_count(int64_t units, int threads) {
  if (threads <= 1) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(units, int64_t(kChunksPerThread) * threads));
}

template <class F>
void run_chunks(int64_t chunks, int threads, F&& body) {
  if (threads <= 1 || chunks <= 1) {
    for (int64_t c = 0; c < chunks; ++c) body(c);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t c = 0; c < chunks; ++c) body(c);
}

// Block j of [0, n) cut into `blocks` near-equal blocks.
inline void block_range(int64_t n, int64_t blocks, int64_t j, int64_t& lo, int64_t& hi) {
  lo = n * j / blocks;
  hi = n * (j + 1) / blocks;
}

// c = a * b, or c += a * b. Eigen runs a product into a row-major c as its transpose and
// tiles c's columns into the 24-wide panels of its micro-kernel. When c has only a few
// columns (backward-data's column matrix of a 1x1 to 4x4 feature map), most of every panel
// is wasted, and a column-major temporary, small by construction, makes Eigen tile the long
// side instead: 20-30% faster there. (It does not pay for the forward's Y = W * col, where
// packing the row-major W the other way round costs more than it saves.)
template <class CB, class AE, class BE>
void gemm_into(CB&& c, const AE& a, const BE& b, bool accumulate, bool via_col_major) {
  using T = typename std::decay_t<CB>::Scalar;
  if (via_col_major && c.cols() < 24 && c.rows() > c.cols()) {
    Eigen::Map<ColMat<T>> tmp(scratch<T, 1>(c.rows() * c.cols()), c.rows(), c.cols());
    tmp.noalias() = a * b;
    if (accumulate)
      c += tmp;
    else
      c = tmp;
  } else if (accumulate) {
    c.noalias() += a * b;
  } else {
    c.noalias() = a * b;
  }
}

// ---- direct loops: depthwise convolutions and single-output groups -------------------------
// Output channel co of group gi reads input channels [gi*cin_g, (gi+1)*cin_g). Every loop
// nest owns what it writes (an output row, an input row, a weight), so threads never race
// and the input-gradient is a gather, like col2im.

// sum a[i] * b[i * stride] in eight independent lanes: without them the compiler may not
// reorder the float additions, and a single accumulator leaves the loop scalar and
// latency-bound.
template <class T>
T dot(const T* a, const T* b, int64_t n, int64_t stride) {
  T lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] += a[i + j] * b[(i + j) * stride];
  T acc = 0;
  for (; i < n; ++i) acc += a[i] * b[i * stride];
  for (int j = 0; j < 8; ++j) acc += lane[j];
  return acc;
}

// y[i * ys] += a * x[i * xs]. The restrict qualifiers and the unit-stride special case
// are what let the compiler vectorise the common stride-1 rows.
template <class T>
inline void axpy(T* __restrict y, const T* __restrict x, T a, int64_t n, int64_t ys, int64_t xs) {
  if (ys == 1 && xs == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i * ys] += a * x[i * xs];
  }
}

template <class T>
void direct_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = g.cin_g(), mg = g.cout_g(), taps = g.kh * g.kw, rows = g.n * g.cout * g.oh;
#pragma omp parallel for schedule(static) if (rows * g.ow * cg * taps > kGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t oy = r % g.oh, co = r / g.oh % g.cout, n = r / g.oh / g.cout;
    T* yrow = y + r * g.ow;
    std::fill(yrow, yrow + g.ow, bias ? bias[co] : T(0));
    for (int64_t ci = 0; ci < cg; ++ci) {
      const T* xp = x + (n * g.cin + co / mg * cg + ci) * g.in_plane();
      const T* wp = w + (co * cg + ci) * taps;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = oy * g.stride_h - g.pad_top + ky;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t xoff = kx - g.pad_left;
          int64_t lo, hi;
          valid_range(xoff, g.stride_w, g.w, g.ow, lo, hi);
          const T wv = wp[ky * g.kw + kx];
          const T* xrow = xp + iy * g.w + xoff;
          axpy(yrow + lo, xrow + lo * g.stride_w, wv, hi - lo, 1, g.stride_w);
        }
      }
    }
  }
}

template <class T>
void direct_backward_data(const ConvGeom& g, const T* w, const T* dy, T* dx) {
  const int64_t cg = g.cin_g(), mg = g.cout_g(), taps = g.kh * g.kw, rows = g.n * g.cin * g.h;
#pragma omp parallel for schedule(static) if (rows * g.ow * mg * taps > kGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t iy = r % g.h, c = r / g.h % g.cin, n = r / g.h / g.cin;
    T* dxrow = dx + r * g.w;
    std::fill(dxrow, dxrow + g.w, T(0));
    for (int64_t co = c / cg * mg; co < (c / cg + 1) * mg; ++co) {
      const T* dyp = dy + (n * g.cout + co) * g.out_plane();
      const T* wp = w + (co * cg + c % cg) * taps;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t t = iy + g.pad_top - ky;  // = oy * stride_h
        if (t < 0 || t % g.stride_h != 0 || t / g.stride_h >= g.oh) continue;
        const T* dyrow = dyp + t / g.stride_h * g.ow;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t xoff = kx - g.pad_left;
          int64_t lo, hi;
          valid_range(xoff, g.stride_w, g.w, g.ow, lo, hi);
          const T wv = wp[ky * g.kw + kx];
          T* dst = dxrow + xoff;
          axpy(dst + lo * g.stride_w, dyrow + lo, wv, hi - lo, g.stride_w, 1);
        }
      }
    }
  }
}

template <class T>
void direct_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw) {
  const int64_t cg = g.cin_g(), mg = g.cout_g(), taps = g.kh * g.kw, weights = g.cout * cg * taps;
#pragma omp parallel for schedule(static) if (weights * g.n * g.out_plane() > kGrain)
  for (int64_t i = 0; i < weights; ++i) {
    const int64_t t = i % taps, ci = i / taps % cg, co = i / taps / cg;
    const int64_t ky = t / g.kw, kx = t % g.kw, xoff = kx - g.pad_left;
    int64_t lo, hi;
    valid_range(xoff, g.stride_w, g.w, g.ow, lo, hi);
    T acc = 0;
    for (int64_t n = 0; n < g.n; ++n) {
      const T* xp = x + (n * g.cin + co / mg * cg + ci) * g.in_plane();
      const T* dyp = dy + (n * g.cout + co) * g.out_plane();
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t iy = oy * g.stride_h - g.pad_top + ky;
        if (iy < 0 || iy >= g.h) continue;
        const T* xrow = xp + iy * g.w + xoff;
        const T* dyrow = dyp + oy * g.ow;
        acc += dot(dyrow + lo, xrow + lo * g.stride_w, hi - lo, g.stride_w);
      }
    }
    dw[i] = acc;
  }
}

}  // namespace

// ---- geometry ----------------------------------------------------------------------------

ConvGeom conv2d_geom(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh,
                     int64_t kw, int64_t stride_h, int64_t stride_w, int64_t pad_top,
                     int64_t pad_bottom, int64_t pad_left, int64_t pad_right, int64_t groups) {
  ConvGeom g;
  g.n = n;
  g.cin = cin, g.h = h, g.w = w;
  g.cout = cout;
  g.oh = conv_out_size(h, kh, stride_h, pad_top, pad_bottom);
  g.ow = conv_out_size(w, kw, stride_w, pad_left, pad_right);
  g.kh = kh, g.kw = kw;
  g.stride_h = stride_h, g.stride_w = stride_w;
  g.pad_top = pad_top, g.pad_left = pad_left;
  g.groups = groups;
  return g;
}

ConvGeom conv_transpose2d_geom(int64_t n, int64_t cin_t, int64_t h, int64_t w, int64_t cout_t,
                               int64_t kh, int64_t kw, int64_t stride, int64_t padding,
                               int64_t output_padding, int64_t groups) {
  // The underlying convolution maps the transposed output [cout_t, H, W] back to x: with
  // top padding p and bottom padding p - output_padding it has exactly h output rows.
  ConvGeom g;
  g.n = n;
  g.cin = cout_t;
  g.h = (h - 1) * stride - 2 * padding + kh + output_padding;
  g.w = (w - 1) * stride - 2 * padding + kw + output_padding;
  g.cout = cin_t;
  g.oh = h, g.ow = w;
  g.kh = kh, g.kw = kw;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = padding;
  g.groups = groups;
  return g;
}

// ---- general convolution: im2col + GEMM --------------------------------------------------
// Per image and group: Y [M, P] = W [M, K] * col [K, P] with M = cout/groups,
// K = cin/groups*kh*kw, P = oh*ow. Backward-data is col = W^T * dY followed by col2im,
// backward-weight is dW += dY * col^T. Each pass cuts its GEMM along the longer side of its
// output, so that the chunks duplicate the packing of the smaller operand only.

// The column matrix for output rows [oy0, oy1) of one image xn, and its leading dimension:
// x itself for a pointwise convolution, otherwise an im2col tile in this thread's scratch.
template <class T>
std::pair<const T*, int64_t> row_block_columns(const ConvGeom& g, const T* xn, int64_t oy0,
                                               int64_t oy1) {
  if (g.pointwise()) return {xn + oy0 * g.ow, g.out_plane()};
  const int64_t cols = (oy1 - oy0) * g.ow;
  T* tile = scratch<T>(g.cin * g.kh * g.kw * cols);
  im2col_tile(g, xn, 0, g.cin, oy0, oy1, tile);
  return {tile, cols};
}

template <class T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  if (g.n == 0) return;  // nothing to write (and the chunking below divides by n)
  if (g.direct()) return direct_forward(g, x, w, bias, y);
  const int64_t P = g.out_plane(), K = g.k_g(), M = g.cout_g(), taps = g.kh * g.kw;
  const int threads = pass_threads(2.0 * g.n * g.cout * K * P);
  if (P >= M) {
    // Chunks of output rows: each builds its own column tile, then Y[:, tile] = W * tile.
    const int64_t per_image = std::max<int64_t>(1, chunk_count(g.n * g.oh, threads) / g.n);
    run_chunks(g.n * per_image, threads, [&](int64_t c) {
      const int64_t n = c / per_image;
      int64_t oy0, oy1;
      block_range(g.oh, per_image, c % per_image, oy0, oy1);
      const int64_t cols = (oy1 - oy0) * g.ow, p0 = oy0 * g.ow;
      const auto [src, ld] = row_block_columns(g, x + n * g.cin * g.in_plane(), oy0, oy1);
      for (int64_t gi = 0; gi < g.groups; ++gi)
        gemm_into(mat(y + (n * g.cout + gi * M) * P + p0, M, cols, P),
                  cmat(w + gi * M * K, M, K, K), cmat(src + gi * K * ld, K, cols, ld), false,
                  false);
    });
  } else {
    // Few output pixels: one column matrix per image (small, as P < M), chunks of channels.
    T* col = g.pointwise() ? nullptr : scratch<T>(g.cin * taps * P);
    const int64_t per_group =
        std::min(M, std::max<int64_t>(1, chunk_count(g.cout, threads) / g.groups));
    for (int64_t n = 0; n < g.n; ++n) {
      const T* xn = x + n * g.cin * g.in_plane();
      if (col) {
        const int64_t blocks = chunk_count(g.cin, threads);
        run_chunks(blocks, threads, [&](int64_t j) {
          int64_t c0, c1;
          block_range(g.cin, blocks, j, c0, c1);
          im2col_tile(g, xn, c0, c1, 0, g.oh, col + c0 * taps * P);
        });
      }
      const T* src = col ? col : xn;
      run_chunks(g.groups * per_group, threads, [&](int64_t c) {
        const int64_t gi = c / per_group;
        int64_t m0, m1;
        block_range(M, per_group, c % per_group, m0, m1);
        gemm_into(mat(y + (n * g.cout + gi * M + m0) * P, m1 - m0, P, P),
                  cmat(w + (gi * M + m0) * K, m1 - m0, K, K), cmat(src + gi * K * P, K, P, P),
                  false, false);
      });
    }
  }
  if (bias) add_bias(y, bias, g.n, g.cout, P);
}

template <class T>
void conv2d_backward_data(const ConvGeom& g, const T* w, const T* dy, T* dx) {
  if (g.n == 0) return;
  if (g.direct()) return direct_backward_data(g, w, dy, dx);
  const int64_t P = g.out_plane(), K = g.k_g(), M = g.cout_g(), taps = g.kh * g.kw;
  const int64_t cg = g.cin_g();
  const int threads = pass_threads(2.0 * g.n * g.cout * K * P);
  if (threads == 1 || g.n * g.cin >= int64_t(kChunksPerThread) * threads) {
    // Chunks of input channels: each computes its channels' column rows and col2ims them
    // into the input rows it alone owns.
    const int64_t per_group =
        std::min(cg, std::max<int64_t>(1, chunk_count(g.n * g.cin, threads) / (g.n * g.groups)));
    run_chunks(g.n * g.groups * per_group, threads, [&](int64_t c) {
      const int64_t n = c / (g.groups * per_group), gi = c / per_group % g.groups;
      int64_t c0, c1;
      block_range(cg, per_group, c % per_group, c0, c1);
      const int64_t rows = (c1 - c0) * taps, first = gi * cg + c0;
      T* dxn = dx + n * g.cin * g.in_plane();
      T* dst = g.pointwise() ? dxn + first * P : scratch<T>(rows * P);
      gemm_into(mat(dst, rows, P, P), cmat(w + gi * M * K + c0 * taps, M, rows, K).transpose(),
                cmat(dy + (n * g.cout + gi * M) * P, M, P, P), false, true);
      if (!g.pointwise()) col2im_channels(g, dst, first, first + c1 - c0, dxn);
    });
  } else {
    // Too few channels to share out: chunks of columns into the image's column matrix, then
    // chunks of input rows for col2im.
    T* col = g.pointwise() ? nullptr : scratch<T>(g.cin * taps * P);
    const int64_t col_blocks = chunk_count((P + 15) / 16, threads);
    const int64_t row_blocks = chunk_count(g.cin * g.h, threads);
    for (int64_t n = 0; n < g.n; ++n) {
      T* dxn = dx + n * g.cin * g.in_plane();
      T* dst = col ? col : dxn;
      run_chunks(col_blocks, threads, [&](int64_t j) {
        int64_t p0, p1;
        block_range((P + 15) / 16, col_blocks, j, p0, p1);
        p0 *= 16;
        p1 = std::min(P, p1 * 16);
        for (int64_t gi = 0; gi < g.groups; ++gi)
          gemm_into(mat(dst + gi * K * P + p0, K, p1 - p0, P),
                    cmat(w + gi * M * K, M, K, K).transpose(),
                    cmat(dy + (n * g.cout + gi * M) * P + p0, M, p1 - p0, P), false, true);
      });
      if (col)
        run_chunks(row_blocks, threads, [&](int64_t j) {
          int64_t r0, r1;
          block_range(g.cin * g.h, row_blocks, j, r0, r1);
          col2im_rows(g, col, r0, r1, dxn);
        });
    }
  }
}

template <class T>
void conv2d_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw) {
  if (g.n == 0) {  // an empty batch contributes nothing; the GEMM paths below never write dw
    std::fill(dw, dw + g.cout * g.k_g(), T(0));
    return;
  }
  if (g.direct()) return direct_backward_weight(g, x, dy, dw);
  const int64_t P = g.out_plane(), K = g.k_g(), M = g.cout_g(), taps = g.kh * g.kw;
  const int64_t cg = g.cin_g();
  const int threads = pass_threads(2.0 * g.n * g.cout * K * P);
  if (g.cin * taps >= P) {
    // More weights than pixels: chunks of input channels, i.e. of dW's columns, each
    // summing over the batch with its own column tiles.
    const int64_t per_group =
        std::min(cg, std::max<int64_t>(1, chunk_count(g.cin, threads) / g.groups));
    run_chunks(g.groups * per_group, threads, [&](int64_t c) {
      const int64_t gi = c / per_group;
      int64_t c0, c1;
      block_range(cg, per_group, c % per_group, c0, c1);
      const int64_t rows = (c1 - c0) * taps, first = gi * cg + c0;
      for (int64_t n = 0; n < g.n; ++n) {
        const T* xn = x + n * g.cin * g.in_plane();
        const T* src = xn + first * P;
        if (!g.pointwise()) {
          T* tile = scratch<T>(rows * P);
          im2col_tile(g, xn, first, first + c1 - c0, 0, g.oh, tile);
          src = tile;
        }
        gemm_into(mat(dw + gi * M * K + c0 * taps, M, rows, K),
                  cmat(dy + (n * g.cout + gi * M) * P, M, P, P), cmat(src, rows, P, P).transpose(),
                  n > 0, false);
      }
    });
    return;
  }
  // More pixels than weights: chunks of output rows, each into its own partial dW; the
  // partials are summed in chunk order, so the result does not depend on which thread ran
  // which chunk.
  const int64_t per_image = std::max<int64_t>(1, chunk_count(g.n * g.oh, threads) / g.n);
  const int64_t chunks = g.n * per_image, wsize = g.cout * K;
  T* parts = threads > 1 ? scratch<T, 2>(chunks * wsize) : nullptr;
  run_chunks(chunks, threads, [&](int64_t c) {
    const int64_t n = c / per_image;
    int64_t oy0, oy1;
    block_range(g.oh, per_image, c % per_image, oy0, oy1);
    const int64_t cols = (oy1 - oy0) * g.ow, p0 = oy0 * g.ow;
    const auto [src, ld] = row_block_columns(g, x + n * g.cin * g.in_plane(), oy0, oy1);
    T* part = parts ? parts + c * wsize : dw;
    const bool accumulate = !parts && c > 0;
    for (int64_t gi = 0; gi < g.groups; ++gi)
      gemm_into(mat(part + gi * M * K, M, K, K),
                cmat(dy + (n * g.cout + gi * M) * P + p0, M, cols, P),
                cmat(src + gi * K * ld, K, cols, ld).transpose(), accumulate, false);
  });
  if (!parts) return;
  const int64_t blocks = chunk_count(wsize / 1024 + 1, threads);
  run_chunks(blocks, threads, [&](int64_t j) {
    int64_t i0, i1;
    block_range(wsize, blocks, j, i0, i1);
    std::copy(parts + i0, parts + i1, dw + i0);
    for (int64_t c = 1; c < chunks; ++c)
      for (int64_t i = i0; i < i1; ++i) dw[i] += parts[c * wsize + i];
  });
}

template <class T>
void bias_backward(const T* dy, int64_t n, int64_t c, int64_t plane, T* db) {
#pragma omp parallel for schedule(static) if (n * c * plane > kGrain)
  for (int64_t ci = 0; ci < c; ++ci) {
    T acc = 0;
    for (int64_t ni = 0; ni < n; ++ni) {
      const T* p = dy + (ni * c + ci) * plane;
      for (int64_t i = 0; i < plane; ++i) acc += p[i];
    }
    db[ci] = acc;
  }
}

template <class T>
void add_bias(T* y, const T* b, int64_t n, int64_t c, int64_t plane) {
#pragma omp parallel for schedule(static) if (n * c * plane > kGrain)
  for (int64_t p = 0; p < n * c; ++p) {
    const T v = b[p % c];
    T* yp = y + p * plane;
    for (int64_t i = 0; i < plane; ++i) yp[i] += v;
  }
}

#define MASKOFF_CONV_INSTANTIATE(T)                                                   \
  template void conv2d_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data<T>(const ConvGeom&, const T*, const T*, T*);     \
  template void conv2d_backward_weight<T>(const ConvGeom&, const T*, const T*, T*);   \
  template void bias_backward<T>(const T*, int64_t, int64_t, int64_t, T*);            \
  template void add_bias<T>(T*, const T*, int64_t, int64_t, int64_t);
MASKOFF_CONV_INSTANTIATE(float)
MASKOFF_CONV_INSTANTIATE(double)
#undef MASKOFF_CONV_INSTANTIATE

}  // namespace maskoff::cpu
