#pragma once
// Memory and time a config needs, per fine-tuning method, before the run starts: memory from
// the applied method's accounting (weights, gradients, AdamW states, activations), time by
// timing a few real optimizer steps on this machine and scaling to the run's step count.
// Shown by `tunebench-cli estimate` and the GUI's New run page.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/methods/method.h"

namespace tb {

/// The method variants an estimate compares ("qlora" = lora with 4-bit NF4 base).
std::vector<std::string> estimable_methods();

/// What to estimate.
struct EstimateOptions {
  std::vector<std::string> methods;  // empty: the config's own method only
  int64_t measure_steps = 3;         // real steps timed per method (the first is warm-up);
                                     // 0: memory only
  std::filesystem::path dump_dir;    // set: per method, what an independent implementation
                                     // needs to retrace the timed steps (reference_dump.h)
  double matmul_gflops = 0;          // the machine's measured peak, recorded in the dump
};

/// One method's estimate.
struct MethodEstimate {
  std::string method;            // one of estimable_methods()
  std::string error;             // "" = runs; else why this config cannot use the method
  TrainableReport parameters;    // trainable / total
  MemoryEstimate memory;         // at per_device_train_batch_size × cutoff_len
  int64_t total_steps = 0;       // optimizer steps of the whole run
  double seconds_per_step = 0;   // median of the timed steps after the first; 0 = not timed
  double total_seconds = 0;      // seconds_per_step × total_steps
  double tokens_per_second = 0;  // median over the timed steps (non-padding tokens)
  double flops_per_token = 0;    // training FLOPs per token (see training_flops_per_token)
  std::vector<double> losses;    // training loss of every timed step (the first included)
  int64_t tokens_per_step = 0;   // non-padding tokens of the first timed step
  int64_t peak_rss_bytes = 0;    // highest resident memory while this method trained
};

/// Training FLOPs per token the method really computes: forward 2·N; input gradients 2·N' where
/// N' are the matmul parameters gradients flow back through (every layer from the lowest one
/// holding a trainable tensor up, plus the head; all of N unless Freeze keeps lower layers
/// frozen); weight gradients 2·T for the trainable matmul parameters T. N counts matmul
/// parameters (embedding lookups excluded, a tied or untied output head included); full
/// fine-tuning is the familiar 6·N. With `sequence_length` > 0 attention's score and value
/// products are added: 4·T·d per layer forward, twice that backward where gradients flow
/// (d = heads × head width; the full T×T square, as the masked kernels compute it).
double training_flops_per_token(const LanguageModel& model, int64_t sequence_length = 0);

/// The config with `method` applied (finetuning_type and quantization_bit set).
RunConfig config_for_method(const RunConfig& config, const std::string& method);

/// Estimates each method (a method that cannot run gets `error`, the others still run).
/// Nothing is written to the run history; timing steps train a throw-away copy.
std::vector<MethodEstimate> estimate_methods(const RunConfig& config,
                                             const EstimateOptions& options);

}  // namespace tb
