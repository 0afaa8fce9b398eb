// Task builders (causal LM, packing, classification, prompt+verbalizer, SFT), collation into
// tensors, and the batch sampler with its resumable cursor. A word-level test tokenizer keeps
// the expected ids readable.
// LibTorch before Qt: Qt's `slots` macro breaks torch headers included after it.
#include <torch/torch.h>

#include <QtTest>

#include <map>
#include <sstream>

#include "core/data/batch_sampler.h"
#include "core/data/causal_lm_examples.h"
#include "core/data/classification_examples.h"
#include "core/data/collate.h"
#include "core/data/loader.h"
#include "core/data/numpy_random.h"
#include "core/data/packing.h"
#include "core/data/preview.h"
#include "core/data/sft_examples.h"
#include "core/data/verbalizer_examples.h"
#include "core/util/error.h"

using namespace tb::data;

namespace {

// Splits on spaces; each new word gets the next id from 10 up. 0 pad, 1 bos, 2 eos, 3 mask.
class WordTokenizer {
 public:
  TokenizerFns fns() {
    TokenizerFns fns;
    fns.encode = [this](std::string_view text) {
      std::vector<int32_t> ids;
      std::istringstream words{std::string(text)};
      for (std::string word; words >> word;) {
        const auto found = vocab_.emplace(word, int32_t(10 + vocab_.size())).first;
        ids.push_back(found->second);
      }
      return ids;
    };
    fns.bos_id = 1;
    fns.eos_id = 2;
    fns.pad_id = 0;
    fns.mask_id = 3;
    return fns;
  }
  int32_t id(const std::string& word) const { return vocab_.at(word); }

 private:
  std::map<std::string, int32_t> vocab_;
};

std::vector<int64_t> to_vector(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.contiguous().view(-1).to(torch::kInt64);
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

Example tokens(std::vector<int32_t> ids, int64_t row = 0) {
  Example example;
  example.labels = ids;
  example.input_ids = std::move(ids);
  example.source_row = row;
  return example;
}

}  // namespace

class TestDataExamples : public QObject {
  Q_OBJECT
 private slots:
  void causalLmLabelsAreInputIds() {
    WordTokenizer words;
    const TokenizerFns fns = words.fns();
    CausalLmOptions options;
    options.max_length = 5;
    options.add_eos = true;
    const Example example =
        make_causal_lm_example("the film opens on a quiet street", fns, options, 7);
    QCOMPARE(example.input_ids, (std::vector<int32_t>{1, 10, 11, 12, 2}));  // bos, 3 words, eos
    QCOMPARE(example.labels, example.input_ids);
    QVERIFY(example.truncated);
    QCOMPARE(example.source_row, int64_t(7));
    options.max_length = 0;
    QCOMPARE(make_causal_lm_example("the film", fns, options).input_ids.size(), size_t(4));
  }

