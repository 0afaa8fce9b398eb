#include "core/train/run_estimate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

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

// Times `steps` real optimizer steps of `prepared` (throw-away: nothing saved or recorded).
double time_steps(PreparedRun& prepared, const RunConfig& config, int64_t steps) {
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
  std::vector<double> seconds;
  TrainerCallbacks callbacks;
  callbacks.on_step = [&](const StepMetrics& m) {
    if (m.step > 1 || steps == 1) seconds.push_back(m.step_seconds);
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
  if (seconds.empty()) return 0;
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
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
    if (options.measure_steps > 0) {
      estimate.seconds_per_step = time_steps(prepared, config, options.measure_steps);
      estimate.total_seconds = estimate.seconds_per_step * double(estimate.total_steps);
    }
  } catch (const Error& e) {
    estimate.error = e.what();
  }
  return estimate;
}

}  // namespace

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
