#pragma once
// Trains a tokenizer from text and writes a Hugging Face tokenizer folder (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, and vocab.txt for WordPiece) that the
// `tokenizers` library and transformers load as they load any other.
//
//   TokenizerTrainingOptions options;  options.kind = "wordpiece";  options.vocab_size = 4096;
//   TokenizerTrainer trainer(options);
//   for (const std::string& text : corpus) trainer.add_text(text);
//   trainer.write(out_dir);

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tb {

/// The tokenizer kinds tunebench can train ("wordpiece": BERT-style, lowercased;
/// "bpe": GPT-2/Llama-3-style byte-level BPE).
std::vector<std::string> trainable_tokenizer_kinds();

/// How a tokenizer is trained and what its folder says.
struct TokenizerTrainingOptions {
  std::string kind = "bpe";       // one of trainable_tokenizer_kinds()
  size_t vocab_size = 8000;       // tokens in the vocabulary, special tokens included
  uint64_t min_frequency = 2;     // pairs seen fewer times are never merged
  size_t limit_alphabet = 1000;   // WordPiece: most frequent characters kept (bpe: 256 bytes)
  size_t model_max_length = 512;  // tokenizer_config.json's model_max_length
  std::string chat_template;      // "": none; else Jinja source for tokenizer_config.json
};

/// Collects word counts from texts, then learns the vocabulary and writes the folder.
class TokenizerTrainer {
 public:
  /// Checks the options; throws tb::Error for an unknown kind or a vocabulary too small.
  explicit TokenizerTrainer(TokenizerTrainingOptions options);
  ~TokenizerTrainer();

  /// Normalizes and pre-tokenizes one text exactly as the written tokenizer will, counting
  /// its words.
  void add_text(std::string_view text);
  /// Number of distinct words seen so far.
  size_t distinct_words() const { return word_counts_.size(); }
  /// Learns the vocabulary and writes the folder (created; files written atomically).
  /// Returns the vocabulary size reached.
  size_t write(const std::filesystem::path& out_dir) const;

 private:
  struct Pipeline;
  TokenizerTrainingOptions options_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unordered_map<std::string, uint64_t> word_counts_;
};

}  // namespace tb
