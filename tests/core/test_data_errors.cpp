// Bad data: every failure is a tb::Error that says what, where (file:line:column, row) and what
// to do; nothing crashes.
#include <zlib.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/data/dataset.h"
#include "core/data/reader.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using namespace tb::data;

namespace {

class Files {
 public:
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path path = fs::path(dir_.path().toStdString()) / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path folder() const { return dir_.path().toStdString(); }

 private:
  QTemporaryDir dir_;
};

// The message of the tb::Error that `action` throws ("" when it does not throw).
template <typename Action>
QString error_of(Action action) {
  try {
    action();
  } catch (const tb::Error& error) {
    return QString::fromUtf8(error.what());
  }
  return {};
}

}  // namespace

class TestDataErrors : public QObject {
  Q_OBJECT
 private slots:
  void brokenJsonLineNamesFileLineColumn() {
    Files files;
    const fs::path path = files.write(
        "broken.jsonl",
        "{\"text\": \"fine\"}\n{\"text\": \"also fine\"}\n{\"text\": \"cut off\", \"label\": tru}\n"
        "{\"text\": \"after\"}\n");
    const QString message = error_of([&] { open_reader(path); });
    QVERIFY2(message.startsWith(QString::fromStdString(path.string()) + ":3:"),
             qPrintable(message));
    QVERIFY2(message.contains("broken JSON in row 3"), qPrintable(message));
    QVERIFY2(message.contains("skip_bad_rows"), qPrintable(message));
    // The parser notices the bad literal `tru` at the '}' after it: column 33.
    const int column = message.section(':', 2, 2).toInt();
    QCOMPARE(column, 33);

    ReaderOptions options;
    options.skip_bad_rows = true;
    const auto reader = open_reader(path, options);
    QCOMPARE(reader->size(), int64_t(3));
    QCOMPARE(reader->skipped(), int64_t(1));
    QCOMPARE(reader->skipped_messages().size(), size_t(1));
    QCOMPARE(reader->row(2).line, int64_t(4));  // the rows after the bad one keep their lines
  }

  void brokenJsonArrayElementAndStructure() {
    Files files;
    const fs::path element =
        files.write("a.json", "[\n  {\"text\": \"ok\"},\n  {\"text\": ok}\n]\n");
    const QString message = error_of([&] { open_reader(element); });
    QVERIFY2(message.contains("a.json:3:"), qPrintable(message));
    QVERIFY2(message.contains("row 2"), qPrintable(message));
    const fs::path open_array = files.write("b.json", "[\n  {\"text\": \"ok\"},\n");
    QVERIFY2(error_of([&] { open_reader(open_array); }).contains("not closed"),
             qPrintable(error_of([&] { open_reader(open_array); })));
    const fs::path open_string = files.write("c.json", "[{\"text\": \"never closed}]");
    QVERIFY(error_of([&] { open_reader(open_string); }).contains("c.json:1:11: unterminated"));
  }

  void missingColumnListsTheColumnsFound() {
    Files files;
    const fs::path path =
        files.write("alpaca.jsonl",
                    "{\"instruction\": \"Add 2 and 2.\", \"output\": \"4\"}\n"
                    "{\"instruction\": \"Add 3 and 4.\", \"answer\": \"7\", \"input\": \"\"}\n");
    DatasetOptions options;
    options.format = "alpaca";
    const QString message = error_of([&] { Dataset(path, options); });
    QVERIFY2(message.contains("alpaca.jsonl:2: row 2: missing column 'output'"),
             qPrintable(message));
    QVERIFY2(message.contains("columns found: instruction, answer, input"), qPrintable(message));
    QVERIFY2(message.contains("--column response=NAME"), qPrintable(message));
    // With the mapping, a file that names the column "answer" throughout loads.
    const fs::path mapped =
        files.write("mapped.jsonl", "{\"instruction\": \"Add 3 and 4.\", \"answer\": \"7\"}\n");
    options.format_options.columns = {{"response", "answer"}};
    QVERIFY(error_of([&] { Dataset(mapped, options); }).isEmpty());
    QCOMPARE(QString::fromStdString(Dataset(mapped, options).sample(0).messages[1].content),
             QString("7"));
    options.format_options.columns = {{"reponse", "answer"}};  // a typo in the role
    QVERIFY(error_of([&] { Dataset(mapped, options); }).contains("Did you mean 'response'?"));
  }

