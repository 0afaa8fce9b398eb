#pragma once
// Unigram (SentencePiece): the most probable segmentation by Viterbi over piece scores.

#include <string>
#include <vector>

#include "core/tokenizer/model.h"
#include "core/tokenizer/string_map.h"

namespace tb {

/// The Unigram model.
class Unigram : public Model {
 public:
  /// Builds from (piece, score) pairs in id order; `unk_id` < 0 when there is none.
  Unigram(std::vector<std::pair<std::string, double>> pieces, int64_t unk_id, bool byte_fallback,
          bool fuse_unk);
  /// Appends the tokens of one piece.
  void tokenize(std::string_view piece, std::vector<ModelToken>& out) const override;
  /// Token string of an id, or nullptr.
  const std::string* id_to_token(uint32_t id) const override;
  /// Id of a token string.
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  /// Number of vocabulary entries.
  size_t vocab_size() const override { return pieces_.size(); }

 private:
  std::vector<std::string> pieces_;
  std::vector<double> scores_;
  StringMap vocab_;     // piece → id
  StringMap prefixes_;  // every prefix of every piece (to stop the lattice walk early)
  int64_t unk_id_;
  bool byte_fallback_, fuse_unk_;
  double min_score_ = 0;
};

}  // namespace tb
