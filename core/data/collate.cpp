#include "core/data/collate.h"

#include <algorithm>

#include "core/util/error.h"

namespace tb::data {

Batch collate(const std::vector<Example>& examples, const CollateOptions& options) {
  if (examples.empty()) throw make_error("cannot collate an empty batch");
  int64_t length = options.max_length;
  if (length <= 0) {
    length = 0;
    for (const Example& example : examples)
      length = std::max<int64_t>(length, example.input_ids.size());
    const int64_t multiple = std::max<int64_t>(options.pad_to_multiple_of, 1);
    length = (length + multiple - 1) / multiple * multiple;
  }
  const auto batch = int64_t(examples.size());
  bool has_labels = false, has_segments = false, has_types = false, has_class = false,
       has_mask = false;
  for (const Example& example : examples) {
    has_labels |= !example.labels.empty();
    has_segments |= !example.segment_ids.empty();
    has_types |= !example.token_type_ids.empty();
    has_class |= example.class_label >= 0;
    has_mask |= example.mask_position >= 0;
  }
  // Filled through raw pointers: one pass, no per-element tensor indexing.
  auto matrix = [&](int64_t fill) { return torch::full({batch, length}, fill, torch::kInt64); };
  Batch out;
  out.input_ids = matrix(options.pad_id);
  out.attention_mask = matrix(0);
  out.position_ids = matrix(0);
  if (has_labels) out.labels = matrix(kIgnoreIndex);
  if (has_segments) out.segment_ids = matrix(0);
  if (has_types) out.token_type_ids = matrix(0);
  if (has_class) out.class_labels = torch::full({batch}, -1, torch::kInt64);
  if (has_mask) out.mask_positions = torch::full({batch}, -1, torch::kInt64);

  for (int64_t b = 0; b < batch; ++b) {
    const Example& example = examples[size_t(b)];
    const int64_t kept = std::min<int64_t>(example.input_ids.size(), length);
    const int64_t shift = options.padding_side == PaddingSide::kLeft ? length - kept : 0;
    const int64_t row = b * length + shift;
    int64_t* ids = out.input_ids.data_ptr<int64_t>() + row;
    int64_t* mask = out.attention_mask.data_ptr<int64_t>() + row;
    int64_t* positions = out.position_ids.data_ptr<int64_t>() + row;
    int32_t previous_segment = 0;
    int64_t position = 0;
    for (int64_t t = 0; t < kept; ++t) {
      ids[t] = example.input_ids[size_t(t)];
      mask[t] = 1;
      if (!example.segment_ids.empty()) {
        const int32_t segment = example.segment_ids[size_t(t)];
        if (segment != previous_segment) position = 0;
        previous_segment = segment;
        out.segment_ids.data_ptr<int64_t>()[row + t] = segment;
      }
      positions[t] = position++;
    }
    if (!example.labels.empty()) {
      int64_t* labels = out.labels.data_ptr<int64_t>() + row;
      for (int64_t t = 0; t < kept && t < int64_t(example.labels.size()); ++t) {
        labels[t] = example.labels[size_t(t)];
      }
    }
    if (!example.token_type_ids.empty()) {
      int64_t* types = out.token_type_ids.data_ptr<int64_t>() + row;
      for (int64_t t = 0; t < kept; ++t) types[t] = example.token_type_ids[size_t(t)];
    }
    if (has_class) out.class_labels.data_ptr<int64_t>()[b] = example.class_label;
    if (has_mask && example.mask_position >= 0) {
      if (example.mask_position >= kept) {
        throw make_error("the mask token of row " + std::to_string(example.source_row) +
                             " falls beyond max_length " + std::to_string(length),
                         {}, "Build the examples with the same max_length as the collator.");
      }
      out.mask_positions.data_ptr<int64_t>()[b] = example.mask_position + shift;
    }
  }
  return out;
}

torch::Tensor packed_attention_mask(const torch::Tensor& segment_ids) {
  const int64_t length = segment_ids.size(1);
  const torch::Tensor same = segment_ids.unsqueeze(2) == segment_ids.unsqueeze(1);  // [B, T, T]
  const torch::Tensor real = (segment_ids != 0).unsqueeze(2);  // query is a token
  const torch::Tensor causal = torch::ones({length, length}, torch::kBool).tril();
  return (same & real & causal).unsqueeze(1);
}

}  // namespace tb::data
