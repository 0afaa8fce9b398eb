#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/decoders.h"
#include "core/tokenizer/json_util.h"
#include "core/tokenizer/legacy_folders.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/normalizers.h"
#include "core/tokenizer/pipeline.h"
#include "core/tokenizer/post_processors.h"
#include "core/tokenizer/pre_tokenizers.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"
#include "core/util/thread_pool.h"

namespace tb {

namespace fs = std::filesystem;
using tokenizer_json::Json;

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::unique_ptr<AddedVocabulary> added;
  TruncationOptions truncation;
  PaddingOptions padding;
  TokenizerConfig config;
  std::mutex pool_mutex;
  std::unique_ptr<ThreadPool> pool;

  void encode_sequence(std::string_view input, int32_t sequence_id, bool with_tokens,
                       Encoding& out) const;
  void pad(Encoding& e, size_t length) const;
};

namespace {

// Appends original input bytes to the work buffer, aligned to themselves.
void append_original(PreTokenized& pt, std::string_view s, uint32_t base) {
  const size_t at = pt.buf.size();
  pt.buf.append(s.data(), s.size());
  pt.align.resize(at + s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = unicode::sequence_length(static_cast<unsigned char>(s[i]));
    const Span span{base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i + len)};
    for (size_t k = 0; k < len && i + k < s.size(); ++k) pt.align[at + i + k] = span;
    i += len;
  }
}

void parse_truncation_padding(const Json& j, TruncationOptions& t, PaddingOptions& p) {
  const char* where = "tokenizer.json";
  if (j.contains("truncation") && j["truncation"].is_object()) {
    const Json& tj = j["truncation"];
    t.max_length = tokenizer_json::get_uint(tj, "max_length", 0, where);
    const std::string strategy = tokenizer_json::get_string(tj, "strategy", "LongestFirst", where);
    t.strategy = strategy == "OnlyFirst"    ? TruncationStrategy::kOnlyFirst
                 : strategy == "OnlySecond" ? TruncationStrategy::kOnlySecond
                                            : TruncationStrategy::kLongestFirst;
    t.from_left = tokenizer_json::get_string(tj, "direction", "Right", where) == "Left";
  }
  if (j.contains("padding") && j["padding"].is_object()) {
    const Json& pj = j["padding"];
    p.enabled = true;
    if (pj.contains("strategy") && pj["strategy"].is_object() && pj["strategy"].contains("Fixed")) {
      p.length = pj["strategy"]["Fixed"].get<size_t>();
    }
    p.multiple_of = tokenizer_json::get_uint(pj, "pad_to_multiple_of", 0, where);
    p.pad_id = static_cast<uint32_t>(tokenizer_json::get_uint(pj, "pad_id", 0, where));
    p.pad_type_id = static_cast<uint32_t>(tokenizer_json::get_uint(pj, "pad_type_id", 0, where));
    p.pad_token = tokenizer_json::get_string(pj, "pad_token", "[PAD]", where);
    p.left = tokenizer_json::get_string(pj, "direction", "Right", where) == "Left";
  }
}

std::string clean_up_spaces(std::string s) {
  static const std::pair<std::string, std::string> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    size_t at = 0;
    while ((at = s.find(from, at)) != std::string::npos) {
      s.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return s;
}

}  // namespace

