// Where a training step's time goes: trains a config for a few warm-up steps, then records
// the next steps with LibTorch's profiler and prints the operators by self time (time inside
// the operator minus the operators it called), summed over the recorded steps.
// Usage: profile_step CONFIG.yaml [key=value …]   (e.g. model_name_or_path=/path/to/model)
// With TB_PROFILE_TRACE=FILE set it also writes the Chrome trace there.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/config_yaml.h"
#include "core/train/run_setup.h"
#include "core/train/trainer.h"
#include "core/util/runtime.h"

namespace {

struct Event {
  std::string name;
  double start = 0, duration = 0;
  int64_t thread = 0;
};

// Self time per operator from a Chrome trace: on each thread, events nest by time.
std::map<std::string, double> self_times(const nlohmann::json& trace) {
  std::vector<Event> events;
  for (const auto& e : trace) {
    if (e.value("ph", "") != "X") continue;
    events.push_back(
        {e.value("name", ""), e.value("ts", 0.0), e.value("dur", 0.0), e.value("tid", int64_t{0})});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.thread != b.thread ? a.thread < b.thread
           : a.start != b.start ? a.start < b.start
                                : a.duration > b.duration;
  });
  std::map<std::string, double> self;
  std::vector<const Event*> stack;
  for (const Event& e : events) {
    while (!stack.empty() && (stack.back()->thread != e.thread ||
                              stack.back()->start + stack.back()->duration <= e.start)) {
      stack.pop_back();
    }
    self[e.name] += e.duration;
    if (!stack.empty()) self[stack.back()->name] -= e.duration;
    stack.push_back(&e);
  }
  return self;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: profile_step CONFIG.yaml [key=value …]\n");
    return 2;
  }
  tb::init_runtime();
  tb::LoadedConfig loaded = tb::load_config_file(argv[1]);
  for (int i = 2; i < argc; ++i) tb::apply_override(loaded, argv[i], ".");
  tb::RunConfig config = loaded.config;
  config.output.save_strategy = "no";
  config.output.eval_strategy = "no";
  config.output.output_dir = "/tmp/tb-profile-step";
  config.output.overwrite_output_dir = true;
  tb::PreparedRun prepared = tb::prepare_run(config);
  tb::TrainingJob job;
  job.model = prepared.model.get();
  job.trainable = prepared.method->trainable();
  job.train = prepared.train.get();
  job.training = config.training;
  job.output = config.output;
  const int64_t warmup = 2, recorded = 3;
  job.training.max_steps = warmup + recorded;
  std::ostringstream trace;
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  double recorded_seconds = 0;
  tb::TrainerCallbacks callbacks;
  callbacks.on_step = [&](const tb::StepMetrics& m) {
    if (m.step > warmup) recorded_seconds += m.step_seconds;
    if (m.step == warmup)
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(trace);
  };
  tb::train(job, callbacks, nullptr);
  profile.reset();  // writes the trace
  if (const char* path = std::getenv("TB_PROFILE_TRACE")) {
    std::ofstream(path) << trace.str();  // for chrome://tracing or a script
  }
  const std::map<std::string, double> self = self_times(nlohmann::json::parse(trace.str()));
  std::vector<std::pair<double, std::string>> sorted;
  double total = 0;
  for (const auto& [name, us] : self) sorted.emplace_back(us, name), total += us;
  std::sort(sorted.rbegin(), sorted.rend());
  std::printf("%lld steps, %.3f s per step; operator self time per step (all threads):\n",
              static_cast<long long>(recorded), recorded_seconds / recorded);
  for (size_t i = 0; i < std::min<size_t>(sorted.size(), 30); ++i) {
    std::printf("%9.1f ms %5.1f%%  %s\n", sorted[i].first / 1e3 / recorded,
                100 * sorted[i].first / total, sorted[i].second.c_str());
  }
  return 0;
}
