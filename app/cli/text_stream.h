#pragma once
// Streams generated text to the terminal as tokens arrive (chat, generate).

#include <cstdint>
#include <string>

#include "core/tokenizer/stream_decoder.h"

namespace tb::cli {

/// Prints the text of the tokens passed to add() as they arrive, special tokens skipped.
class TextStream {
 public:
  /// Decodes with `tokenizer`, which must outlive the stream.
  explicit TextStream(const Tokenizer& tokenizer) : decoder_(tokenizer) {}
  /// Appends `token` and prints the text it completes; returns true (generation goes on).
  bool add(int64_t token);
  /// The whole text so far, a character still waiting for its next token included.
  std::string text() const { return decoder_.text(); }

 private:
  StreamDecoder decoder_;  // what is new after each token
};

}  // namespace tb::cli
