#include "core/data/mlm_masking.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/data/example.h"
#include "core/util/error.h"

namespace tb::data {

std::pair<torch::Tensor, torch::Tensor> mask_tokens(const torch::Tensor& input_ids,
                                                    const torch::Tensor& attention_mask,
                                                    const MlmMaskingOptions& options,
                                                    uint64_t seed) {
  if (options.mask_id < 0 || options.vocab_size <= 0) {
    throw make_error("masked-LM training needs a mask token and the vocabulary size", "task mlm",
                     "Use a tokenizer with a [MASK] (or <mask>) token, as BERT-style models have.");
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Tensor ids = input_ids.to(torch::kLong);
  torch::Tensor candidates = attention_mask.defined() ? attention_mask.to(torch::kBool)
                                                      : torch::ones_like(ids, torch::kBool);
  for (const int32_t special : options.never_mask) candidates &= ids.ne(special);

  const torch::Tensor draw = torch::rand(ids.sizes(), generator, torch::kFloat);
  torch::Tensor targets = candidates & draw.lt(options.probability);
  // Rows where chance picked nothing still get one target: the candidate with the lowest
  // draw (an empty row would make the loss of a one-row batch undefined).
  const torch::Tensor empty_rows = targets.sum(1).eq(0) & candidates.any(1);
  if (empty_rows.any().item<bool>()) {
    const torch::Tensor ranked = draw.masked_fill(candidates.logical_not(), 2.0f);
    const torch::Tensor first = ranked.argmin(1, /*keepdim=*/true);
    const torch::Tensor forced = torch::zeros_like(targets).scatter_(1, first, true);
    targets |= forced & empty_rows.unsqueeze(1);
  }

  torch::Tensor labels = ids.masked_fill(targets.logical_not(), kIgnoreIndex);
  const torch::Tensor how = torch::rand(ids.sizes(), generator, torch::kFloat);
  const torch::Tensor to_mask = targets & how.lt(options.mask_share);
  const torch::Tensor to_random =
      targets & how.ge(options.mask_share) & how.lt(options.mask_share + options.random_share);
  const torch::Tensor random_ids =
      torch::randint(0, options.vocab_size, ids.sizes(), generator, torch::kLong);
  torch::Tensor masked = ids.masked_fill(to_mask, options.mask_id);
  masked = torch::where(to_random, random_ids, masked);
  return {masked, labels};
}

}  // namespace tb::data
