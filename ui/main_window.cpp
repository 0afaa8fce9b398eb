#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStatusBar>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include "core/runs/run_store.h"
#include "core/util/runtime.h"
#include "ui/about_dialog.h"
#include "ui/pages/compare_page.h"
#include "ui/pages/export_page.h"
#include "ui/pages/new_run_page.h"
#include "ui/pages/playground_page.h"
#include "ui/pages/runs_page.h"
#include "ui/training_worker.h"
#include "ui/widgets/run_monitor.h"

namespace tb::ui {

bool MainWindow::isFirstLaunch() const {
  if (!store_) return false;
  try {
    RunFilter one;
    one.limit = 1;
    return store_->list_runs(one).empty();
  } catch (const std::exception&) {
    return false;  // an unreadable history is reported by the Runs page
  }
}

bool MainWindow::welcomeFirstLaunch() {
  if (!isFirstLaunch()) return false;
  showPage("new-run");
  return new_run_page_->loadPreset("A-lora");
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("tunebench"));
  setObjectName("mainWindow");

  navigation_ = new QListWidget(this);
  navigation_->setObjectName("navigation");
  navigation_->setIconSize(QSize(24, 24));
  navigation_->setSpacing(2);
  navigation_->setFixedWidth(168);
  navigation_->setFrameShape(QFrame::NoFrame);
  pages_ = new QStackedWidget(this);
  pages_->setObjectName("pages");

  new_run_page_ = new NewRunPage;
  addPage("new-run", "page-new-run", tr("New run"), new_run_page_);
  QString store_error;
  try {
    store_ = std::make_unique<RunStore>();
  } catch (const std::exception& error) {
    store_error = tr("The run history cannot be opened: %1").arg(QString::fromUtf8(error.what()));
  }
  runs_page_ = new RunsPage(store_.get(), store_error);
  compare_page_ = new ComparePage(store_.get());
  addPage("runs", "page-runs", tr("Runs"), runs_page_);
  addPage("compare", "page-compare", tr("Compare"), compare_page_);
  connect(runs_page_, &RunsPage::compareRequested, this, [this](const QList<qint64>& ids) {
    compare_page_->setRuns(ids);
    showPage("compare");
  });
  connect(runs_page_, &RunsPage::resumeRequested, this,
          [this](const QString& yaml, const QString& base_dir, int processes) {
            if (new_run_page_->monitor()->isRunning()) {
              QMessageBox::information(this, tr("Resume"),
                                       tr("A run is training; resume when it has ended."));
              return;
            }
            new_run_page_->setYaml(yaml, base_dir);
            new_run_page_->processesBox()->setValue(processes);
            showPage("new-run");
            new_run_page_->startRun();
          });
  connect(new_run_page_, &NewRunPage::compareRequested, this, [this](const QList<qint64>& ids) {
    compare_page_->setRuns(ids);
    showPage("compare");
  });
  export_page_ = new ExportPage(store_.get());
  addPage("export", "page-export", tr("Export"), export_page_);
  connect(runs_page_, &RunsPage::exportModelRequested, this, [this](qint64 id) {
    showPage("export");
    export_page_->selectRun(id);
  });
  playground_page_ = new PlaygroundPage(store_.get());
  addPage("playground", "page-playground", tr("Playground"), playground_page_);
  connect(navigation_, &QListWidget::currentRowChanged, pages_, &QStackedWidget::setCurrentIndex);
  navigation_->setCurrentRow(0);

  auto* central = new QWidget(this);
  auto* layout = new QHBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(navigation_);
  auto* right = new QVBoxLayout;
  warning_label_ = new QLabel(central);
  warning_label_->setObjectName("runtimeWarning");
  warning_label_->setWordWrap(true);
  warning_label_->setStyleSheet(
      "QLabel { background: #fff3cd; color: #664d03; padding: 8px; border-bottom: 1px solid "
      "#e0c36a; }");
  warning_label_->hide();
  right->addWidget(warning_label_);
  right->addWidget(pages_, 1);
  layout->addLayout(right, 1);
  setCentralWidget(central);

  runtime_label_ = new QLabel(this);
  runtime_label_->setObjectName("runtimeSummary");
  statusBar()->addPermanentWidget(runtime_label_);
  buildMenus();
  startTrainingThread();
  resize(1100, 720);
  const QByteArray geometry = QSettings().value("mainWindow/geometry").toByteArray();
  if (!geometry.isEmpty()) restoreGeometry(geometry);
}

MainWindow::~MainWindow() {
  // A run in progress checkpoints and stops before the window goes away.
  worker_->requestStop();
  worker_->setPaused(false);
  training_thread_->quit();
  training_thread_->wait();
}

