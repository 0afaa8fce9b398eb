#include "core/nn/thin_matmul_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/nn/cpu_vector_math.h"

// The kernels use GCC's vector type of 16 floats (one AVX-512 register, two AVX2 ones): GCC
// keeps eight of them as running sums, which its vectoriser does not do for a loop nest.
// `flatten` inlines the helpers into each target clone, where they get that clone's ISA.
#if defined(__x86_64__) && !defined(__clang__)
#define TB_THIN_KERNEL TB_CPU_CLONES __attribute__((flatten))
#else
#define TB_THIN_KERNEL
#endif

namespace tb {

namespace {

typedef float Float16 __attribute__((vector_size(64)));

// out[j] = Σ_i x[i]·w[j·n + i] for j < J ≤ 8: one vector running sum per j, x loaded once.
template <int J>
inline void project_row(const float* __restrict x, const float* __restrict w, int64_t n,
                        float* __restrict out) {
  Float16 sums[J];
  for (int j = 0; j < J; ++j) sums[j] = Float16{};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // memcpy: unaligned loads (no function returning the vector: its ABI differs by ISA).
    Float16 xv;
    std::memcpy(&xv, x + i, sizeof xv);
    for (int j = 0; j < J; ++j) {
      Float16 wv;
      std::memcpy(&wv, w + j * n + i, sizeof wv);
      sums[j] += xv * wv;
    }
  }
  for (int j = 0; j < J; ++j) {
    float sum = 0;
    for (int lane = 0; lane < 16; ++lane) sum += sums[j][lane];
    for (int64_t k = i; k < n; ++k) sum += x[k] * w[j * n + k];
    out[j] = sum;
  }
}

TB_THIN_KERNEL void project_rows(const float* x, int64_t rows, int64_t n, const float* w,
                                 int64_t rank, float* out) {
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t j0 = 0; j0 < rank; j0 += 8) {
      const float* row = x + t * n;
      const float* w_rows = w + j0 * n;
      float* o = out + t * rank + j0;
      switch (std::min<int64_t>(8, rank - j0)) {
        case 8:
          project_row<8>(row, w_rows, n, o);
          break;
        case 7:
          project_row<7>(row, w_rows, n, o);
          break;
        case 6:
          project_row<6>(row, w_rows, n, o);
          break;
        case 5:
          project_row<5>(row, w_rows, n, o);
          break;
        case 4:
          project_row<4>(row, w_rows, n, o);
          break;
        case 3:
          project_row<3>(row, w_rows, n, o);
          break;
        case 2:
          project_row<2>(row, w_rows, n, o);
          break;
        default:
          project_row<1>(row, w_rows, n, o);
          break;
      }
    }
  }
}

// acc[j, i] += Σ_t c[t, j]·x[t, i] over `rows` rows: columns in blocks whose accumulator rows
// stay in L1, four rows of x per update of the accumulator.
TB_THIN_KERNEL void accumulate_rows(const float* c, const float* x, int64_t rows, int64_t n,
                                    int64_t rank, float* __restrict acc) {
  constexpr int64_t kColumns = 256;
  for (int64_t i0 = 0; i0 < n; i0 += kColumns) {
    const int64_t width = std::min(kColumns, n - i0);
    int64_t t = 0;
    for (; t + 4 <= rows; t += 4) {
      const float* __restrict x0 = x + t * n + i0;
      const float* __restrict x1 = x0 + n;
      const float* __restrict x2 = x1 + n;
      const float* __restrict x3 = x2 + n;
      for (int64_t j = 0; j < rank; ++j) {
        const float c0 = c[t * rank + j], c1 = c[(t + 1) * rank + j];
        const float c2 = c[(t + 2) * rank + j], c3 = c[(t + 3) * rank + j];
        float* __restrict a = acc + j * n + i0;
#pragma omp simd
        for (int64_t i = 0; i < width; ++i) {
          a[i] += c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
        }
      }
    }
    for (; t < rows; ++t) {
      const float* __restrict x0 = x + t * n + i0;
      for (int64_t j = 0; j < rank; ++j) {
        const float c0 = c[t * rank + j];
        float* __restrict a = acc + j * n + i0;
#pragma omp simd
        for (int64_t i = 0; i < width; ++i) a[i] += c0 * x0[i];
      }
    }
  }
}

