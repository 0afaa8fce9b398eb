// `tunebench-cli preview-data DATA`: what a run would train on, before it starts.
#include <nlohmann/json.hpp>

#include <algorithm>

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/cli/command.h"
#include "core/data/preview.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/run_setup.h"
#include "core/util/error.h"

namespace tb::cli {

namespace {

struct PreviewArgs {
  std::string data, name, format, reader, eval, text_unit = "line";
  std::vector<std::string> columns, label_names;
  int64_t max_samples = -1, eval_samples = -1, rows = 5, stats_rows = 10000;
  double val_size = 0;
  uint64_t seed = 42;
  bool no_shuffle = false, skip_bad_rows = false, no_header = false, json = false;
  std::string model;          // model folder whose tokenizer measures token lengths
  std::string task = "";      // lm | classification | verbalizer; "" = from the format
  int64_t cutoff_len = 1024;  // the length limit whose truncation is counted
};

data::PreviewOptions to_options(const PreviewArgs& args) {
  data::PreviewOptions options;
  options.name = args.name;
  options.dataset.format = args.format;
  options.dataset.reader = args.reader;
  options.dataset.reader_options.skip_bad_rows = args.skip_bad_rows;
  options.dataset.reader_options.csv_header = !args.no_header;
  options.dataset.reader_options.text_unit =
      args.text_unit == "paragraph" ? data::TextUnit::kParagraph : data::TextUnit::kLine;
  for (const std::string& mapping : args.columns) {
    const size_t equals = mapping.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == mapping.size()) {
      throw make_error("--column '" + mapping + "' is not ROLE=NAME", {},
                       "For example: --column response=answer.");
    }
    options.dataset.format_options.columns[mapping.substr(0, equals)] = mapping.substr(equals + 1);
  }
  options.dataset.format_options.label_names = args.label_names;
  options.eval_path = args.eval;
  options.subset.max_samples = args.max_samples;
  options.subset.eval_samples = args.eval_samples;
  options.subset.val_size = args.val_size;
  options.subset.seed = args.seed;
  options.subset.shuffle = !args.no_shuffle;
  options.rows = args.rows;
  options.stats_rows = args.stats_rows;
  return options;
}

nlohmann::json to_json(const data::DataPreview& preview) {
  nlohmann::json columns = nlohmann::json::array();
  for (const data::ColumnStats& column : preview.columns) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& [value, count] : column.values) values.push_back({value, count});
    columns.push_back({{"name", column.name},
                       {"present", column.present},
                       {"empty", column.empty},
                       {"types", column.types},
                       {"min_chars", column.min_chars},
                       {"max_chars", column.max_chars},
                       {"mean_chars", column.mean_chars},
                       {"values", values}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const data::PreviewRow& row : preview.first_rows) {
    nlohmann::json spans = nlohmann::json::array();
    for (const data::PreviewSpan& span : row.spans) {
      spans.push_back({{"role", span.role}, {"text", span.text}, {"target", span.target}});
    }
    rows.push_back({{"row", row.row}, {"line", row.line}, {"spans", spans}});
  }
  nlohmann::json tokens = nullptr;
  if (preview.train_tokens) {
    const data::TokenStats& t = *preview.train_tokens;
    tokens = {{"rows", t.rows},           {"min", t.min_tokens},
              {"max", t.max_tokens},      {"mean", t.mean_tokens},
              {"truncated", t.truncated}, {"target_tokens", t.target_tokens},
              {"bin_width", t.bin_width}, {"histogram", t.histogram}};
  }
  return {{"file", preview.file.string()},
          {"train_tokens", tokens},
          {"reader", preview.reader},
          {"format", preview.format},
          {"format_detected", preview.format_detected},
          {"rows", preview.rows},
          {"skipped_rows", preview.skipped},
          {"skipped_messages", preview.skipped_messages},
          {"stats_rows", preview.stats_rows},
          {"columns", columns},
          {"label_names", preview.label_names},
          {"first_rows", rows},
          {"eval_file_rows", preview.eval_file_rows},
          {"eval_from_train", preview.subset.eval_from_train},
          {"train_indices", preview.subset.train},
          {"eval_indices", preview.subset.eval}};
}

// First and last few indices, so a 25,000-row subset stays one line.
std::string abbreviated(const std::vector<int64_t>& indices) {
  std::ostringstream out;
  const size_t shown = 8;
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i == shown && indices.size() > 2 * shown) {
      out << " …";
      i = indices.size() - shown;
    }
    out << (i ? " " : "") << indices[i];
  }
  return out.str();
}

void print_tokens(const data::TokenStats& t) {
  std::cout << "\ntokens of the train subset (" << t.rows << " rows): min " << t.min_tokens
            << ", mean " << std::fixed << std::setprecision(1) << t.mean_tokens << ", max "
            << t.max_tokens << "; " << t.truncated << " rows cut by the length limit\n";
  const int64_t peak =
      t.histogram.empty()
          ? 1
          : std::max<int64_t>(1, *std::max_element(t.histogram.begin(), t.histogram.end()));
  for (size_t bin = 0; bin < t.histogram.size(); ++bin) {
    const int64_t from = static_cast<int64_t>(bin) * t.bin_width;
    std::cout << "  " << std::right << std::setw(6) << from << "–" << std::left << std::setw(6)
              << from + t.bin_width - 1 << " "
              << std::string(static_cast<size_t>(40 * t.histogram[bin] / peak), '#') << " "
              << t.histogram[bin] << "\n";
  }
}

