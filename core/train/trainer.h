#pragma once
// The training loop: runs on the calling thread (the GUI's worker thread or the CLI's main
// thread), reports plain structs through callbacks, and obeys stop / pause / checkpoint
// requests made from other threads through TrainerControl.

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/models/model.h"
#include "core/train/batch_source.h"
#include "core/train/distributed.h"
#include "core/train/optimizer.h"
#include "core/train/train_types.h"

namespace tb {

/// Where the loop reports to; every callback is optional.
struct TrainerCallbacks {
  std::function<void(const StepMetrics&)> on_step;  // after every optimizer step
  std::function<void(const EvalMetrics&)> on_eval;  // after every evaluation
  std::function<void(const std::string& level, const std::string& message)> on_event;  // log
  std::function<void(const CheckpointInfo&)> on_checkpoint;  // after a checkpoint is on disk
};

/// Requests from other threads, read between steps (at most one step of delay).
struct TrainerControl {
  std::atomic<bool> stop{false};            // checkpoint, then return kStopped
  std::atomic<bool> pause{false};           // sleep (no CPU) until cleared or stopped
  std::atomic<bool> checkpoint_now{false};  // checkpoint at the end of the next step
};

/// Everything one training run needs.
struct TrainingJob {
  LanguageModel* model = nullptr;         // the (method-wrapped) model; required
  std::vector<NamedParameter> trainable;  // what the optimizer updates; required
  BatchSource* train = nullptr;           // training batches; required
  BatchSource* eval = nullptr;            // evaluation batches; null = no evaluation
  TrainingSettings training;              // optimiser, schedule, precision, seed
  OutputSettings output;                  // logging, eval/save strategy, output_dir, resume
  bool skip_nonfinite_steps = false;      // false: NaN/Inf stops the run with an error
  std::function<void(const std::filesystem::path&)> save_extra;  // adds files to checkpoints
  std::function<void(EvalMetrics&)> extra_eval;  // adds metrics to each evaluation (generation)
  int threads = 0;                               // intra-op threads for this run; 0 = the runtime's
  Distributed* distributed = nullptr;  // the other ranks of a data-parallel run; null = alone.
                                       // `train` then holds this rank's share of each batch
};

/// Runs a job to completion, to a stop request, or to an error (tb::Error).
TrainResult train(const TrainingJob& job, const TrainerCallbacks& callbacks = {},
                  TrainerControl* control = nullptr);

/// Evaluates `model` on every batch of `source` (no gradients, eval mode).
EvalMetrics evaluate(LanguageModel& model, BatchSource& source);

}  // namespace tb
