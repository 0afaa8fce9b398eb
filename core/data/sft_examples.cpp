#include "core/data/sft_examples.h"

#include <algorithm>

#include "core/util/error.h"

namespace tb::data {

std::pair<int64_t, int64_t> split_budget(int64_t prompt, int64_t reply, int64_t budget) {
  int64_t reply_room;
  if (2 * reply < budget) {
    reply_room = budget;  // the reply is short: only the prompt may need cutting
  } else if (2 * prompt < budget) {
    reply_room = budget - prompt;  // the prompt is short: cut the reply
  } else {
    reply_room = int64_t(double(budget) * double(reply) / double(prompt + reply));  // both
  }
  const int64_t reply_kept = std::min(reply_room, reply);
  const int64_t prompt_kept = std::min(std::max<int64_t>(budget - reply_kept, 0), prompt);
  return {prompt_kept, reply_kept};
}

Example make_sft_example(const std::vector<RenderedTurn>& turns, const TokenizerFns& tokenizer,
                         const SftOptions& options, int64_t source_row) {
  if (!tokenizer.encode) throw make_error("no tokenizer was given to the SFT builder");
  // Pairs of (prompt tokens, reply tokens) in order.
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> pairs;
  bool in_reply = false;
  for (const RenderedTurn& turn : turns) {
    if (pairs.empty() || (!turn.trainable && in_reply)) pairs.emplace_back();
    std::vector<int32_t> ids = tokenizer.encode(turn.text);
    auto& side = turn.trainable ? pairs.back().second : pairs.back().first;
    side.insert(side.end(), ids.begin(), ids.end());
    in_reply = turn.trainable;
  }
  Example example;
  example.source_row = source_row;
  int64_t budget = options.cutoff_len > 0 ? options.cutoff_len : INT64_MAX;
  for (auto& [prompt, reply] : pairs) {
    if (budget <= 0) {
      example.truncated = true;
      break;
    }
    int64_t prompt_kept = int64_t(prompt.size()), reply_kept = int64_t(reply.size());
    if (prompt_kept + reply_kept > budget) {
      std::tie(prompt_kept, reply_kept) = split_budget(prompt_kept, reply_kept, budget);
      example.truncated = true;
    }
    budget -= prompt_kept + reply_kept;
    example.input_ids.insert(example.input_ids.end(), prompt.begin(), prompt.begin() + prompt_kept);
    if (options.train_on_prompt) {
      example.labels.insert(example.labels.end(), prompt.begin(), prompt.begin() + prompt_kept);
    } else {
      example.labels.insert(example.labels.end(), size_t(prompt_kept), kIgnoreIndex);
    }
    example.input_ids.insert(example.input_ids.end(), reply.begin(), reply.begin() + reply_kept);
    example.labels.insert(example.labels.end(), reply.begin(), reply.begin() + reply_kept);
  }
  return example;
}

}  // namespace tb::data
