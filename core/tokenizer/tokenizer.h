#pragma once
// A Hugging Face tokenizer.json tokenizer: the same ids as the `tokenizers` library.
//
//   tb::Tokenizer tok = tb::Tokenizer::load("models/llama3");   // folder or tokenizer.json
//   tb::Encoding e = tok.encode("Hello world", /*add_special_tokens=*/true);
//   std::string text = tok.decode(e.ids, /*skip_special_tokens=*/true);

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/encoding.h"
#include "core/tokenizer/tokenizer_config.h"

namespace tb {

/// Which sequence loses tokens first when a pair is too long.
enum class TruncationStrategy { kLongestFirst, kOnlyFirst, kOnlySecond };

/// Truncation settings (off when max_length is 0).
struct TruncationOptions {
  size_t max_length = 0;                                            // 0: no truncation
  TruncationStrategy strategy = TruncationStrategy::kLongestFirst;  // longest_first: pairs
  bool from_left = false;                                           // false: drop tokens at the end
};

/// Padding settings (off unless enabled).
struct PaddingOptions {
  bool enabled = false;             // false: no padding
  size_t length = 0;                // 0: pad a batch to its longest encoding
  size_t multiple_of = 0;           // 0: any length; else round the length up to a multiple
  uint32_t pad_id = 0;              // 0: id of the padding token
  uint32_t pad_type_id = 0;         // 0: type id of padding
  std::string pad_token = "[PAD]";  // "[PAD]": token string of padding
  bool left = false;                // false: pad on the right
};

/// Converts an encoding's byte offsets into code-point offsets of `text` (as Python and Node
/// report them); `text` is the string that was encoded.
std::vector<std::pair<uint32_t, uint32_t>> char_offsets(std::string_view text,
                                                        const Encoding& encoding);

/// A loaded tokenizer (immutable after loading, apart from truncation/padding settings;
/// encode/decode are safe to call from several threads at once).
class Tokenizer {
 public:
  /// Loads tokenizer.json, or a model folder holding tokenizer.json (+ tokenizer_config.json),
  /// or a legacy folder: BERT vocab.txt, GPT-2 vocab.json + merges.txt.
  static Tokenizer load(const std::filesystem::path& path);
  /// Parses tokenizer.json text; `source` names it in error messages.
  static Tokenizer from_json(std::string_view json, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  /// Encodes one text (invalid UTF-8 is replaced by U+FFFD first, like Node/Rust do).
  Encoding encode(std::string_view text, bool add_special_tokens = true) const;
  /// Encodes a pair of texts (e.g. question and context).
  Encoding encode_pair(std::string_view first, std::string_view second,
                       bool add_special_tokens = true) const;
  /// Only the ids (no token strings or offsets): the fast path for training data.
  std::vector<uint32_t> encode_ids(std::string_view text, bool add_special_tokens = true) const;
  /// Encodes many texts on a thread pool (`threads` 0 = all cores), then pads the batch.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     bool add_special_tokens = true, size_t threads = 0,
                                     bool with_tokens = true) const;
  /// Turns ids back into text; unknown ids are skipped.
  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens = false,
                     bool clean_up_spaces = false) const;

  /// Sets truncation (max_length 0 turns it off).
  void set_truncation(const TruncationOptions& options);
  /// Sets padding.
  void set_padding(const PaddingOptions& options);

  /// Id of a token string (added tokens first, then the model vocabulary).
  std::optional<uint32_t> token_to_id(std::string_view token) const;
  /// Token string of an id, or nullopt.
  std::optional<std::string> id_to_token(uint32_t id) const;
  /// Vocabulary size including added tokens.
  size_t vocab_size() const;
  /// tokenizer_config.json of the folder (defaults when there was none).
  const TokenizerConfig& config() const;
  /// Where it was loaded from.
  const std::string& source() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  Encoding encode_impl(std::string_view first, const std::string_view* second,
                       bool add_special_tokens, bool with_tokens) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tb
