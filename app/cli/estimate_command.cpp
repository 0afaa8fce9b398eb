// `tunebench-cli estimate CONFIG`: memory and time per method before a run starts.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/run_config_args.h"
#include "core/train/run_estimate.h"
#include "core/util/runtime.h"
#include "core/util/text.h"

namespace tb::cli {

namespace {

std::string duration(double seconds) {
  char text[32];
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%lldh%02lldm", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lldm%02llds", s / 60, s % 60);
  }
  return text;
}

void print_table(const std::vector<MethodEstimate>& estimates) {
  std::printf("%-8s %12s %9s %10s %10s %10s %10s %10s %8s %10s\n", "method", "trainable", "percent",
              "weights", "grads", "optimizer", "activ.", "total MiB", "s/step", "time");
  for (const MethodEstimate& e : estimates) {
    if (!e.error.empty()) {
      std::printf("%-8s cannot run: %s\n", e.method.c_str(), e.error.c_str());
      continue;
    }
    const double percent =
        e.parameters.total > 0 ? 100.0 * double(e.parameters.trainable) / e.parameters.total : 0.0;
    std::printf("%-8s %12lld %8.3f%% %10s %10s %10s %10s %10s %8.3f %10s\n", e.method.c_str(),
                static_cast<long long>(e.parameters.trainable), percent,
                format_mib(e.memory.weights).c_str(), format_mib(e.memory.gradients).c_str(),
                format_mib(e.memory.optimizer).c_str(), format_mib(e.memory.activations).c_str(),
                format_mib(e.memory.total()).c_str(), e.seconds_per_step,
                e.seconds_per_step > 0 ? duration(e.total_seconds).c_str() : "-");
  }
}

nlohmann::json to_json(const MethodEstimate& e) {
  return {{"method", e.method},
          {"error", e.error},
          {"trainable", e.parameters.trainable},
          {"total_parameters", e.parameters.total},
          {"weights_bytes", e.memory.weights},
          {"gradients_bytes", e.memory.gradients},
          {"optimizer_bytes", e.memory.optimizer},
          {"activations_bytes", e.memory.activations},
          {"total_bytes", e.memory.total()},
          {"total_steps", e.total_steps},
          {"seconds_per_step", e.seconds_per_step},
          {"total_seconds", e.total_seconds}};
}

}  // namespace

Command add_estimate_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "estimate", "Memory and time a config needs, for its method or several side by side");
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    std::vector<std::string> methods;
    int64_t measure_steps = 3;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  command->add_option("config", a->config, "YAML file or preset name (see `config presets`)")
      ->required();
  command->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  add_methods_option(command, a->methods, "Methods to compare", "default the config's");
  command->add_option("--measure-steps", a->measure_steps,
                      "Real optimizer steps timed per method, the first as warm-up (0 = memory "
                      "only; default 3)");
  command->add_flag("--json", a->json, "One JSON object per method");
  command->footer(
      "Memory: weights as stored (NF4 packed for qlora), gradients and AdamW states of what\n"
      "trains, activations kept for backward at per_device_train_batch_size x cutoff_len.\n"
      "Time: the median of timed real steps on this machine x the run's step count.\n"
      "Examples:\n  tunebench-cli estimate A-lora --methods all\n"
      "  tunebench-cli estimate run.yaml --measure-steps 0 --json");
  return {command, [a]() -> int {
            init_runtime();
            const RunConfig config = load_checked_config(a->config, a->overrides);
            const std::vector<MethodEstimate> estimates =
                estimate_listed_methods(config, a->methods, a->measure_steps);
            if (a->json) {
              for (const MethodEstimate& e : estimates) std::cout << to_json(e).dump() << "\n";
            } else {
              print_table(estimates);
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
