#include "core/tokenizer/chat_template.h"

#include <yaml-cpp/yaml.h>

#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string::npos) return {};
  const size_t end = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(begin, end - begin + 1);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  size_t at = 0;
  while ((at = s.find(from, at)) != std::string::npos) {
    s.replace(at, from.size(), to);
    at += to.size();
  }
  return s;
}

ChatTemplate make(const char* name) {
  ChatTemplate t;
  t.name = name;
  return t;
}

}  // namespace

std::vector<std::string> chat_template_names() {
  return {"alpaca", "chatml",  "deepseek", "gemma", "llama2",
          "llama3", "mistral", "plain",    "qwen",  "vicuna"};
}

ChatTemplate builtin_chat_template(const std::string& name) {
  if (name == "chatml" || name == "qwen") {
    ChatTemplate t = make(name.c_str());
    t.system = {"<|im_start|>system\n", "<|im_end|>\n"};
    t.user = {"<|im_start|>user\n", "<|im_end|>\n"};
    t.assistant = {"<|im_start|>assistant\n", "<|im_end|>\n"};
    t.generation_prompt = "<|im_start|>assistant\n";
    return t;
  }
  if (name == "llama3") {
    ChatTemplate t = make("llama3");
    t.bos = "<|begin_of_text|>";
    t.system = {"<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>"};
    t.user = {"<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>"};
    t.assistant = {"<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"};
    t.generation_prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n";
    t.trim_content = true;
    return t;
  }
  if (name == "llama2") {
    ChatTemplate t = make("llama2");
    t.user = {"<s>[INST] ", " [/INST]"};
    t.assistant = {" ", " </s>"};
    t.fold_system_format = "<<SYS>>\n{system}\n<</SYS>>\n\n{content}";
    t.trim_content = true;
    return t;
  }
  if (name == "mistral") {
    ChatTemplate t = make("mistral");
    t.bos = "<s>";
    t.user = {"[INST] ", " [/INST]"};
    t.assistant = {"", "</s>"};
    t.fold_system_format = "{system}\n\n{content}";
    return t;
  }
  if (name == "deepseek") {
    ChatTemplate t = make("deepseek");
    t.bos =
        "<\xEF\xBD\x9C"
        "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
    t.system = {"", ""};
    t.user = {"<\xEF\xBD\x9CUser\xEF\xBD\x9C>", ""};
    t.assistant = {
        "<\xEF\xBD\x9C"
        "Assistant\xEF\xBD\x9C>",
        "<\xEF\xBD\x9C"
        "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
    t.generation_prompt =
        "<\xEF\xBD\x9C"
        "Assistant\xEF\xBD\x9C>";
    return t;
  }
  if (name == "gemma") {
    ChatTemplate t = make("gemma");
    t.bos = "<bos>";
    t.user = {"<start_of_turn>user\n", "<end_of_turn>\n"};
    t.assistant = {"<start_of_turn>model\n", "<end_of_turn>\n"};
    t.generation_prompt = "<start_of_turn>model\n";
    t.fold_system_format = "{system}\n\n{content}";
    t.trim_content = true;
    return t;
  }
  if (name == "vicuna") {
    ChatTemplate t = make("vicuna");
    t.default_system =
        "A chat between a curious user and an artificial intelligence assistant. The assistant "
        "gives helpful, detailed, and polite answers to the user's questions.";
    t.system = {"", " "};
    t.user = {"USER: ", " "};
    t.assistant = {"ASSISTANT: ", "</s>"};
    t.generation_prompt = "ASSISTANT:";
    return t;
  }
  if (name == "alpaca") {
    ChatTemplate t = make("alpaca");
    t.default_system =
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.";
    t.system = {"", "\n\n"};
    t.user = {"### Instruction:\n", "\n\n### Response:\n"};
    t.assistant = {"", "</s>\n\n"};
    return t;
  }
  if (name == "plain") {
    ChatTemplate t = make("plain");
    t.system = {"", "\n"};
    t.user = {"", "\n"};
    t.assistant = {"", "\n"};
    return t;
  }
  const std::string suggestion = closest_match(name, chat_template_names());
  throw make_error("unknown chat template '" + name + "'" +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"),
                   "chat template",
                   "use one of " + join(chat_template_names(), ", ") +
                       " or a YAML file with prefix/suffix per role");
}

std::string recognize_chat_template(const std::string& jinja) {
  const auto has = [&](const char* s) { return jinja.find(s) != std::string::npos; };
  if (has("<|im_start|>")) return "chatml";
  if (has("<|start_header_id|>")) return "llama3";
  if (has("\xEF\xBD\x9CUser\xEF\xBD\x9C")) return "deepseek";
  if (has("<start_of_turn>")) return "gemma";
  if (has("[INST]") && has("<<SYS>>")) return "llama2";
  if (has("[INST]")) return "mistral";
  if (has("USER:") && has("ASSISTANT:")) return "vicuna";
  if (has("### Instruction")) return "alpaca";
  return {};
}

ChatTemplate chat_template_from_yaml(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& error) {
    throw make_error("invalid YAML: " + error.msg,
                     location(source, error.mark.line + 1, error.mark.column + 1),
                     "fix the chat template file");
  }
  if (!root.IsMap()) {
    throw make_error("a chat template must be a YAML mapping", source,
                     "give prefix/suffix per role: system, user, assistant");
  }
  ChatTemplate t;
  const auto text = [&](const YAML::Node& node, const char* key) -> std::string {
    const YAML::Node value = node[key];
    if (!value) return {};
    if (!value.IsScalar()) {
      throw make_error(std::string("'") + key + "' must be text", source, "quote the value");
    }
    return value.as<std::string>();
  };
  const auto role = [&](const char* key) {
    const YAML::Node node = root[key];
    ChatRoleFormat format;
    if (!node) return format;
    if (!node.IsMap()) {
      throw make_error(std::string("'") + key + "' must have prefix and/or suffix", source,
                       "write e.g. user: {prefix: \"<|user|>\\n\", suffix: \"\\n\"}");
    }
    format.prefix = text(node, "prefix");
    format.suffix = text(node, "suffix");
    return format;
  };
  t.name = root["name"] ? text(root, "name") : "custom";
  t.bos = text(root, "bos");
  t.default_system = text(root, "default_system");
  t.system = role("system");
  t.user = role("user");
  t.assistant = role("assistant");
  if (!root["user"] || !root["assistant"]) {
    throw make_error("a chat template needs 'user' and 'assistant'", source,
                     "give prefix/suffix for both");
  }
  t.generation_prompt =
      root["generation_prompt"] ? text(root, "generation_prompt") : t.assistant.prefix;
  t.fold_system_format = text(root, "fold_system_format");
  t.trim_content = root["trim_content"] && root["trim_content"].as<bool>();
  return t;
}

