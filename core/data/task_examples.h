#pragma once
// One switch from a Sample to the example of the run's task, and the examples of a subset.

#include <functional>
#include <vector>

#include "core/data/causal_lm_examples.h"
#include "core/data/classification_examples.h"
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

}  // namespace tb::data
