#pragma once
// Small text helpers used for user-facing messages.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

/// Levenshtein edit distance between two strings (bytes).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is a plausible typo (distance ≤ max(2, len/3)),
/// else an empty string. Used for "did you mean …" in errors.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// Joins items with a separator: join({"a","b"}, ", ") == "a, b".
std::string join(const std::vector<std::string>& items, std::string_view separator);

/// Bytes in MiB with one decimal and no unit: format_mib(1572864) == "1.5".
std::string format_mib(int64_t bytes);

}  // namespace tb
