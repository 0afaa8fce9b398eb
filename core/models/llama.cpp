#include "core/models/llama.h"

#include <cmath>

#include "core/io/hf_folder.h"
#include "core/models/heads.h"
#include "core/nn/linear.h"
#include "core/nn/mlp.h"
#include "core/nn/rms_norm.h"
#include "core/util/error.h"

namespace tb {
using nlohmann::json;

namespace {

std::string family_prefix(const std::string& model_type) {
  if (model_type == "mistral") return "Mistral";
  if (model_type == "qwen2") return "Qwen2";
  if (model_type == "qwen3") return "Qwen3";
  return "Llama";
}

std::string architecture_for(const std::string& model_type, ModelTask task) {
  const std::string prefix = family_prefix(model_type);
  if (task == ModelTask::kBase) return prefix + "Model";
  if (task == ModelTask::kSequenceClassification) return prefix + "ForSequenceClassification";
  return prefix + "ForCausalLM";
}

RopeScaling parse_rope_scaling(const json& config, const std::string& where) {
  RopeScaling scaling;
  const auto found = config.find("rope_scaling");
  if (found == config.end() || found->is_null()) return scaling;
  if (!found->is_object()) {
    throw make_error("field \"rope_scaling\" must be an object or null", where);
  }
  scaling.type =
      config_string(*found, "rope_type", config_string(*found, "type", "default", where), where);
  scaling.factor = config_double(*found, "factor", 1.0, where);
  scaling.low_freq_factor = config_double(*found, "low_freq_factor", 1.0, where);
  scaling.high_freq_factor = config_double(*found, "high_freq_factor", 4.0, where);
  scaling.original_max_position_embeddings =
      config_int(*found, "original_max_position_embeddings", 0, where);
  return scaling;
}

// --- modules -------------------------------------------------------------------------------

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const LlamaConfig& config, size_t layer) : config_(config), layer_(layer) {
    const bool qkv_bias = config.attention_bias || config.qkv_bias;
    const auto linear = [](int64_t in, int64_t out, bool bias) {
      return Linear(torch::nn::LinearOptions(in, out).bias(bias));
    };
    const int64_t q_width = config.num_attention_heads * config.head_dim;
    const int64_t kv_width = config.num_key_value_heads * config.head_dim;
    q_proj = register_module("q_proj", linear(config.hidden_size, q_width, qkv_bias));
    k_proj = register_module("k_proj", linear(config.hidden_size, kv_width, qkv_bias));
    v_proj = register_module("v_proj", linear(config.hidden_size, kv_width, qkv_bias));
    o_proj = register_module("o_proj", linear(q_width, config.hidden_size, config.attention_bias));
    if (config.qk_norm) {
      q_norm = register_module("q_norm",
                               RmsNorm(RmsNormOptions(config.head_dim).eps(config.rms_norm_eps)));
      k_norm = register_module("k_norm",
                               RmsNorm(RmsNormOptions(config.head_dim).eps(config.rms_norm_eps)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, KvCache* cache) {
    const int64_t batch = x.size(0), length = x.size(1), dim = config_.head_dim;
    torch::Tensor q = q_proj(x).view({batch, length, -1, dim});
    torch::Tensor k = k_proj(x).view({batch, length, -1, dim});
    const torch::Tensor v = v_proj(x).view({batch, length, -1, dim}).transpose(1, 2);
    if (config_.qk_norm) q = q_norm(q), k = k_norm(k);
    q = apply_rotary(q.transpose(1, 2), cos, sin);
    k = apply_rotary(k.transpose(1, 2), cos, sin);
    torch::Tensor keys = k, values = v;
    if (cache) std::tie(keys, values) = cache->append(layer_, k, v);
    const torch::Tensor out = attention(q, keys, values, mask, 1.0 / std::sqrt(double(dim)),
                                        config_.attention_dropout, is_training());
    return o_proj(out.transpose(1, 2).reshape({batch, length, -1}));
  }

  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RmsNorm q_norm{nullptr}, k_norm{nullptr};

 private:
  LlamaConfig config_;
  size_t layer_;
};
TORCH_MODULE(LlamaAttention);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  LlamaDecoderLayerImpl(const LlamaConfig& config, size_t layer) {
    self_attn = register_module("self_attn", LlamaAttention(config, layer));
    mlp = register_module("mlp",
                          GatedMlp(GatedMlpOptions(config.hidden_size, config.intermediate_size)
                                       .bias(config.mlp_bias)
                                       .act(config.hidden_act)));
    const auto norm = RmsNormOptions(config.hidden_size).eps(config.rms_norm_eps);
    input_layernorm = register_module("input_layernorm", RmsNorm(norm));
    post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(norm));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, KvCache* cache) {
    const torch::Tensor h = x + self_attn(input_layernorm(x), cos, sin, mask, cache);
    return h + mlp(post_attention_layernorm(h));
  }

  LlamaAttention self_attn{nullptr};
  GatedMlp mlp{nullptr};
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// The backbone's children are registered on whichever module owns them: on the task model
// under "model" (LlamaForCausalLM) or directly on the root (LlamaModel), so names match.
struct LlamaBackbone {
  torch::nn::Embedding embed_tokens{nullptr};
  std::vector<LlamaDecoderLayer> layers;
  RmsNorm norm{nullptr};

  LlamaBackbone(const LlamaConfig& config, torch::nn::Module& owner) {
    embed_tokens = owner.register_module(
        "embed_tokens", torch::nn::Embedding(token_embedding_options(
                            config.vocab_size, config.hidden_size, config.pad_token_id)));
    torch::nn::ModuleList list;
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
      layers.push_back(LlamaDecoderLayer(config, size_t(i)));
      list->push_back(layers.back());
    }
    owner.register_module("layers", list);
    norm = owner.register_module(
        "norm", RmsNorm(RmsNormOptions(config.hidden_size).eps(config.rms_norm_eps)));
  }
};

class LlamaLm : public LanguageModel {
 public:
  LlamaLm(LlamaConfig config, ModelTask task)
      : config_(std::move(config)),
        task_(task),
        rotary_(RotaryOptions{config_.head_dim, config_.rope_theta, config_.max_position_embeddings,
                              config_.rope_scaling}) {
    if (task_ == ModelTask::kBase) {
      backbone_ = std::make_unique<LlamaBackbone>(config_, *this);
    } else {
      auto model = register_module("model", std::make_shared<torch::nn::Module>());
      backbone_ = std::make_unique<LlamaBackbone>(config_, *model);
    }
    if (task_ == ModelTask::kCausalLm && !config_.tie_word_embeddings) {
      lm_head_ = register_module(
          "lm_head",
          Linear(torch::nn::LinearOptions(config_.hidden_size, config_.vocab_size).bias(false)));
    }
    if (task_ == ModelTask::kSequenceClassification) {
      score_ = register_module(
          "score",
          Linear(torch::nn::LinearOptions(config_.hidden_size, config_.num_labels).bias(false)));
    }
  }

