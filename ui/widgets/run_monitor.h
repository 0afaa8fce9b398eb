#pragma once
// The live view of the run in progress: progress, current figures, loss and memory curves,
// pause/stop, and the run's log. Fed by TrainingWorker's signals.

#include <QWidget>

#include "ui/training_worker.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

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
  /// The loss plot (tests).
  MetricPlot* lossPlot() const { return loss_plot_; }

 public Q_SLOTS:
  void onRunStarted(qint64 run_id, const QString& output_dir, const QString& trainable);
  void onStep(const tb::ui::StepPoint& point);
  void onEvaluated(qint64 step, const QString& summary, double loss);
  void onLog(const QString& level, const QString& message);
  void onFinished(bool stopped, const QString& summary);
  void onFailed(const QString& message);

 Q_SIGNALS:
  /// The user pressed Stop.
  void stopRequested();
  /// The user pressed Pause (true) or Resume (false).
  void pauseRequested(bool paused);

 private:
  void setRunning(bool running);

  QLabel* title_ = nullptr;
  QLabel* figures_ = nullptr;
  QProgressBar* progress_ = nullptr;
  MetricPlot* loss_plot_ = nullptr;
  MetricPlot* memory_plot_ = nullptr;
  QListWidget* log_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* stop_ = nullptr;
  bool running_ = false;
};

}  // namespace tb::ui
