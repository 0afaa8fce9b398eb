#pragma once
// Added tokens (special or not): found in the text before normalization (normalized=false)
// or after it (normalized=true), leftmost-longest, honouring lstrip/rstrip/single_word.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/regex.h"

namespace tb {

class Normalizer;

/// One entry of tokenizer.json's "added_tokens".
struct AddedToken {
  uint32_t id = 0;           // vocabulary id
  std::string content;       // the literal text
  bool special = false;      // false; true: dropped by decode(skip_special_tokens)
  bool normalized = true;    // true: matched in normalized text; false: in the raw input
  bool lstrip = false;       // false; true: whitespace on its left joins the match
  bool rstrip = false;       // false; true: whitespace on its right joins the match
  bool single_word = false;  // false; true: only matches when not inside a word
};

/// A piece of input found while looking for added tokens.
struct AddedMatch {
  ByteRange range;  // bytes of the input
  int64_t id;       // added token id, or -1 for text between tokens
};

/// The added tokens of a tokenizer with their two match tries.
class AddedVocabulary {
 public:
  /// Builds from tokenizer.json's "added_tokens" array; normalized tokens are matched in
  /// their normalized form (`normalizer` may be null).
  AddedVocabulary(const nlohmann::json& added_tokens, const Normalizer* normalizer);

  /// Splits `s` into text and added tokens using the raw (`normalized` = false) or the
  /// normalized token set. Empty input gives one empty text piece.
  void split(std::string_view s, bool normalized, std::vector<AddedMatch>& out) const;
  /// True when the normalized set is empty (the second pass can be skipped).
  bool has_normalized() const { return !normalized_.nodes.empty() && normalized_.count > 0; }
  /// The added token with this id, or nullptr.
  const AddedToken* find(uint32_t id) const;
  /// The id of an added token's content.
  std::optional<uint32_t> id_of(std::string_view content) const;
  /// True when `content` is a special token.
  bool is_special(std::string_view content) const;
  /// All added tokens in file order.
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Trie {
    struct Node {
      std::vector<std::pair<uint8_t, uint32_t>> children;  // sorted by byte
      int64_t token = -1;                                  // index into tokens_ or -1
    };
    std::vector<Node> nodes;
    bool first_byte[256] = {};
    size_t count = 0;
    void add(std::string_view pattern, size_t token);
    // Longest pattern starting at s[i]: its length and token index, or false.
    bool longest(std::string_view s, size_t i, size_t& length, size_t& token) const;
  };
  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
  std::unordered_map<uint32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
};

}  // namespace tb
