#include <filesystem>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/data/reader.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_trainer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb::cli {

namespace {

struct TrainTokenizerArgs {
  TokenizerTrainingOptions options;  // what to learn
  std::string input;                 // corpus: any data file preview-data reads
  std::string text_field = "text";   // the column holding the text
  std::string chat_template_file;    // "": none; else Jinja file put in tokenizer_config.json
  std::string out;                   // output folder
  bool force = false;                // replace a tokenizer already in `out`
};

int run_train_tokenizer(const TrainTokenizerArgs& args) {
  const std::filesystem::path out = args.out;
  if (std::filesystem::exists(out / "tokenizer.json") && !args.force) {
    throw make_error("a tokenizer is already there", (out / "tokenizer.json").string(),
                     "choose another --out folder, or pass --force to replace it");
  }
  TokenizerTrainingOptions options = args.options;
  if (!args.chat_template_file.empty()) options.chat_template = read_file(args.chat_template_file);
  TokenizerTrainer trainer(options);

  const auto reader = data::open_reader(args.input);
  int64_t texts = 0;
  for (int64_t i = 0; i < reader->size(); ++i) {
    const data::Row row = reader->row(i);
    const data::Value* text = row.value.find(args.text_field);
    if (text == nullptr || text->type != data::Value::Type::kString) {
      throw make_error("row has no text column '" + args.text_field + "'",
                       location(args.input, row.line),
                       "name the column holding the text with --text-field");
    }
    trainer.add_text(text->text);
    ++texts;
  }
  const size_t vocab_size = trainer.write(out);
  // Load what was written: the folder must work as any tokenizer folder does.
  const Tokenizer check = Tokenizer::load(out);
  std::cout << "trained " << options.kind << " tokenizer: " << vocab_size << " tokens from "
            << texts << " texts (" << trainer.distinct_words() << " distinct words) → "
            << out.string() << " (loads: " << check.vocab_size() << " tokens)\n";
  return kExitOk;
}

}  // namespace

Command add_train_tokenizer_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "train-tokenizer",
      "Learn a tokenizer (byte-level BPE or WordPiece) from a corpus and write a Hugging Face "
      "tokenizer folder");
  auto args = std::make_shared<TrainTokenizerArgs>();
  command->add_option("--kind", args->options.kind, "bpe (decoders) or wordpiece (BERT)")
      ->check(CLI::IsMember(trainable_tokenizer_kinds()));
  command->add_option("--vocab-size", args->options.vocab_size,
                      "Tokens in the vocabulary, special tokens included (default 8000)");
  command->add_option("--min-frequency", args->options.min_frequency,
                      "Pairs seen fewer times are never merged (default 2)");
  command->add_option("--limit-alphabet", args->options.limit_alphabet,
                      "WordPiece: keep the most frequent characters (default 1000)");
  command->add_option("--model-max-length", args->options.model_max_length,
                      "model_max_length in tokenizer_config.json (default 512)");
  command
      ->add_option("--chat-template", args->chat_template_file,
                   "Jinja chat template file for tokenizer_config.json")
      ->check(CLI::ExistingFile);
  command->add_option("--input", args->input, "Corpus: .jsonl/.json/.csv/.txt (gzip too)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--text-field", args->text_field, "Column holding the text (default text)");
  command->add_option("--out", args->out, "Folder to write (created)")->required();
  command->add_flag("--force", args->force, "Replace a tokenizer already in --out");
  command->footer(
      "Examples:\n"
      "  tunebench-cli train-tokenizer --kind wordpiece --vocab-size 4096 --input corpus.jsonl "
      "--out tok-bert\n"
      "  tunebench-cli train-tokenizer --kind bpe --vocab-size 4096 --input corpus.jsonl "
      "--chat-template alpaca.jinja --model-max-length 2048 --out tok-llama");
  return {command, [args] { return run_train_tokenizer(*args); }};
}

}  // namespace tb::cli