void print_text(const data::DataPreview& preview) {
  std::cout << "file:    " << preview.file.string() << "\n"
            << "reader:  " << preview.reader << "\n"
            << "format:  " << preview.format << (preview.format_detected ? " (detected)" : "")
            << "\nrows:    " << preview.rows;
  if (preview.skipped) std::cout << " (" << preview.skipped << " malformed rows skipped)";
  std::cout << "\n";
  for (const std::string& message : preview.skipped_messages) {
    std::cout << "  skipped: " << message << "\n";
  }
  if (!preview.label_names.empty()) {
    std::cout << "labels:  ";
    for (size_t i = 0; i < preview.label_names.size(); ++i) {
      std::cout << (i ? ", " : "") << i << "=" << preview.label_names[i];
    }
    std::cout << "\n";
  }
  std::cout << "\ncolumns (first " << preview.stats_rows << " rows):\n";
  for (const data::ColumnStats& column : preview.columns) {
    std::cout << "  " << std::left << std::setw(16) << column.name << " present " << column.present
              << ", empty " << column.empty << ", chars " << column.min_chars << ".."
              << column.max_chars << " (mean " << std::fixed << std::setprecision(1)
              << column.mean_chars << ")";
    if (!column.values.empty() && column.values.size() <= 10) {
      std::cout << ", values:";
      for (const auto& [value, count] : column.values) std::cout << " " << value << "×" << count;
    }
    std::cout << "\n";
  }
  for (const data::PreviewRow& row : preview.first_rows) {
    std::cout << "\nrow " << row.row << " (line " << row.line << "):\n";
    for (const data::PreviewSpan& span : row.spans) {
      std::cout << "  " << (span.target ? "[target] " : "[prompt] ") << span.role << ": "
                << span.text << "\n";
    }
  }
  std::cout << "\ntrain subset: " << preview.subset.train.size()
            << " rows: " << abbreviated(preview.subset.train) << "\n";
  std::cout << "eval subset:  " << preview.subset.eval.size() << " rows"
            << (preview.subset.eval_from_train ? " (split off the train file)" : "") << ": "
            << abbreviated(preview.subset.eval) << "\n";
}

}  // namespace

Command add_preview_data_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "preview-data", "Show a data set as training will see it: format, columns, subsets");
  auto args = std::make_shared<PreviewArgs>();
  command->add_option("data", args->data, "Data file, or a folder with dataset_info.json")
      ->required();
  command->add_option("--name", args->name, "Entry of dataset_info.json (folder only)");
  command->add_option("--format", args->format,
                      "alpaca, sharegpt, messages, text or classification (default: detected)");
  command->add_option("--reader", args->reader,
                      "jsonl, json, csv, tsv or text (default: from the extension)");
  command->add_option("--column", args->columns, "Column mapping ROLE=NAME (repeatable)")
      ->allow_extra_args(false);  // one value per --column, so DATA after it stays positional
  command->add_option("--label-names", args->label_names, "Classification labels, in id order")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--eval", args->eval, "Eval file (else --val-size splits the data)");
  command->add_option("--max-samples", args->max_samples, "Train rows after the shuffle");
  command->add_option("--eval-samples", args->eval_samples, "Eval rows after the shuffle");
  command->add_option("--val-size", args->val_size,
                      "Split off eval rows: a fraction (0.1) or a count (100)");
  command->add_option("--seed", args->seed, "Shuffle seed (default 42)");
  command->add_flag("--no-shuffle", args->no_shuffle, "Keep file order");
  command->add_flag("--skip-bad-rows", args->skip_bad_rows, "Leave malformed rows out");
  command->add_option("--text-unit", args->text_unit, "Plain text rows: line or paragraph")
      ->check(CLI::IsMember({"line", "paragraph"}));
  command->add_flag("--no-header", args->no_header, "CSV/TSV without a header row");
  command->add_option("--rows", args->rows, "Rows to show (default 5)");
  command->add_option("--stats-rows", args->stats_rows,
                      "Rows read for column statistics (default 10000, 0 = all)");
  command->add_option("--model", args->model,
                      "Model folder: measure token lengths with its tokenizer (histogram, rows "
                      "cut by --cutoff-len)");
  command->add_option("--task", args->task, "Task of the examples measured (default: from format)")
      ->check(CLI::IsMember({"lm", "classification", "verbalizer"}));
  command->add_option("--cutoff-len", args->cutoff_len, "Token limit per example (default 1024)");
  command->add_flag("--json", args->json,
                    "JSON, with the train_indices and eval_indices of the subsets");
  command->footer(
      "Examples:\n  tunebench-cli preview-data imdb/train.jsonl --eval imdb/test.jsonl "
      "--max-samples 500 --eval-samples 100 --seed 42 --json\n"
      "  tunebench-cli preview-data data/ --name alpaca_en --val-size 0.1\n"
      "The subsets equal Hugging Face datasets' shuffle(seed).select(range(N)).");
  return {command, [args] {
            data::PreviewOptions options = to_options(*args);
            if (!args->model.empty()) {
              options.tokenizer =
                  tokenizer_functions(std::make_shared<Tokenizer>(Tokenizer::load(args->model)));
              std::string task = args->task;
              if (task.empty()) {
                // Classification data is measured as the classifier sees it, the rest as text.
                task = data::preview_data(args->data, to_options(*args)).format == "classification"
                           ? "classification"
                           : "lm";
              }
              options.task.kind = task == "classification" ? data::TaskKind::kClassification
                                  : task == "verbalizer"   ? data::TaskKind::kVerbalizer
                                                           : data::TaskKind::kCausalLm;
              options.task.causal_lm.max_length = args->cutoff_len;
              options.task.classification.max_length = args->cutoff_len;
              options.task.verbalizer.max_length = args->cutoff_len;
            }
            const data::DataPreview preview = data::preview_data(args->data, options);
            if (args->json) {
              std::cout << to_json(preview).dump(2) << "\n";
            } else {
              print_text(preview);
              if (preview.train_tokens) print_tokens(*preview.train_tokens);
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
