#pragma once
// Plain structs the training loop reports with (no tensors): the GUI worker, the CLI progress
// bar and the run recorder all consume these.

#include <cstdint>
#include <string>

namespace tb {

/// Memory at a step. CUDA fields stay 0 on CPU.
struct MemoryStats {
  int64_t rss_bytes = 0;             // resident set of the process now
  int64_t peak_rss_bytes = 0;        // highest resident set so far (VmHWM)
  int64_t weight_bytes = 0;          // parameters of the model (all, trainable or not)
  int64_t gradient_bytes = 0;        // gradients of the trainable parameters
  int64_t optimizer_bytes = 0;       // optimizer state (AdamW: 2 × trainable)
  int64_t cuda_allocated_bytes = 0;  // CUDA caching allocator: in use
  int64_t cuda_reserved_bytes = 0;   // CUDA caching allocator: reserved
  int64_t cuda_peak_bytes = 0;       // CUDA caching allocator: peak in use
};

/// One optimizer step.
struct StepMetrics {
  int64_t step = 0;               // optimizer steps done (1 = first update)
  int64_t total_steps = 0;        // steps of the whole run
  double epoch = 0;               // fractional epochs done
  int64_t tokens = 0;             // non-padding tokens seen so far
  int64_t samples = 0;            // examples seen so far
  double loss = 0;                // mean training loss of this step's micro-batches
  double lr = 0;                  // learning rate used for this update
  double grad_norm = 0;           // gradient L2 norm before clipping
  double tokens_per_second = 0;   // throughput over the last step
  double samples_per_second = 0;  // throughput over the last step
  double elapsed_seconds = 0;     // since this run (or resume) started
  double step_seconds = 0;        // wall time of this step
  double compute_seconds = 0;     // of which forward + backward + optimizer update
  double eta_seconds = 0;         // estimate of the time left
  MemoryStats memory;             // memory now
};

/// One evaluation pass.
struct EvalMetrics {
  int64_t step = 0;         // optimizer step it followed
  double epoch = 0;         // fractional epoch
  double loss = 0;          // mean loss over the eval set
  double perplexity = 0;    // exp(loss) for language modelling, else 0
  double accuracy = -1;     // classification only, else -1
  double macro_f1 = -1;     // classification only, else -1
  double exact_match = -1;  // generated answers equal to the reference (predict_with_generate)
  int64_t examples = 0;     // examples evaluated
  double seconds = 0;       // time the pass took
};

/// A checkpoint written to disk.
struct CheckpointInfo {
  int64_t step = 0;   // optimizer step it holds
  std::string path;   // the checkpoint-<step> folder
  int64_t bytes = 0;  // size on disk
};

/// How a run ended.
enum class TrainOutcome { kCompleted, kStopped };

/// What Trainer::run returns.
struct TrainResult {
  TrainOutcome outcome = TrainOutcome::kCompleted;  // finished or stopped on request
  int64_t steps = 0;                                // optimizer steps done in total
  double final_loss = 0;                            // loss of the last step
  std::string last_checkpoint;                      // newest checkpoint folder ("" = none)
};

}  // namespace tb