void MainWindow::startTrainingThread() {
  training_thread_ = new QThread(this);
  training_thread_->setObjectName("training");
  worker_ = new TrainingWorker;
  worker_->moveToThread(training_thread_);
  connect(training_thread_, &QThread::finished, worker_, &QObject::deleteLater);
  training_thread_->start();
  RunMonitor* monitor = new_run_page_->monitor();
  connect(new_run_page_, &NewRunPage::runRequested, worker_, &TrainingWorker::run);  // queued
  connect(worker_, &TrainingWorker::runStarted, monitor, &RunMonitor::onRunStarted);
  connect(worker_, &TrainingWorker::stepDone, monitor, &RunMonitor::onStep);
  connect(worker_, &TrainingWorker::evaluated, monitor, &RunMonitor::onEvaluated);
  connect(worker_, &TrainingWorker::logLine, monitor, &RunMonitor::onLog);
  connect(worker_, &TrainingWorker::runFinished, monitor, &RunMonitor::onFinished);
  connect(worker_, &TrainingWorker::runFailed, monitor, &RunMonitor::onFailed);
  connect(worker_, &TrainingWorker::runFinished, runs_page_, &RunsPage::refresh);
  connect(worker_, &TrainingWorker::runFailed, runs_page_, &RunsPage::refresh);
  // Stop and pause are atomics: set them directly, the worker thread is busy training.
  TrainingWorker* worker = worker_;
  connect(monitor, &RunMonitor::stopRequested, this, [worker] { worker->requestStop(); });
  connect(monitor, &RunMonitor::pauseRequested, this,
          [worker](bool paused) { worker->setPaused(paused); });
  connect(monitor, &RunMonitor::checkpointRequested, this,
          [worker] { worker->requestCheckpoint(); });
  // "Stop and close" closes once the run has really stopped (its checkpoint is on disk).
  auto close_if_asked = [this] {
    if (close_when_stopped_) QTimer::singleShot(0, this, &QWidget::close);
  };
  connect(worker_, &TrainingWorker::runFinished, this, close_if_asked);
  connect(worker_, &TrainingWorker::runFailed, this, close_if_asked);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  RunMonitor* monitor = new_run_page_->monitor();
  if (monitor->isRunning()) {
    if (!close_when_stopped_) {
      QMessageBox box(QMessageBox::Question, tr("A run is training"),
                      tr("A run is training. Stop it now (a checkpoint is written first, so it "
                         "can be resumed) and close?"),
                      QMessageBox::NoButton, this);
      box.setObjectName("closeWhileTraining");
      QPushButton* stop =
          box.addButton(tr("Stop with checkpoint and close"), QMessageBox::AcceptRole);
      stop->setObjectName("stopAndClose");
      box.addButton(QMessageBox::Cancel);
      box.setDefaultButton(QMessageBox::Cancel);
      box.exec();
      if (box.clickedButton() != stop) {
        event->ignore();
        return;
      }
      close_when_stopped_ = true;
      monitor->onLog("info", tr("stopping to close: checkpoint first…"));
      worker_->requestStop();
      worker_->setPaused(false);
    }
    event->ignore();  // closed by runFinished/runFailed
    return;
  }
  QSettings().setValue("mainWindow/geometry", saveGeometry());
  QMainWindow::closeEvent(event);
}

void MainWindow::addPage(const QString& id, const QString& icon, const QString& title,
                         QWidget* page) {
  page->setObjectName("page-" + id);
  auto* item = new QListWidgetItem(QIcon(":/icons/" + icon + ".svg"), title, navigation_);
  item->setData(Qt::UserRole, id);
  item->setSizeHint(QSize(0, 40));
  pages_->addWidget(page);
  page_ids_ << id;
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* go = menuBar()->addMenu(tr("&Go"));
  for (int index = 0; index < navigation_->count(); ++index) {
    QListWidgetItem* item = navigation_->item(index);
    QAction* action = go->addAction(item->icon(), item->text(),
                                    [this, index] { navigation_->setCurrentRow(index); });
    action->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + index)));
  }

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("&About tunebench"), this, &MainWindow::showAbout);
  about->setObjectName("actionAbout");
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

QStringList MainWindow::pageIds() const { return page_ids_; }

bool MainWindow::showPage(const QString& id) {
  const int index = static_cast<int>(page_ids_.indexOf(id));
  if (index < 0) return false;
  navigation_->setCurrentRow(index);
  return true;
}

QString MainWindow::currentPageId() const { return page_ids_.value(pages_->currentIndex()); }

void MainWindow::setRuntimeInfo(const RuntimeInfo& info) {
  QString summary = tr("LibTorch %1 · CPU · %2 threads")
                        .arg(QString::fromStdString(libtorch_version()))
                        .arg(info.threads);
  if (info.blas_gflops > 0) {
    // Decimals only matter for slow machines (4.5 vs 5); 112 GFLOP/s needs none.
    const int decimals = info.blas_gflops < 10 ? 1 : 0;
    summary += tr(" · BLAS %1 GFLOP/s").arg(info.blas_gflops, 0, 'f', decimals);
  }
  runtime_label_->setText(summary);
  runtime_label_->setToolTip(QString::fromStdString(info.blas_backend));
  QStringList warnings;
  for (const std::string& warning : info.warnings) warnings << QString::fromStdString(warning);
  warning_label_->setText(warnings.join("\n"));
  warning_label_->setVisible(!warnings.isEmpty());
}

void MainWindow::showAbout() {
  AboutDialog dialog(this);
  dialog.exec();
}

}  // namespace tb::ui
