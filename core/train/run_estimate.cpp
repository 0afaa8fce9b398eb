#include "core/train/run_estimate.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "core/config/config_validation.h"
#include "core/train/lr_schedule.h"
#include "core/train/memory.h"
#include "core/train/reference_dump.h"
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

// What timing a method's steps measured: the reference dump's measurements (losses, step
// times, tokens, peak memory) plus the median step time.
struct TimedSteps {
  double seconds_per_step = 0;   // median after the warm-up step
  ReferenceRunResults measured;  // tokens_per_second is the median after the warm-up step
};

// Times `steps` real optimizer steps of `prepared` (throw-away: nothing saved or recorded).
TimedSteps time_steps(PreparedRun& prepared, const RunConfig& config, int64_t steps) {
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
  TimedSteps timed;
  ReferenceRunResults& measured = timed.measured;
  std::vector<double> seconds, tokens;
  TrainerCallbacks callbacks;
  callbacks.on_step = [&](const StepMetrics& m) {
    if (m.step > 1 || steps == 1) {
      seconds.push_back(m.step_seconds);
      tokens.push_back(m.tokens_per_second);
    }
    if (m.step == 1) measured.tokens_per_step = m.tokens;
    measured.losses.push_back(m.loss);
    measured.step_seconds.push_back(m.step_seconds);
    measured.peak_rss_bytes = std::max(measured.peak_rss_bytes, m.memory.peak_rss_bytes);
  };
  reset_peak_rss();
  try {
    train(job, callbacks, nullptr);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(scratch, ignored);
    throw;
  }
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  timed.seconds_per_step = median(seconds);
  measured.tokens_per_second = median(tokens);
  return timed;
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
    estimate.flops_per_token =
        training_flops_per_token(*prepared.model, config.data.cutoff_len) + 4.0 * quantized;
    const fs::path dump = options.dump_dir.empty() ? fs::path() : options.dump_dir / method;
    if (!dump.empty()) {
      write_reference_inputs(dump, config, *prepared.train, prepared.method->trainable(),
                             options.measure_steps);
    }
    if (options.measure_steps > 0) {
      TimedSteps timed = time_steps(prepared, config, options.measure_steps);
      ReferenceRunResults& measured = timed.measured;
      estimate.seconds_per_step = timed.seconds_per_step;
      estimate.tokens_per_second = measured.tokens_per_second;
      estimate.total_seconds = estimate.seconds_per_step * double(estimate.total_steps);
      estimate.losses = measured.losses;
      estimate.tokens_per_step = measured.tokens_per_step;
      estimate.peak_rss_bytes = measured.peak_rss_bytes;
      if (!dump.empty()) {
        measured.flops_per_token = estimate.flops_per_token;
        measured.matmul_gflops = options.matmul_gflops;
        measured.threads = at::get_num_threads();
        write_reference_results(dump, config, method, measured);
      }
    }
  } catch (const Error& e) {
    estimate.error = e.what();
  }
  return estimate;
}

}  // namespace

namespace {

// The transformer layer a parameter belongs to ("model.layers.3.…", "bert.encoder.layer.3.…"),
// or -1 for the embeddings, final norm, head and method tensors outside the layers.
int64_t layer_index(const std::string& name) {
  // The first ".layer.<n>." or ".layers.<n>.".
  for (auto found = find_numbered_component(name); found;
       found = find_numbered_component(name, found->end)) {
    const std::string_view before = std::string_view(name).substr(0, found->begin);
    const auto ends_with = [&](std::string_view suffix) {
      return before.size() >= suffix.size() &&
             before.substr(before.size() - suffix.size()) == suffix;
    };
    if ((ends_with(".layer.") || ends_with(".layers.")) && found->end < name.size()) {
      return found->number;
    }
  }
  return -1;
}

}  // namespace

double training_flops_per_token(const LanguageModel& model, int64_t sequence_length) {
  // Gradients flow back from the loss down to the lowest layer holding a trainable tensor; a
  // trainable tensor below every layer (embeddings, P-tuning's prefix) makes them flow through
  // all of them.
  const int64_t no_layer = std::numeric_limits<int64_t>::max();
  int64_t lowest = no_layer;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const std::string& name = item.key();
    const int64_t layer = layer_index(name);
    const bool below_layers =
        name.find("embed") != std::string::npos || name.find("prefix") != std::string::npos;
    if (layer >= 0) lowest = std::min(lowest, layer);
    if (layer < 0 && below_layers) lowest = 0;
  }
  const auto flows = [&](const std::string& name) {
    if (lowest == no_layer) return false;
    const int64_t layer = layer_index(name);
    return layer < 0 || layer >= lowest;  // outside the layers = the head, above them all
  };
  double forward = 0, input_gradients = 0, weight_gradients = 0;
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
    const double elements = double(weight.numel());
    forward += 2 * elements;
    if (flows(item.key())) input_gradients += 2 * elements;
    if (weight.requires_grad()) weight_gradients += 2 * elements;
  }
  // A head tied to the embeddings is still a matmul over the vocabulary.
  const bool lm_head = model.task() == ModelTask::kCausalLm || model.task() == ModelTask::kMaskedLm;
  if (lm_head && !head_counted) {
    const double elements = double(model.vocab_size()) * double(embedding_width);
    forward += 2 * elements;
    if (lowest != no_layer) input_gradients += 2 * elements;
  }
  double attention = 0;
  if (sequence_length > 0) {
    const nlohmann::json config = model.config_json();
    const int64_t layers = config.value("num_hidden_layers", int64_t{0});
    const int64_t heads = config.value("num_attention_heads", int64_t{1});
    const int64_t hidden = config.value("hidden_size", int64_t{0});
    const int64_t head_dim = config.contains("head_dim") && config["head_dim"].is_number_integer()
                                 ? config["head_dim"].get<int64_t>()
                                 : hidden / std::max<int64_t>(heads, 1);
    const int64_t flowing = lowest == no_layer ? 0 : std::max<int64_t>(layers - lowest, 0);
    const double per_layer = 4.0 * double(sequence_length) * double(heads * head_dim);
    attention = per_layer * double(layers) + 2 * per_layer * double(flowing);
  }
  return forward + input_gradients + weight_gradients + attention;
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
