#pragma once
// Packing: several short examples share one row of `block_size` tokens without seeing each
// other. Each token carries its example's segment number; collation turns segments into
// per-example position ids and a block-diagonal causal mask.

#include <vector>

#include "core/data/example.h"

namespace tb::data {

/// Options of the packer.
struct PackingOptions {
  int64_t block_size = 512;  // tokens per packed row; an example longer than this is cut
};

/// Packs examples in order, greedily: an example that does not fit the current row starts a
/// new one (examples are never split). The first label of every segment is kIgnoreIndex, so
/// no token is predicted from the previous example's last token.
std::vector<Example> pack_examples(const std::vector<Example>& examples,
                                   const PackingOptions& options);

}  // namespace tb::data
