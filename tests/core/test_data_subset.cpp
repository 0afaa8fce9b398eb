// Seeded subsets against numpy itself: /usr/bin/python3 with numpy must be installed; without
// it this test fails (python3-numpy is a test dependency, see packaging/install-deps.sh).
#include <QProcess>
#include <QtTest>

#include "core/data/numpy_random.h"
#include "core/data/subset.h"
#include "core/util/error.h"

using namespace tb::data;

namespace {

// Runs numpy and returns the whitespace-separated integers it prints.
std::vector<int64_t> numpy_ints(const QString& expression) {
  QProcess python;
  python.start(
      "/usr/bin/python3",
      {"-c", "import numpy as np, sys\nsys.stdout.write(' '.join(map(str, " + expression + ")))"});
  if (!python.waitForFinished(60000) || python.exitStatus() != QProcess::NormalExit ||
      python.exitCode() != 0) {
    qWarning("python3/numpy failed: %s", python.readAllStandardError().constData());
    return {-1};  // never equal to a real result: the comparison fails
  }
  std::vector<int64_t> values;
  for (const QByteArray& word : python.readAllStandardOutput().split(' ')) {
    if (!word.isEmpty()) values.push_back(word.toLongLong());
  }
  return values;
}

}  // namespace

class TestDataSubset : public QObject {
  Q_OBJECT
 private slots:
  void rawStreamMatchesPcg64() {
    Pcg64 generator{SeedSequence(seed_words(42))};
    std::vector<int64_t> ours;
    // random_raw is uint64; print the low and high 32 bits to stay inside int64.
    for (int i = 0; i < 4; ++i) {
      const uint64_t draw = generator.next64();
      ours.push_back(int64_t(draw & 0xffffffffu));
      ours.push_back(int64_t(draw >> 32));
    }
    const auto expected = numpy_ints(
        "[v for x in np.random.default_rng(42).bit_generator.random_raw(4).tolist() for v in "
        "(x & 0xffffffff, x >> 32)]");
    QCOMPARE(ours, expected);
  }

  void permutationsMatchNumpy_data() {
    QTest::addColumn<qint64>("n");
    QTest::addColumn<quint64>("seed");
    QTest::newRow("recipe B train: 25000 rows, seed 42") << qint64(25000) << quint64(42);
    QTest::newRow("seed 0") << qint64(1000) << quint64(0);
    QTest::newRow("small") << qint64(7) << quint64(3);
    QTest::newRow("one row") << qint64(1) << quint64(42);
    QTest::newRow("64-bit seed") << qint64(5000) << quint64(1234567890123456789ULL);
    QTest::newRow("past 2^16 rows") << qint64(70001) << quint64(2024);
  }

  void permutationsMatchNumpy() {
    QFETCH(qint64, n);
    QFETCH(quint64, seed);
    const auto expected =
        numpy_ints(QString("np.random.default_rng(%1).permutation(%2).tolist()").arg(seed).arg(n));
    QCOMPARE(numpy_permutation(n, seed), expected);
  }

  void epochEntropyListMatchesNumpy() {
    const auto expected = numpy_ints("np.random.default_rng([42, 3]).permutation(500).tolist()");
    QCOMPARE(numpy_permutation(500, std::vector<uint32_t>{42, 3}), expected);
    // A seed past 32 bits contributes two words, then the epoch: default_rng([seed, epoch]).
    const uint64_t big = (uint64_t(1) << 40) + 5;
    std::vector<uint32_t> words = seed_words(big);
    words.push_back(7);
    QCOMPARE(numpy_permutation(300, words),
             numpy_ints("np.random.default_rng([2**40 + 5, 7]).permutation(300).tolist()"));
  }

  void recipeSubsetsEqualDatasetsShuffleSelect() {
    // Recipe B: train = shuffle(seed=42) first 500 of 25000; eval = test shuffle(42) first 100.
    SubsetOptions options;
    options.max_samples = 500;
    options.eval_samples = 100;
    options.seed = 42;
    const Subset subset = select_subset(25000, 25000, options);
    QCOMPARE(subset.train,
             numpy_ints("np.random.default_rng(42).permutation(25000)[:500].tolist()"));
    QCOMPARE(subset.eval,
             numpy_ints("np.random.default_rng(42).permutation(25000)[:100].tolist()"));
    QVERIFY(!subset.eval_from_train);
  }

  void valSizeSplitsLikeTrainTestSplit() {
    // datasets.train_test_split(test_size=0.1, seed=7): test = perm[:ceil(0.1 n)], train = rest.
    SubsetOptions options;
    options.val_size = 0.1;
    options.seed = 7;
    options.max_samples = 50;
    const Subset split = select_subset(333, -1, options);
    QCOMPARE(split.eval, numpy_ints("np.random.default_rng(7).permutation(333)[:34].tolist()"));
    QCOMPARE(split.train, numpy_ints("np.random.default_rng(7).permutation(333)[34:84].tolist()"));
    QVERIFY(split.eval_from_train);
    options.val_size = 20;  // a row count
    options.max_samples = -1;
    const Subset counted = select_subset(100, -1, options);
    QCOMPARE(counted.eval.size(), size_t(20));
    QCOMPARE(counted.train.size(), size_t(80));
  }

  void unshuffledAndBadRequests() {
    SubsetOptions options;
    options.shuffle = false;
    options.max_samples = 3;
    QCOMPARE(select_subset(10, -1, options).train, (std::vector<int64_t>{0, 1, 2}));
    options.max_samples = 1000;  // more than there is: all rows, as LLaMA-Factory clamps
    QCOMPARE(select_subset(10, -1, options).train.size(), size_t(10));
    options.val_size = 10;
    QVERIFY_THROWS_EXCEPTION(tb::Error, select_subset(10, -1, options));
    options.val_size = 0.2;
    QVERIFY_THROWS_EXCEPTION(tb::Error, select_subset(10, 5, options));
  }
};

QTEST_APPLESS_MAIN(TestDataSubset)
#include "test_data_subset.moc"
