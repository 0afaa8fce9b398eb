#pragma once
// The text a tokenizer works on between its stages: normalized text that remembers, per byte,
// which bytes of the original input it came from, and the pieces pre-tokenizers cut it into.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/unicode.h"

namespace tb {

/// A half-open span [start, end) of bytes in the original input.
struct Span {
  uint32_t start = 0;  // first byte
  uint32_t end = 0;    // one past the last byte
};

/// Normalized text with its alignment to the original input (align.size() == text.size()).
struct NormalizedText {
  std::string text;         // the normalized UTF-8 text
  std::vector<Span> align;  // original span of each byte of `text`

  /// Sets the text to a slice of the original input starting at byte `base`.
  void assign_original(std::string_view s, uint32_t base);
  /// Rebuilds the text character by character: `map(c, out)` appends c's replacement
  /// (possibly nothing); each appended byte keeps c's original span.
  template <typename F>
  void map_chars(F&& map);
  /// Inserts `s` at the front, aligned to the first character (nothing when empty).
  void prepend(std::string_view s);
};

/// One piece of pre-tokenized text: a byte range of PreTokenized::buf, or an added token.
struct Piece {
  uint32_t begin = 0;     // first byte in buf
  uint32_t end = 0;       // one past the last byte in buf
  int64_t added_id = -1;  // id of the added token this piece is, or -1 for plain text
};

/// The pieces of one input: text buffer, alignment to the original, and the pieces in order.
struct PreTokenized {
  std::string buf;            // normalized text; transformed pieces are appended after it
  std::vector<Span> align;    // original span of each byte of buf
  std::vector<Piece> pieces;  // the pieces in order
  std::vector<Piece> next;    // scratch for pre-tokenizers (swapped with pieces)

  /// The text of a piece.
  std::string_view text(const Piece& p) const { return {buf.data() + p.begin, p.end - p.begin}; }
  /// Appends text copied from `from` (a range of buf) to buf with the same alignment.
  void append_copy(uint32_t from_begin, uint32_t from_end);
  /// Appends `s` to buf, every byte aligned to `span`.
  void append_with_span(std::string_view s, Span span);
  /// Clears everything, keeping capacity.
  void clear();
};

template <typename F>
void NormalizedText::map_chars(F&& map) {
  std::string out;
  std::vector<Span> out_align;
  out.reserve(text.size() + 8);
  out_align.reserve(text.size() + 8);
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    const char32_t c = unicode::decode(text, i, len);
    const Span span{align[i].start, align[i + len - 1].end};
    const size_t before = out.size();
    map(c, out);
    out_align.insert(out_align.end(), out.size() - before, span);
    i += len;
  }
  text.swap(out);
  align.swap(out_align);
}

}  // namespace tb
