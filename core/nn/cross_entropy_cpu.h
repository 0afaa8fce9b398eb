#pragma once
// The fused fp32 CPU kernel behind token_cross_entropy: one visit per row of the logits
// computes the row's loss and, when asked, its gradient, while the row (16 KiB for a
// 4096-word vocabulary) stays in the core's L1 cache. LibTorch's log_softmax, exp, gather and
// scatter each stream the whole [tokens, vocabulary] matrix through memory instead.

#include <cstdint>

namespace tb {

/// What cross_entropy_rows() computes over rows of logits.
struct CrossEntropyRows {
  const float* logits = nullptr;     // [rows, vocab], row-major, finite or not
  const int64_t* targets = nullptr;  // [rows]; negative = skip the row, else < vocab
  int64_t rows = 0;                  // tokens
  int64_t vocab = 0;                 // classes per row
  float gradient_scale = 0.0f;       // the gradient's factor per kept row, e.g. 1 / kept rows
  float* gradient = nullptr;  // [rows, vocab] out: scale · (softmax − one-hot); null = skip
};

/// Sum over the kept rows of −log softmax(row)[target], accumulated in double; NaN or inf in a
/// row makes it non-finite. Skipped rows get a zero gradient. Uses the threads of ATen.
double cross_entropy_rows(const CrossEntropyRows& job);

/// exp_of_nonpositive() of cpu_vector_math.h over an array, as the kernels' clones run it
/// (exposed for its test).
void exp_nonpositive(const float* x, float* out, int64_t count);

}  // namespace tb
