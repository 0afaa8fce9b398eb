#include "core/methods/lora.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/methods/lora_linear.h"
#include "core/methods/nf4.h"
#include "core/nn/linear.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {

// Modules that produce the model's output: LoRA's all/all-linear leaves them alone, as
// LLaMA-Factory and PEFT do.
bool is_output_head(const std::string& path) {
  return path == "lm_head" || path == "score" || path == "classifier" || path.rfind("cls.", 0) == 0;
}

// PEFT's rule: a target names the module itself or the end of its dotted path.
bool matches_target(const std::string& path, const std::string& target) {
  return path == target || (path.size() > target.size() &&
                            path.compare(path.size() - target.size(), target.size(), target) == 0 &&
                            path[path.size() - target.size() - 1] == '.');
}

std::string last_component(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

class LoraAdapter final : public LinearAdapter {
 public:
  LoraAdapter(LinearImpl& layer, int64_t rank, double scale, double dropout, uint64_t seed,
              bool quantize, bool double_quantization, bool dora)
      : scale_(scale), dropout_(dropout) {
    const int64_t in = layer.weight.size(1), out = layer.weight.size(0);
    const auto options = layer.weight.options().requires_grad(false);
    if (quantize) {
      quantized_ = std::make_unique<Nf4Tensor>(nf4_quantize(layer.weight, double_quantization));
      base_elements_ = layer.weight.numel();
      // The full-precision weight is released: only the NF4 copy remains.
      layer.weight.set_data(torch::empty({0}, options));
    }
    if (rank == 0) return;  // QLoRA's quantised layers without a LoRA target
    lora_a = layer.register_module(
        "lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, rank).bias(false)));
    lora_b = layer.register_module(
        "lora_B", torch::nn::Linear(torch::nn::LinearOptions(rank, out).bias(false)));
    torch::NoGradGuard no_grad;
    // kaiming_uniform_(a=√5) has bound 1/√in; drawn from our own generator so runs repeat.
    const double bound = 1.0 / std::sqrt(double(in));
    lora_a->weight.copy_(
        torch::rand({rank, in}, at::detail::createCPUGenerator(seed), torch::kFloat32) * 2 * bound -
        bound);
    lora_a->weight.set_data(lora_a->weight.to(options.device(), options.dtype()));
    lora_b->weight.set_data(torch::zeros({out, rank}, options));
    if (dora) {
      // DoRA's magnitude starts as the row norms of the (dequantised) base weight.
      auto holder =
          layer.register_module("lora_magnitude_vector", std::make_shared<torch::nn::Module>());
      magnitude_ = holder->register_parameter(
          "weight", base_weight(layer).norm(2, 1).to(options.dtype()), false);
    }
  }

  torch::Tensor forward(LinearImpl& layer, const torch::Tensor& x) override {
    const bool drop = layer.is_training() && dropout_ > 0;
    if (!merged_ && lora_a && !magnitude_.defined()) {
      const LoraBaseWeight base{quantized_ ? torch::Tensor() : layer.weight, quantized_.get()};
      if (merged_lora_linear_applies(x, base, layer.bias, lora_a->weight, lora_b->weight, drop)) {
        return merged_lora_linear(x, base, layer.bias, lora_a->weight, lora_b->weight, scale_);
      }
      if (x.dim() >= 2 && x.scalar_type() == lora_a->weight.scalar_type()) {
        return fused_forward(layer, x);
      }
    }
    const torch::Tensor base =
        quantized_ ? nf4_linear(x, *quantized_, layer.bias) : layer.base_forward(x);
    if (merged_ || !lora_a) return base;
    const torch::Tensor input = torch::dropout(x, dropout_, drop);
    const torch::Tensor lora =
        lora_b(lora_a(input.to(lora_a->weight.scalar_type()))).to(base.scalar_type()) * scale_;
    if (!magnitude_.defined()) return base + lora;
    // DoRA as PEFT computes it: m / ‖W + s·B·A‖ per output row, the norm detached (DoRA §4.3),
    // applied to the base and LoRA outputs: base + (f - 1)·W·x' + f·s·B·A·x'.
    torch::Tensor norm;
    {
      torch::NoGradGuard no_grad;
      norm = (base_weight(layer) + delta()).norm(2, 1);
    }
    const torch::Tensor factor = (magnitude_.to(torch::kFloat32) / norm).to(base.scalar_type());
    torch::Tensor plain = base;
    if (drop || layer.bias.defined()) {
      plain = quantized_ ? nf4_linear(input, *quantized_, torch::Tensor())
                         : torch::nn::functional::linear(input, layer.weight);
    }
    return base + (factor - 1) * plain + factor * lora;
  }

  // base + scale·(A·x)·Bᵀ with the second LoRA product accumulated into the base output by one
  // GEMM (addmm_, beta 1): no scaled copy of the LoRA output and no separate add, forward or
  // backward (with dropout or in bf16/fp16, where the folded form does not apply). On 2-D views so
  // the in-place update is on a fresh tensor nothing saved for backward (not on a view).
  torch::Tensor fused_forward(LinearImpl& layer, const torch::Tensor& x) {
    const torch::Tensor flat = x.reshape({-1, x.size(-1)});
    torch::Tensor out =
        quantized_ ? nf4_linear(flat, *quantized_, layer.bias) : layer.base_forward(flat);
    const bool drop = layer.is_training() && dropout_ > 0;
    const torch::Tensor hidden = lora_a(torch::dropout(flat, dropout_, drop));
    out.addmm_(hidden, lora_b->weight.t(), 1.0, scale_);
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = out.size(1);
    return out.view(sizes);
  }

  // B·A·scale in fp32, the update merge() adds to the base weight.
  torch::Tensor delta() const {
    return torch::matmul(lora_b->weight.to(torch::kFloat32), lora_a->weight.to(torch::kFloat32)) *
           scale_;
  }

  // The merged weight, and what unmerge needs to undo it: W' = f·(W + ΔW) with DoRA's row
  // factor f (1 without DoRA).
  torch::Tensor merged_weight(const torch::Tensor& weight) {
    const torch::Tensor updated = weight.to(torch::kFloat32) + delta();
    if (!magnitude_.defined()) return updated;
    merge_factor_ = (magnitude_.to(torch::kFloat32) / updated.norm(2, 1)).unsqueeze(1);
    return updated * merge_factor_;
  }
  torch::Tensor unmerged_weight(const torch::Tensor& weight) const {
    const torch::Tensor updated = magnitude_.defined() ? weight.to(torch::kFloat32) / merge_factor_
                                                       : weight.to(torch::kFloat32);
    return updated - delta();
  }

  // Replaces the NF4 copy by its dequantised weight (QLoRA before a merge): the layer then
  // computes exactly what it computed in training, in full precision.
  void dequantize_base(LinearImpl& layer) {
    if (!quantized_) return;
    torch::NoGradGuard no_grad;
    layer.weight.set_data(
        nf4_dequantize(*quantized_, layer.weight.scalar_type()).to(layer.weight.device()));
    quantized_.reset();
  }

  torch::nn::Linear lora_a{nullptr}, lora_b{nullptr};
  torch::Tensor magnitude_;  // DoRA magnitude [out], else undefined
  bool merged_ = false;
  int64_t base_elements_ = 0;             // elements of the quantised weight (QLoRA)
  std::unique_ptr<Nf4Tensor> quantized_;  // NF4 base weight (QLoRA), else null

 private:
  // The base weight in fp32 (dequantised for QLoRA).
  torch::Tensor base_weight(const LinearImpl& layer) const {
    return quantized_ ? nf4_dequantize(*quantized_, torch::kFloat32)
                      : layer.weight.to(torch::kFloat32);
  }

  double scale_;
  double dropout_;
  torch::Tensor merge_factor_;  // DoRA's f at merge time, [out,1]
};

class LoraMethod final : public AppliedMethod {
 public:
  LoraMethod(std::shared_ptr<LanguageModel> model, const RunConfig& config)
      : AppliedMethod(std::move(model)), config_(config) {
    const MethodSettings& m = config.method;
    if (m.lora_rank <= 0) {
      throw make_error("lora_rank " + std::to_string(m.lora_rank) + " must be positive",
                       "lora_rank", "Use e.g. 8.");
    }
    const bool quantize = m.quantization_bit == 4;
    if (m.quantization_bit != 0 && !quantize) {
      throw make_error(
          "quantization_bit " + std::to_string(m.quantization_bit) + " is not supported",
          "quantization_bit", "Use 4 (NF4, QLoRA) or 0.");
    }

    // modules_to_save: additional_target plus, as PEFT does for SEQ_CLS, the classifier.
    std::vector<std::string> save_names = m.additional_target;
    if (model_->task() == ModelTask::kSequenceClassification) {
      for (const char* head : {"classifier", "score"}) {
        if (std::find(save_names.begin(), save_names.end(), head) == save_names.end()) {
          save_names.push_back(head);
        }
      }
    }

    std::vector<std::pair<std::string, LinearImpl*>> linears;
    for (const auto& item : model_->named_modules("", /*include_self=*/false)) {
      if (auto* linear = item.value()->as<LinearImpl>()) linears.emplace_back(item.key(), linear);
    }
    const bool all = std::find_if(m.lora_target.begin(), m.lora_target.end(), [](auto& t) {
                       return t == "all" || t == "all-linear";
                     }) != m.lora_target.end();
    std::set<std::string> names;
    for (const auto& [path, linear] : linears) names.insert(last_component(path));
    std::vector<std::pair<std::string, LinearImpl*>> targets, quantized_only;
    for (const auto& [path, linear] : linears) {
      bool hit = all && !is_output_head(path);
      bool kept = is_output_head(path);  // QLoRA keeps the output head in full precision
      for (const std::string& target : m.lora_target) hit |= matches_target(path, target);
      for (const std::string& saved : save_names) {
        hit &= !matches_target(path, saved);
        kept |= matches_target(path, saved);
      }
      if (hit) {
        targets.emplace_back(path, linear);
      } else if (quantize && !kept) {
        quantized_only.emplace_back(path, linear);
      }
    }
    for (const std::string& target : m.lora_target) {
      if (target == "all" || target == "all-linear") continue;
      const bool found = std::any_of(targets.begin(), targets.end(), [&](const auto& t) {
        return matches_target(t.first, target);
      });
      if (!found) {
        throw make_error(
            "lora_target '" + target + "' matches no linear module of " + model_->architecture(),
            "lora_target",
            "Use all, or names of: " +
                join(std::vector<std::string>(names.begin(), names.end()), ", ") + ".");
      }
    }

    for (const auto& item : linears) {
      if (item.second->adapter) {
        throw make_error("the model already has a LoRA/QLoRA adapter", item.first,
                         "Apply lora once per loaded model (load the model again for a new run).");
      }
    }

    // Checks are done: from here on the model changes.
    set_requires_grad(*model_, false);
    const double alpha = effective_lora_alpha(config);
    const double scale =
        m.use_rslora ? alpha / std::sqrt(double(m.lora_rank)) : alpha / double(m.lora_rank);
    uint64_t seed = static_cast<uint64_t>(config.training.seed);
    for (const auto& [path, linear] : targets) {
      auto adapter =
          std::make_shared<LoraAdapter>(*linear, m.lora_rank, scale, m.lora_dropout, seed++,
                                        quantize, m.double_quantization, m.use_dora);
      linear->adapter = adapter;
      adapters_.emplace_back(path, adapter);
      target_names_.insert(last_component(path));
    }
    // As bitsandbytes' 4-bit loading, QLoRA quantises every linear layer but the heads.
    for (const auto& [path, linear] : quantized_only) {
      auto adapter = std::make_shared<LoraAdapter>(*linear, 0, 0.0, 0.0, 0, true,
                                                   m.double_quantization, false);
      linear->adapter = adapter;
      quantized_only_.emplace_back(path, adapter);
    }

    // Everything below a modules_to_save name trains fully.
    for (auto& item : model_->named_parameters()) {
      for (const std::string& saved : save_names) {
        const std::string module = item.key().substr(0, item.key().rfind('.'));
        bool below = false;
        for (std::string path = module; !path.empty();
             path = path.find('.') == std::string::npos ? "" : path.substr(0, path.rfind('.'))) {
          below |= matches_target(path, saved);
        }
        if (below) {
          item.value().set_requires_grad(true);
          saved_modules_.insert(saved);
        }
      }
    }
    for (const auto& [path, adapter] : adapters_) {
      adapter->lora_a->weight.set_requires_grad(true);
      adapter->lora_b->weight.set_requires_grad(true);
      if (adapter->magnitude_.defined()) adapter->magnitude_.set_requires_grad(true);
    }
  }

  std::string name() const override { return "lora"; }

  TrainableReport report() const override {
    TrainableReport report = count_parameters(*model_);
    // A quantised weight is no parameter any more; count its logical size (until a merge).
    for (auto* layers : {&adapters_, &quantized_only_}) {
      for (const auto& item : *layers) {
        if (item.second->quantized_) report.total += item.second->base_elements_;
      }
    }
    return report;
  }

  std::vector<NamedParameter> saved_state() const override {
    std::vector<NamedParameter> state;
    for (const auto& [name, tensor] : trainable()) {
      state.emplace_back("base_model.model." + name, tensor.detach());
    }
    return state;
  }

  void save(const std::filesystem::path& folder) const override {
    const MethodSettings& m = config_.method;
    nlohmann::json modules_to_save = nullptr;
    if (!saved_modules_.empty()) {
      modules_to_save = std::vector<std::string>(saved_modules_.begin(), saved_modules_.end());
    }
    const std::string task = peft_task_type(*model_);
    const nlohmann::json adapter_config = {
        {"alpha_pattern", nlohmann::json::object()},
        {"auto_mapping", nullptr},
        {"base_model_name_or_path", config_.model.model_name_or_path},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"inference_mode", true},
        {"init_lora_weights", true},
        {"layer_replication", nullptr},
        {"layers_pattern", nullptr},
        {"layers_to_transform", nullptr},
        {"loftq_config", nlohmann::json::object()},
        {"lora_alpha", effective_lora_alpha(config_)},
        {"lora_dropout", m.lora_dropout},
        {"megatron_config", nullptr},
        {"megatron_core", "megatron.core"},
        {"modules_to_save", modules_to_save},
        {"peft_type", "LORA"},
        {"r", m.lora_rank},
        {"rank_pattern", nlohmann::json::object()},
        {"revision", nullptr},
        {"target_modules", std::vector<std::string>(target_names_.begin(), target_names_.end())},
        {"task_type", task.empty() ? nlohmann::json(nullptr) : nlohmann::json(task)},
        {"use_dora", m.use_dora},
        {"use_rslora", m.use_rslora}};
    std::filesystem::create_directories(folder);
    write_file_atomic(folder / "adapter_config.json", adapter_config.dump(2) + "\n");
    save_safetensors(folder / "adapter_model.safetensors", saved_state());
  }

  bool can_merge() const override { return true; }

  // QLoRA: the NF4 bases are dequantised first (the merged model then computes what the
  // trained one did); unmerge() restores the dequantised weights, not the NF4 copies.
  void merge() override {
    for (auto* layers : {&adapters_, &quantized_only_}) {
      for (auto& [path, adapter] : *layers) {
        adapter->dequantize_base(*model_->named_modules()[path]->as<LinearImpl>());
      }
    }
    fold(true);
  }
  void unmerge() override { fold(false); }

  MemoryEstimate estimate_memory(int64_t batch, int64_t length) const override {
    MemoryEstimate estimate = estimate_for(*model_, trainable(), batch, length);
    for (const auto& item : adapters_) {
      if (item.second->quantized_) estimate.weights += item.second->quantized_->bytes();
    }
    for (const auto& item : quantized_only_) {
      if (item.second->quantized_) estimate.weights += item.second->quantized_->bytes();
    }
    return estimate;
  }

 private:
  void fold(bool merging) {
    torch::NoGradGuard no_grad;
    for (auto& [path, adapter] : adapters_) {
      if (adapter->merged_ == merging) {
        throw make_error(std::string("the adapter is already ") + (merging ? "merged" : "unmerged"),
                         path, merging ? "Call unmerge() first." : "Call merge() first.");
      }
      auto* linear = model_->named_modules()[path]->as<LinearImpl>();
      const torch::Tensor weight = merging ? adapter->merged_weight(linear->weight)
                                           : adapter->unmerged_weight(linear->weight);
      linear->weight.copy_(weight.to(linear->weight.scalar_type()));
      adapter->merged_ = merging;
    }
  }

  RunConfig config_;
  std::vector<std::pair<std::string, std::shared_ptr<LoraAdapter>>> adapters_;
  std::vector<std::pair<std::string, std::shared_ptr<LoraAdapter>>>
      quantized_only_;                   // QLoRA layers without LoRA, by module path
  std::set<std::string> target_names_;   // last name component of each target (PEFT config)
  std::set<std::string> saved_modules_;  // modules_to_save that exist in the model
};

}  // namespace

std::string peft_task_type(const LanguageModel& model) {
  // A verbalizer classifies with a masked-LM head, which PEFT has no task type for.
  if (model.architecture().find("ForMaskedLM") != std::string::npos) return "";
  switch (model.task()) {
    case ModelTask::kCausalLm:
      return "CAUSAL_LM";
    case ModelTask::kSequenceClassification:
      return "SEQ_CLS";
    case ModelTask::kBase:
      return "FEATURE_EXTRACTION";
    case ModelTask::kMaskedLm:
      return "";
  }
  return "";
}

std::unique_ptr<AppliedMethod> apply_lora(std::shared_ptr<LanguageModel> model,
                                          const RunConfig& config) {
  return std::make_unique<LoraMethod>(std::move(model), config);
}

}  // namespace tb
