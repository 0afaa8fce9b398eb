#include "core/train/run_setup.h"

#include <filesystem>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "core/data/chat_turns.h"
#include "core/data/dataset.h"
#include "core/data/loader.h"
#include "core/data/mlm_masking.h"
#include "core/data/subset.h"
#include "core/data/task_examples.h"
#include "core/methods/adapter_load.h"
#include "core/methods/registry.h"
#include "core/methods/verbalizer.h"
#include "core/models/loader.h"
#include "core/train/shard_source.h"
#include "core/util/device.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

// Batches of a data::Loader as the trainer reads them: (epoch, index) → tensors. For masked-LM
// pretraining the masks are drawn per batch from (seed, epoch, index): new masks every epoch,
// the same ones after a resume.
class LoaderSource final : public BatchSource {
 public:
  LoaderSource(data::Loader loader, bool class_labels,
               std::optional<data::MlmMaskingOptions> masking, uint64_t seed, torch::Device device)
      : loader_(std::move(loader)),
        class_labels_(class_labels),
        masking_(std::move(masking)),
        seed_(seed),
        device_(device) {}
  int64_t batches_per_epoch() const override { return loader_.batches_per_epoch(); }
  ModelBatch batch(int64_t epoch, int64_t index) override {
    data::Cursor cursor;
    cursor.epoch = epoch;
    cursor.position = index;
    data::Batch batch = loader_.next(cursor);
    ModelBatch model_batch;
    model_batch.input_ids = batch.input_ids;
    model_batch.attention_mask = batch.attention_mask;
    model_batch.token_type_ids = batch.token_type_ids;
    model_batch.labels = class_labels_ ? batch.class_labels : batch.labels;
    model_batch.mask_positions = batch.mask_positions;
    if (masking_) {
      const uint64_t batch_seed = seed_ ^ (static_cast<uint64_t>(epoch) << 32) ^
                                  static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ull;
      std::tie(model_batch.input_ids, model_batch.labels) =
          data::mask_tokens(batch.input_ids, batch.attention_mask, *masking_, batch_seed);
    }
    if (!device_.is_cpu()) {
      // Collated (and masked) on the CPU, where the data is; then to the model's device.
      for (torch::Tensor* tensor :
           {&model_batch.input_ids, &model_batch.attention_mask, &model_batch.token_type_ids,
            &model_batch.labels, &model_batch.mask_positions}) {
        if (tensor->defined()) *tensor = tensor->to(device_, /*non_blocking=*/true);
      }
    }
    return model_batch;
  }

 private:
  data::Loader loader_;
  bool class_labels_;
  std::optional<data::MlmMaskingOptions> masking_;
  uint64_t seed_;
  torch::Device device_;  // where the batches go (the model's device)
};

int32_t id_of(const Tokenizer& tokenizer, const std::string& token) {
  if (token.empty()) return -1;
  const auto id = tokenizer.token_to_id(token);
  return id ? static_cast<int32_t>(*id) : -1;
}

// BERT's masking: 15 % of the real tokens, never the specials the collator adds.
data::MlmMaskingOptions mlm_masking(const Tokenizer& tokenizer, const data::TokenizerFns& fns) {
  data::MlmMaskingOptions masking;
  masking.mask_id = fns.mask_id;
  masking.vocab_size = static_cast<int64_t>(tokenizer.vocab_size());
  for (const int32_t id : {fns.bos_id, fns.eos_id, fns.sep_id, fns.pad_id}) {
    if (id >= 0) masking.never_mask.push_back(id);
  }
  return masking;
}

// The run's chat template: the one named in the config, else the one recognised from the
// tokenizer's chat_template. A BOS the tokenizer wants is written by the template, so the
// prompt the model is trained on and the one it answers at evaluation start alike.
// A data set entry: a file, or a name in dataset_dir/dataset_info.json (LLaMA-Factory's
// registry); returns the path to open and the name ("" for a file).
std::pair<fs::path, std::string> resolve_data_entry(const std::string& entry,
                                                    const RunConfig& config) {
  if (fs::exists(entry)) return {entry, ""};
  const fs::path registry = fs::path(config.data.dataset_dir) / "dataset_info.json";
  if (fs::exists(registry)) return {config.data.dataset_dir, entry};
  throw make_error("no such data file (and no " + registry.string() + " to look it up as a name)",
                   entry, "Check the path; relative paths resolve against the config's folder.");
}

data::Dataset open_data(const std::string& entry, const RunConfig& config) {
  data::DatasetOptions options;
  options.reader_options.skip_bad_rows = config.data.skip_bad_rows;
  const auto [path, name] = resolve_data_entry(entry, config);
  return data::open_dataset(path, name, options);
}

}  // namespace

