#include "core/models/heads.h"

#include "core/nn/cross_entropy.h"
#include "core/nn/linear.h"
#include "core/nn/mlp.h"

namespace tb {

torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  // Position t predicts token t+1: the labels shift left and the last position predicts
  // nothing. Shifting the labels rather than slicing the logits keeps the [B,T,vocab] logits
  // (the largest tensor of a step) a view, not a copy, forward and backward; the loss is the
  // same mean over the same targets.
  const torch::Tensor on_device = labels.to(logits.device());
  const torch::Tensor shifted_labels =
      torch::cat({on_device.slice(1, 1),
                  torch::full({on_device.size(0), 1}, kIgnoreIndex, on_device.options())},
                 1);
  return token_cross_entropy(logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
                             shifted_labels.reshape({-1}));
}

torch::Tensor masked_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return token_cross_entropy(logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
                             labels.to(logits.device()).reshape({-1}));
}

torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const torch::Tensor logits32 = logits.to(torch::kFloat32);
  if (logits.size(-1) == 1) {
    return torch::mse_loss(logits32.view({-1}), labels.to(logits.device()).to(torch::kFloat32));
  }
  return torch::nn::functional::cross_entropy(
      logits32, labels.to(logits.device()).to(torch::kInt64).view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
}

torch::Tensor last_token_index(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                               int64_t pad_token_id) {
  const int64_t length = input_ids.size(1);
  const torch::Tensor positions = torch::arange(length, input_ids.options().dtype(torch::kInt64));
  torch::Tensor real;
  if (attention_mask.defined()) {
    // The mask may cover cached positions too; only the last `length` columns are this batch.
    const torch::Tensor mask = attention_mask.to(input_ids.device());
    real = mask.slice(1, mask.size(1) - length, mask.size(1)) != 0;
  } else if (pad_token_id >= 0) {
    real = input_ids != pad_token_id;
  } else {
    return torch::full({input_ids.size(0)}, length - 1, positions.options());
  }
  // Largest index holding a real token works for left and right padding alike.
  return (positions.unsqueeze(0) * real.to(torch::kInt64) - (1 - real.to(torch::kInt64)))
      .amax(1)
      .clamp_min(0);
}

torch::Tensor gather_positions(const torch::Tensor& hidden, const torch::Tensor& index) {
  const torch::Tensor rows = torch::arange(hidden.size(0), index.options());
  return hidden.index({rows, index.to(hidden.device())});
}

torch::nn::EmbeddingOptions token_embedding_options(int64_t vocab_size, int64_t hidden_size,
                                                    int64_t pad_token_id) {
  torch::nn::EmbeddingOptions options(vocab_size, hidden_size);
  if (pad_token_id >= 0 && pad_token_id < vocab_size) options.padding_idx(pad_token_id);
  return options;
}

MlmTransformImpl::MlmTransformImpl(const MaskedLmHeadOptions& options) : act(options.act) {
  check_activation(act, "config.json");
  dense = register_module("dense", torch::nn::Linear(options.hidden_size, options.hidden_size));
  layer_norm = register_module(
      "LayerNorm",
      torch::nn::LayerNorm(
          torch::nn::LayerNormOptions({options.hidden_size}).eps(options.layer_norm_eps)));
}

torch::Tensor MlmTransformImpl::forward(const torch::Tensor& x) {
  return layer_norm(activation(act, dense(x)));
}

MlmPredictionsImpl::MlmPredictionsImpl(const MaskedLmHeadOptions& options) {
  transform = register_module("transform", MlmTransform(options));
  bias = register_parameter("bias", torch::zeros({options.vocab_size}));
}

torch::Tensor MlmPredictionsImpl::forward(const torch::Tensor& hidden,
                                          const torch::Tensor& embedding) {
  return tb::linear(transform(hidden), embedding, bias);
}

MaskedLmHeadImpl::MaskedLmHeadImpl(const MaskedLmHeadOptions& options) {
  predictions = register_module("predictions", MlmPredictions(options));
}

torch::Tensor MaskedLmHeadImpl::forward(const torch::Tensor& hidden,
                                        const torch::Tensor& embedding) {
  return predictions(hidden, embedding);
}

}  // namespace tb
