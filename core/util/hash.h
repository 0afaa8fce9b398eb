#pragma once
// Stable, fast content hashes for identity (not security): same bytes → same hash everywhere.

#include <cstdint>
#include <string>
#include <string_view>

namespace tb {

/// 64-bit FNV-1a of the bytes.
uint64_t fnv1a64(std::string_view bytes);

/// fnv1a64 as 16 lowercase hex digits.
std::string fnv1a64_hex(std::string_view bytes);

}  // namespace tb
