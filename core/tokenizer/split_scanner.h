#pragma once
// Hand-written scanners for the split regexes that almost every byte-level tokenizer uses
// (GPT-2, Llama 3, Qwen 2/3, DeepSeek's digit and CJK splits). Each one finds exactly the
// matches Oniguruma finds for its pattern (tests/core/test_tokenizer_scanner.cpp checks that
// against Oniguruma itself) and runs several times faster.

#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/regex.h"

namespace tb::split_scanner {

/// The regexes with a scanner.
enum class Kind {
  kNone,      // no scanner: use Oniguruma
  kGpt2,      // ByteLevel's 's|'t|…| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kLlama3,    // (?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|…
  kQwen,      // as kLlama3 with \p{N} (one digit at a time)
  kDigits3,   // \p{N}{1,3}
  kCjkKana,   // [\x{4e00}-\x{9fa5}\x{3040}-\x{309f}\x{30a0}-\x{30ff}]+
  kDeepSeek,  // DeepSeek V3's main split (punctuation+ASCII word, letters+marks, …)
};

/// The scanner whose regex is exactly `pattern`, or kNone.
Kind recognize(const std::string& pattern);

/// The regex source a scanner implements (to compare against Oniguruma).
std::string pattern_of(Kind kind);

/// Appends the matches of `kind`'s regex in `s` (valid UTF-8), like Regex::find_all.
void scan(Kind kind, std::string_view s, std::vector<ByteRange>& out);

}  // namespace tb::split_scanner
