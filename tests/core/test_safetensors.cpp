// core/io/safetensors: round trips of every dtype, sharded checkpoints, and one clear error for
// each way a header can be malformed.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/io/safetensors.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace {

// A raw file: 8-byte little-endian header length, the header text, then `data_bytes` zeros.
void write_raw(const fs::path& path, const std::string& header, size_t data_bytes,
               int64_t declared_length = -1) {
  std::string bytes(8, '\0');
  const uint64_t length = declared_length >= 0 ? uint64_t(declared_length) : header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(length >> (8 * i));
  bytes += header;
  bytes.append(data_bytes, '\0');
  tb::write_file_atomic(path, bytes);
}

// The message of the tb::Error that opening `path` throws, or "" when it opens.
QString open_error(const fs::path& path) {
  try {
    tb::SafetensorsFile file(path);
  } catch (const tb::Error& error) {
    return QString::fromUtf8(error.what());
  }
  return {};
}

}  // namespace

class TestSafetensors : public QObject {
  Q_OBJECT
 private slots:
  void roundTripsEveryDtype() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "all.safetensors";
    torch::manual_seed(1);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    const torch::Tensor base = torch::randn({3, 5}) * 50;
    for (const std::string& code : tb::safetensors_dtypes()) {
      const torch::ScalarType dtype = tb::safetensors_to_torch_dtype(code);
      tensors.emplace_back("t." + code, dtype == torch::kBool ? base > 0 : base.to(dtype));
    }
    tensors.emplace_back("scalar", torch::tensor(3.5));
    tensors.emplace_back("empty", torch::zeros({0, 4}, torch::kInt16));
    tensors.emplace_back("strided", torch::arange(12, torch::kInt32).view({3, 4}).t());
    tb::save_safetensors(file, tensors, {{"note", "hello"}});

