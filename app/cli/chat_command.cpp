// `tunebench-cli chat MODEL [--adapter DIR]`: talk to a decoder (and a trained adapter) in the
// terminal, with the model's chat template and streamed answers.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "app/cli/text_stream.h"
#include "core/config/run_config.h"
#include "core/io/hf_folder.h"
#include "core/methods/adapter_load.h"
#include "core/models/generate.h"
#include "core/models/loader.h"
#include "core/train/run_setup.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

namespace tb::cli {

namespace {

struct ChatArgs {
  std::string model;                  // model folder
  std::string adapter;                // "": none; else a PEFT adapter folder
  std::string chat_template;          // "": from the tokenizer
  std::string system;                 // "": the template's default
  std::vector<std::string> messages;  // non-interactive: these user messages in turn
  GenerateOptions generation;         // sampling settings
};

int run_chat(const ChatArgs& args) {
  init_runtime();
  auto tokenizer = std::make_shared<Tokenizer>(Tokenizer::load(args.model));
  const ChatTemplate chat = model_chat_template(args.chat_template, tokenizer, args.model);
  LoadOptions load;
  load.task = ModelTask::kCausalLm;
  LoadedModel loaded = load_model(args.model, load);
  std::shared_ptr<LanguageModel> model = loaded.model;
  std::unique_ptr<AppliedMethod> adapter;
  if (!args.adapter.empty()) {
    adapter = load_adapter(model, args.adapter, RunConfig{});
    model = adapter->model();
  }
  model->eval();
  GenerateOptions generation = args.generation;
  for (const int64_t eos : eos_token_ids(loaded.config)) generation.stop_token_ids.push_back(eos);
  if (const auto eos = tokenizer->token_to_id(tokenizer->config().eos_token)) {
    generation.stop_token_ids.push_back(*eos);
  }

  std::vector<ChatMessage> history;
  if (!args.system.empty()) history.push_back({"system", args.system});
  const bool interactive = args.messages.empty();
  const bool terminal = interactive && ::isatty(STDIN_FILENO);
  if (terminal) {
    std::cout << "chat with " << args.model << (args.adapter.empty() ? "" : " + " + args.adapter)
              << " (template " << chat.name << "); /reset forgets, /exit or Ctrl-D quits\n";
  }
  size_t next_message = 0;
  while (true) {
    std::string line;
    if (interactive) {
      if (terminal) std::cout << "\n> " << std::flush;
      if (!std::getline(std::cin, line)) break;
    } else {
      if (next_message == args.messages.size()) break;
      line = args.messages[next_message++];
      std::cout << "> " << line << "\n";
    }
    if (line == "/exit") break;
    if (line == "/reset") {
      history.resize(args.system.empty() ? 0 : 1);
      std::cout << "(conversation cleared)\n";
      continue;
    }
    if (line.empty()) continue;
    history.push_back({"user", line});
    const std::string prompt = render_chat(chat, history, /*add_generation_prompt=*/true);
    std::vector<int64_t> ids;
    for (const uint32_t id : tokenizer->encode_ids(prompt, /*add_special_tokens=*/false)) {
      ids.push_back(id);
    }
    TextStream stream(*tokenizer);
    generation.on_token = [&stream](int64_t token, const torch::Tensor&) {
      return stream.add(token);
    };
    const GenerateResult result = generate(*model, ids, generation);
    std::cout << "\n";
    if (result.stop_reason == "max_new_tokens") {
      std::cout << "(stopped at --max-new-tokens " << generation.max_new_tokens << ")\n";
    }
    history.push_back({"assistant", stream.text()});
  }
  return kExitOk;
}

}  // namespace

Command add_chat_command(CLI::App& app) {
  CLI::App* command =
      app.add_subcommand("chat", "Talk to a decoder model (and adapter) with its chat template");
  auto args = std::make_shared<ChatArgs>();
  args->generation.max_new_tokens = 256;
  command->add_option("model", args->model, "Model folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--adapter", args->adapter, "PEFT adapter folder (LoRA or prefix)")
      ->check(CLI::ExistingDirectory);
  command->add_option("--template", args->chat_template,
                      "Built-in chat template (default: recognised from the tokenizer)");
  command->add_option("--system", args->system, "System message");
  command->add_option("--message", args->messages,
                      "Send this user message (repeatable) and exit instead of reading stdin");
  command->add_option("--max-new-tokens", args->generation.max_new_tokens,
                      "Most tokens per answer (default 256)");
  command->add_option("--temperature", args->generation.temperature,
                      "0 = greedy (default); > 0 samples");
  command->add_option("--top-k", args->generation.top_k, "Sample among the k most likely");
  command->add_option("--top-p", args->generation.top_p, "Nucleus sampling mass (1 = off)");
  command->add_option("--repetition-penalty", args->generation.repetition_penalty,
                      "> 1 discourages repeats (default 1)");
  command->add_option("--seed", args->generation.seed, "Sampling seed (default 0)");
  command->footer(
      "Examples:\n  tunebench-cli chat resources/demo/models/tiny-llama --adapter out-B-qlora\n"
      "  tunebench-cli chat my-model --message 'Is this email spam or ham?' --temperature 0.7");
  return {command, [args] { return run_chat(*args); }};
}

}  // namespace tb::cli
