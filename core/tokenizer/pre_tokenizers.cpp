#include "core/tokenizer/pre_tokenizers.h"

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_util.h"
#include "core/tokenizer/split_scanner.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

using tokenizer_json::Json;

namespace {

constexpr const char* kWhere = "tokenizer.json pre_tokenizer";

// Events for a regex: the matches plus the non-empty gaps between them (as the library does).
void events_from_matches(size_t length, const std::vector<ByteRange>& matches,
                         std::vector<SplitEvent>& events) {
  if (length == 0) {
    events.push_back({{0, 0}, false});
    return;
  }
  uint32_t prev = 0;
  for (const ByteRange& m : matches) {
    if (prev != m.first) events.push_back({{prev, m.first}, false});
    events.push_back({m, true});
    prev = m.second;
  }
  if (prev != length) events.push_back({{prev, static_cast<uint32_t>(length)}, false});
}

// Events for a character predicate: every matching character is its own match.
template <typename Pred>
void events_from_chars(std::string_view s, Pred pred, std::vector<SplitEvent>& events) {
  if (s.empty()) {
    events.push_back({{0, 0}, false});
    return;
  }
  uint32_t last = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 0;
    const char32_t c = unicode::decode(s, i, len);
    if (pred(c)) {
      if (last < i) events.push_back({{last, static_cast<uint32_t>(i)}, false});
      events.push_back({{static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)}, true});
      last = static_cast<uint32_t>(i + len);
    }
    i += len;
  }
  if (s.size() > last) events.push_back({{last, static_cast<uint32_t>(s.size())}, false});
}

// Runs `make_events(text, events)` on every plain piece and keeps what `behavior` says.
template <typename MakeEvents>
void split_pieces(PreTokenized& pt, SplitBehavior behavior, bool invert, MakeEvents make_events) {
  thread_local std::vector<SplitEvent> events;
  thread_local std::vector<ByteRange> kept;
  pt.next.clear();
  for (const Piece& p : pt.pieces) {
    if (p.added_id >= 0) {
      pt.next.push_back(p);
      continue;
    }
    events.clear();
    make_events(pt.text(p), events);
    if (invert) {
      for (SplitEvent& e : events) e.is_match = !e.is_match;
    }
    kept.clear();
    apply_split_behavior(events, behavior, kept);
    for (const ByteRange& r : kept) {
      if (r.second > r.first) pt.next.push_back({p.begin + r.first, p.begin + r.second, -1});
    }
  }
  pt.pieces.swap(pt.next);
}

SplitBehavior parse_behavior(const std::string& name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw make_error("unknown split behavior '" + name + "'", kWhere,
                   "use Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  return unicode::is_punctuation_legacy(c);
}

// Rewrites each plain piece through `rewrite(text, piece, pt)`, which appends the new text
// to pt.buf; the piece then points at the appended bytes.
template <typename Rewrite>
void rewrite_pieces(PreTokenized& pt, Rewrite rewrite) {
  for (Piece& p : pt.pieces) {
    if (p.added_id >= 0) continue;
    const uint32_t begin = static_cast<uint32_t>(pt.buf.size());
    if (rewrite(p, pt)) p = {begin, static_cast<uint32_t>(pt.buf.size()), -1};
  }
}

class ByteLevelPre : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex, bool raw)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), raw_(raw) {}

  void pre_tokenize(PreTokenized& pt) const override {
    if (add_prefix_space_) {
      rewrite_pieces(pt, [](const Piece& p, PreTokenized& t) {
        if (t.buf[p.begin] == ' ') return false;
        t.append_with_span(" ", t.align[p.begin]);
        t.append_copy(p.begin, p.end);
        return true;
      });
    }
    if (use_regex_) {
      split_pieces(pt, SplitBehavior::kIsolated, false,
                   [](std::string_view s, std::vector<SplitEvent>& events) {
                     thread_local std::vector<ByteRange> matches;
                     matches.clear();
                     split_scanner::scan(split_scanner::Kind::kGpt2, s, matches);
                     events_from_matches(s.size(), matches, events);
                   });
    }
    if (!raw_) {
      rewrite_pieces(pt, [](const Piece& p, PreTokenized& t) {
        for (uint32_t i = p.begin; i < p.end; ++i) {
          std::string c;
          unicode::append_utf8(c, byte_level::byte_to_char(static_cast<uint8_t>(t.buf[i])));
          t.append_with_span(c, t.align[i]);
        }
        return true;
      });
    }
  }

 private:
  bool add_prefix_space_, use_regex_, raw_;
};

class SplitPre : public PreTokenizer {
 public:
  SplitPre(Pattern pattern, split_scanner::Kind scanner, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), scanner_(scanner), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, behavior_, invert_, [this](std::string_view s, std::vector<SplitEvent>& ev) {
      thread_local std::vector<ByteRange> matches;
      matches.clear();
      if (scanner_ != split_scanner::Kind::kNone) {
        split_scanner::scan(scanner_, s, matches);
      } else {
        pattern_.find_all(s, matches);
      }
      events_from_matches(s.size(), matches, ev);
    });
  }

 private:
  Pattern pattern_;
  split_scanner::Kind scanner_;
  SplitBehavior behavior_;
  bool invert_;
};

