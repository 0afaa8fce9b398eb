#pragma once
// The visible queue of New run → Compare methods…: the same setup once per chosen method,
// run one after another. Shows each entry's state (waiting, running, done with its run id,
// failed, cancelled); New run takes entries from it and reports how each ended.

#include <QString>
#include <QVector>
#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;

namespace tb::ui {

/// One queued run.
struct QueuedRun {
  QString method;      // "lora", "full", … (estimable_methods())
  QString yaml;        // the complete config for that method
  qint64 run_id = -1;  // its id in the history once it ran
  QString state;       // "waiting", "running", "done", "stopped", "failed", "cancelled"
};

/// The queue and its list widget.
class MethodQueue : public QWidget {
  Q_OBJECT
 public:
  explicit MethodQueue(QWidget* parent = nullptr);

  /// Replaces the queue (all waiting) and shows it.
  void setRuns(const QVector<QueuedRun>& runs);
  /// True while an entry waits or runs.
  bool isActive() const;
  /// True when an entry is waiting.
  bool hasNext() const;
  /// Marks the next waiting entry running and returns it.
  QueuedRun takeNext();
  /// Records how the running entry ended (`state`: done, stopped or failed).
  void finishCurrent(qint64 run_id, const QString& state);
  /// Ids of the entries that produced a run (done or stopped), in queue order.
  QList<qint64> finishedRunIds() const;
  /// The entries (tests).
  const QVector<QueuedRun>& runs() const { return runs_; }

 Q_SIGNALS:
  /// The user cancelled the waiting entries.
  void cancelled();

 private:
  void refresh();

  QVector<QueuedRun> runs_;
  int current_ = -1;  // index of the running entry
  QLabel* title_ = nullptr;
  QListWidget* list_ = nullptr;
  QPushButton* cancel_ = nullptr;
};

}  // namespace tb::ui
