#include "core/methods/verbalizer.h"

#include "core/models/wrapping_model.h"

#include <nlohmann/json.hpp>

#include "core/models/heads.h"
#include "core/util/error.h"

namespace tb {

namespace {

// The inner model's children are registered here directly so parameter names stay those of
// the masked-LM checkpoint (methods and save() see transformers' names).
class VerbalizerModel final : public WrappingModel {
 public:
  VerbalizerModel(std::shared_ptr<LanguageModel> inner, std::vector<int64_t> word_ids,
                  std::vector<int64_t> word_class, int64_t classes, bool single_word)
      : WrappingModel(std::move(inner)), classes_(classes), single_word_(single_word) {
    for (const auto& child : inner_->named_children()) register_module(child.key(), child.value());
    for (const auto& item : inner_->named_parameters(/*recurse=*/false)) {
      register_parameter(item.key(), item.value(), item.value().requires_grad());
    }
    word_ids_ = torch::tensor(word_ids, torch::kInt64);
    word_class_ = torch::tensor(word_class, torch::kInt64);
  }

  ModelOutput forward(const ModelBatch& batch, KvCache* cache) override {
    if (!batch.mask_positions.defined() || batch.mask_positions.dim() != 1 ||
        batch.mask_positions.size(0) != batch.input_ids.size(0)) {
      throw make_error("the verbalizer needs mask_positions [batch] (where the mask token is)",
                       architecture(), "Build the data with task: verbalizer.");
    }
    const torch::Tensor positions = batch.mask_positions.to(torch::kInt64);
    if ((positions < 0).any().item<bool>() ||
        (positions >= batch.input_ids.size(1)).any().item<bool>()) {
      throw make_error("a mask position lies outside its row (was the mask truncated away?)",
                       architecture(), "Keep the template's mask inside cutoff_len.");
    }
    ModelBatch inner_batch = batch;
    inner_batch.labels = torch::Tensor();  // the MLM loss is not ours
    ModelOutput inner = inner_->forward(inner_batch, cache);
    const torch::Tensor at_mask = gather_positions(inner.logits, positions);  // [B, V]
    const torch::Tensor words =
        at_mask.index_select(1, word_ids_.to(at_mask.device())).to(torch::kFloat32);
    ModelOutput output;
    output.hidden = inner.hidden;
    if (single_word_) {
      output.logits = words;
    } else {
      // ManualVerbalizer: softmax over all label words, log, mean over each class's words.
      const torch::Tensor log_probs = torch::log_softmax(words, 1);
      const torch::Tensor classes = word_class_.to(words.device());
      const torch::Tensor sums =
          torch::zeros({words.size(0), classes_}, words.options()).index_add(1, classes, log_probs);
      const torch::Tensor counts =
          torch::zeros({classes_}, words.options())
              .index_add(0, classes, torch::ones_like(classes, words.options()));
      output.logits = sums / counts;
    }
    if (batch.labels.defined()) output.loss = classification_loss(output.logits, batch.labels);
    return output;
  }

  ModelTask task() const override { return ModelTask::kSequenceClassification; }

 private:
  int64_t classes_;
  bool single_word_;
  torch::Tensor word_ids_;    // every label word's token id, class by class
  torch::Tensor word_class_;  // the class of each entry of word_ids_
};

}  // namespace

std::shared_ptr<LanguageModel> make_verbalizer_model(
    std::shared_ptr<LanguageModel> masked_lm,
    const std::vector<std::vector<int64_t>>& label_word_ids) {
  if (masked_lm->task() != ModelTask::kMaskedLm) {
    throw make_error("the verbalizer needs a masked-LM model, not " + masked_lm->architecture(),
                     "task verbalizer",
                     "Load a BERT-style model with its MLM head (e.g. BertForMaskedLM).");
  }
  if (label_word_ids.size() < 2) {
    throw make_error("the verbalizer needs label words for at least two classes", "label_words",
                     "Give one word per class, e.g. bad, good.");
  }
  std::vector<int64_t> ids, classes;
  bool single = true;
  for (size_t c = 0; c < label_word_ids.size(); ++c) {
    if (label_word_ids[c].empty()) {
      throw make_error("class " + std::to_string(c) + " has no label word", "label_words",
                       "Give at least one word per class.");
    }
    single &= label_word_ids[c].size() == 1;
    for (const int64_t id : label_word_ids[c]) {
      if (id < 0 || id >= masked_lm->vocab_size()) {
        throw make_error("label word id " + std::to_string(id) + " of class " + std::to_string(c) +
                             " is outside the vocabulary of " +
                             std::to_string(masked_lm->vocab_size()) + " tokens",
                         "label_words", "Use words of the model's own tokenizer.");
      }
      ids.push_back(id);
      classes.push_back(int64_t(c));
    }
  }
  return std::make_shared<VerbalizerModel>(std::move(masked_lm), ids, classes,
                                           int64_t(label_word_ids.size()), single);
}

}  // namespace tb
