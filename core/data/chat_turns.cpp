#include "core/data/chat_turns.h"

#include "core/util/error.h"

namespace tb::data {

namespace {

std::vector<ChatMessage> leading_messages(const Sample& sample) {
  std::vector<ChatMessage> messages;
  if (!sample.system.empty()) messages.push_back({"system", sample.system});
  return messages;
}

// The text `longer` adds to `prefix`; templates whose renderings are not prefixes of each
// other (some strip or reorder earlier turns) cannot give per-turn loss masks.
std::string suffix_after(const std::string& prefix, const std::string& longer,
                         const ChatTemplate& chat_template, const Sample& sample) {
  if (longer.compare(0, prefix.size(), prefix) != 0) {
    throw make_error("chat template '" + chat_template.name +
                         "' renders this conversation differently as it grows, so its turns "
                         "cannot be told apart",
                     "row " + std::to_string(sample.row + 1),
                     "Choose another template (template: alpaca, chatml, llama3, …).");
  }
  return longer.substr(prefix.size());
}

}  // namespace

std::vector<RenderedTurn> render_sft_turns(const ChatTemplate& chat_template,
                                           const Sample& sample) {
  std::vector<ChatMessage> messages = leading_messages(sample);
  std::vector<RenderedTurn> turns;
  std::string rendered;  // the conversation so far, through the last assistant reply
  for (const Message& message : sample.messages) {
    if (message.role != "assistant") {
      messages.push_back({message.role, message.content});
      continue;
    }
    const std::string prompt = render_chat(chat_template, messages, true);
    turns.push_back({suffix_after(rendered, prompt, chat_template, sample), false});
    messages.push_back({message.role, message.content});
    const std::string full = render_chat(chat_template, messages, false);
    turns.push_back({suffix_after(prompt, full, chat_template, sample), true});
    rendered = full;
  }
  if (turns.empty()) {
    throw make_error("the sample has no assistant reply to learn",
                     "row " + std::to_string(sample.row + 1),
                     "SFT data needs an output (alpaca) or an assistant turn (sharegpt/messages).");
  }
  return turns;
}

std::pair<std::string, std::string> last_reply_prompt(const ChatTemplate& chat_template,
                                                      const Sample& sample) {
  std::vector<ChatMessage> messages = leading_messages(sample);
  int64_t last = -1;
  for (size_t i = 0; i < sample.messages.size(); ++i) {
    if (sample.messages[i].role == "assistant") last = static_cast<int64_t>(i);
  }
  if (last < 0) {
    throw make_error("the sample has no assistant reply to compare with",
                     "row " + std::to_string(sample.row + 1),
                     "Evaluation data for exact match needs an output per row.");
  }
  for (int64_t i = 0; i < last; ++i) {
    messages.push_back({sample.messages[i].role, sample.messages[i].content});
  }
  return {render_chat(chat_template, messages, true), sample.messages[last].content};
}

}  // namespace tb::data
