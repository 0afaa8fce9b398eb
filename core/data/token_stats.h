#pragma once
// Token lengths of a subset as the task builds it: a histogram and how many rows the length
// limit (max_length / cutoff_len) cuts. Shown by the preview before a run starts.

#include <cstdint>
#include <vector>

#include "core/data/task_examples.h"

namespace tb::data {

/// Token-length statistics of the examples of some rows.
struct TokenStats {
  int64_t rows = 0;                // rows measured
  int64_t min_tokens = 0;          // shortest example (tokens)
  int64_t max_tokens = 0;          // longest example (tokens)
  double mean_tokens = 0;          // mean length
  int64_t truncated = 0;           // rows the length limit cut
  int64_t target_tokens = 0;       // tokens with a loss (labels ≠ -100), token-level tasks
  int64_t bin_width = 1;           // tokens per histogram bin
  std::vector<int64_t> histogram;  // rows per bin; bin k holds lengths in [k·w, (k+1)·w)
};

/// Builds the task examples of `rows` (unpacked) and measures them in `bins` equal bins.
/// Causal-LM and classification lengths are before truncation (the histogram shows what the
/// limit cuts); other tasks are measured as built.
TokenStats token_length_stats(const Dataset& data, const std::vector<int64_t>& rows,
                              const TokenizerFns& tokenizer, const TaskOptions& task,
                              int64_t bins = 20);

}  // namespace tb::data
