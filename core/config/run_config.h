#pragma once
// Every setting of a run, grouped, each default stated once (here). The YAML keys are flat and
// follow LLaMA-Factory (and ChatGLM's P-tuning v2 names) so their files load unchanged; the
// key of each field is listed in config_fields.h next to its help text and range.

#include <cstdint>
#include <string>
#include <vector>

namespace tb {

/// Which model to fine-tune.
struct ModelSettings {
  std::string model_name_or_path;  // required: Hugging Face model folder (or a hub id)
  std::string fallback_model;      // "" = none; used (with a notice) when the above is missing
  std::vector<std::string> fallback_set;  // key=value applied only when the fallback is used
  std::string adapter_name_or_path;       // "" = none; a PEFT adapter loaded on top of the base
  std::string chat_template;              // "" = recognise from the tokenizer; else a built-in name
};

/// How the model is adapted (finetuning_type and each method's options).
struct MethodSettings {
  std::string finetuning_type = "lora";  // full | freeze | lora | ptuning
  // LoRA (also QLoRA with quantization_bit 4)
  int64_t lora_rank = 8;                           // r
  double lora_alpha = 0;                           // 0 = 2 × lora_rank (LLaMA-Factory's default)
  double lora_dropout = 0.0;                       // dropout on the LoRA input
  std::vector<std::string> lora_target = {"all"};  // module names, or all / all-linear
  std::vector<std::string> additional_target;      // modules trained fully and saved (PEFT)
  bool use_rslora = false;                         // scale alpha/√r instead of alpha/r
  bool use_dora = false;                           // weight-decomposed LoRA
  // Quantization of the frozen base (QLoRA)
  int64_t quantization_bit = 0;           // 0 = none, 4 = NF4 (QLoRA)
  std::string quantization_type = "nf4";  // 4-bit data type: nf4
  bool double_quantization = true;        // quantize the quantization scales too
  // Freeze
  int64_t freeze_trainable_layers = 2;                          // last n layers (negative: first n)
  std::vector<std::string> freeze_trainable_modules = {"all"};  // module names in those layers
  std::vector<std::string> freeze_extra_modules;                // modules outside layers that train
  // P-tuning v2 (deep prefix)
  int64_t pre_seq_len = 16;          // number of virtual prefix tokens per layer
  bool prefix_projection = false;    // re-parameterise the prefix through an MLP
  int64_t prefix_hidden_size = 512;  // hidden size of that MLP
};

/// What the model learns to do.
struct TaskSettings {
  std::string stage = "sft";  // LLaMA-Factory stage: sft | pt (others are not supported)
  std::string task = "";      // "" = from stage (sft → sft, pt → lm); or mlm | classification |
                              // verbalizer
  int64_t num_labels = 2;     // classes of classification/verbalizer tasks
  std::vector<std::string> label_names;  // names of the classes, index = label id ("" = 0..n-1)
  std::string prompt_template = "{text} It was {mask}";    // verbalizer template
  std::vector<std::string> label_words = {"bad", "good"};  // verbalizer word per class
};

/// Which data and which part of it.
struct DataSettings {
  std::vector<std::string> dataset;       // files or dataset_info.json names (comma list in YAML)
  std::vector<std::string> eval_dataset;  // "" = split off with val_size
  std::string dataset_dir = "data";       // folder holding dataset_info.json
  int64_t cutoff_len = 1024;              // tokens per example after truncation
  int64_t max_samples = 0;                // 0 = all; else train subset size after the shuffle
  int64_t max_eval_samples = 0;           // 0 = all; else eval subset size after the shuffle
  double val_size = 0.0;                  // eval split: fraction (< 1) or row count (≥ 1)
  bool packing = false;                   // pack several examples into one sequence (LM)
  bool train_on_prompt = false;           // also learn the prompt tokens (SFT)
  bool pad_to_max_length = false;         // pad to cutoff_len (recipes) instead of the batch max
  bool skip_bad_rows = false;             // skip (and count) malformed rows instead of failing
};

/// Optimisation and schedule (transformers' TrainingArguments names).
struct TrainingSettings {
  double learning_rate = 5e-5;               // peak learning rate
  double num_train_epochs = 3.0;             // epochs; fractions allowed (0.5)
  int64_t max_steps = -1;                    // > 0 overrides num_train_epochs
  int64_t per_device_train_batch_size = 8;   // examples per forward pass
  int64_t per_device_eval_batch_size = 8;    // examples per eval forward pass
  int64_t gradient_accumulation_steps = 1;   // forward passes per optimizer step
  std::string optim = "adamw_torch";         // adamw_torch | sgd
  double weight_decay = 0.0;                 // AdamW decay (not on biases and norms)
  double adam_beta1 = 0.9;                   // AdamW β1
  double adam_beta2 = 0.999;                 // AdamW β2
  double adam_epsilon = 1e-8;                // AdamW ε
  double max_grad_norm = 1.0;                // gradient clipping; 0 = off
  std::string lr_scheduler_type = "linear";  // linear | cosine | constant | constant_with_warmup
  double warmup_ratio = 0.0;                 // warmup as a fraction of all steps
  int64_t warmup_steps = 0;                  // warmup steps (wins over warmup_ratio when > 0)
  bool bf16 = false;                         // bf16 mixed precision
  bool fp16 = false;                         // fp16 mixed precision with loss scaling (CUDA)
  bool gradient_checkpointing = false;       // recompute blocks in backward to save memory
  int64_t seed = 42;                         // init, dropout and data order
  std::string device = "auto";               // auto | cpu | cuda | cuda:N
  int64_t ddp_timeout = 1800;                // seconds a rank waits for the others
};

/// Logging, evaluation, checkpoints and where results go.
struct OutputSettings {
  std::string output_dir;               // required: checkpoints, adapter, logs
  bool overwrite_output_dir = false;    // allow a non-empty output_dir
  std::string run_name;                 // "" = derived from model, method and data
  int64_t logging_steps = 10;           // log train metrics every n optimizer steps
  std::string eval_strategy = "no";     // no | steps | epoch
  int64_t eval_steps = 0;               // 0 = logging_steps (eval_strategy steps)
  bool eval_on_start = false;           // evaluate once before the first step (a baseline)
  bool predict_with_generate = false;   // SFT eval: greedy answers scored by exact match
  int64_t max_new_tokens = 32;          // most tokens generated per eval answer
  std::string save_strategy = "steps";  // no | steps | epoch
  int64_t save_steps = 500;             // checkpoint every n optimizer steps
  int64_t save_total_limit = 0;         // keep only the newest n checkpoints; 0 = all
  std::string resume_from_checkpoint;   // "" = fresh start; a checkpoint folder
};

/// A complete run configuration.
struct RunConfig {
  ModelSettings model;        // what to fine-tune
  MethodSettings method;      // how
  TaskSettings task;          // to do what
  DataSettings data;          // on which data
  TrainingSettings training;  // optimisation
  OutputSettings output;      // logging and results
};

/// The task after defaults: task.task, or from the stage when empty.
std::string effective_task(const RunConfig& config);

/// lora_alpha after defaults (0 → 2 × rank).
double effective_lora_alpha(const RunConfig& config);

/// Field-by-field equality (every key of config_fields.h).
bool operator==(const RunConfig& a, const RunConfig& b);
/// Negation of ==.
inline bool operator!=(const RunConfig& a, const RunConfig& b) { return !(a == b); }

}  // namespace tb
