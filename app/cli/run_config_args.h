#pragma once
// What the commands that take a run config share: loading it with --set overrides and the
// model fallback, validating it (warnings to stderr, errors thrown), how eval metrics read, and
// the --methods list of the commands that estimate (estimate, bench).

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/train/run_estimate.h"
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

/// Adds --methods to `command`: estimable_methods() names, comma-separated, or "all" for every
/// one. The help reads "`what`, comma-separated (names; all = every one; `default_text`)".
void add_methods_option(CLI::App* command, std::vector<std::string>& methods,
                        const std::string& what, const std::string& default_text);

/// The --methods list with "all" expanded to every estimable method.
std::vector<std::string> listed_methods(const std::vector<std::string>& methods);

/// Estimates `config` for `methods` ("all" = every estimable method; none = the config's own),
/// timing `measure_steps` optimizer steps per method (0 = memory only).
std::vector<MethodEstimate> estimate_listed_methods(const RunConfig& config,
                                                    const std::vector<std::string>& methods,
                                                    int64_t measure_steps);

}  // namespace tb::cli
