#pragma once
// The main window only assembles pages: a navigation list on the left, the pages on the
// right, menus and a status bar that shows what the runtime measured.

#include <QMainWindow>
#include <QString>
#include <QStringList>
#include <memory>

class QLabel;
class QListWidget;
class QStackedWidget;
class QThread;

namespace tb {
class RunStore;
struct RuntimeInfo;
}  // namespace tb

namespace tb::ui {

class ComparePage;
class ExportPage;
class PlaygroundPage;
class NewRunPage;
class RunsPage;
class TrainingWorker;

/// tunebench's top-level window.
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  /// Opens the run history ($TB_DB or the XDG data dir); a failure is shown on the pages.
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Ids of the pages in navigation order ("new-run", "runs", "compare", "export", "playground").
  QStringList pageIds() const;
  /// Shows the page with this id; returns false for an unknown id.
  bool showPage(const QString& id);
  /// Id of the page on screen.
  QString currentPageId() const;
  /// The New run page.
  NewRunPage* newRunPage() const { return new_run_page_; }
  /// True when the run history is empty (nothing was ever run with this history).
  bool isFirstLaunch() const;
  /// On a first launch, opens New run with recipe A.2 (LoRA) on the bundled demo, one click
  /// from running; returns whether it did.
  bool welcomeFirstLaunch();
  /// The Runs page.
  RunsPage* runsPage() const { return runs_page_; }
  /// The Compare page.
  ComparePage* comparePage() const { return compare_page_; }
  /// The Export page.
  ExportPage* exportPage() const { return export_page_; }
  /// The Playground page.
  PlaygroundPage* playgroundPage() const { return playground_page_; }
  /// Shows threads, BLAS and speed in the status bar, and any runtime warning prominently.
  void setRuntimeInfo(const RuntimeInfo& info);

 public Q_SLOTS:
  /// Help → About tunebench.
  void showAbout();

 protected:
  /// While a run trains, asks first: stop it with a checkpoint and close when it has
  /// stopped, or cancel. Saves the window's geometry.
  void closeEvent(QCloseEvent* event) override;

 private:
  void addPage(const QString& id, const QString& icon, const QString& title, QWidget* page);
  void buildMenus();
  void startTrainingThread();

  QListWidget* navigation_ = nullptr;
  QStackedWidget* pages_ = nullptr;
  QLabel* runtime_label_ = nullptr;
  QLabel* warning_label_ = nullptr;
  QStringList page_ids_;
  std::unique_ptr<RunStore> store_;  // the GUI thread's connection to the run history
  NewRunPage* new_run_page_ = nullptr;
  RunsPage* runs_page_ = nullptr;
  QThread* training_thread_ = nullptr;  // hosts the TrainingWorker
  TrainingWorker* worker_ = nullptr;    // lives on training_thread_
  bool close_when_stopped_ = false;     // the user chose "stop and close"
  ComparePage* compare_page_ = nullptr;
  ExportPage* export_page_ = nullptr;
  PlaygroundPage* playground_page_ = nullptr;
};

}  // namespace tb::ui
