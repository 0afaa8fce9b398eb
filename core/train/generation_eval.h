#pragma once
// Exact-match evaluation by generation (predict_with_generate): the model answers each eval
// prompt greedily and an answer counts when it equals the reference after trimming spaces.

#include <cstdint>
#include <string>
#include <vector>

#include "core/models/model.h"
#include "core/tokenizer/tokenizer.h"

namespace tb {

/// Prompts (rendered by the chat template, BOS and generation prompt included: they are
/// encoded without adding special tokens, as the SFT examples are) and their answers.
struct ExactMatchSet {
  std::vector<std::string> prompts;  // what the model continues
  std::vector<std::string> answers;  // the reference reply of each prompt
};

/// How answers are generated.
struct ExactMatchOptions {
  int64_t max_new_tokens = 32;          // most tokens per answer
  std::vector<int64_t> stop_token_ids;  // end of answer (the tokenizer's EOS)
};

/// One answer as generated and whether it matched.
struct ExactMatchAnswer {
  std::string generated;  // decoded, special tokens skipped, trimmed
  bool match = false;     // equal to the trimmed reference
};

/// Share of prompts answered exactly (0..1), with every answer when `answers` is non-null.
/// The model is put in eval mode and returned to its previous mode.
double exact_match(LanguageModel& model, const Tokenizer& tokenizer, const ExactMatchSet& set,
                   const ExactMatchOptions& options,
                   std::vector<ExactMatchAnswer>* answers = nullptr);

}  // namespace tb
