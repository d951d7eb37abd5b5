// cuBLAS's float32 GEMMs (cublasGemmEx, cublasSgemm) through the public C API, on the
// engine's handle and stream, against plain double-precision loops written from cuBLAS's
// documented semantics: column-major storage, op(A) m x k, op(B) k x n, leading dimensions
// that may exceed the rows they hold, alpha and beta, C not read when beta == 0, the
// argument checks, and strict float32 versus TF32 compute. The engine's GEMMs and linear
// layers rest on these promises, so they are checked on their own, the same way on a GPU
// and in the simulation build; one test also holds cuBLAS against the CPU engine's matmul.
#ifdef MASKOFF_WITH_CUDA
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "layers/linear.h"
#include "tests/cuda_harness.h"
#include "tests/cuda_memory.h"

namespace maskoff::testing {
namespace {

// A column-major matrix as cuBLAS stores it: element (i, j) at v[i + j * ld], ld >= rows.
// The ld - rows elements at the foot of each column are padding no GEMM may touch.
struct Matrix {
  int rows = 0, cols = 0, ld = 0;
  std::vector<float> v;

  Matrix(int r, int c, int l, float fill) : rows(r), cols(c), ld(l), v(size_t(l) * c, fill) {}
  float& at(int i, int j) { return v[i + size_t(j) * ld]; }
  float at(int i, int j) const { return v[i + size_t(j) * ld]; }
};

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Written into C's padding: any change to it is a write outside the logical matrix.
constexpr float kSentinel = 1234.5f;

// A rows x cols matrix of values in [-1, 1) whose padding holds `pad` (NaN for inputs, so a
// GEMM that reads padding produces NaN).
Matrix random_matrix(int rows, int cols, int ld, std::mt19937_64& rng, float pad) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Matrix m(rows, cols, ld, pad);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) m.at(i, j) = u(rng);
  return m;
}

// Each element of C = alpha * op(A) * op(B) + beta * C0 in double, with the sum of the
// magnitudes of its terms (what float32 rounding error scales with), and the sum of the
// squares of its k products and the magnitude of their sum (what TF32 error scales with).
struct Reference {
  int m = 0, n = 0;
  std::vector<double> value, abs_sum, product_sq, product_sum;
  size_t idx(int i, int j) const { return i + size_t(j) * m; }
};

Reference gemm_reference(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         double alpha, const Matrix& a, const Matrix& b, double beta,
                         const Matrix& c0) {
  Reference r;
  r.m = m;
  r.n = n;
  const size_t count = size_t(m) * n;
  r.value.assign(count, 0.0);
  r.abs_sum.assign(count, 0.0);
  r.product_sq.assign(count, 0.0);
  r.product_sum.assign(count, 0.0);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double sum = 0, abs = 0, sq = 0;
      for (int p = 0; p < k; ++p) {
        const double x = ta == CUBLAS_OP_N ? a.at(i, p) : a.at(p, i);
        const double y = tb == CUBLAS_OP_N ? b.at(p, j) : b.at(j, p);
        sum += x * y;
        abs += std::fabs(x * y);
        sq += x * y * x * y;
      }
      const size_t e = r.idx(i, j);
      // beta == 0 means C is not read at all: its NaNs must not reach the result.
      const double old = beta == 0 ? 0.0 : beta * double(c0.at(i, j));
      r.value[e] = alpha * sum + old;
      r.abs_sum[e] = std::fabs(alpha) * abs + std::fabs(old);
      r.product_sq[e] = alpha * alpha * sq;
      r.product_sum[e] = std::fabs(alpha * sum);
    }
  return r;
}

// Strict float32: each element is k products summed in float32 (in whatever order or split
// the kernel uses), off by at most about k * 2^-24 of the summed magnitudes (4e-6 for
// k = 64); an element read from the wrong place is off by a whole term.
constexpr Tol kStrict{1e-5, 1e-5};

