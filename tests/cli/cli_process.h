#pragma once
// Runs the real tunebench-cli (TB_CLI_PATH) as a user would, for the CLI tests.

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

/// What one command did.
struct CliResult {
  int exit_code = -1;  // -1: did not finish in time
  QString out, err;    // its stdout and stderr
};

/// Runs `tunebench-cli arguments…` in `folder` with `env`, waiting up to `timeout_ms`.
inline CliResult run_cli(const QStringList& arguments, const QProcessEnvironment& env,
                         const QString& folder, int timeout_ms = 300000) {
  QProcess process;
  process.setProcessEnvironment(env);
  process.setWorkingDirectory(folder);
  process.start(TB_CLI_PATH, arguments);
  if (!process.waitForFinished(timeout_ms)) return {};
  return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
          QString::fromUtf8(process.readAllStandardError())};
}
