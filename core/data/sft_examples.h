#pragma once
// Supervised fine-tuning from turns already rendered by a chat template (the template itself
// lives with the tokenizer): each turn's text and whether the model learns it. Loss falls on
// trainable turns only (assistant replies), unless train_on_prompt.

#include <string>
#include <vector>

#include "core/data/example.h"

namespace tb::data {

/// One rendered turn.
struct RenderedTurn {
  std::string text;        // the turn as the template renders it (role markers included)
  bool trainable = false;  // true: its tokens are targets (assistant replies)
};

/// Options of the SFT builder.
struct SftOptions {
  int64_t cutoff_len = 2048;     // most tokens per example; ≤ 0 = no limit
  bool train_on_prompt = false;  // true: prompt tokens are targets too (LLaMA-Factory's option)
};

/// Tokenises the turns. Consecutive prompt turns and the reply after them form a pair; pairs
/// are kept in order while the budget lasts, each pair's prompt and reply cut in proportion
/// (a short side is kept whole, a long one cut), as LLaMA-Factory does.
Example make_sft_example(const std::vector<RenderedTurn>& turns, const TokenizerFns& tokenizer,
                         const SftOptions& options, int64_t source_row = -1);

/// How many tokens of a (prompt, reply) pair fit `budget`: {prompt tokens, reply tokens}.
std::pair<int64_t, int64_t> split_budget(int64_t prompt, int64_t reply, int64_t budget);

}  // namespace tb::data
