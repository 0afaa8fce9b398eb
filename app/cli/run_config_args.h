#pragma once
// What the commands that take a run config share: loading it with --set overrides and the
// model fallback, validating it (warnings to stderr, errors thrown), and how eval metrics read.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/train/train_types.h"

namespace tb::cli {

/// Loads CONFIG (file or preset name) with `overrides`, validates it against its model folder,
/// prints warnings to stderr and throws tb::Error listing every problem.
RunConfig load_checked_config(const std::string& argument,
                              const std::vector<std::string>& overrides);

/// "eval at step 12: loss 0.4311  accuracy 0.9100  macro-F1 0.9050 …"
std::string eval_line(const EvalMetrics& metrics);

/// The eval event of the --json streams: {"event":"eval","step":…,"loss":…,…}.
nlohmann::json eval_json(const EvalMetrics& metrics);

}  // namespace tb::cli
