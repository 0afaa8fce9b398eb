#include "core/models/init_model.h"

#include "core/io/hf_folder.h"
#include "core/models/loader.h"
#include "core/models/registry.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

std::shared_ptr<LanguageModel> init_model(const InitModelOptions& options) {
  if (options.out.empty())
    throw make_error("no output folder given", "init-model", "Use --out DIR.");
  json config = options.config.empty() ? json::object() : read_config_json(options.config);
  const std::string arch = !options.arch.empty()
                               ? options.arch
                               : config_string(config, "model_type", "", options.config.string());
  if (arch.empty()) {
    throw make_error("no architecture given", "init-model",
                     "Use --arch " + join(supported_model_types(), "|") + " or --config.");
  }
  const bool bert = arch == "bert";
  const std::string where = options.config.empty() ? "init-model" : options.config.string();
  config["model_type"] = arch;
  const auto set = [&](const char* key, const auto& value, const auto& fallback) {
    if (value) {
      config[key] = *value;
    } else if (!config.contains(key) || config[key].is_null()) {
      config[key] = fallback;
    }
  };
  set("hidden_size", options.hidden_size, int64_t(64));
  const int64_t hidden = config_int(config, "hidden_size", 64, where);
  set("num_hidden_layers", options.num_layers, int64_t(2));
  set("num_attention_heads", options.num_heads, int64_t(4));
  set("intermediate_size", options.intermediate_size, (bert ? 4 : 3) * hidden);
  set("max_position_embeddings", options.max_position_embeddings, int64_t(bert ? 512 : 2048));
  if (options.num_heads && !options.num_kv_heads && !bert) {
    config["num_key_value_heads"] = *options.num_heads;  // new head count, same MHA default
  }
  if (!bert) {
    set("num_key_value_heads", options.num_kv_heads, config["num_attention_heads"]);
    set("rope_theta", options.rope_theta, 10000.0);
    set("tie_word_embeddings", options.tie_word_embeddings, false);
    if (options.hidden_size || options.num_heads) config.erase("head_dim");
  } else if (options.num_kv_heads || options.rope_theta || options.tie_word_embeddings) {
    throw make_error("BERT has no key/value heads, rotary embeddings or untied head", "init-model",
                     "Drop --num-kv-heads, --rope-theta and --tie-word-embeddings for bert.");
  }

  int64_t vocab = config_int(config, "vocab_size", 0, where);
  if (!options.tokenizer.empty()) {
    const int64_t needed = tokenizer_vocab_size(options.tokenizer);
    if (options.vocab_size && *options.vocab_size < needed) {
      throw make_error("--vocab-size " + std::to_string(*options.vocab_size) +
                           " is smaller than the tokenizer's " + std::to_string(needed) + " ids",
                       options.tokenizer.string(),
                       "Leave --vocab-size out to use the tokenizer's.");
    }
    vocab = options.vocab_size ? *options.vocab_size : needed;
  } else if (options.vocab_size) {
    vocab = *options.vocab_size;
  }
  if (vocab <= 0) {
    throw make_error(
        "vocabulary size unknown", "init-model",
        "Give --tokenizer tokenizer.json, --vocab-size N or a --config with vocab_size.");
  }
  config["vocab_size"] = vocab;

  const std::string prefix = arch == "qwen2"     ? "Qwen2"
                             : arch == "qwen3"   ? "Qwen3"
                             : arch == "mistral" ? "Mistral"
                             : bert              ? "Bert"
                                                 : "Llama";
  if (options.num_labels) {
    config["architectures"] = {prefix + "ForSequenceClassification"};
    config["num_labels"] = *options.num_labels;
    config.erase("id2label");
    config.erase("label2id");
  } else if (!config.contains("architectures")) {
    config["architectures"] = {prefix + (bert ? "ForMaskedLM" : "ForCausalLM")};
  }

  auto model = build_model(config, task_from_config(config, where), where);
  init_weights(*model, options.seed);
  save_model(*model, options.out);
  if (!options.tokenizer.empty()) {
    std::error_code error;
    for (const char* name :
         {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
      const fs::path source = name == std::string("tokenizer.json")
                                  ? options.tokenizer
                                  : options.tokenizer.parent_path() / name;
      if (!fs::exists(source) || fs::equivalent(source, options.out / name, error)) continue;
      fs::copy_file(source, options.out / name, fs::copy_options::overwrite_existing, error);
      if (error) {
        throw make_error("cannot copy " + source.string() + " (" + error.message() + ")",
                         options.out.string());
      }
    }
  }
  return model;
}

}  // namespace tb
