#include "core/tokenizer/post_processors.h"

#include <unordered_map>

#include "core/tokenizer/json_util.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

using tokenizer_json::Json;

void Encoding::append(const Encoding& o) {
  ids.insert(ids.end(), o.ids.begin(), o.ids.end());
  type_ids.insert(type_ids.end(), o.type_ids.begin(), o.type_ids.end());
  tokens.insert(tokens.end(), o.tokens.begin(), o.tokens.end());
  offsets.insert(offsets.end(), o.offsets.begin(), o.offsets.end());
  special_tokens_mask.insert(special_tokens_mask.end(), o.special_tokens_mask.begin(),
                             o.special_tokens_mask.end());
  attention_mask.insert(attention_mask.end(), o.attention_mask.begin(), o.attention_mask.end());
  sequence_ids.insert(sequence_ids.end(), o.sequence_ids.begin(), o.sequence_ids.end());
}

void Encoding::keep(size_t begin, size_t end) {
  const auto cut = [&](auto& v) {
    if (v.empty()) return;
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(end), v.end());
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(begin));
  };
  cut(ids);
  cut(type_ids);
  cut(tokens);
  cut(offsets);
  cut(special_tokens_mask);
  cut(attention_mask);
  cut(sequence_ids);
}

namespace {

constexpr const char* kWhere = "tokenizer.json post_processor";

// A run of special tokens (one template entry) as an Encoding.
Encoding special_encoding(const std::vector<uint32_t>& ids, const std::vector<std::string>& tokens,
                          uint32_t type_id, bool with_tokens) {
  Encoding e;
  e.ids = ids;
  e.type_ids.assign(ids.size(), type_id);
  if (with_tokens) {
    e.tokens = tokens;
    e.offsets.assign(ids.size(), {0, 0});
  }
  e.special_tokens_mask.assign(ids.size(), 1);
  e.attention_mask.assign(ids.size(), 1);
  e.sequence_ids.assign(ids.size(), -1);
  return e;
}

void set_type_ids(Encoding& e, uint32_t type_id) { e.type_ids.assign(e.ids.size(), type_id); }

// ByteLevel's offset trimming: leading/trailing spaces (Ġ or whitespace) leave the offsets.
void trim_offsets(Encoding& e, bool add_prefix_space) {
  for (size_t i = 0; i < e.tokens.size() && i < e.offsets.size(); ++i) {
    const std::string& t = e.tokens[i];
    std::vector<char32_t> chars;
    for (size_t k = 0; k < t.size();) {
      size_t len = 0;
      chars.push_back(unicode::decode(t, k, len));
      k += len;
    }
    const auto space = [](char32_t c) { return c == 0x120 || unicode::is_whitespace(c); };
    size_t leading = 0, trailing = 0;
    while (leading < chars.size() && space(chars[leading])) ++leading;
    while (trailing < chars.size() && space(chars[chars.size() - 1 - trailing])) ++trailing;
    auto& [start, end] = e.offsets[i];
    if (leading > 0) {
      const bool first = i == 0 || start == 0;
      if (first && add_prefix_space && leading == 1) leading = 0;
      start = std::min<uint32_t>(start + static_cast<uint32_t>(leading), end);
    }
    if (trailing > 0 && end >= trailing) {
      end = std::max<uint32_t>(end - static_cast<uint32_t>(trailing), start);
    }
  }
}

class ByteLevelPost : public PostProcessor {
 public:
  ByteLevelPost(bool trim, bool add_prefix_space)
      : trim_(trim), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  void process(std::vector<Encoding>& encodings, bool, bool) const override {
    if (!trim_) return;
    for (Encoding& e : encodings) trim_offsets(e, add_prefix_space_);
  }