// |got - want| <= atol + rtol * (sum of |terms|) for every logical element of C.
::testing::AssertionResult matches(const Matrix& got, const Reference& want, Tol tol,
                                   const std::string& what) {
  int bad = 0;
  std::string first;
  for (int j = 0; j < want.n; ++j)
    for (int i = 0; i < want.m; ++i) {
      const size_t e = want.idx(i, j);
      const double g = got.at(i, j), bound = tol.atol + tol.rtol * want.abs_sum[e];
      if (!(std::fabs(g - want.value[e]) <= bound)) {  // NaN fails too
        if (bad++ == 0)
          first = "(" + std::to_string(i) + ", " + std::to_string(j) + "): got " +
                  std::to_string(g) + ", want " + std::to_string(want.value[e]) + " +- " +
                  std::to_string(bound);
      }
    }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << want.m * want.n
                                       << " elements differ; first at " << first;
}

// The padding rows of `after` hold exactly the bits they held `before`.
::testing::AssertionResult padding_untouched(const Matrix& after, const Matrix& before) {
  for (int j = 0; j < after.cols; ++j)
    for (int i = after.rows; i < after.ld; ++i)
      if (std::memcmp(&after.v[i + size_t(j) * after.ld], &before.v[i + size_t(j) * before.ld],
                      sizeof(float)) != 0)
        return ::testing::AssertionFailure()
               << "padding element (" << i << ", " << j << ") of C (ld " << after.ld << ", rows "
               << after.rows << ") was written: " << after.at(i, j);
  return ::testing::AssertionSuccess();
}

// Every element of `after` holds exactly the bits it held `before`.
::testing::AssertionResult unchanged(const Matrix& after, const Matrix& before) {
  for (size_t e = 0; e < after.v.size(); ++e)
    if (std::memcmp(&after.v[e], &before.v[e], sizeof(float)) != 0)
      return ::testing::AssertionFailure()
             << "element " << e << " of C was written: " << before.v[e] << " -> " << after.v[e];
  return ::testing::AssertionSuccess();
}

const char* op_name(cublasOperation_t op) { return op == CUBLAS_OP_N ? "N" : "T"; }

// Operands on the device, C uploaded from c0, one cublasGemmEx call; returns its status and
// (when it succeeded, after the stream drains) the whole of C, padding included.
struct GemmRun {
  cublasStatus_t status;
  Matrix c;
};

GemmRun gemm_ex(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                const Matrix& a, int lda, const Matrix& b, int ldb, float beta, const Matrix& c0,
                int ldc, cublasComputeType_t compute) {
  DeviceBytes da(sizeof(float) * a.v.size()), db(sizeof(float) * b.v.size()),
      dc(sizeof(float) * c0.v.size());
  da.upload(a.v);
  db.upload(b.v);
  dc.upload(c0.v);
  GemmRun r{
      cublasGemmEx(cuda::cublas(), ta, tb, m, n, k, &alpha, da.f32(), CUDA_R_32F, lda, db.f32(),
                   CUDA_R_32F, ldb, &beta, dc.f32(), CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT),
      c0};
  r.c.v = dc.floats();
  return r;
}

TEST(CudaBlas, GemmExEveryTransposeWithPaddedLeadingDimensions) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  // m, n and k all differ, so an operand read with the wrong transpose or the wrong
  // dimension has the wrong shape; each leading dimension has a different amount of
  // padding, so mixing up lda, ldb and ldc reads the wrong elements (or NaN padding).
  const int m = 7, n = 5, k = 9;
  const float alpha = 1.5f, beta = -0.5f;
  for (cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T})
    for (cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T}) {
      SCOPED_TRACE(std::string("transa ") + op_name(ta) + ", transb " + op_name(tb));
      const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
      const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
      const Matrix a = random_matrix(a_rows, a_cols, a_rows + 3, rng, kNaN);
      const Matrix b = random_matrix(b_rows, b_cols, b_rows + 2, rng, kNaN);
      const Matrix c0 = random_matrix(m, n, m + 4, rng, kSentinel);
      const GemmRun run =
          gemm_ex(ta, tb, m, n, k, alpha, a, a.ld, b, b.ld, beta, c0, c0.ld, CUBLAS_COMPUTE_32F);
      ASSERT_EQ(run.status, CUBLAS_STATUS_SUCCESS);
      EXPECT_TRUE(
          matches(run.c, gemm_reference(ta, tb, m, n, k, alpha, a, b, beta, c0), kStrict, "C"));
      EXPECT_TRUE(padding_untouched(run.c, c0));
    }
}

