// LibTorch first: Qt's `slots`/`signals` macros (from QObject) would break its headers.
#include "core/train/trainer.h"

#include "ui/training_worker.h"

#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/train/distributed.h"
#include "core/train/run_job.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <vector>

namespace tb::ui {

TrainingWorker::TrainingWorker(QObject* parent)
    : QObject(parent), control_(std::make_unique<TrainerControl>()) {
  qRegisterMetaType<tb::ui::StepPoint>("tb::ui::StepPoint");
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::requestStop() { control_->stop = true; }

void TrainingWorker::setPaused(bool paused) { control_->pause = paused; }

void TrainingWorker::requestCheckpoint() { control_->checkpoint_now = true; }

namespace {

// Ranks 1… of a local data-parallel run, as child processes; ended with the run.
class HelperRanks {
 public:
  HelperRanks(const RunConfig& config, int processes, int threads) {
    QString program = qEnvironmentVariable("TB_CLI");
    if (program.isEmpty()) program = QCoreApplication::applicationDirPath() + "/tunebench-cli";
    if (!QFileInfo(program).isExecutable()) {
      throw make_error("tunebench-cli is not at " + program.toStdString(), "multi-process run",
                       "Install tunebench-cli beside tunebench (or set TB_CLI), or run with 1 "
                       "process.");
    }
    if (!folder_.isValid())
      throw make_error("cannot create a temporary folder", "multi-process run");
    // The effective config with absolute paths, so every rank trains exactly this run.
    const QString config_file = folder_.filePath("run.yaml");
    save_config_file(config, config_file.toStdString());
    port_ = find_free_port();
    for (int rank = 1; rank < processes; ++rank) {
      auto process = std::make_unique<QProcess>();
      QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
      for (const auto& [name, value] : local_rank_environment(rank, processes, port_, threads)) {
        environment.insert(QString::fromStdString(name), QString::fromStdString(value));
      }
      process->setProcessEnvironment(environment);
      process->setStandardOutputFile(QProcess::nullDevice());  // rank 0 reports the run
      process->start(program, {"train", config_file});
      if (!process->waitForStarted(10000)) {
        throw make_error("could not start rank " + std::to_string(rank) + ": " +
                             process->errorString().toStdString(),
                         program.toStdString());
      }
      processes_.push_back(std::move(process));
    }
  }
  ~HelperRanks() {
    for (auto& process : processes_) {
      if (process->state() == QProcess::NotRunning) continue;
      process->terminate();
      if (!process->waitForFinished(5000)) process->kill();
      process->waitForFinished(2000);
    }
  }
  int port() const { return port_; }
  /// Waits for the ranks to exit (they end with rank 0) and returns their error output.
  QStringList finish(int timeout_ms) {
    QStringList errors;
    for (size_t index = 0; index < processes_.size(); ++index) {
      QProcess& process = *processes_[index];
      process.waitForFinished(timeout_ms);
      const QString text = QString::fromUtf8(process.readAllStandardError()).trimmed();
      if (!text.isEmpty()) errors << QString("rank %1: %2").arg(index + 1).arg(text);
    }
    return errors;
  }

 private:
  QTemporaryDir folder_;
  int port_ = 0;
  std::vector<std::unique_ptr<QProcess>> processes_;
};

}  // namespace

void TrainingWorker::run(const QString& yaml, const QString& base_dir, int processes) {
  control_->stop = false;
  control_->pause = false;
  try {
    LoadedConfig loaded =
        load_config_string(yaml.toStdString(), "the run config", base_dir.toStdString());
    apply_model_fallback(loaded);
    ValidationResult validation = validate_config(loaded.config);
    check_model_compatibility(loaded.config, validation);
    throw_if_invalid(validation, "the run config");
    for (const std::string& warning : loaded.warnings) {
      Q_EMIT logLine("warning", QString::fromStdString(warning));
    }
    TrainerCallbacks callbacks;
    callbacks.on_step = [this](const StepMetrics& m) {
      StepPoint point;
      point.step = m.step;
      point.total_steps = m.total_steps;
      point.epoch = m.epoch;
      point.loss = m.loss;
      point.lr = m.lr;
      point.grad_norm = m.grad_norm;
      point.tokens_per_second = m.tokens_per_second;
      point.rss_mb = static_cast<double>(m.memory.rss_bytes) / (1 << 20);
      point.eta_seconds = m.eta_seconds;
      Q_EMIT stepDone(point);
    };
    callbacks.on_eval = [this](const EvalMetrics& m) {
      QString text = QString("eval at step %1: loss %2").arg(m.step).arg(m.loss, 0, 'f', 4);
      if (m.accuracy >= 0) {
        text += QString(", accuracy %1, macro-F1 %2")
                    .arg(m.accuracy, 0, 'f', 4)
                    .arg(m.macro_f1, 0, 'f', 4);
      }
      if (m.perplexity > 0) text += QString(", perplexity %1").arg(m.perplexity, 0, 'f', 2);
      Q_EMIT evaluated(m.step, text, m.loss, m.accuracy);
    };
    callbacks.on_event = [this](const std::string& level, const std::string& message) {
      Q_EMIT logLine(QString::fromStdString(level), QString::fromStdString(message));
    };
    RunJobOptions options;
    std::unique_ptr<HelperRanks> helpers;
    std::unique_ptr<Distributed> group;
    if (processes > 1) {
      const int threads = std::max(1, usable_cores() / processes);
      helpers = std::make_unique<HelperRanks>(loaded.config, processes, threads);
      DistributedEnv env;
      env.world_size = processes;
      env.master_port = helpers->port();
      DistributedOptions group_options;
      group_options.timeout = std::chrono::seconds(loaded.config.training.ddp_timeout);
      try {
        group = Distributed::connect(env, group_options);
      } catch (const std::exception& error) {
        QString message = QString::fromUtf8(error.what());
        for (const QString& line : helpers->finish(0)) message += "\n" + line;
        throw Error(message.toStdString());
      }
      options.distributed = group.get();
      options.threads = threads;
      Q_EMIT logLine("info",
                     QString("%1 processes, %2 thread(s) each").arg(processes).arg(threads));
    }
    RunJobResult result;
    try {
      result = run_job(
          loaded.config, options, callbacks, control_.get(), [this](const RunJobResult& started) {
            Q_EMIT runStarted(started.run_id, QString::fromStdString(started.output_dir),
                              QString::fromStdString(started.trainable_text));
          });
    } catch (const std::exception&) {
      if (helpers) {
        for (const QString& line : helpers->finish(2000)) Q_EMIT logLine("error", line);
      }
      throw;
    }
    if (helpers) {
      for (const QString& line : helpers->finish(60000)) Q_EMIT logLine("warning", line);
    }
    const bool stopped = result.train.outcome == TrainOutcome::kStopped;
    Q_EMIT runFinished(stopped, QString("%1 after %2 steps, final loss %3; saved to %4")
                                    .arg(stopped ? "Stopped" : "Done")
                                    .arg(result.train.steps)
                                    .arg(result.train.final_loss, 0, 'f', 4)
                                    .arg(QString::fromStdString(result.output_dir)));
  } catch (const std::exception& error) {
    Q_EMIT runFailed(QString::fromUtf8(error.what()));
  }
}

}  // namespace tb::ui
