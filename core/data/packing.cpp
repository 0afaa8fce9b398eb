#include "core/data/packing.h"

#include "core/util/error.h"

namespace tb::data {

std::vector<Example> pack_examples(const std::vector<Example>& examples,
                                   const PackingOptions& options) {
  if (options.block_size <= 0) throw make_error("packing block_size must be positive");
  const size_t block = size_t(options.block_size);
  std::vector<Example> packed;
  Example current;
  int32_t segment = 0;
  auto flush = [&] {
    if (!current.input_ids.empty()) packed.push_back(std::move(current));
    current = Example{};
    segment = 0;
  };
  for (const Example& example : examples) {
    size_t length = example.input_ids.size();
    if (length == 0) continue;
    if (length > block) length = block;
    if (current.input_ids.size() + length > block) flush();
    if (current.input_ids.empty()) current.source_row = example.source_row;
    ++segment;
    current.input_ids.insert(current.input_ids.end(), example.input_ids.begin(),
                             example.input_ids.begin() + std::ptrdiff_t(length));
    const size_t first_label = current.labels.size();
    if (example.labels.empty()) {
      current.labels.insert(current.labels.end(), example.input_ids.begin(),
                            example.input_ids.begin() + std::ptrdiff_t(length));
    } else {
      current.labels.insert(current.labels.end(), example.labels.begin(),
                            example.labels.begin() + std::ptrdiff_t(length));
    }
    // The model predicts label t from token t-1: for a segment's first token that would be
    // the previous example's last token, so it gets no loss.
    current.labels[first_label] = kIgnoreIndex;
    current.segment_ids.insert(current.segment_ids.end(), length, segment);
    current.truncated = current.truncated || example.truncated || length < example.input_ids.size();
  }
  flush();
  return packed;
}

}  // namespace tb::data
