// The BPE/WordPiece trainer against hand-computed merges (the Hugging Face course's worked
// example), its determinism, and the folder it writes loading and encoding as expected.
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <random>

#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_trainer.h"
#include "core/util/error.h"

using Merges = std::vector<std::pair<std::string, std::string>>;

class TestTokenizerTrainer : public QObject {
  Q_OBJECT

  // hug ×10, pug ×5, pun ×12, bun ×4, hugs ×5: pair counts u·g 20, p·u 17, u·n 16, h·u 15.
  static std::vector<std::pair<std::string, uint64_t>> course_words() {
    return {{"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}};
  }

 private Q_SLOTS:
  void bpe_merges_most_frequent_pair_first() {
    tb::BpeTrainerOptions options;
    options.vocab_size = 11;
    options.min_frequency = 1;
    options.special_tokens = {"<unk>"};
    const tb::BpeVocabulary v = tb::train_bpe(course_words(), options);
    // After u·g (20): u·n 16 beats h·ug 15 and p·u (now only "pun", 12); then h·ug.
    QCOMPARE(v.merges, (Merges{{"u", "g"}, {"u", "n"}, {"h", "ug"}}));
    const std::vector<std::string> want = {"<unk>", "b", "g",  "h",  "n",  "p",
                                           "s",     "u", "ug", "un", "hug"};
    QCOMPARE(v.tokens, want);
  }

  void wordpiece_prefix_marks_continuations() {
    tb::BpeTrainerOptions options;
    options.vocab_size = 100;
    options.min_frequency = 5;
    options.continuing_subword_prefix = "##";
    const tb::BpeVocabulary v = tb::train_bpe(course_words(), options);
    QVERIFY(v.merges.size() >= 3);
    QCOMPARE(v.merges[0], std::make_pair(std::string("##u"), std::string("##g")));
    QCOMPARE(v.merges[1], std::make_pair(std::string("##u"), std::string("##n")));
    QCOMPARE(v.merges[2], std::make_pair(std::string("h"), std::string("##ug")));
    QVERIFY(std::find(v.tokens.begin(), v.tokens.end(), "hug") != v.tokens.end());
    QVERIFY(std::find(v.tokens.begin(), v.tokens.end(), "##ug") != v.tokens.end());
    // min_frequency 5 stops before b·##un (4).
    QVERIFY(std::find(v.tokens.begin(), v.tokens.end(), "bun") == v.tokens.end());
  }

  void order_of_words_does_not_matter() {
    std::vector<std::pair<std::string, uint64_t>> words;
    std::mt19937 rng(3);
    const char* stems[] = {"low", "lower", "newest", "widest", "new", "wide", "slow", "show"};
    for (int i = 0; i < 200; ++i) {
      words.push_back(
          {std::string(stems[rng() % 8]) + std::string(1, char('a' + rng() % 5)), 1 + rng() % 9});
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                words.end());
    tb::BpeTrainerOptions options;
    options.vocab_size = 40;  // fewer than merging every word whole needs (51)
    const tb::BpeVocabulary first = tb::train_bpe(words, options);
    std::shuffle(words.begin(), words.end(), rng);
    const tb::BpeVocabulary second = tb::train_bpe(words, options);
    QCOMPARE(first.tokens, second.tokens);
    QCOMPARE(first.merges, second.merges);
    QCOMPARE(first.tokens.size(), size_t(40));
  }

  void written_folders_load_and_encode() {
    const auto dir = std::filesystem::temp_directory_path() / "tb-test-tokenizer-trainer";
    std::filesystem::remove_all(dir);
    const std::string text =
        "Hello there, the newest mail arrived. Hello again: the mail was newer than the last.";
    for (const std::string kind : {"wordpiece", "bpe"}) {
      tb::TokenizerTrainingOptions options;
      options.kind = kind;
      options.vocab_size = kind == "bpe" ? 400 : 150;  // room to merge every word whole
      options.min_frequency = 2;
      tb::TokenizerTrainer trainer(options);
      for (int i = 0; i < 5; ++i) trainer.add_text(text);
      const size_t size = trainer.write(dir / kind);
      const tb::Tokenizer tok = tb::Tokenizer::load(dir / kind);
      QCOMPARE(tok.vocab_size(), size);
      const tb::Encoding e = tok.encode("Hello the mail", true);
      if (kind == "wordpiece") {
        QCOMPARE(e.tokens, (std::vector<std::string>{"[CLS]", "hello", "the", "mail", "[SEP]"}));
        QVERIFY(std::filesystem::exists(dir / kind / "vocab.txt"));
      } else {
        QCOMPARE(e.tokens, (std::vector<std::string>{"<s>", "Hello", "Ġthe", "Ġmail"}));
        QCOMPARE(tok.decode(tok.encode_ids("Hello \xF0\x9F\x98\x80 zq!", false)),
                 std::string("Hello \xF0\x9F\x98\x80 zq!"));  // unseen bytes still round-trip
      }
    }
    std::filesystem::remove_all(dir);
  }

  void bad_options_say_what_to_do() {
    tb::TokenizerTrainingOptions options;
    options.kind = "unigram";
    try {
      tb::TokenizerTrainer trainer(options);
      QFAIL("an unknown kind was accepted");
    } catch (const tb::Error& e) {
      QVERIFY(std::string(e.what()).find("use bpe") != std::string::npos);
    }
    options.kind = "bpe";
    options.vocab_size = 100;  // fewer than the 256 byte characters
    QVERIFY_THROWS_EXCEPTION(tb::Error, tb::TokenizerTrainer{options});
    options.vocab_size = 1000;
    tb::TokenizerTrainer empty(options);
    QVERIFY_THROWS_EXCEPTION(
        tb::Error, empty.write(std::filesystem::temp_directory_path() / "tb-never-written"));
  }
};

QTEST_GUILESS_MAIN(TestTokenizerTrainer)
#include "test_tokenizer_trainer.moc"
