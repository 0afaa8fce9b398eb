#pragma once
// Export: a run's adapter or model as a PEFT adapter, a merged Hugging Face folder, a GGUF
// model or a GGUF LoRA adapter for llama.cpp (core/export/export_job). The export runs on its
// own thread; the page shows what it does and where the result went, and never replaces an
// existing output unless "Replace" is checked.

#include <QString>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QThread;

namespace tb {
class RunStore;
}

namespace tb::ui {

/// The Export page.
class ExportPage : public QWidget {
  Q_OBJECT
 public:
  /// `store` is the GUI thread's connection (may be null: only folders can be exported).
  explicit ExportPage(RunStore* store, QWidget* parent = nullptr);
  ~ExportPage() override;

  /// Selects run `run_id` as the source; false when it is not in the list.
  bool selectRun(qint64 run_id);
  /// Uses a folder (run output, checkpoint, adapter or model) as the source.
  void setSourceFolder(const QString& folder);
  /// Chooses the format ("peft", "merged", "gguf", "gguf-lora").
  void setFormat(const QString& format);
  /// Starts the export (what the Export button does).
  void startExport();
  /// Whether an export is running.
  bool isBusy() const;
  /// The last result line or error shown under the button.
  QString statusText() const;

 Q_SIGNALS:
  /// An export ended; `ok` false on error, `message` says what happened.
  void exportFinished(bool ok, const QString& message);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void reloadRuns();
  void updateChoices();
  void finish();

  RunStore* store_ = nullptr;
  QRadioButton* from_run_ = nullptr;
  QRadioButton* from_folder_ = nullptr;
  QComboBox* runs_ = nullptr;
  QLineEdit* folder_ = nullptr;
  QLineEdit* adapter_ = nullptr;
  QComboBox* format_ = nullptr;
  QComboBox* dtype_ = nullptr;
  QLineEdit* shard_size_ = nullptr;
  QLineEdit* out_ = nullptr;
  QCheckBox* force_ = nullptr;
  QPushButton* export_button_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QLabel* status_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  QThread* thread_ = nullptr;
  struct Outcome;
  Outcome* outcome_ = nullptr;  // written by the export thread, read after it finished
};

}  // namespace tb::ui
