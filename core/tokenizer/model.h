#pragma once
// Models turn one pre-tokenized piece into vocabulary ids: BPE, WordPiece, Unigram.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

/// One token produced by a model, with its byte range inside the piece.
struct ModelToken {
  uint32_t id = 0;     // vocabulary id
  uint32_t begin = 0;  // first byte within the piece
  uint32_t end = 0;    // one past the last byte within the piece
};

/// A tokenization model (stateless once built; safe to use from many threads).
class Model {
 public:
  virtual ~Model() = default;
  /// Appends the tokens of `piece` to `out`.
  virtual void tokenize(std::string_view piece, std::vector<ModelToken>& out) const = 0;
  /// The token string of `id`, or nullptr when `id` is outside the vocabulary.
  virtual const std::string* id_to_token(uint32_t id) const = 0;
  /// The id of a token string.
  virtual std::optional<uint32_t> token_to_id(std::string_view token) const = 0;
  /// Number of entries in the vocabulary (ids are 0..size-1 for the usual files).
  virtual size_t vocab_size() const = 0;
};

/// The model types tokenizer.json may name, for error messages.
std::vector<std::string> supported_models();

/// Builds the model from tokenizer.json's "model" object. With `raw_byte_level` a BPE model
/// works on raw bytes instead of ByteLevel characters (same ids, no per-byte remapping).
std::unique_ptr<Model> make_model(const nlohmann::json& j, bool raw_byte_level);

/// True when a BPE model can work on raw bytes (no subword prefix or word suffix).
bool model_supports_raw_byte_level(const nlohmann::json& j);

}  // namespace tb
