// The main window driven through its real widgets (offscreen platform).
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSettings>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "core/util/runtime.h"
#include "sample_history.h"
#include "ui/about_dialog.h"
#include "ui/app_setup.h"
#include "ui/main_window.h"

class TestMainWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings away from the user's own
    tb::ui::setupApplication(*qApp);
    QSettings().clear();  // the app's settings, from earlier runs of the tests
  }

  void appIconLoads() { QVERIFY(!QApplication::windowIcon().pixmap(64, 64).isNull()); }

  void navigationHasTheFinalPages() {
    tb::ui::MainWindow window;
    const QStringList expected{"new-run", "runs", "compare", "export", "playground"};
    QCOMPARE(window.pageIds(), expected);
    auto* navigation = window.findChild<QListWidget*>("navigation");
    QVERIFY(navigation);
    QCOMPARE(navigation->count(), 5);
    QStringList titles;
    for (int row = 0; row < navigation->count(); ++row) {
      titles << navigation->item(row)->text();
      QVERIFY(!navigation->item(row)->icon().isNull());
    }
    QCOMPARE(titles, (QStringList{"New run", "Runs", "Compare", "Export", "Playground"}));
  }

  void clickingNavigationSwitchesPage() {
    tb::ui::MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* navigation = window.findChild<QListWidget*>("navigation");
    auto* pages = window.findChild<QStackedWidget*>("pages");
    QCOMPARE(window.currentPageId(), QString("new-run"));
    const QRect compare_rect = navigation->visualItemRect(navigation->item(2));
    QTest::mouseClick(navigation->viewport(), Qt::LeftButton, {}, compare_rect.center());
    QCOMPARE(window.currentPageId(), QString("compare"));
    QCOMPARE(pages->currentWidget()->objectName(), QString("page-compare"));
    QVERIFY(window.showPage("playground"));
    QCOMPARE(navigation->currentRow(), 4);
    QVERIFY(!window.showPage("no-such-page"));
    QCOMPARE(window.currentPageId(), QString("playground"));
  }

  void firstLaunchOpensTheDemoRecipe() {
    // An empty history: New run shows recipe A.2 (LoRA) on the bundled demo model and data.
    QTemporaryDir dir;
    qputenv("TB_DB", dir.filePath("runs.db").toUtf8());
    {
      tb::ui::MainWindow window;
      QVERIFY(window.isFirstLaunch());
      window.showPage("runs");
      QVERIFY(window.welcomeFirstLaunch());
      QCOMPARE(window.currentPageId(), QString("new-run"));
      const QString yaml = window.findChild<QPlainTextEdit*>("yamlEditor")->toPlainText();
      QVERIFY2(yaml.contains("finetuning_type: lora"), qPrintable(yaml));
      QVERIFY(yaml.contains("fallback_model: ../demo/models/tiny-bert"));
      QVERIFY(yaml.contains("dataset: ../demo/data/spam/train.jsonl"));
      QCOMPARE(window.findChild<QComboBox*>("presetChoice")->currentData().toString(),
               QString("A-lora"));
      // The demo the preset falls back to is really there.
      QVERIFY(QFile::exists(QString(TB_SOURCE_DIR) +
                            "/resources/demo/models/tiny-bert/model.safetensors"));
    }
    // With runs in the history, the window opens as the user left it.
    tb::test::write_sample_history(dir.filePath("runs.db").toStdString());
    tb::ui::MainWindow window;
    QVERIFY(!window.isFirstLaunch());
    QVERIFY(!window.welcomeFirstLaunch());
    qunsetenv("TB_DB");
  }

  void statusBarShowsRuntimeAndWarnings() {
    tb::ui::MainWindow window;
    tb::RuntimeInfo info;
    info.threads = 2;
    info.blas_gflops = 4.5;
    info.blas_backend = "reference BLAS";
    info.warnings = {"Matrix multiplication runs at only 4.5 GFLOP/s"};
    window.setRuntimeInfo(info);
    window.show();
    auto* summary = window.findChild<QLabel*>("runtimeSummary");
    auto* warning = window.findChild<QLabel*>("runtimeWarning");
    QVERIFY(summary->text().contains("2 threads"));
    QVERIFY(summary->text().contains("BLAS 4.5 GFLOP/s"));
    QVERIFY(warning->isVisible());
    QVERIFY(warning->text().contains("4.5 GFLOP/s"));
    info.warnings.clear();
    window.setRuntimeInfo(info);
    QVERIFY(!warning->isVisible());
  }

  void aboutDialogListsVersions() {
    tb::ui::AboutDialog dialog;
    auto* table = dialog.findChild<QTableWidget*>("versionTable");
    QVERIFY(table);
    QStringList names;
    for (int row = 0; row < table->rowCount(); ++row) names << table->item(row, 0)->text();
    for (const char* name : {"Qt", "LibTorch", "BLAS", "SQLite", "yaml-cpp", "QCustomPlot"}) {
      QVERIFY2(names.contains(name), name);
    }
    QVERIFY(dialog.versionsText().contains(QString("Qt ") + qVersion()));
  }

  void helpMenuOpensAbout() {
    tb::ui::MainWindow window;
    window.show();
    auto* about = window.findChild<QAction*>("actionAbout");
    QVERIFY(about);
    bool seen = false;
    // The dialog is modal: inspect and close it from inside its event loop.
    QTimer::singleShot(0, [&seen] {
      for (QWidget* widget : QApplication::topLevelWidgets()) {
        if (auto* dialog = qobject_cast<tb::ui::AboutDialog*>(widget);
            dialog && dialog->isVisible()) {
          seen = true;
          dialog->reject();
        }
      }
    });
    about->trigger();
    QVERIFY(seen);
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
