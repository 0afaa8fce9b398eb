#include "core/train/run_estimate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <tuple>

#include "core/config/config_validation.h"
#include "core/train/lr_schedule.h"
#include "core/train/run_setup.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace fs = std::filesystem;

std::vector<std::string> estimable_methods() {
  return {"full", "freeze", "lora", "qlora", "ptuning"};
}

RunConfig config_for_method(const RunConfig& config, const std::string& method) {
  const auto methods = estimable_methods();
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    throw make_error("unknown method '" + method + "'", "estimate",
                     "Use one of " + join(methods, ", ") + ".");
  }
  RunConfig out = config;
  out.method.finetuning_type = method == "qlora" ? "lora" : method;
  out.method.quantization_bit = method == "qlora" ? 4 : 0;
  return out;
}

namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Times `steps` real optimizer steps of `prepared` (throw-away: nothing saved or recorded);
// returns the median seconds per step and tokens per second after the warm-up step.
std::pair<double, double> time_steps(PreparedRun& prepared, const RunConfig& config,
                                     int64_t steps) {
  const fs::path scratch =
      fs::temp_directory_path() / ("tunebench-estimate-" + std::to_string(std::random_device{}()));
  TrainingJob job;
  job.model = prepared.model.get();
  job.trainable = prepared.method->trainable();
  job.train = prepared.train.get();
  job.training = config.training;
  job.training.max_steps = steps;
  job.output = config.output;
  job.output.output_dir = scratch.string();
  job.output.eval_strategy = "no";
  job.output.eval_on_start = false;
  job.output.save_strategy = "no";
  job.output.resume_from_checkpoint.clear();
  std::vector<double> seconds, tokens;
  TrainerCallbacks callbacks;
  callbacks.on_step = [&](const StepMetrics& m) {
    if (m.step > 1 || steps == 1) {
      seconds.push_back(m.step_seconds);
      tokens.push_back(m.tokens_per_second);
    }
  };
  try {
    train(job, callbacks, nullptr);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(scratch, ignored);
    throw;
  }
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  return {median(seconds), median(tokens)};
}

MethodEstimate estimate_one(const RunConfig& base, const std::string& method,
                            const EstimateOptions& options) {
  MethodEstimate estimate;
  estimate.method = method;
  const RunConfig config = config_for_method(base, method);
  ValidationResult validation = validate_config(config);
  check_model_compatibility(config, validation);
  if (!validation.errors.empty()) {
    estimate.error = validation.errors.front();
    return estimate;
  }
  try {
    PreparedRun prepared = prepare_run(config);
    estimate.parameters = prepared.method->report();
    estimate.memory = prepared.method->estimate_memory(config.training.per_device_train_batch_size,
                                                       config.data.cutoff_len);
    const StepPlan plan =
        plan_steps(prepared.train->batches_per_epoch(), config.training.gradient_accumulation_steps,
                   config.training.num_train_epochs, config.training.max_steps,
                   config.training.warmup_steps, config.training.warmup_ratio);
    estimate.total_steps = plan.total_steps;
    // NF4 base weights (QLoRA) live outside the module's parameters but are still multiplied
    // (dequantised on the fly): the method's report counts them, the module does not.
    double module_elements = 0;
    for (const auto& item : prepared.model->named_parameters()) {
      module_elements += double(item.value().numel());
    }
    const double quantized = std::max(0.0, double(estimate.parameters.total) - module_elements);
    estimate.flops_per_token = training_flops_per_token(*prepared.model) + 4.0 * quantized;
    if (options.measure_steps > 0) {
      std::tie(estimate.seconds_per_step, estimate.tokens_per_second) =
          time_steps(prepared, config, options.measure_steps);
      estimate.total_seconds = estimate.seconds_per_step * double(estimate.total_steps);
    }
  } catch (const Error& e) {
    estimate.error = e.what();
  }
  return estimate;
}

}  // namespace

double training_flops_per_token(const LanguageModel& model) {
  double matmul = 0, trainable = 0;
  bool head_counted = false;
  int64_t embedding_width = 0;
  for (const auto& item : model.named_parameters()) {
    const torch::Tensor& weight = item.value();
    if (weight.dim() != 2) continue;  // biases and norms: no matmul
    // Embedding tables are looked up, not multiplied.
    if (item.key().find("embed") != std::string::npos) {
      if (weight.size(0) == model.vocab_size()) embedding_width = weight.size(1);
      continue;
    }
    if (weight.size(0) == model.vocab_size()) head_counted = true;
    matmul += double(weight.numel());
    if (weight.requires_grad()) trainable += double(weight.numel());
  }
  // A head tied to the embeddings is still a matmul over the vocabulary.
  const bool lm_head = model.task() == ModelTask::kCausalLm || model.task() == ModelTask::kMaskedLm;
  if (lm_head && !head_counted) matmul += double(model.vocab_size()) * double(embedding_width);
  return 4.0 * matmul + 2.0 * trainable;
}

std::vector<MethodEstimate> estimate_methods(const RunConfig& config,
                                             const EstimateOptions& options) {
  std::vector<std::string> methods = options.methods;
  if (methods.empty()) {
    methods = {config.method.quantization_bit == 4 ? std::string("qlora")
                                                   : config.method.finetuning_type};
  }
  std::vector<MethodEstimate> estimates;
  for (const std::string& method : methods) {
    estimates.push_back(estimate_one(config, method, options));
  }
  return estimates;
}

}  // namespace tb
