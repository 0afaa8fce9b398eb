#include "core/tokenizer/pipeline.h"

namespace tb {

void NormalizedText::assign_original(std::string_view s, uint32_t base) {
  text.assign(s.data(), s.size());
  align.resize(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = unicode::sequence_length(static_cast<unsigned char>(s[i]));
    const Span span{base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i + len)};
    for (size_t k = 0; k < len; ++k) align[i + k] = span;
    i += len;
  }
}

void NormalizedText::prepend(std::string_view s) {
  if (text.empty() || s.empty()) return;
  const size_t first = unicode::sequence_length(static_cast<unsigned char>(text[0]));
  const Span span{align[0].start, align[first - 1].end};
  text.insert(0, s);
  align.insert(align.begin(), s.size(), span);
}

void PreTokenized::append_copy(uint32_t from_begin, uint32_t from_end) {
  // buf may reallocate while appending from itself: copy through indices, not pointers.
  const size_t n = from_end - from_begin;
  const size_t at = buf.size();
  buf.resize(at + n);
  buf.replace(at, n, buf, from_begin, n);
  align.reserve(align.size() + n);
  for (size_t k = 0; k < n; ++k) align.push_back(align[from_begin + k]);
}

void PreTokenized::append_with_span(std::string_view s, Span span) {
  buf.append(s.data(), s.size());
  align.insert(align.end(), s.size(), span);
}

void PreTokenized::clear() {
  buf.clear();
  align.clear();
  pieces.clear();
  next.clear();
}

}  // namespace tb
