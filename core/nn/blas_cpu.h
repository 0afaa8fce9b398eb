#pragma once
// The process's BLAS sgemm_, called directly: single products on the calling thread (inside
// the fused kernels' own parallel loops), and whole matrix products split into one block of
// output rows per thread.
//
// Why the row blocks: OpenBLAS's own threading of one product syncs its threads block by
// block, and on the 2-core machine of the benchmarks the training step's shapes (2048 tokens ×
// 512/1664/4096 features) reached 274–335 GFLOP/s that way, against 346–364 GFLOP/s as two
// independent single-threaded products over halves of the rows (tests/bench, 2026-12-01).

#include <torch/torch.h>

#include <cstdint>

namespace tb {

/// Whether this process has a BLAS sgemm_ to call (LibTorch's own BLAS, found at run time).
bool blas_sgemm_available();

/// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C on the calling thread's BLAS call, op(X) = Xᵀ
/// when flagged; ld* are the row strides. Inside an OpenMP parallel region OpenBLAS runs it on
/// the calling thread. Requires blas_sgemm_available().
void gemm_rows(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

/// Whether mm_row_blocks() takes a·b: fp32 CPU matrices of matching inner size, and a BLAS.
bool mm_row_blocks_applies(const torch::Tensor& a, const torch::Tensor& b);

/// out = a·b (+ out when accumulate), out [m×n] row-major (contiguous rows); a [m×k] and b
/// [k×n] row-major or transposed views of row-major matrices (copied contiguous otherwise).
/// The rows of out go in one block per thread, each a single-threaded BLAS call. Repeated calls
/// give the same bits; another thread count may round differently (the BLAS picks its kernels
/// by block size), as LibTorch's own products do.
void mm_row_blocks(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                   bool accumulate = false);

/// a·b into a new row-major tensor, as mm_row_blocks().
torch::Tensor mm_row_blocks(const torch::Tensor& a, const torch::Tensor& b);

/// a·b for 2-D tensors: mm_row_blocks() where it applies, torch::mm elsewhere (GPU, bf16).
torch::Tensor matmul_2d(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace tb