TEST(CudaBlas, BetaZeroDoesNotReadC) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  const int m = 6, n = 8, k = 5;
  const float alpha = 2.f, beta = 0.f;
  // cuBLAS documents that C need not hold valid values when beta == 0: computing
  // beta * C anyway would turn these NaNs into NaN results (0 * NaN = NaN).
  const Matrix c0(m, n, m + 1, kNaN);
  for (cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T}) {
    SCOPED_TRACE(std::string("transa ") + op_name(ta));
    const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
    const Matrix a = random_matrix(a_rows, a_cols, a_rows, rng, kNaN);
    const Matrix b = random_matrix(n, k, n, rng, kNaN);  // used transposed
    const GemmRun run = gemm_ex(ta, CUBLAS_OP_T, m, n, k, alpha, a, a.ld, b, b.ld, beta, c0, c0.ld,
                                CUBLAS_COMPUTE_32F);
    ASSERT_EQ(run.status, CUBLAS_STATUS_SUCCESS);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) ASSERT_TRUE(std::isfinite(run.c.at(i, j))) << i << ", " << j;
    EXPECT_TRUE(matches(run.c, gemm_reference(ta, CUBLAS_OP_T, m, n, k, alpha, a, b, beta, c0),
                        kStrict, "C"));
    EXPECT_TRUE(padding_untouched(run.c, c0));
  }
}

TEST(CudaBlas, LeadingDimensionShorterThanItsRowsIsInvalid) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  // m > k > n, so a check against the wrong dimension (lda against m when A is stored
  // transposed as k x m, ldb against k when B is stored transposed as n x k) is caught by
  // the valid calls below as surely as a missing check is caught by the invalid ones.
  const int m = 9, n = 5, k = 7;
  const float alpha = 1.f, beta = 1.f;
  // Storage big enough for every call below, so only the status decides.
  const Matrix big_a = random_matrix(m, m, m, rng, 0.f);
  const Matrix big_b = random_matrix(k, k, k, rng, 0.f);
  const Matrix c0 = random_matrix(m, n, m, rng, kSentinel);
  struct Case {
    const char* what;
    cublasOperation_t ta, tb;
    int lda, ldb, ldc;
    bool valid;
  };
  const Case cases[] = {
      {"lda = m - 1 with A not transposed", CUBLAS_OP_N, CUBLAS_OP_N, m - 1, k, m, false},
      {"lda = k - 1 with A transposed", CUBLAS_OP_T, CUBLAS_OP_N, k - 1, k, m, false},
      {"ldb = k - 1 with B not transposed", CUBLAS_OP_N, CUBLAS_OP_N, m, k - 1, m, false},
      {"ldb = n - 1 with B transposed", CUBLAS_OP_N, CUBLAS_OP_T, m, n - 1, m, false},
      {"ldc = m - 1", CUBLAS_OP_N, CUBLAS_OP_N, m, k, m - 1, false},
      {"lda = k < m with A transposed", CUBLAS_OP_T, CUBLAS_OP_N, k, k, m, true},
      {"ldb = n < k with B transposed", CUBLAS_OP_N, CUBLAS_OP_T, m, n, m, true},
  };
  DeviceBytes da(sizeof(float) * big_a.v.size()), db(sizeof(float) * big_b.v.size()),
      dc(sizeof(float) * c0.v.size());
  da.upload(big_a.v);
  db.upload(big_b.v);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    dc.upload(c0.v);
    const cublasStatus_t st =
        cublasGemmEx(cuda::cublas(), c.ta, c.tb, m, n, k, &alpha, da.f32(), CUDA_R_32F, c.lda,
                     db.f32(), CUDA_R_32F, c.ldb, &beta, dc.f32(), CUDA_R_32F, c.ldc,
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    Matrix after = c0;
    after.v = dc.floats();
    if (!c.valid) {
      EXPECT_EQ(st, CUBLAS_STATUS_INVALID_VALUE);
      EXPECT_TRUE(unchanged(after, c0));
      continue;
    }
    ASSERT_EQ(st, CUBLAS_STATUS_SUCCESS);
    // The same operands as the device read them: A and B at their leading dimensions.
    const int a_rows = c.ta == CUBLAS_OP_N ? m : k, a_cols = c.ta == CUBLAS_OP_N ? k : m;
    const int b_rows = c.tb == CUBLAS_OP_N ? k : n, b_cols = c.tb == CUBLAS_OP_N ? n : k;
    Matrix a(a_rows, a_cols, c.lda, 0.f), b(b_rows, b_cols, c.ldb, 0.f);
    std::copy(big_a.v.begin(), big_a.v.begin() + a.v.size(), a.v.begin());
    std::copy(big_b.v.begin(), big_b.v.begin() + b.v.size(), b.v.begin());
    EXPECT_TRUE(
        matches(after, gemm_reference(c.ta, c.tb, m, n, k, alpha, a, b, beta, c0), kStrict, "C"));
  }
  // cublasSgemm checks its arguments the same way.
  dc.upload(c0.v);
  EXPECT_EQ(cublasSgemm(cuda::cublas(), CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da.f32(), m - 1,
                        db.f32(), k, &beta, dc.f32(), m),
            CUBLAS_STATUS_INVALID_VALUE);
  Matrix after = c0;
  after.v = dc.floats();
  EXPECT_TRUE(unchanged(after, c0));
}

