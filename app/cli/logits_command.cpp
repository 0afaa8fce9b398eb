#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "core/config/run_config.h"
#include "core/methods/adapter_load.h"
#include "core/models/loader.h"

namespace tb::cli {

Command add_logits_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "logits", "Print the model's logits at the last position (next-token logits for decoders)");
  auto args = std::make_shared<ModelArgs>();
  auto as_json = std::make_shared<bool>(false);
  auto top = std::make_shared<int64_t>(10);
  auto adapter = std::make_shared<std::string>();
  auto all_positions = std::make_shared<bool>(false);
  auto log_softmax = std::make_shared<bool>(false);
  add_model_args(command, *args);
  command->add_flag("--json", *as_json, "Print the full row as a JSON array of floats");
  command->add_option("--adapter", *adapter, "PEFT adapter folder applied to the model")
      ->check(CLI::ExistingDirectory);
  command->add_flag("--all-positions", *all_positions,
                    "With --json: one row per input position (decoders: next-token rows)");
  command->add_flag("--log-softmax", *log_softmax,
                    "Print log-probabilities (log-softmax of the logits) instead of logits");
  command->add_option("--top", *top, "Without --json: how many top entries to list (default 10)");
  command->footer(
      "Examples:\n  tunebench-cli logits models/tiny-llama --text 'Hello world' --json\n"
      "  tunebench-cli logits models/tiny-llama --adapter out-lora --ids 1,2,3 --all-positions "
      "--log-softmax --json");
  return {command, [args, as_json, top, adapter, all_positions, log_softmax] {
            tokenize_input(*args);
            LoadedModel loaded = load_for_cli(*args, *adapter);
            std::unique_ptr<AppliedMethod> method;
            if (!adapter->empty()) {
              method = load_adapter(loaded.model, *adapter, RunConfig{});
              loaded.model = method->model();
              loaded.model->eval();
            }
            if (*all_positions) {
              torch::Tensor rows = position_logits(*loaded.model, *args);
              if (*log_softmax) rows = torch::log_softmax(rows, -1);
              nlohmann::json out = nlohmann::json::array();
              for (int64_t i = 0; i < rows.size(0); ++i) {
                const torch::Tensor row = rows[i].contiguous();
                out.push_back(
                    std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel()));
              }
              std::cout << out.dump() << "\n";
              return kExitOk;
            }
            torch::Tensor row = last_position_logits(*loaded.model, *args);
            if (*log_softmax) row = torch::log_softmax(row, -1).contiguous();
            if (*as_json) {
              const std::vector<float> values(row.data_ptr<float>(),
                                              row.data_ptr<float>() + row.numel());
              std::cout << nlohmann::json(values).dump() << "\n";
              return kExitOk;
            }
            const auto [values, ids] = row.topk(std::min<int64_t>(*top, row.numel()));
            std::cout << loaded.model->architecture() << ", " << row.numel()
                      << " logits at the last position; top " << ids.numel() << ":\n";
            for (int64_t i = 0; i < ids.numel(); ++i) {
              std::cout << "  " << ids[i].item<int64_t>() << "\t" << values[i].item<float>()
                        << "\n";
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
