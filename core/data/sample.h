#pragma once
// A row in the shape the task builders want, whatever the file's format was.

#include <cstdint>
#include <string>
#include <vector>

namespace tb::data {

/// One turn of a conversation.
struct Message {
  std::string role;     // "system", "user", "assistant", "observation" or "function"
  std::string content;  // the turn's text
};

/// A normalised row. Chat formats fill `messages`; text and classification fill `text`.
struct Sample {
  int64_t row = 0;                // index of the row it came from
  std::string system;             // system prompt ("" = none); not repeated in `messages`
  std::vector<Message> messages;  // user/assistant turns in order (alpaca history first)
  std::string text;               // text and classification formats
  std::string text_pair;          // classification: optional second text ("" = none)
  int64_t label = -1;             // classification: label id (-1 = none)
};

}  // namespace tb::data
