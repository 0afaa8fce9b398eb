#pragma once
// UTF-8 decoding/encoding and the Unicode character classes the tokenizer pipeline needs
// (general categories from utf8proc, White_Space as Rust's char::is_whitespace defines it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tb::unicode {

/// Decodes the code point at s[i] (s must be valid UTF-8) and stores its byte length in `len`.
inline char32_t decode(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    len = 2;
    return ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
  }
  if (b0 < 0xF0) {
    len = 3;
    return ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
  }
  len = 4;
  return ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
         ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
         (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
}

/// Byte length of the UTF-8 sequence that starts with byte `b0` (valid input assumed).
inline size_t sequence_length(unsigned char b0) {
  return b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
}

/// Appends the UTF-8 encoding of `c` to `out`.
void append_utf8(std::string& out, char32_t c);

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// Replaces each maximal invalid subsequence by U+FFFD, as WHATWG decoders and Rust's
/// String::from_utf8_lossy do (so Node and the Hugging Face library see the same text).
std::string to_valid_utf8(std::string_view s);

/// Unicode general category of `c` as utf8proc numbers it (0 = Cn … 29 = Co), with the
/// Unicode 16 additions the reference library knows (letters, numbers, marks, P, S).
int category(char32_t c);

/// Rust's char::is_whitespace (the White_Space property).
bool is_whitespace(char32_t c);
/// Letter (L*).
bool is_letter(char32_t c);
/// Number (N*), Rust's char::is_numeric.
bool is_number(char32_t c);
/// Mark (M*).
bool is_mark(char32_t c);
/// Nonspacing mark (Mn).
bool is_mark_nonspacing(char32_t c);
/// Punctuation (P*).
bool is_punctuation(char32_t c);
/// Symbol (S*).
bool is_symbol(char32_t c);
/// Other as Rust's unicode_categories crate defines it: Cc, Cf, Cs, Co (not unassigned Cn).
bool is_other(char32_t c);
/// Rust's char::is_alphanumeric (letters, numbers and other alphabetic characters).
bool is_alphanumeric(char32_t c);
/// A regex `\w` character: letter, mark, decimal number, connector punctuation or ZWJ/ZWNJ.
bool is_word_char(char32_t c);

/// Punctuation as BERT components of the reference library see it: their Unicode tables
/// predate Unicode 10, so later punctuation is a word character (plus U+111C9, then Po).
bool is_punctuation_legacy(char32_t c);
/// Other (Cc, Cf, Cs, Co) with the same older tables: later format characters are not other.
bool is_other_legacy(char32_t c);
/// Nonspacing mark with the same older tables: later marks are not stripped as accents.
bool is_mark_nonspacing_legacy(char32_t c);

/// Lowercases like Rust's str::to_lowercase, appending to `out` (İ becomes "i̇").
void append_lowercase(std::string& out, char32_t c);

/// Unicode normalization forms.
enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

/// Normalizes valid UTF-8 text with utf8proc.
std::string normalize(std::string_view s, NormalizationForm form);

/// True for characters the reference's normalization tables predate (left untouched).
bool is_normalization_barrier(char32_t c);
/// The same for NFKC/NFKD: also compatibility decompositions the reference predates.
bool is_compat_normalization_barrier(char32_t c);

/// Canonical combining class of `c` (0 for starters).
int combining_class(char32_t c);

}  // namespace tb::unicode
