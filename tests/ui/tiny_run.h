#pragma once
// A real, tiny LoRA run on the bundled tiny-llama and the demo's mail instructions, recorded in
// the run history ($TB_DB): what the Export and Playground tests start from. Header-only.
#include <filesystem>
#include <string>

#include "core/config/config_yaml.h"
#include "core/train/run_job.h"

namespace tb::test {

/// Trains `steps` LoRA steps (r 4, all linear layers, lr 1e-2) into `root`/run; returns the
/// run id.
inline int64_t train_tiny_lora_run(const std::filesystem::path& root, const std::string& name,
                                   int steps) {
  const std::filesystem::path demo = std::filesystem::path(TB_SOURCE_DIR) / "resources/demo";
  const std::string yaml =
      "model_name_or_path: " + (demo / "models/tiny-llama").string() +
      "\nstage: sft\nfinetuning_type: lora\nlora_rank: 4\nlora_target: all\n"
      "dataset: " +
      (demo / "data/mail-instructions/train.jsonl").string() +
      "\ntemplate: alpaca\ncutoff_len: 96\nmax_samples: 64\nper_device_train_batch_size: 8\n"
      "learning_rate: 0.01\nmax_steps: " +
      std::to_string(steps) + "\nlogging_steps: 1\neval_strategy: \"no\"\nrun_name: " + name +
      "\noutput_dir: " + (root / "run").string() + "\n";
  const RunConfig config = load_config_string(yaml, "test.yaml", root).config;
  return run_job(config, {}, {}, nullptr).run_id;
}

}  // namespace tb::test