std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
  std::string system;
  bool has_system = false;
  std::vector<const ChatMessage*> turns;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      system += (has_system ? "\n\n" : "") + m.content;
      has_system = true;
    } else if (m.role == "user" || m.role == "assistant") {
      turns.push_back(&m);
    } else {
      throw make_error("unknown chat role '" + m.role + "'", "chat template " + t.name,
                       "use system, user or assistant");
    }
  }
  if (!has_system && !t.default_system.empty()) {
    system = t.default_system;
    has_system = true;
  }
  const auto content = [&](const std::string& s) { return t.trim_content ? trim(s) : s; };
  std::string out = t.bos;
  bool fold_pending = has_system && !t.fold_system_format.empty();
  if (has_system && t.fold_system_format.empty()) {
    out += t.system.prefix + content(system) + t.system.suffix;
  }
  for (const ChatMessage* m : turns) {
    if (m->role == "user") {
      std::string text = content(m->content);
      if (fold_pending) {
        text = replace_all(replace_all(t.fold_system_format, "{system}", content(system)),
                           "{content}", text);
        fold_pending = false;
      }
      out += t.user.prefix + text + t.user.suffix;
    } else {
      out += t.assistant.prefix + content(m->content) + t.assistant.suffix;
    }
  }
  if (add_generation_prompt) out += t.generation_prompt;
  return out;
}

}  // namespace tb
