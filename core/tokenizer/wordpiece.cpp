#include "core/tokenizer/wordpiece.h"

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

WordPiece::WordPiece(std::vector<std::pair<std::string, uint32_t>> vocab, WordPieceOptions options)
    : options_(std::move(options)) {
  uint32_t max_id = 0;
  for (const auto& entry : vocab) max_id = std::max(max_id, entry.second);
  id_to_token_.resize(vocab.empty() ? 0 : max_id + 1);
  for (const auto& [token, id] : vocab) {
    vocab_.set(token, id);
    id_to_token_[id] = token;
  }
}

const std::string* WordPiece::id_to_token(uint32_t id) const {
  return id < id_to_token_.size() ? &id_to_token_[id] : nullptr;
}

std::optional<uint32_t> WordPiece::token_to_id(std::string_view token) const {
  const uint32_t* id = vocab_.find(token);
  return id ? std::optional<uint32_t>(*id) : std::nullopt;
}

void WordPiece::tokenize(std::string_view piece, std::vector<ModelToken>& out) const {
  const auto unk = [&]() {
    const uint32_t* id = vocab_.find(options_.unk_token);
    if (!id) {
      throw make_error("unk_token '" + options_.unk_token + "' is not in the vocabulary",
                       "tokenizer.json model (WordPiece)", "fix the tokenizer file");
    }
    out.push_back({*id, 0, static_cast<uint32_t>(piece.size())});
  };
  size_t chars = 0;
  for (char ch : piece) chars += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  if (chars > options_.max_input_chars_per_word) return unk();
  const size_t first = out.size();
  thread_local std::string candidate;
  size_t start = 0;
  while (start < piece.size()) {
    size_t end = piece.size();
    const uint32_t* found = nullptr;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate += options_.continuing_subword_prefix;
      candidate.append(piece.data() + start, end - start);
      found = vocab_.find(candidate);
      if (found) break;
      // Drop the last character of the candidate.
      --end;
      while (end > start && (static_cast<unsigned char>(piece[end]) & 0xC0) == 0x80) --end;
    }
    if (!found) {
      out.resize(first);
      return unk();
    }
    out.push_back({*found, static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
    start = end;
  }
}

}  // namespace tb