// Special tokens the way transformers' tokenizers add them: BERT-style [CLS] … [SEP], or the
// tokenizer_config's BOS (decoders) when it asks for one.
data::TokenizerFns tokenizer_functions(std::shared_ptr<Tokenizer> tokenizer) {
  data::TokenizerFns fns;
  fns.encode = [tokenizer](std::string_view text) {
    const std::vector<uint32_t> ids = tokenizer->encode_ids(text, /*add_special_tokens=*/false);
    return std::vector<int32_t>(ids.begin(), ids.end());
  };
  const TokenizerConfig& config = tokenizer->config();
  if (const int32_t cls = id_of(*tokenizer, "[CLS]"); cls >= 0) {
    fns.bos_id = cls;
    fns.eos_id = id_of(*tokenizer, "[SEP]");
    fns.mask_id = id_of(*tokenizer, "[MASK]");
    fns.pad_id = std::max(0, id_of(*tokenizer, "[PAD]"));
    return fns;
  }
  if (config.add_bos_token.value_or(true)) fns.bos_id = id_of(*tokenizer, config.bos_token);
  fns.eos_id = id_of(*tokenizer, config.eos_token);
  fns.mask_id = id_of(*tokenizer, "<mask>");
  const int32_t pad = id_of(*tokenizer, config.pad_token);
  fns.pad_id = pad >= 0 ? pad : std::max(0, fns.eos_id);
  return fns;
}

ChatTemplate model_chat_template(const std::string& name, std::shared_ptr<Tokenizer> tokenizer,
                                 const std::string& model) {
  std::string chosen = name;
  if (chosen.empty()) chosen = recognize_chat_template(tokenizer->config().chat_template);
  if (chosen.empty()) {
    throw make_error("the tokenizer of " + model + " has no chat template that tunebench knows",
                     "template",
                     "Name one (template: in a config, --template on the command line): " +
                         join(chat_template_names(), ", ") + ".");
  }
  ChatTemplate chat = builtin_chat_template(chosen);
  if (chat.bos.empty() && tokenizer_functions(tokenizer).bos_id >= 0) {
    chat.bos = tokenizer->config().bos_token;
  }
  return chat;
}

std::function<void(EvalMetrics&)> exact_match_metric(const PreparedRun& prepared) {
  if (!prepared.exact_match) return {};
  ExactMatchOptions generation;
  generation.max_new_tokens = prepared.config.output.max_new_tokens;
  const data::TokenizerFns fns = tokenizer_functions(prepared.tokenizer);
  if (fns.eos_id >= 0) generation.stop_token_ids.push_back(fns.eos_id);
  return [&prepared, generation](EvalMetrics& metrics) {
    metrics.exact_match =
        exact_match(*prepared.model, *prepared.tokenizer, *prepared.exact_match, generation);
  };
}

PreparedModel prepare_model(const RunConfig& config) {
  PreparedModel run;
  run.config = config;
  run.task = effective_task(config);
  const fs::path folder = config.model.model_name_or_path;
  if (!fs::is_directory(folder)) {
    throw make_error("the model folder does not exist", folder.string(),
                     "Set model_name_or_path to a local Hugging Face model folder (tunebench "
                     "downloads nothing).");
  }
  run.tokenizer = std::make_shared<Tokenizer>(Tokenizer::load(folder));
  LoadOptions load;
  if (run.task == "lm" || run.task == "sft") {
    load.task = ModelTask::kCausalLm;
  } else if (run.task == "mlm" || run.task == "verbalizer") {
    load.task = ModelTask::kMaskedLm;
  } else if (run.task == "classification") {
    load.task = ModelTask::kSequenceClassification;
    load.num_labels = config.task.num_labels;
  } else {
    throw make_error("unknown task '" + run.task + "'", "task",
                     "Use task lm, mlm, sft, classification or verbalizer.");
  }
  // Seeded before anything is initialised (a new head, LoRA's A, the prefix), as the
  // transformers scripts call set_seed before from_pretrained: the same config gives the same
  // run.
  torch::manual_seed(static_cast<uint64_t>(config.training.seed));
  run.device = resolve_device(config.training.device);
  load.device = run.device;
  LoadedModel loaded = load_model(folder, load);
  run.model = loaded.model;
  if (run.task == "verbalizer") {
    // Class c's logit is the MLM logit of its label word at the mask (recipe A.3).
    std::vector<std::vector<int64_t>> label_ids;
    for (const std::string& word : config.task.label_words) {
      const std::vector<uint32_t> ids =
          run.tokenizer->encode_ids(word, /*add_special_tokens=*/false);
      if (ids.size() != 1) {
        throw make_error("label word '" + word + "' is " + std::to_string(ids.size()) +
                             " tokens for this tokenizer; a verbalizer word must be one token",
                         "label_words", "Choose words that are single tokens in the vocabulary.");
      }
      label_ids.push_back({static_cast<int64_t>(ids.front())});
    }
    run.model = make_verbalizer_model(run.model, label_ids);
  }
  run.method = config.model.adapter_name_or_path.empty()
                   ? apply_method(run.model, config)
                   : load_adapter(run.model, config.model.adapter_name_or_path, config);
  run.model = run.method->model();  // P-tuning v2 wraps the model: train the wrapper
  // A freshly initialised head tensor the method neither trains nor saves (e.g. BERT's pooler
  // under LoRA on a masked-LM checkpoint) is random on every load: the adapter alone cannot
  // reproduce the trained model's outputs.
  std::set<std::string> trained;
  for (const auto& [name, tensor] : run.method->trainable()) trained.insert(name);
  const bool saves_adapter = run.method->name() == "lora" || run.method->name() == "ptuning";
  std::set<std::string> warned;  // one warning per head module, not per tensor
  for (const std::string& name : loaded.report.initialised) {
    if (trained.count(name) > 0 || !saves_adapter) {
      run.notes.push_back("initialised " + name + " (not in the checkpoint; it will be trained)");
      continue;
    }
    std::string module;  // the head's own name ("bert.pooler." → "pooler")
    for (std::string prefix : loaded.model->head_prefixes()) {
      if (name.rfind(prefix, 0) != 0) continue;
      while (!prefix.empty() && prefix.back() == '.') prefix.pop_back();
      module = prefix.substr(prefix.rfind('.') + 1);
    }
    if (!warned.insert(module).second) continue;
    run.warnings.push_back(name.substr(0, name.rfind('.')) +
                           " is not in the checkpoint, so it starts random, and " +
                           run.method->name() +
                           " neither trains nor saves it: PEFT, loading the adapter, draws it anew "
                           "and will not reproduce this model's outputs. Add '" +
                           module + "' to additional_target (PEFT's modules_to_save).");
  }
  // What the method added (LoRA's A and B, the prefix) is drawn on the CPU, so the same seed
  // gives the same run on every device; then it joins the model.
  run.model->to(run.device);
  return run;
}