void Tokenizer::Impl::encode_sequence(std::string_view input, int32_t sequence_id, bool with_tokens,
                                      Encoding& out) const {
  std::string fixed;
  if (!unicode::is_valid_utf8(input)) {
    fixed = unicode::to_valid_utf8(input);
    input = fixed;
  }
  thread_local PreTokenized pt;
  thread_local NormalizedText nt;
  thread_local std::vector<AddedMatch> raw_matches, normalized_matches;
  thread_local std::vector<ModelToken> model_tokens;
  pt.clear();
  raw_matches.clear();
  // 1. Added tokens matched on the raw text; 2. normalize what is between them; 3. added
  // tokens matched on the normalized text (the library's extract_and_normalize).
  added->split(input, false, raw_matches);
  for (const AddedMatch& m : raw_matches) {
    const std::string_view segment = input.substr(m.range.first, m.range.second - m.range.first);
    if (segment.empty()) continue;
    const auto begin = static_cast<uint32_t>(pt.buf.size());
    if (m.id >= 0) {
      append_original(pt, segment, m.range.first);
      pt.pieces.push_back({begin, static_cast<uint32_t>(pt.buf.size()), m.id});
      continue;
    }
    if (normalizer) {
      nt.assign_original(segment, m.range.first);
      normalizer->normalize(nt);
      pt.buf += nt.text;
      pt.align.insert(pt.align.end(), nt.align.begin(), nt.align.end());
    } else {
      append_original(pt, segment, m.range.first);
    }
    const auto end = static_cast<uint32_t>(pt.buf.size());
    if (!added->has_normalized()) {
      if (end > begin) pt.pieces.push_back({begin, end, -1});
      continue;
    }
    normalized_matches.clear();
    added->split(std::string_view(pt.buf).substr(begin, end - begin), true, normalized_matches);
    for (const AddedMatch& n : normalized_matches) {
      if (n.range.second > n.range.first) {
        pt.pieces.push_back({begin + n.range.first, begin + n.range.second, n.id});
      }
    }
  }
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(pt);

  for (const Piece& p : pt.pieces) {
    model_tokens.clear();
    if (p.added_id >= 0) {
      model_tokens.push_back({static_cast<uint32_t>(p.added_id), 0, p.end - p.begin});
    } else {
      model->tokenize(pt.text(p), model_tokens);
    }
    for (const ModelToken& t : model_tokens) {
      out.ids.push_back(t.id);
      if (with_tokens) {
        if (p.added_id >= 0) {
          out.tokens.push_back(added->find(t.id)->content);
        } else {
          const std::string* s = model->id_to_token(t.id);
          out.tokens.push_back(s ? *s : std::string());
        }
        if (t.end > t.begin) {
          out.offsets.emplace_back(pt.align[p.begin + t.begin].start,
                                   pt.align[p.begin + t.end - 1].end);
        } else {
          out.offsets.emplace_back(0, 0);
        }
      }
    }
  }
  const size_t n = out.ids.size();
  out.type_ids.assign(n, static_cast<uint32_t>(sequence_id));  // the second input is type 1
  out.special_tokens_mask.assign(n, 0);
  out.attention_mask.assign(n, 1);
  out.sequence_ids.assign(n, sequence_id);
}