  ModelOutput forward(const ModelBatch& batch, KvCache* cache) override {
    const torch::Tensor& ids = batch.input_ids;
    if (!ids.defined() || ids.dim() != 2) {
      throw make_error("input_ids must be a [batch, length] tensor", architecture());
    }
    const int64_t size = ids.size(0), length = ids.size(1);
    const int64_t past = cache ? cache->length() : 0;
    if (batch.attention_mask.defined() &&
        (batch.attention_mask.dim() != 2 || batch.attention_mask.size(1) != past + length)) {
      throw make_error("attention_mask must be [batch, " + std::to_string(past + length) +
                           "] (cached + new positions)",
                       architecture());
    }
    torch::Tensor hidden = backbone_->embed_tokens(ids.to(torch::kInt64));
    const torch::ScalarType dtype = hidden.scalar_type();
    const torch::Device device = hidden.device();
    const torch::Tensor positions =
        batch.position_ids.defined()
            ? batch.position_ids.to(device)
            : default_position_ids(batch.attention_mask, size, length, past, device);
    const auto [cos, sin] = rotary_.cos_sin(positions, dtype);
    // A single new token without padding may see everything: no mask needed.
    torch::Tensor full_mask, window_mask;
    if (length > 1 || batch.attention_mask.defined()) {
      full_mask = causal_mask(batch.attention_mask, size, length, past, dtype, device);
    }
    if (config_.sliding_window > 0) {
      window_mask = causal_mask(batch.attention_mask, size, length, past, dtype, device,
                                config_.sliding_window);
    }
    for (size_t i = 0; i < backbone_->layers.size(); ++i) {
      const bool windowed = config_.sliding_window > 0 && int64_t(i) >= config_.max_window_layers;
      hidden = backbone_->layers[i](hidden, cos, sin, windowed ? window_mask : full_mask, cache);
    }
    hidden = backbone_->norm(hidden);

    ModelOutput output;
    output.hidden = hidden;
    if (task_ == ModelTask::kBase) {
      output.logits = hidden;
    } else if (task_ == ModelTask::kCausalLm) {
      output.logits =
          lm_head_ ? lm_head_(hidden) : tb::linear(hidden, backbone_->embed_tokens->weight);
      if (batch.labels.defined()) output.loss = causal_lm_loss(output.logits, batch.labels);
    } else {
      const torch::Tensor last = last_token_index(ids, batch.attention_mask, config_.pad_token_id);
      output.logits = score_(gather_positions(hidden, last));
      if (batch.labels.defined()) output.loss = classification_loss(output.logits, batch.labels);
    }
    return output;
  }

