#pragma once
// The one list of a RunConfig's YAML keys: key, group, help and allowed values per field.
// Reading, writing, comparing, --set overrides and the GUI form all walk this list, so a new
// setting is one member in run_config.h plus one line here.

#include <limits>
#include <string>
#include <vector>

#include "core/config/run_config.h"

namespace tb {

/// Description of one YAML key.
struct FieldMeta {
  /// A free-form field: key, group and help only.
  FieldMeta(const char* key_, const char* group_, const char* help_)
      : key(key_), group(group_), help(help_) {}
  const char* key = "";    // YAML key (LLaMA-Factory's name where one exists)
  const char* group = "";  // model | method | task | data | training | output
  const char* help = "";   // one line for --help, tooltips and comments in written YAML
  double min = -std::numeric_limits<double>::infinity();  // smallest allowed number
  double max = std::numeric_limits<double>::infinity();   // largest allowed number
  bool min_exclusive = false;        // true: value must be > min (e.g. learning_rate > 0)
  std::vector<std::string> choices;  // allowed strings (or list items); empty = free text
};

namespace fields_detail {
inline FieldMeta at_least(const char* key, const char* group, const char* help, double min) {
  FieldMeta meta{key, group, help};
  meta.min = min;
  return meta;
}
inline FieldMeta positive(const char* key, const char* group, const char* help) {
  FieldMeta meta{key, group, help};
  meta.min = 0;
  meta.min_exclusive = true;
  return meta;
}
inline FieldMeta between(const char* key, const char* group, const char* help, double min,
                         double max) {
  FieldMeta meta{key, group, help};
  meta.min = min;
  meta.max = max;
  return meta;
}
inline FieldMeta one_of(const char* key, const char* group, const char* help,
                        std::vector<std::string> choices) {
  FieldMeta meta{key, group, help};
  meta.choices = std::move(choices);
  return meta;
}
}  // namespace fields_detail

/// Calls visit(member, meta) for every field of `config` (RunConfig or const RunConfig).
template <class Config, class Visit>
void visit_fields(Config& c, Visit&& visit) {
  using namespace fields_detail;
  // model
  visit(c.model.model_name_or_path,
        FieldMeta{"model_name_or_path", "model", "Hugging Face model folder (or hub id)"});
  visit(c.model.fallback_model,
        FieldMeta{"fallback_model", "model",
                  "Model folder used, with a notice, when model_name_or_path is not present"});
  visit(c.model.fallback_set,
        FieldMeta{"fallback_set", "model",
                  "key=value settings applied only with the fallback model (tiny demo models "
                  "need e.g. a larger learning rate than the recipe's)"});
  visit(c.model.adapter_name_or_path,
        FieldMeta{"adapter_name_or_path", "model", "PEFT adapter folder loaded on the base"});
  visit(c.model.chat_template,
        FieldMeta{"template", "model", "Chat template name; empty = recognise from tokenizer"});
  // method
  visit(c.method.finetuning_type, one_of("finetuning_type", "method",
                                         "Method: full, freeze, lora (QLoRA with "
                                         "quantization_bit 4) or ptuning (P-tuning v2)",
                                         {"full", "freeze", "lora", "ptuning"}));
  visit(c.method.lora_rank, between("lora_rank", "method", "LoRA rank r", 1, 65536));
  visit(c.method.lora_alpha, at_least("lora_alpha", "method", "LoRA alpha; 0 = 2 × rank", 0));
  visit(c.method.lora_dropout,
        between("lora_dropout", "method", "Dropout on LoRA inputs", 0, 0.999));
  visit(c.method.lora_target,
        FieldMeta{"lora_target", "method",
                  "Modules that get LoRA: names (q_proj, v_proj, query, …) or all / all-linear"});
  visit(c.method.additional_target,
        FieldMeta{"additional_target", "method",
                  "Modules trained fully and saved with the adapter (PEFT modules_to_save)"});
  visit(c.method.use_rslora, FieldMeta{"use_rslora", "method", "rsLoRA scaling alpha/√r"});
  visit(c.method.use_dora, FieldMeta{"use_dora", "method", "DoRA (weight-decomposed LoRA)"});
  visit(c.method.quantization_bit,
        between("quantization_bit", "method", "Quantize the frozen base: 0 = off, 4 = NF4 (QLoRA)",
                0, 8));
  visit(c.method.quantization_type,
        one_of("quantization_type", "method", "4-bit data type", {"nf4"}));
  visit(c.method.double_quantization,
        FieldMeta{"double_quantization", "method", "Quantize the NF4 block scales too"});
  visit(c.method.freeze_trainable_layers,
        FieldMeta{"freeze_trainable_layers", "method",
                  "Freeze: train the last n layers (negative: the first n)"});
  visit(c.method.freeze_trainable_modules,
        FieldMeta{"freeze_trainable_modules", "method",
                  "Freeze: modules trained inside those layers (names or all)"});
  visit(c.method.freeze_extra_modules,
        FieldMeta{"freeze_extra_modules", "method",
                  "Freeze: modules outside the layers that train too (e.g. classifier)"});
  visit(c.method.pre_seq_len,
        between("pre_seq_len", "method", "P-tuning v2: virtual prefix tokens per layer", 1, 4096));
  visit(c.method.prefix_projection, FieldMeta{"prefix_projection", "method",
                                              "P-tuning v2: re-parameterise the prefix by an MLP"});
  visit(c.method.prefix_hidden_size,
        between("prefix_hidden_size", "method", "P-tuning v2: hidden size of that MLP", 1, 65536));
  // task
  visit(c.task.stage, one_of("stage", "task", "LLaMA-Factory stage: sft or pt", {"sft", "pt"}));
  visit(c.task.task, one_of("task", "task",
                            "What is learned: sft, lm, mlm, classification or verbalizer; empty = "
                            "from stage",
                            {"", "sft", "lm", "mlm", "classification", "verbalizer"}));
  visit(c.task.num_labels, between("num_labels", "task", "Number of classes", 2, 100000));
  visit(c.task.label_names,
        FieldMeta{"label_names", "task", "Class names; index = label id (empty = 0..n-1)"});
  visit(c.task.prompt_template,
        FieldMeta{"prompt_template", "task", "Verbalizer prompt with {text} and {mask}"});
  visit(c.task.label_words,
        FieldMeta{"label_words", "task", "Verbalizer: the word that stands for each class"});
  // data
  visit(c.data.dataset, FieldMeta{"dataset", "data", "Training data: files or dataset names"});
  visit(c.data.eval_dataset,
        FieldMeta{"eval_dataset", "data", "Evaluation data; empty = split off with val_size"});
  visit(c.data.dataset_dir,
        FieldMeta{"dataset_dir", "data", "Folder with dataset_info.json (relative to the YAML)"});
  visit(c.data.cutoff_len, between("cutoff_len", "data", "Tokens per example", 1, 1 << 24));
  visit(c.data.max_samples,
        at_least("max_samples", "data", "Train subset size after a seeded shuffle; 0 = all", 0));
  visit(c.data.max_eval_samples, at_least("max_eval_samples", "data",
                                          "Eval subset size after a seeded shuffle; 0 = all", 0));
  visit(c.data.val_size,
        at_least("val_size", "data", "Eval split: fraction (< 1) or number of rows", 0));
  visit(c.data.packing, FieldMeta{"packing", "data", "Pack examples into full sequences (LM)"});
  visit(c.data.train_on_prompt,
        FieldMeta{"train_on_prompt", "data", "SFT: learn the prompt tokens too"});
  visit(c.data.pad_to_max_length,
        FieldMeta{"pad_to_max_length", "data", "Pad every batch to cutoff_len"});
  visit(c.data.skip_bad_rows,
        FieldMeta{"skip_bad_rows", "data", "Skip and count malformed rows instead of failing"});
  // training
  visit(c.training.learning_rate, positive("learning_rate", "training", "Peak learning rate"));
  visit(c.training.num_train_epochs,
        positive("num_train_epochs", "training", "Epochs (fractions allowed)"));
  visit(c.training.max_steps,
        at_least("max_steps", "training", "Optimizer steps; > 0 overrides num_train_epochs", -1));
  visit(c.training.per_device_train_batch_size, between("per_device_train_batch_size", "training",
                                                        "Examples per forward pass", 1, 1 << 20));
  visit(c.training.per_device_eval_batch_size,
        between("per_device_eval_batch_size", "training", "Examples per eval forward pass", 1,
                1 << 20));
  visit(c.training.gradient_accumulation_steps,
        between("gradient_accumulation_steps", "training", "Forward passes per optimizer step", 1,
                1 << 20));
  visit(c.training.optim, one_of("optim", "training", "Optimizer", {"adamw_torch", "sgd"}));
  visit(c.training.weight_decay,
        at_least("weight_decay", "training", "AdamW weight decay (not on biases/norms)", 0));
  visit(c.training.adam_beta1, between("adam_beta1", "training", "AdamW β1", 0, 0.999999));
  visit(c.training.adam_beta2, between("adam_beta2", "training", "AdamW β2", 0, 0.999999));
  visit(c.training.adam_epsilon, positive("adam_epsilon", "training", "AdamW ε"));
  visit(c.training.max_grad_norm,
        at_least("max_grad_norm", "training", "Clip gradients to this norm; 0 = off", 0));
  visit(c.training.lr_scheduler_type,
        one_of("lr_scheduler_type", "training", "Learning-rate schedule",
               {"linear", "cosine", "constant", "constant_with_warmup"}));
  visit(c.training.warmup_ratio,
        between("warmup_ratio", "training", "Warmup as a fraction of all steps", 0, 1));
  visit(c.training.warmup_steps,
        at_least("warmup_steps", "training", "Warmup steps (win over warmup_ratio)", 0));
  visit(c.training.bf16, FieldMeta{"bf16", "training", "bf16 mixed precision"});
  visit(c.training.fp16, FieldMeta{"fp16", "training", "fp16 mixed precision (CUDA)"});
  visit(c.training.gradient_checkpointing,
        FieldMeta{"gradient_checkpointing", "training", "Recompute activations to save memory"});
  visit(c.training.seed, at_least("seed", "training", "Seed of init, dropout and data order", 0));
  visit(c.training.device, FieldMeta{"device", "training", "auto, cpu, cuda or cuda:N"});
  visit(c.training.ddp_timeout,
        between("ddp_timeout", "training", "Seconds a process waits for the others", 1, 1e12));
  // output
  visit(c.output.output_dir,
        FieldMeta{"output_dir", "output", "Checkpoints, adapter and logs (relative to the YAML)"});
  visit(c.output.overwrite_output_dir,
        FieldMeta{"overwrite_output_dir", "output", "Allow writing into a non-empty output_dir"});
  visit(c.output.run_name, FieldMeta{"run_name", "output", "Name in the run history"});
  visit(c.output.logging_steps,
        between("logging_steps", "output", "Log train metrics every n steps", 1, 1e12));
  visit(c.output.eval_strategy,
        one_of("eval_strategy", "output", "When to evaluate", {"no", "steps", "epoch"}));
  visit(c.output.eval_steps,
        at_least("eval_steps", "output", "Evaluate every n steps; 0 = logging_steps", 0));
  visit(c.output.eval_on_start,
        FieldMeta{"eval_on_start", "output", "Evaluate once before the first step (a baseline)"});
  visit(c.output.predict_with_generate,
        FieldMeta{"predict_with_generate", "output",
                  "SFT eval: generate greedy answers and score exact match"});
  visit(c.output.max_new_tokens,
        between("max_new_tokens", "output", "Most tokens generated per eval answer", 1, 1e6));
  visit(c.output.save_strategy,
        one_of("save_strategy", "output", "When to checkpoint", {"no", "steps", "epoch"}));
  visit(c.output.save_steps, between("save_steps", "output", "Checkpoint every n steps", 1, 1e12));
  visit(c.output.save_total_limit,
        at_least("save_total_limit", "output", "Keep only the newest n checkpoints; 0 = all", 0));
  visit(c.output.resume_from_checkpoint,
        FieldMeta{"resume_from_checkpoint", "output", "Checkpoint folder to resume from"});
}

/// Keys of other tools (LLaMA-Factory, transformers) that load with a warning: key → why.
const std::vector<std::pair<std::string, std::string>>& ignored_config_keys();

/// Other names accepted for a key (older transformers/LLaMA-Factory spellings): alias → key.
const std::vector<std::pair<std::string, std::string>>& config_key_aliases();

/// Every key a RunConfig YAML may contain (fields, ignored keys, aliases).
std::vector<std::string> all_config_keys();

}  // namespace tb
