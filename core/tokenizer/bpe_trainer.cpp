#include "core/tokenizer/bpe_trainer.h"

#include <algorithm>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace tb {

namespace {

using PairKey = uint64_t;

PairKey pair_key(uint32_t left, uint32_t right) { return (uint64_t(left) << 32) | right; }
uint32_t pair_left(PairKey key) { return uint32_t(key >> 32); }
uint32_t pair_right(PairKey key) { return uint32_t(key & 0xffffffffu); }

// A candidate merge in the queue; its count may be stale (checked when popped).
struct Candidate {
  uint64_t count;
  PairKey pair;
  // Max-heap order: higher count first, then the smaller pair (the library's tie-break).
  bool operator<(const Candidate& other) const {
    if (count != other.count) return count < other.count;
    return pair > other.pair;
  }
};

// The vocabulary as it grows.
struct Vocabulary {
  std::vector<std::string> tokens;
  std::unordered_map<std::string, uint32_t> ids;

  uint32_t add(const std::string& token) {
    const auto found = ids.find(token);
    if (found != ids.end()) return found->second;
    const auto id = uint32_t(tokens.size());
    tokens.push_back(token);
    ids.emplace(token, id);
    return id;
  }
};

// Characters of the alphabet: every one seen, or the most frequent `limit` (the initial
// alphabet always stays), sorted by code point as the library does.
std::vector<char32_t> choose_alphabet(const std::vector<std::pair<std::string, uint64_t>>& words,
                                      const BpeTrainerOptions& options) {
  std::unordered_map<char32_t, uint64_t> counts;
  for (const auto& [word, count] : words) {
    size_t i = 0;
    while (i < word.size()) {
      size_t len = 0;
      const char32_t c = unicode::decode(word, i, len);
      counts[c] += count;
      i += len;
    }
  }
  for (const std::string& chars : options.initial_alphabet) {
    size_t i = 0;
    while (i < chars.size()) {
      size_t len = 0;
      counts[unicode::decode(chars, i, len)] = UINT64_MAX;
      i += len;
    }
  }
  std::vector<std::pair<char32_t, uint64_t>> sorted(counts.begin(), counts.end());
  if (options.limit_alphabet > 0 && sorted.size() > options.limit_alphabet) {
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    sorted.resize(options.limit_alphabet);
  }
  std::vector<char32_t> alphabet;
  alphabet.reserve(sorted.size());
  for (const auto& entry : sorted) alphabet.push_back(entry.first);
  std::sort(alphabet.begin(), alphabet.end());
  return alphabet;
}

// Adds `count` times the adjacent pairs of `symbols` (negative count removes them).
void count_pairs(const std::vector<uint32_t>& symbols, int64_t count,
                 std::unordered_map<PairKey, int64_t>& pair_counts) {
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    pair_counts[pair_key(symbols[i], symbols[i + 1])] += count;
  }
}

}  // namespace

