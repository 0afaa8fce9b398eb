// Masked-LM targets (BERT's recipe) and chat turns for SFT: the inputs of the mlm and sft
// tasks, checked against hand-computed expectations.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include "core/data/chat_turns.h"
#include "core/data/example.h"
#include "core/data/mlm_masking.h"
#include "core/util/error.h"

using namespace tb;

class TestTaskInputs : public QObject {
  Q_OBJECT

  static data::MlmMaskingOptions bert_masking() {
    data::MlmMaskingOptions options;
    options.mask_id = 4;
    options.vocab_size = 1000;
    options.never_mask = {0, 2, 3};  // [PAD] [CLS] [SEP]
    return options;
  }

 private Q_SLOTS:
  void masking_rates_follow_bert() {
    // 64 rows of [CLS] 200 tokens [SEP] then padding: 15 % become targets, of which 80 % are
    // [MASK], 10 % random, 10 % unchanged.
    const int64_t rows = 64, length = 240;
    torch::Tensor ids = torch::randint(10, 1000, {rows, length}, torch::kLong);
    torch::Tensor attention = torch::zeros({rows, length}, torch::kLong);
    attention.slice(1, 0, 202).fill_(1);
    ids.select(1, 0).fill_(2);
    ids.select(1, 201).fill_(3);
    ids.slice(1, 202).fill_(0);
    const auto [masked, labels] = data::mask_tokens(ids, attention, bert_masking(), 7);
    const torch::Tensor targets = labels.ne(data::kIgnoreIndex);
    const double share = targets.sum().item<double>() / (rows * 200.0);
    QVERIFY2(std::abs(share - 0.15) < 0.01, qPrintable(QString::number(share)));
    // Specials and padding are never targets, and labels hold the original ids.
    QVERIFY(!targets.select(1, 0).any().item<bool>());
    QVERIFY(!targets.select(1, 201).any().item<bool>());
    QVERIFY(!targets.slice(1, 202).any().item<bool>());
    QVERIFY(labels.masked_select(targets).equal(ids.masked_select(targets)));
    const double n = targets.sum().item<double>();
    const double as_mask = (masked.eq(4) & targets).sum().item<double>() / n;
    const double unchanged = (masked.eq(ids) & targets).sum().item<double>() / n;
    QVERIFY2(std::abs(as_mask - 0.8) < 0.03, qPrintable(QString::number(as_mask)));
    // Unchanged: the 10 % kept plus random draws that hit the same id (≈ 0.1 %).
    QVERIFY2(std::abs(unchanged - 0.1) < 0.03, qPrintable(QString::number(unchanged)));
    // Non-targets are untouched.
    QVERIFY(masked.masked_select(targets.logical_not())
                .equal(ids.masked_select(targets.logical_not())));
  }

  void masking_is_seeded() {
    torch::Tensor ids = torch::randint(10, 1000, {4, 50}, torch::kLong);
    const torch::Tensor attention = torch::ones({4, 50}, torch::kLong);
    const auto a = data::mask_tokens(ids, attention, bert_masking(), 11);
    const auto b = data::mask_tokens(ids, attention, bert_masking(), 11);
    const auto c = data::mask_tokens(ids, attention, bert_masking(), 12);
    QVERIFY(a.first.equal(b.first) && a.second.equal(b.second));
    QVERIFY(!a.second.equal(c.second));
  }

  void every_row_gets_a_target() {
    // Two real tokens per row: chance alone leaves most rows without a target.
    torch::Tensor ids = torch::full({32, 4}, 50, torch::kLong);
    torch::Tensor attention = torch::zeros({32, 4}, torch::kLong);
    attention.slice(1, 0, 2).fill_(1);
    const auto [masked, labels] = data::mask_tokens(ids, attention, bert_masking(), 3);
    const torch::Tensor per_row = labels.ne(data::kIgnoreIndex).sum(1);
    QVERIFY(per_row.ge(1).all().item<bool>());
    QVERIFY(!labels.slice(1, 2).ne(data::kIgnoreIndex).any().item<bool>());
  }

  void masking_needs_a_mask_token() {
    data::MlmMaskingOptions options;
    options.vocab_size = 100;
    const torch::Tensor ids = torch::ones({1, 3}, torch::kLong);
    QVERIFY_THROWS_EXCEPTION(Error, data::mask_tokens(ids, ids, options, 0));
  }

  void sft_turns_of_a_two_turn_chat() {
    ChatTemplate chat = builtin_chat_template("chatml");
    data::Sample sample;
    sample.system = "Be brief.";
    sample.messages = {
        {"user", "Hi"}, {"assistant", "Hello"}, {"user", "2+2?"}, {"assistant", "4"}};
    const std::vector<data::RenderedTurn> turns = data::render_sft_turns(chat, sample);
    QCOMPARE(turns.size(), size_t(4));
    QCOMPARE(QString::fromStdString(turns[0].text),
             QString("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                     "<|im_start|>assistant\n"));
    QVERIFY(!turns[0].trainable);
    QCOMPARE(QString::fromStdString(turns[1].text), QString("Hello<|im_end|>\n"));
    QVERIFY(turns[1].trainable);
    QCOMPARE(QString::fromStdString(turns[2].text),
             QString("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"));
    QCOMPARE(QString::fromStdString(turns[3].text), QString("4<|im_end|>\n"));
    // The turns concatenate to the whole rendered conversation.
    std::string joined;
    for (const auto& turn : turns) joined += turn.text;
    std::vector<ChatMessage> messages = {{"system", "Be brief."},
                                         {"user", "Hi"},
                                         {"assistant", "Hello"},
                                         {"user", "2+2?"},
                                         {"assistant", "4"}};
    QCOMPARE(QString::fromStdString(joined),
             QString::fromStdString(render_chat(chat, messages, false)));

    const auto [prompt, answer] = data::last_reply_prompt(chat, sample);
    QCOMPARE(QString::fromStdString(answer), QString("4"));
    QCOMPARE(QString::fromStdString(prompt),
             QString::fromStdString(turns[0].text + turns[1].text + turns[2].text));
  }

  void alpaca_turns_and_errors() {
    ChatTemplate chat = builtin_chat_template("alpaca");
    data::Sample sample;
    sample.row = 6;
    sample.messages = {{"user", "Say spam"}, {"assistant", "spam"}};
    const auto turns = data::render_sft_turns(chat, sample);
    QCOMPARE(turns.size(), size_t(2));
    QVERIFY(QString::fromStdString(turns[0].text)
                .endsWith("### Instruction:\nSay spam\n\n### Response:\n"));
    QCOMPARE(QString::fromStdString(turns[1].text), QString("spam</s>\n\n"));

    data::Sample no_reply;
    no_reply.row = 6;
    no_reply.messages = {{"user", "Hello?"}};
    try {
      data::render_sft_turns(chat, no_reply);
      QFAIL("a sample without a reply must be refused");
    } catch (const Error& error) {
      QVERIFY2(QString(error.what()).contains("row 7"), error.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestTaskInputs)
#include "test_task_inputs.moc"
