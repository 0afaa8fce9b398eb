#pragma once
// Train/eval subsets drawn exactly as Hugging Face `datasets` draws them, so a run here and a
// run in Python train on the same rows:
//   train = ds.shuffle(seed=seed).select(range(max_samples))
//   eval  = eval_ds.shuffle(seed=seed).select(range(eval_samples))        (own eval file)
//   split = ds.train_test_split(test_size=val_size, seed=seed)            (no eval file)

#include <cstdint>
#include <vector>

namespace tb::data {

/// How to draw the subsets.
struct SubsetOptions {
  int64_t max_samples = -1;   // -1 = every train row; else the first N after the shuffle
  int64_t eval_samples = -1;  // -1 = every eval row; else the first M after the shuffle
  double val_size = 0;        // 0 = no split; (0,1) = fraction, ≥ 1 = row count split off the
                              // train rows for eval (only without an eval file)
  uint64_t seed = 42;         // numpy seed of every shuffle
  bool shuffle = true;        // false = rows in file order (no permutation at all)
};

/// Row indices of the train and eval subsets, in training order.
struct Subset {
  std::vector<int64_t> train;    // indices into the train file
  std::vector<int64_t> eval;     // indices into the eval file, or into the train file after a split
  bool eval_from_train = false;  // true when eval rows were split off the train file
};

/// Draws the subsets for `train_rows` rows and `eval_rows` rows of an eval file (-1 = none).
/// Throws tb::Error when val_size leaves no train rows or is given with an eval file.
Subset select_subset(int64_t train_rows, int64_t eval_rows, const SubsetOptions& options);

}  // namespace tb::data
