#include "core/tokenizer/split_scanner.h"

#include "core/tokenizer/unicode.h"

namespace tb::split_scanner {

namespace {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kDigits3Pattern = R"(\p{N}{1,3})";
const char* const kCjkKanaPattern =
    "[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+";
const char* const kDeepSeekPattern =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}"
    "]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

// Character classes, as bits.
enum : uint8_t {
  kLetter = 1,
  kNumber = 2,
  kSpace = 4,    // \s
  kNewline = 8,  // \r or \n
  kMark = 16,
  kPunctSym = 32,  // \p{P} or \p{S}
  kAny = 0xFF,     // for run(): any character
};

struct AsciiTable {
  uint8_t bits[128] = {};
  AsciiTable() {
    for (char32_t c = 0; c < 128; ++c) {
      uint8_t b = 0;
      if (unicode::is_letter(c)) b |= kLetter;
      if (unicode::is_number(c)) b |= kNumber;
      if (unicode::is_whitespace(c)) b |= kSpace;
      if (c == '\r' || c == '\n') b |= kNewline;
      if (unicode::is_punctuation(c) || unicode::is_symbol(c)) b |= kPunctSym;
      bits[c] = b;
    }
  }
};

const AsciiTable kAscii;

inline uint8_t classify(char32_t c) {
  if (c < 128) return kAscii.bits[c];
  const int k = unicode::category(c);
  uint8_t b = 0;
  if (k >= 1 && k <= 5) b |= kLetter;
  if (k >= 6 && k <= 8) b |= kMark;
  if (k >= 9 && k <= 11) b |= kNumber;
  if ((k >= 12 && k <= 18) || (k >= 19 && k <= 22)) b |= kPunctSym;
  if (unicode::is_whitespace(c)) b |= kSpace;
  return b;
}

// A cursor over valid UTF-8 that decodes each character once.
struct Text {
  std::string_view s;
  // Class and byte length of the character at i (i < s.size()).
  inline uint8_t at(size_t i, size_t& len, char32_t& c) const {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 128) {
      len = 1;
      c = b;
      return kAscii.bits[b];
    }
    c = unicode::decode(s, i, len);
    return classify(c);
  }
  inline uint8_t at(size_t i, size_t& len) const {
    char32_t c;
    return at(i, len, c);
  }
  // End of the run of characters from i whose class has any of `any` (kAny: every class) and
  // none of `none`.
  inline size_t run(size_t i, uint8_t any, uint8_t none = 0, size_t max_chars = SIZE_MAX) const {
    size_t n = 0;
    while (i < s.size() && n < max_chars) {
      size_t len = 0;
      const uint8_t b = at(i, len);
      if ((any != kAny && !(b & any)) || (b & none)) break;
      i += len;
      ++n;
    }
    return i;
  }
};

inline bool is_other_gpt(uint8_t b) { return !(b & (kLetter | kNumber | kSpace)); }

// The contraction alternative ('s|'t|'re|'ve|'m|'ll|'d), optionally case-insensitive.
size_t contraction(const Text& t, size_t i, bool ignore_case) {
  if (t.s[i] != '\'' || i + 1 >= t.s.size()) return 0;
  size_t len = 0;
  char32_t c = 0;
  t.at(i + 1, len, c);
  auto lower = [&](char32_t x) -> char32_t {
    if (!ignore_case) return x;
    if (x == 0x17F) return 's';  // ſ folds to s under Unicode case folding
    return x >= 'A' && x <= 'Z' ? x + 32 : x;
  };
  const char32_t a = lower(c);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1 + len;
  if (i + 1 + len >= t.s.size()) return 0;
  size_t len2 = 0;
  char32_t c2 = 0;
  t.at(i + 1 + len, len2, c2);
  const char32_t b = lower(c2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
    return 1 + len + len2;
  }
  return 0;
}

// \s+(?!\S) then \s+ : the whitespace run, minus its last character when a non-space follows
// and the run has more than one character.
size_t whitespace_tail(const Text& t, size_t i) {
  const size_t end = t.run(i, kSpace);
  if (end == t.s.size()) return end;
  size_t last = end - 1;
  while ((static_cast<unsigned char>(t.s[last]) & 0xC0) == 0x80) --last;
  return last > i ? last : end;
}

size_t match_gpt2(const Text& t, size_t i) {
  if (size_t n = contraction(t, i, false)) return i + n;
  size_t len = 0;
  const uint8_t b = t.at(i, len);
  size_t j = i;
  uint8_t next = b;
  if (t.s[i] == ' ' && i + 1 < t.s.size()) {
    size_t len2 = 0;
    next = t.at(i + 1, len2);
    j = i + 1;
    if (!(next & kLetter) && !(next & kNumber) && !is_other_gpt(next)) {
      j = i;
      next = b;
    }
  }
  if (next & kLetter) return t.run(j, kLetter);
  if (next & kNumber) return t.run(j, kNumber);
  if (is_other_gpt(next)) return t.run(j, kAny, kLetter | kNumber | kSpace);
  return whitespace_tail(t, i);
}

