#include "core/tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

namespace {

constexpr const char* kWhere = "tokenizer.json model (BPE)";
constexpr size_t kCacheMaxPieceBytes = 256;  // longer pieces are rare and not worth caching
constexpr size_t kCacheMaxEntries = 200000;  // then the cache starts over

std::atomic<uint64_t> next_instance{1};

// Per-thread cache: piece → (id, byte length) pairs. Keyed by model instance so several
// tokenizers on one thread never mix their entries.
struct Cache {
  uint64_t owner = 0;
  StringMap index;             // piece → offset into data (count at data[offset])
  std::vector<uint32_t> data;  // count, then id/length pairs
  void reset(uint64_t new_owner) {
    owner = new_owner;
    index = StringMap();
    data.clear();
  }
};

Cache& thread_cache(uint64_t owner) {
  thread_local Cache cache;
  if (cache.owner != owner || cache.index.size() > kCacheMaxEntries) cache.reset(owner);
  return cache;
}

}  // namespace

Bpe::Bpe(std::vector<std::pair<std::string, uint32_t>> vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options)
    : options_(std::move(options)), instance_(next_instance++) {
  uint32_t max_id = 0;
  for (const auto& [token, id] : vocab) max_id = std::max(max_id, id);
  id_to_token_.resize(vocab.empty() ? 0 : max_id + 1);
  std::string raw;
  for (const auto& [token, id] : vocab) {
    id_to_token_[id] = token;
    text_vocab_.set(token, id);
    if (!options_.raw_byte_level) {
      vocab_.set(token, id);
    } else if (byte_level::decode(token, raw)) {
      vocab_.set(raw, id);
    }
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    const uint32_t* id = text_vocab_.find(name);
    fallback_ids_[b] = id ? static_cast<int64_t>(*id) : -1;
    const char byte = static_cast<char>(b);
    const uint32_t* raw_id = vocab_.find(std::string_view(&byte, 1));
    raw_ids_[b] = raw_id ? static_cast<int64_t>(*raw_id) : -1;
  }
  if (!options_.unk_token.empty()) {
    if (const uint32_t* id = text_vocab_.find(options_.unk_token)) unk_id_ = *id;
  }
  const size_t prefix_len = options_.continuing_subword_prefix.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const uint32_t* a = text_vocab_.find(left);
    const uint32_t* b = text_vocab_.find(right);
    if (!a || !b) {
      throw make_error("merge " + std::to_string(rank) + " ('" + left + "' '" + right +
                           "') uses a token missing from the vocabulary",
                       kWhere, "the vocab and merges do not belong together; re-download them");
    }
    const std::string merged =
        left + (right.size() >= prefix_len ? right.substr(prefix_len) : std::string());
    const uint32_t* m = text_vocab_.find(merged);
    if (!m) {
      throw make_error("merge " + std::to_string(rank) + " makes '" + merged +
                           "', which is not in the vocabulary",
                       kWhere, "the vocab and merges do not belong together; re-download them");
    }
    merges_.set((static_cast<uint64_t>(*a) << 32) | *b, (static_cast<uint64_t>(rank) << 32) | *m);
  }
}

const std::string* Bpe::id_to_token(uint32_t id) const {
  return id < id_to_token_.size() ? &id_to_token_[id] : nullptr;
}

std::optional<uint32_t> Bpe::token_to_id(std::string_view token) const {
  const uint32_t* id = text_vocab_.find(token);
  return id ? std::optional<uint32_t>(*id) : std::nullopt;
}

uint32_t Bpe::unk_id() const {
  if (unk_id_ < 0) {
    throw make_error("unk_token '" + options_.unk_token + "' is not in the vocabulary", kWhere,
                     "fix the tokenizer file");
  }
  return static_cast<uint32_t>(unk_id_);
}

void Bpe::initial_symbols(std::string_view piece, std::vector<Symbol>& symbols) const {
  // Mirrors the library's word building: known character → its id; else byte fallback when
  // every byte has a <0xXX> token; else the unk token (fused with a previous unk if asked).
  bool have_unk = false;
  Symbol unk{0, 0};
  const bool affixes =
      !options_.continuing_subword_prefix.empty() || !options_.end_of_word_suffix.empty();
  thread_local std::string scratch;
  size_t i = 0;
  while (i < piece.size()) {
    const size_t len = options_.raw_byte_level
                           ? 1
                           : unicode::sequence_length(static_cast<unsigned char>(piece[i]));
    const std::string_view ch = piece.substr(i, len);
    const uint32_t* id = nullptr;
    int64_t raw = -1;
    if (options_.raw_byte_level) {
      raw = raw_ids_[static_cast<unsigned char>(piece[i])];
    } else if (!affixes) {
      id = vocab_.find(ch);
    } else {
      scratch.clear();
      if (i > 0) scratch += options_.continuing_subword_prefix;
      scratch.append(ch.data(), ch.size());
      if (i + len == piece.size()) scratch += options_.end_of_word_suffix;
      id = vocab_.find(scratch);
    }
    if (id || raw >= 0) {
      if (have_unk) symbols.push_back(unk), have_unk = false;
      symbols.push_back({id ? *id : static_cast<uint32_t>(raw), static_cast<uint32_t>(len)});
      i += len;
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (size_t k = 0; k < len; ++k) all = all && fallback_ids_[static_cast<uint8_t>(ch[k])] >= 0;
      if (all) {
        if (have_unk) symbols.push_back(unk), have_unk = false;
        for (size_t k = 0; k < len; ++k) {
          symbols.push_back({static_cast<uint32_t>(fallback_ids_[static_cast<uint8_t>(ch[k])]), 1});
        }
        i += len;
        continue;
      }
    }
    if (!options_.unk_token.empty()) {
      if (have_unk && options_.fuse_unk) {
        unk.length += static_cast<uint32_t>(len);
      } else {
        if (have_unk) symbols.push_back(unk);
        unk = {unk_id(), static_cast<uint32_t>(len)};
        have_unk = true;
      }
    }
    i += len;
  }
  if (have_unk) symbols.push_back(unk);
}

