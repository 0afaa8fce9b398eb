#pragma once
// Streams generated text to the terminal as tokens arrive (chat, generate).

#include <cstdint>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace tb::cli {

/// Prints the text of the tokens passed to add() as they arrive, special tokens skipped.
class TextStream {
 public:
  /// Decodes with `tokenizer`, which must outlive the stream.
  explicit TextStream(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  /// Appends `token` and prints the text it completes; returns true (generation goes on).
  bool add(int64_t token);
  /// The whole text so far, a character still waiting for its next token included.
  std::string text() const;

 private:
  const Tokenizer& tokenizer_;  // decodes the ids
  std::vector<uint32_t> ids_;   // every token added so far
  size_t shown_ = 0;            // bytes of the decoded text already printed
};

}  // namespace tb::cli