  void packingKeepsAttentionInsideEachExample() {
    const std::vector<Example> examples = {tokens({11, 12, 13}, 0), tokens({21, 22}, 1),
                                           tokens({31, 32, 33}, 2), tokens({41}, 3)};
    PackingOptions options;
    options.block_size = 6;
    const std::vector<Example> packed = pack_examples(examples, options);
    QCOMPARE(packed.size(), size_t(2));  // [11 12 13 21 22] [31 32 33 41]: never split
    QCOMPARE(packed[0].input_ids, (std::vector<int32_t>{11, 12, 13, 21, 22}));
    QCOMPARE(packed[0].segment_ids, (std::vector<int32_t>{1, 1, 1, 2, 2}));
    QCOMPARE(packed[0].labels, (std::vector<int32_t>{-100, 12, 13, -100, 22}));
    QCOMPARE(packed[1].segment_ids, (std::vector<int32_t>{1, 1, 1, 2}));
    QCOMPARE(packed[1].source_row, int64_t(2));

    const Batch batch = collate(packed, {});
    QCOMPARE(to_vector(batch.position_ids), (std::vector<int64_t>{0, 1, 2, 0, 1, 0, 1, 2, 0, 0}));
    QCOMPARE(to_vector(batch.segment_ids), (std::vector<int64_t>{1, 1, 1, 2, 2, 1, 1, 1, 2, 0}));
    const torch::Tensor mask = packed_attention_mask(batch.segment_ids);
    QCOMPARE(mask.sizes().vec(), (std::vector<int64_t>{2, 1, 5, 5}));
    // Row 0, query 3 (first token of example 2) sees only itself, not example 1 before it.
    QCOMPARE(to_vector(mask[0][0][3]), (std::vector<int64_t>{0, 0, 0, 1, 0}));
    QCOMPARE(to_vector(mask[0][0][4]), (std::vector<int64_t>{0, 0, 0, 1, 1}));
    QCOMPARE(to_vector(mask[0][0][2]), (std::vector<int64_t>{1, 1, 1, 0, 0}));  // causal
    QCOMPARE(to_vector(mask[1][0][4]), (std::vector<int64_t>{0, 0, 0, 0, 0}));  // padding
    // Every allowed pair is within one segment.
    QVERIFY((mask.squeeze(1) & (batch.segment_ids.unsqueeze(2) != batch.segment_ids.unsqueeze(1)))
                .any()
                .item<bool>() == false);
  }

