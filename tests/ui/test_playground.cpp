// The Playground driven through its widgets: a real tiny LoRA run on the bundled tiny-llama is
// picked from the history (base left, base + adapter right), both sides answer the same prompt
// greedily and match what tunebench-cli chat's engine (ChatSession) answers; the bundled BERT
// classifier shows class probabilities. A screenshot lands in the build folder.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include "core/models/init_model.h"
#include "core/train/chat_session.h"
#include "tiny_run.h"

#include <QComboBox>
#include <QDir>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

#include "ui/main_window.h"
#include "ui/pages/playground_page.h"

namespace fs = std::filesystem;

class TestPlayground : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings away from the user's own
    QSettings().clear();                       // and from earlier runs of the tests
    QVERIFY(dir_.isValid());
    root_ = dir_.path().toStdString();
    qputenv("TB_DB", QByteArray::fromStdString((root_ / "runs.db").string()));
    demo_ = fs::path(TB_SOURCE_DIR) / "resources/demo";
    run_id_ = tb::test::train_tiny_lora_run(root_, "playground test", 12);
  }

  void comparesBaseAndAdapterOnOnePrompt() {
    tb::ui::MainWindow window;
    window.resize(1200, 760);
    window.show();
    window.showPage("playground");
    tb::ui::PlaygroundPage* page = window.playgroundPage();
    QVERIFY(page->selectRun(run_id_));
    const QString prompt = "Is this mail spam or ham? Subject: cheap meds, order now!!!";
    page->setPrompt(prompt);
    QTest::mouseClick(page->findChild<QPushButton*>("playgroundGenerate"), Qt::LeftButton);
    QVERIFY(page->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY2(page->statusText() == "Done.", qPrintable(page->statusText()));
    const QString base = page->outputText(0), tuned = page->outputText(1);
    qInfo().noquote() << "base:" << base.left(80) << "| fine-tuned:" << tuned.left(80);
    QVERIFY(!base.isEmpty() && !tuned.isEmpty());
    QVERIFY(base != tuned);  // twelve LoRA steps at lr 1e-2 change the greedy answer
    // The same engine outside the GUI gives the same greedy answers.
    tb::GenerateOptions options;
    options.max_new_tokens = 64;
    tb::ChatSession reference({demo_ / "models/tiny-llama", root_ / "run", ""});
    QCOMPARE(QString::fromStdString(reference.reply({{"user", prompt.toStdString()}}, options)),
             tuned);

    // A second prompt reuses the loaded models.
    page->setPrompt("What weekday was it sent? Date: Tue, 08 Oct 2002");
    QTest::mouseClick(page->findChild<QPushButton*>("playgroundGenerate"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 120000);
    QVERIFY(!page->outputText(1).isEmpty());
    const QString shots = QString(TB_BINARY_DIR) + "/screenshots";
    QDir().mkpath(shots);
    QVERIFY(window.grab().save(shots + "/playground.png"));
  }

  void classifierShowsClassProbabilities() {
    tb::InitModelOptions init;
    init.arch = "bert";
    init.out = root_ / "classifier";
    init.tokenizer = demo_ / "models/tiny-bert/tokenizer.json";
    init.num_labels = 3;
    tb::init_model(init);
    tb::ui::PlaygroundPage page(nullptr);
    page.setLeft(QString::fromStdString(init.out.string()));
    page.setPrompt("free money, click here");
    page.generate();
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), 60000);
    const QStringList lines = page.outputText(0).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    double total = 0;
    for (const QString& line : lines) {
      QVERIFY2(line.startsWith("LABEL_"), qPrintable(line));
      total += line.split(' ', Qt::SkipEmptyParts)[1].toDouble();
    }
    QVERIFY(qAbs(total - 1.0) < 2e-3);
  }

 private:
  QTemporaryDir dir_;
  fs::path root_, demo_;
  qint64 run_id_ = 0;
};

QTEST_MAIN(TestPlayground)
#include "test_playground.moc"
