// cuDNN's legacy convolution API from its documented semantics, for float32 tensors.
//
// For input x [N, C, H, W] (any strides), filter w [K, C/G, R, S] (packed NCHW) and G
// groups, output pixel (oy, ox) of channel k reads input rows oy*u - pad_h + r*dil_h and
// columns ox*v - pad_w + s*dil_w (zero outside), input channels of k's group only, and
// filter tap (r, s), or (R-1-r, S-1-s) in CUDNN_CONVOLUTION mode. The output size is
// 1 + (H + 2*pad_h - ((R-1)*dil_h + 1)) / u. Results are blended as
// alpha * result + beta * destination, and a destination is not read when beta == 0.
//
// Two algorithms per pass are real, different implementations: a direct loop that needs
// no workspace, and one that unrolls the input into a column matrix in the caller's
// workspace (im2col) and multiplies, so a workspace that is too small, freed or shared
// shows up as a fault or wrong numbers, as on a GPU. The other algorithm numbers are
// listed as CUDNN_STATUS_NOT_SUPPORTED. cudnnFind*AlgorithmEx runs each usable algorithm
// on the caller's buffers, as cuDNN's does, and reports modelled times (the column-matrix
// algorithm first), so the choice is the same on every run. Where the math type allows
// TF32 (anything but CUDNN_FMA_MATH, as on Ampere and later), inputs are rounded to TF32.
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "internal.h"

struct cudnnContext {
  cudaStream_t stream = nullptr;
};
struct cudnnTensorStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int dim[4] = {};
  long long stride[4] = {};
};
struct cudnnFilterStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;
  int k = 0, c = 0, r = 0, s = 0;
};
struct cudnnConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, u = 1, v = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

using namespace cudasim::detail;  // NOLINT: this file implements part of the simulator

namespace {

// One convolution, its shapes checked against each other.
struct Conv {
  int n, c, h, w;   // input
  int k, cg, r, s;  // filter: K outputs, C/G inputs per group, R x S taps
  int groups, kg;   // G groups of K/G outputs
  int oh, ow;       // output
  int pad_h, pad_w, u, v, dil_h, dil_w;
  bool flip, tf32;
  long long xs[4], ys[4];  // element strides of x and y

