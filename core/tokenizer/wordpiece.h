#pragma once
// WordPiece (BERT): greedy longest-match-first subwords with a continuation prefix.

#include <string>
#include <vector>

#include "core/tokenizer/model.h"
#include "core/tokenizer/string_map.h"

namespace tb {

/// WordPiece options as tokenizer.json spells them.
struct WordPieceOptions {
  std::string unk_token = "[UNK]";               // token for words that cannot be split
  std::string continuing_subword_prefix = "##";  // prefix of non-initial subwords
  size_t max_input_chars_per_word = 100;         // longer words become unk_token
};

/// The WordPiece model.
class WordPiece : public Model {
 public:
  /// Builds from (token, id) pairs.
  WordPiece(std::vector<std::pair<std::string, uint32_t>> vocab, WordPieceOptions options);
  /// Appends the tokens of one piece.
  void tokenize(std::string_view piece, std::vector<ModelToken>& out) const override;
  /// Token string of an id, or nullptr.
  const std::string* id_to_token(uint32_t id) const override;
  /// Id of a token string.
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  /// Number of vocabulary entries.
  size_t vocab_size() const override { return id_to_token_.size(); }

 private:
  WordPieceOptions options_;
  StringMap vocab_;
  std::vector<std::string> id_to_token_;
};

}  // namespace tb
