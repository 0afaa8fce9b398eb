#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/models/init_model.h"
#include "core/models/loader.h"
#include "core/models/registry.h"
#include "core/util/text.h"

namespace tb::cli {

namespace {

// CLI11 fills plain values; std::optional marks which flags were given.
template <typename T>
void optional_flag(CLI::App* app, const std::string& name, std::optional<T>& target,
                   const std::string& help) {
  app->add_option_function<T>(
      name, [&target](const T& value) { target = value; }, help);
}

// A boolean given as a bare flag (true) or with a value (--flag=false).
void optional_flag(CLI::App* app, const std::string& name, std::optional<bool>& target,
                   const std::string& help) {
  app->add_flag_function(
      name, [&target](std::int64_t count) { target = count > 0; }, help);
}

}  // namespace

Command add_init_model_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "init-model", "Write a randomly initialised Hugging Face model folder (for tests and demos)");
  auto options = std::make_shared<InitModelOptions>();
  command->add_option("--arch", options->arch, "Model type")
      ->check(CLI::IsMember(supported_model_types()));
  command->add_option("--out", options->out, "Folder to write (created)")->required();
  command
      ->add_option("--tokenizer", options->tokenizer,
                   "tokenizer.json: copied in; its vocabulary (+ added tokens) sizes the model")
      ->check(CLI::ExistingFile);
  command->add_option("--config", options->config, "config.json to start from (flags override)")
      ->check(CLI::ExistingPath);
  optional_flag(command, "--vocab-size", options->vocab_size, "Vocabulary size");
  optional_flag(command, "--hidden-size", options->hidden_size, "hidden_size (default 64)");
  optional_flag(command, "--num-layers", options->num_layers, "num_hidden_layers (default 2)");
  optional_flag(command, "--num-heads", options->num_heads, "num_attention_heads (default 4)");
  optional_flag(command, "--num-kv-heads", options->num_kv_heads,
                "num_key_value_heads (default = heads; fewer = GQA, 1 = MQA)");
  optional_flag(command, "--intermediate-size", options->intermediate_size,
                "intermediate_size (default 3×hidden, BERT 4×hidden)");
  optional_flag(command, "--rope-theta", options->rope_theta, "rope_theta (default 10000)");
  optional_flag(command, "--max-position-embeddings", options->max_position_embeddings,
                "max_position_embeddings (default 2048, BERT 512)");
  optional_flag(command, "--tie-word-embeddings", options->tie_word_embeddings,
                "Share lm_head with the embeddings (--tie-word-embeddings=false to untie)");
  optional_flag(command, "--num-labels", options->num_labels,
                "Make a ...ForSequenceClassification model with this many classes");
  command->add_option("--seed", options->seed, "Initialisation seed (default 0)");
  command->footer(
      "Example:\n  tunebench-cli init-model --arch qwen2 --out tiny-qwen2 --tokenizer "
      "tokenizer.json --hidden-size 64 --num-layers 2 --num-heads 4 --num-kv-heads 2");
  return {command, [options] {
            const auto model = init_model(*options);
            int64_t parameters = 0;
            for (const auto& [name, tensor] : model_state(*model)) parameters += tensor.numel();
            std::cout << "wrote " << model->architecture() << " (" << parameters
                      << " parameters) to " << options->out.string() << "\n";
            return kExitOk;
          }};
}

}  // namespace tb::cli
