#include "ui/widgets/method_queue.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace tb::ui {

MethodQueue::MethodQueue(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(this);
  list_ = new QListWidget(this);
  list_->setObjectName("queueList");
  list_->setFlow(QListView::LeftToRight);
  list_->setWrapping(true);
  list_->setSpacing(4);
  list_->setMaximumHeight(56);
  cancel_ = new QPushButton(tr("Cancel waiting runs"), this);
  cancel_->setObjectName("cancelQueue");
  auto* row = new QHBoxLayout;
  row->addWidget(title_, 1);
  row->addWidget(cancel_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(row);
  layout->addWidget(list_);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    for (QueuedRun& run : runs_) {
      if (run.state == "waiting") run.state = "cancelled";
    }
    refresh();
    Q_EMIT cancelled();
  });
  hide();
}

void MethodQueue::setRuns(const QVector<QueuedRun>& runs) {
  runs_ = runs;
  for (QueuedRun& run : runs_) run.state = "waiting";
  current_ = -1;
  refresh();
  show();
}

bool MethodQueue::isActive() const {
  for (const QueuedRun& run : runs_) {
    if (run.state == "waiting" || run.state == "running") return true;
  }
  return false;
}

bool MethodQueue::hasNext() const {
  for (const QueuedRun& run : runs_) {
    if (run.state == "waiting") return true;
  }
  return false;
}

QueuedRun MethodQueue::takeNext() {
  for (int index = 0; index < runs_.size(); ++index) {
    if (runs_[index].state != "waiting") continue;
    runs_[index].state = "running";
    current_ = index;
    refresh();
    return runs_[index];
  }
  return {};
}

void MethodQueue::finishCurrent(qint64 run_id, const QString& state) {
  if (current_ < 0) return;
  runs_[current_].run_id = run_id;
  runs_[current_].state = state;
  current_ = -1;
  refresh();
}

QList<qint64> MethodQueue::finishedRunIds() const {
  QList<qint64> ids;
  for (const QueuedRun& run : runs_) {
    if ((run.state == "done" || run.state == "stopped") && run.run_id >= 0) ids << run.run_id;
  }
  return ids;
}

void MethodQueue::refresh() {
  list_->clear();
  int finished = 0;
  for (int index = 0; index < runs_.size(); ++index) {
    const QueuedRun& run = runs_[index];
    QString text = QString("%1. %2 — %3").arg(index + 1).arg(run.method, run.state);
    if (run.run_id >= 0) text += QString(" (run %1)").arg(run.run_id);
    auto* item = new QListWidgetItem(text, list_);
    if (run.state == "running") {
      QFont bold = item->font();
      bold.setBold(true);
      item->setFont(bold);
    }
    if (run.state == "failed") item->setForeground(QColor("#c92a2a"));
    if (run.state == "done") item->setForeground(QColor("#2b8a3e"));
    if (run.state != "waiting" && run.state != "running") ++finished;
  }
  title_->setText(tr("<b>Compare methods</b>: %1 of %2 finished; the runs open in Compare at "
                     "the end")
                      .arg(finished)
                      .arg(runs_.size()));
  cancel_->setEnabled(hasNext());
}

}  // namespace tb::ui