  std::string model_type() const override { return config_.model_type; }
  std::string architecture() const override { return architecture_for(config_.model_type, task_); }
  ModelTask task() const override { return task_; }
  bool is_decoder() const override { return true; }
  std::string base_prefix() const override { return "model"; }
  std::vector<std::string> head_prefixes() const override {
    return task_ == ModelTask::kSequenceClassification ? std::vector<std::string>{"score."}
                                                       : std::vector<std::string>{};
  }
  bool ignores_tensor(const std::string& name) const override {
    // Old checkpoints saved the rotary table; tied checkpoints may repeat the embedding.
    if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
    return name == "lm_head.weight" && config_.tie_word_embeddings;
  }
  json config_json() const override { return llama_config_to_json(config_, architecture()); }
  double initializer_range() const override { return config_.initializer_range; }
  int64_t vocab_size() const override { return config_.vocab_size; }

 private:
  LlamaConfig config_;
  ModelTask task_;
  Rotary rotary_;
  std::unique_ptr<LlamaBackbone> backbone_;
  Linear lm_head_{nullptr};
  Linear score_{nullptr};
};

}  // namespace

LlamaConfig llama_config_from_json(const json& raw, const std::string& where) {
  LlamaConfig c;
  c.raw = raw;
  c.model_type = config_string(raw, "model_type", "llama", where);
  const bool qwen = c.model_type == "qwen2" || c.model_type == "qwen3";
  const bool mistral = c.model_type == "mistral";
  c.vocab_size = config_int(raw, "vocab_size", qwen ? 151936 : 32000, where);
  c.hidden_size = config_int(raw, "hidden_size", 4096, where);
  c.intermediate_size = config_int(raw, "intermediate_size",
                                   qwen      ? 22016
                                   : mistral ? 14336
                                             : 11008,
                                   where);
  c.num_hidden_layers = config_int(raw, "num_hidden_layers", 32, where);
  c.num_attention_heads = config_int(raw, "num_attention_heads", 32, where);
  c.num_key_value_heads =
      config_int(raw, "num_key_value_heads", mistral ? 8 : c.num_attention_heads, where);
  if (c.num_attention_heads <= 0 || c.hidden_size <= 0) {
    throw make_error("hidden_size and num_attention_heads must be positive", where);
  }
  const bool explicit_head_dim = raw.contains("head_dim") && !raw["head_dim"].is_null();
  if (!explicit_head_dim && c.hidden_size % c.num_attention_heads) {
    throw make_error("hidden_size " + std::to_string(c.hidden_size) +
                         " is not divisible by num_attention_heads " +
                         std::to_string(c.num_attention_heads),
                     where, "Set head_dim explicitly or fix the sizes.");
  }
  c.head_dim = config_int(raw, "head_dim", c.hidden_size / c.num_attention_heads, where);
  c.hidden_act = config_string(raw, "hidden_act", "silu", where);
  c.max_position_embeddings = config_int(raw, "max_position_embeddings",
                                         qwen      ? 32768
                                         : mistral ? 4096 * 32
                                                   : 2048,
                                         where);
  c.rms_norm_eps = config_double(raw, "rms_norm_eps", 1e-6, where);
  c.rope_theta = config_double(raw, "rope_theta", 10000.0, where);
  c.rope_scaling = parse_rope_scaling(raw, where);
  c.tie_word_embeddings = config_bool(raw, "tie_word_embeddings", false, where);
  c.attention_bias = config_bool(raw, "attention_bias", false, where);
  c.qkv_bias = c.model_type == "qwen2";
  c.mlp_bias = config_bool(raw, "mlp_bias", false, where);
  c.qk_norm = c.model_type == "qwen3";
  if (mistral) {
    c.sliding_window =
        config_int(raw, "sliding_window", raw.contains("sliding_window") ? 0 : 4096, where);
  } else if (qwen && config_bool(raw, "use_sliding_window", false, where)) {
    c.sliding_window = config_int(raw, "sliding_window", 4096, where);
    c.max_window_layers = config_int(raw, "max_window_layers", 28, where);
  }
  c.attention_dropout = config_double(raw, "attention_dropout", 0.0, where);
  c.initializer_range = config_double(raw, "initializer_range", 0.02, where);
  c.num_labels = config_num_labels(raw, where);
  c.pad_token_id = config_int(raw, "pad_token_id", -1, where);

  if (c.vocab_size <= 0 || c.num_hidden_layers < 0 || c.intermediate_size <= 0 || c.head_dim <= 0 ||
      c.head_dim % 2 || c.num_key_value_heads <= 0 ||
      c.num_attention_heads % c.num_key_value_heads) {
    throw make_error("inconsistent sizes (vocab " + std::to_string(c.vocab_size) + ", heads " +
                         std::to_string(c.num_attention_heads) + ", kv heads " +
                         std::to_string(c.num_key_value_heads) + ", head_dim " +
                         std::to_string(c.head_dim) + ")",
                     where,
                     "Sizes must be positive, head_dim even, and num_attention_heads a multiple "
                     "of num_key_value_heads.");
  }
  check_activation(c.hidden_act, where);
  return c;
}

