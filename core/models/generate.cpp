#include "core/models/generate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

#include "core/util/error.h"

namespace tb {

int64_t choose_next_token(const torch::Tensor& raw, const std::vector<int64_t>& seen,
                          const GenerateOptions& options, torch::Generator& generator) {
  torch::Tensor logits = raw.to(torch::kCPU, torch::kFloat32).clone();
  if (options.repetition_penalty != 1.0 && !seen.empty()) {
    // CTRL / transformers: shrink positive logits, push negative ones further down.
    const torch::Tensor ids = torch::tensor(seen, torch::kInt64).clamp(0, logits.size(0) - 1);
    const torch::Tensor picked = logits.index_select(0, ids);
    const torch::Tensor penalised = torch::where(picked < 0, picked * options.repetition_penalty,
                                                 picked / options.repetition_penalty);
    logits.index_put_({ids}, penalised);
  }
  if (options.temperature <= 0) return logits.argmax().item<int64_t>();

  logits = logits / options.temperature;
  const float blocked = -std::numeric_limits<float>::infinity();
  if (options.top_k > 0 && options.top_k < logits.size(0)) {
    const torch::Tensor kth = std::get<0>(logits.topk(options.top_k)).min();
    logits.masked_fill_(logits < kth, blocked);
  }
  if (options.top_p < 1.0) {
    // Drop the least likely tokens whose total mass stays within 1 - top_p; the most likely
    // token always survives.
    const auto [sorted, order] = logits.sort(/*dim=*/0, /*descending=*/false);
    const torch::Tensor cumulative = sorted.softmax(0).cumsum(0);
    torch::Tensor remove = cumulative <= (1.0 - options.top_p);
    remove[-1] = false;
    logits.index_put_({order.masked_select(remove)}, blocked);
  }
  const torch::Tensor probs = logits.softmax(0);
  return torch::multinomial(probs, 1, false, generator).item<int64_t>();
}

GenerateResult generate(LanguageModel& model, const std::vector<int64_t>& prompt,
                        const GenerateOptions& options) {
  if (!model.is_decoder()) {
    throw make_error(model.architecture() + " is an encoder and cannot generate text", "generate",
                     "Use a decoder model (llama, mistral, qwen2, qwen3).");
  }
  if (prompt.empty()) throw make_error("the prompt has no tokens", "generate");
  torch::NoGradGuard no_grad;
  const auto parameters = model.parameters();
  const torch::Device device = parameters.empty() ? torch::kCPU : parameters.front().device();
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);

  GenerateResult result;
  result.stop_reason = "max_new_tokens";
  std::vector<int64_t> seen = prompt;
  KvCache cache;
  ModelBatch batch;
  batch.input_ids = torch::tensor(prompt, torch::kInt64).unsqueeze(0).to(device);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const ModelOutput output = model.forward(batch, &cache);
    const torch::Tensor next_logits = output.logits[0][-1].to(torch::kCPU, torch::kFloat32);
    const int64_t token = choose_next_token(next_logits, seen, options, generator);
    result.tokens.push_back(token);
    seen.push_back(token);
    if (options.on_token && !options.on_token(token, next_logits)) {
      result.stop_reason = "callback";
      break;
    }
    if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), token) !=
        options.stop_token_ids.end()) {
      result.stop_reason = "stop_token";
      break;
    }
    batch.input_ids = torch::tensor({token}, torch::kInt64).view({1, 1}).to(device);
  }
  return result;
}

}  // namespace tb
