#pragma once
// Prompt template + verbalizer classification (recipe A.3, PET / OpenPrompt's
// ManualVerbalizer): the data layer puts the text into a template such as
// "{text} It was {mask}" and records where the mask token is; this wrapper turns a masked-LM
// model into a classifier whose logit for class c is the MLM logit of c's label word at the
// mask. With several words per class, the label words' logits are log-softmax-normalised
// together and averaged per class, as ManualVerbalizer does. Combines with any method: apply
// full / freeze / lora / ptuning to the wrapper.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/models/model.h"

namespace tb {

/// Wraps a masked-LM model (task kMaskedLm) as a classifier over `label_word_ids` (one list of
/// token ids per class). The result's logits are [B, classes]; its loss is cross-entropy
/// against labels [B]. ModelBatch::mask_positions [B] is required. tb::Error for a model that
/// is not a masked LM, an empty class, or a token id outside the vocabulary.
std::shared_ptr<LanguageModel> make_verbalizer_model(
    std::shared_ptr<LanguageModel> masked_lm,
    const std::vector<std::vector<int64_t>>& label_word_ids);

}  // namespace tb
