// core/tokenizer/chat_template: built-ins render the exact strings of the models' own Jinja
// templates; recognition and YAML templates.
#include <QtTest>

#include <string>
#include <vector>

#include "core/tokenizer/chat_template.h"
#include "core/util/error.h"

namespace {

const std::vector<tb::ChatMessage> kConversation = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "2+2?"}};

std::string render(const char* name, bool generation = true) {
  return tb::render_chat(tb::builtin_chat_template(name), kConversation, generation);
}

}  // namespace

class TestChatTemplate : public QObject {
  Q_OBJECT
 private slots:
  void builtinsRenderTheModelsStrings() {
    QCOMPARE(render("chatml"),
             std::string("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>"
                         "\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?"
                         "<|im_end|>\n<|im_start|>assistant\n"));
    QCOMPARE(render("llama3"),
             std::string("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe "
                         "brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                         "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    QCOMPARE(render("llama2"),
             std::string("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
                         "<s>[INST] 2+2? [/INST]"));
    QCOMPARE(render("mistral"),
             std::string("<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] 2+2? [/INST]"));
    QCOMPARE(render("deepseek"),
             std::string("<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!"
                         "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>"));
    QCOMPARE(render("gemma"),
             std::string("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                         "<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\n2+2?"
                         "<end_of_turn>\n<start_of_turn>model\n"));
    QCOMPARE(render("vicuna"),
             std::string("Be brief. USER: Hi ASSISTANT: Hello!</s>USER: 2+2? ASSISTANT:"));
    QCOMPARE(tb::render_chat(tb::builtin_chat_template("alpaca"), {{"user", "Add 2 and 2."}}, true),
             std::string("Below is an instruction that describes a task. Write a response that "
                         "appropriately completes the request.\n\n### Instruction:\nAdd 2 and "
                         "2.\n\n### Response:\n"));
    QCOMPARE(render("plain", false), std::string("Be brief.\nHi\nHello!\n2+2?\n"));
  }

  void recognizesModelTemplates() {
    QCOMPARE(tb::recognize_chat_template("{{'<|im_start|>' + message['role']}}"),
             std::string("chatml"));
    QCOMPARE(tb::recognize_chat_template("{% set content = '<|start_header_id|>' %}"),
             std::string("llama3"));
    QCOMPARE(tb::recognize_chat_template("{{'<｜User｜>' + message['content']}}"),
             std::string("deepseek"));
    QCOMPARE(tb::recognize_chat_template("[INST] <<SYS>>\\n"), std::string("llama2"));
    QCOMPARE(tb::recognize_chat_template("{{ '[INST] ' + message['content'] }}"),
             std::string("mistral"));
    QCOMPARE(tb::recognize_chat_template("<start_of_turn>user"), std::string("gemma"));
    QCOMPARE(tb::recognize_chat_template("{{ messages }}"), std::string());
  }

  void yamlTemplatesAndErrors() {
    const tb::ChatTemplate t = tb::chat_template_from_yaml(
        "name: zephyr\nuser: {prefix: \"<|user|>\\n\", suffix: \"</s>\\n\"}\n"
        "assistant: {prefix: \"<|assistant|>\\n\", suffix: \"</s>\\n\"}\n"
        "system: {prefix: \"<|system|>\\n\", suffix: \"</s>\\n\"}\n",
        "zephyr.yaml");
    QCOMPARE(tb::render_chat(t, {{"system", "S"}, {"user", "U"}}, true),
             std::string("<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\n"));
    try {
      tb::chat_template_from_yaml("user: [1, 2\n", "bad.yaml");
      QFAIL("no error for broken YAML");
    } catch (const tb::Error& error) {
      QVERIFY2(std::string(error.what()).find("bad.yaml:") != std::string::npos, error.what());
    }
    try {
      tb::builtin_chat_template("lama3");
      QFAIL("no error for an unknown template");
    } catch (const tb::Error& error) {
      QVERIFY2(std::string(error.what()).find("did you mean 'llama3'") != std::string::npos,
               error.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
