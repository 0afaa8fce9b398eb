#include "core/config/config_fields.h"

#include <variant>

namespace tb {

const std::vector<std::pair<std::string, std::string>>& ignored_config_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = {
      {"trust_remote_code",
       "tunebench never runs code from a model folder; supported architectures are built in"},
      {"do_train", "tunebench-cli train always trains; use `tunebench-cli eval` to only evaluate"},
      {"do_eval", "evaluation follows eval_strategy"},
      {"do_predict", "prediction is not part of a training run"},
      {"overwrite_cache", "tunebench keeps no tokenised cache between runs"},
      {"preprocessing_num_workers", "tokenisation uses every core automatically"},
      {"dataloader_num_workers", "data loading uses every core automatically"},
      {"plot_loss", "loss curves are always kept in the run history and shown live"},
      {"report_to", "metrics go to tunebench's run history"},
      {"logging_dir", "logs go to the run history and output_dir"},
      {"flash_attn", "attention kernels are chosen automatically"},
      {"quantization_method", "4-bit NF4 quantization is built in (bitsandbytes is not needed)"},
      {"ddp_find_unused_parameters", "unused parameters are handled automatically"},
      {"save_only_model", "checkpoints always include what exact resume needs"},
      {"upcast_layernorm", "norms already run in fp32"},
      {"max_length", "use cutoff_len (tokens per example)"},
  };
  return keys;
}

const std::vector<std::pair<std::string, std::string>>& config_key_aliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {
      {"evaluation_strategy", "eval_strategy"},  // transformers < 4.41
      {"chat_template", "template"},
      {"lora_r", "lora_rank"},                   // PEFT's name
      {"modules_to_save", "additional_target"},  // PEFT's name
  };
  return aliases;
}

std::vector<std::string> all_config_keys() {
  std::vector<std::string> keys;
  RunConfig config;
  visit_fields(config, [&](const auto&, const FieldMeta& meta) { keys.push_back(meta.key); });
  for (const auto& [key, reason] : ignored_config_keys()) keys.push_back(key);
  for (const auto& [alias, key] : config_key_aliases()) keys.push_back(alias);
  return keys;
}

std::string effective_task(const RunConfig& config) {
  if (!config.task.task.empty()) return config.task.task;
  return config.task.stage == "pt" ? "lm" : "sft";
}

double effective_lora_alpha(const RunConfig& config) {
  return config.method.lora_alpha > 0 ? config.method.lora_alpha
                                      : 2.0 * static_cast<double>(config.method.lora_rank);
}

bool operator==(const RunConfig& a, const RunConfig& b) {
  using FieldRef = std::variant<const std::string*, const int64_t*, const double*, const bool*,
                                const std::vector<std::string>*>;
  std::vector<FieldRef> left, right;
  visit_fields(a, [&](const auto& member, const FieldMeta&) { left.emplace_back(&member); });
  visit_fields(b, [&](const auto& member, const FieldMeta&) { right.emplace_back(&member); });
  for (size_t i = 0; i < left.size(); ++i) {
    const bool same =
        std::visit([&](auto* lhs) { return *lhs == *std::get<decltype(lhs)>(right[i]); }, left[i]);
    if (!same) return false;
  }
  return true;
}

}  // namespace tb
