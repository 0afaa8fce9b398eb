#pragma once
// Chat templates without a Jinja interpreter: named built-ins with the exact strings of the
// models' own templates, recognised from a model's chat_template, or user-defined in YAML.

#include <string>
#include <vector>

namespace tb {

/// One message of a conversation.
struct ChatMessage {
  std::string role;     // "system", "user" or "assistant"
  std::string content;  // the text
};

/// How one role is written: prefix + content + suffix.
struct ChatRoleFormat {
  std::string prefix;  // "": nothing before the content
  std::string suffix;  // "": nothing after the content
};

/// A chat template as data.
struct ChatTemplate {
  std::string name;                // e.g. "llama3"
  std::string bos;                 // "": text written once at the start (e.g. "<s>")
  std::string default_system;      // "": system text used when the conversation has none
  ChatRoleFormat system;           // how a system message is written (unless folded)
  ChatRoleFormat user;             // how a user message is written
  ChatRoleFormat assistant;        // how an assistant message is written
  std::string generation_prompt;   // "": appended to ask for the assistant's answer
  std::string fold_system_format;  // "": system stays a message; else "{system}" and
                                   // "{content}" of the first user message are merged
  bool trim_content = false;       // false: contents kept as is; true: whitespace trimmed
};

/// Names of the built-in templates.
std::vector<std::string> chat_template_names();

/// A built-in template by name (alpaca, chatml, qwen, llama2, llama3, deepseek, mistral,
/// gemma, vicuna, plain); an unknown name is an error listing them.
ChatTemplate builtin_chat_template(const std::string& name);

/// The built-in matching a model's Jinja chat_template (tokenizer_config.json), or "".
std::string recognize_chat_template(const std::string& jinja);

/// Reads a user-defined template from YAML text (keys: name, bos, default_system, system,
/// user, assistant as {prefix, suffix}, generation_prompt, fold_system_format, trim_content).
ChatTemplate chat_template_from_yaml(const std::string& yaml, const std::string& source);

/// Renders a conversation; `add_generation_prompt` appends the assistant's opening.
std::string render_chat(const ChatTemplate& chat_template, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt);

}  // namespace tb