BpeVocabulary train_bpe(std::vector<std::pair<std::string, uint64_t>> words,
                        const BpeTrainerOptions& options) {
  if (options.vocab_size == 0) {
    throw Error("tokenizer training: vocab_size is 0; give the number of tokens to learn");
  }
  // Sorted words make the ids of prefixed characters, and so every tie-break, independent
  // of the order the caller collected the words in.
  std::sort(words.begin(), words.end());

  Vocabulary vocab;
  for (const std::string& special : options.special_tokens) vocab.add(special);
  std::unordered_set<char32_t> in_alphabet;
  for (const char32_t c : choose_alphabet(words, options)) {
    std::string text;
    unicode::append_utf8(text, c);
    vocab.add(text);
    in_alphabet.insert(c);
  }

  // Each word as symbols; characters outside the alphabet are left out, as the library does.
  const std::string& prefix = options.continuing_subword_prefix;
  std::vector<std::vector<uint32_t>> symbols(words.size());
  for (size_t w = 0; w < words.size(); ++w) {
    const std::string& word = words[w].first;
    size_t i = 0;
    while (i < word.size()) {
      size_t len = 0;
      const char32_t c = unicode::decode(word, i, len);
      if (in_alphabet.count(c) != 0) {
        std::string text = (i > 0 ? prefix : std::string()) + word.substr(i, len);
        symbols[w].push_back(vocab.add(text));
      }
      i += len;
    }
  }

  std::unordered_map<PairKey, int64_t> pair_counts;
  std::unordered_map<PairKey, std::vector<uint32_t>> words_with_pair;
  for (size_t w = 0; w < words.size(); ++w) {
    count_pairs(symbols[w], int64_t(words[w].second), pair_counts);
    for (size_t i = 0; i + 1 < symbols[w].size(); ++i) {
      words_with_pair[pair_key(symbols[w][i], symbols[w][i + 1])].push_back(uint32_t(w));
    }
  }
  std::priority_queue<Candidate> queue;
  for (const auto& [pair, count] : pair_counts) {
    if (count > 0) queue.push({uint64_t(count), pair});
  }

  BpeVocabulary result;
  std::vector<uint32_t> seen_at(words.size(), UINT32_MAX);
  uint32_t merge_number = 0;
  while (vocab.tokens.size() < options.vocab_size && !queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    const int64_t actual = pair_counts[top.pair];
    if (uint64_t(std::max<int64_t>(actual, 0)) != top.count) {
      if (actual > 0) queue.push({uint64_t(actual), top.pair});
      continue;
    }
    if (top.count < 1 || top.count < options.min_frequency) break;

    const uint32_t left = pair_left(top.pair);
    const uint32_t right = pair_right(top.pair);
    std::string right_text = vocab.tokens[right];
    if (!prefix.empty() && right_text.compare(0, prefix.size(), prefix) == 0) {
      right_text.erase(0, prefix.size());
    }
    const uint32_t merged = vocab.add(vocab.tokens[left] + right_text);
    result.merges.emplace_back(vocab.tokens[left], vocab.tokens[right]);

    // Rewrite every word holding the pair, moving its pair counts from old to new symbols.
    std::unordered_set<PairKey> grown;
    const std::vector<uint32_t> holders = std::move(words_with_pair[top.pair]);
    words_with_pair.erase(top.pair);
    for (const uint32_t w : holders) {
      if (seen_at[w] == merge_number) continue;
      seen_at[w] = merge_number;
      std::vector<uint32_t>& word = symbols[w];
      std::vector<uint32_t> rewritten;
      rewritten.reserve(word.size());
      bool changed = false;
      for (size_t i = 0; i < word.size(); ++i) {
        if (i + 1 < word.size() && word[i] == left && word[i + 1] == right) {
          rewritten.push_back(merged);
          ++i;
          changed = true;
        } else {
          rewritten.push_back(word[i]);
        }
      }
      if (!changed) continue;
      const auto count = int64_t(words[w].second);
      count_pairs(word, -count, pair_counts);
      count_pairs(rewritten, count, pair_counts);
      for (size_t i = 0; i + 1 < rewritten.size(); ++i) {
        if (rewritten[i] != merged && rewritten[i + 1] != merged) continue;
        const PairKey pair = pair_key(rewritten[i], rewritten[i + 1]);
        words_with_pair[pair].push_back(w);
        grown.insert(pair);
      }
      word.swap(rewritten);
    }
    pair_counts[top.pair] = 0;
    // Sorted so the queue holds the same entries whatever the hash order was.
    std::vector<PairKey> new_pairs(grown.begin(), grown.end());
    std::sort(new_pairs.begin(), new_pairs.end());
    for (const PairKey pair : new_pairs) {
      const int64_t count = pair_counts[pair];
      if (count > 0) queue.push({uint64_t(count), pair});
    }
    ++merge_number;
  }
  result.tokens = std::move(vocab.tokens);
  return result;
}

}  // namespace tb
