// `tunebench-cli chat MODEL [--adapter DIR]`: talk to a decoder (and a trained adapter) in the
// terminal, with the model's chat template and streamed answers.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/models/generate.h"
#include "core/train/chat_session.h"
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
  ChatSession session({args.model, args.adapter, args.chat_template});
  if (!session.is_decoder()) {
    throw make_error("this model classifies and does not generate text", args.model,
                     "chat talks to ...ForCausalLM models; the Playground shows a classifier's "
                     "class probabilities.");
  }
  std::vector<ChatMessage> history;
  if (!args.system.empty()) history.push_back({"system", args.system});
  const bool interactive = args.messages.empty();
  const bool terminal = interactive && ::isatty(STDIN_FILENO);
  if (terminal) {
    std::cout << "chat with " << session.description()
              << "; /reset forgets, /exit or Ctrl-D quits\n";
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
    const std::string answer =
        session.reply(history, args.generation, [](const std::string& piece) {
          std::cout << piece << std::flush;
          return true;
        });
    std::cout << "\n";
    if (session.stop_reason() == "max_new_tokens") {
      std::cout << "(stopped at --max-new-tokens " << args.generation.max_new_tokens << ")\n";
    }
    history.push_back({"assistant", answer});
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