 private:
  bool trim_, add_prefix_space_;
};

struct TemplatePiece {
  bool special = false;  // SpecialToken or Sequence
  std::string name;      // special token name, or "A"/"B"
  uint32_t type_id = 0;
};

struct SpecialEntry {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};

class TemplatePost : public PostProcessor {
 public:
  TemplatePost(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair,
               std::unordered_map<std::string, SpecialEntry> specials)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)) {
    for (const auto* t : {&single_, &pair_}) {
      for (const TemplatePiece& p : *t) {
        if (p.special && !specials_.count(p.name)) {
          throw make_error(
              "template uses special token '" + p.name + "' missing from \"special_tokens\"",
              kWhere, "add it to special_tokens or fix the template");
        }
      }
    }
  }
  size_t added_tokens(bool pair) const override {
    size_t n = 0;
    for (const TemplatePiece& p : pair ? pair_ : single_) {
      if (p.special) n += specials_.at(p.name).ids.size();
    }
    return n;
  }
  void process(std::vector<Encoding>& encodings, bool add_special,
               bool with_tokens) const override {
    std::vector<Encoding> out;
    for (const TemplatePiece& p : encodings.size() == 1 ? single_ : pair_) {
      if (p.special) {
        if (!add_special) continue;
        const SpecialEntry& s = specials_.at(p.name);
        out.push_back(special_encoding(s.ids, s.tokens, p.type_id, with_tokens));
      } else {
        const size_t index = p.name == "A" ? 0 : 1;
        if (index >= encodings.size()) continue;
        Encoding e = encodings[index];
        set_type_ids(e, p.type_id);
        out.push_back(std::move(e));
      }
    }
    Encoding merged;
    for (const Encoding& e : out) merged.append(e);
    encodings.assign(1, std::move(merged));
  }

 private:
  std::vector<TemplatePiece> single_, pair_;
  std::unordered_map<std::string, SpecialEntry> specials_;
};

// BertProcessing ([CLS] A [SEP] B [SEP], type ids 0/1) and RobertaProcessing
// (<s> A </s> </s> B </s>, type ids all 0).
class ClsSepPost : public PostProcessor {
 public:
  ClsSepPost(std::pair<std::string, uint32_t> cls, std::pair<std::string, uint32_t> sep,
             bool roberta, bool trim, bool add_prefix_space)
      : cls_(std::move(cls)),
        sep_(std::move(sep)),
        roberta_(roberta),
        trim_(trim),
        add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool pair) const override { return pair ? (roberta_ ? 4 : 3) : 2; }
  void process(std::vector<Encoding>& encodings, bool add_special,
               bool with_tokens) const override {
    if (roberta_ && trim_) {
      for (Encoding& e : encodings) trim_offsets(e, add_prefix_space_);
    }
    if (roberta_) {
      for (Encoding& e : encodings) set_type_ids(e, 0);
    }
    if (!add_special) return;
    const auto special = [&](const std::pair<std::string, uint32_t>& t, uint32_t type_id) {
      return special_encoding({t.second}, {t.first}, type_id, with_tokens);
    };
    Encoding merged = special(cls_, 0);
    set_type_ids(encodings[0], 0);
    merged.append(encodings[0]);
    merged.append(special(sep_, 0));
    if (encodings.size() > 1) {
      const uint32_t type = roberta_ ? 0 : 1;
      if (roberta_) merged.append(special(sep_, 0));
      set_type_ids(encodings[1], type);
      merged.append(encodings[1]);
      merged.append(special(sep_, type));
    }
    encodings.assign(1, std::move(merged));
  }

 private:
  std::pair<std::string, uint32_t> cls_, sep_;
  bool roberta_, trim_, add_prefix_space_;
};

