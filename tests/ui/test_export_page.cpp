// The Export page driven through its widgets: a real (tiny) training run from the history is
// exported as a PEFT adapter with its model card and loss plot, and as a q8_0 GGUF; an existing
// output is kept unless "Replace" is checked. A screenshot lands in the build folder.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include "core/io/gguf.h"
#include "tiny_run.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

#include "ui/main_window.h"
#include "ui/pages/export_page.h"
#include "ui/pages/runs_page.h"

namespace fs = std::filesystem;

class TestExportPage : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings away from the user's own
    QSettings().clear();                       // and from earlier runs of the tests
    QVERIFY(dir_.isValid());
    root_ = dir_.path().toStdString();
    qputenv("TB_DB", QByteArray::fromStdString((root_ / "runs.db").string()));
    run_id_ = tb::test::train_tiny_lora_run(root_, "export page test", 6);
    QVERIFY(run_id_ > 0);
  }

  void exportsTheSelectedRunAsPeftAndGguf() {
    tb::ui::MainWindow window;
    window.resize(1100, 760);
    window.show();
    window.showPage("runs");
    QVERIFY(window.runsPage()->selectRun(run_id_));
    QTest::mouseClick(window.runsPage()->findChild<QPushButton*>("exportModelButton"),
                      Qt::LeftButton);
    QCOMPARE(window.currentPageId(), QString("export"));
    tb::ui::ExportPage* page = window.exportPage();
    auto* runs = page->findChild<QComboBox*>("exportRuns");
    QCOMPARE(runs->currentData().toLongLong(), run_id_);
    QVERIFY(runs->currentText().contains("export page test"));

    // PEFT (the default): adapter files, model card and the loss plot drawn by the GUI thread.
    auto* button = page->findChild<QPushButton*>("exportButton");
    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(page->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY2(page->statusText().startsWith("Exported"), qPrintable(page->statusText()));
    const fs::path adapter = root_ / "run/exports/adapter";
    QVERIFY(fs::exists(adapter / "adapter_model.safetensors"));
    QVERIFY(fs::exists(adapter / "README.md"));
    const QImage plot(QString::fromStdString((adapter / "loss.png").string()));
    QCOMPARE(plot.width(), 800);

    // GGUF q8_0.
    page->setFormat("gguf");
    auto* dtype = page->findChild<QComboBox*>("exportDtype");
    dtype->setCurrentIndex(dtype->findText("q8_0"));
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY2(page->statusText().startsWith("Exported"), qPrintable(page->statusText()));
    const fs::path gguf = root_ / "run/exports/model-q8_0.gguf";
    const tb::GgufFile file(gguf);
    QVERIFY(file.value("general.file_type") == tb::GgufValue::u32(7));
    const auto written = fs::last_write_time(gguf);

    // Again: refused (the file is untouched) until Replace is checked.
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY2(page->statusText().contains("already exists"), qPrintable(page->statusText()));
    QCOMPARE(fs::last_write_time(gguf), written);
    page->findChild<QCheckBox*>("exportForce")->setChecked(true);
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY2(page->statusText().startsWith("Exported"), qPrintable(page->statusText()));

    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/export_page.png"));
  }

 private:
  QTemporaryDir dir_;
  fs::path root_;
  qint64 run_id_ = 0;
};

QTEST_MAIN(TestExportPage)
#include "test_export_page.moc"
