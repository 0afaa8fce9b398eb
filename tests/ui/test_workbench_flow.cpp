// The workbench end to end, as a user clicks through it (offscreen, real widgets, real
// training): choose the bundled demo model (Recent menu choices) and data set in the form, run,
// watch the loss plot receive points, stop; run again to the end; find both in Runs; compare
// them (two curves and a config diff); export the finished run's adapter and load it back.
// LibTorch first: Qt's `slots` macro would break its headers.
#include "core/train/run_setup.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/runs/run_store.h"
#include "core/util/paths.h"
#include "ui/app_setup.h"
#include "ui/main_window.h"
#include "ui/pages/compare_page.h"
#include "ui/pages/export_page.h"
#include "ui/pages/new_run_page.h"
#include "ui/pages/runs_page.h"
#include "ui/widgets/config_form.h"
#include "ui/widgets/metric_plot.h"
#include "ui/widgets/run_monitor.h"

class TestWorkbenchFlow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings away from the user's own
    tb::ui::setupApplication(*qApp);
    QSettings().clear();  // the app's settings, from earlier runs of the tests
    QVERIFY(dir_.isValid());
    qputenv("TB_DB", dir_.filePath("runs.db").toUtf8());
  }

  void demoRunStopCompareExport() {
    tb::ui::MainWindow window;
    window.resize(1280, 860);
    window.show();
    tb::ui::NewRunPage* page = window.newRunPage();
    page->setYaml("finetuning_type: lora\n", dir_.path());
    QVERIFY(page->showForm(true));
    tb::ui::ConfigForm* form = page->form();

    // The demo model from the model row's choices, the demo data set, a short schedule.
    QString demo_model;
    for (const QString& choice : tb::ui::ConfigForm::modelChoices()) {
      if (choice.endsWith("demo/models/tiny-llama")) demo_model = choice;
    }
    QVERIFY2(!demo_model.isEmpty(), qPrintable(tb::ui::ConfigForm::modelChoices().join(",")));
    auto set_text = [&](const char* key, const QString& text) {
      auto* line = qobject_cast<QLineEdit*>(form->editorFor(key));
      QVERIFY2(line != nullptr, key);
      line->setText(text);
      Q_EMIT line->editingFinished();
    };
    auto set_number = [&](const char* key, int value) {
      auto* box = qobject_cast<QSpinBox*>(form->editorFor(key));
      QVERIFY2(box != nullptr, key);
      box->setValue(value);
    };
    set_text("model_name_or_path", demo_model);
    QVERIFY2(form->modelSummary().contains("parameters"), qPrintable(form->modelSummary()));
    const QString demo_data = QString::fromStdString(
        (tb::resources_dir() / "demo/data/mail-instructions/train.jsonl").string());
    set_text("dataset", demo_data);
    qobject_cast<QComboBox*>(form->editorFor("stage"))->setCurrentText("sft");
    set_text("lora_target", "all");
    set_text("learning_rate", "1e-3");
    set_number("cutoff_len", 96);
    set_number("max_samples", 64);
    set_number("per_device_train_batch_size", 4);
    set_number("max_steps", 400);
    set_number("save_steps", 5);
    set_text("output_dir", dir_.filePath("first"));
    QVERIFY2(page->yaml().contains("tiny-llama") && page->yaml().contains("max_steps: 400"),
             qPrintable(page->yaml()));

    // Run, see the loss plot receive points, stop (with a checkpoint).
    QTest::mouseClick(page->findChild<QPushButton*>("runButton"), Qt::LeftButton);
    QVERIFY2(page->monitor()->isRunning(),
             qPrintable(page->findChild<QLabel*>("checkVerdict")->text()));
    QTRY_VERIFY_WITH_TIMEOUT(page->monitor()->lossPlot()->pointCount(0) >= 6, 120000);
    QTest::mouseClick(page->monitor()->findChild<QPushButton*>("stopButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 60000);

    // A second run of the same setup with another rank, to the end.
    QVERIFY(page->showForm(true));
    set_number("lora_rank", 4);
    set_number("max_steps", 12);
    set_text("output_dir", dir_.filePath("second"));
    QTest::mouseClick(page->findChild<QPushButton*>("runButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->monitor()->isRunning(), 120000);
    QCOMPARE(page->monitor()->lossPlot()->pointCount(0), 12);

    // Both are in Runs; select both and compare.
    window.showPage("runs");
    tb::ui::RunsPage* runs = window.runsPage();
    runs->refresh();
    auto* table = runs->findChild<QTableView*>("runTable");
    QCOMPARE(table->model()->rowCount(), 2);
    table->selectAll();
    QTest::mouseClick(runs->findChild<QPushButton*>("compareButton"), Qt::LeftButton);
    QCOMPARE(window.currentPageId(), QString("compare"));
    tb::ui::ComparePage* compare = window.comparePage();
    QCOMPARE(compare->plot()->seriesCount(), 2);
    auto* diff = compare->findChild<QTableWidget*>("configDiff");
    QStringList keys;
    for (int row = 0; row < diff->rowCount(); ++row) keys << diff->item(row, 0)->text();
    QVERIFY2(
        keys.contains("lora_rank") && keys.contains("max_steps") && keys.contains("output_dir"),
        qPrintable(keys.join(",")));

    // Export the finished run's adapter; it loads back onto the base model.
    tb::RunStoreOptions options;
    options.path = dir_.filePath("runs.db").toStdString();
    qint64 finished = 0;
    for (const tb::RunRecord& run : tb::RunStore(options).list_runs()) {
      if (run.status == tb::RunStatus::kCompleted) finished = run.id;
    }
    QVERIFY(finished > 0);
    window.showPage("runs");
    QVERIFY(runs->selectRun(finished));
    QTest::mouseClick(runs->findChild<QPushButton*>("exportModelButton"), Qt::LeftButton);
    tb::ui::ExportPage* exporter = window.exportPage();
    QTest::mouseClick(exporter->findChild<QPushButton*>("exportButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!exporter->isBusy(), 120000);
    QVERIFY2(exporter->statusText().startsWith("Exported"), qPrintable(exporter->statusText()));
    const QString adapter = dir_.filePath("second/exports/adapter");
    QVERIFY(QFile::exists(adapter + "/adapter_model.safetensors"));
    QVERIFY(QFile::exists(adapter + "/adapter_config.json"));
    tb::RunConfig load;
    load.model.model_name_or_path = demo_model.toStdString();
    load.model.adapter_name_or_path = adapter.toStdString();
    load.task.stage = "sft";
    const tb::PreparedModel loaded = tb::prepare_model(load);
    QVERIFY2(loaded.method->report().text().find("trainable params") != std::string::npos,
             loaded.method->report().text().c_str());
  }

 private:
  QTemporaryDir dir_;
};

QTEST_MAIN(TestWorkbenchFlow)
#include "test_workbench_flow.moc"
