// LibTorch first: Qt's `slots`/`signals` macros (from QObject) would break its headers.
#include "core/train/trainer.h"

#include "ui/training_worker.h"

#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/train/run_job.h"
#include "core/util/runtime.h"

namespace tb::ui {

TrainingWorker::TrainingWorker(QObject* parent)
    : QObject(parent), control_(std::make_unique<TrainerControl>()) {
  qRegisterMetaType<tb::ui::StepPoint>("tb::ui::StepPoint");
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::requestStop() { control_->stop = true; }

void TrainingWorker::setPaused(bool paused) { control_->pause = paused; }

void TrainingWorker::run(const QString& yaml, const QString& base_dir) {
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
      Q_EMIT evaluated(m.step, text, m.loss);
    };
    callbacks.on_event = [this](const std::string& level, const std::string& message) {
      Q_EMIT logLine(QString::fromStdString(level), QString::fromStdString(message));
    };
    const RunJobResult result =
        run_job(loaded.config, RunJobOptions{}, callbacks, control_.get(),
                [this](const RunJobResult& started) {
                  Q_EMIT runStarted(started.run_id, QString::fromStdString(started.output_dir),
                                    QString::fromStdString(started.trainable_text));
                });
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