class SequencePost : public PostProcessor {
 public:
  explicit SequencePost(std::vector<std::unique_ptr<PostProcessor>> steps)
      : steps_(std::move(steps)) {}
  size_t added_tokens(bool pair) const override {
    size_t n = 0;
    for (const auto& s : steps_) n += s->added_tokens(pair);
    return n;
  }
  void process(std::vector<Encoding>& encodings, bool add_special,
               bool with_tokens) const override {
    for (const auto& s : steps_) s->process(encodings, add_special, with_tokens);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

std::vector<TemplatePiece> parse_template(const Json& j, const char* field) {
  std::vector<TemplatePiece> pieces;
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return pieces;
  if (it->is_string()) {
    // The string form: "[CLS] $A [SEP]" with optional ":type_id" suffixes.
    std::string s = it->get<std::string>();
    size_t at = 0;
    while (at < s.size()) {
      const size_t end = std::min(s.find(' ', at), s.size());
      std::string word = s.substr(at, end - at);
      at = end + 1;
      if (word.empty()) continue;
      TemplatePiece p;
      const size_t colon = word.rfind(':');
      if (colon != std::string::npos && colon + 1 < word.size() &&
          word.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        p.type_id = static_cast<uint32_t>(std::stoul(word.substr(colon + 1)));
        word = word.substr(0, colon);
      }
      if (!word.empty() && word[0] == '$') {
        p.name = word == "$B" || word == "$b" ? "B" : "A";
        if (word.size() > 2 && p.type_id == 0) p.type_id = std::stoul(word.substr(1));
      } else {
        p.special = true;
        p.name = word;
      }
      pieces.push_back(p);
    }
    return pieces;
  }
  if (!it->is_array()) {
    throw make_error(std::string("\"") + field + "\" must be a template list", kWhere,
                     "fix the tokenizer file");
  }
  for (const Json& entry : *it) {
    TemplatePiece p;
    if (entry.contains("SpecialToken")) {
      p.special = true;
      p.name = entry["SpecialToken"].value("id", "");
      p.type_id = entry["SpecialToken"].value("type_id", 0u);
    } else if (entry.contains("Sequence")) {
      p.name = entry["Sequence"].value("id", "A");
      p.type_id = entry["Sequence"].value("type_id", 0u);
    } else {
      throw make_error("template entries must be SpecialToken or Sequence", kWhere,
                       "fix the tokenizer file");
    }
    pieces.push_back(p);
  }
  return pieces;
}

std::pair<std::string, uint32_t> token_pair(const Json& j, const char* field) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() ||
      !(*it)[1].is_number_integer()) {
    throw make_error(std::string("\"") + field + "\" must be [token, id]", kWhere,
                     "fix the tokenizer file");
  }
  return {(*it)[0].get<std::string>(),
          tokenizer_json::token_id((*it)[1], std::string("\"") + field + "\"", kWhere)};
}

}  // namespace

std::vector<std::string> supported_post_processors() {
  return {"BertProcessing", "ByteLevel", "RobertaProcessing", "Sequence", "TemplateProcessing"};
}

std::unique_ptr<PostProcessor> make_post_processor(const Json& j) {
  if (j.is_null()) return nullptr;
  using tokenizer_json::get_bool;
  const std::string type = tokenizer_json::get_type(j, kWhere);
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPost>(get_bool(j, "trim_offsets", true, kWhere),
                                           get_bool(j, "add_prefix_space", true, kWhere));
  }
  if (type == "TemplateProcessing") {
    std::unordered_map<std::string, SpecialEntry> specials;
    if (j.contains("special_tokens") && j["special_tokens"].is_object()) {
      for (auto it = j["special_tokens"].begin(); it != j["special_tokens"].end(); ++it) {
        SpecialEntry entry;
        const Json& ids = it.value().is_object() && it.value().contains("ids") ? it.value()["ids"]
                                                                               : Json::array();
        if (!ids.is_array()) {
          throw make_error("special token '" + it.key() + "' needs \"ids\" as a list", kWhere,
                           "fix the tokenizer file");
        }
        for (const Json& id : ids) {
          entry.ids.push_back(
              tokenizer_json::token_id(id, "special token '" + it.key() + "'", kWhere));
        }
        entry.tokens = it.value().value("tokens", std::vector<std::string>{});
        if (entry.ids.size() != entry.tokens.size()) {
          throw make_error("special token '" + it.key() +
                               "' has different numbers of ids and "
                               "tokens",
                           kWhere, "fix the tokenizer file");
        }
        specials[it.key()] = std::move(entry);
      }
    }
    return std::make_unique<TemplatePost>(parse_template(j, "single"), parse_template(j, "pair"),
                                          std::move(specials));
  }
  if (type == "BertProcessing") {
    return std::make_unique<ClsSepPost>(token_pair(j, "cls"), token_pair(j, "sep"), false, false,
                                        false);
  }
  if (type == "RobertaProcessing") {
    return std::make_unique<ClsSepPost>(token_pair(j, "cls"), token_pair(j, "sep"), true,
                                        get_bool(j, "trim_offsets", true, kWhere),
                                        get_bool(j, "add_prefix_space", true, kWhere));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (const Json& step : j.value("processors", Json::array())) {
      if (auto p = make_post_processor(step)) steps.push_back(std::move(p));
    }
    return std::make_unique<SequencePost>(std::move(steps));
  }
  tokenizer_json::unknown_type("post_processor", type, supported_post_processors(), kWhere);
}

}  // namespace tb