    const tb::SafetensorsFile read(file);
    QCOMPARE(read.metadata().at("format"), std::string("pt"));
    QCOMPARE(read.metadata().at("note"), std::string("hello"));
    QCOMPARE(read.names().size(), tensors.size());
    for (const auto& [name, expected] : tensors) {
      const torch::Tensor got = read.tensor(name);
      QCOMPARE(got.scalar_type(), expected.scalar_type());
      QCOMPARE(got.sizes().vec(), expected.sizes().vec());
      QVERIFY2(torch::equal(got, expected.contiguous()), name.c_str());
      QVERIFY(reinterpret_cast<uintptr_t>(got.data_ptr()) % got.element_size() == 0);
    }
    QCOMPARE(read.entry("t.BF16").dtype, std::string("BF16"));
    // The header is padded with spaces so the data area starts 8-byte aligned.
    const std::string bytes = tb::read_file(file);
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | uint8_t(bytes[i]);
    QCOMPARE(length % 8, uint64_t(0));
  }

  void tensorsOutliveTheFileObjectAndAreWritable() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "w.safetensors";
    tb::save_safetensors(file, {{"w", torch::ones({4, 4})}});
    torch::Tensor tensor;
    {
      const tb::SafetensorsFile read(file);
      tensor = read.tensor("w");
    }
    tensor.add_(1);  // copy-on-write page, the file is untouched
    QCOMPARE(tensor.sum().item<float>(), 32.0f);
    QCOMPARE(tb::SafetensorsFile(file).tensor("w").sum().item<float>(), 16.0f);
  }

  void missingTensorSuggestsAName() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "m.safetensors";
    tb::save_safetensors(file, {{"model.norm.weight", torch::ones({2})}});
    try {
      tb::SafetensorsFile(file).tensor("model.norm.weigth");
      QFAIL("no error");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("Did you mean 'model.norm.weight'"), error.what());
    }
  }

  void readsShardedCheckpoints() {
    QTemporaryDir dir;
    const fs::path root = dir.path().toStdString();
    tb::save_safetensors(root / "model-00001-of-00002.safetensors", {{"a", torch::ones({2})}});
    tb::save_safetensors(root / "model-00002-of-00002.safetensors",
                         {{"b", torch::full({3}, 2.0)}, {"c", torch::zeros({1})}});
    tb::write_file_atomic(root / "model.safetensors.index.json",
                          R"({"metadata": {"total_size": 24}, "weight_map": {
          "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
          "c": "model-00002-of-00002.safetensors"}})");
    const tb::SafetensorsCheckpoint checkpoint(root);
    QCOMPARE(checkpoint.names(), (std::vector<std::string>{"a", "b", "c"}));
    QCOMPARE(checkpoint.files().size(), size_t(2));
    QCOMPARE(checkpoint.tensor("b").sum().item<float>(), 6.0f);
    QVERIFY(checkpoint.total_bytes() > 0);

    tb::write_file_atomic(root / "model.safetensors.index.json",
                          R"({"weight_map": {"z": "model-00001-of-00002.safetensors"}})");
    try {
      tb::SafetensorsCheckpoint broken(root);
      QFAIL("no error");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("'z'"), error.what());
    }
    tb::write_file_atomic(root / "model.safetensors.index.json",
                          R"({"weight_map": {"a": "../elsewhere.safetensors"}})");
    try {
      tb::SafetensorsCheckpoint broken(root);
      QFAIL("no error");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("not a file beside the index"), error.what());
    }
  }

  void randomlyCorruptedFilesThrowOrLoadNeverCrash() {
    // Flip, insert and drop bytes of a valid file's header: every outcome is either a clean
    // tb::Error or a file whose tensors can all be read within bounds.
    QTemporaryDir dir;
    const fs::path good = fs::path(dir.path().toStdString()) / "good.safetensors";
    tb::save_safetensors(good, {{"a", torch::arange(6, torch::kInt16).view({2, 3})},
                                {"b", torch::ones({4}, torch::kFloat64)},
                                {"c", torch::zeros({3}, torch::kBool)}});
    const std::string original = tb::read_file(good);
    std::mt19937 random(1234);
    int errors = 0, loaded = 0;
    for (int round = 0; round < 1500; ++round) {
      std::string bytes = original;
      const int edits = 1 + int(random() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = random() % std::min<size_t>(bytes.size(), 200);
        const char value = "{}[],:\"0123456789-eE. aFBIU"[random() % 28];
        switch (random() % 3) {
          case 0:
            bytes[at] = value;
            break;
          case 1:
            bytes.insert(bytes.begin() + long(at), value);
            break;
          default:
            bytes.erase(bytes.begin() + long(at));
            break;
        }
      }
      // A new name each round: truncating a file in place makes ext4 flush it (slow).
      const fs::path bad =
          fs::path(dir.path().toStdString()) / ("bad" + std::to_string(round) + ".safetensors");
      std::ofstream(bad, std::ios::binary) << bytes;
      try {
        const tb::SafetensorsFile file(bad);
        for (const std::string& name : file.names()) {
          const torch::Tensor tensor = file.tensor(name);
          // Reading every element proves the bytes lie inside the mapping.
          if (tensor.numel() > 0) tensor.to(torch::kFloat64).sum().item<double>();
        }
        ++loaded;
      } catch (const tb::Error& error) {
        QVERIFY(QString(error.what()).startsWith(QString::fromStdString(bad.string())));
        ++errors;
      }
    }
    QVERIFY(errors > 1000);  // most mutations break something and are caught
    qInfo("1500 corrupted files: %d rejected with tb::Error, %d still valid", errors, loaded);
  }

  void eachMalformedHeaderHasItsOwnError_data() {
    QTest::addColumn<QString>("header");
    QTest::addColumn<int>("data_bytes");
    QTest::addColumn<qint64>("declared");
    QTest::addColumn<QString>("expected");
    const QString ok = R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
    QTest::newRow("valid") << "{" + ok + "}" << 8 << qint64(-1) << "";
    QTest::newRow("too small") << "" << 0 << qint64(0) << "";  // replaced below by a 4-byte file
    QTest::newRow("header over 100 MB") << "{}" << 0 << qint64(200'000'000) << "over the 100 MB";
    QTest::newRow("header past end") << "{}" << 0 << qint64(4096) << "runs past the end";
    QTest::newRow("bad json") << R"({"t": {"dtype": )" << 0 << qint64(-1) << "not valid JSON";
    QTest::newRow("not an object") << "[1, 2]" << 0 << qint64(-1) << "not a JSON object";
    QTest::newRow("unknown dtype")
        << R"({"t": {"dtype": "F8", "shape": [2], "data_offsets": [0, 2]}})" << 2 << qint64(-1)
        << "tensor 't': unknown dtype 'F8'";
    QTest::newRow("negative dim")
        << R"({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})" << 8 << qint64(-1)
        << "non-negative integer";
    QTest::newRow("missing offsets") << R"({"t": {"dtype": "F32", "shape": [2]}})" << 8
                                     << qint64(-1) << "'data_offsets' must be";
    QTest::newRow("size mismatch")
        << R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})" << 8 << qint64(-1)
        << "tensor 't': shape [3] of F32 needs 3 × 4 bytes but data_offsets give 8";
    QTest::newRow("reversed offsets")
        << R"({"t": {"dtype": "U8", "shape": [0], "data_offsets": [8, 0]}})" << 8 << qint64(-1)
        << "end before they begin";
    QTest::newRow("outside data")
        << R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})" << 8 << qint64(-1)
        << "outside the data area";
    QTest::newRow("overlap") << R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})"
                             << 12 << qint64(-1) << "tensor 'b' overlaps tensor 'a'";
    QTest::newRow("bad metadata") << R"({"__metadata__": {"format": 1}})" << 0 << qint64(-1)
                                  << "__metadata__ value for 'format' is not a string";
    QTest::newRow("overflowing shape")
        << R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})"
        << 8 << qint64(-1) << "overflows 64 bits";
    // Found by fuzz_safetensors: nlohmann throws out_of_range (not parse_error) for 1e400.
    QTest::newRow("number beyond a double")
        << R"({"t": {"dtype": "F32", "shape": [2e400], "data_offsets": [0, 8]}})" << 8 << qint64(-1)
        << "number too large to read";
  }

  void eachMalformedHeaderHasItsOwnError() {
    QFETCH(QString, header);
    QFETCH(int, data_bytes);
    QFETCH(qint64, declared);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "bad.safetensors";
    if (QByteArray(QTest::currentDataTag()) == "too small") {
      tb::write_file_atomic(file, "abcd");
      expected = "file too small";
    } else {
      write_raw(file, header.toStdString(), size_t(data_bytes), declared);
    }
    const QString message = open_error(file);
    if (expected.isEmpty()) {
      QVERIFY2(message.isEmpty(), qPrintable(message));
      return;
    }
    QVERIFY2(message.startsWith(QString::fromStdString(file.string())), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
