#pragma once
// One complete run as the user starts it: a row in the run history, preparation, training
// with every metric recorded, the final adapter/model saved, the outcome recorded. The CLI
// calls it on its main thread, the GUI on its worker thread.

#include <filesystem>
#include <functional>
#include <string>

#include "core/config/run_config.h"
#include "core/runs/run_store.h"
#include "core/train/trainer.h"

namespace tb {

/// How to run.
struct RunJobOptions {
  RunStoreOptions store;               // the run history (default: $TB_DB or the XDG data dir)
  int threads = 0;                     // intra-op threads for the run; 0 = the runtime's
  Distributed* distributed = nullptr;  // data parallel: the connected ranks (null = alone).
                                       // Rank 0 records the run and writes every file
};

/// What a finished (or stopped) run left behind.
struct RunJobResult {
  int64_t run_id = 0;          // id in the run history
  TrainResult train;           // steps, final loss, last checkpoint
  std::string output_dir;      // where the result was saved
  std::string trainable_text;  // PEFT-style trainable-parameter line
};

/// Runs `config` end to end. `on_prepared` (optional) sees the run id, output folder and
/// trainable-parameter line before the first step. Failures are recorded as `failed` and
/// rethrown.
RunJobResult run_job(const RunConfig& config, const RunJobOptions& options,
                     const TrainerCallbacks& callbacks, TrainerControl* control,
                     const std::function<void(const RunJobResult&)>& on_prepared = {});

/// The run name used when run_name is empty: "<method> <model folder> <data file>".
std::string default_run_name(const RunConfig& config);

}  // namespace tb
