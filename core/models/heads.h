#pragma once
// Task heads shared by families: losses, last-token pooling for decoder classification, and
// the masked-LM head (names as transformers' BertOnlyMLMHead: predictions.transform.*,
// predictions.bias, decoder tied to the word embeddings).

#include <torch/torch.h>

#include <string>

namespace tb {

/// Label value that losses skip (transformers' ignore_index).
constexpr int64_t kIgnoreIndex = -100;

/// Next-token cross entropy: logits [B,T,V] at position t predict labels [B,T] at t+1; labels
/// equal to -100 are skipped; mean over the rest (fp32).
torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// Token-level cross entropy without shifting (masked LM), -100 skipped.
torch::Tensor masked_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// Cross entropy over [B,num_labels] for integer labels [B]; mean squared error when
/// num_labels == 1 (regression), as transformers decides.
torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// Index of the last real token per row [B]: from attention_mask when defined, else the last
/// position that is not pad_token_id (-1 = none), else the last position.
torch::Tensor last_token_index(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                               int64_t pad_token_id);

/// Picks hidden[b, index[b]] → [B,H].
torch::Tensor gather_positions(const torch::Tensor& hidden, const torch::Tensor& index);

/// Token embedding options as transformers builds them: the pad row (when pad_token_id is a
/// valid id) receives no gradient.
torch::nn::EmbeddingOptions token_embedding_options(int64_t vocab_size, int64_t hidden_size,
                                                    int64_t pad_token_id);

/// Options of MaskedLmHead.
struct MaskedLmHeadOptions {
  int64_t hidden_size = 768;      // model width
  int64_t vocab_size = 30522;     // output rows (tied to the word embeddings)
  double layer_norm_eps = 1e-12;  // LayerNorm eps of the transform
  std::string act = "gelu";       // activation of the transform (hidden_act)
};

/// transform.dense → act → transform.LayerNorm, one level down so names read
/// "predictions.transform.dense.weight".
class MlmTransformImpl : public torch::nn::Module {
 public:
  /// Creates dense and LayerNorm.
  explicit MlmTransformImpl(const MaskedLmHeadOptions& options);
  /// Applies the transform.
  torch::Tensor forward(const torch::Tensor& x);

  std::string act;                           // activation name
  torch::nn::Linear dense{nullptr};          // hidden → hidden
  torch::nn::LayerNorm layer_norm{nullptr};  // registered as "LayerNorm"
};
TORCH_MODULE(MlmTransform);

/// predictions.{transform, bias}; the decoder weight is the word embedding matrix.
class MlmPredictionsImpl : public torch::nn::Module {
 public:
  /// Creates the transform and the output bias (zeros).
  explicit MlmPredictionsImpl(const MaskedLmHeadOptions& options);
  /// Token logits [B,T,V] from hidden [B,T,H] and the tied embedding matrix [V,H].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& embedding);

  MlmTransform transform{nullptr};  // dense + act + LayerNorm
  torch::Tensor bias;               // [V]
};
TORCH_MODULE(MlmPredictions);

/// The MLM head; register it as "cls" to get transformers' names.
class MaskedLmHeadImpl : public torch::nn::Module {
 public:
  /// Creates "predictions".
  explicit MaskedLmHeadImpl(const MaskedLmHeadOptions& options);
  /// Token logits [B,T,V].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& embedding);

  MlmPredictions predictions{nullptr};  // transform + bias
};
TORCH_MODULE(MaskedLmHead);

}  // namespace tb
