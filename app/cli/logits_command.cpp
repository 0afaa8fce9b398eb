#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "core/models/loader.h"

namespace tb::cli {

Command add_logits_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "logits", "Print the model's logits at the last position (next-token logits for decoders)");
  auto args = std::make_shared<ModelArgs>();
  auto as_json = std::make_shared<bool>(false);
  auto top = std::make_shared<int64_t>(10);
  add_model_args(command, *args);
  command->add_flag("--json", *as_json, "Print the full row as a JSON array of floats");
  command->add_option("--top", *top, "Without --json: how many top entries to list (default 10)");
  command->footer("Example:\n  tunebench-cli logits models/tiny-llama --text 'Hello world' --json");
  return {command, [args, as_json, top] {
            tokenize_input(*args);
            const LoadedModel loaded = load_for_cli(*args);
            const torch::Tensor row = last_position_logits(*loaded.model, *args);
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
