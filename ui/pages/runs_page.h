#pragma once
// Runs: the run history (GUI and CLI runs alike) as a searchable table, with the selected
// run's curves, details, config and events below. Refreshes itself while visible, so a run
// started from the CLI appears and grows here.

#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace tb {
class RunStore;
}

namespace tb::ui {

class MetricPlot;
class RunTableModel;

/// The Runs page.
class RunsPage : public QWidget {
  Q_OBJECT
 public:
  /// `store` is the GUI thread's connection (may be null: `store_error` is shown instead).
  RunsPage(RunStore* store, const QString& store_error, QWidget* parent = nullptr);

  /// Reloads the list from the store (keeps the selection).
  void refresh();
  /// Selects the run with this id; false when it is not listed.
  bool selectRun(qint64 run_id);
  /// Ids of the selected runs, in table order.
  QList<qint64> selectedRunIds() const;
  /// Deletes the selected runs after asking (and optionally their output folders).
  void deleteSelected();
  /// Continues the selected run from its newest checkpoint (resumeRequested); false with the
  /// reason shown when it has none or finished.
  bool resumeSelected();
  /// Opens the selected run's output folder in the desktop's file manager.
  void openSelectedFolder();

 Q_SIGNALS:
  /// The user asked to compare these runs.
  void compareRequested(const QList<qint64>& run_ids);
  /// The user asked to export this run's adapter or model (the Export page).
  void exportModelRequested(qint64 run_id);
  /// Train this config (the run's own, with resume_from_checkpoint set) with this many
  /// processes (as many as wrote the checkpoint).
  void resumeRequested(const QString& yaml, const QString& base_dir, int processes);

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  QWidget* buildDetails();
  void showRun(qint64 run_id);
  void showCurves();
  void saveEdits();
  void exportSelected();
  void showError(const QString& text);

  RunStore* store_ = nullptr;
  RunTableModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* table_ = nullptr;
  QLineEdit* search_ = nullptr;
  QComboBox* status_filter_ = nullptr;
  QComboBox* method_filter_ = nullptr;
  QLabel* error_ = nullptr;
  QLabel* summary_ = nullptr;
  QComboBox* metric_ = nullptr;
  MetricPlot* plot_ = nullptr;
  QLineEdit* name_edit_ = nullptr;
  QLineEdit* tags_edit_ = nullptr;
  QPlainTextEdit* notes_edit_ = nullptr;
  QPlainTextEdit* config_view_ = nullptr;
  QListWidget* events_ = nullptr;
  QTimer* refresh_timer_ = nullptr;
  QPushButton* resume_ = nullptr;
  qint64 shown_run_ = 0;
  bool selected_once_ = false;
};

}  // namespace tb::ui
