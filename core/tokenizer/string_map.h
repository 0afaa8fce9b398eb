#pragma once
// Open-addressing hash maps for the tokenizer hot paths: string keys looked up by string_view
// without allocating, and 64-bit keys (BPE merge pairs).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

/// 64-bit hash of a byte string (wyhash-style mixing; not for adversarial keys).
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  h = (h ^ v ^ (static_cast<uint64_t>(n) << 56)) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

/// Maps strings to uint32 values; keys are copied into one arena.
class StringMap {
 public:
  /// Inserts or overwrites `key`.
  void set(std::string_view key, uint32_t value) {
    if ((count_ + 1) * 4 >= slots_.size() * 3) grow();
    Slot& slot = find_slot(key);
    if (slot.length == kEmpty) {
      slot.offset = static_cast<uint32_t>(arena_.size());
      slot.length = static_cast<uint32_t>(key.size());
      arena_.append(key.data(), key.size());
      ++count_;
    }
    slot.value = value;
  }
  /// Pointer to the value of `key`, or nullptr.
  const uint32_t* find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const Slot& slot = const_cast<StringMap*>(this)->find_slot(key);
    return slot.length == kEmpty ? nullptr : &slot.value;
  }
  /// Number of keys.
  size_t size() const { return count_; }
  /// Calls f(key, value) for every entry.
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.length != kEmpty) f(std::string_view(arena_.data() + s.offset, s.length), s.value);
    }
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = kEmpty;
    uint32_t value = 0;
  };
  Slot& find_slot(std::string_view key) {
    const uint64_t h = hash_bytes(key);
    size_t i = h & (slots_.size() - 1);
    while (true) {
      Slot& s = slots_[i];
      if (s.length == kEmpty) {
        s.hash = h;
        return s;
      }
      if (s.hash == h && s.length == key.size() &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
        return s;
      }
      i = (i + 1) & (slots_.size() - 1);
    }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    for (const Slot& s : old) {
      if (s.length == kEmpty) continue;
      size_t i = s.hash & (slots_.size() - 1);
      while (slots_[i].length != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

/// Maps 64-bit keys to 64-bit values (open addressing; key ~0 is reserved).
class U64Map {
 public:
  /// Inserts or overwrites.
  void set(uint64_t key, uint64_t value) {
    if ((count_ + 1) * 2 >= keys_.size()) grow();
    size_t i = slot(key);
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      ++count_;
    }
    values_[i] = value;
  }
  /// Pointer to the value, or nullptr.
  const uint64_t* find(uint64_t key) const {
    if (keys_.empty()) return nullptr;
    const size_t i = slot(key);
    return keys_[i] == kEmpty ? nullptr : &values_[i];
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  size_t slot(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    size_t i = (h ^ (h >> 32)) & (keys_.size() - 1);
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & (keys_.size() - 1);
    return i;
  }
  void grow() {
    std::vector<uint64_t> old_keys, old_values;
    old_keys.swap(keys_);
    old_values.swap(values_);
    keys_.assign(old_keys.empty() ? 1024 : old_keys.size() * 2, kEmpty);
    values_.assign(keys_.size(), 0);
    for (size_t k = 0; k < old_keys.size(); ++k) {
      if (old_keys[k] == kEmpty) continue;
      const size_t i = slot(old_keys[k]);
      keys_[i] = old_keys[k];
      values_[i] = old_values[k];
    }
  }
  std::vector<uint64_t> keys_, values_;
  size_t count_ = 0;
};

}  // namespace tb
