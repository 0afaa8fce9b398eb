// `tunebench-cli eval CONFIG`: evaluate a model (+ adapter) on a config's eval data, the way
// training evaluates, without training: a baseline before fine-tuning, or a trained result.
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/run_config_args.h"
#include "core/train/run_setup.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

namespace tb::cli {

Command add_eval_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "eval", "Evaluate a model (and adapter) on a config's eval data without training");
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    std::string model;    // "": the config's model
    std::string adapter;  // "": none
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  command->add_option("config", a->config, "YAML file or preset name (see `config presets`)")
      ->required();
  command->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  command->add_option("--model", a->model, "Model folder to evaluate instead of the config's")
      ->check(CLI::ExistingDirectory);
  command->add_option("--adapter", a->adapter, "PEFT adapter folder loaded on the model")
      ->check(CLI::ExistingDirectory);
  command->add_flag("--json", a->json, "Print the metrics as one JSON object");
  command->footer(
      "Examples:\n  tunebench-cli eval A-lora                       # the base, before tuning\n"
      "  tunebench-cli eval A-lora --adapter out-lora      # the trained adapter\n"
      "  tunebench-cli eval B-qlora --set max_eval_samples=50 --json\n"
      "The eval data is eval_dataset, or the val_size split of dataset; sft configs with "
      "predict_with_generate also score exact match.");
  return {command, [a]() -> int {
            init_runtime();
            std::vector<std::string> overrides = a->overrides;
            if (!a->model.empty()) overrides.push_back("model_name_or_path=" + a->model);
            if (!a->adapter.empty()) overrides.push_back("adapter_name_or_path=" + a->adapter);
            RunConfig config = load_checked_config(a->config, overrides);
            // Evaluation only: whatever the method, nothing trains and nothing is written.
            config.output.output_dir.clear();
            PrepareOptions prepare;
            prepare.eval_only = true;  // the train split is only sized, for the same eval rows
            const PreparedRun prepared = prepare_run(config, prepare);
            if (!prepared.eval) {
              throw make_error("the config has no eval data", a->config,
                               "Set eval_dataset, or val_size to split some of dataset off.");
            }
            EvalMetrics metrics = evaluate(*prepared.model, *prepared.eval);
            if (const auto extra = exact_match_metric(prepared)) extra(metrics);
            if (a->json) {
              nlohmann::json out = eval_json(metrics);
              out["data"] = prepared.subset_summary;
              out["model"] = config.model.model_name_or_path;
              out["adapter"] = config.model.adapter_name_or_path;
              std::cout << out.dump() << "\n";
            } else {
              std::cout << "model: " << config.model.model_name_or_path
                        << (config.model.adapter_name_or_path.empty()
                                ? ""
                                : " + adapter " + config.model.adapter_name_or_path)
                        << "\ndata: " << prepared.subset_summary << "\n"
                        << eval_line(metrics) << "  (" << metrics.examples << " examples)\n";
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
