#include "app/cli/run_config_args.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "core/config/config_validation.h"
#include "core/config/presets.h"
#include "core/util/text.h"

namespace tb::cli {

RunConfig load_checked_config(const std::string& argument,
                              const std::vector<std::string>& overrides) {
  LoadedConfig loaded = load_run_config(argument, overrides);
  ValidationResult validation = validate_config(loaded.config);
  check_model_compatibility(loaded.config, validation);
  for (const std::string& warning : loaded.warnings) std::cerr << "warning: " << warning << "\n";
  for (const std::string& warning : validation.warnings) {
    std::cerr << "warning: " << warning << "\n";
  }
  throw_if_invalid(validation, argument);
  return loaded.config;
}

std::string eval_line(const EvalMetrics& m) {
  char text[256];
  int used = std::snprintf(text, sizeof(text), "eval at step %lld: loss %.4f",
                           static_cast<long long>(m.step), m.loss);
  if (m.accuracy >= 0) {
    used += std::snprintf(text + used, sizeof(text) - used, "  accuracy %.4f  macro-F1 %.4f",
                          m.accuracy, m.macro_f1);
  }
  if (m.perplexity > 0) {
    used += std::snprintf(text + used, sizeof(text) - used, "  perplexity %.3f", m.perplexity);
  }
  if (m.exact_match >= 0) {
    std::snprintf(text + used, sizeof(text) - used, "  exact match %.4f", m.exact_match);
  }
  return text;
}

nlohmann::json eval_json(const EvalMetrics& m) {
  return {{"event", "eval"},
          {"step", m.step},
          {"loss", m.loss},
          {"accuracy", m.accuracy},
          {"macro_f1", m.macro_f1},
          {"perplexity", m.perplexity},
          {"exact_match", m.exact_match},
          {"examples", m.examples},
          {"seconds", m.seconds}};
}

void add_methods_option(CLI::App* command, std::vector<std::string>& methods,
                        const std::string& what, const std::string& default_text) {
  std::vector<std::string> names = estimable_methods();
  const std::string help =
      what + ", comma-separated (" + join(names, ", ") + "; all = every one; " + default_text + ")";
  names.push_back("all");
  command->add_option("--methods", methods, help)->delimiter(',')->check(CLI::IsMember(names));
}

std::vector<std::string> listed_methods(const std::vector<std::string>& methods) {
  for (const std::string& method : methods) {
    if (method == "all") return estimable_methods();
  }
  return methods;
}

std::vector<MethodEstimate> estimate_listed_methods(const RunConfig& config,
                                                    const std::vector<std::string>& methods,
                                                    int64_t measure_steps) {
  EstimateOptions options;
  options.measure_steps = measure_steps;
  options.methods = listed_methods(methods);
  return estimate_methods(config, options);
}

}  // namespace tb::cli
