#pragma once
// One side of the Playground (and `tunebench-cli chat`): a model folder, optionally with a
// PEFT adapter, loaded once and asked again and again — decoders answer chat messages with
// their chat template (streamed), sequence classifiers give class probabilities.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/methods/method.h"
#include "core/models/generate.h"
#include "core/models/model.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"

namespace tb {

/// What to load.
struct ChatModelSpec {
  std::filesystem::path model;    // Hugging Face model folder
  std::filesystem::path adapter;  // PEFT adapter folder applied to it ("" = none)
  std::string chat_template;      // built-in template name ("" = recognised from the tokenizer)
};

/// A loaded model (+ adapter) ready for prompts. Not thread-safe: one call at a time.
class ChatSession {
 public:
  /// Loads the model, its tokenizer and the adapter; tb::Error naming what is wrong.
  explicit ChatSession(const ChatModelSpec& spec);
  ~ChatSession();
  ChatSession(const ChatSession&) = delete;
  ChatSession& operator=(const ChatSession&) = delete;

  /// Whether the model generates text (else it classifies).
  bool is_decoder() const;
  /// "tiny-llama + adapter out (template alpaca)" for headings and logs.
  const std::string& description() const { return description_; }
  /// The tokenizer (streaming decoders need it).
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  /// The prompt text the model sees for `history` (template applied, generation prompt added).
  std::string prompt_for(const std::vector<ChatMessage>& history) const;
  /// Decoders: the reply to `history`; `on_text` receives each newly completed piece and may
  /// return false to stop. Stops at the model's EOS tokens as well.
  std::string reply(const std::vector<ChatMessage>& history, GenerateOptions options,
                    const std::function<bool(const std::string& piece)>& on_text = {});
  /// Why the last reply ended: "stop_token", "max_new_tokens" or "callback".
  const std::string& stop_reason() const { return stop_reason_; }
  /// Sequence classifiers: (label, probability) for `text`, in label order.
  std::vector<std::pair<std::string, double>> classify(const std::string& text);

 private:
  std::shared_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<LanguageModel> model_;
  std::unique_ptr<AppliedMethod> adapter_;
  std::unique_ptr<ChatTemplate> template_;  // decoders only
  std::vector<int64_t> stop_ids_;           // EOS ids from config.json and the tokenizer
  std::vector<std::string> labels_;         // classifiers: id2label names
  std::string description_;
  std::string stop_reason_;  // of the last reply
};

}  // namespace tb