  size_t x_bytes() const { return extent(xs, n, c, h, w); }
  size_t y_bytes() const { return extent(ys, n, k, oh, ow); }
  size_t w_bytes() const { return sizeof(float) * k * cg * r * s; }
  size_t col_bytes() const { return sizeof(float) * cg * r * s * oh * ow; }  // one image-group
  static size_t extent(const long long* st, int a, int b, int c2, int d) {
    if (!a || !b || !c2 || !d) return 0;
    return sizeof(float) * static_cast<size_t>((a - 1) * st[0] + (b - 1) * st[1] +
                                               (c2 - 1) * st[2] + (d - 1) * st[3] + 1);
  }
  size_t xi(int in, int ic, int iy, int ix) const {
    return static_cast<size_t>(in * xs[0] + ic * xs[1] + iy * xs[2] + ix * xs[3]);
  }
  size_t yi(int in, int ok, int oy, int ox) const {
    return static_cast<size_t>(in * ys[0] + ok * ys[1] + oy * ys[2] + ox * ys[3]);
  }
  size_t wi(int ok, int ic, int tr, int ts) const {  // tap (tr, ts) as the input sees it
    if (flip) tr = r - 1 - tr, ts = s - 1 - ts;
    return static_cast<size_t>(((ok * cg + ic) * r + tr) * s + ts);
  }
  float in(float v) const { return tf32 ? round_tf32(v) : v; }
};

bool tf32_allowed(cudnnMathType_t m) { return m != CUDNN_FMA_MATH; }

cudnnStatus_t bad(const std::string& call, const std::string& why) {
  explain(call + ": " + why);
  return CUDNN_STATUS_BAD_PARAM;
}

cudnnStatus_t output_dims(const cudnnConvolutionStruct& cv, const cudnnTensorStruct& x,
                          const cudnnFilterStruct& f, int* oh, int* ow, const std::string& call) {
  if (!cv.set || !x.set || !f.set) return bad(call, "a descriptor was never set");
  if (x.dim[1] != f.c * cv.groups)
    return bad(call, "the input has " + std::to_string(x.dim[1]) +
                         " channels, but the filter has " + std::to_string(f.c) + " per group x " +
                         std::to_string(cv.groups) + " group(s)");
  if (f.k % cv.groups != 0)
    return bad(call, std::to_string(f.k) + " output channels do not split into " +
                         std::to_string(cv.groups) + " groups");
  const int eh = (f.r - 1) * cv.dil_h + 1, ew = (f.s - 1) * cv.dil_w + 1;
  const int sh = x.dim[2] + 2 * cv.pad_h - eh, sw = x.dim[3] + 2 * cv.pad_w - ew;
  if (sh < 0 || sw < 0) return bad(call, "the filter is larger than the padded input");
  *oh = 1 + sh / cv.u;
  *ow = 1 + sw / cv.v;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t make_conv(const cudnnTensorStruct* x, const cudnnFilterStruct* f,
                        const cudnnConvolutionStruct* cv, const cudnnTensorStruct* y, Conv* g,
                        const std::string& call) {
  if (!x || !f || !cv || !y) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  int oh = 0, ow = 0;
  if (cudnnStatus_t st = output_dims(*cv, *x, *f, &oh, &ow, call)) return st;
  if (!y->set) return bad(call, "the output descriptor was never set");
  if (x->type != CUDNN_DATA_FLOAT || y->type != CUDNN_DATA_FLOAT || f->type != CUDNN_DATA_FLOAT ||
      f->format != CUDNN_TENSOR_NCHW) {
    explain(call + ": only float32 tensors and NCHW filters are simulated");
    return CUDNN_STATUS_NOT_SUPPORTED;
  }
  if (y->dim[0] != x->dim[0] || y->dim[1] != f->k || y->dim[2] != oh || y->dim[3] != ow)
    return bad(call, "the output descriptor is [" + std::to_string(y->dim[0]) + ", " +
                         std::to_string(y->dim[1]) + ", " + std::to_string(y->dim[2]) + ", " +
                         std::to_string(y->dim[3]) + "], the convolution gives [" +
                         std::to_string(x->dim[0]) + ", " + std::to_string(f->k) + ", " +
                         std::to_string(oh) + ", " + std::to_string(ow) + "]");
  *g = Conv{x->dim[0],
            x->dim[1],
            x->dim[2],
            x->dim[3],
            f->k,
            f->c,
            f->r,
            f->s,
            cv->groups,
            f->k / cv->groups,
            oh,
            ow,
            cv->pad_h,
            cv->pad_w,
            cv->u,
            cv->v,
            cv->dil_h,
            cv->dil_w,
            cv->mode == CUDNN_CONVOLUTION,
            tf32_allowed(cv->math),
            {x->stride[0], x->stride[1], x->stride[2], x->stride[3]},
            {y->stride[0], y->stride[1], y->stride[2], y->stride[3]}};
  return CUDNN_STATUS_SUCCESS;
}

inline void blend(float* dst, float value, float alpha, float beta) {
  *dst = beta == 0.f ? alpha * value : alpha * value + beta * *dst;
}

// The input row/column a tap reads, or -1 outside the input.
inline int in_row(const Conv& g, int oy, int tr) {
  const int iy = oy * g.u - g.pad_h + tr * g.dil_h;
  return iy >= 0 && iy < g.h ? iy : -1;
}
inline int in_col(const Conv& g, int ox, int ts) {
  const int ix = ox * g.v - g.pad_w + ts * g.dil_w;
  return ix >= 0 && ix < g.w ? ix : -1;
}

// Unrolls image n, group grp of x into col [(c, r, s) rows, (oy, ox) columns].
void im2col(const Conv& g, const float* x, int n, int grp, float* col) {
  const int pix = g.oh * g.ow;
  for (int c = 0; c < g.cg; ++c)
    for (int tr = 0; tr < g.r; ++tr)
      for (int ts = 0; ts < g.s; ++ts) {
        float* row = col + static_cast<size_t>((c * g.r + tr) * g.s + ts) * pix;
        for (int oy = 0; oy < g.oh; ++oy)
          for (int ox = 0; ox < g.ow; ++ox) {
            const int iy = in_row(g, oy, tr), ix = in_col(g, ox, ts);
            row[oy * g.ow + ox] = iy < 0 || ix < 0 ? 0.f : g.in(x[g.xi(n, grp * g.cg + c, iy, ix)]);
          }
      }
}

// ---- forward ----------------------------------------------------------------------------
void forward_direct(const Conv& g, const float* x, const float* w, float* y, float alpha,
                    float beta) {
  for (int n = 0; n < g.n; ++n)
    for (int k = 0; k < g.k; ++k) {
      const int grp = k / g.kg;
      for (int oy = 0; oy < g.oh; ++oy)
        for (int ox = 0; ox < g.ow; ++ox) {
          float acc = 0.f;
          for (int c = 0; c < g.cg; ++c)
            for (int tr = 0; tr < g.r; ++tr) {
              const int iy = in_row(g, oy, tr);
              if (iy < 0) continue;
              for (int ts = 0; ts < g.s; ++ts) {
                const int ix = in_col(g, ox, ts);
                if (ix < 0) continue;
                acc = std::fma(g.in(x[g.xi(n, grp * g.cg + c, iy, ix)]),
                               g.in(w[g.wi(k, c, tr, ts)]), acc);
              }
            }
          blend(&y[g.yi(n, k, oy, ox)], acc, alpha, beta);
        }
    }
}

void forward_gemm(const Conv& g, const float* x, const float* w, float* y, float alpha, float beta,
                  float* col) {
  const int pix = g.oh * g.ow, rows = g.cg * g.r * g.s;
  for (int n = 0; n < g.n; ++n)
    for (int grp = 0; grp < g.groups; ++grp) {
      im2col(g, x, n, grp, col);
      for (int k = grp * g.kg; k < (grp + 1) * g.kg; ++k)
        for (int p = 0; p < pix; ++p) {
          float acc = 0.f;
          for (int row = 0; row < rows; ++row) {
            const int c = row / (g.r * g.s), tr = row / g.s % g.r, ts = row % g.s;
            acc =
                std::fma(col[static_cast<size_t>(row) * pix + p], g.in(w[g.wi(k, c, tr, ts)]), acc);
          }
          blend(&y[g.yi(n, k, p / g.ow, p % g.ow)], acc, alpha, beta);
        }
    }
}

// ---- backward data ----------------------------------------------------------------------
void data_direct(const Conv& g, const float* w, const float* dy, float* dx, float alpha,
                 float beta) {
  for (int n = 0; n < g.n; ++n)
    for (int ci = 0; ci < g.c; ++ci) {
      const int grp = ci / g.cg, c = ci % g.cg;
      for (int iy = 0; iy < g.h; ++iy)
        for (int ix = 0; ix < g.w; ++ix) {
          float acc = 0.f;
          for (int k = grp * g.kg; k < (grp + 1) * g.kg; ++k)
            for (int tr = 0; tr < g.r; ++tr) {
              const int ty = iy + g.pad_h - tr * g.dil_h;
              if (ty < 0 || ty % g.u != 0 || ty / g.u >= g.oh) continue;
              for (int ts = 0; ts < g.s; ++ts) {
                const int tx = ix + g.pad_w - ts * g.dil_w;
                if (tx < 0 || tx % g.v != 0 || tx / g.v >= g.ow) continue;
                acc = std::fma(g.in(dy[g.yi(n, k, ty / g.u, tx / g.v)]),
                               g.in(w[g.wi(k, c, tr, ts)]), acc);
              }
            }
          blend(&dx[g.xi(n, ci, iy, ix)], acc, alpha, beta);
        }
    }
}

void data_gemm(const Conv& g, const float* w, const float* dy, float* dx, float alpha, float beta,
               float* col) {
  const int pix = g.oh * g.ow, rows = g.cg * g.r * g.s;
  std::vector<float> acc(static_cast<size_t>(g.cg) * g.h * g.w);
  for (int n = 0; n < g.n; ++n)
    for (int grp = 0; grp < g.groups; ++grp) {
      // col = W_group^T * dy_group: what each (c, r, s) tap contributes at each output pixel.
      for (int row = 0; row < rows; ++row) {
        const int c = row / (g.r * g.s), tr = row / g.s % g.r, ts = row % g.s;
        for (int p = 0; p < pix; ++p) {
          float a = 0.f;
          for (int k = grp * g.kg; k < (grp + 1) * g.kg; ++k)
            a = std::fma(g.in(w[g.wi(k, c, tr, ts)]), g.in(dy[g.yi(n, k, p / g.ow, p % g.ow)]), a);
          col[static_cast<size_t>(row) * pix + p] = a;
        }
      }
      // col2im: add each column entry back onto the input pixel its tap read.
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int row = 0; row < rows; ++row) {
        const int c = row / (g.r * g.s), tr = row / g.s % g.r, ts = row % g.s;
        for (int p = 0; p < pix; ++p) {
          const int iy = in_row(g, p / g.ow, tr), ix = in_col(g, p % g.ow, ts);
          if (iy >= 0 && ix >= 0)
            acc[(static_cast<size_t>(c) * g.h + iy) * g.w + ix] +=
                col[static_cast<size_t>(row) * pix + p];
        }
      }
      for (int c = 0; c < g.cg; ++c)
        for (int iy = 0; iy < g.h; ++iy)
          for (int ix = 0; ix < g.w; ++ix)
            blend(&dx[g.xi(n, grp * g.cg + c, iy, ix)],
                  acc[(static_cast<size_t>(c) * g.h + iy) * g.w + ix], alpha, beta);
    }
}

// ---- backward filter --------------------------------------------------------------------
void filter_direct(const Conv& g, const float* x, const float* dy, float* dw, float alpha,
                   float beta) {
  for (int k = 0; k < g.k; ++k) {
    const int grp = k / g.kg;
    for (int c = 0; c < g.cg; ++c)
      for (int tr = 0; tr < g.r; ++tr)
        for (int ts = 0; ts < g.s; ++ts) {
          float acc = 0.f;
          for (int n = 0; n < g.n; ++n)
            for (int oy = 0; oy < g.oh; ++oy) {
              const int iy = in_row(g, oy, tr);
              if (iy < 0) continue;
              for (int ox = 0; ox < g.ow; ++ox) {
                const int ix = in_col(g, ox, ts);
                if (ix < 0) continue;
                acc = std::fma(g.in(dy[g.yi(n, k, oy, ox)]),
                               g.in(x[g.xi(n, grp * g.cg + c, iy, ix)]), acc);
              }
            }
          blend(&dw[g.wi(k, c, tr, ts)], acc, alpha, beta);
        }
  }
}

void filter_gemm(const Conv& g, const float* x, const float* dy, float* dw, float alpha, float beta,
                 float* col) {
  const int pix = g.oh * g.ow, rows = g.cg * g.r * g.s;
  std::vector<float> acc(static_cast<size_t>(g.k) * rows, 0.f);
  for (int n = 0; n < g.n; ++n)
    for (int grp = 0; grp < g.groups; ++grp) {
      im2col(g, x, n, grp, col);
      for (int k = grp * g.kg; k < (grp + 1) * g.kg; ++k)
        for (int row = 0; row < rows; ++row) {
          float a = acc[static_cast<size_t>(k) * rows + row];
          for (int p = 0; p < pix; ++p)
            a = std::fma(g.in(dy[g.yi(n, k, p / g.ow, p % g.ow)]),
                         col[static_cast<size_t>(row) * pix + p], a);
          acc[static_cast<size_t>(k) * rows + row] = a;
        }
    }
  for (int k = 0; k < g.k; ++k)
    for (int row = 0; row < rows; ++row) {
      const int c = row / (g.r * g.s), tr = row / g.s % g.r, ts = row % g.s;
      blend(&dw[g.wi(k, c, tr, ts)], acc[static_cast<size_t>(k) * rows + row], alpha, beta);
    }
}

// ---- the three passes, their algorithms and the calls that run them ----------------------
enum class Pass { Forward, Data, Filter };

// Workspace an algorithm needs, or -1 when the simulator does not implement it.
long long need(Pass pass, int algo, const Conv& g) {
  const bool direct =
      pass == Pass::Forward ? algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM : algo == 0;
  const bool gemm = pass == Pass::Forward ? algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM : algo == 1;
  return direct ? 0 : gemm ? static_cast<long long>(g.col_bytes()) : -1;
}
int algo_count(Pass pass) {
  switch (pass) {
    case Pass::Forward:
      return CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    case Pass::Data:
      return CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    case Pass::Filter:
      return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}
const char* pass_name(Pass pass) {
  return pass == Pass::Forward ? "cudnnConvolutionForward"
         : pass == Pass::Data  ? "cudnnConvolutionBackwardData"
                               : "cudnnConvolutionBackwardFilter";
}

// Runs a pass now, on device memory that is open: a = the pass's first operand (x, or w
// for backward data), b = its second (w, or dy), out = what it writes.
void run_pass(Pass pass, int algo, const Conv& g, const float* a, const float* b, float* out,
              float alpha, float beta, float* ws) {
  const bool direct = need(pass, algo, g) == 0;
  switch (pass) {
    case Pass::Forward:
      direct ? forward_direct(g, a, b, out, alpha, beta)
             : forward_gemm(g, a, b, out, alpha, beta, ws);
      break;
    case Pass::Data:
      direct ? data_direct(g, a, b, out, alpha, beta) : data_gemm(g, a, b, out, alpha, beta, ws);
      break;
    case Pass::Filter:
      direct ? filter_direct(g, a, b, out, alpha, beta)
             : filter_gemm(g, a, b, out, alpha, beta, ws);
      break;
  }
}

// Extents of a pass's operands, in the order run_pass takes them.
void extents(Pass pass, const Conv& g, size_t* a, size_t* b, size_t* out) {
  switch (pass) {
    case Pass::Forward:
      *a = g.x_bytes(), *b = g.w_bytes(), *out = g.y_bytes();
      break;
    case Pass::Data:
      *a = g.w_bytes(), *b = g.y_bytes(), *out = g.x_bytes();
      break;
    case Pass::Filter:
      *a = g.x_bytes(), *b = g.y_bytes(), *out = g.w_bytes();
      break;
  }
}

cudnnStatus_t launch_pass(cudnnHandle_t h, Pass pass, int algo, const Conv& g, const void* alpha,
                          const void* a, const void* b, void* out, void* ws, size_t ws_bytes,
                          const void* beta) {
  const std::string call = pass_name(pass);
  if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!alpha || !beta) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  const long long want = need(pass, algo, g);
  if (want < 0) {
    explain(call + ": algorithm " + std::to_string(algo) + " is not simulated");
    return CUDNN_STATUS_NOT_SUPPORTED;
  }
  if (static_cast<size_t>(want) > ws_bytes || (want > 0 && !ws))
    return bad(call, "algorithm " + std::to_string(algo) + " needs " + std::to_string(want) +
                         " bytes of workspace, " + std::to_string(ws_bytes) + " given");
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  const auto* pa = static_cast<const float*>(a);
  const auto* pb = static_cast<const float*>(b);
  auto* po = static_cast<float*>(out);
  auto* pw = static_cast<float*>(ws);
  auto work = [=] {
    size_t ea, eb, eo;
    extents(pass, g, &ea, &eb, &eo);
    if (!readable_extent(pa, ea, call + " operand 1") ||
        !readable_extent(pb, eb, call + " operand 2") ||
        !readable_extent(po, eo, call + " output") ||
        (want > 0 && !readable_extent(pw, static_cast<size_t>(want), call + " workspace")))
      return;
    run_pass(pass, algo, g, pa, pb, po, al, be, pw);
  };
  if (enqueue(h->stream, call, work) != cudaSuccess) return CUDNN_STATUS_EXECUTION_FAILED;
  return CUDNN_STATUS_SUCCESS;
}

template <class Perf, class Algo>
void heuristics(Pass pass, const Conv& g, cudnnMathType_t math, int requested, int* returned,
                Perf* results) {
  std::vector<Perf> all;
  for (int algo = 0; algo < algo_count(pass); ++algo) {
    Perf p{};
    p.algo = static_cast<Algo>(algo);
    const long long want = need(pass, algo, g);
    p.status = want < 0 ? CUDNN_STATUS_NOT_SUPPORTED : CUDNN_STATUS_SUCCESS;
    p.time = want < 0 ? -1.f : (want > 0 ? 1.f : 2.f);  // modelled: the column matrix wins
    p.memory = want < 0 ? 0 : static_cast<size_t>(want);
    p.determinism = CUDNN_DETERMINISTIC;
    p.mathType = tf32_allowed(math) ? math : CUDNN_FMA_MATH;
    all.push_back(p);
  }
  std::stable_sort(all.begin(), all.end(), [](const Perf& x, const Perf& y) {
    const bool xs = x.status == CUDNN_STATUS_SUCCESS, ys = y.status == CUDNN_STATUS_SUCCESS;
    return xs != ys ? xs : (xs && x.time < y.time);
  });
  const int n = std::min<int>(requested, static_cast<int>(all.size()));
  std::copy(all.begin(), all.begin() + std::max(0, n), results);
  *returned = std::max(0, n);
}

// cudnnFind*AlgorithmEx: blocking. Runs every usable algorithm that fits the workspace on
// the caller's buffers, then reports them in the modelled order.
template <class Perf, class Algo>
cudnnStatus_t find(cudnnHandle_t h, Pass pass, const Conv& g, cudnnMathType_t math, const void* a,
                   const void* b, void* out, int requested, int* returned, Perf* results, void* ws,
                   size_t ws_bytes) {
  const std::string call = std::string("cudnnFind") +
                           (pass == Pass::Forward ? "ConvolutionForward"
                            : pass == Pass::Data  ? "ConvolutionBackwardData"
                                                  : "ConvolutionBackwardFilter") +
                           "AlgorithmEx";
  if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!returned || !results || requested < 1) return CUDNN_STATUS_BAD_PARAM;
  if (require_not_capturing(h->stream, call.c_str()) != cudaSuccess ||
      cudaStreamSynchronize(h->stream) != cudaSuccess)
    return CUDNN_STATUS_EXECUTION_FAILED;
  size_t ea, eb, eo;
  extents(pass, g, &ea, &eb, &eo);
  std::string why;
  if (!device_range(a, ea, &why) || !device_range(b, eb, &why) || !device_range(out, eo, &why) ||
      (ws_bytes > 0 && !device_range(ws, ws_bytes, &why)))
    return bad(call, why);
  heuristics<Perf, Algo>(pass, g, math, requested, returned, results);
  Lock lock(device_mutex());
  DeviceMemoryOpen open;
  for (int i = 0; i < *returned; ++i) {
    Perf& p = results[i];
    if (p.status != CUDNN_STATUS_SUCCESS) continue;
    if (p.memory > ws_bytes) {
      p.status = CUDNN_STATUS_NOT_SUPPORTED;  // does not fit the workspace offered
      continue;
    }
    run_pass(pass, p.algo, g, static_cast<const float*>(a), static_cast<const float*>(b),
             static_cast<float*>(out), 1.f, 0.f, static_cast<float*>(ws));
    check_guards(call);
  }
  std::stable_sort(results, results + *returned, [](const Perf& x, const Perf& y) {
    return (x.status == CUDNN_STATUS_SUCCESS) > (y.status == CUDNN_STATUS_SUCCESS);
  });
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

// ---- handles and descriptors ------------------------------------------------------------

size_t cudnnGetVersion() { return CUDNN_VERSION; }

const char* cudnnGetErrorString(cudnnStatus_t s) {
  static const Named<cudnnStatus_t> kTable[] = {
      CUDASIM_NAMED(CUDNN_STATUS_SUCCESS),       CUDASIM_NAMED(CUDNN_STATUS_NOT_INITIALIZED),
      CUDASIM_NAMED(CUDNN_STATUS_BAD_PARAM),     CUDASIM_NAMED(CUDNN_STATUS_BAD_PARAM_NULL_POINTER),
      CUDASIM_NAMED(CUDNN_STATUS_NOT_SUPPORTED), CUDASIM_NAMED(CUDNN_STATUS_EXECUTION_FAILED)};
  return text_of(s, kTable, "CUDNN_STATUS_INTERNAL_ERROR");
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (!handle) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    return CUDNN_STATUS_NOT_INITIALIZED;
  }
  *handle = new cudnnContext();
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUDNN_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!stream) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  *stream = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  *d = new cudnnTensorStruct();
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t d, cudnnDataType_t type, int n,
                                           int c, int h, int w, int ns, int cs, int hs, int ws) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || ns <= 0 || cs <= 0 || hs <= 0 || ws <= 0)
    return bad("cudnnSetTensor4dDescriptor", "every dimension and stride must be positive");
  *d = cudnnTensorStruct{true, type, {n, c, h, w}, {ns, cs, hs, ws}};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c, int h, int w) {
  if (format == CUDNN_TENSOR_NHWC)
    return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, h * w * c, 1, w * c, c);
  if (format != CUDNN_TENSOR_NCHW) return CUDNN_STATUS_NOT_SUPPORTED;
  return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, c * h * w, h * w, w, 1);
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  *d = new cudnnFilterStruct();
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (k <= 0 || c <= 0 || h <= 0 || w <= 0)
    return bad("cudnnSetFilter4dDescriptor", "every dimension must be positive");
  *d = cudnnFilterStruct{true, type, format, k, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  *d = new cudnnConvolutionStruct();
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w,
                                              int u, int v, int dil_h, int dil_w,
                                              cudnnConvolutionMode_t mode, cudnnDataType_t) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 || dil_w <= 0 ||
      (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION))
    return bad("cudnnSetConvolution2dDescriptor",
               "padding must be >= 0, strides and dilations > 0, the mode one of the two");
  d->set = true;
  d->pad_h = pad_h, d->pad_w = pad_w, d->u = u, d->v = v, d->dil_h = dil_h, d->dil_w = dil_w;
  d->mode = mode;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int groups) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (groups < 1) return bad("cudnnSetConvolutionGroupCount", "groups must be >= 1");
  d->groups = groups;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
  if (!d) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (math < CUDNN_DEFAULT_MATH || math > CUDNN_FMA_MATH) return CUDNN_STATUS_BAD_PARAM;
  d->math = math;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(cudnnConvolutionDescriptor_t conv,
                                                    cudnnTensorDescriptor_t x,
                                                    cudnnFilterDescriptor_t w, int* n, int* c,
                                                    int* h, int* wd) {
  if (!conv || !x || !w || !n || !c || !h || !wd) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  if (cudnnStatus_t st = output_dims(*conv, *x, *w, h, wd, "cudnnGetConvolution2dForwardOutputDim"))
    return st;
  *n = x->dim[0];
  *c = w->k;
  return CUDNN_STATUS_SUCCESS;
}

