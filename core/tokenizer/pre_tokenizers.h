#pragma once
// Pre-tokenizers: cut normalized text into pieces the model encodes one by one (ByteLevel,
// Split, Digits, Metaspace, BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation,
// CharDelimiterSplit, Sequence).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/pipeline.h"
#include "core/tokenizer/regex.h"

namespace tb {

/// Splits (and possibly rewrites) the plain-text pieces of a PreTokenized; added-token pieces
/// pass through untouched.
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Replaces pt.pieces by the new pieces.
  virtual void pre_tokenize(PreTokenized& pt) const = 0;
};

/// How a split treats the delimiters it found (the library's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

/// A match or gap found in a piece; `is_match` tells which.
struct SplitEvent {
  ByteRange range;  // bytes within the piece
  bool is_match;    // true for a delimiter, false for the text between delimiters
};

/// Applies `behavior` to the events of one piece, giving the byte ranges to keep.
void apply_split_behavior(const std::vector<SplitEvent>& events, SplitBehavior behavior,
                          std::vector<ByteRange>& kept);

/// The pre-tokenizer types tokenizer.json may name, for error messages.
std::vector<std::string> supported_pre_tokenizers();

/// Builds a pre-tokenizer from JSON (null gives nullptr). With `raw_byte_level` the last
/// ByteLevel step leaves bytes as they are: the BPE model was built to work on raw bytes.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, bool raw_byte_level);

/// True when the pre-tokenizer JSON is ByteLevel or a Sequence whose only ByteLevel is last.
bool ends_with_byte_level(const nlohmann::json& j);

}  // namespace tb