size_t match_llama3(const Text& t, size_t i, size_t max_digits) {
  if (size_t n = contraction(t, i, true)) return i + n;
  size_t len = 0;
  const uint8_t b = t.at(i, len);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (b & kLetter) return t.run(i, kLetter);
  if (!(b & (kNewline | kNumber)) && i + len < t.s.size()) {
    size_t len2 = 0;
    if (t.at(i + len, len2) & kLetter) return t.run(i + len, kLetter);
  }
  // \p{N}{1,max}
  if (b & kNumber) return t.run(i, kNumber, 0, max_digits);
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  size_t j = i;
  uint8_t c = b;
  if (t.s[i] == ' ' && i + 1 < t.s.size()) {
    size_t len2 = 0;
    const uint8_t n2 = t.at(i + 1, len2);
    if (is_other_gpt(n2)) j = i + 1, c = n2;
  }
  if (is_other_gpt(c)) {
    const size_t k = t.run(j, kAny, kLetter | kNumber | kSpace);
    return t.run(k, kNewline);
  }
  // \s*[\r\n]+ : up to the last newline of the whitespace run
  const size_t end = t.run(i, kSpace);
  for (size_t k = end; k > i; --k) {
    const char ch = t.s[k - 1];
    if (ch == '\r' || ch == '\n') return k;
  }
  return whitespace_tail(t, i);
}

// DeepSeek V3: [ASCII punct][A-Za-z]+ | [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ |
//   ?[\p{P}\p{S}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+ ; 0 when nothing matches at i.
size_t match_deepseek(const Text& t, size_t i) {
  const auto ascii_letter = [](char ch) { return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'; };
  const char c0 = t.s[i];
  if (c0 > 32 && c0 < 127 && !ascii_letter(c0) && !(c0 >= '0' && c0 <= '9') && i + 1 < t.s.size() &&
      ascii_letter(t.s[i + 1])) {
    size_t k = i + 1;
    while (k < t.s.size() && ascii_letter(t.s[k])) ++k;
    return k;
  }
  size_t len = 0;
  const uint8_t b = t.at(i, len);
  if (b & (kLetter | kMark)) return t.run(i, kLetter | kMark);
  if (!(b & (kNewline | kLetter | kPunctSym)) && i + len < t.s.size()) {
    size_t len2 = 0;
    if (t.at(i + len, len2) & (kLetter | kMark)) return t.run(i + len, kLetter | kMark);
  }
  size_t j = i;
  uint8_t c = b;
  if (c0 == ' ' && i + 1 < t.s.size()) {
    size_t len2 = 0;
    const uint8_t n2 = t.at(i + 1, len2);
    if (n2 & kPunctSym) j = i + 1, c = n2;
  }
  if (c & kPunctSym) return t.run(t.run(j, kPunctSym), kNewline);
  if (!(b & kSpace)) return 0;
  const size_t end = t.run(i, kSpace);
  for (size_t k = end; k > i; --k) {
    const char ch = t.s[k - 1];
    if (ch == '\r' || ch == '\n') return k;
  }
  return whitespace_tail(t, i);
}

}  // namespace

Kind recognize(const std::string& pattern) {
  if (pattern == kGpt2Pattern) return Kind::kGpt2;
  if (pattern == kLlama3Pattern) return Kind::kLlama3;
  if (pattern == kQwenPattern) return Kind::kQwen;
  if (pattern == kDigits3Pattern) return Kind::kDigits3;
  if (pattern == kCjkKanaPattern) return Kind::kCjkKana;
  if (pattern == kDeepSeekPattern) return Kind::kDeepSeek;
  return Kind::kNone;
}

std::string pattern_of(Kind kind) {
  switch (kind) {
    case Kind::kGpt2:
      return kGpt2Pattern;
    case Kind::kLlama3:
      return kLlama3Pattern;
    case Kind::kQwen:
      return kQwenPattern;
    case Kind::kDigits3:
      return kDigits3Pattern;
    case Kind::kCjkKana:
      return kCjkKanaPattern;
    case Kind::kDeepSeek:
      return kDeepSeekPattern;
    case Kind::kNone:
      break;
  }
  return {};
}

void scan(Kind kind, std::string_view s, std::vector<ByteRange>& out) {
  const Text t{s};
  size_t i = 0;
  while (i < s.size()) {
    size_t end = i;
    switch (kind) {
      case Kind::kGpt2:
        end = match_gpt2(t, i);
        break;
      case Kind::kLlama3:
        end = match_llama3(t, i, 3);
        break;
      case Kind::kQwen:
        end = match_llama3(t, i, 1);
        break;
      case Kind::kDigits3: {
        size_t len = 0;
        end = (t.at(i, len) & kNumber) ? t.run(i, kNumber, 0, 3) : i;
        break;
      }
      case Kind::kCjkKana: {
        size_t k = i;
        while (k < s.size()) {
          size_t len = 0;
          char32_t c = 0;
          t.at(k, len, c);
          if (!((c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF))) break;
          k += len;
        }
        end = k;
        break;
      }
      case Kind::kDeepSeek:
        end = match_deepseek(t, i);
        break;
      case Kind::kNone:
        return;
    }
    if (end > i) {
      out.emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(end));
      i = end;
    } else {
      i += unicode::sequence_length(static_cast<unsigned char>(s[i]));
    }
  }
}

}  // namespace tb::split_scanner
