#pragma once
// Sequence classification: [bos] text [sep text_pair] [eos] with the class id as target.

#include "core/data/example.h"
#include "core/data/sample.h"

namespace tb::data {

/// Options of the classification builder.
struct ClassificationOptions {
  int64_t max_length = 512;  // tokens kept, specials included; ≤ 0 = no limit. A pair is cut
                             // longest-first, as transformers' truncation=True does
};

/// Tokenises a classification Sample (text, optional text_pair, label).
Example make_classification_example(const Sample& sample, const TokenizerFns& tokenizer,
                                    const ClassificationOptions& options);

}  // namespace tb::data
