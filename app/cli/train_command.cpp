// `tunebench-cli train CONFIG`: the same engine and run history as the GUI, from a terminal.
#include <sys/ioctl.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "app/cli/command.h"
#include "app/cli/run_config_args.h"
#include "core/config/config_validation.h"
#include "core/config/presets.h"
#include "core/train/distributed.h"
#include "core/train/run_job.h"
#include "core/train/run_setup.h"
#include "core/util/runtime.h"

namespace tb::cli {

namespace {

TrainerControl* g_control = nullptr;  // what SIGINT talks to while a run is going

// First Ctrl-C: stop after the current step with a checkpoint. Second: leave at once.
void on_interrupt(int) {
  if (g_control && !g_control->stop) {
    g_control->stop = true;
    const char text[] = "\nstopping after this step (checkpoint first); Ctrl-C again aborts\n";
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, text, sizeof(text) - 1);
    return;
  }
  std::_Exit(130);
}

std::string clock_text(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof(text), "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

// One progress line; with `columns` > 0 (a terminal) it is fitted to that width, dropping the
// least important fields first, because a wrapped line breaks the \r redraw into a scroll.
std::string progress_line(const StepMetrics& m, int columns) {
  char buffer[64];
  auto field = [&](const char* format, auto... values) {
    std::snprintf(buffer, sizeof(buffer), format, values...);
    return std::string(buffer);
  };
  // In display order, each with the rank in which it is dropped when space runs out (0 = kept).
  const std::vector<std::pair<std::string, int>> fields = {
      {field("step %lld/%lld", static_cast<long long>(m.step),
             static_cast<long long>(m.total_steps)),
       0},
      {field("epoch %.2f", m.epoch), 3},
      {field("loss %.4f", m.loss), 0},
      {field("lr %.2e", m.lr), 4},
      {field("%.0f tok/s", m.tokens_per_second), 2},
      {field("mem %.0f MB", static_cast<double>(m.memory.rss_bytes) / (1 << 20)), 5},
      {"ETA " + clock_text(m.eta_seconds), 1},
  };
  auto compose = [&](int bar_width, int drop_from) {
    std::string line;
    if (bar_width > 0) {
      const int filled = static_cast<int>(bar_width * m.step / std::max<int64_t>(1, m.total_steps));
      line = "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
    }
    for (const auto& [text, rank] : fields) {
      if (rank != 0 && rank >= drop_from) continue;
      line += (line.empty() || line.back() == ' ' ? "" : "  ") + text;
    }
    return line;
  };
  if (columns <= 0) return compose(0, 99);
  const size_t room = static_cast<size_t>(std::max(columns - 1, 10));
  for (int bar_width : {24, 12}) {
    for (int drop_from : {99, 5, 4, 3, 2, 1}) {
      const std::string line = compose(bar_width, drop_from);
      if (line.size() <= room) return line;
    }
  }
  return compose(0, 1).substr(0, room);
}

// Width of the terminal on stdout (0 when unknown).
int terminal_columns() {
  winsize size{};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  CLI::App* train =
      app.add_subcommand("train", "Fine-tune a model as a YAML config (or preset) says");
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    std::string resume;
    bool dry_run = false, json = false;
  };
  auto a = std::make_shared<Args>();
  train->add_option("config", a->config, "YAML file or preset name (see `config presets`)")
      ->required();
  train->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  train->add_option("--resume", a->resume, "Continue from a checkpoint folder");
  train->add_flag("--dry-run", a->dry_run,
                  "Validate, load model and data, print the effective YAML and the trainable "
                  "parameters, then exit");
  train->add_flag("--json", a->json, "One JSON event per line on stdout (for scripts)");
  train->footer(
      "Examples:\n  tunebench-cli train A-lora\n  tunebench-cli train run.yaml --set "
      "learning_rate=1e-4 --set max_steps=50\n  tunebench-cli train run.yaml --resume "
      "out/checkpoint-200\nWith RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (tunebench-cli launch, "
      "torchrun --no_python, Slurm) it is one rank of a data-parallel run.\nCtrl-C stops after the "
      "current step with a checkpoint (exit 130); a "
      "second Ctrl-C aborts.");

  return {train, [a]() -> int {
            init_runtime();
            std::vector<std::string> overrides = a->overrides;
            if (!a->resume.empty()) overrides.push_back("resume_from_checkpoint=" + a->resume);
            const RunConfig config = load_checked_config(a->config, overrides);

            if (a->dry_run) {
              const PreparedRun prepared = prepare_run(config);
              std::cout << config_to_yaml(config) << "\n# " << prepared.method->report().text()
                        << "\n# data: " << prepared.subset_summary << "\n";
              for (const std::string& note : prepared.notes) std::cout << "# " << note << "\n";
              for (const std::string& warning : prepared.warnings) {
                std::cout << "# warning: " << warning << "\n";
              }
              return kExitOk;
            }

            // Started by `launch`, torchrun or a Slurm wrapper: join the other ranks. Only rank 0
            // prints progress; every rank prints its own errors.
            const DistributedEnv env = read_distributed_env();
            std::unique_ptr<Distributed> group;
            if (env.active()) {
              DistributedOptions group_options;
              group_options.timeout = std::chrono::seconds(config.training.ddp_timeout);
              group = Distributed::connect(env, group_options);
            }
            const bool main_rank = !group || group->is_main();
            const bool json = a->json && main_rank;
            const bool terminal = !json && main_rank && ::isatty(STDOUT_FILENO);
            const int64_t logging_steps = config.output.logging_steps;
            auto emit = [](nlohmann::json event) { std::cout << event.dump() << std::endl; };
            TrainerCallbacks callbacks;
            callbacks.on_step = [&](const StepMetrics& m) {
              if (!main_rank) return;
              if (json) {
                emit({{"event", "step"},
                      {"step", m.step},
                      {"total_steps", m.total_steps},
                      {"epoch", m.epoch},
                      {"loss", m.loss},
                      {"lr", m.lr},
                      {"grad_norm", m.grad_norm},
                      {"tokens_per_second", m.tokens_per_second},
                      {"rss_bytes", m.memory.rss_bytes},
                      {"eta_seconds", m.eta_seconds},
                      {"step_seconds", m.step_seconds},
                      {"compute_seconds", m.compute_seconds},
                      {"samples_per_second", m.samples_per_second}});
              } else if (terminal) {
                std::cout << "\r\033[K" << progress_line(m, terminal_columns()) << std::flush;
              } else if (m.step % logging_steps == 0 || m.step == m.total_steps) {
                std::cout << progress_line(m, 0) << "\n" << std::flush;
              }
            };
            callbacks.on_eval = [&](const EvalMetrics& m) {
              if (!main_rank) return;
              if (json) {
                emit(eval_json(m));
              } else {
                std::cout << (terminal ? "\r\033[K" : "") << eval_line(m) << "\n" << std::flush;
              }
            };
            callbacks.on_event = [&](const std::string& level, const std::string& message) {
              if (!main_rank) return;
              if (json) {
                emit({{"event", "log"}, {"level", level}, {"message", message}});
              } else if (level != "info") {
                std::cerr << (terminal ? "\r\033[K" : "") << level << ": " << message << "\n";
              }
            };

            TrainerControl control;
            g_control = &control;
            std::signal(SIGINT, on_interrupt);
            RunJobOptions options;
            options.distributed = group.get();
            const RunJobResult result =
                run_job(config, options, callbacks, &control, [&](const RunJobResult& started) {
                  if (!main_rank) return;
                  if (json) {
                    emit({{"event", "start"},
                          {"run_id", started.run_id},
                          {"output_dir", started.output_dir},
                          {"trainable", started.trainable_text}});
                  } else {
                    std::cout << "run " << started.run_id << ": " << started.trainable_text
                              << "\noutput: " << started.output_dir << "\n";
                  }
                });
            std::signal(SIGINT, SIG_DFL);
            g_control = nullptr;
            const bool stopped = result.train.outcome == TrainOutcome::kStopped;
            if (!main_rank) {
              // Nothing to say: rank 0 reports the run.
            } else if (json) {
              emit({{"event", stopped ? "stopped" : "completed"},
                    {"run_id", result.run_id},
                    {"steps", result.train.steps},
                    {"final_loss", result.train.final_loss},
                    {"checkpoint", result.train.last_checkpoint},
                    {"output_dir", result.output_dir}});
            } else {
              std::cout << (terminal ? "\n" : "") << (stopped ? "stopped" : "done") << " after "
                        << result.train.steps << " steps, final loss " << result.train.final_loss
                        << "\nsaved to " << result.output_dir << "  (tunebench-cli runs show "
                        << result.run_id << ")\n";
            }
            return stopped ? 130 : kExitOk;
          }};
}

}  // namespace tb::cli
