#include "core/train/chat_session.h"

#include <nlohmann/json.hpp>

#include "core/config/run_config.h"
#include "core/io/hf_folder.h"
#include "core/methods/adapter_load.h"
#include "core/models/loader.h"
#include "core/tokenizer/stream_decoder.h"
#include "core/train/run_setup.h"
#include "core/util/error.h"

namespace tb {

ChatSession::ChatSession(const ChatModelSpec& spec) {
  tokenizer_ = std::make_shared<Tokenizer>(Tokenizer::load(spec.model));
  LoadedModel loaded = load_model(spec.model);
  model_ = loaded.model;
  if (!spec.adapter.empty()) {
    adapter_ = load_adapter(model_, spec.adapter, RunConfig{});
    model_ = adapter_->model();
  }
  model_->eval();
  description_ = spec.model.filename().string();
  if (!spec.adapter.empty()) description_ += " + adapter " + spec.adapter.filename().string();
  if (model_->task() == ModelTask::kCausalLm) {
    template_ = std::make_unique<ChatTemplate>(
        model_chat_template(spec.chat_template, tokenizer_, spec.model.string()));
    description_ += " (template " + template_->name + ")";
    stop_ids_ = eos_token_ids(loaded.config);
    if (const auto eos = tokenizer_->token_to_id(tokenizer_->config().eos_token)) {
      stop_ids_.push_back(*eos);
    }
  } else if (model_->task() == ModelTask::kSequenceClassification) {
    const int64_t classes = config_num_labels(loaded.config, spec.model.string());
    const nlohmann::json names = loaded.config.value("id2label", nlohmann::json::object());
    for (int64_t c = 0; c < classes; ++c) {
      const std::string key = std::to_string(c);
      labels_.push_back(names.contains(key) && names[key].is_string()
                            ? names[key].get<std::string>()
                            : "LABEL_" + key);
    }
  } else {
    throw make_error(model_->architecture() + " neither generates text nor classifies",
                     spec.model.string(),
                     "The Playground runs ...ForCausalLM and ...ForSequenceClassification models.");
  }
}

ChatSession::~ChatSession() = default;

bool ChatSession::is_decoder() const { return template_ != nullptr; }

std::string ChatSession::prompt_for(const std::vector<ChatMessage>& history) const {
  if (!template_) throw make_error("a classifier has no chat template", description_);
  return render_chat(*template_, history, /*add_generation_prompt=*/true);
}

std::string ChatSession::reply(const std::vector<ChatMessage>& history, GenerateOptions options,
                               const std::function<bool(const std::string& piece)>& on_text) {
  std::vector<int64_t> ids;
  for (const uint32_t id : tokenizer_->encode_ids(prompt_for(history), false)) ids.push_back(id);
  options.stop_token_ids.insert(options.stop_token_ids.end(), stop_ids_.begin(), stop_ids_.end());
  StreamDecoder decoder(*tokenizer_);
  options.on_token = [&](int64_t token, const torch::Tensor&) {
    const std::string piece = decoder.add(token);
    return piece.empty() || !on_text || on_text(piece);
  };
  stop_reason_ = generate(*model_, ids, options).stop_reason;
  return decoder.text();
}

std::vector<std::pair<std::string, double>> ChatSession::classify(const std::string& text) {
  if (template_) throw make_error("a decoder does not classify", description_);
  std::vector<int64_t> ids;
  for (const uint32_t id : tokenizer_->encode_ids(text, true)) ids.push_back(id);
  if (ids.size() > 512) ids.resize(512);  // BERT-style encoders see at most 512 positions
  torch::NoGradGuard no_grad;
  ModelBatch batch;
  batch.input_ids = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  const torch::Tensor probabilities =
      torch::softmax(model_->forward(batch).logits[0].to(torch::kFloat32), -1);
  std::vector<std::pair<std::string, double>> out;
  for (size_t c = 0; c < labels_.size(); ++c) {
    out.emplace_back(labels_[c], probabilities[static_cast<int64_t>(c)].item<double>());
  }
  return out;
}

}  // namespace tb
