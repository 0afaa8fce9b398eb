// core/data readers and formats over the committed fixtures in tests/data/data_sets.
#include <zlib.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/data/classification_format.h"
#include "core/data/dataset.h"
#include "core/data/preview.h"
#include "core/data/reader.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using namespace tb::data;

namespace {

const fs::path kData = fs::path(TB_SOURCE_DIR) / "tests/data/data_sets";

std::string field(const Row& row, const char* name) {
  const Value* value = row.value.find(name);
  return value ? value->to_display() : "<missing>";
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// gzip-compresses `bytes` into `path` with zlib (the same library the reader inflates with,
// but through the gz* file API rather than the raw inflate stream the reader uses).
void write_gzip(const fs::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  QVERIFY(file);
  QCOMPARE(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(file);
}

}  // namespace

class TestDataReaders : public QObject {
  Q_OBJECT
 private slots:
  void jsonLinesSkipBlankLinesAndGiveRandomAccess() {
    const auto reader = open_reader(kData / "sharegpt.jsonl");
    QCOMPARE(QString::fromStdString(reader->kind()), QString("jsonl"));
    QCOMPARE(reader->size(), int64_t(3));  // the blank line is not a row
    const Row last = reader->row(2);
    QCOMPARE(last.line, int64_t(4));
    QCOMPARE(last.index, int64_t(2));
    const Value* turns = last.value.find("conversations");
    QVERIFY(turns && turns->type == Value::Type::kList);
    QCOMPARE(turns->items.size(), size_t(2));
    QCOMPARE(QString::fromStdString(turns->items[1].find("from")->text), QString("gpt"));
    QCOMPARE(reader->row(0).line, int64_t(1));  // random access backwards works
  }

  void jsonArrayIsIndexedByElement() {
    const auto reader = open_reader(kData / "alpaca.json");
    QCOMPARE(QString::fromStdString(reader->kind()), QString("json"));
    QCOMPARE(reader->size(), int64_t(3));
    QCOMPARE(reader->row(1).line, int64_t(7));
    QCOMPARE(QString::fromStdString(field(reader->row(1), "output")),
             QString::fromUtf8("Le train part à sept heures."));
    const auto row = reader->row(2);  // find() points into it: keep it alive (ASan found this)
    const Value* history = row.value.find("history");
    QVERIFY(history && history->items.size() == 1 && history->items[0].items.size() == 2);
  }

  void jsonFileHoldingLinesIsReadAsLines() {
    QTemporaryDir dir;
    const fs::path path = fs::path(dir.path().toStdString()) / "lines.json";
    write(path, "{\"text\": \"one\"}\n{\"text\": \"two\"}\n");
    const auto reader = open_reader(path);
    QCOMPARE(QString::fromStdString(reader->kind()), QString("jsonl"));
    QCOMPARE(reader->size(), int64_t(2));
  }

  void csvQuotingAndMultiLineFields() {
    const auto reader = open_reader(kData / "reviews.csv");
    QCOMPARE(reader->size(), int64_t(4));
    QCOMPARE(reader->columns(), (std::vector<std::string>{"text", "label", "title"}));
    QCOMPARE(QString::fromStdString(field(reader->row(1), "text")),
             QString("I walked out after forty minutes. The dialogue is wooden, the plot, "
                     "\"twists\" included, obvious."));
    const Row multi = reader->row(2);
    QCOMPARE(QString::fromStdString(field(multi, "text")),
             QString("A warm, funny film.\nThe cast clearly enjoyed making it."));
    QCOMPARE(multi.line, int64_t(4));
    QCOMPARE(reader->row(3).line, int64_t(6));
    QCOMPARE(QString::fromStdString(field(reader->row(3), "title")), QString("Skip it"));
  }

  void tsvAndCrlf() {
    const auto reader = open_reader(kData / "reviews.tsv");
    QCOMPARE(QString::fromStdString(reader->kind()), QString("tsv"));
    QCOMPARE(reader->size(), int64_t(3));
    QCOMPARE(QString::fromStdString(field(reader->row(2), "text")),
             QString("Tabs\tinside quotes stay in the field."));
    QTemporaryDir dir;
    const fs::path path = fs::path(dir.path().toStdString()) / "crlf.csv";
    write(path, "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n");
    const auto crlf = open_reader(path);
    QCOMPARE(crlf->size(), int64_t(2));
    QCOMPARE(QString::fromStdString(field(crlf->row(0), "b")), QString("x\ny"));
    QCOMPARE(QString::fromStdString(field(crlf->row(1), "b")), QString("z"));
    // A quote inside an unquoted field is text (as Python's csv reads it), not a field opener.
    const fs::path inches = fs::path(dir.path().toStdString()) / "inches.csv";
    write(inches, "size,label\n5\" screen,1\n\"ok\",0\n");
    const auto stray = open_reader(inches);
    QCOMPARE(stray->size(), int64_t(2));
    QCOMPARE(QString::fromStdString(field(stray->row(0), "size")), QString("5\" screen"));
    QCOMPARE(QString::fromStdString(field(stray->row(1), "size")), QString("ok"));
  }

  void plainTextByLineAndByParagraph() {
    const auto lines = open_reader(kData / "notes.txt");
    QCOMPARE(lines->size(), int64_t(4));
    QCOMPARE(QString::fromStdString(field(lines->row(1), "text")),
             QString("The gluten network traps the gas."));
    ReaderOptions options;
    options.text_unit = TextUnit::kParagraph;
    const auto paragraphs = open_reader(kData / "notes.txt", options);
    QCOMPARE(paragraphs->size(), int64_t(3));
    QCOMPARE(QString::fromStdString(field(paragraphs->row(0), "text")),
             QString("Bread rises because yeast ferments sugars and releases carbon dioxide.\n"
                     "The gluten network traps the gas."));
    QCOMPARE(paragraphs->row(2).line, int64_t(6));
  }

  void gzipIsDetectedByMagicBytes() {
    QTemporaryDir dir;
    const fs::path folder(dir.path().toStdString());
    std::string lines;
    for (int i = 0; i < 3000; ++i) {
      lines += "{\"text\": \"line " + std::to_string(i) + " of a compressed file\"}\n";
    }
    write_gzip(folder / "big.jsonl.gz", lines);
    ReaderOptions options;
    options.temp_dir = folder;
    const auto reader = open_reader(folder / "big.jsonl.gz", options);
    QVERIFY(reader->source().gzipped());
    QCOMPARE(reader->size(), int64_t(3000));
    QCOMPARE(QString::fromStdString(field(reader->row(2999), "text")),
             QString("line 2999 of a compressed file"));
    // The inflated copy is unlinked at once: nothing is left in the temp folder but the input.
    QCOMPARE(std::distance(fs::directory_iterator(folder), fs::directory_iterator()), long(1));
    // A gzip file with a misleading name is still inflated; CSV inside a .gz works too.
    std::ifstream csv(kData / "reviews.csv", std::ios::binary);
    const std::string csv_bytes((std::istreambuf_iterator<char>(csv)), {});
    write_gzip(folder / "reviews.csv.gz", csv_bytes);
    QCOMPARE(open_reader(folder / "reviews.csv.gz", options)->size(), int64_t(4));
  }

  void formatsAreDetectedAndConverted() {
    const Dataset alpaca(kData / "alpaca.json", {});
    QVERIFY(alpaca.format_detected());
    QCOMPARE(QString::fromStdString(alpaca.format().name()), QString("alpaca"));
    const Sample translate = alpaca.sample(1);
    QCOMPARE(QString::fromStdString(translate.system), QString("You are a careful translator."));
    QCOMPARE(QString::fromStdString(translate.messages[0].content),
             QString("Translate the sentence into French.\nThe train leaves at seven."));
    const Sample history = alpaca.sample(2);
    QCOMPARE(history.messages.size(), size_t(4));
    QCOMPARE(QString::fromStdString(history.messages[1].content),
             QString("At seven in the morning."));
    QCOMPARE(QString::fromStdString(history.messages[3].role), QString("assistant"));

    const Dataset sharegpt(kData / "sharegpt.jsonl", {});
    QCOMPARE(QString::fromStdString(sharegpt.format().name()), QString("sharegpt"));
    QCOMPARE(QString::fromStdString(sharegpt.sample(0).system), QString("Answer briefly."));
    QCOMPARE(sharegpt.sample(1).messages.size(), size_t(4));

    const Dataset messages(kData / "messages.jsonl", {});
    QCOMPARE(QString::fromStdString(messages.format().name()), QString("messages"));
    QCOMPARE(QString::fromStdString(messages.sample(1).messages[0].content),
             QString("Spell 'necessary'."));

    const Dataset text(kData / "notes.txt", {});
    QCOMPARE(QString::fromStdString(text.format().name()), QString("text"));
  }

  void classificationLabelsByNameOrId() {
    const Dataset named(kData / "reviews.csv", {});
    QCOMPARE(QString::fromStdString(named.format().name()), QString("classification"));
    QCOMPARE(named.label_names(), (std::vector<std::string>{"negative", "positive"}));
    QCOMPARE(named.sample(0).label, int64_t(1));
    QCOMPARE(named.sample(1).label, int64_t(0));

    DatasetOptions fixed;
    fixed.format_options.label_names = {"positive", "negative"};  // the user's id order wins
    QCOMPARE(Dataset(kData / "reviews.csv", fixed).sample(0).label, int64_t(0));

    const Dataset ids(kData / "reviews.tsv", {});
    QCOMPARE(ids.label_names(), (std::vector<std::string>{"0", "1"}));
    QCOMPARE(ids.sample(1).label, int64_t(0));

    DatasetOptions pair;  // explicit mapping: title becomes the text pair
    pair.format = "classification";
    pair.format_options.columns = {{"text_pair", "title"}};
    QCOMPARE(QString::fromStdString(Dataset(kData / "reviews.csv", pair).sample(3).text_pair),
             QString("Skip it"));
  }

  void datasetInfoMapsNamesFilesAndColumns() {
    const Dataset recipes = open_dataset(kData / "llamafactory", "recipes", {});
    QCOMPARE(QString::fromStdString(recipes.format().name()), QString("alpaca"));
    QCOMPARE(QString::fromStdString(recipes.sample(0).messages[0].content),
             QString("How long do soft-boiled eggs cook?\nEggs straight from the fridge."));
    QCOMPARE(QString::fromStdString(recipes.sample(1).messages[0].content),
             QString("What thickens a custard?"));
    const Dataset chat = open_dataset(kData / "llamafactory", "chat", {});
    QCOMPARE(QString::fromStdString(chat.sample(0).messages[1].role), QString("assistant"));
    QCOMPARE(QString::fromStdString(chat.sample(0).messages[1].content),
             QString("Yes, by the window, in ten minutes."));
    try {
      open_dataset(kData / "llamafactory", "recipe", {});
      QFAIL("an unknown entry must throw");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("Did you mean 'recipes'?"), error.what());
      QVERIFY2(QString(error.what()).contains("Entries: chat, recipes"), error.what());
    }
  }

  void previewHasStatsRowsAndSubsets() {
    PreviewOptions options;
    options.rows = 2;
    options.subset.max_samples = 2;
    const DataPreview preview = preview_data(kData / "reviews.csv", options);
    QCOMPARE(QString::fromStdString(preview.format), QString("classification"));
    QCOMPARE(preview.columns.size(), size_t(3));
    const ColumnStats& label = preview.columns[1];
    QCOMPARE(QString::fromStdString(label.name), QString("label"));
    QCOMPARE(label.present, int64_t(4));
    QCOMPARE(label.values,
             (std::vector<std::pair<std::string, int64_t>>{{"negative", 2}, {"positive", 2}}));
    QVERIFY(preview.columns[0].values.empty());  // long texts are not categories
    QCOMPARE(preview.columns[0].max_chars, int64_t(95));
    QCOMPARE(preview.first_rows.size(), size_t(2));
    QCOMPARE(preview.first_rows[1].line, int64_t(3));
    QCOMPARE(QString::fromStdString(preview.first_rows[1].spans.back().text), QString("negative"));
    QCOMPARE(preview.subset.train.size(), size_t(2));
    const DataPreview chat = preview_data(kData / "sharegpt.jsonl", {});
    const std::vector<PreviewSpan>& spans = chat.first_rows[0].spans;
    QCOMPARE(spans.size(), size_t(3));
    QVERIFY(!spans[0].target && !spans[1].target && spans[2].target);
    QCOMPARE(QString::fromStdString(spans[0].role), QString("system"));
  }
};

QTEST_APPLESS_MAIN(TestDataReaders)
#include "test_data_readers.moc"
