// `tunebench-cli preview-data`: text and JSON output, subset indices equal to numpy's.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct CliResult {
  int exit_code;
  QString out, err;
};

CliResult run_cli(const QStringList& arguments) {
  QProcess process;
  process.start(TB_CLI_PATH, arguments);
  process.waitForFinished(120000);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()),
          QString::fromUtf8(process.readAllStandardError())};
}

// numpy's answer (python3-numpy is a test dependency: without it this comparison fails).
QJsonArray numpy_indices(const QString& expression) {
  QProcess python;
  python.start("/usr/bin/python3",
               {"-c", "import numpy as np, json; print(json.dumps(" + expression + "))"});
  python.waitForFinished(60000);
  return QJsonDocument::fromJson(python.readAllStandardOutput()).array();
}

QString write_reviews(const QTemporaryDir& dir, const QString& name, int rows) {
  const QString path = dir.filePath(name);
  QFile file(path);
  file.open(QIODevice::WriteOnly);
  const char* openings[] = {"A patient, humane drama", "A noisy sequel", "An honest comedy",
                            "A thriller that forgets its own plot"};
  for (int i = 0; i < rows; ++i) {
    file.write(
        QJsonDocument(QJsonObject{{"text", QString("%1 (review %2).").arg(openings[i % 4]).arg(i)},
                                  {"label", (i % 4) % 2 == 0 ? 1 : 0}})
            .toJson(QJsonDocument::Compact) +
        "\n");
  }
  return path;
}

}  // namespace

class TestCliPreviewData : public QObject {
  Q_OBJECT
 private slots:
  void jsonHasSubsetIndicesEqualToNumpy() {
    QTemporaryDir dir;
    const QString data = write_reviews(dir, "train.jsonl", 1000);
    const CliResult split = run_cli({"preview-data", data, "--max-samples", "50", "--val-size",
                                     "0.2", "--seed", "7", "--json"});
    QVERIFY2(split.exit_code == 0, qPrintable(split.err));
    const QJsonObject json = QJsonDocument::fromJson(split.out.toUtf8()).object();
    QCOMPARE(json["format"].toString(), QString("classification"));
    QCOMPARE(json["rows"].toInt(), 1000);
    QCOMPARE(json["train_indices"].toArray(),
             numpy_indices("np.random.default_rng(7).permutation(1000)[200:250].tolist()"));
    QCOMPARE(json["eval_indices"].toArray(),
             numpy_indices("np.random.default_rng(7).permutation(1000)[:200].tolist()"));
    QVERIFY(json["eval_from_train"].toBool());
    const QJsonArray spans = json["first_rows"].toArray()[0].toObject()["spans"].toArray();
    QCOMPARE(spans.last().toObject()["role"].toString(), QString("label"));
    QVERIFY(spans.last().toObject()["target"].toBool());

    const QString eval = write_reviews(dir, "test.jsonl", 300);
    const CliResult own = run_cli({"preview-data", data, "--eval", eval, "--max-samples", "500",
                                   "--eval-samples", "100", "--json"});
    QVERIFY2(own.exit_code == 0, qPrintable(own.err));
    const QJsonObject recipe = QJsonDocument::fromJson(own.out.toUtf8()).object();
    QCOMPARE(recipe["train_indices"].toArray(),
             numpy_indices("np.random.default_rng(42).permutation(1000)[:500].tolist()"));
    QCOMPARE(recipe["eval_indices"].toArray(),
             numpy_indices("np.random.default_rng(42).permutation(300)[:100].tolist()"));
  }

  void textOutputAndErrors() {
    const QString fixtures = QString(TB_SOURCE_DIR) + "/tests/data/data_sets/";
    const CliResult text = run_cli({"preview-data", fixtures + "alpaca.json", "--rows", "1"});
    QVERIFY2(text.exit_code == 0, qPrintable(text.err));
    QVERIFY(text.out.contains("format:  alpaca (detected)"));
    QVERIFY(text.out.contains("[target] assistant: Jupiter is the largest planet"));
    QVERIFY(text.out.contains("train subset: 3 rows"));

    const CliResult mapped =
        run_cli({"preview-data", fixtures + "reviews.csv", "--format", "text", "--json"});
    QCOMPARE(mapped.exit_code, 0);
    // Options that take values before the positional DATA leave it alone.
    const CliResult pair = run_cli({"preview-data", "--column", "text_pair=title", "--label-names",
                                    "positive,negative", fixtures + "reviews.csv", "--rows", "1"});
    QVERIFY2(pair.exit_code == 0, qPrintable(pair.err));
    QVERIFY(pair.out.contains("labels:  0=positive, 1=negative"));
    QVERIFY(pair.out.contains("[prompt] text_pair: Slow burn"));
    const CliResult bad = run_cli({"preview-data", fixtures + "reviews.csv", "--format", "alpaca"});
    QCOMPARE(bad.exit_code, 1);
    QVERIFY2(bad.err.contains("missing column 'instruction'") &&
                 bad.err.contains("columns found: text, label, title"),
             qPrintable(bad.err));
    QCOMPARE(run_cli({"preview-data", fixtures + "reviews.csv", "--column", "oops"}).exit_code, 1);
  }
};

QTEST_GUILESS_MAIN(TestCliPreviewData)
#include "test_cli_preview_data.moc"
