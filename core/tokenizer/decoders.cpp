#include "core/tokenizer/decoders.h"

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_util.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

using tokenizer_json::Json;

namespace {

constexpr const char* kWhere = "tokenizer.json decoder";

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes, one;
    for (const std::string& t : tokens) {
      // A token with a character outside the byte table (an added token) is kept as is.
      if (byte_level::decode(t, one)) {
        bytes += one;
      } else {
        bytes += t;
      }
    }
    tokens.assign(1, unicode::to_valid_utf8(bytes));
  }
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          t.insert(0, " ");
        }
      }
      if (cleanup_) t = cleanup(t);
    }
  }
  static std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    size_t at = 0;
    while ((at = s.find(from, at)) != std::string::npos) {
      s.replace(at, from.size(), to);
      at += to.size();
    }
    return s;
  }
  static std::string cleanup(std::string s) {
    static const std::pair<const char*, const char*> kRules[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
        {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) s = replace_all(std::move(s), from, to);
    return s;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      size_t at = 0;
      while (at < t.size()) {
        if (t.compare(at, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && strip_first_)) out.push_back(' ');
          at += replacement_.size();
        } else {
          out.push_back(t[at++]);
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    const auto flush = [&] {
      if (pending.empty()) return;
      if (unicode::is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& t : tokens) {
      const auto hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      };
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) && hex(t[4])) {
        pending.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<std::pair<size_t, char32_t>> chars;  // byte offset, character
      for (size_t k = 0; k < t.size();) {
        size_t len = 0;
        chars.emplace_back(k, unicode::decode(t, k, len));
        k += len;
      }
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i].second != content_) break;
        start_cut = i + 1;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        const size_t index = chars.size() - i - 1;
        if (chars[index].second != content_) break;
        stop_cut = index;
      }
      if (stop_cut < start_cut) stop_cut = start_cut;
      const size_t b = start_cut < chars.size() ? chars[start_cut].first : t.size();
      const size_t e = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
      t = t.substr(b, e - b);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<ByteRange> matches;
    for (std::string& t : tokens) {
      matches.clear();
      pattern_.find_all(t, matches);
      if (matches.empty()) continue;
      std::string out;
      uint32_t at = 0;
      for (const ByteRange& m : matches) {
        out.append(t, at, m.first - at);
        out += content_;
        at = m.second;
      }
      out.append(t, at, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      const std::string replacement = i + 1 == tokens.size() ? "" : " ";
      t = WordPieceDecoder::replace_all(t, suffix_, replacement);
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& s : steps_) s->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

Pattern make_pattern(const Json& j) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    return Pattern::literal(j["String"].get<std::string>());
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    return Pattern::regex(j["Regex"].get<std::string>(), kWhere);
  }
  throw make_error("pattern must be {\"String\": …} or {\"Regex\": …}", kWhere,
                   "fix the tokenizer file");
}

}  // namespace

std::vector<std::string> supported_decoders() {
  return {"BPEDecoder", "ByteFallback", "ByteLevel", "Fuse",     "Metaspace",
          "Replace",    "Sequence",     "Strip",     "WordPiece"};
}

std::unique_ptr<Decoder> make_decoder(const Json& j) {
  if (j.is_null()) return nullptr;
  using tokenizer_json::get_bool;
  using tokenizer_json::get_string;
  using tokenizer_json::get_uint;
  const std::string type = tokenizer_json::get_type(j, kWhere);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(get_string(j, "prefix", "##", kWhere),
                                              get_bool(j, "cleanup", true, kWhere));
  }
  if (type == "Metaspace") {
    const std::string scheme = get_string(j, "prepend_scheme", "", kWhere);
    bool strip_first = scheme != "never";
    if (scheme.empty()) strip_first = get_bool(j, "add_prefix_space", true, kWhere);
    return std::make_unique<MetaspaceDecoder>(get_string(j, "replacement", "\xE2\x96\x81", kWhere),
                                              strip_first);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = get_string(j, "content", " ", kWhere);
    size_t len = 0;
    if (content.empty() || (unicode::decode(content, 0, len), len != content.size())) {
      throw make_error("Strip \"content\" must be one character", kWhere, "fix the tokenizer file");
    }
    return std::make_unique<StripDecoder>(unicode::decode(content, 0, len),
                                          get_uint(j, "start", 0, kWhere),
                                          get_uint(j, "stop", 0, kWhere));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(make_pattern(j.value("pattern", Json())),
                                            get_string(j, "content", "", kWhere));
  }
  if (type == "BPEDecoder") {
    return std::make_unique<BpeDecoder>(get_string(j, "suffix", "</w>", kWhere));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const Json& step : j.value("decoders", Json::array())) {
      if (auto d = make_decoder(step)) steps.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  tokenizer_json::unknown_type("decoder", type, supported_decoders(), kWhere);
}

}  // namespace tb
