#include "core/data/task_examples.h"

#include "core/util/error.h"

namespace tb::data {

Example make_task_example(const Sample& sample, const TokenizerFns& tokenizer,
                          const TaskOptions& task) {
  const std::string row = "row " + std::to_string(sample.row + 1);
  switch (task.kind) {
    case TaskKind::kCausalLm:
      if (!sample.messages.empty()) {
        throw make_error(row + " is a conversation, not plain text", {},
                         "Use the sft task for chat formats, or a text column.");
      }
      return make_causal_lm_example(sample.text, tokenizer, task.causal_lm, sample.row);
    case TaskKind::kClassification:
    case TaskKind::kVerbalizer:
      if (sample.label < 0) {
        throw make_error(row + " has no label", {},
                         "Classification needs the classification format (text, label).");
      }
      return task.kind == TaskKind::kClassification
                 ? make_classification_example(sample, tokenizer, task.classification)
                 : make_verbalizer_example(sample, tokenizer, task.verbalizer);
    case TaskKind::kSft:
      if (!task.render_chat) {
        throw make_error("the sft task needs a chat template", {},
                         "Pick the model's template (template: in the run config).");
      }
      return make_sft_example(task.render_chat(sample), tokenizer, task.sft, sample.row);
  }
  throw make_error("unknown task");
}

std::vector<Example> build_examples(const Dataset& data, const std::vector<int64_t>& rows,
                                    const TokenizerFns& tokenizer, const TaskOptions& task) {
  std::vector<Example> examples;
  examples.reserve(rows.size());
  for (int64_t row : rows) {
    examples.push_back(make_task_example(data.sample(row), tokenizer, task));
  }
  if (!task.pack) return examples;
  if (task.kind != TaskKind::kCausalLm && task.kind != TaskKind::kSft) {
    throw make_error("packing applies to causal LM and SFT only", {},
                     "Turn packing off for classification.");
  }
  return pack_examples(examples, task.packing);
}

}  // namespace tb::data
