#pragma once
// Prompt template + verbalizer (recipe A.3): the text is put into a template such as
// "{text} It was {mask}", the position of the mask token is recorded, and the class logit is
// the MLM logit of the class's label word at that position.

#include <string>

#include "core/data/example.h"
#include "core/data/sample.h"

namespace tb::data {

/// Options of the prompt+verbalizer builder.
struct VerbalizerOptions {
  std::string prompt_template = "{text} It was {mask}";  // exactly one {text} and one {mask}
  int64_t max_length = 512;  // tokens kept; the text is cut so the template always survives
};

/// Tokenises a classification Sample into the template; throws tb::Error for a template
/// without {text}/{mask}, a tokenizer without a mask id, or no room left for any text.
Example make_verbalizer_example(const Sample& sample, const TokenizerFns& tokenizer,
                                const VerbalizerOptions& options);

/// The token id of each label word (e.g. {"bad", "good"}); throws tb::Error naming a word that
/// is not exactly one token, since its logit would be ill-defined.
std::vector<int32_t> label_word_ids(const std::vector<std::string>& words,
                                    const TokenizerFns& tokenizer);

}  // namespace tb::data
