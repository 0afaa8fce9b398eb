#include "core/data/loader.h"

#include "core/util/error.h"

namespace tb::data {

std::vector<int64_t> Loader::lengths_of(const std::vector<Example>& examples) {
  std::vector<int64_t> lengths;
  lengths.reserve(examples.size());
  for (const Example& example : examples) lengths.push_back(int64_t(example.input_ids.size()));
  return lengths;
}

Loader::Loader(std::vector<Example> examples, const SamplerOptions& sampler,
               const CollateOptions& collate)
    : examples_(std::move(examples)),
      sampler_(int64_t(examples_.size()), sampler, lengths_of(examples_)),
      collate_(collate) {}

Batch Loader::next(Cursor& cursor) const {
  std::vector<Example> batch;
  for (int64_t index : sampler_.next(cursor)) batch.push_back(examples_[size_t(index)]);
  return collate(batch, collate_);
}

}  // namespace tb::data
