#include "core/data/batch_sampler.h"

#include <algorithm>
#include <numeric>

#include "core/data/numpy_random.h"
#include "core/util/error.h"

namespace tb::data {

namespace {

std::vector<uint32_t> epoch_entropy(uint64_t seed, int64_t epoch, bool batches) {
  std::vector<uint32_t> words = seed_words(seed);
  const std::vector<uint32_t> epoch_words = seed_words(uint64_t(epoch));
  words.insert(words.end(), epoch_words.begin(), epoch_words.end());
  if (batches) words.push_back(1);  // a second, independent stream for the batch order
  return words;
}

}  // namespace

std::string Cursor::to_string() const {
  return std::to_string(epoch) + ":" + std::to_string(position);
}

Cursor Cursor::parse(std::string_view text) {
  const size_t colon = text.find(':');
  auto number = [&](std::string_view part) -> int64_t {
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string_view::npos) {
      throw make_error("'" + std::string(text) + "' is not a data cursor", {},
                       "A cursor reads EPOCH:POSITION, e.g. 2:17.");
    }
    return std::stoll(std::string(part));
  };
  if (colon == std::string_view::npos) number({});
  Cursor cursor;
  cursor.epoch = number(text.substr(0, colon));
  cursor.position = number(text.substr(colon + 1));
  return cursor;
}

BatchSampler::BatchSampler(int64_t size, const SamplerOptions& options,
                           std::vector<int64_t> lengths)
    : size_(size), options_(options), lengths_(std::move(lengths)) {
  if (options.batch_size <= 0) throw make_error("batch_size must be positive");
  if (size <= 0) throw make_error("there are no rows to batch");
  if (options.bucket_batches > 0 && int64_t(lengths_.size()) != size) {
    throw make_error("length bucketing needs one length per row");
  }
  if (options.drop_last && size < options.batch_size) {
    throw make_error("drop_last with " + std::to_string(size) + " rows and batch size " +
                         std::to_string(options.batch_size) + " leaves no batch",
                     {}, "Lower the batch size or keep the last batch.");
  }
}

int64_t BatchSampler::batches_per_epoch() const {
  return options_.drop_last ? size_ / options_.batch_size
                            : (size_ + options_.batch_size - 1) / options_.batch_size;
}

std::vector<std::vector<int64_t>> BatchSampler::epoch_batches(int64_t epoch) const {
  std::vector<int64_t> order;
  if (options_.shuffle) {
    order = numpy_permutation(size_, epoch_entropy(options_.seed, epoch, false));
  } else {
    order.resize(size_t(size_));
    std::iota(order.begin(), order.end(), int64_t(0));
  }
  const auto batch = size_t(options_.batch_size);
  if (options_.bucket_batches > 0) {
    const size_t window = batch * size_t(options_.bucket_batches);
    for (size_t start = 0; start < order.size(); start += window) {
      const auto first = order.begin() + std::ptrdiff_t(start);
      const auto last = order.begin() + std::ptrdiff_t(std::min(order.size(), start + window));
      std::stable_sort(first, last, [&](int64_t a, int64_t b) {
        return lengths_[size_t(a)] > lengths_[size_t(b)];
      });
    }
  }
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += batch) {
    const size_t end = std::min(order.size(), start + batch);
    if (options_.drop_last && end - start < batch) break;
    batches.emplace_back(order.begin() + std::ptrdiff_t(start),
                         order.begin() + std::ptrdiff_t(end));
  }
  if (options_.bucket_batches > 0 && options_.shuffle) {
    // Sorted windows would otherwise feed long batches first in every window.
    const std::vector<int64_t> shuffled =
        numpy_permutation(int64_t(batches.size()), epoch_entropy(options_.seed, epoch, true));
    std::vector<std::vector<int64_t>> reordered;
    reordered.reserve(batches.size());
    for (int64_t index : shuffled) reordered.push_back(std::move(batches[size_t(index)]));
    batches = std::move(reordered);
  }
  return batches;
}

std::vector<int64_t> BatchSampler::next(Cursor& cursor) const {
  if (cursor.epoch < 0 || cursor.position < 0 || cursor.position >= batches_per_epoch()) {
    throw make_error(
        "data cursor " + cursor.to_string() + " is outside the epoch (" +
            std::to_string(batches_per_epoch()) + " batches per epoch)",
        {}, "Resume with the cursor the checkpoint saved, on the same data and batch size.");
  }
  if (cached_epoch_ != cursor.epoch) {
    cached_ = epoch_batches(cursor.epoch);
    cached_epoch_ = cursor.epoch;
  }
  std::vector<int64_t> batch = cached_[size_t(cursor.position)];
  if (++cursor.position == batches_per_epoch()) {
    ++cursor.epoch;
    cursor.position = 0;
  }
  return batch;
}

}  // namespace tb::data