data::TaskOptions task_options(const RunConfig& config, const std::string& task,
                               std::shared_ptr<Tokenizer> tokenizer) {
  data::TaskOptions options;
  if (task == "lm") {
    options.kind = data::TaskKind::kCausalLm;
    options.causal_lm.max_length = config.data.cutoff_len;
  } else if (task == "mlm") {
    // BERT pretraining: [CLS] text [SEP]; the masked targets are drawn per batch.
    options.kind = data::TaskKind::kCausalLm;
    options.causal_lm.max_length = config.data.cutoff_len;
    options.causal_lm.add_eos = true;
  } else if (task == "sft") {
    auto chat = std::make_shared<const ChatTemplate>(model_chat_template(
        config.model.chat_template, tokenizer, config.model.model_name_or_path));
    options.kind = data::TaskKind::kSft;
    options.sft.cutoff_len = config.data.cutoff_len;
    options.sft.train_on_prompt = config.data.train_on_prompt;
    options.render_chat = [chat](const data::Sample& sample) {
      return data::render_sft_turns(*chat, sample);
    };
  } else if (task == "classification") {
    options.kind = data::TaskKind::kClassification;
    options.classification.max_length = config.data.cutoff_len;
  } else if (task == "verbalizer") {
    options.kind = data::TaskKind::kVerbalizer;
    options.verbalizer.prompt_template = config.task.prompt_template;
    options.verbalizer.max_length = config.data.cutoff_len;
  }
  return options;
}

data::PreviewOptions preview_options(const RunConfig& config) {
  if (config.data.dataset.empty()) {
    throw make_error("no data set", "dataset", "Set dataset to a data file.");
  }
  data::PreviewOptions options;
  options.dataset.reader_options.skip_bad_rows = config.data.skip_bad_rows;
  options.subset.max_samples = config.data.max_samples > 0 ? config.data.max_samples : -1;
  options.subset.eval_samples =
      config.data.max_eval_samples > 0 ? config.data.max_eval_samples : -1;
  options.subset.val_size = config.data.val_size;
  options.subset.seed = static_cast<uint64_t>(config.training.seed);
  if (!config.data.eval_dataset.empty()) options.eval_path = config.data.eval_dataset.front();
  try {
    auto tokenizer = std::make_shared<Tokenizer>(Tokenizer::load(config.model.model_name_or_path));
    options.tokenizer = tokenizer_functions(tokenizer);
    options.task = task_options(config, effective_task(config), tokenizer);
  } catch (const Error&) {
    // No usable tokenizer (yet): the preview shows the data without token lengths.
  }
  return options;
}

std::filesystem::path preview_path(const RunConfig& config, data::PreviewOptions& options) {
  const auto [path, name] = resolve_data_entry(config.data.dataset.front(), config);
  options.name = name;
  return path;
}

