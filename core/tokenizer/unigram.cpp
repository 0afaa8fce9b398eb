#include "core/tokenizer/unigram.h"

#include <algorithm>
#include <cstdio>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

namespace {
constexpr double kUnkPenalty = 10.0;  // SentencePiece's penalty below the lowest piece score
}

Unigram::Unigram(std::vector<std::pair<std::string, double>> pieces, int64_t unk_id,
                 bool byte_fallback, bool fuse_unk)
    : unk_id_(unk_id), byte_fallback_(byte_fallback), fuse_unk_(fuse_unk) {
  min_score_ = pieces.empty() ? 0.0 : pieces[0].second;
  for (size_t id = 0; id < pieces.size(); ++id) {
    const std::string& p = pieces[id].first;
    vocab_.set(p, static_cast<uint32_t>(id));
    for (size_t k = 1; k <= p.size(); ++k) prefixes_.set(std::string_view(p).substr(0, k), 1);
    min_score_ = std::min(min_score_, pieces[id].second);
    pieces_.push_back(p);
    scores_.push_back(pieces[id].second);
  }
  if (unk_id_ >= static_cast<int64_t>(pieces_.size())) {
    throw make_error("unk_id " + std::to_string(unk_id_) + " is outside the vocabulary",
                     "tokenizer.json model (Unigram)", "fix the tokenizer file");
  }
}

const std::string* Unigram::id_to_token(uint32_t id) const {
  return id < pieces_.size() ? &pieces_[id] : nullptr;
}

std::optional<uint32_t> Unigram::token_to_id(std::string_view token) const {
  const uint32_t* id = vocab_.find(token);
  return id ? std::optional<uint32_t>(*id) : std::nullopt;
}

void Unigram::tokenize(std::string_view s, std::vector<ModelToken>& out) const {
  if (s.empty()) return;
  struct Node {
    int64_t id = -1;
    double score = 0;
    int64_t start = -1;
  };
  const size_t n = s.size();
  std::vector<Node> best(n + 1);
  const double unk_score = min_score_ - kUnkPenalty;
  size_t at = 0;
  while (at < n) {
    const double here = best[at].score;
    const size_t char_len = unicode::sequence_length(static_cast<unsigned char>(s[at]));
    bool single = false;
    for (size_t end = at + 1; end <= n; ++end) {
      const std::string_view sub = s.substr(at, end - at);
      if (!prefixes_.find(sub)) break;
      const uint32_t* id = vocab_.find(sub);
      if (!id) continue;
      const double candidate = scores_[*id] + here;
      Node& target = best[end];
      if (target.start < 0 || candidate > target.score) {
        target = {static_cast<int64_t>(*id), candidate, static_cast<int64_t>(at)};
      }
      if (end - at == char_len) single = true;
    }
    if (!single) {
      if (unk_id_ < 0) {
        throw make_error("the text has a character outside the vocabulary and no unk_id",
                         "tokenizer.json model (Unigram)", "set unk_id in the tokenizer file");
      }
      Node& target = best[at + char_len];
      const double candidate = unk_score + here;
      if (target.start < 0 || candidate > target.score) {
        target = {unk_id_, candidate, static_cast<int64_t>(at)};
      }
    }
    at += char_len;
  }
  // Walk back; consecutive unknowns fuse into one piece when fuse_unk is on.
  std::vector<std::pair<size_t, size_t>> spans;
  size_t end = n;
  size_t fused_end = 0;
  bool fusing = false;
  while (end > 0) {
    const Node& node = best[end];
    const size_t start = static_cast<size_t>(node.start);
    if (fuse_unk_ && unk_id_ >= 0 && node.id == unk_id_) {
      if (!fusing) fused_end = end, fusing = true;
    } else {
      if (fusing) spans.emplace_back(end, fused_end), fusing = false;
      spans.emplace_back(start, end);
    }
    end = start;
  }
  if (fusing) spans.emplace_back(0, fused_end);
  std::reverse(spans.begin(), spans.end());
  for (const auto& [b, e] : spans) {
    const std::string_view sub = s.substr(b, e - b);
    const auto begin32 = static_cast<uint32_t>(b), end32 = static_cast<uint32_t>(e);
    if (const uint32_t* id = vocab_.find(sub)) {
      out.push_back({*id, begin32, end32});
      continue;
    }
    if (byte_fallback_) {
      std::vector<uint32_t> ids;
      for (unsigned char byte : sub) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", byte);
        const uint32_t* id = vocab_.find(name);
        if (!id) break;
        ids.push_back(*id);
      }
      if (ids.size() == sub.size()) {
        for (uint32_t id : ids) out.push_back({id, begin32, end32});
        continue;
      }
    }
    if (unk_id_ < 0) {
      throw make_error("the text has a character outside the vocabulary and no unk_id",
                       "tokenizer.json model (Unigram)", "set unk_id in the tokenizer file");
    }
    out.push_back({static_cast<uint32_t>(unk_id_), begin32, end32});
  }
}

}  // namespace tb
