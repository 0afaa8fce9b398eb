#pragma once
// UTF-8 validation: data files must be UTF-8, and a bad byte is reported with its offset.

#include <cstddef>
#include <string_view>

namespace tb::data {

/// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF), or std::string_view::npos when all of it is valid.
size_t find_invalid_utf8(std::string_view bytes);

}  // namespace tb::data
