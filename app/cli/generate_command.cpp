#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/cli/command.h"
#include "app/cli/model_args.h"
#include "app/cli/text_stream.h"
#include "core/io/hf_folder.h"
#include "core/models/generate.h"
#include "core/models/loader.h"

namespace tb::cli {

Command add_generate_command(CLI::App& app) {
  CLI::App* command =
      app.add_subcommand("generate", "Continue a prompt with a decoder model (KV cache)");
  auto args = std::make_shared<ModelArgs>();
  auto options = std::make_shared<GenerateOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto ignore_eos = std::make_shared<bool>(false);
  add_model_args(command, *args);
  command->add_option("--max-new-tokens", options->max_new_tokens, "Upper bound (default 64)");
  command->add_option("--temperature", options->temperature, "0 = greedy (default); > 0 samples");
  command->add_option("--top-k", options->top_k, "Sample among the k most likely (0 = off)");
  command->add_option("--top-p", options->top_p, "Nucleus sampling mass (1 = off)");
  command->add_option("--repetition-penalty", options->repetition_penalty,
                      "> 1 discourages repeats (default 1)");
  command->add_option("--stop-ids", options->stop_token_ids, "Extra stop token ids")
      ->delimiter(',');
  command->add_flag("--ignore-eos", *ignore_eos,
                    "Do not stop at the eos_token_id of generation_config.json / config.json");
  command->add_option("--seed", options->seed, "Sampling seed (default 0)");
  command->add_flag("--json", *as_json,
                    "Print {\"tokens\": [...], \"stop_reason\": ...} at the end");
  command->footer(
      "Prints new token ids as they are generated.\nExample:\n  tunebench-cli generate "
      "models/tiny-llama --prompt 'Once upon' --max-new-tokens 20 --temperature 0.7 --top-p 0.9");
  return {
      command, [args, options, as_json, ignore_eos] {
        tokenize_input(*args);
        const LoadedModel loaded = load_for_cli(*args);
        check_ids(*loaded.model, *args);
        GenerateOptions run = *options;
        if (!*ignore_eos) {
          // generation_config.json is what transformers' generate() reads first.
          const auto generation = std::filesystem::path(args->folder) / "generation_config.json";
          const auto eos = eos_token_ids(
              std::filesystem::exists(generation) ? read_config_json(generation) : loaded.config);
          run.stop_token_ids.insert(run.stop_token_ids.end(), eos.begin(), eos.end());
        }
        const bool as_text = !args->text.empty();
        if (!*as_json && !as_text) {
          run.on_token = [](int64_t token, const torch::Tensor&) {
            std::cout << token << " " << std::flush;  // streamed as they come
            return true;
          };
        }
        // The stream is used only inside generate() below, so the lambda may hold references.
        std::optional<Tokenizer> tokenizer;
        std::optional<TextStream> stream;
        if (!*as_json && as_text) {
          std::cout << args->text << std::flush;
          tokenizer.emplace(Tokenizer::load(args->folder));
          stream.emplace(*tokenizer);
          run.on_token = [&stream](int64_t token, const torch::Tensor&) {
            return stream->add(token);
          };
        }
        const GenerateResult result = generate(*loaded.model, args->ids, run);
        if (*as_json) {
          nlohmann::json out{{"tokens", result.tokens}, {"stop_reason", result.stop_reason}};
          if (as_text) out["text"] = decode_ids(*args, result.tokens);
          std::cout << out.dump() << "\n";
        } else {
          std::cout << "\n(" << result.tokens.size() << " tokens, " << result.stop_reason << ")\n";
        }
        return kExitOk;
      }};
}

}  // namespace tb::cli
