#pragma once
// AdamW's update as one pass over memory. torch's AdamW (and ours before) runs ~8 tensor
// operations per parameter, each reading and writing whole tensors and two of them allocating
// temporaries: for a 33M-parameter model that is ~2.5 GB of memory traffic per step. This loop
// reads p, g, m, v once and writes p, m, v once (~0.9 GB), folding in weight decay and the
// gradient-clipping factor.

#include <cstdint>

namespace tb {

/// The scalars of one AdamW step (torch.optim.AdamW's formulas, amsgrad off).
struct AdamWStep {
  float decay_factor = 1;      // 1 − lr·weight_decay (1 for biases and norms)
  float beta1 = 0.9f;          // β1
  float beta2 = 0.999f;        // β2
  float step_size = 0;         // lr / (1 − β1^t)
  float correction2_sqrt = 1;  // √(1 − β2^t)
  float epsilon = 1e-8f;       // ε
  float gradient_scale = 1;    // multiplies every gradient first (clipping)
};

/// Updates `count` elements in place: p ← p·decay; g' = g·scale; m ← β1·m + (1−β1)·g';
/// v ← β2·v + (1−β2)·g'²; p ← p − step_size · m / (√v / correction2_sqrt + ε). Runs on
/// LibTorch's intra-op threads.
void adamw_update(float* parameter, const float* gradient, float* exp_avg, float* exp_avg_sq,
                  int64_t count, const AdamWStep& step);

}  // namespace tb
