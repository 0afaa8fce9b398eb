#include "core/tokenizer/regex.h"

#include <oniguruma.h>

#include <mutex>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

namespace {

void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

// One region per thread: searching is hot and a region is reusable across calls.
OnigRegion* thread_region() {
  struct Holder {
    OnigRegion* region = onig_region_new();
    ~Holder() { onig_region_free(region, 1); }
  };
  thread_local Holder holder;
  return holder.region;
}

}  // namespace

Regex::Regex(const std::string& pattern, std::string_view where) : pattern_(pattern) {
  init_oniguruma();
  OnigErrorInfo info;
  OnigRegex regex = nullptr;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int rc = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_NONE,
                          ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, rc, &info);
    throw make_error("invalid regex '" + pattern + "': " + reinterpret_cast<char*>(message), where,
                     "fix the pattern in the tokenizer file");
  }
  regex_ = regex;
}

Regex::~Regex() { onig_free(static_cast<OnigRegex>(regex_)); }

bool Regex::search(std::string_view s, size_t from, ByteRange& match) const {
  OnigRegion* region = thread_region();
  const auto* begin = reinterpret_cast<const OnigUChar*>(s.data());
  const auto* end = begin + s.size();
  const int rc = onig_search(static_cast<OnigRegex>(regex_), begin, end, begin + from, end, region,
                             ONIG_OPTION_NONE);
  if (rc < 0) {
    if (rc == ONIG_MISMATCH) return false;
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, rc);
    throw make_error(std::string("regex search failed: ") + reinterpret_cast<char*>(message),
                     "pattern '" + pattern_ + "'", "report this input");
  }
  match = {static_cast<uint32_t>(region->beg[0]), static_cast<uint32_t>(region->end[0])};
  return true;
}

void Regex::find_all(std::string_view s, std::vector<ByteRange>& out) const {
  // Mirrors the iteration of the Rust `onig` crate: an empty match right where the previous
  // match ended is skipped by advancing one character.
  size_t from = 0;
  bool have_last = false;
  uint32_t last_end = 0;
  while (from <= s.size()) {
    ByteRange m;
    if (!search(s, from, m)) return;
    if (m.first == m.second && have_last && last_end == m.second) {
      from += from < s.size() ? unicode::sequence_length(static_cast<unsigned char>(s[from])) : 1;
      continue;
    }
    out.push_back(m);
    from = m.second;
    last_end = m.second;
    have_last = true;
  }
}

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

Pattern Pattern::regex(const std::string& pattern, std::string_view where) {
  Pattern p;
  p.regex_ = std::make_shared<Regex>(pattern, where);
  return p;
}

void Pattern::find_all(std::string_view s, std::vector<ByteRange>& out) const {
  if (regex_) {
    regex_->find_all(s, out);
    return;
  }
  if (literal_.empty()) return;
  size_t at = 0;
  while ((at = s.find(literal_, at)) != std::string_view::npos) {
    out.emplace_back(static_cast<uint32_t>(at), static_cast<uint32_t>(at + literal_.size()));
    at += literal_.size();
  }
}

}  // namespace tb
