#pragma once
// The data side of a run in one place: rows of a subset → task examples → (optionally packed)
// → batches in a seeded, resumable order. This is what the trainer pulls from.

#include <vector>

#include "core/data/batch_sampler.h"
#include "core/data/collate.h"
#include "core/data/task_examples.h"

namespace tb::data {

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
