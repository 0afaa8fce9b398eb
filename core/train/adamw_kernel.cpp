#include "core/train/adamw_kernel.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <cmath>

namespace tb {

void adamw_update(float* parameter, const float* gradient, float* exp_avg, float* exp_avg_sq,
                  int64_t count, const AdamWStep& s) {
  const float one_minus_beta1 = 1.0f - s.beta1;
  const float one_minus_beta2 = 1.0f - s.beta2;
  // Chunks of 64 KiB of floats: big enough to amortise the thread hand-off, small enough that
  // a 1.4M-parameter model still spreads over the threads.
  at::parallel_for(0, count, 16384, [&](int64_t begin, int64_t end) {
    // Plain loop over restrict pointers: compiled with -O3 -fno-math-errno it vectorises
    // (sqrt included) for whatever SIMD the build targets; the pass is memory-bound anyway.
    float* __restrict p = parameter;
    const float* __restrict g = gradient;
    float* __restrict m = exp_avg;
    float* __restrict v = exp_avg_sq;
    for (int64_t i = begin; i < end; ++i) {
      const float grad = g[i] * s.gradient_scale;
      const float m_new = m[i] * s.beta1 + grad * one_minus_beta1;
      const float v_new = v[i] * s.beta2 + grad * grad * one_minus_beta2;
      m[i] = m_new;
      v[i] = v_new;
      const float denom = std::sqrt(v_new) / s.correction2_sqrt + s.epsilon;
      p[i] = p[i] * s.decay_factor - s.step_size * m_new / denom;
    }
  });
}

}  // namespace tb