template <typename Pred>
class CharSplitPre : public PreTokenizer {
 public:
  CharSplitPre(Pred pred, SplitBehavior behavior) : pred_(pred), behavior_(behavior) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, behavior_, false, [this](std::string_view s, std::vector<SplitEvent>& ev) {
      events_from_chars(s, pred_, ev);
    });
  }

 private:
  Pred pred_;
  SplitBehavior behavior_;
};

template <typename Pred>
std::unique_ptr<PreTokenizer> char_split(Pred pred, SplitBehavior behavior) {
  return std::make_unique<CharSplitPre<Pred>>(pred, behavior);
}

class BertPre : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    whitespace_.pre_tokenize(pt);
    punctuation_.pre_tokenize(pt);
  }

 private:
  CharSplitPre<bool (*)(char32_t)> whitespace_{&unicode::is_whitespace, SplitBehavior::kRemoved};
  CharSplitPre<bool (*)(char32_t)> punctuation_{&is_bert_punctuation, SplitBehavior::kIsolated};
};

// `\w+|[^\w\s]+`, keeping the matches and dropping the rest (Whitespace pre-tokenizer).
class WhitespacePre : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, SplitBehavior::kRemoved, true,
                 [](std::string_view s, std::vector<SplitEvent>& events) {
                   std::vector<ByteRange> matches;
                   size_t i = 0;
                   while (i < s.size()) {
                     size_t len = 0;
                     const char32_t c = unicode::decode(s, i, len);
                     if (unicode::is_whitespace(c)) {
                       i += len;
                       continue;
                     }
                     const bool word = unicode::is_word_char(c);
                     const size_t start = i;
                     i += len;
                     while (i < s.size()) {
                       const char32_t d = unicode::decode(s, i, len);
                       if (unicode::is_whitespace(d) || unicode::is_word_char(d) != word) break;
                       i += len;
                     }
                     matches.emplace_back(static_cast<uint32_t>(start), static_cast<uint32_t>(i));
                   }
                   events_from_matches(s.size(), matches, events);
                 });
  }
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePre : public PreTokenizer {
 public:
  MetaspacePre(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {
    unicode::append_utf8(rep_, replacement);
  }
  void pre_tokenize(PreTokenized& pt) const override {
    rewrite_pieces(pt, [this](const Piece& p, PreTokenized& t) {
      const std::string_view s = t.text(p);
      const bool starts = s.compare(0, rep_.size(), rep_) == 0 ||
                          (s.size() > 0 && s[0] == ' ');  // a leading space becomes rep_
      const bool prepend =
          scheme_ == PrependScheme::kAlways
              ? !starts
              : scheme_ == PrependScheme::kFirst && !starts && t.align[p.begin].start == 0;
      if (prepend) t.append_with_span(rep_, t.align[p.begin]);
      for (uint32_t i = p.begin; i < p.end; ++i) {
        if (t.buf[i] == ' ') {
          t.append_with_span(rep_, t.align[i]);
        } else {
          const char byte = t.buf[i];
          const Span span = t.align[i];
          t.buf.push_back(byte);
          t.align.push_back(span);
        }
      }
      return true;
    });
    if (split_) {
      const char32_t rep = replacement_;
      split_pieces(pt, SplitBehavior::kMergedWithNext, false,
                   [rep](std::string_view s, std::vector<SplitEvent>& events) {
                     events_from_chars(
                         s, [rep](char32_t c) { return c == rep; }, events);
                   });
    }
  }

 private:
  char32_t replacement_;
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePre : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(PreTokenized& pt) const override {
    for (const auto& step : steps_) step->pre_tokenize(pt);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

char32_t single_char(const std::string& s, const char* field) {
  size_t len = 0;
  if (s.empty() || (unicode::decode(s, 0, len), len != s.size())) {
    throw make_error(std::string("\"") + field + "\" must be exactly one character", kWhere,
                     "fix the tokenizer file");
  }
  return unicode::decode(s, 0, len);
}

std::unique_ptr<PreTokenizer> build(const Json& j, bool raw_last_byte_level) {
  using tokenizer_json::get_bool;
  using tokenizer_json::get_string;
  const std::string type = tokenizer_json::get_type(j, kWhere);
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPre>(get_bool(j, "add_prefix_space", true, kWhere),
                                          get_bool(j, "use_regex", true, kWhere),
                                          raw_last_byte_level);
  }
  if (type == "Split") {
    const Json pattern = j.value("pattern", Json());
    const SplitBehavior behavior = parse_behavior(get_string(j, "behavior", "", kWhere));
    const bool invert = get_bool(j, "invert", false, kWhere);
    if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
      const std::string re = pattern["Regex"].get<std::string>();
      return std::make_unique<SplitPre>(Pattern::regex(re, kWhere), split_scanner::recognize(re),
                                        behavior, invert);
    }
    if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
      return std::make_unique<SplitPre>(Pattern::literal(pattern["String"].get<std::string>()),
                                        split_scanner::Kind::kNone, behavior, invert);
    }
    throw make_error("Split needs \"pattern\": {\"String\": …} or {\"Regex\": …}", kWhere,
                     "fix the tokenizer file");
  }
  if (type == "Digits") {
    return char_split(&unicode::is_number, get_bool(j, "individual_digits", false, kWhere)
                                               ? SplitBehavior::kIsolated
                                               : SplitBehavior::kContiguous);
  }
  if (type == "Metaspace") {
    const char32_t replacement =
        single_char(get_string(j, "replacement", "\xE2\x96\x81", kWhere), "replacement");
    PrependScheme scheme = PrependScheme::kAlways;
    const std::string name = get_string(j, "prepend_scheme", "", kWhere);
    if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else if (name.empty() || name == "always") {
      if (!get_bool(j, "add_prefix_space", true, kWhere)) scheme = PrependScheme::kNever;
    } else {
      throw make_error("unknown prepend_scheme '" + name + "'", kWhere,
                       "use always, first or never");
    }
    return std::make_unique<MetaspacePre>(replacement, scheme, get_bool(j, "split", true, kWhere));
  }
  if (type == "BertPreTokenizer") return std::make_unique<BertPre>();
  if (type == "Whitespace") return std::make_unique<WhitespacePre>();
  if (type == "WhitespaceSplit") {
    return char_split(&unicode::is_whitespace, SplitBehavior::kRemoved);
  }
  if (type == "Punctuation") {
    return char_split(&is_bert_punctuation,
                      parse_behavior(get_string(j, "behavior", "Isolated", kWhere)));
  }
  if (type == "CharDelimiterSplit") {
    const char32_t delimiter = single_char(get_string(j, "delimiter", "", kWhere), "delimiter");
    return char_split([delimiter](char32_t c) { return c == delimiter; }, SplitBehavior::kRemoved);
  }
  if (type == "Sequence") {
    const auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) {
      throw make_error("Sequence pre-tokenizer needs a \"pretokenizers\" array", kWhere,
                       "fix the tokenizer file");
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < it->size(); ++i) {
      steps.push_back(build((*it)[i], raw_last_byte_level && i + 1 == it->size()));
    }
    return std::make_unique<SequencePre>(std::move(steps));
  }
  tokenizer_json::unknown_type("pre_tokenizer", type, supported_pre_tokenizers(), kWhere);
}

}  // namespace

