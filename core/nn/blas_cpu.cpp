#include "core/nn/blas_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif
#include <dlfcn.h>

#include <algorithm>

namespace tb {

namespace {

// The Fortran BLAS entry LibTorch itself calls (libblas.so.3: OpenBLAS, BLIS or reference),
// found at run time so the build needs no BLAS development files; null without one.
using SgemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                         const float*, const int*, const float*, const int*, const float*, float*,
                         const int*);

SgemmFn blas_sgemm() {
  static const SgemmFn fn = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  return fn;
}

// Whether concurrent sgemm_ calls from OpenMP threads each run on their calling thread: true
// for OpenBLAS built with OpenMP (it checks omp_in_parallel()) and for a single-threaded BLAS.
// OpenBLAS on pthreads would hand every call to its own pool (and serialise them), so products
// stay whole there and the BLAS threads them itself.
bool blas_runs_on_calling_thread() {
  static const bool yes = [] {
    using ParallelFn = int (*)();
    auto parallel = reinterpret_cast<ParallelFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (parallel != nullptr) return parallel() != 1;  // 0 sequential, 1 pthreads, 2 OpenMP
    return false;  // another BLAS: its threading is unknown, keep products whole
  }();
  return yes;
}

// A matrix operand as BLAS sees it: row-major data with row stride ld, or the transpose of one.
struct Operand {
  const float* data = nullptr;
  int64_t ld = 0;
  bool transposed = false;
};

// x [rows×cols] as an Operand; `holder` keeps a contiguous copy alive when x has neither layout.
Operand operand(const torch::Tensor& x, torch::Tensor& holder) {
  const int64_t rows = x.size(0), cols = x.size(1);
  if (x.stride(1) == 1 && x.stride(0) >= std::max<int64_t>(cols, 1)) {
    return {x.data_ptr<float>(), x.stride(0), false};
  }
  if (x.stride(0) == 1 && x.stride(1) >= std::max<int64_t>(rows, 1)) {
    return {x.data_ptr<float>(), x.stride(1), true};
  }
  holder = x.contiguous();
  return {holder.data_ptr<float>(), std::max<int64_t>(cols, 1), false};
}

// Rows per block: a multiple of 32 (whole register tiles of the AVX-512 kernels), and none
// below 64 rows, where a split saves less than the thread hand-off costs.
constexpr int64_t kRowAlign = 32;
constexpr int64_t kMinRowsPerBlock = 64;

}  // namespace

bool blas_sgemm_available() { return blas_sgemm() != nullptr; }

void gemm_rows(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  // BLAS is column-major, where a row-major X reads as Xᵀ: so it computes Cᵀ = op(B)ᵀ·op(A)ᵀ.
  const char trans_b = transpose_b ? 'T' : 'N', trans_a = transpose_a ? 'T' : 'N';
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const int lda_i = static_cast<int>(std::max<int64_t>(lda, 1)),
            ldb_i = static_cast<int>(std::max<int64_t>(ldb, 1)),
            ldc_i = static_cast<int>(std::max<int64_t>(ldc, 1));
  blas_sgemm()(&trans_b, &trans_a, &ni, &mi, &ki, &alpha, b, &ldb_i, a, &lda_i, &beta, c, &ldc_i);
}

bool mm_row_blocks_applies(const torch::Tensor& a, const torch::Tensor& b) {
  return blas_sgemm_available() && a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0) &&
         a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == torch::kFloat32 &&
         b.scalar_type() == torch::kFloat32 && a.numel() < (int64_t{1} << 31) &&
         b.numel() < (int64_t{1} << 31);
}

void mm_row_blocks(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                   bool accumulate) {
  TORCH_CHECK(mm_row_blocks_applies(a, b), "mm_row_blocks: fp32 CPU matrices a [m×k], b [k×n]");
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  TORCH_CHECK(out.dim() == 2 && out.size(0) == m && out.size(1) == n && out.stride(1) == 1 &&
                  out.stride(0) >= n && out.scalar_type() == torch::kFloat32,
              "mm_row_blocks: out must be a row-major fp32 [", m, "×", n, "] matrix");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) out.zero_();
    return;
  }
  torch::Tensor a_holder, b_holder;
  const Operand pa = operand(a, a_holder), pb = operand(b, b_holder);
  float* c = out.data_ptr<float>();
  const int64_t ldc = out.stride(0);
  const float beta = accumulate ? 1.0f : 0.0f;
  const auto run_rows = [&](int64_t begin, int64_t end) {
    // Row r of op(A) starts at row r of A, or at column r of A when A is stored transposed.
    const float* a_rows = pa.data + (pa.transposed ? begin : begin * pa.ld);
    gemm_rows(pa.transposed, pb.transposed, end - begin, n, k, 1.0f, a_rows, pa.ld, pb.data, pb.ld,
              beta, c + begin * ldc, ldc);
  };
  const int64_t threads = at::in_parallel_region() ? 1 : at::get_num_threads();
  int64_t rows_per_block = (m + threads - 1) / threads;
  rows_per_block = (rows_per_block + kRowAlign - 1) / kRowAlign * kRowAlign;
  if (threads <= 1 || !blas_runs_on_calling_thread() || rows_per_block < kMinRowsPerBlock ||
      rows_per_block >= m) {
    run_rows(0, m);  // one call: the BLAS threads it as it sees fit
    return;
  }
  const int64_t blocks = (m + rows_per_block - 1) / rows_per_block;
  at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      run_rows(block * rows_per_block, std::min(m, (block + 1) * rows_per_block));
    }
  });
}

torch::Tensor mm_row_blocks(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor out = torch::empty({a.size(0), b.size(1)}, a.options());
  mm_row_blocks(out, a, b);
  return out;
}

torch::Tensor matmul_2d(const torch::Tensor& a, const torch::Tensor& b) {
  return mm_row_blocks_applies(a, b) ? mm_row_blocks(a, b) : torch::mm(a, b);
}

}  // namespace tb
