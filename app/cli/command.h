#pragma once
// One `tunebench-cli` subcommand per file in app/cli/; main_cli.cpp lists them explicitly.

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

#include "core/export/export_job.h"

namespace tb::cli {

/// A registered subcommand: its CLI11 node and what runs when it was given.
struct Command {
  CLI::App* app = nullptr;   // the subcommand (parsed() tells whether it was chosen)
  std::function<int()> run;  // returns the process exit code; may throw tb::Error
};

/// Exit codes shared by every command (documented in `tunebench-cli --help`).
enum ExitCode : int {
  kExitOk = 0,           // success
  kExitError = 1,        // bad input or a failed operation (message on stderr)
  kExitUsage = 2,        // unknown command or bad arguments
  kExitEnvironment = 3,  // this machine cannot run tunebench as configured (see doctor)
  kExitInternal = 70,    // a bug in tunebench
};

/// `doctor`: machine and build report.
Command add_doctor_command(CLI::App& app);
/// `train CONFIG`: fine-tune as a config says, recorded in the run history.
Command add_train_command(CLI::App& app);
/// `launch --nproc N CONFIG`: a data-parallel run of N local processes.
Command add_launch_command(CLI::App& app);
/// `config check|keys|presets`: run configs.
Command add_config_command(CLI::App& app);
/// `preview-data DATA`: a data set's format, columns, first rows and seeded subsets.
Command add_preview_data_command(CLI::App& app);
/// `runs list|show|compare|delete|export|rename|tag|note|check`: the run history.
Command add_runs_command(CLI::App& app);

/// `init-model`: write a randomly initialised HF model folder.
Command add_init_model_command(CLI::App& app);

/// `inspect`: architecture, parameters, dtype, size and tensors of a model folder.
Command add_inspect_command(CLI::App& app);

/// `logits`: the model's logits at the last position of some token ids.
Command add_logits_command(CLI::App& app);

/// `generate`: continue token ids with a decoder.
Command add_generate_command(CLI::App& app);
/// `eval CONFIG`: evaluate a model (+ adapter) on a config's eval data.
Command add_eval_command(CLI::App& app);
/// `bench [CONFIG]`: training throughput per method against the matmul peak.
Command add_bench_command(CLI::App& app);
/// `chat MODEL`: talk to a decoder (and adapter) with its chat template.
Command add_chat_command(CLI::App& app);
/// `estimate CONFIG`: memory and time per method.
Command add_estimate_command(CLI::App& app);
/// `train-tokenizer`: learn a BPE or WordPiece tokenizer from a corpus.
Command add_train_tokenizer_command(CLI::App& app);
/// `export SOURCE`: PEFT adapter, merged HF folder, GGUF model or GGUF LoRA adapter; the
/// renderer draws the model card's loss plot (empty = no plot).
Command add_export_command(CLI::App& app, const LossPlotRenderer& render_plot);
/// `tokenize`: encode text or files with a tokenizer.json, or decode ids.
Command add_tokenize_command(CLI::App& app);

}  // namespace tb::cli
