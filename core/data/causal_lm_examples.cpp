#include "core/data/causal_lm_examples.h"

#include "core/util/error.h"

namespace tb::data {

Example make_causal_lm_example(std::string_view text, const TokenizerFns& tokenizer,
                               const CausalLmOptions& options, int64_t source_row) {
  if (!tokenizer.encode) throw make_error("no tokenizer was given to the causal-LM builder");
  Example example;
  example.source_row = source_row;
  const bool bos = options.add_bos && tokenizer.bos_id >= 0;
  const bool eos = options.add_eos && tokenizer.eos_id >= 0;
  std::vector<int32_t> body = tokenizer.encode(text);
  if (options.max_length > 0) {
    const int64_t room = options.max_length - int64_t(bos) - int64_t(eos);
    if (room < 0) throw make_error("max_length is too small for the special tokens");
    if (int64_t(body.size()) > room) {
      body.resize(size_t(room));
      example.truncated = true;
    }
  }
  if (bos) example.input_ids.push_back(tokenizer.bos_id);
  example.input_ids.insert(example.input_ids.end(), body.begin(), body.end());
  if (eos) example.input_ids.push_back(tokenizer.eos_id);
  example.labels = example.input_ids;
  return example;
}

}  // namespace tb::data
