#include "core/tokenizer/normalizers.h"

#include "core/tokenizer/json_util.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

using tokenizer_json::Json;

namespace {

constexpr const char* kWhere = "tokenizer.json normalizer";

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(unicode::NormalizationForm form) : form_(form) {}
  void normalize(NormalizedText& t) const override {
    bool ascii = true;
    for (char ch : t.text) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
    if (ascii) return;
    // Normalize cluster by cluster (a starter and the marks after it) so each output byte keeps
    // a precise original span; fall back to one span when clusters interact (rare compositions).
    const std::string whole = unicode::normalize(t.text, form_);
    if (whole == t.text) return;  // the usual case: already normalized, alignment unchanged
    std::string out;
    std::vector<Span> out_align;
    size_t i = 0;
    while (i < t.text.size()) {
      size_t j = i;
      size_t len = 0;
      unicode::decode(t.text, j, len);
      j += len;
      while (j < t.text.size()) {
        const char32_t c = unicode::decode(t.text, j, len);
        if (unicode::combining_class(c) == 0) break;
        j += len;
      }
      const size_t before = out.size();
      out += unicode::normalize(std::string_view(t.text).substr(i, j - i), form_);
      out_align.insert(out_align.end(), out.size() - before,
                       Span{t.align[i].start, t.align[j - 1].end});
      i = j;
    }
    if (out != whole) {
      const Span all{t.align.front().start, t.align.back().end};
      out = whole;
      out_align.assign(out.size(), all);
    }
    t.text.swap(out);
    t.align.swap(out_align);
  }

 private:
  unicode::NormalizationForm form_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(NormalizedText& t) const override {
    t.map_chars([](char32_t c, std::string& out) { unicode::append_lowercase(out, c); });
  }
};

class StripAccents : public Normalizer {
 public:
  void normalize(NormalizedText& t) const override {
    t.map_chars([](char32_t c, std::string& out) {
      if (!unicode::is_mark_nonspacing_legacy(c)) unicode::append_utf8(out, c);
    });
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedText& t) const override {
    size_t begin = 0, end = t.text.size();
    if (left_) {
      while (begin < end) {
        size_t len = 0;
        if (!unicode::is_whitespace(unicode::decode(t.text, begin, len))) break;
        begin += len;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(t.text[start]) & 0xC0) == 0x80) --start;
        size_t len = 0;
        if (!unicode::is_whitespace(unicode::decode(t.text, start, len))) break;
        end = start;
      }
    }
    t.text = t.text.substr(begin, end - begin);
    t.align = std::vector<Span>(t.align.begin() + begin, t.align.begin() + end);
  }

 private:
  bool left_, right_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(NormalizedText& t) const override { t.prepend(prefix_); }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(NormalizedText& t) const override {
    std::vector<ByteRange> matches;
    pattern_.find_all(t.text, matches);
    if (matches.empty()) return;
    std::string out;
    std::vector<Span> out_align;
    out.reserve(t.text.size() + matches.size() * content_.size());
    out_align.reserve(out.capacity());
    uint32_t at = 0;
    for (const ByteRange& m : matches) {
      out.append(t.text, at, m.first - at);
      out_align.insert(out_align.end(), t.align.begin() + at, t.align.begin() + m.first);
      if (m.second > m.first) {
        const Span span{t.align[m.first].start, t.align[m.second - 1].end};
        out += content_;
        out_align.insert(out_align.end(), content_.size(), span);
      }
      at = m.second;
    }
    out.append(t.text, at, std::string::npos);
    out_align.insert(out_align.end(), t.align.begin() + at, t.align.end());
    t.text.swap(out);
    t.align.swap(out_align);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_(strip_accents), lower_(lowercase) {}
  void normalize(NormalizedText& t) const override {
    if (clean_text_) {
      t.map_chars([](char32_t c, std::string& out) {
        if (c == 0 || c == 0xFFFD) return;
        const bool keep_control = c == '\t' || c == '\n' || c == '\r';
        if (!keep_control && unicode::is_other_legacy(c)) return;
        unicode::append_utf8(out, keep_control || unicode::is_whitespace(c) ? U' ' : c);
      });
    }
    if (chinese_) {
      t.map_chars([](char32_t c, std::string& out) {
        if (is_chinese_char(c)) out.push_back(' ');
        unicode::append_utf8(out, c);
        if (is_chinese_char(c)) out.push_back(' ');
      });
    }
    if (strip_) {
      UnicodeNormalizer(unicode::NormalizationForm::kNfd).normalize(t);
      StripAccents().normalize(t);
    }
    if (lower_) Lowercase().normalize(t);
  }

 private:
  bool clean_text_, chinese_, strip_, lower_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(NormalizedText& t) const override {
    for (const auto& step : steps_) step->normalize(t);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

Pattern make_pattern(const Json& j, std::string_view where) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    return Pattern::literal(j["String"].get<std::string>());
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    return Pattern::regex(j["Regex"].get<std::string>(), where);
  }
  throw make_error("pattern must be {\"String\": …} or {\"Regex\": …}", where,
                   "fix the tokenizer file");
}

}  // namespace

std::vector<std::string> supported_normalizers() {
  return {"BertNormalizer", "Lowercase", "NFC",      "NFD",   "NFKC",        "NFKD",
          "Prepend",        "Replace",   "Sequence", "Strip", "StripAccents"};
}

std::unique_ptr<Normalizer> make_normalizer(const Json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = tokenizer_json::get_type(j, kWhere);
  using tokenizer_json::get_bool;
  using tokenizer_json::get_string;
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(unicode::NormalizationForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(unicode::NormalizationForm::kNfd);
  if (type == "NFKC") {
    return std::make_unique<UnicodeNormalizer>(unicode::NormalizationForm::kNfkc);
  }
  if (type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(unicode::NormalizationForm::kNfkd);
  }
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip") {
    return std::make_unique<Strip>(get_bool(j, "strip_left", true, kWhere),
                                   get_bool(j, "strip_right", true, kWhere));
  }
  if (type == "Prepend") return std::make_unique<Prepend>(get_string(j, "prepend", "", kWhere));
  if (type == "Replace") {
    return std::make_unique<Replace>(make_pattern(j.value("pattern", Json()), kWhere),
                                     get_string(j, "content", "", kWhere));
  }
  if (type == "BertNormalizer") {
    const bool lowercase = get_bool(j, "lowercase", true, kWhere);
    const bool strip = j.contains("strip_accents") && !j["strip_accents"].is_null()
                           ? get_bool(j, "strip_accents", false, kWhere)
                           : lowercase;
    return std::make_unique<BertNormalizer>(get_bool(j, "clean_text", true, kWhere),
                                            get_bool(j, "handle_chinese_chars", true, kWhere),
                                            strip, lowercase);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    const auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) {
      throw make_error("Sequence normalizer needs a \"normalizers\" array", kWhere,
                       "fix the tokenizer file");
    }
    for (const Json& step : *it) {
      if (auto n = make_normalizer(step)) steps.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  tokenizer_json::unknown_type("normalizer", type, supported_normalizers(), kWhere);
}

std::string normalize_string(const Normalizer& normalizer, const std::string& s) {
  NormalizedText t;
  t.assign_original(s, 0);
  normalizer.normalize(t);
  return t.text;
}

}  // namespace tb
