#pragma once
// README.md of an exported adapter or model, as the Hugging Face hub and PEFT write them:
// YAML front matter (base_model, library_name, tags), then what was trained on what (method,
// trainable parameters, data and subset), the hyper-parameters, the final metrics, the loss
// plot, and how to load the result with PEFT, transformers, llama.cpp and tunebench.

#include <optional>
#include <string>

#include "core/config/run_config.h"
#include "core/runs/run_types.h"

namespace tb {

/// Everything the card says.
struct ModelCardInputs {
  RunConfig config;              // the run's settings (base model, method, data, hyper-params)
  std::optional<RunRecord> run;  // the run in the history, when known (subset, metrics, name)
  std::string format;            // peft | merged
  std::string trainable_text;    // PEFT-style trainable-parameter line ("" = unknown)
  std::string plot_file;         // file name of the loss plot beside the card ("" = none)
};

/// The card's Markdown text.
std::string model_card_markdown(const ModelCardInputs& inputs);

}  // namespace tb