void Tokenizer::Impl::pad(Encoding& e, size_t length) const {
  if (padding.multiple_of > 0 && length % padding.multiple_of != 0) {
    length += padding.multiple_of - length % padding.multiple_of;
  }
  if (e.size() >= length) return;
  const size_t n = length - e.size();
  Encoding p;
  p.ids.assign(n, padding.pad_id);
  p.type_ids.assign(n, padding.pad_type_id);
  if (!e.tokens.empty() || e.ids.empty()) p.tokens.assign(n, padding.pad_token);
  if (!e.offsets.empty() || e.ids.empty()) p.offsets.assign(n, {0, 0});
  p.special_tokens_mask.assign(n, 1);
  p.attention_mask.assign(n, 0);
  p.sequence_ids.assign(n, -1);
  if (padding.left) {
    p.append(e);
    e = std::move(p);
  } else {
    e.append(p);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& source) {
  const Json j = tokenizer_json::parse(text, source);
  if (!j.is_object()) {
    throw make_error("tokenizer.json must be a JSON object", source, "fix the file");
  }
  auto impl = std::make_unique<Impl>();
  impl->source = source;
  try {
    const Json null;
    const Json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : null;
    const Json& model = j.contains("model") ? j["model"] : null;
    const bool raw = ends_with_byte_level(pre) && model_supports_raw_byte_level(model);
    impl->normalizer = make_normalizer(j.contains("normalizer") ? j["normalizer"] : null);
    impl->pre_tokenizer = make_pre_tokenizer(pre, raw);
    impl->model = make_model(model, raw);
    impl->post_processor =
        make_post_processor(j.contains("post_processor") ? j["post_processor"] : null);
    impl->decoder = make_decoder(j.contains("decoder") ? j["decoder"] : null);
    impl->added = std::make_unique<AddedVocabulary>(
        j.contains("added_tokens") ? j["added_tokens"] : null, impl->normalizer.get());
    parse_truncation_padding(j, impl->truncation, impl->padding);
  } catch (const Error& error) {
    throw Error(source + ": " + error.what());
  } catch (const nlohmann::json::exception& error) {
    throw make_error(std::string("unexpected JSON structure: ") + error.what(), source,
                     "fix the tokenizer file");
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const fs::path& path) {
  fs::path file = path;
  fs::path config_file;
  if (fs::is_directory(path)) {
    file = path / "tokenizer.json";
    config_file = path / "tokenizer_config.json";
    if (!fs::exists(file)) {
      if (auto legacy = legacy_tokenizer_json(path)) {
        Tokenizer tokenizer = from_json(*legacy, path.string());
        if (fs::exists(config_file)) tokenizer.impl_->config = load_tokenizer_config(config_file);
        return tokenizer;
      }
      throw make_error(
          "no tokenizer.json (nor vocab.txt, nor vocab.json + merges.txt) in " + path.string(),
          "tokenizer", "give a Hugging Face model folder or the path of a tokenizer.json");
    }
  } else if (fs::exists(path.parent_path() / "tokenizer_config.json")) {
    config_file = path.parent_path() / "tokenizer_config.json";
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw make_error("cannot open " + file.string(), "tokenizer",
                     "check the path and its permissions");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  Tokenizer tokenizer = from_json(buffer.str(), file.string());
  if (!config_file.empty() && fs::exists(config_file)) {
    // Like transformers, model_max_length is recorded but truncation only happens when asked.
    tokenizer.impl_->config = load_tokenizer_config(config_file);
  }
  return tokenizer;
}

Encoding Tokenizer::encode_impl(std::string_view first, const std::string_view* second,
                                bool add_special_tokens, bool with_tokens) const {
  std::vector<Encoding> encodings(second ? 2 : 1);
  impl_->encode_sequence(first, 0, with_tokens, encodings[0]);
  if (second) impl_->encode_sequence(*second, 1, with_tokens, encodings[1]);

  const TruncationOptions& t = impl_->truncation;
  if (t.max_length > 0) {
    const size_t added = add_special_tokens && impl_->post_processor
                             ? impl_->post_processor->added_tokens(second != nullptr)
                             : 0;
    const size_t budget = t.max_length > added ? t.max_length - added : 0;
    size_t n1 = encodings[0].size(), n2 = second ? encodings[1].size() : 0;
    if (n1 + n2 > budget) {
      // The library's rules: longest-first keeps the shorter input whole when it fits in half,
      // else splits the budget evenly; only-first/only-second cut just that input.
      const size_t to_remove = n1 + n2 - budget;
      if (!second && t.strategy != TruncationStrategy::kOnlySecond) {
        n1 = budget;
      } else if (t.strategy == TruncationStrategy::kLongestFirst) {
        const bool swap = n1 > n2;
        size_t a = swap ? n2 : n1, b;
        b = a > budget ? a : std::max(a, budget - a);
        if (a + b > budget) {
          a = budget / 2;
          b = a + budget % 2;
        }
        n1 = swap ? b : a;
        n2 = swap ? a : b;
      } else {
        if (!second) {
          throw make_error("truncation only_second needs a pair of inputs", "tokenizer",
                           "use longest_first or only_first for single inputs");
        }
        size_t& target = t.strategy == TruncationStrategy::kOnlyFirst ? n1 : n2;
        if (target <= to_remove) {
          throw make_error("truncation cannot remove " + std::to_string(to_remove) +
                               " tokens from an input of " + std::to_string(target),
                           "tokenizer", "raise max_length or use longest_first");
        }
        target -= to_remove;
      }
      const auto cut = [&](Encoding& e, size_t keep) {
        keep = std::min(keep, e.size());
        if (t.from_left) {
          e.keep(e.size() - keep, e.size());
        } else {
          e.keep(0, keep);
        }
      };
      cut(encodings[0], n1);
      if (second) cut(encodings[1], n2);
    }
  }
  if (impl_->post_processor) {
    impl_->post_processor->process(encodings, add_special_tokens, with_tokens);
  }
  Encoding result = std::move(encodings[0]);
  for (size_t k = 1; k < encodings.size(); ++k) result.append(encodings[k]);
  if (impl_->padding.enabled && impl_->padding.length > 0) {
    impl_->pad(result, impl_->padding.length);
  }
  return result;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return encode_impl(text, nullptr, add_special_tokens, true);
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                bool add_special_tokens) const {
  return encode_impl(first, &second, add_special_tokens, true);
}

std::vector<uint32_t> Tokenizer::encode_ids(std::string_view text, bool add_special_tokens) const {
  return encode_impl(text, nullptr, add_special_tokens, false).ids;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              bool add_special_tokens, size_t threads,
                                              bool with_tokens) const {
  std::vector<Encoding> out(texts.size());
  constexpr size_t kChunk = 32;  // texts per work item: amortises the pool's locking
  const size_t chunks = (texts.size() + kChunk - 1) / kChunk;
  const auto body = [&](size_t chunk) {
    const size_t end = std::min(texts.size(), (chunk + 1) * kChunk);
    for (size_t i = chunk * kChunk; i < end; ++i) {
      out[i] = encode_impl(texts[i], nullptr, add_special_tokens, with_tokens);
    }
  };
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (threads == 1 || chunks <= 1) {
    for (size_t c = 0; c < chunks; ++c) body(c);
  } else {
    std::lock_guard<std::mutex> lock(impl_->pool_mutex);
    if (!impl_->pool || impl_->pool->size() != threads) {
      impl_->pool = std::make_unique<ThreadPool>(threads);
    }
    impl_->pool->parallel_for(chunks, body);
  }
  if (impl_->padding.enabled) {
    size_t longest = impl_->padding.length;
    if (longest == 0) {
      for (const Encoding& e : out) longest = std::max(longest, e.size());
    }
    for (Encoding& e : out) impl_->pad(e, longest);
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids, bool skip_special_tokens,
                              bool clean_up) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    const AddedToken* added = impl_->added->find(id);
    const std::string* text = added ? &added->content : impl_->model->id_to_token(id);
    if (!text) continue;
    if (skip_special_tokens && impl_->added->is_special(*text)) continue;
    tokens.push_back(*text);
  }
  std::string result;
  if (impl_->decoder) {
    impl_->decoder->decode_chain(tokens);
    for (const std::string& t : tokens) result += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) result += ' ';
      result += tokens[i];
    }
  }
  return clean_up ? clean_up_spaces(std::move(result)) : result;
}

