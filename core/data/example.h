#pragma once
// Tokenised training examples and the tokenizer interface the task builders need. The
// builders depend only on an encode function and special-token ids, so any tokenizer (the
// tokenizer.json pipeline, a test double) plugs in.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace tb::data {

/// The label id the loss ignores (PyTorch's CrossEntropyLoss default).
constexpr int32_t kIgnoreIndex = -100;

/// What the builders need from a tokenizer.
struct TokenizerFns {
  std::function<std::vector<int32_t>(std::string_view)> encode;  // text → ids, no specials
  int32_t bos_id = -1;   // prepended when ≥ 0 ([CLS] for BERT); -1 = none
  int32_t eos_id = -1;   // appended when ≥ 0 ([SEP] for BERT); -1 = none
  int32_t sep_id = -1;   // between a text pair; -1 = eos_id
  int32_t pad_id = 0;    // padding id
  int32_t mask_id = -1;  // the mask token ([MASK]) for prompt+verbalizer; -1 = none
};

/// One tokenised example, ready for collation.
struct Example {
  std::vector<int32_t> input_ids;       // token ids
  std::vector<int32_t> labels;          // per-token targets (kIgnoreIndex = no loss); empty for
                                        // sequence classification
  std::vector<int32_t> segment_ids;     // packing: 1-based example number per token; empty =
                                        // one example
  std::vector<int32_t> token_type_ids;  // BERT segment A/B per token; empty = all 0
  int64_t class_label = -1;             // classification / verbalizer target class; -1 = none
  int64_t mask_position = -1;           // verbalizer: index of the mask token; -1 = none
  int64_t source_row = -1;              // row the example came from (first row when packed)
  bool truncated = false;               // true when tokens were cut to fit the length limit
};

}  // namespace tb::data
