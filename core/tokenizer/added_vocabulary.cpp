#include "core/tokenizer/added_vocabulary.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/tokenizer/json_util.h"
#include "core/tokenizer/normalizers.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

namespace {

constexpr const char* kWhere = "tokenizer.json added_tokens";

// Last character before byte `end` (end > 0).
char32_t char_before(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t len = 0;
  return unicode::decode(s, start, len);
}

}  // namespace

void AddedVocabulary::Trie::add(std::string_view pattern, size_t token) {
  if (pattern.empty()) return;
  if (nodes.empty()) nodes.emplace_back();
  size_t node = 0;
  for (unsigned char b : pattern) {
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, 0u),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it != children.end() && it->first == b) {
      node = it->second;
    } else {
      const auto child = static_cast<uint32_t>(nodes.size());
      children.insert(it, {b, child});
      nodes.emplace_back();  // invalidates `children`; not used after this point
      node = child;
    }
  }
  // The library keeps the first token of two with the same content (same id anyway).
  if (nodes[node].token < 0) nodes[node].token = static_cast<int64_t>(token);
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
  ++count;
}

bool AddedVocabulary::Trie::longest(std::string_view s, size_t i, size_t& length,
                                    size_t& token) const {
  if (!first_byte[static_cast<unsigned char>(s[i])]) return false;
  size_t node = 0;
  bool found = false;
  for (size_t k = i; k < s.size(); ++k) {
    const auto& children = nodes[node].children;
    const auto b = static_cast<unsigned char>(s[k]);
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, 0u),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it == children.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      found = true;
      length = k + 1 - i;
      token = static_cast<size_t>(nodes[node].token);
    }
  }
  return found;
}

AddedVocabulary::AddedVocabulary(const nlohmann::json& added, const Normalizer* normalizer) {
  if (added.is_null()) return;
  if (!added.is_array()) {
    throw make_error("\"added_tokens\" must be an array", kWhere, "fix the tokenizer file");
  }
  for (const nlohmann::json& t : added) {
    if (!t.is_object() || !t.contains("id") || !t.contains("content") ||
        !t["content"].is_string() || !t["id"].is_number_integer()) {
      throw make_error("each added token needs an integer \"id\" and a string \"content\"", kWhere,
                       "fix the tokenizer file");
    }
    AddedToken token;
    token.id = tokenizer_json::token_id(t["id"], "added token " + t["content"].dump(), kWhere);
    token.content = t["content"].get<std::string>();
    token.special = t.value("special", false);
    token.normalized = t.value("normalized", !token.special);
    token.lstrip = t.value("lstrip", false);
    token.rstrip = t.value("rstrip", false);
    token.single_word = t.value("single_word", false);
    if (token.content.empty() || by_content_.count(token.content)) continue;
    by_id_[token.id] = tokens_.size();
    by_content_[token.content] = tokens_.size();
    tokens_.push_back(std::move(token));
  }
  // The library matches special tokens first, then the others, in insertion order; with
  // leftmost-longest matching only duplicates could make the order visible.
  std::vector<size_t> order;
  for (size_t k = 0; k < tokens_.size(); ++k) {
    if (tokens_[k].special) order.push_back(k);
  }
  for (size_t k = 0; k < tokens_.size(); ++k) {
    if (!tokens_[k].special) order.push_back(k);
  }
  for (size_t k : order) {
    const AddedToken& token = tokens_[k];
    if (!token.normalized) {
      raw_.add(token.content, k);
    } else {
      normalized_.add(normalizer ? normalize_string(*normalizer, token.content) : token.content, k);
    }
  }
}

void AddedVocabulary::split(std::string_view s, bool normalized,
                            std::vector<AddedMatch>& out) const {
  const Trie& trie = normalized ? normalized_ : raw_;
  if (s.empty() || trie.count == 0) {
    out.push_back({{0, static_cast<uint32_t>(s.size())}, -1});
    return;
  }
  size_t start_offset = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t length = 0, index = 0;
    if (!trie.longest(s, i, length, index)) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + length;
    i = stop;  // the next search starts after this match, whether it is kept or not
    const AddedToken& token = tokens_[index];
    if (token.single_word) {
      const bool start_space = start == 0 || !unicode::is_word_char(char_before(s, start));
      size_t len = 0;
      const bool stop_space =
          stop == s.size() || !unicode::is_word_char(unicode::decode(s, stop, len));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) {
      size_t new_start = start;
      while (new_start > 0) {
        const char32_t c = char_before(s, new_start);
        if (!unicode::is_whitespace(c)) break;
        size_t k = new_start - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        new_start = k;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      while (stop < s.size()) {
        size_t len = 0;
        if (!unicode::is_whitespace(unicode::decode(s, stop, len))) break;
        stop += len;
      }
    }
    if (start_offset < start) {
      out.push_back({{static_cast<uint32_t>(start_offset), static_cast<uint32_t>(start)}, -1});
    }
    out.push_back({{static_cast<uint32_t>(start), static_cast<uint32_t>(stop)}, token.id});
    start_offset = stop;
  }
  if (start_offset != s.size()) {
    out.push_back({{static_cast<uint32_t>(start_offset), static_cast<uint32_t>(s.size())}, -1});
  }
}

const AddedToken* AddedVocabulary::find(uint32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<uint32_t> AddedVocabulary::id_of(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? std::nullopt : std::optional<uint32_t>(tokens_[it->second].id);
}

bool AddedVocabulary::is_special(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  return it != by_content_.end() && tokens_[it->second].special;
}

}  // namespace tb