PreparedRun prepare_run(const RunConfig& config, const PrepareOptions& options) {
  if (config.data.dataset.size() != 1 || config.data.eval_dataset.size() > 1) {
    throw make_error("training on several data sets at once is not supported yet", "dataset",
                     "Name one training file (and at most one eval file).");
  }
  PreparedModel prepared = prepare_model(config);
  PreparedRun run;
  run.config = config;
  run.task = prepared.task;
  run.tokenizer = prepared.tokenizer;
  run.model = prepared.model;
  run.method = std::move(prepared.method);
  run.notes = std::move(prepared.notes);
  run.warnings = std::move(prepared.warnings);
  const data::TokenizerFns fns = tokenizer_functions(run.tokenizer);
  const data::TaskOptions task = task_options(config, run.task, run.tokenizer);
  const bool class_labels =
      task.kind == data::TaskKind::kClassification || task.kind == data::TaskKind::kVerbalizer;
  std::optional<data::MlmMaskingOptions> masking;
  if (run.task == "mlm") masking = mlm_masking(*run.tokenizer, fns);  // per batch, see below
  const bool chat = task.kind == data::TaskKind::kSft;
  std::shared_ptr<const ChatTemplate> chat_template;
  if (chat && config.output.predict_with_generate) {
    chat_template = std::make_shared<const ChatTemplate>(model_chat_template(
        config.model.chat_template, run.tokenizer, config.model.model_name_or_path));
  }

  const data::Dataset train_data = open_data(config.data.dataset.front(), config);
  std::unique_ptr<data::Dataset> eval_file;
  if (!config.data.eval_dataset.empty()) {
    eval_file =
        std::make_unique<data::Dataset>(open_data(config.data.eval_dataset.front(), config));
  }
  data::SubsetOptions subset_options;
  subset_options.max_samples = config.data.max_samples > 0 ? config.data.max_samples : -1;
  subset_options.eval_samples =
      config.data.max_eval_samples > 0 ? config.data.max_eval_samples : -1;
  subset_options.val_size = config.data.val_size;
  subset_options.seed = static_cast<uint64_t>(config.training.seed);
  const data::Subset subset =
      data::select_subset(train_data.size(), eval_file ? eval_file->size() : -1, subset_options);

  data::CollateOptions collate;
  collate.max_length = config.data.pad_to_max_length ? config.data.cutoff_len : 0;
  collate.pad_id = fns.pad_id;
  data::SamplerOptions sampler;
  sampler.batch_size = config.training.per_device_train_batch_size * options.world_size;
  sampler.seed = static_cast<uint64_t>(config.training.seed);

  if (options.eval_only) {
    // build_examples gives one example per row here (nothing packs), so the summary below
    // reads as in training without tokenising the train rows.
    run.train_examples = static_cast<int64_t>(subset.train.size());
  } else {
    std::vector<data::Example> train_examples =
        data::build_examples(train_data, subset.train, fns, task);
    run.train_examples = static_cast<int64_t>(train_examples.size());
    run.train = std::make_unique<LoaderSource>(
        data::Loader(std::move(train_examples), sampler, collate), class_labels, masking,
        static_cast<uint64_t>(config.training.seed), prepared.device);
    if (options.world_size > 1) {
      run.train = std::make_unique<ShardedBatchSource>(std::move(run.train), options.rank,
                                                       options.world_size);
    }
  }
  if (!subset.eval.empty()) {
    const data::Dataset& eval_source = subset.eval_from_train ? train_data : *eval_file;
    std::vector<data::Example> eval_examples =
        data::build_examples(eval_source, subset.eval, fns, task);
    run.eval_examples = static_cast<int64_t>(eval_examples.size());
    data::SamplerOptions eval_sampler = sampler;
    eval_sampler.batch_size = config.training.per_device_eval_batch_size;
    eval_sampler.shuffle = false;
    // Eval masks are fixed (another seed than training's), so eval losses compare over time.
    run.eval = std::make_unique<LoaderSource>(
        data::Loader(std::move(eval_examples), eval_sampler, collate), class_labels, masking,
        static_cast<uint64_t>(config.training.seed) + 1, prepared.device);
    if (chat && config.output.predict_with_generate) {
      run.exact_match = std::make_shared<ExactMatchSet>();
      for (const int64_t row : subset.eval) {
        auto [prompt, answer] = data::last_reply_prompt(*chat_template, eval_source.sample(row));
        run.exact_match->prompts.push_back(std::move(prompt));
        run.exact_match->answers.push_back(std::move(answer));
      }
    }
  }
  run.subset_summary = "train " + std::to_string(run.train_examples) + " of " +
                       std::to_string(train_data.size()) + " / eval " +
                       std::to_string(run.eval_examples) + ", seed " +
                       std::to_string(config.training.seed);
  return run;
}

}  // namespace tb
