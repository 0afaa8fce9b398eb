#include "app/cli/model_args.h"

#include <algorithm>
#include <iostream>

#include "core/methods/adapter_load.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::cli {

void add_model_args(CLI::App* command, ModelArgs& args) {
  command->add_option("MODEL", args.folder, "Hugging Face model folder")->required();
  CLI::Option* ids =
      command->add_option("--ids", args.ids, "Input token ids, comma-separated")->delimiter(',');
  CLI::Option* text = command->add_option("--text,--prompt", args.text,
                                          "Input text, tokenised with the folder's tokenizer.json");
  ids->excludes(text);
  CLI::Option_group* input = command->add_option_group("input", "What the model reads");
  input->add_options(ids, text);
  input->require_option(1);
  command->add_option("--dtype", args.dtype, "Compute dtype (default float32)")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
}

LoadOptions load_options(const ModelArgs& args) {
  LoadOptions options;
  options.dtype = args.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  return options;
}

LoadedModel load_for_cli(const ModelArgs& args, const std::string& adapter) {
  LoadOptions options = load_options(args);
  if (!adapter.empty()) {
    const AdapterHead head = adapter_head(adapter);
    options.task = head.task;
    options.num_labels = head.num_labels;
  }
  LoadedModel loaded = load_model(args.folder, options);
  const auto mention = [](const std::string& what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::vector<std::string> shown(names.begin(),
                                   names.begin() + std::min<size_t>(names.size(), 6));
    std::cerr << "note: " << names.size() << " " << what << ": " << join(shown, ", ")
              << (names.size() > shown.size() ? ", …" : "") << "\n";
  };
  mention("checkpoint tensor(s) not used by " + loaded.model->architecture(),
          loaded.report.unexpected);
  mention("tensor(s) newly initialised (train them before relying on the output)",
          loaded.report.initialised);
  return loaded;
}

void tokenize_input(ModelArgs& args) {
  if (args.text.empty()) return;
  const Tokenizer tokenizer = Tokenizer::load(args.folder);
  for (const uint32_t id : tokenizer.encode_ids(args.text, /*add_special_tokens=*/true)) {
    args.ids.push_back(static_cast<int64_t>(id));
  }
  if (args.ids.empty()) {
    throw make_error("the text gives no tokens", args.folder, "Give some text to --text.");
  }
}

std::string decode_ids(const ModelArgs& args, const std::vector<int64_t>& ids) {
  const Tokenizer tokenizer = Tokenizer::load(args.folder);
  return tokenizer.decode(std::vector<uint32_t>(ids.begin(), ids.end()),
                          /*skip_special_tokens=*/true);
}

void check_ids(const LanguageModel& model, const ModelArgs& args) {
  for (int64_t id : args.ids) {
    if (id < 0 || id >= model.vocab_size()) {
      throw make_error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                           std::to_string(model.vocab_size() - 1) + ")",
                       args.folder, "Check --ids.");
    }
  }
}

torch::Tensor position_logits(LanguageModel& model, const ModelArgs& args) {
  check_ids(model, args);
  torch::NoGradGuard no_grad;
  ModelBatch batch;
  batch.input_ids = torch::tensor(args.ids, torch::kInt64).unsqueeze(0);
  const torch::Tensor logits = model.forward(batch).logits[0];
  return (logits.dim() == 2 ? logits : logits.unsqueeze(0)).to(torch::kFloat32).contiguous();
}

torch::Tensor last_position_logits(LanguageModel& model, const ModelArgs& args) {
  return position_logits(model, args)[-1].contiguous();
}

}  // namespace tb::cli
