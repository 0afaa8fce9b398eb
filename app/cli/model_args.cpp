#include "app/cli/model_args.h"

#include <algorithm>
#include <iostream>

#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::cli {

void add_model_args(CLI::App* command, ModelArgs& args) {
  command->add_option("MODEL", args.folder, "Hugging Face model folder")->required();
  // --text needs the tokenizer (core/tokenizer); until then inputs are token ids.
  command->add_option("--ids", args.ids, "Input token ids, comma-separated")
      ->delimiter(',')
      ->required();
  command->add_option("--dtype", args.dtype, "Compute dtype (default float32)")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
}

LoadOptions load_options(const ModelArgs& args) {
  LoadOptions options;
  options.dtype = args.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  return options;
}

LoadedModel load_for_cli(const ModelArgs& args) {
  LoadedModel loaded = load_model(args.folder, load_options(args));
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

void check_ids(const LanguageModel& model, const ModelArgs& args) {
  for (int64_t id : args.ids) {
    if (id < 0 || id >= model.vocab_size()) {
      throw make_error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                           std::to_string(model.vocab_size() - 1) + ")",
                       args.folder, "Check --ids.");
    }
  }
}

torch::Tensor last_position_logits(LanguageModel& model, const ModelArgs& args) {
  check_ids(model, args);
  torch::NoGradGuard no_grad;
  ModelBatch batch;
  batch.input_ids = torch::tensor(args.ids, torch::kInt64).unsqueeze(0);
  const torch::Tensor logits = model.forward(batch).logits;
  const torch::Tensor row = logits.dim() == 3 ? logits[0][-1] : logits[0];
  return row.to(torch::kFloat32).contiguous();
}

}  // namespace tb::cli
