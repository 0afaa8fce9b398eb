#pragma once
// numpy's default random stream, re-implemented so data subsets match Hugging Face `datasets`:
// `Dataset.shuffle(seed)` is `np.random.default_rng(seed).permutation(n)`. That is
// SeedSequence → PCG64 (XSL-RR 128/64) → Generator.permutation (Fisher–Yates from the end,
// each index drawn by masked rejection sampling on 32-bit or 64-bit draws).

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tb::data {

/// numpy.random.SeedSequence (pool of four 32-bit words, no spawn key).
class SeedSequence {
 public:
  /// Entropy as numpy takes it: an int becomes its 32-bit words, least significant first.
  explicit SeedSequence(const std::vector<uint32_t>& entropy);
  /// `generate_state(n_words, np.uint64)`.
  std::vector<uint64_t> generate_state64(size_t n_words) const;

 private:
  std::array<uint32_t, 4> pool_{};
};

/// The 32-bit words numpy makes of a non-negative int seed (0 → {0}).
std::vector<uint32_t> seed_words(uint64_t seed);

/// numpy.random.PCG64: 128-bit LCG state with the XSL-RR output function.
class Pcg64 {
 public:
  /// Seeds like `PCG64(SeedSequence(entropy))`.
  explicit Pcg64(const SeedSequence& seed);
  /// The next 64 random bits (`random_raw()`).
  uint64_t next64();
  /// The next 32 random bits: halves of one 64-bit draw, low half first (numpy's buffering).
  uint32_t next32();

 private:
  unsigned __int128 state_ = 0;
  unsigned __int128 increment_ = 0;
  bool has_half_ = false;
  uint32_t half_ = 0;
};

/// A uniform integer in [0, max], drawn exactly as numpy's `random_interval` does.
uint64_t random_interval(Pcg64& generator, uint64_t max);

/// `np.random.default_rng(seed).permutation(n)`.
std::vector<int64_t> numpy_permutation(int64_t n, uint64_t seed);

/// `np.random.default_rng(entropy).permutation(n)` for a list of ints as entropy, e.g.
/// default_rng([seed, epoch]).
std::vector<int64_t> numpy_permutation(int64_t n, const std::vector<uint32_t>& entropy);

}  // namespace tb::data
