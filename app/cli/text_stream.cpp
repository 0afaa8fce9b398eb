#include "app/cli/text_stream.h"

#include <iostream>

namespace tb::cli {

bool TextStream::add(int64_t token) {
  ids_.push_back(static_cast<uint32_t>(token));
  // Decoding everything so far, not just the new token: a token may complete a character only
  // together with the next one, and some tokenizers join pieces depending on their neighbours.
  const std::string decoded = text();
  // U+FFFD at the end = a character still incomplete: wait for the next token.
  const bool incomplete =
      decoded.size() >= 3 && decoded.compare(decoded.size() - 3, 3, "\xEF\xBF\xBD") == 0;
  if (decoded.size() > shown_ && !incomplete) {
    std::cout << decoded.substr(shown_) << std::flush;
    shown_ = decoded.size();
  }
  return true;
}

std::string TextStream::text() const {
  return tokenizer_.decode(ids_, /*skip_special_tokens=*/true);
}

}  // namespace tb::cli
