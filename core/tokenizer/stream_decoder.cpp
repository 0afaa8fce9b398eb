#include "core/tokenizer/stream_decoder.h"

namespace tb {

std::string StreamDecoder::add(int64_t token) {
  ids_.push_back(static_cast<uint32_t>(token));
  // Decoding everything so far, not just the new token: a token may complete a character only
  // together with the next one, and some tokenizers join pieces depending on their neighbours.
  const std::string decoded = text();
  // U+FFFD at the end = a character still incomplete: wait for the next token.
  const bool incomplete =
      decoded.size() >= 3 && decoded.compare(decoded.size() - 3, 3, "\xEF\xBF\xBD") == 0;
  if (decoded.size() <= shown_ || incomplete) return {};
  std::string fresh = decoded.substr(shown_);
  shown_ = decoded.size();
  return fresh;
}

std::string StreamDecoder::text() const {
  return tokenizer_.decode(ids_, /*skip_special_tokens=*/true);
}

}  // namespace tb
