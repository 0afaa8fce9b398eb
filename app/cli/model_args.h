#pragma once
// Arguments shared by the commands that run a model (logits, generate): the folder, token ids
// and compute dtype, and the one forward they all need.

#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/models/loader.h"

namespace tb::cli {

/// Model folder, input and precision given on the command line.
struct ModelArgs {
  std::string folder;             // Hugging Face model folder
  std::vector<int64_t> ids;       // input token ids (--ids 1,2,3), or from --text
  std::string text;               // input text, tokenised with the folder's tokenizer
  std::string dtype = "float32";  // compute dtype: float32 | bfloat16
};

/// Adds MODEL, --ids / --text (one of them) and --dtype to a subcommand.
void add_model_args(CLI::App* command, ModelArgs& args);

/// LoadOptions for the parsed arguments.
LoadOptions load_options(const ModelArgs& args);

/// Loads args.folder and tells stderr, as transformers does, which checkpoint tensors went
/// unused and which head tensors were freshly initialised. With `adapter` (a PEFT folder), the
/// model gets the head the adapter was trained with (SEQ_CLS: a classifier of its size).
LoadedModel load_for_cli(const ModelArgs& args, const std::string& adapter = "");

/// Fills args.ids from args.text with the model folder's tokenizer (special tokens as the
/// tokenizer adds them); does nothing when ids were given.
void tokenize_input(ModelArgs& args);

/// The folder's tokenizer turns `ids` back into text.
std::string decode_ids(const ModelArgs& args, const std::vector<int64_t>& ids);

/// Throws tb::Error when an id in args.ids lies outside the model's vocabulary.
void check_ids(const LanguageModel& model, const ModelArgs& args);

/// Runs the model on args.ids and returns the fp32 logits of every position [T, vocab] (a
/// classifier's single row as [1, num_labels]).
torch::Tensor position_logits(LanguageModel& model, const ModelArgs& args);

/// Runs the model on args.ids and returns the fp32 logits row at the last position ([vocab]
/// for LMs, [num_labels] for classifiers).
torch::Tensor last_position_logits(LanguageModel& model, const ModelArgs& args);

}  // namespace tb::cli
