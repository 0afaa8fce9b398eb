#include "ui/widgets/finished_runs.h"

#include <QComboBox>

#include "core/runs/run_store.h"

namespace tb::ui {

QString fillFinishedRuns(QComboBox* combo, RunStore* store) {
  if (!store) return {};
  const qint64 current = combo->currentData().toLongLong();
  combo->clear();
  QString error;
  try {
    for (const RunRecord& run : store->list_runs()) {
      const bool done = run.status == RunStatus::kCompleted || run.status == RunStatus::kStopped;
      if (!done || run.output_dir.empty()) continue;
      combo->addItem(QString("#%1  %2  (%3, %4)")
                         .arg(run.id)
                         .arg(QString::fromStdString(run.name), QString::fromStdString(run.method),
                              QString::fromUtf8(to_string(run.status))),
                     QVariant::fromValue<qint64>(run.id));
    }
  } catch (const std::exception& failure) {
    error = QString::fromUtf8(failure.what());
  }
  const int index = combo->findData(current);
  if (index >= 0) combo->setCurrentIndex(index);
  return error;
}

}  // namespace tb::ui
