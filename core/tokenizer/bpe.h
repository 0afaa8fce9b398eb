#pragma once
// Byte-pair encoding with the Hugging Face library's semantics: merges by rank (leftmost
// first), byte_fallback, fuse_unk, ignore_merges, continuing_subword_prefix,
// end_of_word_suffix; dropout is not supported (inference only).

#include <atomic>
#include <string>
#include <vector>

#include "core/tokenizer/model.h"
#include "core/tokenizer/string_map.h"

namespace tb {

/// BPE options as tokenizer.json spells them.
struct BpeOptions {
  std::string unk_token;                  // "": none, unknown characters are dropped
  std::string continuing_subword_prefix;  // "": none; else prefix of non-initial subwords
  std::string end_of_word_suffix;         // "": none; else suffix of word-final subwords
  bool fuse_unk = false;                  // false: one unk per unknown char; true: runs fuse
  bool byte_fallback = false;             // false: unknown chars → unk; true: <0xXX> tokens
  bool ignore_merges = false;             // false: always merge; true: whole-vocab pieces win
  bool raw_byte_level = false;            // false: input as is; true: ByteLevel vocab, raw bytes
};

/// The BPE model.
class Bpe : public Model {
 public:
  /// Builds from (token, id) pairs and merges given as (left, right) token strings.
  Bpe(std::vector<std::pair<std::string, uint32_t>> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options);
  /// Appends the tokens of one piece.
  void tokenize(std::string_view piece, std::vector<ModelToken>& out) const override;
  /// Token string of an id, or nullptr.
  const std::string* id_to_token(uint32_t id) const override;
  /// Id of a token string.
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  /// Number of vocabulary entries.
  size_t vocab_size() const override { return id_to_token_.size(); }

 private:
  struct Symbol {
    uint32_t id;
    uint32_t length;  // bytes of the piece it covers
  };
  void initial_symbols(std::string_view piece, std::vector<Symbol>& symbols) const;
  void merge(std::vector<Symbol>& symbols) const;
  uint32_t unk_id() const;

  BpeOptions options_;
  StringMap vocab_;       // token → id, in the space the input is in (raw bytes or text)
  StringMap text_vocab_;  // token → id as written in the file
  std::vector<std::string> id_to_token_;
  U64Map merges_;  // (left << 32 | right) → (rank << 32 | merged id)
  int64_t unk_id_ = -1;
  int64_t fallback_ids_[256];  // id of "<0xXX>" per byte, -1 when absent
  int64_t raw_ids_[256];       // id of the one-byte token per byte (raw mode), -1 when absent
  uint64_t instance_ = 0;      // identifies this model in the per-thread caches
};

}  // namespace tb
