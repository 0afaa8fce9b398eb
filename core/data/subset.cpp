#include "core/data/subset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/data/numpy_random.h"
#include "core/util/error.h"

namespace tb::data {

namespace {

std::vector<int64_t> order(int64_t rows, const SubsetOptions& options) {
  if (options.shuffle) return numpy_permutation(rows, options.seed);
  std::vector<int64_t> identity(size_t(std::max<int64_t>(rows, 0)));
  std::iota(identity.begin(), identity.end(), int64_t(0));
  return identity;
}

// `select(range(n))`, where an n past the end means "all" (LLaMA-Factory clamps the same way).
void keep_first(std::vector<int64_t>& indices, int64_t n) {
  if (n >= 0 && size_t(n) < indices.size()) indices.resize(size_t(n));
}

}  // namespace

Subset select_subset(int64_t train_rows, int64_t eval_rows, const SubsetOptions& options) {
  Subset subset;
  if (options.val_size < 0) {
    throw make_error("val_size is negative", {}, "Use 0 (no split), a fraction, or a row count.");
  }
  if (eval_rows >= 0) {
    if (options.val_size > 0) {
      throw make_error("both an eval file and val_size were given", {},
                       "Use one: the eval file, or val_size to split the train file.");
    }
    subset.train = order(train_rows, options);
    subset.eval = order(eval_rows, options);
  } else if (options.val_size > 0) {
    // train_test_split: a fraction rounds the test part up; the rest is the train part.
    const int64_t test = options.val_size < 1
                             ? int64_t(std::ceil(options.val_size * double(train_rows)))
                             : int64_t(options.val_size);
    if (test >= train_rows) {
      throw make_error("val_size " + std::to_string(options.val_size) + " leaves no train rows (" +
                           std::to_string(train_rows) + " rows in all)",
                       {}, "Use a smaller val_size.");
    }
    const std::vector<int64_t> all = order(train_rows, options);
    subset.eval.assign(all.begin(), all.begin() + test);
    subset.train.assign(all.begin() + test, all.end());
    subset.eval_from_train = true;
  } else {
    subset.train = order(train_rows, options);
  }
  keep_first(subset.train, options.max_samples);
  keep_first(subset.eval, options.eval_samples);
  return subset;
}

}  // namespace tb::data
