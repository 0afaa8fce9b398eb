#pragma once
// BERT encoders: BertModel, BertForSequenceClassification (pooler + classifier) and
// BertForMaskedLM (MLM head tied to the word embeddings). Tensor names equal transformers'
// (bert.encoder.layer.N.attention.self.query.weight, classifier.weight, cls.predictions.bias…).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/models/model.h"

namespace tb {

/// config.json of a BERT model, typed; defaults are transformers' BertConfig ones.
struct BertConfig {
  int64_t vocab_size = 30522;                 // rows of word_embeddings
  int64_t hidden_size = 768;                  // model width
  int64_t num_hidden_layers = 12;             // encoder layers
  int64_t num_attention_heads = 12;           // heads (hidden_size / heads = head width)
  int64_t intermediate_size = 3072;           // feed-forward inner width
  std::string hidden_act = "gelu";            // feed-forward activation (exact GELU)
  double hidden_dropout_prob = 0.1;           // dropout after embeddings and sublayers (training)
  double attention_probs_dropout_prob = 0.1;  // dropout on attention weights (training)
  double classifier_dropout = -1;         // dropout before the classifier; -1 = hidden_dropout_prob
  int64_t max_position_embeddings = 512;  // rows of position_embeddings
  int64_t type_vocab_size = 2;            // rows of token_type_embeddings
  double initializer_range = 0.02;        // std of the normal initialisation
  double layer_norm_eps = 1e-12;          // LayerNorm epsilon
  int64_t pad_token_id = 0;               // padding id
  int64_t num_labels = 2;                 // classes of BertForSequenceClassification
  nlohmann::json raw = nlohmann::json::object();  // the file as read (unknown keys kept)
};

/// Parses a BERT config.json; `where` names the file in errors.
BertConfig bert_config_from_json(const nlohmann::json& config, const std::string& where);

/// Serialises back to config.json (raw keys kept, typed fields overwrite them).
nlohmann::json bert_config_to_json(const BertConfig& config, const std::string& architecture);

/// Builds a randomly initialised BERT for kBase, kSequenceClassification or kMaskedLm.
std::shared_ptr<LanguageModel> build_bert(const nlohmann::json& config, ModelTask task,
                                          const std::string& where);

}  // namespace tb