// ---- algorithms -------------------------------------------------------------------------

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t, int* count) {
  *count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t, int* count) {
  *count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t, int* count) {
  *count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                     cudnnFilterDescriptor_t w,
                                                     cudnnConvolutionDescriptor_t conv,
                                                     cudnnTensorDescriptor_t y, int requested,
                                                     int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* results) {
  Conv g;
  if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
  if (cudnnStatus_t st = make_conv(x, w, conv, y, &g, "cudnnGetConvolutionForwardAlgorithm_v7"))
    return st;
  heuristics<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      Pass::Forward, g, conv->math, requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t h, cudnnFilterDescriptor_t w, cudnnTensorDescriptor_t dy,
    cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t dx, int requested, int* returned,
    cudnnConvolutionBwdDataAlgoPerf_t* results) {
  Conv g;
  if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
  if (cudnnStatus_t st =
          make_conv(dx, w, conv, dy, &g, "cudnnGetConvolutionBackwardDataAlgorithm_v7"))
    return st;
  heuristics<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      Pass::Data, g, conv->math, requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(
    cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t dy,
    cudnnConvolutionDescriptor_t conv, cudnnFilterDescriptor_t dw, int requested, int* returned,
    cudnnConvolutionBwdFilterAlgoPerf_t* results) {
  Conv g;
  if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
  if (cudnnStatus_t st =
          make_conv(x, dw, conv, dy, &g, "cudnnGetConvolutionBackwardFilterAlgorithm_v7"))
    return st;
  heuristics<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      Pass::Filter, g, conv->math, requested, returned, results);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(
    cudnnHandle_t h, cudnnTensorDescriptor_t x_desc, const void* x, cudnnFilterDescriptor_t w_desc,
    const void* w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y_desc, void* y,
    int requested, int* returned, cudnnConvolutionFwdAlgoPerf_t* results, void* ws,
    size_t ws_bytes) {
  Conv g;
  if (cudnnStatus_t st =
          make_conv(x_desc, w_desc, conv, y_desc, &g, "cudnnFindConvolutionForwardAlgorithmEx"))
    return st;
  return find<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      h, Pass::Forward, g, conv->math, x, w, y, requested, returned, results, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t h, cudnnFilterDescriptor_t w_desc, const void* w, cudnnTensorDescriptor_t dy_desc,
    const void* dy, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t dx_desc, void* dx,
    int requested, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* results, void* ws,
    size_t ws_bytes) {
  Conv g;
  if (cudnnStatus_t st = make_conv(dx_desc, w_desc, conv, dy_desc, &g,
                                   "cudnnFindConvolutionBackwardDataAlgorithmEx"))
    return st;
  return find<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      h, Pass::Data, g, conv->math, w, dy, dx, requested, returned, results, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t h, cudnnTensorDescriptor_t x_desc, const void* x, cudnnTensorDescriptor_t dy_desc,
    const void* dy, cudnnConvolutionDescriptor_t conv, cudnnFilterDescriptor_t dw_desc, void* dw,
    int requested, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* results, void* ws,
    size_t ws_bytes) {
  Conv g;
  if (cudnnStatus_t st = make_conv(x_desc, dw_desc, conv, dy_desc, &g,
                                   "cudnnFindConvolutionBackwardFilterAlgorithmEx"))
    return st;
  return find<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      h, Pass::Filter, g, conv->math, x, dy, dw, requested, returned, results, ws, ws_bytes);
}

