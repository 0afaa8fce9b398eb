#include "core/nn/cross_entropy_cpu.h"

#include "core/nn/cpu_vector_math.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <cmath>
#include <vector>

// Each loop below is written to vectorise (see cpu_vector_math.h).

namespace tb {

namespace {

// Loss of one row; writes exp(x − max) into `work` (the gradient row, or scratch), then turns
// it into the scaled gradient when `gradient` is true.
inline double row_loss(const float* __restrict x, int64_t vocab, int64_t target, float scale,
                       float* __restrict work, bool gradient) {
  float max;
  const float sum = exp_minus_max(x, work, vocab, max);  // NaN in the row → NaN loss
  const double loss = static_cast<double>(max) + std::log(static_cast<double>(sum)) - x[target];
  if (gradient) {
    const float factor = scale / sum;
#pragma omp simd
    for (int64_t j = 0; j < vocab; ++j) work[j] *= factor;
    work[target] -= scale;
  }
  return loss;
}

TB_CPU_CLONES void rows_loss(const CrossEntropyRows& job, int64_t begin, int64_t end,
                             double* losses, float* scratch) {
  for (int64_t row = begin; row < end; ++row) {
    const float* x = job.logits + row * job.vocab;
    float* gradient_row = job.gradient ? job.gradient + row * job.vocab : nullptr;
    const int64_t target = job.targets[row];
    if (target < 0) {
      losses[row] = 0.0;
      if (gradient_row) std::memset(gradient_row, 0, sizeof(float) * job.vocab);
      continue;
    }
    losses[row] = row_loss(x, job.vocab, target, job.gradient_scale,
                           gradient_row ? gradient_row : scratch, gradient_row != nullptr);
  }
}

TB_CPU_CLONES void exp_loop(const float* __restrict x, float* __restrict out, int64_t count) {
#pragma omp simd
  for (int64_t i = 0; i < count; ++i) out[i] = exp_of_nonpositive(x[i]);
}

}  // namespace

double cross_entropy_rows(const CrossEntropyRows& job) {
  std::vector<double> losses(static_cast<size_t>(job.rows));
  // A few rows per task: each row is a whole vocabulary of work.
  at::parallel_for(0, job.rows, 8, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(job.gradient ? 0 : static_cast<size_t>(job.vocab));
    rows_loss(job, begin, end, losses.data(), scratch.data());
  });
  double total = 0.0;  // in row order: the same sum whatever the thread count
  for (double loss : losses) total += loss;
  return total;
}

void exp_nonpositive(const float* x, float* out, int64_t count) { exp_loop(x, out, count); }

}  // namespace tb
