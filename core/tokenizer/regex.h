#pragma once
// Split patterns: a literal string or an Oniguruma regex (the engine the Hugging Face library
// uses), with the library's "find every match, left to right" semantics.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tb {

/// A half-open byte range [first, second).
using ByteRange = std::pair<uint32_t, uint32_t>;

/// A compiled Oniguruma regex (Ruby syntax, UTF-8), safe to search from many threads.
class Regex {
 public:
  /// Compiles `pattern`; a syntax error is a tb::Error naming the pattern and `where`.
  Regex(const std::string& pattern, std::string_view where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// Appends every non-overlapping match in `s` (empty matches right after a match skipped).
  void find_all(std::string_view s, std::vector<ByteRange>& out) const;
  /// The longest-leftmost first match at or after `from`, or false.
  bool search(std::string_view s, size_t from, ByteRange& match) const;
  /// The source pattern.
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* regex_ = nullptr;  // OnigRegex
};

/// What a Split/Replace pattern is: a literal string (`{"String": …}`) or a regex.
class Pattern {
 public:
  /// A literal pattern (empty matches nothing).
  static Pattern literal(std::string text);
  /// A regex pattern.
  static Pattern regex(const std::string& pattern, std::string_view where);

  /// Appends all matches in `s`, left to right, non-overlapping.
  void find_all(std::string_view s, std::vector<ByteRange>& out) const;

 private:
  std::string literal_;
  std::shared_ptr<Regex> regex_;
};

}  // namespace tb
