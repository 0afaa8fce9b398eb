#pragma once
// Normalizers: the first stage of a tokenizer.json pipeline (NFC/NFD/NFKC/NFKD, Lowercase,
// StripAccents, Strip, Prepend, Replace, BertNormalizer, Sequence).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/pipeline.h"

namespace tb {

/// Rewrites text (keeping its alignment to the original input).
class Normalizer {
 public:
  virtual ~Normalizer() = default;
  /// Normalizes `text` in place.
  virtual void normalize(NormalizedText& text) const = 0;
};

/// The normalizer types tokenizer.json may name, for error messages.
std::vector<std::string> supported_normalizers();

/// Builds a normalizer from its tokenizer.json object (null JSON gives nullptr).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j);

/// Normalizes a standalone string (used for added tokens with normalized=true).
std::string normalize_string(const Normalizer& normalizer, const std::string& s);

}  // namespace tb
