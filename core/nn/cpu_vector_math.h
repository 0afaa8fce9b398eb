#pragma once
// Scalar code that GCC vectorises in the fused CPU kernels (files compiled -O3
// -fopenmp-simd): an exp for the non-positive arguments of softmax, the attribute that builds
// a kernel for AVX-512, AVX2+FMA and plain x86-64 with the choice made at load time, and the
// rows a parallel task takes.

#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && !defined(__clang__)
#define TB_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TB_CPU_CLONES
#endif

namespace tb {

/// Rows per at::parallel_for task for a kernel over rows of `width` floats: about 16K elements
/// a task, enough to amortise the hand-off, small enough to split a small model.
inline int64_t rows_per_task(int64_t width) {
  constexpr int64_t kElementsPerTask = 16384;
  return width >= kElementsPerTask ? 1 : kElementsPerTask / (width > 0 ? width : 1);
}

/// exp(x) for x ≤ 0 as 2^n · p(r): n = round(x / ln 2) by the 1.5·2^23 rounding trick (its
/// bits then hold n, so no float-to-int conversion), r = x − n·ln 2 in two parts (Cody–Waite),
/// p the degree-7 Taylor polynomial (truncation < 6e-9 on |r| ≤ ln2 / 2). Below −87 the true
/// value is under 1.7e-38 and it returns 0; NaN passes through p, so it stays NaN.
inline float exp_of_nonpositive(float x) {
  constexpr float kShift = 12582912.0f;  // 1.5 · 2^23
  constexpr uint32_t kShiftBits = 0x4B400000u;
  const bool underflows = x < -87.0f;
  x = underflows ? -87.0f : x;
  const float shifted = x * 1.44269504088896341f + kShift;
  const float n = shifted - kShift;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  uint32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  const uint32_t scale_bits = (shifted_bits - kShiftBits + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return underflows ? 0.0f : p * scale;
}

/// The largest of x[0..n) (NaN entries are passed over; −inf for n = 0).
inline float row_max(const float* __restrict x, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < n; ++j) max = x[j] > max ? x[j] : max;
  return max;
}

/// out[j] = exp(x[j] − max) for the row's max; returns their sum and the max in `max_out`.
/// `out` may be `x` (softmax in place). NaN anywhere makes the sum NaN; +inf makes max − max
/// NaN, so the sum is NaN then too.
inline float exp_minus_max(const float* x, float* out, int64_t n, float& max_out) {
  const float max = row_max(x, n);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    out[j] = exp_of_nonpositive(x[j] - max);
    sum += out[j];
  }
  max_out = max;
  return sum;
}

}  // namespace tb
