#pragma once
// From a validated RunConfig to everything a training run needs: tokenizer, model with the
// task's head, the method applied, and the train/eval batch sources over the seeded subsets.
// Shared by `tunebench-cli train` and the GUI's training worker.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/data/example.h"
#include "core/data/preview.h"
#include "core/methods/method.h"
#include "core/models/model.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/batch_source.h"
#include "core/train/generation_eval.h"
#include "core/train/train_types.h"

namespace tb {

/// The model side of a run: no data read.
struct PreparedModel {
  RunConfig config;                       // the effective config
  std::string task;                       // effective task: lm | classification | …
  std::shared_ptr<Tokenizer> tokenizer;   // the model folder's tokenizer
  std::shared_ptr<LanguageModel> model;   // loaded with the task's head (wrapped by the method)
  std::unique_ptr<AppliedMethod> method;  // applied, or the configured adapter loaded
  std::vector<std::string> notes;         // things the user should know (head initialised…)
  std::vector<std::string> warnings;      // things that will go wrong unless the user acts
  torch::Device device = torch::kCPU;     // where the model and its batches are (training.device)
};

/// A run ready to train.
struct PreparedRun {
  RunConfig config;                            // the effective config
  std::string task;                            // effective task: lm | classification | …
  std::shared_ptr<Tokenizer> tokenizer;        // the model folder's tokenizer
  std::shared_ptr<LanguageModel> model;        // loaded, with the task's head
  std::unique_ptr<AppliedMethod> method;       // applied; says what trains
  std::unique_ptr<BatchSource> train;          // training batches (null when eval_only)
  std::unique_ptr<BatchSource> eval;           // evaluation batches (null when none)
  std::shared_ptr<ExactMatchSet> exact_match;  // SFT with predict_with_generate, else null
  int64_t train_examples = 0;                  // examples in the train subset
  int64_t eval_examples = 0;                   // examples in the eval subset
  std::string subset_summary;                  // "train 500 of 4000 / eval 100 of 1000, seed 42"
  std::vector<std::string> notes;              // things the user should know (head initialised…)
  std::vector<std::string> warnings;           // things that will go wrong unless the user acts
};

/// The data layer's view of a tokenizer: encode without specials, plus the special ids the
/// model family adds ([CLS]/[SEP]/[MASK] for BERT-style vocabularies, else BOS/EOS/pad from
/// tokenizer_config.json).
data::TokenizerFns tokenizer_functions(std::shared_ptr<Tokenizer> tokenizer);

/// The chat template a model's conversations use: the built-in `name`, else the one recognised
/// from the tokenizer's chat_template (tb::Error listing the built-ins when neither); a BOS the
/// tokenizer wants is written by the template. `model` names the folder in errors.
ChatTemplate model_chat_template(const std::string& name, std::shared_ptr<Tokenizer> tokenizer,
                                 const std::string& model);

/// The exact-match scorer of a prepared SFT run with predict_with_generate (greedy answers,
/// stopping at EOS, at most output.max_new_tokens); empty when the run has none. The
/// function keeps a reference to `prepared`.
std::function<void(EvalMetrics&)> exact_match_metric(const PreparedRun& prepared);

/// Loads the tokenizer and the model with the task's head, seeded, and applies the method (or
/// loads adapter_name_or_path); tb::Error for a missing folder or an unknown task.
PreparedModel prepare_model(const RunConfig& config);

/// The task options a run builds its examples with, for the effective `task` (lm, mlm, sft,
/// classification, verbalizer); sft reads the chat template through `tokenizer`.
data::TaskOptions task_options(const RunConfig& config, const std::string& task,
                               std::shared_ptr<Tokenizer> tokenizer);

/// What the data preview of `config` reads: its subsets and eval file, and — when the model's
/// tokenizer loads — token lengths as the run's task builds the examples.
data::PreviewOptions preview_options(const RunConfig& config);

/// The path to preview for `config`'s data set: the file, or dataset_dir with `options.name`
/// set when the data set is a dataset_info.json name.
std::filesystem::path preview_path(const RunConfig& config, data::PreviewOptions& options);

/// What prepare_run builds beyond the model.
struct PrepareOptions {
  bool eval_only = false;  // false: train and eval batches; true: the same eval subset only
                           // (train stays null, its rows are neither tokenised nor checked)
  int rank = 0;            // data parallel: this process's rank …
  int world_size = 1;      // … of this many; train then yields the rank's share of batches of
                           // per_device_train_batch_size × world_size rows
};

/// Loads and prepares everything; tb::Error says what is wrong (missing folder, data that
/// does not fit the task, …).
PreparedRun prepare_run(const RunConfig& config, const PrepareOptions& options = {});

}  // namespace tb