  void undetectableFormatSaysWhatToDo() {
    Files files;
    const fs::path path = files.write("odd.jsonl", "{\"question\": \"q\", \"reply\": \"a\"}\n");
    const QString message = error_of([&] { Dataset(path, {}); });
    QVERIFY2(message.contains("columns found: question, reply"), qPrintable(message));
    QVERIFY2(message.contains("--format"), qPrintable(message));
    DatasetOptions options;
    options.format = "alpacca";
    QVERIFY(error_of([&] { Dataset(path, options); }).contains("Did you mean 'alpaca'?"));
  }

  void emptyDataSet() {
    Files files;
    QVERIFY(error_of([&] {
              Dataset(files.write("empty.jsonl", ""), {});
            }).contains("the data set is empty"));
    QVERIFY(error_of([&] {
              Dataset(files.write("blank.txt", "\n  \n\n"), {});
            }).contains("the data set is empty"));
    QVERIFY(error_of([&] {
              Dataset(files.write("header.csv", "text,label\n"), {});
            }).contains("the data set is empty"));
    QVERIFY(error_of([&] {
              Dataset(files.write("none.json", "[]"), {});
            }).contains("the data set is empty"));
    DatasetOptions skip;
    skip.reader_options.skip_bad_rows = true;
    const QString all_bad =
        error_of([&] { Dataset(files.write("bad.jsonl", "{oops}\n[1]\n"), skip); });
    QVERIFY2(all_bad.contains("all 2 rows were malformed"), qPrintable(all_bad));
    QVERIFY2(all_bad.contains("bad.jsonl:1:"), qPrintable(all_bad));
  }

  void labelOutsideTheLabelSet() {
    Files files;
    const fs::path path = files.write("labels.jsonl",
                                      "{\"text\": \"Great fun.\", \"label\": \"positive\"}\n"
                                      "{\"text\": \"Dull.\", \"label\": \"neutral\"}\n");
    DatasetOptions options;
    options.format_options.label_names = {"negative", "positive"};
    const QString message = error_of([&] { Dataset(path, options); });
    QVERIFY2(message.contains("labels.jsonl:2: row 2: label 'neutral' is outside the label set "
                              "{negative, positive}"),
             qPrintable(message));
    const fs::path ids = files.write("ids.jsonl", "{\"text\": \"a\", \"label\": 2}\n");
    QVERIFY(error_of([&] { Dataset(ids, options); }).contains("label '2' is outside"));
    const fs::path negative = files.write("neg.jsonl", "{\"text\": \"a\", \"label\": -1}\n");
    QVERIFY(error_of([&] { Dataset(negative, {}); }).contains("negative"));
  }