TEST(CudaBlas, Tf32ComputeIsLooserThanStrictFp32) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  const int m = 64, n = 64, k = 64;
  const Matrix a = random_matrix(m, k, m, rng, kNaN), b = random_matrix(k, n, k, rng, kNaN);
  const Matrix c0(m, n, m, kNaN);
  const Reference want = gemm_reference(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 1.0, a, b, 0.0, c0);

  const GemmRun strict =
      gemm_ex(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 1.f, a, m, b, k, 0.f, c0, m, CUBLAS_COMPUTE_32F);
  ASSERT_EQ(strict.status, CUBLAS_STATUS_SUCCESS);
  EXPECT_TRUE(matches(strict.c, want, kStrict, "CUBLAS_COMPUTE_32F"));

  const GemmRun fast = gemm_ex(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 1.f, a, m, b, k, 0.f, c0, m,
                               CUBLAS_COMPUTE_32F_FAST_TF32);
  ASSERT_EQ(fast.status, CUBLAS_STATUS_SUCCESS);
  // TF32 keeps 10 of float32's 23 mantissa bits of each input: rounded to nearest, an input
  // is off by at most 2^-11 of itself, truncated by at most 2^-10, so each of the k
  // products is off by at most 2^-9 of itself. Those errors are independent across the
  // products, so their sum has a random part with a standard deviation below
  // 2^-10 * sqrt(sum of squared products) (about sqrt(k) * 2^-10 * |product|, not k times
  // it), plus, when inputs are truncated, a bias of -2^-10 times the exact sum. The bound
  // below allows that bias and eight standard deviations of the random part; a wrong
  // element is off by a whole product or more.
  int bad = 0;
  int beyond_strict = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      const size_t e = want.idx(i, j);
      const double err = std::fabs(fast.c.at(i, j) - want.value[e]);
      const double bound = 1e-5 + std::ldexp(want.product_sum[e], -10) +
                           8 * std::ldexp(std::sqrt(want.product_sq[e]), -10);
      if (!(err <= bound) && bad++ == 0)
        ADD_FAILURE() << "CUBLAS_COMPUTE_32F_FAST_TF32 (" << i << ", " << j << "): got "
                      << fast.c.at(i, j) << ", want " << want.value[e] << " +- " << bound;
      if (err > kStrict.atol + kStrict.rtol * want.abs_sum[e]) ++beyond_strict;
    }
  EXPECT_EQ(bad, 0) << "elements outside the TF32 bound";
#ifdef MASKOFF_CUDA_SIM
  // The simulator always rounds the inputs to TF32 in this mode, so the result must be
  // visibly less precise than strict float32 (a GPU may pick a kernel without tensor cores).
  EXPECT_GT(beyond_strict, m * n / 4);
#else
  (void)beyond_strict;
