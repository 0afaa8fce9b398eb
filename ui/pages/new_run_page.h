#pragma once
// New run: pick a recipe preset or open a YAML config, edit it, check it, run it, and watch
// the run live below. (The form view of the config grows here with the GUI issue.)

#include <QWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace tb::ui {

class RunMonitor;

/// The New run page.
class NewRunPage : public QWidget {
  Q_OBJECT
 public:
  explicit NewRunPage(QWidget* parent = nullptr);

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
  /// The live monitor below the editor.
  RunMonitor* monitor() const { return monitor_; }

 Q_SIGNALS:
  /// Train this config (YAML text, folder for relative paths).
  void runRequested(const QString& yaml, const QString& base_dir);

 private:
  void saveAs();

  QComboBox* presets_ = nullptr;
  QPlainTextEdit* editor_ = nullptr;
  QLabel* verdict_ = nullptr;
  QLabel* source_ = nullptr;
  QPushButton* run_ = nullptr;
  RunMonitor* monitor_ = nullptr;
  QString base_dir_;
};

}  // namespace tb::ui
