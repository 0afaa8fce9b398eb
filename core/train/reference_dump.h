#pragma once
// What an independent re-implementation of a training run needs to retrace it step by step:
// the exact batches the trainer reads, the trainable tensors as they start, the settings, and
// (afterwards) our per-step losses and speed. `tunebench-cli bench --dump DIR` writes it;
// tests/bench/eager_reference.py trains the same model in PyTorch eager from it and compares.
//
// Layout of DIR/<method>/:
//   batches.safetensors  "<step>.input_ids", "<step>.labels", and when the batch has them
//                        "<step>.attention_mask", "<step>.position_ids" (step from 0)
//   initial.safetensors  every trainable tensor before the first step, by parameter name
//   run.json             settings, then after training: losses, timings, FLOPs, peak memory

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/config/run_config.h"
#include "core/train/batch_source.h"
#include "core/train/optimizer.h"

namespace tb {

/// Measurements of our run that the reference compares against.
struct ReferenceRunResults {
  std::vector<double> losses;        // training loss per optimizer step
  std::vector<double> step_seconds;  // wall time per optimizer step
  int64_t tokens_per_step = 0;       // non-padding tokens of one optimizer step
  double tokens_per_second = 0;      // median over the timed steps
  double flops_per_token = 0;        // training FLOPs per token (run_estimate.h)
  double matmul_gflops = 0;          // this machine's fp32 matmul peak, measured in the same run
  int threads = 0;                   // intra-op threads both sides use
  int64_t peak_rss_bytes = 0;        // highest resident memory during our run
};

/// Writes batches.safetensors (the first `steps` × gradient_accumulation_steps batches, in the
/// order the trainer reads them) and initial.safetensors into `dir`
/// (created). Call before training. tb::Error when `dir` cannot be written.
void write_reference_inputs(const std::filesystem::path& dir, const RunConfig& config,
                            BatchSource& train, const std::vector<NamedParameter>& trainable,
                            int64_t steps);

/// Writes run.json: the settings of `config` the reference needs and `results`.
void write_reference_results(const std::filesystem::path& dir, const RunConfig& config,
                             const std::string& method, const ReferenceRunResults& results);

}  // namespace tb
