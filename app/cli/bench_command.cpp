// `tunebench-cli bench [CONFIG]`: training throughput per method on this machine, as a ratio
// to the machine's own measured matmul peak (so numbers from different machines compare).
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/run_config_args.h"
#include "core/train/run_estimate.h"
#include "core/util/blas_core.h"
#include "core/util/runtime.h"
#include "core/util/text.h"

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
    std::string dump;
  };
  auto a = std::make_shared<Args>();
  command->add_option("config", a->config, "YAML file or preset name (default A-lora)");
  command->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  add_methods_option(command, a->methods, "Methods", "default full,lora,qlora");
  command->add_option("--steps", a->steps, "Optimizer steps timed per method (default 5)")
      ->check(CLI::Range(2, 100000));
  command->add_flag("--json", a->json, "One JSON object per line");
  command->add_option("--dump", a->dump,
                      "Write per method the batches, starting weights, settings and per-step "
                      "losses an independent implementation retraces (DIR/<method>/; see "
                      "tests/bench/eager_reference.py)");
  command->footer(
      "FLOPs per token: forward 2N + input gradients 2N' + weight gradients 2T (N matmul\n"
      "parameters, N' those gradients flow back through, T the trainable ones; 6N for full\n"
      "fine-tuning) plus attention's products at cutoff_len (4·len·d per layer forward, twice\n"
      "that backward).\n"
      "Example:\n  tunebench-cli bench A-lora --methods full,lora,ptuning --steps 8\n"
      "The standard models and the PyTorch eager comparison: tests/bench/bench_training.sh");
  return {command, [a]() -> int {
            init_runtime();
            const RunConfig config = load_checked_config(a->config, a->overrides);
            const double peak_before = measure_matmul_gflops(1024, 1.0);
            EstimateOptions options;
            options.methods = listed_methods(a->methods);
            options.measure_steps = a->steps;
            options.dump_dir = a->dump;
            options.matmul_gflops = peak_before;
            const std::vector<MethodEstimate> estimates = estimate_methods(config, options);
            // Measured again after the runs: a shared machine's speed drifts, and a low first
            // sample would inflate every ratio to the peak.
            const double peak = std::max(peak_before, measure_matmul_gflops(1024, 1.0));
            // The kernel family sets the peak (AVX2 vs AVX-512 differ ~2x): say which ran.
            const std::string blas_core = loaded_blas_core();
            if (a->json) {
              std::cout << nlohmann::json{{"event", "machine"},
                                          {"matmul_gflops", peak},
                                          {"blas_core", blas_core},
                                          {"threads", at::get_num_threads()}}
                               .dump()
                        << "\n";
            } else {
              std::printf("matmul peak (fp32, 1024x1024): %.1f GFLOP/s on %d threads%s\n", peak,
                          at::get_num_threads(),
                          blas_core.empty() ? "" : (", OpenBLAS core " + blas_core).c_str());
              std::printf("%-8s %10s %9s %8s %11s %7s %9s %9s %9s %9s\n", "method", "tokens/s",
                          "s/step", "MFLOP/tok", "GFLOP/s", "of peak", "peak RSS", "weights",
                          "grads", "optimizer");
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
                                            {"tokens_per_step", e.tokens_per_step},
                                            {"flops_per_token", e.flops_per_token},
                                            {"achieved_gflops", achieved},
                                            {"ratio_to_peak", ratio},
                                            {"peak_rss_bytes", e.peak_rss_bytes},
                                            {"weights_bytes", e.memory.weights},
                                            {"gradients_bytes", e.memory.gradients},
                                            {"optimizer_bytes", e.memory.optimizer},
                                            {"trainable", e.parameters.trainable},
                                            {"total_parameters", e.parameters.total},
                                            {"losses", e.losses}}
                                 .dump()
                          << "\n";
              } else if (!e.error.empty()) {
                std::printf("%-8s cannot run: %s\n", e.method.c_str(), e.error.c_str());
              } else {
                std::printf(
                    "%-8s %10.0f %9.3f %9.2f %11.2f %6.1f%% %9s %9s %9s %9s\n", e.method.c_str(),
                    e.tokens_per_second, e.seconds_per_step, e.flops_per_token / 1e6, achieved,
                    100 * ratio, format_mib(e.peak_rss_bytes).c_str(),
                    format_mib(e.memory.weights).c_str(), format_mib(e.memory.gradients).c_str(),
                    format_mib(e.memory.optimizer).c_str());
              }
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
