#include "core/methods/prefix.h"

#include "core/models/wrapping_model.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/methods/lora.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

// Per-layer key/value geometry of the wrapped model.
struct PrefixShape {
  int64_t layers = 0;    // transformer layers
  int64_t kv_heads = 0;  // key/value heads (< query heads for GQA)
  int64_t head_dim = 0;  // width per head
  int64_t hidden = 0;    // model width (input of the projection MLP)
  int64_t width() const { return layers * 2 * kv_heads * head_dim; }
};

PrefixShape prefix_shape(const LanguageModel& model) {
  const nlohmann::json config = model.config_json();
  const auto size = [&](const char* key, int64_t fallback) {
    const auto found = config.find(key);
    return found != config.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
  };
  PrefixShape shape;
  shape.layers = size("num_hidden_layers", 0);
  shape.hidden = size("hidden_size", 0);
  const int64_t heads = size("num_attention_heads", 0);
  shape.kv_heads = size("num_key_value_heads", heads);
  shape.head_dim = size("head_dim", heads > 0 ? shape.hidden / heads : 0);
  if (shape.layers <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0) {
    throw make_error("config.json of " + model.architecture() +
                         " lacks num_hidden_layers / num_attention_heads / hidden_size",
                     "ptuning", "P-tuning v2 needs the layer and head sizes of the model.");
  }
  return shape;
}

// The wrapped model with the prefix encoder next to it. The inner model's children are
// registered directly here so every parameter keeps its transformers name.
class PrefixModel final : public WrappingModel {
 public:
  PrefixModel(std::shared_ptr<LanguageModel> inner, PrefixShape shape, int64_t length,
              bool projection, int64_t projection_size, uint64_t seed)
      : WrappingModel(std::move(inner)), shape_(shape), length_(length) {
    for (const auto& child : inner_->named_children()) register_module(child.key(), child.value());
    for (const auto& item : inner_->named_parameters(/*recurse=*/false)) {
      register_parameter(item.key(), item.value(), item.value().requires_grad());
    }
    auto encoder = register_module("prefix_encoder", std::make_shared<torch::nn::Module>());
    const auto generator = at::detail::createCPUGenerator(seed);
    const auto options = inner_->parameters().front().options();
    // nn.Embedding's N(0,1) initialisation, as PEFT's PrefixEncoder uses.
    const int64_t embedding_width = projection ? shape_.hidden : shape_.width();
    auto embedding = encoder->register_module("embedding", std::make_shared<torch::nn::Module>());
    embedding_ = embedding->register_parameter(
        "weight", torch::randn({length_, embedding_width}, generator, torch::kFloat32).to(options));
    if (projection) {
      auto transform = encoder->register_module("transform", torch::nn::Sequential());
      transform->push_back(torch::nn::Linear(shape_.hidden, projection_size));
      transform->push_back(torch::nn::Tanh());
      transform->push_back(torch::nn::Linear(projection_size, shape_.width()));
      transform->to(options.device(), options.dtype().toScalarType());
      transform_ = transform;
    }
  }

  // [length, layers·2·kv_heads·head_dim]: what PEFT saves as prompt_embeddings.
  torch::Tensor prompt_embeddings() {
    return transform_ ? transform_->forward(embedding_) : embedding_;
  }

  ModelOutput forward(const ModelBatch& batch, KvCache* cache) override {
    KvCache local;
    KvCache* target = cache ? cache : &local;
    ModelBatch extended = batch;
    if (target->length() == 0) {  // a non-empty cache already starts with the prefix
      const int64_t size = batch.input_ids.size(0);
      const torch::Tensor prompt =
          prompt_embeddings()
              .view({length_, shape_.layers * 2, shape_.kv_heads, shape_.head_dim})
              .permute({1, 2, 0, 3});  // [layers·2, kv_heads, length, head_dim]
      for (int64_t layer = 0; layer < shape_.layers; ++layer) {
        const auto expand = [&](int64_t index) {
          return prompt[index].unsqueeze(0).expand(
              {size, shape_.kv_heads, length_, shape_.head_dim});
        };
        target->append(size_t(layer), expand(2 * layer), expand(2 * layer + 1));
      }
      if (batch.attention_mask.defined()) {
        extended.attention_mask = torch::cat(
            {torch::ones({size, length_}, batch.attention_mask.options()), batch.attention_mask},
            1);
      }
    } else if (batch.attention_mask.defined() && batch.attention_mask.size(1) + length_ ==
                                                     target->length() + batch.input_ids.size(1)) {
      extended.attention_mask = torch::cat(
          {torch::ones({batch.input_ids.size(0), length_}, batch.attention_mask.options()),
           batch.attention_mask},
          1);
    }
    return inner_->forward(extended, target);
  }

