#pragma once
// The data side of a run in one place: rows of a subset → task examples → (optionally packed)
// → batches in a seeded, resumable order. This is what the trainer pulls from.

#include <functional>
#include <vector>

#include "core/data/batch_sampler.h"
#include "core/data/causal_lm_examples.h"
#include "core/data/classification_examples.h"
#include "core/data/collate.h"
#include "core/data/dataset.h"
#include "core/data/packing.h"
#include "core/data/sft_examples.h"
#include "core/data/verbalizer_examples.h"

namespace tb::data {

/// Which examples a run trains on.
enum class TaskKind {
  kCausalLm,        // text → labels = input ids (recipe B)
  kClassification,  // text (+ pair) → class id (recipe A.1, A.2, A.4)
  kVerbalizer,      // text in a prompt template → class id at the mask (recipe A.3)
  kSft,             // chat turns rendered by a template → loss on assistant turns
};

/// How samples become examples.
struct TaskOptions {
  TaskKind kind = TaskKind::kCausalLm;   // the task
  CausalLmOptions causal_lm;             // kCausalLm: max_length, bos/eos
  ClassificationOptions classification;  // kClassification: max_length
  VerbalizerOptions verbalizer;          // kVerbalizer: template, max_length
  SftOptions sft;                        // kSft: cutoff_len, train_on_prompt
  std::function<std::vector<RenderedTurn>(const Sample&)>
      render_chat;         // kSft: the chat
                           // template (from the tokenizer); required
  bool pack = false;       // kCausalLm/kSft: pack examples into rows
  PackingOptions packing;  // block size when packing
};

/// One sample → one example for the task; throws tb::Error when the sample does not fit the
/// task (e.g. a chat sample for causal LM), naming the row.
Example make_task_example(const Sample& sample, const TokenizerFns& tokenizer,
                          const TaskOptions& task);

/// The examples of `rows` of `data` (in that order), packed when task.pack.
std::vector<Example> build_examples(const Dataset& data, const std::vector<int64_t>& rows,
                                    const TokenizerFns& tokenizer, const TaskOptions& task);

/// Batches over prepared examples: seeded order per epoch, optional bucketing by length,
/// collation, and a cursor to resume exactly.
class Loader {
 public:
  /// Takes the examples; the sampler sees their token counts for bucketing.
  Loader(std::vector<Example> examples, const SamplerOptions& sampler,
         const CollateOptions& collate);
  /// Number of examples.
  int64_t size() const { return int64_t(examples_.size()); }
  /// Batches per epoch.
  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  /// The batch at `cursor`; advances the cursor (into the next epoch after the last batch).
  Batch next(Cursor& cursor) const;
  /// The examples, in subset order.
  const std::vector<Example>& examples() const { return examples_; }

 private:
  static std::vector<int64_t> lengths_of(const std::vector<Example>& examples);
  std::vector<Example> examples_;
  BatchSampler sampler_;
  CollateOptions collate_;
};

}  // namespace tb::data
