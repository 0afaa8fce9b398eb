#include "core/data/numpy_random.h"

#include <numeric>
#include <utility>

namespace tb::data {

namespace {

// SeedSequence's hashing constants (numpy/random/bit_generator.pyx, public documentation of
// the algorithm by its author, after Melissa O'Neill's seed_seq_fe).
constexpr uint32_t kInitA = 0x43b0d7e5;
constexpr uint32_t kMultA = 0x931e8875;
constexpr uint32_t kInitB = 0x8b51f9dd;
constexpr uint32_t kMultB = 0x58f38ded;
constexpr uint32_t kMixMultL = 0xca01f9dd;
constexpr uint32_t kMixMultR = 0x4973f715;
constexpr int kXShift = 16;

// PCG's default 128-bit multiplier.
constexpr unsigned __int128 kPcgMultiplier =
    (static_cast<unsigned __int128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

uint32_t hashmix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

}  // namespace

std::vector<uint32_t> seed_words(uint64_t seed) {
  std::vector<uint32_t> words;
  do {
    words.push_back(uint32_t(seed & 0xffffffffu));
    seed >>= 32;
  } while (seed != 0);
  return words;
}

SeedSequence::SeedSequence(const std::vector<uint32_t>& entropy) {
  uint32_t hash_const = kInitA;
  for (size_t i = 0; i < pool_.size(); ++i) {
    pool_[i] = hashmix(i < entropy.size() ? entropy[i] : 0, hash_const);
  }
  for (size_t source = 0; source < pool_.size(); ++source) {
    for (size_t target = 0; target < pool_.size(); ++target) {
      if (source != target) pool_[target] = mix(pool_[target], hashmix(pool_[source], hash_const));
    }
  }
  for (size_t source = pool_.size(); source < entropy.size(); ++source) {
    for (size_t target = 0; target < pool_.size(); ++target) {
      pool_[target] = mix(pool_[target], hashmix(entropy[source], hash_const));
    }
  }
}

std::vector<uint64_t> SeedSequence::generate_state64(size_t n_words) const {
  uint32_t hash_const = kInitB;
  std::vector<uint64_t> state(n_words, 0);
  for (size_t i = 0; i < 2 * n_words; ++i) {
    uint32_t value = pool_[i % pool_.size()];
    value ^= hash_const;
    hash_const *= kMultB;
    value *= hash_const;
    value ^= value >> kXShift;
    // Two 32-bit words viewed as one little-endian uint64: the first is the low half.
    state[i / 2] |= uint64_t(value) << (i % 2 ? 32 : 0);
  }
  return state;
}

Pcg64::Pcg64(const SeedSequence& seed) {
  const std::vector<uint64_t> words = seed.generate_state64(4);
  const unsigned __int128 initial = (static_cast<unsigned __int128>(words[0]) << 64) | words[1];
  const unsigned __int128 sequence = (static_cast<unsigned __int128>(words[2]) << 64) | words[3];
  increment_ = (sequence << 1) | 1;
  state_ = 0;
  state_ = state_ * kPcgMultiplier + increment_;
  state_ += initial;
  state_ = state_ * kPcgMultiplier + increment_;
}

uint64_t Pcg64::next64() {
  state_ = state_ * kPcgMultiplier + increment_;
  const uint64_t folded = uint64_t(state_ >> 64) ^ uint64_t(state_);
  const unsigned rotation = unsigned(state_ >> 122);
  return (folded >> rotation) | (folded << ((64 - rotation) & 63));
}

uint32_t Pcg64::next32() {
  if (has_half_) {
    has_half_ = false;
    return half_;
  }
  const uint64_t draw = next64();
  has_half_ = true;
  half_ = uint32_t(draw >> 32);
  return uint32_t(draw & 0xffffffffu);
}

uint64_t random_interval(Pcg64& generator, uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    do {
      value = generator.next32() & mask;
    } while (value > max);
  } else {
    do {
      value = generator.next64() & mask;
    } while (value > max);
  }
  return value;
}

std::vector<int64_t> numpy_permutation(int64_t n, const std::vector<uint32_t>& entropy) {
  std::vector<int64_t> order(size_t(n > 0 ? n : 0));
  std::iota(order.begin(), order.end(), int64_t(0));
  Pcg64 generator{SeedSequence(entropy)};
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = int64_t(random_interval(generator, uint64_t(i)));
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  return order;
}

std::vector<int64_t> numpy_permutation(int64_t n, uint64_t seed) {
  return numpy_permutation(n, seed_words(seed));
}

}  // namespace tb::data
