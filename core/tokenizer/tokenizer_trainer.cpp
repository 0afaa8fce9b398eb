#include "core/tokenizer/tokenizer_trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/normalizers.h"
#include "core/tokenizer/pre_tokenizers.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

using Json = nlohmann::ordered_json;

// The special tokens of each kind, in id order.
const std::vector<std::string> kBertSpecials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
const std::vector<std::string> kByteLevelSpecials = {"<unk>", "<s>", "</s>", "<pad>"};

bool is_wordpiece(const TokenizerTrainingOptions& options) { return options.kind == "wordpiece"; }

const std::vector<std::string>& special_tokens(const TokenizerTrainingOptions& options) {
  return is_wordpiece(options) ? kBertSpecials : kByteLevelSpecials;
}

Json normalizer_json(const TokenizerTrainingOptions& options) {
  if (!is_wordpiece(options)) return nullptr;
  return {{"type", "BertNormalizer"},
          {"clean_text", true},
          {"handle_chinese_chars", true},
          {"strip_accents", nullptr},
          {"lowercase", true}};
}

Json byte_level_json(bool add_prefix_space) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", true},
          {"use_regex", true}};
}

Json pre_tokenizer_json(const TokenizerTrainingOptions& options) {
  if (is_wordpiece(options)) return {{"type", "BertPreTokenizer"}};
  return byte_level_json(false);
}

Json template_piece(const char* kind, const std::string& id, int type_id) {
  return {{kind, {{"id", id}, {"type_id", type_id}}}};
}

// BERT: [CLS] A [SEP] (B [SEP]); byte-level: <s> A (<s> B), as Llama-3's tokenizer does.
Json post_processor_json(const TokenizerTrainingOptions& options) {
  Json single = Json::array();
  Json pair = Json::array();
  std::vector<std::string> used;
  if (is_wordpiece(options)) {
    single = {template_piece("SpecialToken", "[CLS]", 0), template_piece("Sequence", "A", 0),
              template_piece("SpecialToken", "[SEP]", 0)};
    pair = single;
    pair.push_back(template_piece("Sequence", "B", 1));
    pair.push_back(template_piece("SpecialToken", "[SEP]", 1));
    used = {"[CLS]", "[SEP]"};
  } else {
    single = {template_piece("SpecialToken", "<s>", 0), template_piece("Sequence", "A", 0)};
    pair = single;
    pair.push_back(template_piece("SpecialToken", "<s>", 1));
    pair.push_back(template_piece("Sequence", "B", 1));
    used = {"<s>"};
  }
  const std::vector<std::string>& specials = special_tokens(options);
  Json tokens = Json::object();
  for (const std::string& token : used) {
    const auto id = std::find(specials.begin(), specials.end(), token) - specials.begin();
    tokens[token] = {{"id", token}, {"ids", {id}}, {"tokens", {token}}};
  }
  return {{"type", "TemplateProcessing"},
          {"single", single},
          {"pair", pair},
          {"special_tokens", tokens}};
}

Json decoder_json(const TokenizerTrainingOptions& options) {
  if (is_wordpiece(options)) return {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  return byte_level_json(true);
}

Json model_json(const TokenizerTrainingOptions& options, const BpeVocabulary& vocabulary) {
  Json vocab = Json::object();
  for (size_t id = 0; id < vocabulary.tokens.size(); ++id) vocab[vocabulary.tokens[id]] = id;
  if (is_wordpiece(options)) {
    return {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"continuing_subword_prefix", "##"},
            {"max_input_chars_per_word", 100},
            {"vocab", vocab}};
  }
  // Merges as "left right" strings: byte-level tokens never hold a space, and every version
  // of the library reads this form.
  Json merges = Json::array();
  for (const auto& [left, right] : vocabulary.merges) merges.push_back(left + " " + right);
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"vocab", vocab},
          {"merges", merges}};
}

