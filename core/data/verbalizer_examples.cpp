#include "core/data/verbalizer_examples.h"

#include "core/util/error.h"

namespace tb::data {

namespace {

constexpr std::string_view kText = "{text}";
constexpr std::string_view kMask = "{mask}";

}  // namespace

Example make_verbalizer_example(const Sample& sample, const TokenizerFns& tokenizer,
                                const VerbalizerOptions& options) {
  if (!tokenizer.encode) throw make_error("no tokenizer was given to the verbalizer builder");
  if (tokenizer.mask_id < 0) {
    throw make_error("the tokenizer has no mask token", {},
                     "Prompt+verbalizer needs a masked-LM tokenizer ([MASK]).");
  }
  const std::string& form = options.prompt_template;
  const size_t text_at = form.find(kText);
  const size_t mask_at = form.find(kMask);
  if (text_at == std::string::npos || mask_at == std::string::npos ||
      form.find(kText, text_at + 1) != std::string::npos ||
      form.find(kMask, mask_at + 1) != std::string::npos) {
    throw make_error("the prompt template '" + form + "' needs exactly one {text} and one {mask}",
                     {}, "For example: \"{text} It was {mask}\".");
  }
  // The template's literal pieces, in order, with the two slots between them.
  const bool text_first = text_at < mask_at;
  const size_t first_slot = text_first ? text_at : mask_at;
  const size_t second_slot = text_first ? mask_at : text_at;
  const std::vector<int32_t> before = tokenizer.encode(form.substr(0, first_slot));
  const std::vector<int32_t> between =
      tokenizer.encode(form.substr(first_slot + 6, second_slot - first_slot - 6));
  const std::vector<int32_t> after = tokenizer.encode(form.substr(second_slot + 6));
  std::vector<int32_t> text = tokenizer.encode(sample.text);

  Example example;
  example.source_row = sample.row;
  example.class_label = sample.label;
  const int64_t fixed = int64_t(before.size() + between.size() + after.size()) + 1 +
                        int64_t(tokenizer.bos_id >= 0) + int64_t(tokenizer.eos_id >= 0);
  if (options.max_length > 0) {
    const int64_t room = options.max_length - fixed;
    if (room < 1) {
      throw make_error("max_length " + std::to_string(options.max_length) +
                           " leaves no room for the text after the template (" +
                           std::to_string(fixed) + " tokens)",
                       {}, "Raise max_length or shorten the template.");
    }
    if (int64_t(text.size()) > room) {
      text.resize(size_t(room));
      example.truncated = true;
    }
  }
  std::vector<int32_t>& ids = example.input_ids;
  auto append = [&ids](const std::vector<int32_t>& part) {
    ids.insert(ids.end(), part.begin(), part.end());
  };
  auto slot = [&](bool is_text) {
    if (is_text) {
      append(text);
    } else {
      example.mask_position = int64_t(ids.size());
      ids.push_back(tokenizer.mask_id);
    }
  };
  if (tokenizer.bos_id >= 0) ids.push_back(tokenizer.bos_id);
  append(before);
  slot(text_first);
  append(between);
  slot(!text_first);
  append(after);
  if (tokenizer.eos_id >= 0) ids.push_back(tokenizer.eos_id);
  return example;
}

std::vector<int32_t> label_word_ids(const std::vector<std::string>& words,
                                    const TokenizerFns& tokenizer) {
  std::vector<int32_t> ids;
  for (const std::string& word : words) {
    const std::vector<int32_t> pieces = tokenizer.encode(word);
    if (pieces.size() != 1) {
      throw make_error(
          "the label word '" + word + "' is " + std::to_string(pieces.size()) + " tokens, not one",
          {}, "Choose label words that are single tokens of this tokenizer.");
    }
    ids.push_back(pieces.front());
  }
  return ids;
}

}  // namespace tb::data
