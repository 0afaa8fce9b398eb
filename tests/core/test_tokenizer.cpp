// core/tokenizer: the tokenizer.json pipeline on small hand-made tokenizers (the interop test
// covers real ones against the reference library).
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pre_tokenizers.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

using Ids = std::vector<uint32_t>;

namespace {

// A tokenizer.json around a model, with optional other components (JSON snippets).
std::string tokenizer_json(const std::string& model, const std::string& pre = "null",
                           const std::string& normalizer = "null", const std::string& added = "[]",
                           const std::string& post = "null", const std::string& decoder = "null") {
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":)" + added +
         R"(,"normalizer":)" + normalizer + R"(,"pre_tokenizer":)" + pre + R"(,"post_processor":)" +
         post + R"(,"decoder":)" + decoder + R"(,"model":)" + model + "}";
}

const char* kBpe =
    R"({"type":"BPE","unk_token":"<unk>","fuse_unk":true,"vocab":{"a":0,"b":1,"c":2,"ab":3,
    "abc":4,"<unk>":5,"bc":6,"<0xC3>":7,"<0xA9>":8,"x":9,"y":10,"xy":11},
    "merges":["a b","ab c","b c"]})";

std::string error_of(const std::string& json) {
  try {
    tb::Tokenizer::from_json(json, "test.json");
  } catch (const tb::Error& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT
 private slots:
  void bpeMergesByRankLeftmostFirst() {
    const auto tok =
        tb::Tokenizer::from_json(tokenizer_json(kBpe, R"({"type":"WhitespaceSplit"})"), "t");
    QCOMPARE(tok.encode("abc", false).ids, (Ids{4}));
    QCOMPARE(tok.encode("bca", false).ids, (Ids{6, 0}));
    QCOMPARE(tok.encode("abab c", false).ids, (Ids{3, 3, 2}));
    // Unknown characters fuse into one <unk>; xy has no merge so it stays two tokens.
    QCOMPARE(tok.encode("a??b xy", false).ids, (Ids{0, 5, 1, 9, 10}));
    const tb::Encoding e = tok.encode("bca ab", false);
    QCOMPARE(e.tokens, (std::vector<std::string>{"bc", "a", "ab"}));
    QCOMPARE(e.offsets[2], (std::pair<uint32_t, uint32_t>{4, 6}));
  }

  void bpeByteFallbackAndIgnoreMerges() {
    std::string model = kBpe;
    model.replace(model.find("\"fuse_unk\":true"), 15,
                  "\"byte_fallback\":true,\"ignore_merges\":true");
    const auto tok = tb::Tokenizer::from_json(tokenizer_json(model), "t");
    QCOMPARE(tok.encode("\xC3\xA9", false).ids, (Ids{7, 8}));  // é → <0xC3> <0xA9>
    QCOMPARE(tok.encode("xy", false).ids, (Ids{11}));          // whole piece in the vocab
    QCOMPARE(tok.encode("\xC3\xA8", false).ids, (Ids{5}));     // è: no <0xA8> → <unk>
  }

  void bpeSubwordPrefixAndWordSuffix() {
    const auto prefix =
        tb::Tokenizer::from_json(tokenizer_json(R"({"type":"BPE","continuing_subword_prefix":"##",
        "vocab":{"a":0,"##b":1,"ab":2},"merges":["a ##b"]})"),
                                 "t");
    QCOMPARE(prefix.encode("ab", false).ids, (Ids{2}));
    const auto suffix =
        tb::Tokenizer::from_json(tokenizer_json(R"({"type":"BPE","end_of_word_suffix":"</w>",
        "vocab":{"a":0,"b</w>":1,"ab</w>":2},"merges":[["a","b</w>"]]})"),
                                 "t");
    QCOMPARE(suffix.encode("ab", false).ids, (Ids{2}));
  }

  void wordPieceAndBertPipeline() {
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(
            R"({"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
            "max_input_chars_per_word":100,"vocab":{"[UNK]":0,"un":1,"##aff":2,"##able":3,
            "hello":4,"!":5,"[CLS]":6,"[SEP]":7,"cafe":8}})",
            R"({"type":"BertPreTokenizer"})", R"({"type":"BertNormalizer","lowercase":true})",
            R"([{"id":6,"content":"[CLS]","special":true,"normalized":false},
               {"id":7,"content":"[SEP]","special":true,"normalized":false}])",
            R"({"type":"BertProcessing","sep":["[SEP]",7],"cls":["[CLS]",6]})",
            R"({"type":"WordPiece","prefix":"##","cleanup":true})"),
        "t");
    QCOMPARE(tok.encode("UnAffable  HELLO! xyz Café").ids, (Ids{6, 1, 2, 3, 4, 5, 0, 8, 7}));
    const tb::Encoding pair = tok.encode_pair("hello", "cafe");
    QCOMPARE(pair.ids, (Ids{6, 4, 7, 8, 7}));
    QCOMPARE(pair.type_ids, (Ids{0, 0, 0, 1, 1}));
    QCOMPARE(pair.special_tokens_mask, (std::vector<uint8_t>{1, 0, 1, 0, 1}));
    QCOMPARE(tok.decode({6, 1, 2, 3, 4, 5, 7}, true), std::string("unaffable hello!"));
    QCOMPARE(tok.decode({6, 4, 7}, false), std::string("[CLS] hello [SEP]"));
  }

  void unigramViterbi() {
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(R"({"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",-1],
        ["b",-1],["ab",-1.5],["c",-3]]})"),
        "t");
    QCOMPARE(tok.encode("abc", false).ids, (Ids{3, 4}));
    QCOMPARE(tok.encode("abdd", false).ids, (Ids{3, 0}));  // unknowns fused
  }

  void addedTokensStripAndSingleWord() {
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(kBpe, "null", "null",
                       R"([{"id":12,"content":"<m>","special":true,"normalized":false,
                            "lstrip":true,"rstrip":true},
                           {"id":13,"content":"ab","special":false,"normalized":false,
                            "single_word":true}])"),
        "t");
    const tb::Encoding e = tok.encode("a  <m> b", false);
    QCOMPARE(e.ids, (Ids{0, 12, 1}));
    QCOMPARE(e.offsets[1], (std::pair<uint32_t, uint32_t>{1, 7}));
    // "ab" inside a word is not the single-word token; alone it is.
    QCOMPARE(tok.encode("cab ab", false).ids, (Ids{2, 3, 5, 13}));
    QCOMPARE(tok.decode({0, 12, 1}, true), std::string("a b"));
  }

  void normalizedAddedTokensMatchAfterNormalization() {
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(kBpe, "null", R"({"type":"Lowercase"})",
                       R"([{"id":12,"content":"XY","special":false,"normalized":true}])"),
        "t");
    QCOMPARE(tok.encode("aXyb", false).ids, (Ids{0, 12, 1}));
  }

  void metaspacePrependSchemes() {
    const std::string model =
        R"({"type":"BPE","unk_token":"<unk>","ignore_merges":true,"vocab":{"hello":0,
        "\u2581hello":1,"\u2581world":2,"<s>":3,"<unk>":4},"merges":[]})";
    const std::string added = R"([{"id":3,"content":"<s>","special":true,"normalized":false}])";
    const auto first = tb::Tokenizer::from_json(
        tokenizer_json(model, R"({"type":"Metaspace","replacement":"\u2581",
        "prepend_scheme":"first","split":true})",
                       "null", added),
        "t");
    QCOMPARE(first.encode("<s>hello world", false).ids, (Ids{3, 0, 2}));
    QCOMPARE(first.encode("hello world", false).ids, (Ids{1, 2}));
    const auto always = tb::Tokenizer::from_json(
        tokenizer_json(model, R"({"type":"Metaspace","replacement":"\u2581",
        "prepend_scheme":"always","split":true})",
                       "null", added, "null", R"({"type":"Metaspace","replacement":"\u2581",
        "prepend_scheme":"always","split":true})"),
        "t");
    QCOMPARE(always.encode("<s>hello world", false).ids, (Ids{3, 1, 2}));
    QCOMPARE(always.decode({1, 2}), std::string("hello world"));
  }

  void splitBehaviors() {
    // "the-final--countdown" split on '-'.
    const std::vector<tb::SplitEvent> events = {{{0, 3}, false},  {{3, 4}, true},
                                                {{4, 9}, false},  {{9, 10}, true},
                                                {{10, 11}, true}, {{11, 20}, false}};
    const auto run = [&](tb::SplitBehavior b) {
      std::vector<tb::ByteRange> kept;
      tb::apply_split_behavior(events, b, kept);
      return kept;
    };
    using R = std::vector<tb::ByteRange>;
    QCOMPARE(run(tb::SplitBehavior::kRemoved), (R{{0, 3}, {4, 9}, {11, 20}}));
    QCOMPARE(run(tb::SplitBehavior::kIsolated),
             (R{{0, 3}, {3, 4}, {4, 9}, {9, 10}, {10, 11}, {11, 20}}));
    QCOMPARE(run(tb::SplitBehavior::kMergedWithPrevious), (R{{0, 4}, {4, 10}, {10, 11}, {11, 20}}));
    QCOMPARE(run(tb::SplitBehavior::kMergedWithNext), (R{{0, 3}, {3, 9}, {9, 10}, {10, 20}}));
    QCOMPARE(run(tb::SplitBehavior::kContiguous), (R{{0, 3}, {3, 4}, {4, 9}, {9, 11}, {11, 20}}));
  }

  void byteLevelRoundTripsAnyText() {
    // A byte-level vocabulary: the 256 byte characters plus one merge.
    std::string vocab = "{";
    for (int b = 0; b < 256; ++b) {
      std::string c = tb::byte_level::encode(std::string(1, static_cast<char>(b)));
      if (c == "\\" || c == "\"") c = "\\" + c;
      vocab += "\"" + c + "\":" + std::to_string(b) + ",";
    }
    vocab += "\"\u0120w\":256}";
    const std::string model = R"({"type":"BPE","vocab":)" + vocab + R"(,"merges":["\u0120 w"]})";
    const std::string byte_level =
        R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})";
    // Raw-byte mode (ByteLevel last) and materialized mode (something after it) must agree.
    const auto raw = tb::Tokenizer::from_json(
        tokenizer_json(model, byte_level, "null", "[]", "null", R"({"type":"ByteLevel"})"), "t");
    const auto materialized =
        tb::Tokenizer::from_json(tokenizer_json(model,
                                                R"({"type":"Sequence","pretokenizers":[)" +
                                                    byte_level + R"(,{"type":"WhitespaceSplit"}]})",
                                                "null", "[]", "null", R"({"type":"ByteLevel"})"),
                                 "t");
    const std::string text = "h\xC3\xA9llo w\xF0\x9F\x98\x80\tworld\r\n\x01";
    const Ids ids = raw.encode(text, false).ids;
    QCOMPARE(materialized.encode(text, false).ids, ids);
    QCOMPARE(ids[6], uint32_t{256});  // " w" merged
    QCOMPARE(raw.decode(ids), text);
    QCOMPARE(raw.encode(text, false).tokens[1], std::string("\xC3\x83"));  // byte C3 → Ã
  }

  void invalidUtf8IsReplacedNotFatal() {
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(R"({"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1,
        "\ufffd":2}})",
                       R"({"type":"WhitespaceSplit"})"),
        "t");
    QCOMPARE(tok.encode("a \xFF a \xE2\x82 a", false).ids, (Ids{1, 2, 1, 2, 1}));
    QCOMPARE(tok.encode(std::string("a\0a", 3), false).ids, (Ids{0}));
  }

  void randomBytesNeverCrashAnyComponent() {
    // Every normalizer, pre-tokenizer and decoder on random bytes (invalid UTF-8, NULs, lone
    // continuation bytes): encode must not throw, and byte-level decoding must give back the
    // text as the reference would see it (invalid sequences as U+FFFD).
    std::string vocab = "{";
    for (int b = 0; b < 256; ++b) {
      std::string c = tb::byte_level::encode(std::string(1, static_cast<char>(b)));
      if (c == "\\" || c == "\"") c = "\\" + c;
      vocab += "\"" + c + "\":" + std::to_string(b) + (b < 255 ? "," : "}");
    }
    const std::string normalizers =
        R"({"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"NFD"},{"type":"NFKD"},
        {"type":"NFC"},{"type":"Strip"},{"type":"StripAccents"},
        {"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},{"type":"Prepend",
        "prepend":"x"},{"type":"BertNormalizer","lowercase":false,"strip_accents":false}]})";
    const std::string pre =
        R"({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},
        {"type":"Punctuation"},{"type":"Split","pattern":{"String":"x"},"behavior":"Contiguous",
        "invert":true},{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}]})";
    const auto tok = tb::Tokenizer::from_json(
        tokenizer_json(R"({"type":"BPE","vocab":)" + vocab + R"(,"merges":[]})", pre, normalizers,
                       "[]", "null", R"({"type":"ByteLevel"})"),
        "t");
    const auto plain = tb::Tokenizer::from_json(
        tokenizer_json(R"({"type":"BPE","vocab":)" + vocab + R"(,"merges":[]})",
                       R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})", "null",
                       "[]", "null", R"({"type":"ByteLevel"})"),
        "t");
    std::mt19937 gen(7);
    std::uniform_int_distribution<int> byte(0, 255), length(0, 40);
    for (int round = 0; round < 3000; ++round) {
      std::string text;
      const int n = length(gen);
      for (int i = 0; i < n; ++i) text.push_back(static_cast<char>(byte(gen)));
      QVERIFY(tok.encode(text).ids.size() <= 4 * text.size() + 8);
      const tb::Encoding e = plain.encode(text);
      QCOMPARE(plain.decode(e.ids), tb::unicode::to_valid_utf8(text));
    }
  }

  void malformedJsonNamesLineAndColumn() {
    const std::string message = error_of("{\n  \"model\": {\n    \"type\": \"BPE\",,\n  }\n}");
    QVERIFY2(message.find("test.json:3:19") != std::string::npos, message.c_str());
  }

  void unknownComponentNamesItselfAndTheSupportedOnes() {
    const std::string message = error_of(tokenizer_json(kBpe, "null", R"({"type":"Lowercas"})"));
    QVERIFY2(message.find("unknown normalizer type 'Lowercas'") != std::string::npos,
             message.c_str());
    QVERIFY2(message.find("did you mean 'Lowercase'") != std::string::npos, message.c_str());
    QVERIFY2(message.find("NFKC") != std::string::npos, message.c_str());
    const std::string model = error_of(tokenizer_json(R"({"type":"WordLevelX","vocab":{}})"));
    QVERIFY2(model.find("unknown model type 'WordLevelX'") != std::string::npos, model.c_str());
    QVERIFY2(model.find("BPE, Unigram, WordPiece") != std::string::npos, model.c_str());
  }

  void tokenIdsOutOfRangeAreRefused() {
    // Found by fuzz_tokenizer_json: a negative id read as unsigned sized the id table to 4 G.
    const std::string negative = error_of(
        tokenizer_json(R"({"type":"WordPiece","unk_token":"a","vocab":{"a":0,"world":-4}})"));
    QVERIFY2(negative.find("vocab entry 'world' has id -4, not a token id from 0 to 16777215") !=
                 std::string::npos,
             negative.c_str());
    const std::string huge = error_of(tokenizer_json(
        kBpe, "null", "null", R"([{"id":4000000000,"content":"<s>","special":true}])"));
    QVERIFY2(huge.find("added token \"<s>\" has id 4000000000") != std::string::npos, huge.c_str());
    const std::string special = error_of(
        tokenizer_json(kBpe, "null", "null", "[]",
                       R"({"type":"TemplateProcessing","single":"<s> $A","pair":"<s> $A $B:1",
           "special_tokens":{"<s>":{"id":"<s>","ids":[-1],"tokens":["<s>"]}}})"));
    QVERIFY2(special.find("special token '<s>' has id -1") != std::string::npos, special.c_str());
  }

  void truncationPaddingAndBatch() {
    auto tok = tb::Tokenizer::from_json(
        tokenizer_json(kBpe, R"({"type":"WhitespaceSplit"})", "null",
                       R"([{"id":12,"content":"<s>","special":true,"normalized":false}])",
                       R"({"type":"TemplateProcessing","single":"<s> $A","pair":"<s> $A $B:1",
                          "special_tokens":{"<s>":{"id":"<s>","ids":[12],"tokens":["<s>"]}}})"),
        "t");
    QCOMPARE(tok.encode("a b c").ids, (Ids{12, 0, 1, 2}));
    tb::TruncationOptions truncation;
    truncation.max_length = 3;
    tok.set_truncation(truncation);
    QCOMPARE(tok.encode("a b c").ids, (Ids{12, 0, 1}));
    truncation.from_left = true;
    tok.set_truncation(truncation);
    QCOMPARE(tok.encode("a b c").ids, (Ids{12, 1, 2}));
    truncation.from_left = false;
    tok.set_truncation(truncation);
    const tb::Encoding pair = tok.encode_pair("a b c", "x");
    QCOMPARE(pair.ids, (Ids{12, 0, 9}));
    QCOMPARE(pair.type_ids, (Ids{0, 0, 1}));
    truncation.max_length = 6;  // budget 5 for "a b c a b" + "x y": the short one stays whole
    tok.set_truncation(truncation);
    QCOMPARE(tok.encode_pair("a b c a b", "x y").ids, (Ids{12, 0, 1, 2, 9, 10}));
    truncation.max_length = 4;  // budget 3: both cut, the longer input gets the odd token
    tok.set_truncation(truncation);
    QCOMPARE(tok.encode_pair("a b c a b", "x y x y").ids, (Ids{12, 0, 1, 9}));
    truncation.strategy = tb::TruncationStrategy::kOnlySecond;
    tok.set_truncation(truncation);
    QCOMPARE(tok.encode_pair("a", "x y x y").ids, (Ids{12, 0, 9, 10}));
    truncation.max_length = 3;
    truncation.strategy = tb::TruncationStrategy::kLongestFirst;
    tok.set_truncation(truncation);
    tb::PaddingOptions padding;
    padding.enabled = true;
    padding.pad_id = 5;
    tok.set_padding(padding);
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i) texts.push_back(i % 2 ? "a b c" : "x");
    const std::vector<tb::Encoding> batch = tok.encode_batch(texts, true, 2);
    QCOMPARE(batch[0].ids, (Ids{12, 9, 5}));
    QCOMPARE(batch[0].attention_mask, (std::vector<uint8_t>{1, 1, 0}));
    QCOMPARE(batch[1].ids, (Ids{12, 0, 1}));
    for (size_t i = 0; i < texts.size(); ++i) QCOMPARE(batch[i].ids, batch[i % 2].ids);
  }

  void loadsAModelFolderWithItsConfig() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();
    std::ofstream(root + "/tokenizer.json") << tokenizer_json(kBpe);
    std::ofstream(root + "/tokenizer_config.json")
        << R"({"bos_token":{"content":"<s>","lstrip":false},"eos_token":"</s>",
        "add_bos_token":true,"model_max_length":4096,"chat_template":"{{ x }}"})";
    const tb::Tokenizer tok = tb::Tokenizer::load(root);
    QCOMPARE(tok.config().bos_token, std::string("<s>"));
    QCOMPARE(tok.config().eos_token, std::string("</s>"));
    QCOMPARE(tok.config().add_bos_token.value_or(false), true);
    QCOMPARE(tok.config().model_max_length.value_or(0), size_t{4096});
    QCOMPARE(tok.vocab_size(), size_t{12});
    QCOMPARE(tok.token_to_id("abc").value_or(99), uint32_t{4});
    QCOMPARE(tok.id_to_token(6).value_or(""), std::string("bc"));
    try {
      tb::Tokenizer::load(root + "/missing");
      QFAIL("no error for a missing folder");
    } catch (const tb::Error& error) {
      QVERIFY(std::string(error.what()).find("missing") != std::string::npos);
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
