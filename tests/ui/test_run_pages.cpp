// The Runs and Compare pages driven through their widgets over a real run history.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "core/runs/run_store.h"
#include "sample_history.h"
#include "ui/app_setup.h"
#include "ui/main_window.h"
#include "ui/pages/compare_page.h"
#include "ui/pages/runs_page.h"
#include "ui/widgets/metric_plot.h"

class TestRunPages : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QString("runs-%1.db").arg(counter_++));
    ids_ = tb::test::write_sample_history(db_.toStdString());
    qputenv("TB_DB", db_.toUtf8());
  }

  void runsPageListsAndFilters() {
    tb::ui::MainWindow window;
    window.showPage("runs");
    window.show();
    tb::ui::RunsPage* page = window.runsPage();
    auto* table = page->findChild<QTableView*>("runTable");
    QCOMPARE(table->model()->rowCount(), 4);
    QTest::keyClicks(page->findChild<QLineEdit*>("runSearch"), "lora");
    QCOMPARE(table->model()->rowCount(), 1);
    page->findChild<QLineEdit*>("runSearch")->clear();
    auto* method = page->findChild<QComboBox*>("methodFilter");
    method->setCurrentIndex(method->findText("freeze"));
    QCOMPARE(table->model()->rowCount(), 1);
    method->setCurrentIndex(0);
    QCOMPARE(table->model()->rowCount(), 4);
  }

  void selectingShowsCurvesConfigAndEvents() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::RunsPage* page = window.runsPage();
    QVERIFY(page->selectRun(ids_[1]));
    auto* summary = page->findChild<QLabel*>("runSummary");
    QVERIFY2(summary->text().contains("recipe A lora"), qPrintable(summary->text()));
    auto* metric = page->findChild<QComboBox*>("metricChoice");
    QCOMPARE(metric->currentText(), QString("train/loss"));
    auto* plot = page->findChild<tb::ui::MetricPlot*>();
    QCOMPARE(plot->seriesCount(), 1);
    QVERIFY(plot->pointCount(0) > 1000 &&
            plot->pointCount(0) <= 2000);  // downsampled 1500 → ≤ 2000
    QVERIFY(page->findChild<QPlainTextEdit*>("configView")->toPlainText().contains("lora_rank: 8"));
    QCOMPARE(page->findChild<QListWidget*>("eventList")->count(), 2);
  }

  void editsAreSaved() {
    tb::ui::MainWindow window;
    tb::ui::RunsPage* page = window.runsPage();
    QVERIFY(page->selectRun(ids_[0]));
    page->findChild<QLineEdit*>("nameEdit")->setText("full baseline");
    page->findChild<QLineEdit*>("tagsEdit")->setText("baseline, keep");
    QTest::mouseClick(page->findChild<QPushButton*>("saveEdits"), Qt::LeftButton);
    tb::RunStoreOptions options;
    options.path = db_.toStdString();
    const tb::RunRecord run = tb::RunStore(options).get_run(ids_[0]);
    QCOMPARE(run.name, std::string("full baseline"));
    QCOMPARE(run.tags, (std::vector<std::string>{"baseline", "keep"}));
  }

  void deleteAsksFirst() {
    tb::ui::MainWindow window;
    tb::ui::RunsPage* page = window.runsPage();
    QVERIFY(page->selectRun(ids_[3]));
    auto answer = [](QMessageBox::StandardButton button) {
      QTimer::singleShot(0, [button] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        QVERIFY(box);
        box->button(button)->click();
      });
    };
    answer(QMessageBox::Cancel);
    page->deleteSelected();
    QCOMPARE(page->findChild<QTableView*>("runTable")->model()->rowCount(), 4);
    answer(QMessageBox::Yes);
    page->deleteSelected();
    QCOMPARE(page->findChild<QTableView*>("runTable")->model()->rowCount(), 3);
  }

  void compareOverlaysAndDiffs() {
    tb::ui::MainWindow window;
    window.show();
    tb::ui::RunsPage* runs = window.runsPage();
    QVERIFY(runs->selectRun(ids_[0]));
    auto* table = runs->findChild<QTableView*>("runTable");
    table->selectAll();
    QTest::mouseClick(runs->findChild<QPushButton*>("compareButton"), Qt::LeftButton);
    QCOMPARE(window.currentPageId(), QString("compare"));
    tb::ui::ComparePage* compare = window.comparePage();
    QCOMPARE(compare->checkedRuns().size(), 4);
    QCOMPARE(compare->plot()->seriesCount(), 4);
    auto* diff = compare->findChild<QTableWidget*>("configDiff");
    QStringList keys;
    for (int row = 0; row < diff->rowCount(); ++row) keys << diff->item(row, 0)->text();
    QVERIFY2(keys.contains("finetuning_type"), qPrintable(keys.join(",")));
    QVERIFY(keys.contains("task"));
    QVERIFY(!keys.contains("weight_decay"));  // the same in all four
    // Uncheck one run: three curves remain; switch the metric and the x axis.
    auto* list = compare->findChild<QListWidget*>("compareRuns");
    list->item(0)->setCheckState(Qt::Unchecked);
    QCOMPARE(compare->plot()->seriesCount(), 3);
    auto* metric = compare->findChild<QComboBox*>("compareMetric");
    metric->setCurrentIndex(metric->findText("eval/accuracy"));
    QCOMPARE(compare->plot()->pointCount(0), 3);
    compare->findChild<QComboBox*>("compareXAxis")->setCurrentIndex(1);  // epoch
    QCOMPARE(compare->plot()->seriesCount(), 3);
    // Summary: one row per checked run with its final figures.
    QTableWidget* summary = compare->summaryTable();
    QCOMPARE(summary->rowCount(), 3);
    QStringList columns;
    for (int column = 0; column < summary->columnCount(); ++column) {
      columns << summary->horizontalHeaderItem(column)->text();
    }
    QVERIFY2(columns.contains("status") && columns.contains("eval/accuracy"),
             qPrintable(columns.join(",")));

    // The plot as PNG (2× pixels), SVG and PDF; the data as CSV with every stored point.
    QVERIFY(compare->savePlot(dir_.filePath("plot.png")));
    QCOMPARE(QImage(dir_.filePath("plot.png")).size(), QSize(2400, 1400));
    QVERIFY(compare->savePlot(dir_.filePath("plot.svg")));
    QFile svg(dir_.filePath("plot.svg"));
    QVERIFY(svg.open(QIODevice::ReadOnly) && svg.readAll().contains("<svg"));
    QVERIFY(compare->savePlot(dir_.filePath("plot.pdf")));
    QFile pdf(dir_.filePath("plot.pdf"));
    QVERIFY(pdf.open(QIODevice::ReadOnly) && pdf.read(5) == "%PDF-");
    QString error;
    QVERIFY(!compare->savePlot(dir_.filePath("plot.bmp"), &error));
    QVERIFY2(error.contains(".png, .svg or .pdf"), qPrintable(error));
    QVERIFY(compare->saveCsv(dir_.filePath("data.csv"), &error));
    QFile csv(dir_.filePath("data.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(),
             QString("run_id,run_name,metric,step,epoch,tokens,wall_seconds,value,smoothed"));
    QCOMPARE(lines.size(), 1 + 3 * 3);  // three eval/accuracy points for each of three runs
    QVERIFY2(lines[1].contains(",\"eval/accuracy\","), qPrintable(lines[1]));
  }

  void smoothingIsDebiasedEma() {
    const QVector<double> raw{1, 0, 1, 0};
    QCOMPARE(tb::ui::smooth_values(raw, 0.0), raw);
    const QVector<double> smooth = tb::ui::smooth_values(raw, 0.5);
    QCOMPARE(smooth[0], 1.0);  // debiased: the first point is the first value
    QVERIFY(std::abs(smooth[1] - (0.25 / 0.75)) < 1e-12);
  }

  void brokenHistoryIsShownNotFatal() {
    const QString broken = dir_.filePath("broken.db");
    QFile file(broken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(2048, 'z'));
    file.close();
    qputenv("TB_DB", broken.toUtf8());
    tb::ui::MainWindow window;
    window.show();
    window.showPage("runs");
    auto* error = window.runsPage()->findChild<QLabel*>("runsError");
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains("not a readable run history"), qPrintable(error->text()));
  }

 private:
  QTemporaryDir dir_;
  QString db_;
  int counter_ = 0;
  std::vector<int64_t> ids_;
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  tb::ui::setupApplication(app);
  TestRunPages test;
  return QTest::qExec(&test, argc, argv);
}
#include "test_run_pages.moc"
