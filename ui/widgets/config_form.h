#pragma once
// The run config as a form: one row per YAML key of core/config/config_fields.h (the same list
// the YAML reader, writer and --set walk), grouped as that list groups them, with each key's
// help as tooltip and its allowed values as choices. Only the chosen method's options are
// shown. The model row says what the folder holds (architecture, parameters, dtype, size on
// disk). New run keeps it and the YAML editor in step.

#include <QMap>
#include <QWidget>

#include "core/config/run_config.h"

class QLabel;
class QFormLayout;

namespace tb::ui {

/// The form view of a RunConfig.
class ConfigForm : public QWidget {
  Q_OBJECT
 public:
  explicit ConfigForm(QWidget* parent = nullptr);

  /// Shows `config` (no edited() signal).
  void setConfig(const RunConfig& config);
  /// The config as the form shows it now.
  RunConfig config() const;
  /// The editor widget of a YAML key (tests); null for an unknown key.
  QWidget* editorFor(const QString& key) const;
  /// Whether the row of a key is shown (method options follow finetuning_type).
  bool isRowVisible(const QString& key) const;
  /// What the model row says about the model folder (tests).
  QString modelSummary() const;
  /// Remembers `folder` at the top of the recent models (QSettings, at most 8).
  static void rememberModel(const QString& folder);
  /// The recent models, newest first, then the bundled demo models.
  static QStringList modelChoices();

 Q_SIGNALS:
  /// The user changed a value.
  void edited();

 private:
  void updateMethodRows();
  void updateModelSummary();
  void userEdited();

  RunConfig shown_;                  // last config set; keys without a widget keep its values
  QMap<QString, QWidget*> editors_;  // YAML key → its editor
  QMap<QString, QWidget*> rows_;     // YAML key → the row's label (to hide the row)
  QMap<QString, QFormLayout*> layout_of_;
  QLabel* model_summary_ = nullptr;
  bool filling_ = false;       // setConfig in progress: no edited()
  QString summarised_folder_;  // the folder model_summary_ describes (loaded once)
};

}  // namespace tb::ui
