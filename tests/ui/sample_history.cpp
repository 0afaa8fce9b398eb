#include "sample_history.h"

#include <cmath>
#include <random>
#include <string>

#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/runs/run_store.h"

namespace tb::test {

std::vector<int64_t> write_sample_history(const std::filesystem::path& db) {
  RunStoreOptions options;
  options.path = db;
  RunStore store(options);
  struct Method {
    const char* preset;
    const char* method;
    double floor;  // loss it converges to
    double speed;  // how fast
  };
  const Method methods[] = {{"A-full", "full", 0.08, 0.012},
                            {"A-lora", "lora", 0.16, 0.008},
                            {"A-ptuning-v2", "ptuning", 0.31, 0.004},
                            {"A-freeze", "freeze", 0.42, 0.006}};
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<int64_t> ids;
  for (const Method& m : methods) {
    NewRun run;
    run.name = std::string("recipe A ") + m.method;
    run.task = "classification";
    run.method = m.method;
    run.model_path = "resources/demo/models/tiny-bert";
    run.dataset = "resources/demo/data/spam/train.jsonl";
    run.subset = "train 4000 / eval 1000, seed 42";
    run.config_yaml = config_to_yaml(load_run_config(m.preset, {}).config);
    run.tags = {"recipe-a"};
    const int64_t id = store.create_run(run);
    store.mark_started(id);
    WriteBatch batch;
    const int64_t steps = 1500;
    for (int64_t step = 1; step <= steps; ++step) {
      const double clean = m.floor + (0.69 - m.floor) * std::exp(-m.speed * step);
      const double loss = std::max(0.01, clean * (1.0 + 0.12 * noise(random)));
      const double epoch = 3.0 * step / steps;
      batch.metrics.push_back({"train/loss", {step, epoch, step * 4096, step * 0.21, loss}});
      batch.metrics.push_back({"train/lr",
                               {step, epoch, step * 4096, step * 0.21,
                                2e-5 * (1.0 - static_cast<double>(step) / steps)}});
      if (step % 500 == 0) {
        batch.metrics.push_back(
            {"eval/accuracy", {step, epoch, step * 4096, step * 0.21, 1.0 - clean / 1.4}});
      }
    }
    batch.events = {{unix_now(), "info", "trainable parameters: see method report"},
                    {unix_now(), "info", "epoch 1 done"}};
    store.write(id, batch);
    store.finish_run(id, RunStatus::kCompleted, R"({"eval/accuracy": 0.9})");
    ids.push_back(id);
  }
  return ids;
}

}  // namespace tb::test
