#pragma once
// Playground: the base model and a fine-tuned version side by side on the user's own prompt —
// decoders answer with their chat template (streamed, token by token), classifiers show their
// class probabilities. Models load once (on the generation thread) and stay loaded.

#include <QString>
#include <QWidget>
#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QThread;

namespace tb {
class RunStore;
class ChatSession;
}  // namespace tb

namespace tb::ui {

/// The Playground page.
class PlaygroundPage : public QWidget {
  Q_OBJECT
 public:
  /// `store` lists the runs to pick from (may be null).
  explicit PlaygroundPage(RunStore* store, QWidget* parent = nullptr);
  ~PlaygroundPage() override;

  /// Left side: a model folder (the base).
  void setLeft(const QString& model);
  /// Right side: a model folder with an optional adapter (the fine-tuned one).
  void setRight(const QString& model, const QString& adapter);
  /// Fills both sides from a run: base on the left, its result on the right.
  bool selectRun(qint64 run_id);
  /// The prompt (a user message for decoders, the text for classifiers).
  void setPrompt(const QString& text);
  /// Runs both sides (what the Generate button does).
  void generate();
  /// Whether a generation is running.
  bool isBusy() const { return thread_ != nullptr; }
  /// What side 0 (left) or 1 (right) shows.
  QString outputText(int side) const;
  /// The status line (errors, what ran).
  QString statusText() const;

 Q_SIGNALS:
  /// A generation ended (`ok` false when a side failed; the status says why).
  void generationFinished(bool ok);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  struct Side;
  void reloadRuns();
  void finish();

  RunStore* store_ = nullptr;
  QComboBox* runs_ = nullptr;
  QPlainTextEdit* prompt_ = nullptr;
  QSpinBox* max_tokens_ = nullptr;
  QDoubleSpinBox* temperature_ = nullptr;
  QPushButton* generate_ = nullptr;
  QLabel* status_ = nullptr;
  std::shared_ptr<Side> sides_[2];
  QThread* thread_ = nullptr;
  std::shared_ptr<QString> error_;  // written by the thread, read after it finished
};

}  // namespace tb::ui
