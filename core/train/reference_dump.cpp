#include "core/train/reference_dump.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "core/io/safetensors.h"
#include "core/util/atomic_file.h"

namespace tb {

namespace fs = std::filesystem;

void write_reference_inputs(const fs::path& dir, const RunConfig& config, BatchSource& train,
                            const std::vector<NamedParameter>& trainable, int64_t steps) {
  fs::create_directories(dir);
  std::vector<std::pair<std::string, torch::Tensor>> batches;
  const int64_t micro = steps * config.training.gradient_accumulation_steps;
  for (int64_t i = 0; i < micro; ++i) {
    // The trainer reads the batches of an epoch in order, then the next epoch's.
    const int64_t per_epoch = train.batches_per_epoch();
    const ModelBatch batch = train.batch(i / per_epoch, i % per_epoch);
    const std::string prefix = std::to_string(i) + ".";
    batches.emplace_back(prefix + "input_ids", batch.input_ids.contiguous());
    if (batch.labels.defined()) batches.emplace_back(prefix + "labels", batch.labels.contiguous());
    if (batch.attention_mask.defined()) {
      batches.emplace_back(prefix + "attention_mask", batch.attention_mask.contiguous());
    }
    if (batch.position_ids.defined()) {
      batches.emplace_back(prefix + "position_ids", batch.position_ids.contiguous());
    }
  }
  save_safetensors(dir / "batches.safetensors", batches);
  std::vector<std::pair<std::string, torch::Tensor>> initial;
  for (const NamedParameter& parameter : trainable) {
    initial.emplace_back(parameter.first,
                         parameter.second.detach().to(torch::kFloat32).contiguous());
  }
  save_safetensors(dir / "initial.safetensors", initial);
}

void write_reference_results(const fs::path& dir, const RunConfig& config,
                             const std::string& method, const ReferenceRunResults& results) {
  const TrainingSettings& t = config.training;
  const MethodSettings& m = config.method;
  const nlohmann::json run = {
      {"method", method},
      {"model", config.model.model_name_or_path},
      {"finetuning_type", m.finetuning_type},
      {"quantization_bit", m.quantization_bit},
      {"lora_rank", m.lora_rank},
      {"lora_alpha", effective_lora_alpha(config)},
      {"use_rslora", m.use_rslora},
      {"learning_rate", t.learning_rate},
      {"lr_scheduler_type", t.lr_scheduler_type},
      {"warmup_steps", t.warmup_steps},
      {"weight_decay", t.weight_decay},
      {"adam_beta1", t.adam_beta1},
      {"adam_beta2", t.adam_beta2},
      {"adam_epsilon", t.adam_epsilon},
      {"max_grad_norm", t.max_grad_norm},
      {"gradient_accumulation_steps", t.gradient_accumulation_steps},
      {"optim", t.optim},
      {"steps", results.losses.size()},
      {"losses", results.losses},
      {"step_seconds", results.step_seconds},
      {"tokens_per_step", results.tokens_per_step},
      {"tokens_per_second", results.tokens_per_second},
      {"flops_per_token", results.flops_per_token},
      {"matmul_gflops", results.matmul_gflops},
      {"threads", results.threads},
      {"peak_rss_bytes", results.peak_rss_bytes},
  };
  write_file_atomic(dir / "run.json", run.dump(2) + "\n");
}

}  // namespace tb
