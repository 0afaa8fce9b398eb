#pragma once
// Training checkpoints, named as transformers names them (output_dir/checkpoint-<step>/):
// trainable tensors, optimizer state and RNG state as safetensors, the step and data cursor as
// JSON. Written into a temp folder and renamed, so a crash never leaves half a checkpoint.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/train/optimizer.h"

namespace tb {

/// Where training stands; enough to continue exactly.
struct TrainerState {
  int64_t step = 0;         // optimizer steps done
  int64_t total_steps = 0;  // planned steps of the run
  int64_t epoch = 0;        // data cursor: epoch of the next batch
  int64_t batch = 0;        // data cursor: index of the next batch in that epoch
  int64_t tokens = 0;       // tokens seen
  int64_t samples = 0;      // examples seen
  double last_loss = 0;     // loss of the last step
  int64_t world_size = 1;   // processes that trained it (a resume needs as many)
};

/// Writes checkpoint-<state.step> under `output_dir`; `extra` may add files (e.g. the adapter
/// in PEFT layout) to the folder before it is published. Returns the final folder.
std::filesystem::path save_checkpoint(
    const std::filesystem::path& output_dir, const TrainerState& state,
    const std::vector<NamedParameter>& trainable, const Optimizer& optimizer,
    const std::function<void(const std::filesystem::path&)>& extra = {});

/// Restores parameters, optimizer and RNG from a checkpoint folder; returns its state.
/// tb::Error names the folder and the tensor when something does not fit.
TrainerState load_checkpoint(const std::filesystem::path& folder,
                             const std::vector<NamedParameter>& trainable, Optimizer& optimizer);

/// checkpoint-<step> folders under `output_dir`, oldest first.
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& output_dir);

/// Deletes all but the newest `keep` checkpoints (keep 0 = keep all).
void rotate_checkpoints(const std::filesystem::path& output_dir, int64_t keep);

}  // namespace tb