Json added_tokens_json(const TokenizerTrainingOptions& options) {
  Json added = Json::array();
  const std::vector<std::string>& specials = special_tokens(options);
  for (size_t id = 0; id < specials.size(); ++id) {
    added.push_back({{"id", id},
                     {"content", specials[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return added;
}

// The special-token roles transformers reads, by kind.
Json special_tokens_map(const TokenizerTrainingOptions& options) {
  if (is_wordpiece(options)) {
    return {{"unk_token", "[UNK]"},
            {"sep_token", "[SEP]"},
            {"pad_token", "[PAD]"},
            {"cls_token", "[CLS]"},
            {"mask_token", "[MASK]"}};
  }
  return {
      {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"}};
}

Json tokenizer_config_json(const TokenizerTrainingOptions& options) {
  Json config = special_tokens_map(options);
  config["model_max_length"] = options.model_max_length;
  config["clean_up_tokenization_spaces"] = is_wordpiece(options);
  if (is_wordpiece(options)) {
    config["do_lower_case"] = true;
    config["tokenizer_class"] = "BertTokenizer";
  } else {
    config["add_bos_token"] = true;
    config["add_eos_token"] = false;
    config["tokenizer_class"] = "PreTrainedTokenizerFast";
  }
  if (!options.chat_template.empty()) config["chat_template"] = options.chat_template;
  return config;
}

std::string all_bytes_as_chars() {
  std::string alphabet;
  for (int b = 0; b < 256; ++b) alphabet += byte_level::encode(std::string(1, char(b)));
  return alphabet;
}

}  // namespace

std::vector<std::string> trainable_tokenizer_kinds() { return {"bpe", "wordpiece"}; }

struct TokenizerTrainer::Pipeline {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  NormalizedText normalized;
  PreTokenized pieces;
};

TokenizerTrainer::TokenizerTrainer(TokenizerTrainingOptions options)
    : options_(std::move(options)), pipeline_(std::make_unique<Pipeline>()) {
  const auto kinds = trainable_tokenizer_kinds();
  if (std::find(kinds.begin(), kinds.end(), options_.kind) == kinds.end()) {
    throw make_error("unknown tokenizer kind '" + options_.kind + "'", "tokenizer training",
                     "use bpe (byte-level, for decoders) or wordpiece (BERT-style encoders)");
  }
  const size_t minimum = special_tokens(options_).size() + (is_wordpiece(options_) ? 1 : 256);
  if (options_.vocab_size < minimum) {
    throw make_error("vocab_size " + std::to_string(options_.vocab_size) + " is too small",
                     "tokenizer training",
                     "a " + options_.kind + " vocabulary needs more than " +
                         std::to_string(minimum) + " tokens (special tokens and alphabet)");
  }
  pipeline_->normalizer = make_normalizer(nlohmann::json(normalizer_json(options_)));
  pipeline_->pre_tokenizer =
      make_pre_tokenizer(nlohmann::json(pre_tokenizer_json(options_)), /*raw_byte_level=*/false);
}

TokenizerTrainer::~TokenizerTrainer() = default;

void TokenizerTrainer::add_text(std::string_view text) {
  if (text.empty()) return;
  NormalizedText& normalized = pipeline_->normalized;
  normalized.assign_original(text, 0);
  if (pipeline_->normalizer) pipeline_->normalizer->normalize(normalized);
  PreTokenized& pt = pipeline_->pieces;
  pt.clear();
  pt.buf = normalized.text;
  pt.align = normalized.align;
  pt.pieces.push_back({0, uint32_t(pt.buf.size()), -1});
  pipeline_->pre_tokenizer->pre_tokenize(pt);
  for (const Piece& piece : pt.pieces) {
    if (piece.end > piece.begin) ++word_counts_[std::string(pt.text(piece))];
  }
}

size_t TokenizerTrainer::write(const std::filesystem::path& out_dir) const {
  if (word_counts_.empty()) {
    throw make_error("no text to learn from", "tokenizer training",
                     "give a corpus with at least one non-empty text");
  }
  BpeTrainerOptions bpe;
  bpe.vocab_size = options_.vocab_size;
  bpe.min_frequency = options_.min_frequency;
  bpe.special_tokens = special_tokens(options_);
  if (is_wordpiece(options_)) {
    bpe.continuing_subword_prefix = "##";
    bpe.limit_alphabet = options_.limit_alphabet;
  } else {
    bpe.initial_alphabet = {all_bytes_as_chars()};
  }
  const BpeVocabulary vocabulary = train_bpe({word_counts_.begin(), word_counts_.end()}, bpe);

  Json tokenizer = {{"version", "1.0"},
                    {"truncation", nullptr},
                    {"padding", nullptr},
                    {"added_tokens", added_tokens_json(options_)},
                    {"normalizer", normalizer_json(options_)},
                    {"pre_tokenizer", pre_tokenizer_json(options_)},
                    {"post_processor", post_processor_json(options_)},
                    {"decoder", decoder_json(options_)},
                    {"model", model_json(options_, vocabulary)}};
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir / "tokenizer.json", tokenizer.dump(2) + "\n");
  write_file_atomic(out_dir / "tokenizer_config.json",
                    tokenizer_config_json(options_).dump(2) + "\n");
  write_file_atomic(out_dir / "special_tokens_map.json",
                    special_tokens_map(options_).dump(2) + "\n");
  if (is_wordpiece(options_)) {
    std::string lines;
    for (const std::string& token : vocabulary.tokens) lines += token + "\n";
    write_file_atomic(out_dir / "vocab.txt", lines);
  }
  return vocabulary.tokens.size();
}

}  // namespace tb
