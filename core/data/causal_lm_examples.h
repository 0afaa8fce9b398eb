#pragma once
// Plain causal LM (recipe B): labels = input_ids; the model shifts them.

#include <string_view>

#include "core/data/example.h"

namespace tb::data {

/// Options of the causal-LM builder.
struct CausalLmOptions {
  int64_t max_length = 512;  // tokens kept, specials included (truncation); ≤ 0 = no limit
  bool add_bos = true;       // prepend TokenizerFns::bos_id when it is ≥ 0
  bool add_eos = false;      // append TokenizerFns::eos_id when it is ≥ 0 (survives truncation)
};

/// Tokenises `text` into an example whose labels equal its input ids.
Example make_causal_lm_example(std::string_view text, const TokenizerFns& tokenizer,
                               const CausalLmOptions& options, int64_t source_row = -1);

}  // namespace tb::data
