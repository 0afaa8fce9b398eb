#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/models/inspect.h"

namespace tb::cli {

Command add_inspect_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "inspect", "Show a model folder: architecture, parameters, dtype, size, tensors");
  auto folder = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto tensors = std::make_shared<bool>(false);
  command->add_option("MODEL", *folder, "Hugging Face model folder")->required();
  command->add_flag("--json", *as_json, "Print JSON (tensors included)");
  command->add_flag("--tensors", *tensors, "List every tensor (text output)");
  command->footer("Example:\n  tunebench-cli inspect models/tiny-llama --json | jq .parameters");
  return {command, [folder, as_json, tensors] {
            const ModelSummary summary = inspect_model(*folder);
            if (*as_json) {
              std::cout << summary_to_json(summary).dump(2) << "\n";
            } else {
              std::cout << summary_to_text(summary, *tensors);
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