void Tokenizer::set_truncation(const TruncationOptions& options) { impl_->truncation = options; }

void Tokenizer::set_padding(const PaddingOptions& options) { impl_->padding = options; }

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added->id_of(token)) return id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (const AddedToken* added = impl_->added->find(id)) return added->content;
  if (const std::string* s = impl_->model->id_to_token(id)) return *s;
  return std::nullopt;
}

size_t Tokenizer::vocab_size() const {
  size_t n = impl_->model->vocab_size();
  for (const AddedToken& t : impl_->added->tokens()) n = std::max<size_t>(n, t.id + 1);
  return n;
}

std::vector<std::pair<uint32_t, uint32_t>> char_offsets(std::string_view text,
                                                        const Encoding& encoding) {
  std::string fixed;
  if (!unicode::is_valid_utf8(text)) {
    fixed = unicode::to_valid_utf8(text);
    text = fixed;
  }
  // chars_before[b] = number of code points that start before byte b.
  std::vector<uint32_t> chars_before(text.size() + 1, 0);
  uint32_t count = 0;
  for (size_t b = 0; b < text.size(); ++b) {
    chars_before[b] = count;
    if ((static_cast<unsigned char>(text[b]) & 0xC0) != 0x80) ++count;
  }
  chars_before[text.size()] = count;
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(encoding.offsets.size());
  for (const auto& [start, end] : encoding.offsets) {
    // A start inside a character counts that character; an end inside one includes it.
    const uint32_t s = chars_before[std::min<size_t>(start, text.size())];
    uint32_t e = chars_before[std::min<size_t>(end, text.size())];
    if (end < text.size() && end > start &&
        (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      ++e;
    }
    out.emplace_back(s, e);
  }
  return out;
}

const TokenizerConfig& Tokenizer::config() const { return impl_->config; }

const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace tb
