#include "core/data/token_stats.h"

#include <algorithm>

namespace tb::data {

TokenStats token_length_stats(const Dataset& data, const std::vector<int64_t>& rows,
                              const TokenizerFns& tokenizer, const TaskOptions& task,
                              int64_t bins) {
  TokenStats stats;
  std::vector<int64_t> lengths;
  lengths.reserve(rows.size());
  int64_t total = 0;
  // Lengths are measured without the limit, so the histogram shows what the limit cuts.
  TaskOptions unlimited = task;
  unlimited.causal_lm.max_length = 0;
  unlimited.classification.max_length = 0;
  for (int64_t row : rows) {
    const Sample sample = data.sample(row);
    const Example example = make_task_example(sample, tokenizer, task);
    const bool measurable =
        task.kind == TaskKind::kCausalLm || task.kind == TaskKind::kClassification;
    const auto length =
        measurable ? int64_t(make_task_example(sample, tokenizer, unlimited).input_ids.size())
                   : int64_t(example.input_ids.size());
    lengths.push_back(length);
    total += length;
    stats.truncated += example.truncated ? 1 : 0;
    for (int32_t label : example.labels) stats.target_tokens += label != kIgnoreIndex ? 1 : 0;
  }
  stats.rows = int64_t(lengths.size());
  if (lengths.empty()) return stats;
  stats.min_tokens = *std::min_element(lengths.begin(), lengths.end());
  stats.max_tokens = *std::max_element(lengths.begin(), lengths.end());
  stats.mean_tokens = double(total) / double(stats.rows);
  bins = std::max<int64_t>(bins, 1);
  // Bins start at 0 so two previews of different subsets line up.
  stats.bin_width = std::max<int64_t>(1, (stats.max_tokens + bins) / bins);
  stats.histogram.assign(size_t(stats.max_tokens / stats.bin_width + 1), 0);
  for (int64_t length : lengths) ++stats.histogram[size_t(length / stats.bin_width)];
  return stats;
}

}  // namespace tb::data
