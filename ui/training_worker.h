#pragma once
// The GUI's training thread: a QObject moved to a QThread that runs tb::run_job. Commands
// arrive by queued invocation; results leave as queued signals carrying plain values (never
// tensors). Stop and pause are atomics, safe to set from the GUI thread at any time.

#include <QObject>
#include <QString>
#include <memory>

namespace tb {
struct TrainerControl;  // core/train/trainer.h: kept out of ui headers (LibTorch)
}

namespace tb::ui {

/// One training step as the GUI shows it.
struct StepPoint {
  qint64 step = 0;               // optimizer steps done
  qint64 total_steps = 0;        // planned steps
  double epoch = 0;              // fractional epoch
  double loss = 0;               // training loss
  double lr = 0;                 // learning rate
  double grad_norm = 0;          // gradient norm before clipping
  double tokens_per_second = 0;  // throughput
  double rss_mb = 0;             // process memory
  double eta_seconds = 0;        // time left
};

/// Runs training on whatever thread it lives on.
class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  explicit TrainingWorker(QObject* parent = nullptr);
  ~TrainingWorker() override;

  /// Asks the running job to checkpoint and stop after the current step (thread-safe).
  void requestStop();
  /// Pauses or resumes the running job between steps (thread-safe).
  void setPaused(bool paused);
  /// Asks the running job for a checkpoint at the end of its next step (thread-safe).
  void requestCheckpoint();

 public Q_SLOTS:
  /// Runs the config in `yaml` (relative paths against `base_dir`); call through a queued
  /// connection or QMetaObject::invokeMethod so it runs on the worker's thread. With
  /// `processes` > 1 this thread is rank 0 of a data-parallel run (it records the run and
  /// feeds the monitor) and ranks 1… are `tunebench-cli train` processes it starts ($TB_CLI,
  /// else the tunebench-cli beside this program), each with cores / processes threads.
  void run(const QString& yaml, const QString& base_dir, int processes = 1);

 Q_SIGNALS:
  /// The run exists in the history and its first step is about to start.
  void runStarted(qint64 run_id, const QString& output_dir, const QString& trainable);
  /// After every optimizer step.
  void stepDone(const tb::ui::StepPoint& point);
  /// After every evaluation: a one-line summary, the loss and the accuracy (-1 = none).
  void evaluated(qint64 step, const QString& summary, double loss, double accuracy);
  /// A log line ("info", "warning", "error").
  void logLine(const QString& level, const QString& message);
  /// The run ended normally or by a stop request.
  void runFinished(bool stopped, const QString& summary);
  /// The run could not start or failed; `message` says why.
  void runFailed(const QString& message);

 private:
  std::unique_ptr<TrainerControl> control_;  // stop/pause flags read by the training loop
};

}  // namespace tb::ui

Q_DECLARE_METATYPE(tb::ui::StepPoint)
