#include "ui/widgets/run_monitor.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

#include "ui/widgets/metric_plot.h"

namespace tb::ui {

namespace {

QString clock_text(double seconds) {
  const qint64 s = static_cast<qint64>(seconds + 0.5);
  return QString("%1:%2:%3")
      .arg(s / 3600, 2, 10, QChar('0'))
      .arg(s / 60 % 60, 2, 10, QChar('0'))
      .arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace

RunMonitor::RunMonitor(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(this);
  title_->setObjectName("monitorTitle");
  title_->setWordWrap(true);
  figures_ = new QLabel(this);
  figures_->setObjectName("monitorFigures");
  figures_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  progress_ = new QProgressBar(this);
  progress_->setObjectName("monitorProgress");
  progress_->setAlignment(Qt::AlignCenter);
  pause_ = new QPushButton(tr("Pause"), this);
  pause_->setObjectName("pauseButton");
  pause_->setCheckable(true);
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("stopButton");
  stop_->setToolTip(tr("Checkpoint, then stop after the current step"));
  checkpoint_ = new QPushButton(tr("Checkpoint now"), this);
  checkpoint_->setObjectName("checkpointButton");
  checkpoint_->setToolTip(tr("Write a checkpoint at the end of the next step, then go on"));
  loss_plot_ = new MetricPlot(this);
  loss_plot_->setAxisLabels(tr("step"), tr("loss"));
  loss_plot_->setPlaceholder(tr("The loss appears here as training runs"));
  side_tabs_ = new QTabWidget(this);
  side_tabs_->setObjectName("monitorTabs");
  auto side_plot = [this](const QString& tab, const QString& axis) {
    auto* plot = new MetricPlot(side_tabs_);
    plot->setAxisLabels(tr("step"), axis);
    side_tabs_->addTab(plot, tab);
    return plot;
  };
  memory_plot_ = side_plot(tr("Memory"), tr("memory (MB)"));
  lr_plot_ = side_plot(tr("Learning rate"), tr("learning rate"));
  grad_norm_plot_ = side_plot(tr("Grad norm"), tr("gradient norm"));
  speed_plot_ = side_plot(tr("Tokens/s"), tr("tokens / s"));
  accuracy_plot_ = side_plot(tr("Eval accuracy"), tr("accuracy"));
  accuracy_plot_->setPlaceholder(tr("Classification runs with evaluation show accuracy here"));
  log_ = new QListWidget(this);
  log_->setObjectName("monitorLog");
  log_->setMaximumHeight(110);

  auto* top = new QHBoxLayout;
  top->addWidget(progress_, 1);
  top->addWidget(pause_);
  top->addWidget(checkpoint_);
  top->addWidget(stop_);
  auto* plots = new QHBoxLayout;
  plots->addWidget(loss_plot_, 3);
  plots->addWidget(side_tabs_, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(title_);
  layout->addLayout(top);
  layout->addWidget(figures_);
  layout->addLayout(plots, 1);
  layout->addWidget(log_);

  connect(stop_, &QPushButton::clicked, this, [this] {
    stop_->setEnabled(false);
    onLog("info", tr("stopping after the current step…"));
    Q_EMIT stopRequested();
  });
  connect(checkpoint_, &QPushButton::clicked, this, [this] {
    onLog("info", tr("checkpoint requested: written at the end of the next step"));
    Q_EMIT checkpointRequested();
  });
  connect(pause_, &QPushButton::toggled, this, [this](bool paused) {
    pause_->setText(paused ? tr("Resume") : tr("Pause"));
    Q_EMIT pauseRequested(paused);
  });
  setRunning(false);
}

void RunMonitor::setRunning(bool running) {
  running_ = running;
  pause_->setEnabled(running);
  stop_->setEnabled(running);
  checkpoint_->setEnabled(running);
  if (!running) {
    const QSignalBlocker block(pause_);
    pause_->setChecked(false);
    pause_->setText(tr("Pause"));
  }
}

void RunMonitor::reset(const QString& title) {
  title_->setText(title);
  figures_->clear();
  progress_->setRange(0, 0);  // busy until the first step says how many there are
  for (MetricPlot* plot :
       {loss_plot_, memory_plot_, lr_plot_, grad_norm_plot_, speed_plot_, accuracy_plot_}) {
    plot->setSeries({});
  }
  loss_ema_ = Ema(0.9);
  run_id_ = -1;
  log_->clear();
  setRunning(true);
}

void RunMonitor::onRunStarted(qint64 run_id, const QString& output_dir, const QString& trainable) {
  run_id_ = run_id;
  title_->setText(
      tr("<b>Run %1</b> → %2<br>%3").arg(run_id).arg(output_dir.toHtmlEscaped(), trainable));
}

void RunMonitor::onStep(const StepPoint& p) {
  progress_->setRange(0, static_cast<int>(p.total_steps));
  progress_->setValue(static_cast<int>(p.step));
  progress_->setFormat(QString("%1 / %2 steps").arg(p.step).arg(p.total_steps));
  figures_->setText(tr("epoch %1 · loss %2 · lr %3 · %4 tok/s · %5 MB · ETA %6")
                        .arg(p.epoch, 0, 'f', 2)
                        .arg(p.loss, 0, 'f', 4)
                        .arg(p.lr, 0, 'e', 2)
                        .arg(p.tokens_per_second, 0, 'f', 0)
                        .arg(p.rss_mb, 0, 'f', 0)
                        .arg(clock_text(p.eta_seconds)));
  const double step = static_cast<double>(p.step);
  // Raw loss light, its moving average strong: the trend reads through the noise.
  loss_plot_->appendPoint(0, tr("train loss"), step, p.loss, QColor(31, 119, 180, 90));
  loss_plot_->appendPoint(2, tr("train loss (EMA 0.9)"), step, loss_ema_.push(p.loss),
                          QColor(31, 119, 180));
  memory_plot_->appendPoint(0, tr("process RSS"), step, p.rss_mb);
  lr_plot_->appendPoint(0, tr("learning rate"), step, p.lr);
  grad_norm_plot_->appendPoint(0, tr("gradient norm"), step, p.grad_norm);
  speed_plot_->appendPoint(0, tr("tokens/s"), step, p.tokens_per_second);
}

MetricPlot* RunMonitor::plot(const QString& name) const {
  if (name == "memory") return memory_plot_;
  if (name == "lr") return lr_plot_;
  if (name == "grad_norm") return grad_norm_plot_;
  if (name == "tokens_per_second") return speed_plot_;
  if (name == "eval_accuracy") return accuracy_plot_;
  return nullptr;
}

void RunMonitor::onEvaluated(qint64 step, const QString& summary, double loss, double accuracy) {
  loss_plot_->appendPoint(1, tr("eval loss"), static_cast<double>(step), loss);
  if (accuracy >= 0) {
    accuracy_plot_->appendPoint(0, tr("eval accuracy"), static_cast<double>(step), accuracy);
  }
  onLog("info", summary);
}

void RunMonitor::onLog(const QString& level, const QString& message) {
  auto* item = new QListWidgetItem(message, log_);
  if (level == "warning") item->setForeground(QColor("#b35c00"));
  if (level == "error") item->setForeground(QColor("#c92a2a"));
  log_->scrollToBottom();
}

void RunMonitor::onFinished(bool stopped, const QString& summary) {
  if (progress_->maximum() == 0) progress_->setRange(0, 1);
  onLog("info", summary);
  title_->setText(title_->text() + "<br><b>" + (stopped ? tr("stopped") : tr("completed")) +
                  "</b>");
  setRunning(false);
  Q_EMIT runEnded(run_id_, stopped ? "stopped" : "done");
}

void RunMonitor::onFailed(const QString& message) {
  if (progress_->maximum() == 0) progress_->setRange(0, 1);
  onLog("error", message);
  title_->setText(title_->text() + "<br><span style='color:#c92a2a'><b>" + tr("failed") +
                  "</b>: " + message.toHtmlEscaped() + "</span>");
  setRunning(false);
  Q_EMIT runEnded(run_id_, "failed");
}

}  // namespace tb::ui
