// The hand-written split scanners must find exactly what Oniguruma finds for their regexes,
// and the Unicode classes they rely on (utf8proc) must agree with Oniguruma's.
#include <QtTest>

#include <random>
#include <string>
#include <vector>

#include "core/tokenizer/regex.h"
#include "core/tokenizer/split_scanner.h"
#include "core/tokenizer/unicode.h"

using tb::ByteRange;
namespace scanner = tb::split_scanner;

namespace {

const scanner::Kind kKinds[] = {scanner::Kind::kGpt2,    scanner::Kind::kLlama3,
                                scanner::Kind::kQwen,    scanner::Kind::kDigits3,
                                scanner::Kind::kCjkKana, scanner::Kind::kDeepSeek};

// Characters chosen to hit every branch: letters of several scripts, digits of several kinds,
// marks, punctuation, symbols, every kind of whitespace, apostrophes, format characters.
const char32_t kAlphabet[] = {
    'a',    'Z',    's',    'S',    't',    'r',     'e',    'v',     'l',     'm',     'd',
    'D',    'L',    '0',    '7',    '\'',   '"',     '.',    ',',     '!',     '-',     '_',
    '(',    '<',    '|',    '>',    '+',    '$',     '`',    '~',     ' ',     ' ',     ' ',
    '\t',   '\n',   '\r',   0x0B,   0x0C,   0x85,    0xA0,   0x2003,  0x3000,  0x2028,  0x200B,
    0x200D, 0xFEFF, 0x17F,  0xE9,   0x301,  0x308,   0x4E2D, 0x6587,  0x3042,  0x30AB,  0x30FC,
    0xAC00, 0x0627, 0x0661, 0x0966, 0x2167, 0xBD,    0x2460, 0x1F600, 0x1F44D, 0x1F3FD, 0x2764,
    0xFE0F, 0x20AC, 0x2190, 0x3002, 0xFF01, 0xE000,  0x0,    0x7F,    0x9FA5,  0x9FA6,  0x309F,
    0x30A0, 0x30FF, 0x1100, 0x0E01, 0x0E31, 0x10400, 0x1D7D8};

std::string random_text(std::mt19937& gen, size_t max_chars) {
  std::uniform_int_distribution<size_t> length(0, max_chars);
  std::uniform_int_distribution<size_t> pick(0, std::size(kAlphabet) - 1);
  std::string s;
  const size_t n = length(gen);
  for (size_t i = 0; i < n; ++i) tb::unicode::append_utf8(s, kAlphabet[pick(gen)]);
  return s;
}

}  // namespace

class TestTokenizerScanner : public QObject {
  Q_OBJECT
 private slots:
  void scannersRecognizeTheirOwnPatterns() {
    for (scanner::Kind kind : kKinds) {
      QCOMPARE(scanner::recognize(scanner::pattern_of(kind)), kind);
    }
    QCOMPARE(scanner::recognize(R"(\p{L}+)"), scanner::Kind::kNone);
  }

  void scannersMatchOnigurumaOnRandomText() {
    std::mt19937 gen(1234);
    for (scanner::Kind kind : kKinds) {
      const tb::Regex regex(scanner::pattern_of(kind), "test");
      for (int round = 0; round < 20000; ++round) {
        const std::string text = random_text(gen, 24);
        std::vector<ByteRange> expected, actual;
        regex.find_all(text, expected);
        scanner::scan(kind, text, actual);
        if (expected != actual) {
          QString detail = QString("pattern %1 on %2: onig %3 matches, scanner %4")
                               .arg(QString::fromStdString(scanner::pattern_of(kind)))
                               .arg(QString::fromUtf8(QByteArray::fromStdString(text).toHex(' ')))
                               .arg(expected.size())
                               .arg(actual.size());
          QFAIL(qPrintable(detail));
        }
      }
    }
  }

  // The reference library's Oniguruma knows Unicode 15, like utf8proc; the system Oniguruma
  // may be older. Every disagreement must therefore be a code point the system Oniguruma
  // does not know yet (\p{Cn} there).
  void unicodeClassesAgreeWithOniguruma() {
    // One string with every scalar value (but \n, which ^/$ would treat specially).
    std::string all;
    std::vector<char32_t> at_byte;
    for (char32_t c = 1; c < 0x110000; ++c) {
      if (c == '\n' || (c >= 0xD800 && c <= 0xDFFF)) continue;
      const size_t before = all.size();
      tb::unicode::append_utf8(all, c);
      at_byte.resize(all.size(), 0);
      at_byte[before] = c;
    }
    struct Check {
      const char* pattern;
      bool (*predicate)(char32_t);
    };
    const Check checks[] = {
        {R"(\p{L})", &tb::unicode::is_letter},      {R"(\p{N})", &tb::unicode::is_number},
        {R"(\s)", &tb::unicode::is_whitespace},     {R"(\p{M})", &tb::unicode::is_mark},
        {R"(\p{P})", &tb::unicode::is_punctuation}, {R"(\p{S})", &tb::unicode::is_symbol},
    };
    const tb::Regex unassigned(R"(\p{Cn})", "test");
    std::vector<ByteRange> unknown_ranges;
    unassigned.find_all(all, unknown_ranges);
    std::vector<bool> unknown(all.size(), false);
    for (const ByteRange& m : unknown_ranges) unknown[m.first] = true;
    for (const Check& check : checks) {
      const tb::Regex regex(check.pattern, "test");
      std::vector<ByteRange> matches;
      regex.find_all(all, matches);
      std::vector<bool> matched(all.size(), false);
      for (const ByteRange& m : matches) matched[m.first] = true;
      int differences = 0;
      QString first;
      for (size_t i = 0; i < all.size(); ++i) {
        const char32_t c = at_byte[i];
        if (c == 0) continue;
        if (matched[i] != check.predicate(c) && !unknown[i]) {
          if (differences++ == 0) first = QString::number(static_cast<uint32_t>(c), 16);
        }
      }
      QVERIFY2(differences == 0, qPrintable(QString("%1: %2 code points differ, first U+%3")
                                                .arg(check.pattern)
                                                .arg(differences)
                                                .arg(first)));
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizerScanner)
#include "test_tokenizer_scanner.moc"
