#pragma once
// Model folders without tokenizer.json: BERT's vocab.txt and GPT-2's vocab.json + merges.txt,
// turned into the tokenizer.json the Hugging Face library would build from them.

#include <filesystem>
#include <optional>
#include <string>

namespace tb {

/// tokenizer.json text for a legacy folder, or nullopt when `dir` has neither layout.
/// BERT reads do_lower_case from tokenizer_config.json (default true).
std::optional<std::string> legacy_tokenizer_json(const std::filesystem::path& dir);

}  // namespace tb
