#include "core/data/classification_examples.h"

#include "core/util/error.h"

namespace tb::data {

Example make_classification_example(const Sample& sample, const TokenizerFns& tokenizer,
                                    const ClassificationOptions& options) {
  if (!tokenizer.encode) throw make_error("no tokenizer was given to the classification builder");
  Example example;
  example.source_row = sample.row;
  example.class_label = sample.label;
  std::vector<int32_t> first = tokenizer.encode(sample.text);
  std::vector<int32_t> second;
  const bool pair = !sample.text_pair.empty();
  if (pair) second = tokenizer.encode(sample.text_pair);
  const int32_t sep = tokenizer.sep_id >= 0 ? tokenizer.sep_id : tokenizer.eos_id;
  const int64_t specials =
      int64_t(tokenizer.bos_id >= 0) + int64_t(tokenizer.eos_id >= 0) + int64_t(pair && sep >= 0);
  if (options.max_length > 0) {
    const int64_t room = options.max_length - specials;
    if (room < 1) throw make_error("max_length is too small for the special tokens");
    while (int64_t(first.size() + second.size()) > room) {
      // Longest first: one token at a time from whichever text is longer (the first on ties).
      (second.size() > first.size() ? second : first).pop_back();
      example.truncated = true;
    }
  }
  if (tokenizer.bos_id >= 0) example.input_ids.push_back(tokenizer.bos_id);
  example.input_ids.insert(example.input_ids.end(), first.begin(), first.end());
  if (pair && sep >= 0) example.input_ids.push_back(sep);
  const size_t type_b_start = example.input_ids.size();
  if (pair) example.input_ids.insert(example.input_ids.end(), second.begin(), second.end());
  if (tokenizer.eos_id >= 0) example.input_ids.push_back(tokenizer.eos_id);
  if (pair) {
    example.token_type_ids.assign(example.input_ids.size(), 0);
    for (size_t i = type_b_start; i < example.input_ids.size(); ++i) {
      example.token_type_ids[i] = 1;
    }
  }
  return example;
}

}  // namespace tb::data
