#include "core/tokenizer/byte_level.h"

#include "core/tokenizer/unicode.h"

namespace tb::byte_level {

namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8{};
  Tables() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      to_char[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      unicode::append_utf8(to_utf8[b], to_char[b]);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t b) { return tables().to_char[b]; }

int char_to_byte(char32_t c) {
  if ((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255)) {
    return static_cast<int>(c);
  }
  if (c < 256 || c >= 256 + 68) return -1;
  // The non-printable bytes 0..32, 127..160 and 173 were numbered from 256 in order.
  const uint32_t k = c - 256;
  if (k <= 32) return static_cast<int>(k);
  if (k <= 32 + 34) return static_cast<int>(127 + (k - 33));
  return 173;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += tables().to_utf8[b];
  return out;
}

bool decode(std::string_view text, std::string& bytes) {
  bytes.clear();
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    const int b = char_to_byte(unicode::decode(text, i, len));
    if (b < 0) return false;
    bytes.push_back(static_cast<char>(b));
    i += len;
  }
  return true;
}

}  // namespace tb::byte_level