json llama_config_to_json(const LlamaConfig& c, const std::string& architecture) {
  json out = c.raw.is_object() ? c.raw : json::object();
  out["architectures"] = {architecture};
  out["model_type"] = c.model_type;
  out["vocab_size"] = c.vocab_size;
  out["hidden_size"] = c.hidden_size;
  out["intermediate_size"] = c.intermediate_size;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_attention_heads"] = c.num_attention_heads;
  out["num_key_value_heads"] = c.num_key_value_heads;
  out["head_dim"] = c.head_dim;
  out["hidden_act"] = c.hidden_act;
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type != "default") {
    out["rope_scaling"] = {{"rope_type", c.rope_scaling.type},
                           {"factor", c.rope_scaling.factor},
                           {"low_freq_factor", c.rope_scaling.low_freq_factor},
                           {"high_freq_factor", c.rope_scaling.high_freq_factor}};
    if (c.rope_scaling.original_max_position_embeddings > 0) {
      out["rope_scaling"]["original_max_position_embeddings"] =
          c.rope_scaling.original_max_position_embeddings;
    }
  } else {
    out["rope_scaling"] = nullptr;
  }
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.model_type == "llama" || c.model_type == "qwen3") {
    out["attention_bias"] = c.attention_bias;
  }
  if (c.model_type == "llama") out["mlp_bias"] = c.mlp_bias;
  if (c.model_type == "mistral") {
    out["sliding_window"] = c.sliding_window > 0 ? json(c.sliding_window) : json(nullptr);
  }
  out["attention_dropout"] = c.attention_dropout;
  out["initializer_range"] = c.initializer_range;
  if (architecture.find("ForSequenceClassification") != std::string::npos) {
    set_num_labels(out, c.num_labels);
  }
  if (c.pad_token_id >= 0) out["pad_token_id"] = c.pad_token_id;
  return out;
}

std::shared_ptr<LanguageModel> build_llama(const json& config, ModelTask task,
                                           const std::string& where) {
  if (task == ModelTask::kMaskedLm) {
    throw make_error("Llama-family models are decoders and have no masked-LM head", where,
                     "Use the causal_lm or sequence_classification task.");
  }
  return std::make_shared<LlamaLm>(llama_config_from_json(config, where), task);
}

}  // namespace tb
