#pragma once
// Post-processors: add special tokens and type ids around encoded sequences
// (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/encoding.h"

namespace tb {

/// Adds special tokens to one sequence or a pair.
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  /// How many tokens process() adds with add_special_tokens (for truncation).
  virtual size_t added_tokens(bool pair) const = 0;
  /// Rewrites `encodings` (1 or 2 entries) in place, leaving one or two entries; the caller
  /// merges what is left.
  virtual void process(std::vector<Encoding>& encodings, bool add_special_tokens,
                       bool with_tokens) const = 0;
};

/// The post-processor types tokenizer.json may name, for error messages.
std::vector<std::string> supported_post_processors();

/// Builds a post-processor from JSON (null gives nullptr).
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j);

}  // namespace tb
