#include "core/export/model_card.h"

#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config/config_fields.h"

namespace tb {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string number(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

std::string method_label(const RunConfig& c) {
  const MethodSettings& m = c.method;
  if (m.finetuning_type == "lora") return m.quantization_bit == 4 ? "QLoRA (NF4 base)" : "LoRA";
  if (m.finetuning_type == "ptuning") return "P-tuning v2";
  if (m.finetuning_type == "freeze") return "Freeze (partial fine-tuning)";
  return "full fine-tuning";
}

}  // namespace

std::string model_card_markdown(const ModelCardInputs& in) {
  const RunConfig& c = in.config;
  const MethodSettings& m = c.method;
  const std::string base = c.model.model_name_or_path;
  const std::string base_name = std::filesystem::path(base).filename().string();
  const bool adapter = in.format == "peft";
  std::ostringstream md;
  md << "---\n"
     << "base_model: " << nlohmann::json(base_name).dump() << "\n"
     << "library_name: " << (adapter ? "peft" : "transformers") << "\n"
     << "tags:\n  - tunebench\n  - " << m.finetuning_type << "\n  - " << effective_task(c) << "\n"
     << "---\n\n";
  const std::string title = in.run && !in.run->name.empty() ? in.run->name : base_name;
  md << "# " << title << "\n\n"
     << (adapter ? "A PEFT adapter" : "A Hugging Face model")
     << " trained with tunebench: " << method_label(c) << " of `" << base_name << "`, task `"
     << effective_task(c) << "`.\n\n";

  md << "## Training\n\n| | |\n|---|---|\n"
     << "| base model | `" << base << "` |\n"
     << "| method | " << method_label(c) << " |\n";
  if (!in.trainable_text.empty()) md << "| parameters | " << in.trainable_text << " |\n";
  md << "| data | `" << join(c.data.dataset, "`, `") << "` |\n";
  if (!c.data.eval_dataset.empty()) {
    md << "| eval data | `" << join(c.data.eval_dataset, "`, `") << "` |\n";
  }
  if (in.run && !in.run->subset.empty()) md << "| subset | " << in.run->subset << " |\n";
  if (c.data.max_samples > 0) md << "| max_samples | " << c.data.max_samples << " |\n";
  md << "| learning_rate | " << number(c.training.learning_rate) << " |\n"
     << (c.training.max_steps > 0
             ? "| max_steps | " + std::to_string(c.training.max_steps) + " |\n"
             : "| num_train_epochs | " + number(c.training.num_train_epochs) + " |\n")
     << "| per_device_train_batch_size | " << c.training.per_device_train_batch_size << " |\n"
     << "| gradient_accumulation_steps | " << c.training.gradient_accumulation_steps << " |\n"
     << "| lr_scheduler_type | " << c.training.lr_scheduler_type << " |\n"
     << "| warmup_ratio | " << number(c.training.warmup_ratio) << " |\n"
     << "| cutoff_len | " << c.data.cutoff_len << " |\n"
     << "| seed | " << c.training.seed << " |\n";
  if (m.finetuning_type == "lora") {
    md << "| lora_rank / lora_alpha / lora_dropout | " << m.lora_rank << " / "
       << number(effective_lora_alpha(c)) << " / " << number(m.lora_dropout) << " |\n"
       << "| lora_target | " << join(m.lora_target, ", ") << " |\n";
    if (m.use_rslora) md << "| use_rslora | true |\n";
    if (m.use_dora) md << "| use_dora | true |\n";
    if (m.quantization_bit == 4) {
      md << "| quantization | NF4" << (m.double_quantization ? ", double quantization" : "")
         << " |\n";
    }
  } else if (m.finetuning_type == "ptuning") {
    md << "| pre_seq_len | " << m.pre_seq_len << " |\n";
  } else if (m.finetuning_type == "freeze") {
    md << "| freeze_trainable_layers | " << m.freeze_trainable_layers << " |\n";
  }
  md << "\n";

  if (in.run) {
    const nlohmann::json summary = nlohmann::json::parse(
        in.run->summary_json.empty() ? "{}" : in.run->summary_json, nullptr, false);
    if (summary.is_object() && !summary.empty()) {
      md << "## Results\n\nStatus `" << to_string(in.run->status) << "` after step "
         << in.run->last_step << ".\n\n| metric | final value |\n|---|---|\n";
      for (const auto& [name, value] : summary.items()) {
        if (value.is_number()) md << "| " << name << " | " << number(value.get<double>()) << " |\n";
      }
      md << "\n";
    }
  }
  if (!in.plot_file.empty()) md << "## Loss\n\n![loss](" << in.plot_file << ")\n\n";

  md << "## Use\n\n";
  if (adapter) {
    md << "```python\nfrom peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n"
       << "base = AutoModelForCausalLM.from_pretrained(\"" << base << "\")\n"
       << "model = PeftModel.from_pretrained(base, \"<this folder>\")\n```\n\n"
       << "```sh\ntunebench-cli chat " << base << " --adapter <this folder>\n```\n";
  } else {
    md << "```python\nfrom transformers import AutoModel\n"
       << "model = AutoModel.from_pretrained(\"<this folder>\")\n```\n\n"
       << "```sh\ntunebench-cli export <this folder> --format gguf --dtype q8_0 --out model.gguf\n"
       << "```\n";
  }
  return md.str();
}

}  // namespace tb
