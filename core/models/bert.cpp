#include "core/models/bert.h"

#include <cmath>

#include "core/io/hf_folder.h"
#include "core/models/heads.h"
#include "core/nn/linear.h"
#include "core/nn/mlp.h"
#include "core/util/error.h"

namespace tb {
using nlohmann::json;
namespace F = torch::nn::functional;

namespace {

using Container = std::shared_ptr<torch::nn::Module>;

Container child(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::LayerNorm layer_norm(torch::nn::Module& parent, const BertConfig& config) {
  return parent.register_module(
      "LayerNorm",
      torch::nn::LayerNorm(
          torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps)));
}

Linear linear(torch::nn::Module& parent, const std::string& name, int64_t in, int64_t out) {
  return parent.register_module(name, Linear(in, out));
}

// One encoder layer; the nesting mirrors transformers' BertLayer so names line up:
// attention.self.{query,key,value}, attention.output.{dense,LayerNorm}, intermediate.dense,
// output.{dense,LayerNorm}.
struct BertLayerParts {
  Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  Linear intermediate{nullptr}, output_dense{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};

  BertLayerParts(const BertConfig& c, torch::nn::Module& layer) {
    const Container attention = child(layer, "attention");
    const Container self = child(*attention, "self");
    query = linear(*self, "query", c.hidden_size, c.hidden_size);
    key = linear(*self, "key", c.hidden_size, c.hidden_size);
    value = linear(*self, "value", c.hidden_size, c.hidden_size);
    const Container attention_output = child(*attention, "output");
    attention_dense = linear(*attention_output, "dense", c.hidden_size, c.hidden_size);
    attention_norm = layer_norm(*attention_output, c);
    intermediate =
        linear(*child(layer, "intermediate"), "dense", c.hidden_size, c.intermediate_size);
    const Container output = child(layer, "output");
    output_dense = linear(*output, "dense", c.intermediate_size, c.hidden_size);
    output_norm = layer_norm(*output, c);
  }
};

class BertLm : public LanguageModel {
 public:
  BertLm(BertConfig config, ModelTask task) : config_(std::move(config)), task_(task) {
    torch::nn::Module& root = task_ == ModelTask::kBase ? *this : *child(*this, "bert");
    const BertConfig& c = config_;
    const Container embeddings = child(root, "embeddings");
    word_embeddings_ = embeddings->register_module(
        "word_embeddings",
        torch::nn::Embedding(token_embedding_options(c.vocab_size, c.hidden_size, c.pad_token_id)));
    position_embeddings_ = embeddings->register_module(
        "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
    token_type_embeddings_ = embeddings->register_module(
        "token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
    embedding_norm_ = layer_norm(*embeddings, c);
    const Container encoder = child(root, "encoder");
    torch::nn::ModuleList list;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      auto layer = std::make_shared<torch::nn::Module>();
      layers_.emplace_back(c, *layer);
      list->push_back(layer);
    }
    encoder->register_module("layer", list);
    if (task_ != ModelTask::kMaskedLm) {  // BertForMaskedLM is built without the pooler
      pooler_ = linear(*child(root, "pooler"), "dense", c.hidden_size, c.hidden_size);
    }
    if (task_ == ModelTask::kSequenceClassification) {
      classifier_ = linear(*this, "classifier", c.hidden_size, c.num_labels);
    }
    if (task_ == ModelTask::kMaskedLm) {
      mlm_ =
          register_module("cls", MaskedLmHead(MaskedLmHeadOptions{c.hidden_size, c.vocab_size,
                                                                  c.layer_norm_eps, c.hidden_act}));
    }
  }

  ModelOutput forward(const ModelBatch& batch, KvCache* cache) override {
    const torch::Tensor ids = batch.input_ids.to(torch::kInt64);
    if (!ids.defined() || ids.dim() != 2) {
      throw make_error("input_ids must be a [batch, length] tensor", architecture());
    }
    const int64_t length = ids.size(1);
    // A cache is a fixed key/value prefix (P-tuning v2); as in transformers, positions of the
    // tokens continue after it and the attention mask covers prefix + tokens.
    const int64_t past = cache ? cache->length() : 0;
    if (batch.attention_mask.defined() &&
        (batch.attention_mask.dim() != 2 || batch.attention_mask.size(1) != past + length)) {
      throw make_error(
          "attention_mask must be [batch, " + std::to_string(past + length) + "] (prefix + tokens)",
          architecture());
    }
    if (past + length > config_.max_position_embeddings) {
      throw make_error("sequence of " + std::to_string(past + length) +
                           " positions (prefix + tokens) is longer than " +
                           "max_position_embeddings " +
                           std::to_string(config_.max_position_embeddings),
                       architecture(), "Truncate the input (cutoff_len).");
    }
    const torch::Tensor positions =
        batch.position_ids.defined()
            ? batch.position_ids.to(ids.device())
            : torch::arange(past, past + length, ids.options()).unsqueeze(0).expand_as(ids);
    const torch::Tensor types = batch.token_type_ids.defined()
                                    ? batch.token_type_ids.to(ids.device()).to(torch::kInt64)
                                    : torch::zeros_like(ids);
    const bool training = is_training();
    torch::Tensor h =
        word_embeddings_(ids) + token_type_embeddings_(types) + position_embeddings_(positions);
    h = torch::dropout(embedding_norm_(h), config_.hidden_dropout_prob, training);
    const torch::Tensor mask =
        batch.attention_mask.defined()
            ? padding_mask(batch.attention_mask.to(ids.device()), h.scalar_type())
            : torch::Tensor();
    const int64_t heads = config_.num_attention_heads;
    const int64_t dim = config_.hidden_size / heads;
    const auto split = [&](const torch::Tensor& x) {
      return x.view({x.size(0), length, heads, dim}).transpose(1, 2);
    };
    for (size_t i = 0; i < layers_.size(); ++i) {
      BertLayerParts& layer = layers_[i];
      torch::Tensor keys = split(layer.key(h)), values = split(layer.value(h));
      if (cache) std::tie(keys, values) = cache->append(i, keys, values);
      const torch::Tensor context =
          attention(split(layer.query(h)), keys, values, mask, 1.0 / std::sqrt(double(dim)),
                    config_.attention_probs_dropout_prob, training)
              .transpose(1, 2)
              .reshape({h.size(0), length, config_.hidden_size});
      const torch::Tensor attended = layer.attention_norm(
          torch::dropout(layer.attention_dense(context), config_.hidden_dropout_prob, training) +
          h);
      const torch::Tensor inner = activation(config_.hidden_act, layer.intermediate(attended));
      h = layer.output_norm(
          torch::dropout(layer.output_dense(inner), config_.hidden_dropout_prob, training) +
          attended);
    }

    ModelOutput output;
    output.hidden = h;
    if (task_ == ModelTask::kMaskedLm) {
      output.logits = mlm_(h, word_embeddings_->weight);
      if (batch.labels.defined()) output.loss = masked_lm_loss(output.logits, batch.labels);
      return output;
    }
    const torch::Tensor pooled = torch::tanh(pooler_(h.select(1, 0)));
    if (task_ == ModelTask::kBase) {
      output.logits = h;
      return output;
    }
    const double dropout =
        config_.classifier_dropout >= 0 ? config_.classifier_dropout : config_.hidden_dropout_prob;
    output.logits = classifier_(torch::dropout(pooled, dropout, training));
    if (batch.labels.defined()) output.loss = classification_loss(output.logits, batch.labels);
    return output;
  }

  std::string model_type() const override { return "bert"; }
  std::string architecture() const override {
    if (task_ == ModelTask::kSequenceClassification) return "BertForSequenceClassification";
    if (task_ == ModelTask::kMaskedLm) return "BertForMaskedLM";
    return "BertModel";
  }
  ModelTask task() const override { return task_; }
  bool is_decoder() const override { return false; }
  std::string base_prefix() const override { return "bert"; }
  std::vector<std::string> head_prefixes() const override {
    if (task_ == ModelTask::kSequenceClassification) return {"classifier.", "bert.pooler."};
    if (task_ == ModelTask::kMaskedLm) return {"cls."};
    return {"pooler."};
  }
  bool ignores_tensor(const std::string& name) const override {
    // position_ids was a saved buffer in older transformers; the decoder is tied.
    return name.find("embeddings.position_ids") != std::string::npos ||
           (task_ == ModelTask::kMaskedLm &&
            (name == "cls.predictions.decoder.weight" || name == "cls.predictions.decoder.bias"));
  }
  json config_json() const override { return bert_config_to_json(config_, architecture()); }
  double initializer_range() const override { return config_.initializer_range; }
  int64_t vocab_size() const override { return config_.vocab_size; }

 private:
  BertConfig config_;
  ModelTask task_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr},
      token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embedding_norm_{nullptr};
  std::vector<BertLayerParts> layers_;
  Linear pooler_{nullptr}, classifier_{nullptr};
  MaskedLmHead mlm_{nullptr};
};

}  // namespace

BertConfig bert_config_from_json(const json& raw, const std::string& where) {
  BertConfig c;
  c.raw = raw;
  c.vocab_size = config_int(raw, "vocab_size", c.vocab_size, where);
  c.hidden_size = config_int(raw, "hidden_size", c.hidden_size, where);
  c.num_hidden_layers = config_int(raw, "num_hidden_layers", c.num_hidden_layers, where);
  c.num_attention_heads = config_int(raw, "num_attention_heads", c.num_attention_heads, where);
  c.intermediate_size = config_int(raw, "intermediate_size", c.intermediate_size, where);
  c.hidden_act = config_string(raw, "hidden_act", c.hidden_act, where);
  c.hidden_dropout_prob = config_double(raw, "hidden_dropout_prob", c.hidden_dropout_prob, where);
  c.attention_probs_dropout_prob =
      config_double(raw, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, where);
  c.classifier_dropout = config_double(raw, "classifier_dropout", -1, where);
  c.max_position_embeddings =
      config_int(raw, "max_position_embeddings", c.max_position_embeddings, where);
  c.type_vocab_size = config_int(raw, "type_vocab_size", c.type_vocab_size, where);
  c.initializer_range = config_double(raw, "initializer_range", c.initializer_range, where);
  c.layer_norm_eps = config_double(raw, "layer_norm_eps", c.layer_norm_eps, where);
  c.pad_token_id = config_int(raw, "pad_token_id", c.pad_token_id, where);
  c.num_labels = config_num_labels(raw, where);
  const std::string positions = config_string(raw, "position_embedding_type", "absolute", where);
  if (positions != "absolute") {
    throw make_error("position_embedding_type '" + positions + "' is not supported", where,
                     "Only BERT's absolute position embeddings are implemented.");
  }
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_attention_heads <= 0 ||
      c.hidden_size % c.num_attention_heads || c.intermediate_size <= 0 ||
      c.num_hidden_layers < 0 || c.max_position_embeddings <= 0 || c.type_vocab_size <= 0) {
    throw make_error("inconsistent sizes (hidden_size " + std::to_string(c.hidden_size) +
                         ", heads " + std::to_string(c.num_attention_heads) + ")",
                     where, "Sizes must be positive and hidden_size a multiple of the heads.");
  }
  check_activation(c.hidden_act, where);
  return c;
}

