// tunebench-cli: the command-line face of tunebench. Thin: parse arguments, call core, print.
#include <CLI/CLI.hpp>

#include <stdlib.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli/command.h"
#include "core/util/blas_core.h"
#include "core/util/crash_report.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/util/text.h"
#include "core/version.h"
#ifdef TB_CLI_PLOTS
#include "ui/widgets/loss_plot_image.h"
#endif

namespace {

// CLI11 only says "a subcommand is required" for a mistyped command; name it and suggest.
// Checks the command and, for commands made of subcommands (`runs list`), the subcommand.
bool reject_unknown_command(int argc, char** argv, const CLI::App& app) {
  std::vector<std::string> words;
  for (int i = 1; i < argc && words.size() < 2; ++i) {
    const std::string word = argv[i];
    if (word == "--db") {
      ++i;  // its value
    } else if (word.empty() || word[0] != '-') {
      words.push_back(word);
    } else if (!words.empty()) {
      break;  // options of the command: what follows may be values
    }
  }
  const CLI::App* level = &app;
  std::string path = "tunebench-cli";
  for (const std::string& word : words) {
    // Option groups are nameless sub-apps in CLI11: only named ones are commands.
    std::vector<const CLI::App*> children;
    for (const CLI::App* child : level->get_subcommands({})) {
      if (!child->get_name().empty()) children.push_back(child);
    }
    if (children.empty()) return false;
    std::vector<std::string> names;
    for (const CLI::App* child : children) names.push_back(child->get_name());
    const auto found = std::find(names.begin(), names.end(), word);
    if (found == names.end()) {
      const std::string suggestion = tb::closest_match(word, names);
      std::cerr << path << ": unknown command '" << word << "'."
                << (suggestion.empty() ? "" : " Did you mean '" + suggestion + "'?")
                << " Commands: " << tb::join(names, ", ") << " (see " << path << " --help).\n";
      return true;
    }
    level = children[static_cast<size_t>(found - names.begin())];
    path += " " + word;
  }
  return false;
}

// The model card's loss plot: drawn with the app's plot widget when the GUI is built; a
// headless build (TB_BUILD_GUI=OFF) writes cards without the image.
tb::LossPlotRenderer loss_plot_renderer() {
#ifdef TB_CLI_PLOTS
  return tb::ui::loss_plot_renderer();
#else
  return {};
#endif
}

}  // namespace

int main(int argc, char** argv) {
  tb::use_best_blas_kernels(argv);  // may re-execute: first, before any thread starts
  tb::install_crash_report("tunebench-cli");
  using namespace tb::cli;
  CLI::App app{
      "tunebench-cli: fine-tune language models from a YAML file (same engine as the "
      "tunebench desktop app)",
      "tunebench-cli"};
  app.set_version_flag("--version", std::string("tunebench ") + tb::kVersion + " (LibTorch " +
                                        tb::libtorch_version() + ")");
  app.require_subcommand(1);
  std::string db_path;
  app.add_option("--db", db_path, "Run history file (default: $TB_DB, else the XDG data dir)")
      ->each([](const std::string& path) { setenv("TB_DB", path.c_str(), 1); });
  app.footer(
      "Exit codes: 0 success, 1 error (message on stderr), 2 usage error, 3 environment "
      "problem (see doctor), 70 internal error, 130 training stopped by Ctrl-C (checkpoint "
      "written).");

  // Every command, in the order --help lists them.
  const std::vector<Command> commands = {
      add_train_command(app),
      add_launch_command(app),
      add_config_command(app),
      add_runs_command(app),
      add_init_model_command(app),
      add_inspect_command(app),
      add_logits_command(app),
      add_generate_command(app),
      add_tokenize_command(app),
      add_preview_data_command(app),
      add_doctor_command(app),
      add_train_tokenizer_command(app),
      add_eval_command(app),
      add_chat_command(app),
      add_bench_command(app),
      add_estimate_command(app),
      add_export_command(app, loss_plot_renderer()),
  };

  if (reject_unknown_command(argc, argv, app)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 prints the message; its own codes (e.g. 105 for a bad value) become the documented
    // usage code, while --help/--version stay 0.
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }

  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const tb::Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return kExitError;
  } catch (const std::exception& error) {
    // Anything else is a bug in tunebench, not bad input: say so plainly.
    std::cerr << "internal error: " << error.what()
              << "\nPlease report this with the command line that caused it.\n";
    return kExitInternal;
  }
  return kExitOk;
}
