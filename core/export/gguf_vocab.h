#pragma once
// The tokenizer of a model folder as llama.cpp's GGUF metadata (tokenizer.ggml.*): byte-level
// BPE vocabularies ("gpt2" model) with their merges, token types, special token ids, BOS/EOS
// flags, the pre-tokenizer llama.cpp must use, and the chat template.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/io/gguf.h"

namespace tb {

/// llama.cpp's name for the pre-tokenizer of a tokenizer.json ("llama-bpe" for Llama 3's
/// split, "qwen2", "gpt-2" for plain byte-level); tb::Error naming the file and the known
/// splits when the pattern is one llama.cpp does not implement.
std::string gguf_pre_tokenizer(const nlohmann::json& tokenizer, const std::string& where);

/// Adds tokenizer.* metadata from `folder`'s tokenizer.json and tokenizer_config.json.
/// `vocab_size` (rows of the embedding) may exceed the tokenizer: the rest become unused
/// "[PAD<id>]" tokens, as llama.cpp's converter writes them. `model_config` (config.json)
/// supplies special token ids the tokenizer files lack.
void add_gguf_tokenizer(GgufWriter& writer, const std::filesystem::path& folder, int64_t vocab_size,
                        const nlohmann::json& model_config);

}  // namespace tb
