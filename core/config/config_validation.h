#pragma once
// Checks that need more than one key, or the model folder: required settings, incompatible
// combinations, and whether the chosen model can do what the config asks.

#include <string>
#include <vector>

#include "core/config/run_config.h"

namespace tb {

/// Problems found in a config: errors stop a run, warnings are shown.
struct ValidationResult {
  std::vector<std::string> errors;    // complete messages: what, which keys, what to do
  std::vector<std::string> warnings;  // complete messages
};

/// Required keys and combinations (QLoRA needs LoRA, bf16 xor fp16, verbalizer template, …).
ValidationResult validate_config(const RunConfig& config);

/// Adds problems found by reading the model folder's config.json and tokenizer files (when the
/// folder exists): P-tuning v2 on an unsupported architecture, a verbalizer without a mask
/// token.
void check_model_compatibility(const RunConfig& config, ValidationResult& result);

/// Throws one tb::Error listing every error of `result` (prefixed by `source`), if any.
void throw_if_invalid(const ValidationResult& result, const std::string& source);

}  // namespace tb
