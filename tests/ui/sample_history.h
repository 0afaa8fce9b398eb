#pragma once
// A run history with four runs of recipe A (one per method) whose curves have the shapes
// real runs have, for driving the Runs and Compare pages in tests and screenshots.
// The numbers are synthetic: this is UI test data, not a training result.

#include <cstdint>
#include <filesystem>
#include <vector>

namespace tb::test {

/// Fills `db` (created if needed) and returns the run ids: full, lora, ptuning, freeze.
std::vector<int64_t> write_sample_history(const std::filesystem::path& db);

}  // namespace tb::test
