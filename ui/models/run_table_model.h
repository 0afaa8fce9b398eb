#pragma once
// Table model over the run history's list of runs (one row per run), for the Runs page.

#include <QAbstractTableModel>
#include <vector>

#include "core/runs/run_types.h"

namespace tb::ui {

/// Rows = runs as RunStore::list_runs returns them; refreshed wholesale.
class RunTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  /// Columns, in display order.
  enum Column {
    kId,
    kName,
    kStatus,
    kMethod,
    kTask,
    kModel,
    kData,
    kStep,
    kFinalLoss,
    kBestEval,
    kTokensPerSecond,
    kPeakMemory,
    kDuration,
    kCreated,
    kTags,
    kCount
  };
  /// Role returning the run id of a row (qint64).
  static constexpr int kRunIdRole = Qt::UserRole + 1;
  /// Role returning the value to sort by (numbers sort as numbers).
  static constexpr int kSortRole = Qt::UserRole + 2;

  explicit RunTableModel(QObject* parent = nullptr);

  /// Replaces the rows, keeping the model's identity (views keep their state).
  void setRuns(std::vector<RunRecord> runs);
  /// The run shown in `row`.
  const RunRecord& run(int row) const { return runs_.at(static_cast<size_t>(row)); }
  /// Row of the run with this id, -1 when absent.
  int rowOf(int64_t run_id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<RunRecord> runs_;
  /// Figures read once from each run's summary_json (NaN = not recorded).
  struct Figures {
    double final_loss;         // last train loss
    double best_eval;          // best eval accuracy, else lowest eval loss
    bool best_is_accuracy;     // which of the two best_eval is
    double tokens_per_second;  // mean over the run's steps
    double peak_mb;            // highest resident memory
    double seconds;            // start to finish (or to now while running)
  };
  std::vector<Figures> figures_;
};

/// Colour that stands for a run status (running blue, completed green, failed red, …).
QColor statusColor(RunStatus status);

}  // namespace tb::ui