void Bpe::merge(std::vector<Symbol>& symbols) const {
  const size_t n = symbols.size();
  if (n < 2) return;
  // Doubly linked list over the symbols plus a min-heap of (rank, position, merged id):
  // the lowest rank merges first, the leftmost among equal ranks, as in the library.
  thread_local std::vector<int32_t> prev, next;
  thread_local std::vector<uint32_t> length;
  thread_local std::vector<uint64_t> heap;  // rank << 32 | position (position < 2^32)
  prev.resize(n);
  next.resize(n);
  for (size_t k = 0; k < n; ++k) {
    prev[k] = static_cast<int32_t>(k) - 1;
    next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
  }
  heap.clear();
  const auto pair_of = [&](size_t a, size_t b) -> const uint64_t* {
    return merges_.find((static_cast<uint64_t>(symbols[a].id) << 32) | symbols[b].id);
  };
  for (size_t k = 0; k + 1 < n; ++k) {
    if (const uint64_t* m = pair_of(k, k + 1)) heap.push_back((*m & 0xFFFFFFFF00000000ull) | k);
  }
  const auto greater = std::greater<uint64_t>();
  std::make_heap(heap.begin(), heap.end(), greater);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const uint64_t top = heap.back();
    heap.pop_back();
    const size_t pos = top & 0xFFFFFFFFu;
    const uint32_t rank = static_cast<uint32_t>(top >> 32);
    if (symbols[pos].length == 0 || next[pos] < 0) continue;
    const size_t right = static_cast<size_t>(next[pos]);
    const uint64_t* m = pair_of(pos, right);
    if (!m || (*m >> 32) != rank) continue;  // stale entry: the pair changed since
    symbols[pos].id = static_cast<uint32_t>(*m & 0xFFFFFFFFu);
    symbols[pos].length += symbols[right].length;
    symbols[right].length = 0;
    next[pos] = next[right];
    if (next[right] >= 0) prev[static_cast<size_t>(next[right])] = static_cast<int32_t>(pos);
    if (prev[pos] >= 0) {
      const size_t p = static_cast<size_t>(prev[pos]);
      if (const uint64_t* pm = pair_of(p, pos)) {
        heap.push_back((*pm & 0xFFFFFFFF00000000ull) | p);
        std::push_heap(heap.begin(), heap.end(), greater);
      }
    }
    if (next[pos] >= 0) {
      if (const uint64_t* nm = pair_of(pos, static_cast<size_t>(next[pos]))) {
        heap.push_back((*nm & 0xFFFFFFFF00000000ull) | pos);
        std::push_heap(heap.begin(), heap.end(), greater);
      }
    }
  }
  symbols.erase(
      std::remove_if(symbols.begin(), symbols.end(), [](const Symbol& s) { return s.length == 0; }),
      symbols.end());
}

void Bpe::tokenize(std::string_view piece, std::vector<ModelToken>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    if (const uint32_t* id = vocab_.find(piece)) {
      out.push_back({*id, 0, static_cast<uint32_t>(piece.size())});
      return;
    }
  }
  const bool cacheable = piece.size() <= kCacheMaxPieceBytes;
  Cache* cache = cacheable ? &thread_cache(instance_) : nullptr;
  if (cache) {
    if (const uint32_t* at = cache->index.find(piece)) {
      const uint32_t count = cache->data[*at];
      uint32_t offset = 0;
      for (uint32_t k = 0; k < count; ++k) {
        const uint32_t id = cache->data[*at + 1 + 2 * k];
        const uint32_t len = cache->data[*at + 2 + 2 * k];
        out.push_back({id, offset, offset + len});
        offset += len;
      }
      return;
    }
  }
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  initial_symbols(piece, symbols);
  merge(symbols);
  uint32_t offset = 0;
  for (const Symbol& s : symbols) {
    out.push_back({s.id, offset, offset + s.length});
    offset += s.length;
  }
  if (cache) {
    cache->index.set(piece, static_cast<uint32_t>(cache->data.size()));
    cache->data.push_back(static_cast<uint32_t>(symbols.size()));
    for (const Symbol& s : symbols) {
      cache->data.push_back(s.id);
      cache->data.push_back(s.length);
    }
  }
}

}  // namespace tb
