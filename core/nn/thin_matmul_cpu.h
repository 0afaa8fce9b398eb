#pragma once
// fp32 CPU products with one thin operand of a few rows ("rank", e.g. LoRA's A or Bᵀ): x·wᵀ
// and cᵀ·x for x [rows, n] with rows in the thousands and rank ≤ kThinMatmulMaxRank. BLAS packs
// the wide operand into its own buffer before such a product and runs a pass to scale its
// output: for a rank of 8 that is two extra trips over x for 16 flops per element. These read
// x once, in place. Partial sums go by fixed blocks of rows, so the result does not depend on
// the thread count. The rank-8 products of a 33M-model LoRA step: 120 ms with BLAS, 62 ms here
// (2 threads); whole steps alternating between the two in one run: 2.33 vs 2.51 s median while
// the machine's memory was contended, no difference while it was not.

#include <cstdint>

namespace tb {

/// The largest thin dimension the kernels take (beyond it BLAS's blocking wins).
constexpr int64_t kThinMatmulMaxRank = 64;

/// out[t, j] = Σ_i x[t, i]·w[j, i]: x [rows, n] · wᵀ with w [rank, n]; out [rows, rank].
void thin_project(const float* x, int64_t rows, int64_t n, const float* w, int64_t rank,
                  float* out);

/// out[j, i] = Σ_t c[t, j]·x[t, i]: cᵀ · x with c [rows, rank]; out [rank, n].
void thin_accumulate(const float* c, const float* x, int64_t rows, int64_t n, int64_t rank,
                     float* out);

/// out[t, i] = base[t, i] + scale·Σ_j c[t, j]·w[j, i]: base + scale·c·w with c [rows, rank],
/// w [rank, n], base and out [rows, n] (out may be base). Folds a LoRA update s·B·A into a
/// weight in one pass, where addmm copies the base into the output and then runs a K = 8 GEMM
/// over it: the 33M model's 56 rank-8 folds of a training step (forward and backward) take
/// 12–14 ms here against 24–32 ms with addmm (2 threads).
void thin_expand(const float* c, int64_t rows, int64_t rank, const float* w, int64_t n, float scale,
                 const float* base, float* out);

/// Both over one pass of x: project_out = x · wᵀ ([rows, rank]) and accumulate_out = cᵀ · x
/// ([rank, n]), c [rows, rank]. What a LoRA backward needs of the output gradient x.
void thin_project_and_accumulate(const float* x, int64_t rows, int64_t n, const float* w,
                                 const float* c, int64_t rank, float* project_out,
                                 float* accumulate_out);

}  // namespace tb
