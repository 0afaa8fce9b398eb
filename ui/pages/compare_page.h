#pragma once
// Compare: the curves of several runs overlaid (any logged metric, against step, epoch,
// tokens or time, optional smoothing and log scale), the config keys in which they differ and
// a summary of each run's final figures; the plot saves as PNG/SVG/PDF, the data as CSV.

#include <QList>
#include <QWidget>

#include "ui/widgets/smoothing.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QTableWidget;

namespace tb {
class RunStore;
}

namespace tb::ui {

class MetricPlot;

/// The Compare page.
class ComparePage : public QWidget {
  Q_OBJECT
 public:
  /// `store` is the GUI thread's connection (may be null: the page stays empty).
  explicit ComparePage(RunStore* store, QWidget* parent = nullptr);

  /// Lists the runs of the history and checks these.
  void setRuns(const QList<qint64>& run_ids);
  /// Shows `metric` (e.g. "eval/accuracy"); false when no checked run logged it.
  bool setMetric(const QString& metric);
  /// Sets the EMA smoothing (0 = raw … 0.99).
  void setSmoothing(double weight);
  /// Ids of the checked runs.
  QList<qint64> checkedRuns() const;
  /// The overlay plot (tests, image export).
  MetricPlot* plot() const { return plot_; }
  /// Saves the plot as PNG, SVG or PDF (by the file's suffix); false with `error` set when it
  /// cannot.
  bool savePlot(const QString& path, QString* error = nullptr);
  /// Saves every point of the shown metric of the checked runs (not downsampled) as CSV:
  /// run_id, run_name, metric, step, epoch, tokens, wall_seconds, value, smoothed.
  bool saveCsv(const QString& path, QString* error = nullptr);
  /// The summary table: one row per checked run (tests).
  QTableWidget* summaryTable() const { return summary_; }

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void reloadRunList(const QList<qint64>& checked);
  void updateMetricChoices();
  void updatePlot();
  void updateDiff();
  void updateSummary();
  void askSavePlot();
  void askSaveCsv();

  RunStore* store_ = nullptr;
  QListWidget* runs_ = nullptr;
  QComboBox* metric_ = nullptr;
  QComboBox* x_axis_ = nullptr;
  QDoubleSpinBox* smoothing_ = nullptr;
  QCheckBox* log_y_ = nullptr;
  MetricPlot* plot_ = nullptr;
  QTableWidget* diff_ = nullptr;
  QTableWidget* summary_ = nullptr;
  QLabel* diff_title_ = nullptr;
};

}  // namespace tb::ui
