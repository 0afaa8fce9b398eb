// `tunebench-cli bench [CONFIG]`: training throughput per method on this machine, as a ratio
// to the machine's own measured matmul peak (so numbers from different machines compare).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/run_config_args.h"
#include "core/train/run_estimate.h"
#include "core/util/runtime.h"

namespace tb::cli {

Command add_bench_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "bench", "Training throughput per method against this machine's measured matmul peak");
  struct Args {
    std::string config = "A-lora";
    std::vector<std::string> overrides;
    std::vector<std::string> methods = {"full", "lora", "qlora"};
    int64_t steps = 5;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  command->add_option("config", a->config, "YAML file or preset name (default A-lora)");
  command->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  add_methods_option(command, a->methods, "Methods", "default full,lora,qlora");
  command->add_option("--steps", a->steps, "Optimizer steps timed per method (default 5)")
      ->check(CLI::Range(2, 100000));
  command->add_flag("--json", a->json, "One JSON object per line");
  command->footer(
      "FLOPs per token: forward 2N + input gradients 2N + weight gradients 2T (N matmul\n"
      "parameters, T the trainable ones; 6N for full fine-tuning); attention's length terms\n"
      "are left out, so the ratio to peak is a lower bound.\n"
      "Example:\n  tunebench-cli bench A-lora --methods full,lora,ptuning --steps 8");
  return {command, [a]() -> int {
            init_runtime();
            const RunConfig config = load_checked_config(a->config, a->overrides);
            const double peak = measure_matmul_gflops(1024, 1.0);
            const std::vector<MethodEstimate> estimates =
                estimate_listed_methods(config, a->methods, a->steps);
            if (a->json) {
              std::cout << nlohmann::json{{"event", "machine"},
                                          {"matmul_gflops", peak},
                                          {"threads", usable_cores()}}
                               .dump()
                        << "\n";
            } else {
              std::printf("matmul peak (fp32, 1024x1024): %.1f GFLOP/s on %d threads\n", peak,
                          usable_cores());
              std::printf("%-8s %12s %12s %14s %12s %10s\n", "method", "tokens/s", "s/step",
                          "GFLOP/token", "GFLOP/s", "of peak");
            }
            for (const MethodEstimate& e : estimates) {
              const double achieved = e.flops_per_token * e.tokens_per_second / 1e9;
              const double ratio = peak > 0 ? achieved / peak : 0;
              if (a->json) {
                std::cout << nlohmann::json{{"event", "method"},
                                            {"method", e.method},
                                            {"error", e.error},
                                            {"tokens_per_second", e.tokens_per_second},
                                            {"seconds_per_step", e.seconds_per_step},
                                            {"flops_per_token", e.flops_per_token},
                                            {"achieved_gflops", achieved},
                                            {"ratio_to_peak", ratio}}
                                 .dump()
                          << "\n";
              } else if (!e.error.empty()) {
                std::printf("%-8s cannot run: %s\n", e.method.c_str(), e.error.c_str());
              } else {
                std::printf("%-8s %12.0f %12.3f %14.6f %12.2f %9.1f%%\n", e.method.c_str(),
                            e.tokens_per_second, e.seconds_per_step, e.flops_per_token / 1e9,
                            achieved, 100 * ratio);
              }
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
