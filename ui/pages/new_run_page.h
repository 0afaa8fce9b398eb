#pragma once
// New run: pick a recipe preset or open a YAML config, edit it, check it, run it, and watch
// the run live below; Estimate shows memory and time per method before anything starts. (The
// form view of the config grows here with the GUI issue.)

#include <QWidget>

#include <functional>
#include <memory>

#include "core/config/config_yaml.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTabWidget;
class QTableWidget;
class QThread;

namespace tb::ui {

class ConfigForm;
class DataPreviewPanel;
class MethodQueue;
class RunMonitor;

/// The New run page.
class NewRunPage : public QWidget {
  Q_OBJECT
 public:
  explicit NewRunPage(QWidget* parent = nullptr);
  ~NewRunPage() override;

  /// Loads a preset by name into the editor; false when there is no such preset.
  bool loadPreset(const QString& name);
  /// Loads a YAML file into the editor (its folder anchors relative paths).
  bool loadFile(const QString& path);
  /// Replaces the editor text; relative paths resolve against `base_dir`.
  void setYaml(const QString& yaml, const QString& base_dir);
  /// Validates the editor's config; shows and returns the problems (empty = valid).
  QStringList check();
  /// Validates, then asks for the run (emits runRequested) unless one is running.
  void startRun();
  /// Validates, then estimates memory and time of every method for this config on a
  /// background thread (real steps timed); the table below the editor shows the result.
  void estimate();
  /// Queues this config once per method in `methods` (estimable_methods() names), each with
  /// its own output folder and run name, and starts the first; when the last has ended the
  /// runs are offered to Compare (compareRequested). False when the config is invalid or a
  /// run is going.
  bool compareMethods(const QStringList& methods);
  /// The form view of the config (tests).
  ConfigForm* form() const { return form_; }
  /// Shows the form (true) or the YAML editor (false); the form is filled from the YAML, which
  /// must parse (false when it does not, with the problem shown).
  bool showForm(bool form);
  /// Shows the Data tab and previews the config's data set there (in the background); false
  /// when the YAML does not parse.
  bool showDataPreview();
  /// The Data tab (tests).
  DataPreviewPanel* dataPreview() const { return data_preview_; }
  /// The editor's YAML text.
  QString yaml() const;
  /// The queue of Compare methods… (tests).
  MethodQueue* queue() const { return queue_; }
  /// Whether an estimate is being computed.
  bool isEstimating() const { return estimate_thread_ != nullptr; }
  /// The per-method estimate table (tests).
  QTableWidget* estimateTable() const { return estimates_; }
  /// Processes a run uses (data parallel when > 1; remembered between sessions).
  QSpinBox* processesBox() const { return processes_; }
  /// The live monitor below the editor.
  RunMonitor* monitor() const { return monitor_; }

 Q_SIGNALS:
  /// Train this config (YAML text, folder for relative paths) with this many processes.
  void runRequested(const QString& yaml, const QString& base_dir, int processes);
  /// An estimate finished (the table is filled) or failed (the verdict says why).
  void estimateFinished(bool ok);
  /// A Compare methods… queue ended: overlay these runs.
  void compareRequested(const QList<qint64>& run_ids);

 private:
  void saveAs();
  void showEstimates();
  void askCompareMethods();
  void showProblem(const QString& html_text);  // in red under the editor
  LoadedConfig editorConfig() const;           // the editor's YAML parsed (tb::Error if not)
  // Parses the editor, lets `fill` show it in view `tab` and switches there; else says that
  // `what` needs valid YAML.
  bool showParsedView(int tab, const QString& what, const std::function<void(LoadedConfig&)>& fill);
  void startNextQueued();
  void onRunEnded(qint64 run_id, const QString& outcome);

  QComboBox* presets_ = nullptr;
  QPlainTextEdit* editor_ = nullptr;
  QLabel* verdict_ = nullptr;
  QLabel* source_ = nullptr;
  QPushButton* run_ = nullptr;
  QSpinBox* processes_ = nullptr;
  QPushButton* estimate_button_ = nullptr;
  QTableWidget* estimates_ = nullptr;
  QSplitter* splitter_ = nullptr;
  QThread* estimate_thread_ = nullptr;
  struct EstimateOutcome;
  std::shared_ptr<EstimateOutcome> estimate_outcome_;  // written by the thread, read after
  RunMonitor* monitor_ = nullptr;
  MethodQueue* queue_ = nullptr;
  ConfigForm* form_ = nullptr;
  DataPreviewPanel* data_preview_ = nullptr;
  QTabWidget* views_ = nullptr;  // Form | YAML
  QString base_dir_;
};

}  // namespace tb::ui
