#pragma once
// tokenizer_config.json: the special tokens and flags transformers keeps next to tokenizer.json.

#include <filesystem>
#include <optional>
#include <string>

namespace tb {

/// The fields of tokenizer_config.json tunebench uses.
struct TokenizerConfig {
  std::string bos_token;                   // "": no beginning-of-sequence token
  std::string eos_token;                   // "": no end-of-sequence token
  std::string pad_token;                   // "": no padding token
  std::string unk_token;                   // "": no unknown token
  std::optional<bool> add_bos_token;       // unset: the post-processor decides
  std::optional<bool> add_eos_token;       // unset: the post-processor decides
  std::optional<size_t> model_max_length;  // unset (or the 1e30 sentinel): no limit
  std::string chat_template;               // "": none (Jinja source, recognised by name only)
  std::string tokenizer_class;             // "": unknown
};

/// Reads tokenizer_config.json; errors name the file and line/column.
TokenizerConfig load_tokenizer_config(const std::filesystem::path& path);

}  // namespace tb
