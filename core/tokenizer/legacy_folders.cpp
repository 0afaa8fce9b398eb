#include "core/tokenizer/legacy_folders.h"

#include <fstream>

#include "core/tokenizer/json_util.h"
#include "core/util/error.h"

namespace tb {

namespace fs = std::filesystem;
using tokenizer_json::Json;

namespace {

std::ifstream open(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw make_error("cannot open " + path.string(), "tokenizer", "check permissions");
  return in;
}

Json added_token(uint32_t id, const std::string& content) {
  return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", true}};
}

// BERT: vocab.txt has one token per line; its line number is the id.
std::string bert_json(const fs::path& dir) {
  std::ifstream in = open(dir / "vocab.txt");
  Json vocab = Json::object();
  std::vector<std::string> tokens;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!vocab.contains(line)) vocab[line] = tokens.size();
    tokens.push_back(line);
  }
  bool lowercase = true;
  if (fs::exists(dir / "tokenizer_config.json")) {
    const Json config = tokenizer_json::parse_file(dir / "tokenizer_config.json");
    lowercase = config.value("do_lower_case", true);
  }
  const auto id_of = [&](const char* token) -> int64_t {
    return vocab.contains(token) ? vocab[token].get<int64_t>() : -1;
  };
  if (id_of("[CLS]") < 0 || id_of("[SEP]") < 0 || id_of("[UNK]") < 0) {
    throw make_error("vocab.txt lacks [CLS], [SEP] or [UNK]", (dir / "vocab.txt").string(),
                     "use the BERT vocabulary file of the model");
  }
  Json added = Json::array();
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (id_of(special) >= 0) added.push_back(added_token(id_of(special), special));
  }
  Json j;
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "BertNormalizer"},
                     {"clean_text", true},
                     {"handle_chinese_chars", true},
                     {"strip_accents", nullptr},
                     {"lowercase", lowercase}};
  j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  j["post_processor"] = {{"type", "BertProcessing"},
                         {"cls", {"[CLS]", id_of("[CLS]")}},
                         {"sep", {"[SEP]", id_of("[SEP]")}}};
  j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  j["model"] = {{"type", "WordPiece"},
                {"unk_token", "[UNK]"},
                {"continuing_subword_prefix", "##"},
                {"max_input_chars_per_word", 100},
                {"vocab", vocab}};
  return j.dump();
}

// GPT-2: vocab.json maps byte-level tokens to ids; merges.txt lists "a b" by rank after an
// optional "#version" line.
std::string gpt2_json(const fs::path& dir) {
  const Json vocab = tokenizer_json::parse_file(dir / "vocab.json");
  if (!vocab.is_object()) {
    throw make_error("vocab.json must map tokens to ids", (dir / "vocab.json").string(),
                     "use the GPT-2 style vocabulary file of the model");
  }
  std::ifstream in = open(dir / "merges.txt");
  Json merges = Json::array();
  size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos) {
      throw make_error("merge is not two tokens separated by a space",
                       location(dir / "merges.txt", static_cast<int64_t>(line_number)),
                       "fix merges.txt");
    }
    merges.push_back(Json::array({line.substr(0, space), line.substr(space + 1)}));
  }
  Json added = Json::array();
  if (vocab.contains("<|endoftext|>")) {
    added.push_back(added_token(vocab["<|endoftext|>"].get<uint32_t>(), "<|endoftext|>"));
  }
  const Json byte_level = {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", true},
                           {"use_regex", true}};
  Json j;
  j["added_tokens"] = added;
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = byte_level;
  j["post_processor"] = byte_level;
  j["decoder"] = byte_level;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}};
  return j.dump();
}

}  // namespace

std::optional<std::string> legacy_tokenizer_json(const fs::path& dir) {
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) return gpt2_json(dir);
  if (fs::exists(dir / "vocab.txt")) return bert_json(dir);
  return std::nullopt;
}

}  // namespace tb
