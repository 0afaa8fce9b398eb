#pragma once
// The result of encoding text: ids plus everything a trainer or a UI needs about each token.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tb {

/// One encoded sequence (or pair of sequences).
struct Encoding {
  std::vector<uint32_t> ids;                           // vocabulary ids
  std::vector<uint32_t> type_ids;                      // segment id per token (0 or 1)
  std::vector<std::string> tokens;                     // token strings (empty in ids-only mode)
  std::vector<std::pair<uint32_t, uint32_t>> offsets;  // byte span in the input (ids-only: empty)
  std::vector<uint8_t> special_tokens_mask;            // 1 for tokens added by post-processing
  std::vector<uint8_t> attention_mask;                 // 0 for padding
  std::vector<int32_t> sequence_ids;                   // 0/1 = which input, -1 = special/pad

  /// Number of tokens.
  size_t size() const { return ids.size(); }
  /// Appends all tokens of `other`.
  void append(const Encoding& other);
  /// Keeps tokens [begin, end).
  void keep(size_t begin, size_t end);
};

}  // namespace tb