  const PrefixShape& shape() const { return shape_; }

 private:
  PrefixShape shape_;
  int64_t length_;
  torch::Tensor embedding_;
  torch::nn::Sequential transform_{nullptr};
};

class PrefixMethod final : public AppliedMethod {
 public:
  PrefixMethod(std::shared_ptr<PrefixModel> model, const RunConfig& config)
      : AppliedMethod(model), prefix_(std::move(model)), config_(config) {
    for (auto& item : prefix_->named_parameters()) {
      const std::string& name = item.key();
      bool trains = name.rfind("prefix_encoder.", 0) == 0;
      // As PEFT does for SEQ_CLS, the (freshly initialised) classification head trains too.
      if (prefix_->task() == ModelTask::kSequenceClassification) {
        trains |= name.rfind("classifier.", 0) == 0 || name.rfind("score.", 0) == 0;
      }
      item.value().set_requires_grad(trains);
    }
  }

  std::string name() const override { return "ptuning"; }

  std::vector<NamedParameter> saved_state() const override {
    torch::NoGradGuard no_grad;
    std::vector<NamedParameter> state = {{"prompt_embeddings", prefix_->prompt_embeddings()}};
    for (const auto& [name, tensor] : trainable()) {
      if (name.rfind("prefix_encoder.", 0) != 0) state.emplace_back("base_model." + name, tensor);
    }
    return state;
  }

  void save(const std::filesystem::path& folder) const override {
    const PrefixShape& shape = prefix_->shape();
    const std::string task = peft_task_type(*prefix_);
    std::set<std::string> heads;  // modules trained fully next to the prefix
    for (const auto& [name, tensor] : trainable()) {
      if (name.rfind("prefix_encoder.", 0) != 0) heads.insert(name.substr(0, name.find('.')));
    }
    const nlohmann::json modules_to_save =
        heads.empty() ? nlohmann::json(nullptr)
                      : nlohmann::json(std::vector<std::string>(heads.begin(), heads.end()));
    const nlohmann::json adapter_config = {
        {"auto_mapping", nullptr},
        {"base_model_name_or_path", config_.model.model_name_or_path},
        {"encoder_hidden_size", config_.method.prefix_hidden_size},
        {"inference_mode", true},
        {"modules_to_save", modules_to_save},
        {"num_attention_heads", shape.kv_heads},
        {"num_layers", shape.layers},
        {"num_transformer_submodules", 1},
        {"num_virtual_tokens", config_.method.pre_seq_len},
        {"peft_type", "PREFIX_TUNING"},
        {"prefix_projection", config_.method.prefix_projection},
        {"revision", nullptr},
        {"task_type", task.empty() ? nlohmann::json(nullptr) : nlohmann::json(task)},
        {"token_dim", shape.kv_heads * shape.head_dim}};
    std::filesystem::create_directories(folder);
    write_file_atomic(folder / "adapter_config.json", adapter_config.dump(2) + "\n");
    save_safetensors(folder / "adapter_model.safetensors", saved_state());
  }

 private:
  std::shared_ptr<PrefixModel> prefix_;
  RunConfig config_;
};

}  // namespace

std::unique_ptr<AppliedMethod> apply_prefix(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config) {
  const MethodSettings& m = config.method;
  if (m.pre_seq_len < 1) {
    throw make_error("pre_seq_len " + std::to_string(m.pre_seq_len) + " must be at least 1",
                     "pre_seq_len", "Use e.g. 16 virtual tokens.");
  }
  if (m.prefix_projection && m.prefix_hidden_size < 1) {
    throw make_error("prefix_hidden_size must be positive with prefix_projection",
                     "prefix_hidden_size", "Use e.g. 512.");
  }
  const PrefixShape shape = prefix_shape(*model);
  auto prefix = std::make_shared<PrefixModel>(std::move(model), shape, m.pre_seq_len,
                                              m.prefix_projection, m.prefix_hidden_size,
                                              static_cast<uint64_t>(config.training.seed));
  return std::make_unique<PrefixMethod>(std::move(prefix), config);
}

}  // namespace tb
