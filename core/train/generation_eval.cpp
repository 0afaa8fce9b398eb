#include "core/train/generation_eval.h"

#include "core/models/generate.h"

namespace tb {

namespace {

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

double exact_match(LanguageModel& model, const Tokenizer& tokenizer, const ExactMatchSet& set,
                   const ExactMatchOptions& options, std::vector<ExactMatchAnswer>* answers) {
  if (set.prompts.empty()) return 0.0;
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  GenerateOptions generate_options;
  generate_options.max_new_tokens = options.max_new_tokens;
  generate_options.stop_token_ids = options.stop_token_ids;
  int64_t matches = 0;
  for (size_t i = 0; i < set.prompts.size(); ++i) {
    const std::vector<uint32_t> ids =
        tokenizer.encode_ids(set.prompts[i], /*add_special_tokens=*/false);
    const std::vector<int64_t> prompt(ids.begin(), ids.end());
    const GenerateResult result = generate(model, prompt, generate_options);
    const std::vector<uint32_t> out(result.tokens.begin(), result.tokens.end());
    ExactMatchAnswer answer;
    answer.generated = trimmed(tokenizer.decode(out, /*skip_special_tokens=*/true));
    answer.match = answer.generated == trimmed(set.answers[i]);
    matches += answer.match ? 1 : 0;
    if (answers) answers->push_back(std::move(answer));
  }
  if (was_training) model.train();
  return static_cast<double>(matches) / static_cast<double>(set.prompts.size());
}

}  // namespace tb
