#include "core/config/config_validation.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/config/config_fields.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Architectures whose attention takes P-tuning v2's per-layer key/value prefix.
const std::vector<std::string>& prefix_architectures() {
  static const std::vector<std::string> types = {"llama", "mistral", "qwen2", "qwen3", "bert"};
  return types;
}

// A mask token as tokenizer_config.json or tokenizer.json's added tokens declare it.
bool tokenizer_has_mask_token(const fs::path& folder) {
  try {
    if (fs::exists(folder / "tokenizer_config.json")) {
      const auto config = nlohmann::json::parse(read_file(folder / "tokenizer_config.json"));
      if (config.contains("mask_token") && !config["mask_token"].is_null()) return true;
    }
    if (fs::exists(folder / "tokenizer.json")) {
      const auto tokenizer = nlohmann::json::parse(read_file(folder / "tokenizer.json"));
      for (const auto& token : tokenizer.value("added_tokens", nlohmann::json::array())) {
        const std::string content = token.value("content", "");
        if (content == "[MASK]" || content == "<mask>") return true;
      }
    }
  } catch (const nlohmann::json::exception&) {
    return false;  // the model loader reports malformed tokenizer files precisely
  }
  return false;
}

}  // namespace

ValidationResult validate_config(const RunConfig& c) {
  ValidationResult r;
  auto error = [&r](const std::string& text) { r.errors.push_back(text); };
  if (c.model.model_name_or_path.empty()) {
    error("model_name_or_path is required: the Hugging Face model folder to fine-tune");
  }
  if (c.data.dataset.empty()) error("dataset is required: a data file or a dataset_info.json name");
  const std::string& method = c.method.finetuning_type;
  if (c.method.quantization_bit != 0 && c.method.quantization_bit != 4) {
    error("quantization_bit " + std::to_string(c.method.quantization_bit) +
          " is not supported: use 4 (NF4, QLoRA) or 0 (no quantization)");
  }
  if (c.method.quantization_bit == 4 && method != "lora") {
    error("quantization_bit 4 (QLoRA) needs finetuning_type: lora, not " + method +
          ": a 4-bit base cannot be trained directly");
  }
  if (method == "lora" && c.method.lora_target.empty()) {
    error("lora_target is empty: name the modules that get LoRA (e.g. q_proj,v_proj) or all");
  }
  if (method == "freeze" && c.method.freeze_trainable_layers == 0 &&
      c.method.freeze_extra_modules.empty()) {
    error("freeze_trainable_layers is 0 and freeze_extra_modules is empty: nothing would train");
  }
  if (c.training.bf16 && c.training.fp16) error("bf16 and fp16 are both true: choose one");
  if (c.training.warmup_steps > 0 && c.training.warmup_ratio > 0) {
    r.warnings.push_back("warmup_steps and warmup_ratio are both set: warmup_steps wins");
  }

  const std::string task = effective_task(c);
  if (c.task.stage == "pt" && task != "lm" && task != "mlm") {
    error("stage pt (pre-training) learns plain text; task " + task + " needs stage sft");
  }
  if (c.output.predict_with_generate && task != "sft") {
    r.warnings.push_back("predict_with_generate applies to task sft only; task " + task +
                         " evaluates without generating");
  }
  if (task == "verbalizer") {
    if (!contains(c.task.prompt_template, "{text}") ||
        !contains(c.task.prompt_template, "{mask}")) {
      error("prompt_template '" + c.task.prompt_template +
            "' must contain {text} and {mask}, e.g. '{text} It was {mask}'");
    }
    if (static_cast<int64_t>(c.task.label_words.size()) != c.task.num_labels) {
      error("label_words has " + std::to_string(c.task.label_words.size()) +
            " words but num_labels is " + std::to_string(c.task.num_labels) +
            ": give one word per class");
    }
  }
  if ((task == "classification" || task == "verbalizer") && !c.task.label_names.empty() &&
      static_cast<int64_t>(c.task.label_names.size()) != c.task.num_labels) {
    error("label_names has " + std::to_string(c.task.label_names.size()) +
          " names but num_labels is " + std::to_string(c.task.num_labels));
  }
  if (c.output.eval_strategy != "no" && c.data.eval_dataset.empty() && c.data.val_size <= 0) {
    error("eval_strategy " + c.output.eval_strategy +
          " needs evaluation data: set eval_dataset, or val_size to split some off");
  }
  if (c.data.val_size >= 1 &&
      c.data.val_size != static_cast<double>(static_cast<int64_t>(c.data.val_size))) {
    error("val_size " + std::to_string(c.data.val_size) +
          " is neither a fraction below 1 nor a whole number of rows");
  }
  return r;
}

void check_model_compatibility(const RunConfig& c, ValidationResult& r) {
  const fs::path folder = c.model.model_name_or_path;
  if (folder.empty() || !fs::exists(folder / "config.json")) return;
  std::string model_type;
  try {
    model_type = nlohmann::json::parse(read_file(folder / "config.json")).value("model_type", "");
  } catch (const nlohmann::json::exception&) {
    return;  // the model loader reports a malformed config.json with line and column
  }
  if (c.method.finetuning_type == "ptuning") {
    const auto& supported = prefix_architectures();
    if (std::find(supported.begin(), supported.end(), model_type) == supported.end()) {
      r.errors.push_back("finetuning_type ptuning (P-tuning v2) is not available for model_type '" +
                         model_type + "' of " + folder.string() + "; it works with " +
                         join(supported, ", ") + ". Use lora instead.");
    }
  }
  const std::string task = effective_task(c);
  if ((task == "verbalizer" || task == "mlm") && !tokenizer_has_mask_token(folder)) {
    r.errors.push_back("task " + task + " needs a mask token, but the tokenizer of " +
                       folder.string() + " (model_type '" + model_type +
                       "') has none; use a masked-language model (BERT-style) or task: "
                       "classification");
  }
}

void throw_if_invalid(const ValidationResult& result, const std::string& source) {
  if (result.errors.empty()) return;
  std::string message;
  for (const std::string& error : result.errors) message += source + ": " + error + "\n";
  message.pop_back();
  throw Error(message);
}

}  // namespace tb