void apply_split_behavior(const std::vector<SplitEvent>& events, SplitBehavior behavior,
                          std::vector<ByteRange>& kept) {
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const SplitEvent& e : events) kept.push_back(e.range);
      return;
    case SplitBehavior::kRemoved:
      for (const SplitEvent& e : events) {
        if (!e.is_match) kept.push_back(e.range);
      }
      return;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const SplitEvent& e : events) {
        if (e.is_match == previous && !kept.empty()) {
          kept.back().second = e.range.second;
        } else {
          kept.push_back(e.range);
        }
        previous = e.is_match;
      }
      return;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const SplitEvent& e : events) {
        if (e.is_match && !previous && !kept.empty()) {
          kept.back().second = e.range.second;
        } else {
          kept.push_back(e.range);
        }
        previous = e.is_match;
      }
      return;
    }
    case SplitBehavior::kMergedWithNext: {
      const size_t first = kept.size();
      bool previous = false;
      for (auto it = events.rbegin(); it != events.rend(); ++it) {
        if (it->is_match && !previous && kept.size() > first) {
          kept.back().first = it->range.first;
        } else {
          kept.push_back(it->range);
        }
        previous = it->is_match;
      }
      std::reverse(kept.begin() + static_cast<std::ptrdiff_t>(first), kept.end());
      return;
    }
  }
}

std::vector<std::string> supported_pre_tokenizers() {
  return {"BertPreTokenizer", "ByteLevel",      "CharDelimiterSplit", "Digits",
          "Metaspace",        "Punctuation",    "Sequence",           "Split",
          "Whitespace",       "WhitespaceSplit"};
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, bool raw_byte_level) {
  if (j.is_null()) return nullptr;
  return build(j, raw_byte_level);
}

bool ends_with_byte_level(const Json& j) {
  if (!j.is_object()) return false;
  const std::string type = j.value("type", "");
  if (type == "ByteLevel") return true;
  if (type != "Sequence" || !j.contains("pretokenizers") || !j["pretokenizers"].is_array()) {
    return false;
  }
  const Json& steps = j["pretokenizers"];
  if (steps.empty() || steps.back().value("type", "") != "ByteLevel") return false;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const std::string t = steps[i].value("type", "");
    if (t == "ByteLevel" || t == "Sequence") return false;
  }
  return true;
}

}  // namespace tb
