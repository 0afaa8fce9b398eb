// Model registry: builds BPE, WordPiece or Unigram from tokenizer.json's "model" object.
#include "core/tokenizer/bpe.h"
#include "core/tokenizer/json_util.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/unigram.h"
#include "core/tokenizer/wordpiece.h"
#include "core/util/error.h"

namespace tb {

using tokenizer_json::Json;

namespace {

constexpr const char* kWhere = "tokenizer.json model";

std::vector<std::pair<std::string, uint32_t>> read_vocab(const Json& j) {
  const auto it = j.find("vocab");
  if (it == j.end() || !it->is_object()) {
    throw make_error("model needs a \"vocab\" object of token → id", kWhere,
                     "fix the tokenizer file");
  }
  std::vector<std::pair<std::string, uint32_t>> vocab;
  vocab.reserve(it->size());
  for (auto entry = it->begin(); entry != it->end(); ++entry) {
    vocab.emplace_back(
        entry.key(),
        tokenizer_json::token_id(entry.value(), "vocab entry '" + entry.key() + "'", kWhere));
  }
  return vocab;
}

std::vector<std::pair<std::string, std::string>> read_merges(const Json& j) {
  std::vector<std::pair<std::string, std::string>> merges;
  const auto it = j.find("merges");
  if (it == j.end() || it->is_null()) return merges;
  if (!it->is_array()) {
    throw make_error("\"merges\" must be an array", kWhere, "fix the tokenizer file");
  }
  merges.reserve(it->size());
  for (size_t rank = 0; rank < it->size(); ++rank) {
    const Json& m = (*it)[rank];
    if (m.is_string()) {
      const std::string& line = m.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        throw make_error("merge " + std::to_string(rank + 1) + " ('" + line +
                             "') is not two tokens separated by one space",
                         kWhere, "fix the tokenizer file");
      }
      merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw make_error("merge " + std::to_string(rank + 1) + " is neither \"a b\" nor [a, b]",
                       kWhere, "fix the tokenizer file");
    }
  }
  return merges;
}

std::string model_type(const Json& j) {
  if (j.contains("type") && j["type"].is_string()) return j["type"].get<std::string>();
  // Older files leave the type out; the library tells the models apart by their fields.
  if (j.contains("merges")) return "BPE";
  if (j.contains("vocab") && j["vocab"].is_array()) return "Unigram";
  if (j.contains("continuing_subword_prefix") || j.contains("max_input_chars_per_word")) {
    return "WordPiece";
  }
  return "";
}

}  // namespace

std::vector<std::string> supported_models() { return {"BPE", "Unigram", "WordPiece"}; }

bool model_supports_raw_byte_level(const Json& j) {
  using tokenizer_json::get_string;
  return model_type(j) == "BPE" && get_string(j, "continuing_subword_prefix", "", kWhere).empty() &&
         get_string(j, "end_of_word_suffix", "", kWhere).empty();
}

std::unique_ptr<Model> make_model(const Json& j, bool raw_byte_level) {
  using tokenizer_json::get_bool;
  using tokenizer_json::get_string;
  if (!j.is_object()) {
    throw make_error("tokenizer.json has no \"model\" object", kWhere, "fix the tokenizer file");
  }
  const std::string type = model_type(j);
  if (type == "BPE") {
    if (j.contains("dropout") && j["dropout"].is_number() && j["dropout"].get<double>() > 0) {
      throw make_error("BPE dropout is a training-time option and is not supported", kWhere,
                       "set \"dropout\": null");
    }
    BpeOptions options;
    options.unk_token = get_string(j, "unk_token", "", kWhere);
    options.continuing_subword_prefix = get_string(j, "continuing_subword_prefix", "", kWhere);
    options.end_of_word_suffix = get_string(j, "end_of_word_suffix", "", kWhere);
    options.fuse_unk = get_bool(j, "fuse_unk", false, kWhere);
    options.byte_fallback = get_bool(j, "byte_fallback", false, kWhere);
    options.ignore_merges = get_bool(j, "ignore_merges", false, kWhere);
    options.raw_byte_level = raw_byte_level;
    return std::make_unique<Bpe>(read_vocab(j), read_merges(j), options);
  }
  if (type == "WordPiece") {
    WordPieceOptions options;
    options.unk_token = get_string(j, "unk_token", options.unk_token, kWhere);
    options.continuing_subword_prefix =
        get_string(j, "continuing_subword_prefix", options.continuing_subword_prefix, kWhere);
    options.max_input_chars_per_word = tokenizer_json::get_uint(
        j, "max_input_chars_per_word", options.max_input_chars_per_word, kWhere);
    return std::make_unique<WordPiece>(read_vocab(j), options);
  }
  if (type == "Unigram") {
    const auto it = j.find("vocab");
    if (it == j.end() || !it->is_array()) {
      throw make_error("Unigram needs \"vocab\": [[piece, score], …]", kWhere,
                       "fix the tokenizer file");
    }
    std::vector<std::pair<std::string, double>> pieces;
    for (const Json& entry : *it) {
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() ||
          !entry[1].is_number()) {
        throw make_error("Unigram vocab entries must be [piece, score]", kWhere,
                         "fix the tokenizer file");
      }
      pieces.emplace_back(entry[0].get<std::string>(), entry[1].get<double>());
    }
    const int64_t unk_id =
        j.contains("unk_id") && j["unk_id"].is_number_integer() ? j["unk_id"].get<int64_t>() : -1;
    return std::make_unique<Unigram>(std::move(pieces), unk_id,
                                     get_bool(j, "byte_fallback", false, kWhere),
                                     get_bool(j, "fuse_unk", true, kWhere));
  }
  tokenizer_json::unknown_type("model", type.empty() ? "(missing)" : type, supported_models(),
                               kWhere);
}

}  // namespace tb