// Rows per block of partial sums, and at most this many partial sums (memory: rank·n each).
constexpr int64_t kBlockRows = 256;
constexpr int64_t kMaxPartials = 16;
// Rows per step of the fused pass: x's rows are still in L1/L2 for the accumulation.
constexpr int64_t kFusedRows = 8;

// cᵀ·x, and x·wᵀ alongside when `w` is set: partial sum p takes the row blocks p, p + P, …
// in order, and the partials are added in order.
void accumulate_by_blocks(const float* x, int64_t rows, int64_t n, const float* w, const float* c,
                          int64_t rank, float* project_out, float* out) {
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  const int64_t partials = std::max<int64_t>(1, std::min(blocks, kMaxPartials));
  std::vector<float> sums(static_cast<size_t>(partials * rank * n), 0.0f);
  at::parallel_for(0, partials, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      float* acc = sums.data() + p * rank * n;
      for (int64_t block = p; block < blocks; block += partials) {
        const int64_t first = block * kBlockRows, last = std::min(rows, first + kBlockRows);
        if (w == nullptr) {
          accumulate_rows(c + first * rank, x + first * n, last - first, n, rank, acc);
          continue;
        }
        for (int64_t t = first; t < last; t += kFusedRows) {
          const int64_t count = std::min(last, t + kFusedRows) - t;
          project_rows(x + t * n, count, n, w, rank, project_out + t * rank);
          accumulate_rows(c + t * rank, x + t * n, count, n, rank, acc);
        }
      }
    }
  });
  std::memcpy(out, sums.data(), sizeof(float) * static_cast<size_t>(rank * n));
  for (int64_t p = 1; p < partials; ++p) {
    const float* partial = sums.data() + p * rank * n;
    for (int64_t i = 0; i < rank * n; ++i) out[i] += partial[i];
  }
}

// out[t, i] = base[t, i] + scale·Σ_j c[t, j]·w[j, i] for four rows at a time: each vector of
// w is loaded once for the four rows' running sums (w, rank × n, stays in L2).
TB_THIN_KERNEL void expand_rows(const float* c, int64_t rows, int64_t rank, const float* w,
                                int64_t n, float scale, const float* base, float* out) {
  constexpr int64_t kRowsAtOnce = 4;
  for (int64_t t0 = 0; t0 < rows; t0 += kRowsAtOnce) {
    const int64_t count = std::min(kRowsAtOnce, rows - t0);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      Float16 sums[kRowsAtOnce] = {};
      for (int64_t j = 0; j < rank; ++j) {
        Float16 wv;
        std::memcpy(&wv, w + j * n + i, sizeof wv);
        for (int64_t k = 0; k < count; ++k) sums[k] += c[(t0 + k) * rank + j] * wv;
      }
      for (int64_t k = 0; k < count; ++k) {
        Float16 bv;
        std::memcpy(&bv, base + (t0 + k) * n + i, sizeof bv);
        bv += scale * sums[k];
        std::memcpy(out + (t0 + k) * n + i, &bv, sizeof bv);
      }
    }
    for (; i < n; ++i) {
      for (int64_t k = 0; k < count; ++k) {
        float sum = 0;
        for (int64_t j = 0; j < rank; ++j) sum += c[(t0 + k) * rank + j] * w[j * n + i];
        out[(t0 + k) * n + i] = base[(t0 + k) * n + i] + scale * sum;
      }
    }
  }
}

}  // namespace

void thin_expand(const float* c, int64_t rows, int64_t rank, const float* w, int64_t n, float scale,
                 const float* base, float* out) {
  at::parallel_for(0, rows, rows_per_task(n), [&](int64_t begin, int64_t end) {
    expand_rows(c + begin * rank, end - begin, rank, w, n, scale, base + begin * n,
                out + begin * n);
  });
}

void thin_project(const float* x, int64_t rows, int64_t n, const float* w, int64_t rank,
                  float* out) {
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    project_rows(x + begin * n, end - begin, n, w, rank, out + begin * rank);
  });
}

void thin_accumulate(const float* c, const float* x, int64_t rows, int64_t n, int64_t rank,
                     float* out) {
  accumulate_by_blocks(x, rows, n, nullptr, c, rank, nullptr, out);
}

void thin_project_and_accumulate(const float* x, int64_t rows, int64_t n, const float* w,
                                 const float* c, int64_t rank, float* project_out,
                                 float* accumulate_out) {
  accumulate_by_blocks(x, rows, n, w, c, rank, project_out, accumulate_out);
}

}  // namespace tb