  void classificationPairsTruncateLongestFirst() {
    WordTokenizer words;
    TokenizerFns fns = words.fns();
    Sample sample;
    sample.text = "a b c d e f";
    sample.text_pair = "x y";
    sample.label = 1;
    ClassificationOptions options;
    options.max_length = 8;  // 3 specials + 5 tokens: the longer first text loses 3
    const Example example = make_classification_example(sample, fns, options);
    QCOMPARE(example.input_ids, (std::vector<int32_t>{1, 10, 11, 12, 2, 16, 17, 2}));
    QCOMPARE(example.token_type_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
    QCOMPARE(example.class_label, int64_t(1));
    QVERIFY(example.truncated);
    sample.text_pair.clear();
    QCOMPARE(make_classification_example(sample, fns, options).input_ids.size(), size_t(8));
  }

  void verbalizerTemplateSurvivesTruncation() {
    WordTokenizer words;
    const TokenizerFns fns = words.fns();
    Sample review;
    review.text = "slow but rewarding and beautifully shot from start to finish";
    review.label = 1;
    VerbalizerOptions options;  // "{text} It was {mask}"
    options.max_length = 8;     // bos + It was + mask + eos = 5 fixed: 3 text tokens survive
    const Example example = make_verbalizer_example(review, fns, options);
    QCOMPARE(example.input_ids.size(), size_t(8));
    QCOMPARE(example.input_ids.back(), 2);
    QCOMPARE(example.mask_position, int64_t(6));
    QCOMPARE(example.input_ids[6], 3);
    QCOMPARE(example.input_ids[4], words.id("It"));
    QCOMPARE(example.input_ids[5], words.id("was"));
    QCOMPARE(example.input_ids[1], words.id("slow"));
    QVERIFY(example.truncated);
    QCOMPARE(example.class_label, int64_t(1));

    options.prompt_template = "Review: {text}";
    QVERIFY_THROWS_EXCEPTION(tb::Error, make_verbalizer_example(review, fns, options));
    options.prompt_template = "{mask} story: {text}";  // the mask may come first
    QCOMPARE(make_verbalizer_example(review, fns, options).mask_position, int64_t(1));
    options.max_length = 4;
    QVERIFY_THROWS_EXCEPTION(tb::Error, make_verbalizer_example(review, fns, options));
    QCOMPARE(label_word_ids({"bad", "good"}, fns).size(), size_t(2));
    QVERIFY_THROWS_EXCEPTION(tb::Error, label_word_ids({"not good"}, fns));
  }

  void sftLearnsOnlyAssistantTurns() {
    WordTokenizer words;
    const TokenizerFns fns = words.fns();
    const std::vector<RenderedTurn> turns = {{"<sys> be brief", false},
                                             {"<user> hi there", false},
                                             {"<bot> hello", true},
                                             {"<user> bye", false},
                                             {"<bot> goodbye now", true}};
    SftOptions options;
    const Example example = make_sft_example(turns, fns, options, 3);
    QCOMPARE(example.input_ids.size(), size_t(13));
    const std::vector<int32_t>& ids = example.input_ids;
    QCOMPARE(example.labels, (std::vector<int32_t>{-100, -100, -100, -100, -100, -100, ids[6],
                                                   ids[7], -100, -100, ids[10], ids[11], ids[12]}));
    options.train_on_prompt = true;
    QCOMPARE(make_sft_example(turns, fns, options).labels, ids);

    // Budget split: short reply keeps whole, short prompt keeps whole, else proportional.
    QCOMPARE(split_budget(10, 2, 8), (std::pair<int64_t, int64_t>(6, 2)));
    QCOMPARE(split_budget(2, 10, 8), (std::pair<int64_t, int64_t>(2, 6)));
    QCOMPARE(split_budget(10, 10, 8), (std::pair<int64_t, int64_t>(4, 4)));
    options.train_on_prompt = false;
    options.cutoff_len = 8;  // pair 1 is 6+2 tokens, so pair 2 is dropped
    const Example cut = make_sft_example(turns, fns, options);
    QCOMPARE(cut.input_ids, std::vector<int32_t>(ids.begin(), ids.begin() + 8));
    QVERIFY(cut.truncated);
    options.cutoff_len = 6;  // pair 1 (6 prompt, 2 reply) → 4 + 2
    const Example tight = make_sft_example(turns, fns, options);
    QCOMPARE(tight.labels, (std::vector<int32_t>{-100, -100, -100, -100, ids[6], ids[7]}));
  }

  void collationPadsRightLeftOrFixed() {
    const std::vector<Example> examples = {tokens({5, 6, 7}), tokens({8})};
    CollateOptions options;
    options.pad_id = 0;
    Batch right = collate(examples, options);
    QCOMPARE(to_vector(right.input_ids), (std::vector<int64_t>{5, 6, 7, 8, 0, 0}));
    QCOMPARE(to_vector(right.attention_mask), (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
    QCOMPARE(to_vector(right.labels), (std::vector<int64_t>{5, 6, 7, 8, -100, -100}));
    QCOMPARE(right.input_ids.scalar_type(), torch::kInt64);
    options.padding_side = PaddingSide::kLeft;
    Batch left = collate(examples, options);
    QCOMPARE(to_vector(left.input_ids), (std::vector<int64_t>{5, 6, 7, 0, 0, 8}));
    QCOMPARE(to_vector(left.position_ids), (std::vector<int64_t>{0, 1, 2, 0, 0, 0}));
    options.padding_side = PaddingSide::kRight;
    options.pad_to_multiple_of = 4;
    QCOMPARE(collate(examples, options).input_ids.size(1), int64_t(4));
    options.max_length = 2;  // fixed length: every batch exactly 2, the long example cut
    QCOMPARE(to_vector(collate(examples, options).input_ids), (std::vector<int64_t>{5, 6, 8, 0}));
    QVERIFY_THROWS_EXCEPTION(tb::Error, collate({}, options));

    Example masked = tokens({1, 50, 3, 2});
    masked.labels.clear();
    masked.mask_position = 2;
    masked.class_label = 1;
    Example longer = tokens({1, 51, 52, 53, 3, 2});
    longer.labels.clear();
    longer.mask_position = 4;
    longer.class_label = 0;
    CollateOptions left_options;
    left_options.padding_side = PaddingSide::kLeft;
    const Batch verbal = collate({masked, longer}, left_options);
    QCOMPARE(to_vector(verbal.mask_positions), (std::vector<int64_t>{4, 4}));  // shifted by 2
    QCOMPARE(to_vector(verbal.class_labels), (std::vector<int64_t>{1, 0}));
    QVERIFY(!verbal.labels.defined());
  }

  void samplerIsDeterministicAndResumesExactly() {
    SamplerOptions options;
    options.batch_size = 4;
    options.seed = 42;
    const BatchSampler sampler(10, options);
    QCOMPARE(sampler.batches_per_epoch(), int64_t(3));
    const auto epoch0 = sampler.epoch_batches(0);
    QCOMPARE(sampler.epoch_batches(0), epoch0);
    QVERIFY(sampler.epoch_batches(1) != epoch0);
    std::vector<int64_t> flat;
    for (const auto& batch : epoch0) flat.insert(flat.end(), batch.begin(), batch.end());
    QCOMPARE(flat, numpy_permutation(10, std::vector<uint32_t>{42, 0}));  // default_rng([42, 0])

    // Run 7 batches straight; separately stop after 4, save the cursor, resume from its text.
    Cursor straight;
    std::vector<std::vector<int64_t>> expected;
    for (int i = 0; i < 7; ++i) expected.push_back(sampler.next(straight));
    QCOMPARE(straight, (Cursor{2, 1}));
    Cursor first;
    std::vector<std::vector<int64_t>> resumed;
    for (int i = 0; i < 4; ++i) resumed.push_back(sampler.next(first));
    const std::string saved = first.to_string();
    QCOMPARE(QString::fromStdString(saved), QString("1:1"));
    const BatchSampler fresh(10, options);  // a new process
    Cursor restored = Cursor::parse(saved);
    for (int i = 0; i < 3; ++i) resumed.push_back(fresh.next(restored));
    QCOMPARE(resumed, expected);
    QVERIFY_THROWS_EXCEPTION(tb::Error, Cursor::parse("one:two"));
    Cursor beyond{0, 3};
    QVERIFY_THROWS_EXCEPTION(tb::Error, sampler.next(beyond));
  }

  void bucketingGroupsSimilarLengths() {
    std::vector<int64_t> lengths;
    for (int i = 0; i < 64; ++i) lengths.push_back((i * 37) % 61 + 1);
    SamplerOptions options;
    options.batch_size = 8;
    options.bucket_batches = 8;  // one window over all rows
    const BatchSampler bucketed(64, options, lengths);
    options.bucket_batches = 0;
    const BatchSampler plain(64, options);
    auto padding = [&](const BatchSampler& sampler) {
      int64_t pads = 0;
      for (const auto& batch : sampler.epoch_batches(0)) {
        int64_t longest = 0;
        for (int64_t row : batch) longest = std::max(longest, lengths[size_t(row)]);
        for (int64_t row : batch) pads += longest - lengths[size_t(row)];
      }
      return pads;
    };
    QVERIFY2(padding(bucketed) * 3 < padding(plain),
             qPrintable(QString("%1 vs %2").arg(padding(bucketed)).arg(padding(plain))));
    std::vector<int64_t> all;
    for (const auto& batch : bucketed.epoch_batches(0))
      all.insert(all.end(), batch.begin(), batch.end());
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < 64; ++i) QCOMPARE(all[size_t(i)], i);  // every row exactly once
  }

  void loaderRunsFromFileToBatchesAndResumes() {
    const std::filesystem::path data_dir =
        std::filesystem::path(TB_SOURCE_DIR) / "tests/data/data_sets";
    WordTokenizer words;
    const TokenizerFns fns = words.fns();

    // Recipe A.3 shape: classification rows through the prompt template, fixed padding.
    const Dataset reviews(data_dir / "reviews.csv", {});
    TaskOptions task;
    task.kind = TaskKind::kVerbalizer;
    task.verbalizer.max_length = 16;
    const std::vector<Example> examples = build_examples(reviews, {3, 0, 2, 1}, fns, task);
    QCOMPARE(examples[0].source_row, int64_t(3));
    SamplerOptions sampler;
    sampler.batch_size = 3;
    CollateOptions collate_options;
    collate_options.max_length = 16;
    const Loader loader(examples, sampler, collate_options);
    QCOMPARE(loader.batches_per_epoch(), int64_t(2));
    Cursor cursor;
    const Batch first = loader.next(cursor);
    QCOMPARE(first.input_ids.sizes().vec(), (std::vector<int64_t>{3, 16}));
    for (int64_t b = 0; b < 3; ++b) {
      QCOMPARE(first.input_ids[b][first.mask_positions[b].item<int64_t>()].item<int64_t>(),
               int64_t(3));
    }
    Cursor copy = Cursor::parse(cursor.to_string());
    QVERIFY(torch::equal(loader.next(cursor).input_ids, loader.next(copy).input_ids));

    // Recipe B shape with packing: text rows → packed causal-LM rows.
    const Dataset notes(data_dir / "notes.txt", {});
    TaskOptions lm;
    lm.pack = true;
    lm.packing.block_size = 64;  // 12 + 7 + 11 + 9 tokens (bos included)
    const std::vector<Example> packed = build_examples(notes, {0, 1, 2, 3}, fns, lm);
    QCOMPARE(packed.size(), size_t(1));
    QCOMPARE(packed[0].segment_ids.back(), 4);
    lm.kind = TaskKind::kClassification;
    QVERIFY_THROWS_EXCEPTION(tb::Error, build_examples(notes, {0}, fns, lm));  // no labels
    lm.kind = TaskKind::kSft;
    lm.pack = false;
    QVERIFY_THROWS_EXCEPTION(tb::Error, build_examples(notes, {0}, fns, lm));  // no template
    lm.render_chat = [](const Sample& sample) {
      return std::vector<RenderedTurn>{{"<user> continue", false}, {sample.text, true}};
    };
    const Example sft = build_examples(notes, {1}, fns, lm)[0];
    QCOMPARE(sft.labels[0], kIgnoreIndex);
    QCOMPARE(sft.labels.back(), sft.input_ids.back());
  }

  void tokenLengthHistogramAndTruncation() {
    WordTokenizer words;
    const TokenizerFns fns = words.fns();
    const Dataset reviews(std::filesystem::path(TB_SOURCE_DIR) / "tests/data/data_sets/reviews.csv",
                          {});
    TaskOptions task;
    task.kind = TaskKind::kClassification;
    task.classification.max_length = 0;  // 14, 15, 10 and 4 words + [CLS] [SEP]
    TokenStats stats = token_length_stats(reviews, {0, 1, 2, 3}, fns, task, 4);
    QCOMPARE(stats.rows, int64_t(4));
    QCOMPARE(stats.min_tokens, int64_t(6));
    QCOMPARE(stats.max_tokens, int64_t(17));
    QCOMPARE(stats.mean_tokens, 12.75);
    QCOMPARE(stats.bin_width, int64_t(5));
    QCOMPARE(stats.histogram, (std::vector<int64_t>{0, 1, 1, 2}));
    QCOMPARE(stats.truncated, int64_t(0));
    task.classification.max_length = 8;
    QCOMPARE(token_length_stats(reviews, {0, 1, 2, 3}, fns, task).truncated, int64_t(3));

    PreviewOptions options;  // the preview measures the train subset when given a tokenizer
    options.tokenizer = fns;
    options.task = task;
    options.subset.max_samples = 2;
    const DataPreview preview = preview_data(
        std::filesystem::path(TB_SOURCE_DIR) / "tests/data/data_sets/reviews.csv", options);
    QVERIFY(preview.train_tokens.has_value());
    QCOMPARE(preview.train_tokens->rows, int64_t(2));
  }
};

QTEST_APPLESS_MAIN(TestDataExamples)
#include "test_data_examples.moc"
