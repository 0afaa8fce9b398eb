#pragma once
// Text of tokens as they are generated, one piece per token (terminal, Playground): each call
// decodes everything so far and hands out only what is new and complete.

#include <cstdint>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace tb {

/// Turns a growing list of generated tokens into newly completed text, special tokens skipped.
class StreamDecoder {
 public:
  /// Decodes with `tokenizer`, which must outlive the decoder.
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  /// Appends `token`; returns the text it completes ("" while a character waits for more).
  std::string add(int64_t token);
  /// The whole text so far, a character still waiting for its next token included.
  std::string text() const;

 private:
  const Tokenizer& tokenizer_;  // decodes the ids
  std::vector<uint32_t> ids_;   // every token added so far
  size_t shown_ = 0;            // bytes of the decoded text already handed out
};

}  // namespace tb
