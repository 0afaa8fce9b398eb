#pragma once
// A Hugging Face model folder: config.json, safetensors weights (single or sharded),
// tokenizer.json. Typed access to config.json fields with errors that name the field.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tb {

/// Reads and parses `folder`/config.json (or a config file given directly); throws tb::Error
/// naming the file and the JSON error position.
nlohmann::json read_config_json(const std::filesystem::path& folder_or_file);

/// Writes JSON pretty-printed (2 spaces, trailing newline) atomically.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value);

/// The weights of a model folder: model.safetensors or model.safetensors.index.json. A folder
/// with only pickle checkpoints (.bin/.pt/.pth/.ckpt) is refused with how to convert it.
std::filesystem::path find_safetensors_weights(const std::filesystem::path& folder);

/// Copies the tokenizer and generation files of a model folder (tokenizer.json,
/// tokenizer_config.json, special_tokens_map.json, vocab.txt, generation_config.json,
/// chat_template.jinja — those present) into `out`, replacing older copies.
void copy_tokenizer_files(const std::filesystem::path& model_folder,
                          const std::filesystem::path& out);

/// Vocabulary size implied by a tokenizer.json: the model's vocab entries plus added tokens
/// whose ids lie past them (max id + 1 over both).
int64_t tokenizer_vocab_size(const std::filesystem::path& tokenizer_json);

/// Integer field `key` of a config, `fallback` when absent or null; tb::Error when mistyped.
int64_t config_int(const nlohmann::json& config, const std::string& key, int64_t fallback,
                   const std::string& where);
/// Number field `key` (integers accepted), `fallback` when absent or null.
double config_double(const nlohmann::json& config, const std::string& key, double fallback,
                     const std::string& where);
/// Boolean field `key`, `fallback` when absent or null.
bool config_bool(const nlohmann::json& config, const std::string& key, bool fallback,
                 const std::string& where);
/// String field `key`, `fallback` when absent or null.
std::string config_string(const nlohmann::json& config, const std::string& key,
                          const std::string& fallback, const std::string& where);

/// Number of classes: "num_labels", else the size of "id2label", else 2.
int64_t config_num_labels(const nlohmann::json& config, const std::string& where);
/// Writes id2label/label2id ("LABEL_0"…) for `num_labels` classes, as transformers saves them.
void set_num_labels(nlohmann::json& config, int64_t num_labels);

/// config.json "eos_token_id" (a number or a list) as a list; empty when absent.
std::vector<int64_t> eos_token_ids(const nlohmann::json& config);

}  // namespace tb
