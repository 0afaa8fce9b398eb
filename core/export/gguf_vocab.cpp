#include "core/export/gguf_vocab.h"
#include "core/tokenizer/json_util.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/io/hf_folder.h"
#include "core/tokenizer/tokenizer_config.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

using json = nlohmann::json;

// llama.cpp token types (llama_token_type in llama-vocab.h).
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;

// The Split regexes llama.cpp implements, by its pre-tokenizer name.
const std::vector<std::pair<std::string, std::string>>& known_splits() {
  static const std::vector<std::pair<std::string, std::string>> splits = {
      {"llama-bpe",
       R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
      {"qwen2",
       R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
  };
  return splits;
}

// The pre-tokenizers of a tokenizer.json, flattened out of a Sequence.
std::vector<json> pre_tokenizers(const json& tokenizer) {
  const json pre = tokenizer.value("pre_tokenizer", json());
  if (!pre.is_object()) return {};
  if (pre.value("type", "") == "Sequence") {
    return pre.value("pretokenizers", json::array()).get<std::vector<json>>();
  }
  return {pre};
}

// Id of a token text in the vocabulary or the added tokens.
std::optional<int64_t> token_id(const std::string& text, const json& vocab,
                                const json& added_tokens) {
  if (text.empty()) return std::nullopt;
  for (const json& added : added_tokens) {
    if (added.value("content", "") == text) return added.at("id").get<int64_t>();
  }
  const auto found = vocab.find(text);
  if (found != vocab.end()) return found->get<int64_t>();
  return std::nullopt;
}

// Whether the post-processor's single-sequence template puts a special token before
// (front) or after (!front) the text.
std::optional<bool> template_adds(const json& post, bool front) {
  if (!post.is_object()) return std::nullopt;
  if (post.value("type", "") == "Sequence") {
    for (const json& item : post.value("processors", json::array())) {
      if (auto adds = template_adds(item, front)) return adds;
    }
    return std::nullopt;
  }
  if (post.value("type", "") != "TemplateProcessing") return std::nullopt;
  const json single = post.value("single", json::array());
  if (single.empty()) return false;
  return (front ? single.front() : single.back()).contains("SpecialToken");
}

}  // namespace

std::string gguf_pre_tokenizer(const json& tokenizer, const std::string& where) {
  std::string split;
  bool byte_level_regex = false;
  for (const json& pre : pre_tokenizers(tokenizer)) {
    const std::string type = pre.value("type", "");
    if (type == "Split") {
      split = pre.value("pattern", json::object()).value("Regex", "");
    } else if (type == "ByteLevel") {
      byte_level_regex |= pre.value("use_regex", true);
    } else {
      throw make_error("pre-tokenizer \"" + type + "\" has no llama.cpp equivalent", where,
                       "GGUF export supports byte-level BPE tokenizers (GPT-2, Llama 3, Qwen2 "
                       "splits).");
    }
  }
  if (split.empty() && byte_level_regex) return "gpt-2";
  for (const auto& [name, pattern] : known_splits()) {
    if (split == pattern) return name;
  }
  std::string known = "gpt-2 (ByteLevel with use_regex)";
  for (const auto& item : known_splits()) known += ", " + item.first;
  throw make_error("the pre-tokenizer split " + (split.empty() ? "(none)" : split) +
                       " is not one llama.cpp implements",
                   where, "Known: " + known + ".");
}

void add_gguf_tokenizer(GgufWriter& writer, const std::filesystem::path& folder, int64_t vocab_size,
                        const json& model_config) {
  const std::filesystem::path path = folder / "tokenizer.json";
  const json tokenizer = tokenizer_json::parse(read_file(path), path.string());
  const json model = tokenizer.value("model", json::object());
  const bool byte_level = [&] {
    for (const json& pre : pre_tokenizers(tokenizer)) {
      if (pre.value("type", "") == "ByteLevel") return true;
    }
    return false;
  }();
  if (model.value("type", "") != "BPE" || !byte_level || model.value("byte_fallback", false)) {
    throw make_error("only byte-level BPE tokenizers can be written to GGUF (this one is " +
                         model.value("type", std::string("unknown")) +
                         (byte_level ? "" : " without a ByteLevel pre-tokenizer") + ")",
                     path.string(),
                     "Use --format merged for a Hugging Face folder, which keeps any tokenizer.");
  }
  const std::string pre = gguf_pre_tokenizer(tokenizer, path.string());
  const json vocab = model.value("vocab", json::object());
  const json added_tokens = tokenizer.value("added_tokens", json::array());

  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<int32_t> types(static_cast<size_t>(vocab_size), kUnused);
  std::vector<bool> filled(static_cast<size_t>(vocab_size), false);
  auto place = [&](int64_t id, const std::string& text, int32_t type) {
    if (id < 0 || id >= vocab_size) {
      throw make_error("token \"" + text + "\" has id " + std::to_string(id) +
                           " outside the model's " + std::to_string(vocab_size) + " embedding rows",
                       path.string(), "The tokenizer does not belong to this model.");
    }
    tokens[id] = text;
    types[id] = type;
    filled[id] = true;
  };
  for (const auto& [text, id] : vocab.items()) place(id.get<int64_t>(), text, kNormal);
  for (const json& added : added_tokens) {
    place(added.at("id").get<int64_t>(), added.at("content").get<std::string>(),
          added.value("special", false) ? kControl : kUserDefined);
  }
  for (int64_t id = 0; id < vocab_size; ++id) {
    if (!filled[id]) tokens[id] = "[PAD" + std::to_string(id) + "]";
  }
  std::vector<std::string> merges;
  for (const json& merge : model.value("merges", json::array())) {
    merges.push_back(merge.is_string()
                         ? merge.get<std::string>()
                         : merge.at(0).get<std::string>() + " " + merge.at(1).get<std::string>());
  }

  writer.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  writer.set("tokenizer.ggml.pre", GgufValue::string(pre));
  writer.set("tokenizer.ggml.tokens", GgufValue::strings_array(std::move(tokens)));
  writer.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  writer.set("tokenizer.ggml.merges", GgufValue::strings_array(std::move(merges)));

  TokenizerConfig settings;
  if (std::filesystem::exists(folder / "tokenizer_config.json")) {
    settings = load_tokenizer_config(folder / "tokenizer_config.json");
  }
  auto special = [&](const char* key, const std::string& text, const char* config_key) {
    std::optional<int64_t> id = token_id(text, vocab, added_tokens);
    if (!id && model_config.contains(config_key) && model_config[config_key].is_number()) {
      id = model_config[config_key].get<int64_t>();
    }
    if (!id && std::string(config_key) == "eos_token_id" && !eos_token_ids(model_config).empty()) {
      id = eos_token_ids(model_config).front();
    }
    if (id && *id >= 0 && *id < vocab_size) {
      writer.set(key, GgufValue::u32(static_cast<uint32_t>(*id)));
    }
  };
  special("tokenizer.ggml.bos_token_id", settings.bos_token, "bos_token_id");
  special("tokenizer.ggml.eos_token_id", settings.eos_token, "eos_token_id");
  special("tokenizer.ggml.unknown_token_id", settings.unk_token, "unk_token_id");
  special("tokenizer.ggml.padding_token_id", settings.pad_token, "pad_token_id");
  const json post = tokenizer.value("post_processor", json());
  const bool add_bos = settings.add_bos_token.value_or(template_adds(post, true).value_or(false));
  const bool add_eos = settings.add_eos_token.value_or(template_adds(post, false).value_or(false));
  writer.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(add_bos));
  writer.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(add_eos));
  if (!settings.chat_template.empty()) {
    writer.set("tokenizer.chat_template", GgufValue::string(settings.chat_template));
  }
}

}  // namespace tb