json bert_config_to_json(const BertConfig& c, const std::string& architecture) {
  json out = c.raw.is_object() ? c.raw : json::object();
  out["architectures"] = {architecture};
  out["model_type"] = "bert";
  out["vocab_size"] = c.vocab_size;
  out["hidden_size"] = c.hidden_size;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_attention_heads"] = c.num_attention_heads;
  out["intermediate_size"] = c.intermediate_size;
  out["hidden_act"] = c.hidden_act;
  out["hidden_dropout_prob"] = c.hidden_dropout_prob;
  out["attention_probs_dropout_prob"] = c.attention_probs_dropout_prob;
  out["classifier_dropout"] = c.classifier_dropout >= 0 ? json(c.classifier_dropout) : json();
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["type_vocab_size"] = c.type_vocab_size;
  out["initializer_range"] = c.initializer_range;
  out["layer_norm_eps"] = c.layer_norm_eps;
  out["pad_token_id"] = c.pad_token_id;
  out["position_embedding_type"] = "absolute";
  if (architecture == "BertForSequenceClassification") set_num_labels(out, c.num_labels);
  return out;
}

std::shared_ptr<LanguageModel> build_bert(const json& config, ModelTask task,
                                          const std::string& where) {
  if (task == ModelTask::kCausalLm) {
    throw make_error("BERT is an encoder and cannot be a causal LM", where,
                     "Use the sequence_classification or masked_lm task.");
  }
  return std::make_shared<BertLm>(bert_config_from_json(config, where), task);
}

}  // namespace tb
