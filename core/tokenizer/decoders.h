#pragma once
// Decoders: turn token strings back into text (ByteLevel, WordPiece, Metaspace, ByteFallback,
// Fuse, Strip, Replace, BPEDecoder, Sequence).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tb {

/// Rewrites a list of token strings; the decoded text is their concatenation.
class Decoder {
 public:
  virtual ~Decoder() = default;
  /// Rewrites `tokens` in place (may change their number).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

/// The decoder types tokenizer.json may name, for error messages.
std::vector<std::string> supported_decoders();

/// Builds a decoder from JSON (null gives nullptr).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j);

}  // namespace tb
