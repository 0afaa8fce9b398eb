#pragma once
// Learns a byte-pair-encoding vocabulary from word counts, with the Hugging Face tokenizers
// library's BpeTrainer semantics: special tokens first, then the alphabet (most frequent
// characters, sorted), then one token per merge, always merging the most frequent adjacent
// pair (ties: the pair of smaller ids). With a continuing-subword prefix ("##") the result is
// also a WordPiece vocabulary, which is how the library's WordPieceTrainer works.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tb {

/// What the trainer learns and from what.
struct BpeTrainerOptions {
  size_t vocab_size = 8000;                   // stop when the vocabulary has this many tokens
  uint64_t min_frequency = 2;                 // pairs seen fewer times are never merged
  std::vector<std::string> special_tokens;    // ids 0.. in this order, never split
  std::vector<std::string> initial_alphabet;  // characters always in the vocabulary
  size_t limit_alphabet = 0;                  // 0: every character seen; else keep the most
                                              // frequent (initial_alphabet always kept)
  std::string continuing_subword_prefix;      // "": none; "##" for WordPiece
};

/// A trained vocabulary: tokens in id order and the merges in the order they were learned.
struct BpeVocabulary {
  std::vector<std::string> tokens;                          // token of id i at index i
  std::vector<std::pair<std::string, std::string>> merges;  // (left, right) by rank
};

/// Trains on (word, count) pairs (a word is one pre-tokenized piece, UTF-8). Deterministic:
/// the same words in any order give the same vocabulary.
BpeVocabulary train_bpe(std::vector<std::pair<std::string, uint64_t>> words,
                        const BpeTrainerOptions& options);

}  // namespace tb
