#pragma once
// The live view of the run in progress: progress, current figures, the loss (raw, smoothed and
// eval) beside tabs of learning rate, gradient norm, tokens/s and memory; pause, stop and
// checkpoint now; the run's log. Fed by TrainingWorker's signals.

#include <QWidget>

#include "ui/training_worker.h"
#include "ui/widgets/smoothing.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace tb::ui {

class MetricPlot;

/// Live monitor of one run.
class RunMonitor : public QWidget {
  Q_OBJECT
 public:
  explicit RunMonitor(QWidget* parent = nullptr);

  /// Clears everything for a new run.
  void reset(const QString& title);
  /// Whether a run is in progress.
  bool isRunning() const { return running_; }
  /// The loss plot: curve 0 train loss, 1 eval loss, 2 train loss smoothed (tests).
  MetricPlot* lossPlot() const { return loss_plot_; }
  /// The plot of "memory", "lr", "grad_norm", "tokens_per_second" or "eval_accuracy" (tests);
  /// null otherwise.
  MetricPlot* plot(const QString& name) const;

 public Q_SLOTS:
  void onRunStarted(qint64 run_id, const QString& output_dir, const QString& trainable);
  void onStep(const tb::ui::StepPoint& point);
  void onEvaluated(qint64 step, const QString& summary, double loss, double accuracy = -1);
  void onLog(const QString& level, const QString& message);
  void onFinished(bool stopped, const QString& summary);
  void onFailed(const QString& message);

 Q_SIGNALS:
  /// The user pressed Stop.
  void stopRequested();
  /// The user pressed Pause (true) or Resume (false).
  void pauseRequested(bool paused);
  /// The user pressed Checkpoint now.
  void checkpointRequested();
  /// The run ended: "done", "stopped" or "failed"; `run_id` is -1 when it never started.
  void runEnded(qint64 run_id, const QString& outcome);

 private:
  void setRunning(bool running);

  QLabel* title_ = nullptr;
  QLabel* figures_ = nullptr;
  QProgressBar* progress_ = nullptr;
  MetricPlot* loss_plot_ = nullptr;
  MetricPlot* memory_plot_ = nullptr;
  MetricPlot* lr_plot_ = nullptr;
  MetricPlot* grad_norm_plot_ = nullptr;
  MetricPlot* speed_plot_ = nullptr;
  MetricPlot* accuracy_plot_ = nullptr;
  QTabWidget* side_tabs_ = nullptr;
  Ema loss_ema_{0.9};
  QListWidget* log_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* stop_ = nullptr;
  QPushButton* checkpoint_ = nullptr;
  bool running_ = false;
  qint64 run_id_ = -1;  // the run being shown
};

}  // namespace tb::ui