#endif

  // A designed case: 1 + 2^-12 is a float32, but TF32's 10-bit mantissa cannot hold it.
  // Strict float32 must reproduce it exactly (one exact product) on any implementation.
  const float tiny = 1.f + std::ldexp(1.f, -12);
  Matrix one_a(1, 1, 1, tiny), one_b(1, 1, 1, 1.f), one_c(1, 1, 1, kNaN);
  const GemmRun exact = gemm_ex(CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, 1.f, one_a, 1, one_b, 1, 0.f,
                                one_c, 1, CUBLAS_COMPUTE_32F);
  ASSERT_EQ(exact.status, CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(exact.c.v[0], tiny);
#ifdef MASKOFF_CUDA_SIM
  // Rounded to TF32 it is exactly 1; only the simulator promises the rounding happens.
  const GemmRun rounded = gemm_ex(CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, 1.f, one_a, 1, one_b, 1, 0.f,
                                  one_c, 1, CUBLAS_COMPUTE_32F_FAST_TF32);
  ASSERT_EQ(rounded.status, CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(rounded.c.v[0], 1.f);
#endif
}

TEST(CudaBlas, SgemmMatchesGemmEx) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  // cublasSgemm is float32 GEMM in the handle's math mode; in the default mode that is
  // cublasGemmEx with CUBLAS_COMPUTE_32F. The engine leaves its handle in the default mode.
  cublasMath_t mode{};
  MASKOFF_CUBLAS_CHECK(cublasGetMathMode(cuda::cublas(), &mode));
  ASSERT_EQ(mode, CUBLAS_DEFAULT_MATH);
  const int m = 13, n = 11, k = 17;
  const float alpha = 0.75f, beta = 1.25f;
  const Matrix a = random_matrix(k, m, k + 1, rng, kNaN);  // used transposed
  const Matrix b = random_matrix(k, n, k + 2, rng, kNaN);
  const Matrix c0 = random_matrix(m, n, m + 3, rng, kSentinel);

  const GemmRun ex = gemm_ex(CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, alpha, a, a.ld, b, b.ld, beta, c0,
                             c0.ld, CUBLAS_COMPUTE_32F);
  ASSERT_EQ(ex.status, CUBLAS_STATUS_SUCCESS);

  DeviceBytes da(sizeof(float) * a.v.size()), db(sizeof(float) * b.v.size()),
      dc(sizeof(float) * c0.v.size());
  da.upload(a.v);
  db.upload(b.v);
  dc.upload(c0.v);
  MASKOFF_CUBLAS_CHECK(cublasSgemm(cuda::cublas(), CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha,
                                   da.f32(), a.ld, db.f32(), b.ld, &beta, dc.f32(), c0.ld));
  Matrix s = c0;
  s.v = dc.floats();

  const Reference want = gemm_reference(CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, alpha, a, b, beta, c0);
  EXPECT_TRUE(matches(s, want, kStrict, "cublasSgemm"));
  EXPECT_TRUE(padding_untouched(s, c0));
#ifdef MASKOFF_CUDA_SIM
  // One implementation, one order of operations: the same bits.
  EXPECT_TRUE(unchanged(s, ex.c)) << "cublasSgemm and cublasGemmEx differ";
#else
  // cuBLAS may pick different kernels (another split of k) for the two calls.
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i)
      EXPECT_NEAR(s.at(i, j), ex.c.at(i, j), 2e-6 * (1 + want.abs_sum[want.idx(i, j)]))
          << i << ", " << j;
#endif
}

TEST(CudaBlas, GemmExMatchesTheCpuEngineMatmul) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  Generator g(seed);
  const int m = 23, n = 19, k = 31;
  // Row-major [m, k] and [k, n] tensors are, read column-major, A^T (k x m) and B^T (n x k),
  // so C = A B comes out column-major from cuBLAS with both operands transposed.
  const Tensor a = testing::random_input({m, k}, g), b = testing::random_input({k, n}, g);
  const Tensor want = matmul(a, b);
  DeviceBytes da(sizeof(float) * size_t(m) * k), db(sizeof(float) * size_t(k) * n),
      dc(sizeof(float) * size_t(m) * n);
  da.upload(a.to_vector<float>());
  db.upload(b.to_vector<float>());
  const float alpha = 1.f, beta = 0.f;
  MASKOFF_CUBLAS_CHECK(cublasGemmEx(
      cuda::cublas(), CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, da.f32(), CUDA_R_32F, k, db.f32(),
      CUDA_R_32F, n, &beta, dc.f32(), CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  const std::vector<float> col = dc.floats();
  std::vector<float> row(col.size());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) row[size_t(i) * n + j] = col[i + size_t(j) * m];
  EXPECT_TRUE(testing::close_to(from_vector(row, {m, n}), want, testing::kTolReduce, "C"));
}

}  // namespace
}  // namespace maskoff::testing
#endif  // MASKOFF_WITH_CUDA
