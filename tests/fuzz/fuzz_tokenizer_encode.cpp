// Arbitrary bytes (invalid UTF-8 included) through real tokenizers — the demo's byte-level BPE
// and WordPiece vocabularies — then decoded back: never a crash; byte-level BPE must round-trip
// valid UTF-8 exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/data/utf8.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

namespace {
const tb::Tokenizer& bpe() {
  static const tb::Tokenizer tokenizer =
      tb::Tokenizer::load(std::string(TB_SOURCE_DIR) + "/resources/demo/models/tiny-llama");
  return tokenizer;
}
const tb::Tokenizer& wordpiece() {
  static const tb::Tokenizer tokenizer =
      tb::Tokenizer::load(std::string(TB_SOURCE_DIR) + "/resources/demo/models/tiny-bert");
  return tokenizer;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto ids = bpe().encode_ids(text, false);
    const std::string back = bpe().decode(ids, false);
    if (tb::data::find_invalid_utf8(text) == std::string::npos && back != text) std::abort();
    wordpiece().decode(wordpiece().encode_ids(text, true), true);
  } catch (const tb::Error&) {
    // Refusing invalid UTF-8 with a clear message is allowed.
  }
  return 0;
}
