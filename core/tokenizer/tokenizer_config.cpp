#include "core/tokenizer/tokenizer_config.h"

#include "core/tokenizer/json_util.h"
#include "core/util/error.h"

namespace tb {

namespace {

// Special tokens appear as "text" or as {"content": "text", …} (AddedToken form).
std::string token_field(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  throw make_error(std::string("\"") + key + "\" must be a string or {\"content\": …}", where,
                   "fix tokenizer_config.json");
}

std::optional<bool> optional_bool(const nlohmann::json& j, const char* key,
                                  const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    throw make_error(std::string("\"") + key + "\" must be true or false", where,
                     "fix tokenizer_config.json");
  }
  return it->get<bool>();
}

}  // namespace

TokenizerConfig load_tokenizer_config(const std::filesystem::path& path) {
  const nlohmann::json j = tokenizer_json::parse_file(path);
  const std::string where = path.string();
  if (!j.is_object()) {
    throw make_error("expected a JSON object", where, "fix tokenizer_config.json");
  }
  TokenizerConfig config;
  config.bos_token = token_field(j, "bos_token", where);
  config.eos_token = token_field(j, "eos_token", where);
  config.pad_token = token_field(j, "pad_token", where);
  config.unk_token = token_field(j, "unk_token", where);
  config.add_bos_token = optional_bool(j, "add_bos_token", where);
  config.add_eos_token = optional_bool(j, "add_eos_token", where);
  const auto max = j.find("model_max_length");
  // transformers writes int(1e30) when a model has no limit; treat huge values as none.
  if (max != j.end() && max->is_number() && max->get<double>() > 0 && max->get<double>() < 1e15) {
    config.model_max_length = static_cast<size_t>(max->get<double>());
  }
  const auto chat = j.find("chat_template");
  if (chat != j.end() && chat->is_string()) config.chat_template = chat->get<std::string>();
  config.tokenizer_class = tokenizer_json::get_string(j, "tokenizer_class", "", where);
  return config;
}

}  // namespace tb
