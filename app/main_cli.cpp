// tunebench-cli: the command-line face of tunebench. Thin: parse arguments, call core, print.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli/command.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/util/text.h"
#include "core/version.h"

namespace {

// CLI11 only says "a subcommand is required" for a mistyped command; name it and suggest.
bool reject_unknown_command(int argc, char** argv, const std::vector<tb::cli::Command>& all) {
  if (argc < 2 || argv[1][0] == '-') return false;
  std::vector<std::string> names;
  for (const tb::cli::Command& command : all) names.push_back(command.app->get_name());
  if (std::find(names.begin(), names.end(), argv[1]) != names.end()) return false;
  const std::string suggestion = tb::closest_match(argv[1], names);
  std::cerr << "tunebench-cli: unknown command '" << argv[1] << "'."
            << (suggestion.empty() ? "" : " Did you mean '" + suggestion + "'?")
            << " Commands: " << tb::join(names, ", ") << " (see --help).\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tb::cli;
  CLI::App app{
      "tunebench-cli: fine-tune language models from a YAML file (same engine as the "
      "tunebench desktop app)",
      "tunebench-cli"};
  app.set_version_flag("--version", std::string("tunebench ") + tb::kVersion + " (LibTorch " +
                                        tb::libtorch_version() + ")");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 error (message on stderr), 2 usage error, 3 environment "
      "problem (see doctor), 70 internal error.");

  // Every command, in the order --help lists them.
  const std::vector<Command> commands = {
      add_doctor_command(app),
      add_tokenize_command(app),
  };

  if (reject_unknown_command(argc, argv, commands)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
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
