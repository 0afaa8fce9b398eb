#include "core/io/hf_folder.h"
#include "core/tokenizer/json_util.h"

#include <vector>

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

json read_config_json(const fs::path& folder_or_file) {
  const fs::path file =
      fs::is_directory(folder_or_file) ? folder_or_file / "config.json" : folder_or_file;
  if (!fs::exists(file)) {
    throw make_error("no config.json", folder_or_file.string(),
                     "Point at a Hugging Face model folder (config.json + *.safetensors).");
  }
  // Syntax errors name file:line:column.
  json config = tokenizer_json::parse(read_file(file), file.string());
  if (!config.is_object()) throw make_error("is not a JSON object", file.string());
  return config;
}

void write_json_file(const fs::path& path, const json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

fs::path find_safetensors_weights(const fs::path& folder) {
  if (!fs::is_directory(folder)) {
    throw make_error(fs::exists(folder) ? "is not a folder" : "no such folder", folder.string(),
                     "Give the model folder (with config.json and *.safetensors).");
  }
  for (const char* name : {"model.safetensors", "model.safetensors.index.json"}) {
    if (fs::exists(folder / name)) return folder / name;
  }
  std::vector<std::string> pickles;
  std::vector<std::string> others;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string ext = entry.path().extension().string();
    const std::string name = entry.path().filename().string();
    if (ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt") pickles.push_back(name);
    if (ext == ".safetensors") others.push_back(name);
  }
  if (!pickles.empty()) {
    throw make_error(
        "only pickle checkpoints found (" + join(pickles, ", ") +
            "); tunebench does not load them because unpickling runs arbitrary code from the file",
        folder.string(),
        "Convert once in Python: AutoModel.from_pretrained(folder).save_pretrained(folder, "
        "safe_serialization=True), or use the Hugging Face \"convert to safetensors\" space.");
  }
  if (!others.empty()) {
    throw make_error(
        "found " + join(others, ", ") + " but no model.safetensors or model.safetensors.index.json",
        folder.string(), "Rename a single-file checkpoint to model.safetensors, or add the index.");
  }
  if (!fs::exists(folder / "config.json")) {
    throw make_error("not a model folder: no config.json and no weights (model.safetensors)",
                     folder.string(), "Point at a Hugging Face model folder.");
  }
  throw make_error("no weights (model.safetensors or model.safetensors.index.json)",
                   folder.string(), "Check that the download finished.");
}

int64_t tokenizer_vocab_size(const fs::path& tokenizer_json) {
  const json tokenizer = tokenizer_json::parse(read_file(tokenizer_json), tokenizer_json.string());
  int64_t size = 0;
  const json& model = tokenizer.contains("model") ? tokenizer["model"] : json();
  if (model.is_object() && model.contains("vocab")) {
    const json& vocab = model["vocab"];
    if (vocab.is_object()) {  // BPE / WordPiece: {token: id}
      for (const auto& [token, id] : vocab.items()) {
        if (id.is_number_integer()) size = std::max<int64_t>(size, id.get<int64_t>() + 1);
      }
    } else if (vocab.is_array()) {  // Unigram: [[piece, score], …] in id order
      size = static_cast<int64_t>(vocab.size());
    }
  }
  if (size == 0) {
    throw make_error("has no model.vocab", tokenizer_json.string(),
                     "Give a Hugging Face tokenizer.json or set --vocab-size.");
  }
  if (tokenizer.contains("added_tokens") && tokenizer["added_tokens"].is_array()) {
    for (const json& token : tokenizer["added_tokens"]) {
      if (token.contains("id") && token["id"].is_number_integer()) {
        size = std::max<int64_t>(size, token["id"].get<int64_t>() + 1);
      }
    }
  }
  return size;
}

namespace {
[[noreturn]] void wrong_type(const std::string& key, const char* expected, const json& value,
                             const std::string& where) {
  throw make_error("field \"" + key + "\" must be " + expected + ", got " + value.dump(), where,
                   "Fix config.json.");
}
}  // namespace

int64_t config_int(const json& config, const std::string& key, int64_t fallback,
                   const std::string& where) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_number_integer()) wrong_type(key, "an integer", *found, where);
  return found->get<int64_t>();
}

double config_double(const json& config, const std::string& key, double fallback,
                     const std::string& where) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_number()) wrong_type(key, "a number", *found, where);
  return found->get<double>();
}

bool config_bool(const json& config, const std::string& key, bool fallback,
                 const std::string& where) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_boolean()) wrong_type(key, "true or false", *found, where);
  return found->get<bool>();
}

std::string config_string(const json& config, const std::string& key, const std::string& fallback,
                          const std::string& where) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_string()) wrong_type(key, "a string", *found, where);
  return found->get<std::string>();
}

int64_t config_num_labels(const json& config, const std::string& where) {
  if (config.contains("num_labels")) return config_int(config, "num_labels", 2, where);
  const auto found = config.find("id2label");
  if (found != config.end() && found->is_object() && !found->empty()) {
    return static_cast<int64_t>(found->size());
  }
  return 2;
}

void set_num_labels(json& config, int64_t num_labels) {
  json id2label = json::object(), label2id = json::object();
  // Keep the names a user gave (e.g. "negative"/"positive") when the count still matches.
  if (config.contains("id2label") && config["id2label"].is_object() &&
      int64_t(config["id2label"].size()) == num_labels) {
    return;
  }
  for (int64_t i = 0; i < num_labels; ++i) {
    id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
    label2id["LABEL_" + std::to_string(i)] = i;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  config.erase("num_labels");
}

std::vector<int64_t> eos_token_ids(const json& config) {
  std::vector<int64_t> ids;
  const auto found = config.find("eos_token_id");
  if (found == config.end()) return ids;
  if (found->is_number_integer()) ids.push_back(found->get<int64_t>());
  if (found->is_array()) {
    for (const json& id : *found) {
      if (id.is_number_integer()) ids.push_back(id.get<int64_t>());
    }
  }
  return ids;
}

void copy_tokenizer_files(const std::filesystem::path& model_folder,
                          const std::filesystem::path& out) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "vocab.txt", "generation_config.json", "chat_template.jinja"}) {
    if (std::filesystem::exists(model_folder / name)) {
      std::filesystem::copy_file(model_folder / name, out / name,
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
}

}  // namespace tb