namespace {
cudnnStatus_t workspace_size(Pass pass, int algo, const Conv& g, size_t* bytes) {
  if (!bytes) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  const long long want = need(pass, algo, g);
  if (want < 0) return CUDNN_STATUS_NOT_SUPPORTED;
  *bytes = static_cast<size_t>(want);
  return CUDNN_STATUS_SUCCESS;
}
}  // namespace

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, cudnnTensorDescriptor_t x,
                                                      cudnnFilterDescriptor_t w,
                                                      cudnnConvolutionDescriptor_t conv,
                                                      cudnnTensorDescriptor_t y,
                                                      cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  Conv g;
  if (cudnnStatus_t st = make_conv(x, w, conv, y, &g, "cudnnGetConvolutionForwardWorkspaceSize"))
    return st;
  return workspace_size(Pass::Forward, algo, g, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t, cudnnFilterDescriptor_t w,
                                                           cudnnTensorDescriptor_t dy,
                                                           cudnnConvolutionDescriptor_t conv,
                                                           cudnnTensorDescriptor_t dx,
                                                           cudnnConvolutionBwdDataAlgo_t algo,
                                                           size_t* bytes) {
  Conv g;
  if (cudnnStatus_t st =
          make_conv(dx, w, conv, dy, &g, "cudnnGetConvolutionBackwardDataWorkspaceSize"))
    return st;
  return workspace_size(Pass::Data, algo, g, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t, cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t dy,
    cudnnConvolutionDescriptor_t conv, cudnnFilterDescriptor_t dw,
    cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
  Conv g;
  if (cudnnStatus_t st =
          make_conv(x, dw, conv, dy, &g, "cudnnGetConvolutionBackwardFilterWorkspaceSize"))
    return st;
  return workspace_size(Pass::Filter, algo, g, bytes);
}

// ---- the passes -------------------------------------------------------------------------

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void* alpha,
                                      cudnnTensorDescriptor_t x_desc, const void* x,
                                      cudnnFilterDescriptor_t w_desc, const void* w,
                                      cudnnConvolutionDescriptor_t conv,
                                      cudnnConvolutionFwdAlgo_t algo, void* ws, size_t ws_bytes,
                                      const void* beta, cudnnTensorDescriptor_t y_desc, void* y) {
  Conv g;
  if (cudnnStatus_t st = make_conv(x_desc, w_desc, conv, y_desc, &g, "cudnnConvolutionForward"))
    return st;
  return launch_pass(h, Pass::Forward, algo, g, alpha, x, w, y, ws, ws_bytes, beta);
}
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void* alpha,
                                           cudnnFilterDescriptor_t w_desc, const void* w,
                                           cudnnTensorDescriptor_t dy_desc, const void* dy,
                                           cudnnConvolutionDescriptor_t conv,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* ws,
                                           size_t ws_bytes, const void* beta,
                                           cudnnTensorDescriptor_t dx_desc, void* dx) {
  Conv g;
  if (cudnnStatus_t st =
          make_conv(dx_desc, w_desc, conv, dy_desc, &g, "cudnnConvolutionBackwardData"))
    return st;
  return launch_pass(h, Pass::Data, algo, g, alpha, w, dy, dx, ws, ws_bytes, beta);
}
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void* alpha,
                                             cudnnTensorDescriptor_t x_desc, const void* x,
                                             cudnnTensorDescriptor_t dy_desc, const void* dy,
                                             cudnnConvolutionDescriptor_t conv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* ws,
                                             size_t ws_bytes, const void* beta,
                                             cudnnFilterDescriptor_t dw_desc, void* dw) {
  Conv g;
  if (cudnnStatus_t st =
          make_conv(x_desc, dw_desc, conv, dy_desc, &g, "cudnnConvolutionBackwardFilter"))
    return st;
  return launch_pass(h, Pass::Filter, algo, g, alpha, x, dy, dw, ws, ws_bytes, beta);
}
