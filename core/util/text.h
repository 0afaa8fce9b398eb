#pragma once
// Small text helpers used for user-facing messages.

#include <cstdint>
#include <optional>
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

/// A dotted name's all-digit component ("model.layers.3.mlp" → 3 at [13, 14)).
struct NumberedComponent {
  int64_t number = 0;  // the component's value
  size_t begin = 0;    // index of its first digit
  size_t end = 0;      // index just past its last digit (a '.' or the end of the name)
};

/// The first component of `name` at or after `from` made only of digits (at most 18) and
/// preceded by a '.'; std::nullopt when there is none. Tensor-name parsing does not use
/// std::regex: LibTorch as Python's wheels ship it exports regex internals of another
/// compiler, and a program of ours built against it crashes in them.
std::optional<NumberedComponent> find_numbered_component(std::string_view name, size_t from = 0);

}  // namespace tb