  void nonUtf8BytesNameRowAndOffset() {
    Files files;
    // "café" in Latin-1: the é is the single byte 0xE9.
    const fs::path path =
        files.write("latin1.jsonl", "{\"text\": \"tea\"}\n{\"text\": \"caf\xE9 au lait\"}\n");
    const QString message = error_of([&] { open_reader(path); });
    QVERIFY2(message.contains("latin1.jsonl:2:14: row 2 is not valid UTF-8: byte 0xE9 at byte "
                              "offset 13 of the row"),
             qPrintable(message));
    QVERIFY2(message.contains("iconv"), qPrintable(message));
    const fs::path csv = files.write("latin1.csv", "text\nok\n\"two\nlines \xFF\"\n");
    QVERIFY2(error_of([&] { open_reader(csv); }).contains("latin1.csv:4:7: row 2"),
             qPrintable(error_of([&] { open_reader(csv); })));
    const fs::path array = files.write("latin1.json", "[{\"text\": \"ok\"}, {\"text\": \"\xE9\"}]");
    QVERIFY2(error_of([&] { open_reader(array); }).contains("latin1.json:1:28: row 2"),
             qPrintable(error_of([&] { open_reader(array); })));
    const fs::path text = files.write("latin1.txt", "fine\n\xC3\x28 bad pair\n");
    QVERIFY(error_of([&] { open_reader(text); }).contains("latin1.txt:2:1: row 2"));
    ReaderOptions skip;
    skip.skip_bad_rows = true;
    QCOMPARE(open_reader(path, skip)->skipped(), int64_t(1));
    const fs::path utf16 = files.write("utf16.txt", std::string("\xFF\xFEh\0i\0\n\0", 8));
    QVERIFY2(error_of([&] { open_reader(utf16, skip); }).contains("the file is UTF-16"),
             qPrintable(error_of([&] { open_reader(utf16, skip); })));
  }

  void raggedCsvRows() {
    Files files;
    const fs::path path =
        files.write("ragged.csv", "text,label\n\"a, b\",1\nno label\nc,0,extra\n");
    const QString message = error_of([&] { open_reader(path); });
    QVERIFY2(message.contains("ragged.csv:3: ragged row 2: it has 1 fields, the header has 2"),
             qPrintable(message));
    ReaderOptions skip;
    skip.skip_bad_rows = true;
    const auto reader = open_reader(path, skip);
    QCOMPARE(reader->size(), int64_t(1));
    QCOMPARE(reader->skipped(), int64_t(2));
    const fs::path quote = files.write("quote.csv", "text,label\n\"never closed,1\nx,0\n");
    QVERIFY(error_of([&] { open_reader(quote); }).contains("quote.csv:2: a quoted field"));
  }

  void brokenGzipAndMissingFile() {
    Files files;
    const std::string plain(1000, 'x');
    // A real gzip file cut in half.
    gzFile out = gzopen((files.folder() / "whole.gz").c_str(), "wb");
    gzwrite(out, plain.data(), unsigned(plain.size()));
    gzclose(out);
    std::ifstream in(files.folder() / "whole.gz", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const fs::path cut = files.write("cut.jsonl.gz", bytes.substr(0, bytes.size() / 2));
    ReaderOptions options;
    options.temp_dir = files.folder();
    QVERIFY2(error_of([&] { open_reader(cut, options); }).contains("truncated"),
             qPrintable(error_of([&] { open_reader(cut, options); })));
    QVERIFY(error_of([&] { open_reader(files.folder() / "nope.jsonl"); }).contains("not found"));
    QVERIFY(error_of([&] {
              open_reader(files.write("x.parquet", "PAR1"));
            }).contains("cannot tell the file type"));
  }

  void randomBytesNeverCrash() {
    Files files;
    std::mt19937 random(7);
    const char* names[] = {"f.jsonl", "f.json", "f.csv", "f.tsv", "f.txt"};
    const std::string alphabet = "{}[]\",:\\ \n\ttruefalsnul0123456789abc\xC3\xA9\xE9";
    for (int round = 0; round < 300; ++round) {
      std::string bytes;
      const int length = int(random() % 200);
      for (int i = 0; i < length; ++i) bytes += alphabet[random() % alphabet.size()];
      const fs::path path = files.write(names[round % 5], bytes);
      for (bool skip : {false, true}) {
        DatasetOptions options;
        options.reader_options.skip_bad_rows = skip;
        try {
          const Dataset data(path, options);
          for (int64_t i = 0; i < data.size(); ++i) data.sample(i);
        } catch (const tb::Error&) {
          // A clear refusal is the expected outcome for most random inputs.
        }
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestDataErrors)
#include "test_data_errors.moc"
