#pragma once
// GPT-2's reversible byte ↔ printable-character table used by ByteLevel components.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tb::byte_level {

/// The character standing for byte `b`.
char32_t byte_to_char(uint8_t b);
/// The byte a character stands for, or -1 when `c` is not in the table.
int char_to_byte(char32_t c);
/// Maps raw bytes to their byte-level characters (UTF-8).
std::string encode(std::string_view bytes);
/// Maps a byte-level string back to raw bytes; false when a character is not in the table.
bool decode(std::string_view text, std::string& bytes);

}  // namespace tb::byte_level
