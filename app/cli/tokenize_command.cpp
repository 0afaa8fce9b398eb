#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/cli/command.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

namespace tb::cli {

namespace {

struct TokenizeArgs {
  std::string tokenizer;      // tokenizer.json or a model folder
  std::string text;           // text to encode (unless --file/--decode-ids)
  std::string file;           // encode every line of this file
  std::string decode_ids;     // decode every JSON id array of this file
  bool jsonl = false;         // one JSON array per line (with --file)
  bool offsets = false;       // with --jsonl: {"ids": [...], "offsets": [[start, end], ...]}
  bool add_special = false;   // add the post-processor's special tokens
  bool skip_special = false;  // drop special tokens when decoding
  size_t threads = 0;         // 0: all cores
  std::string pair_with;      // "": single inputs; else line i of --file pairs with line i
  size_t max_length = 0;      // 0: no truncation
  std::string truncation = "longest_first";  // longest_first, only_first or only_second
  bool truncate_left = false;                // false: drop tokens at the end
};

void append_json_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_ids(std::string& out, const std::vector<uint32_t>& ids, bool json) {
  char number[16];
  if (json) out.push_back('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(json ? ',' : ' ');
    const auto [end, ec] = std::to_chars(number, number + sizeof(number), ids[i]);
    out.append(number, end);
  }
  if (json) out.push_back(']');
  out.push_back('\n');
}

std::ifstream open_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw make_error("cannot open " + path, "tokenize", "check the path");
  return in;
}

// Pairs: (line i of --file, line i of --pair-with) encoded one by one; prints ids and type ids.
int encode_pairs(const Tokenizer& tok, const TokenizeArgs& args) {
  std::ifstream first = open_input(args.file);
  std::ifstream second = open_input(args.pair_with);
  std::string a, b, out;
  while (std::getline(first, a)) {
    if (!std::getline(second, b)) {
      throw make_error("--pair-with has fewer lines than --file", args.pair_with,
                       "give two files with the same number of lines");
    }
    const Encoding e = tok.encode_pair(a, b, args.add_special);
    out.clear();
    out += "{\"ids\":";
    append_ids(out, e.ids, true);
    out.back() = ',';
    out += "\"type_ids\":";
    append_ids(out, e.type_ids, true);
    out.back() = '}';
    out.push_back('\n');
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::cout.flush();
  return kExitOk;
}

int encode_file(const Tokenizer& tok, const TokenizeArgs& args) {
  if (!args.pair_with.empty()) return encode_pairs(tok, args);
  std::ifstream in = open_input(args.file);
  constexpr size_t kBatch = 8192;  // lines per batch: enough work for every thread
  std::vector<std::string> lines;
  std::string line, out;
  bool more = true;
  while (more) {
    lines.clear();
    while (lines.size() < kBatch && (more = static_cast<bool>(std::getline(in, line)))) {
      lines.push_back(line);
    }
    if (lines.empty()) break;
    const std::vector<Encoding> encodings =
        tok.encode_batch(lines, args.add_special, args.threads, /*with_tokens=*/args.offsets);
    out.clear();
    for (size_t i = 0; i < encodings.size(); ++i) {
      if (!args.offsets) {
        append_ids(out, encodings[i].ids, args.jsonl);
        continue;
      }
      out += "{\"ids\":";
      append_ids(out, encodings[i].ids, true);
      out.back() = ',';
      out += "\"offsets\":[";
      bool first = true;
      for (const auto& [start, end] : char_offsets(lines[i], encodings[i])) {
        out += (first ? "[" : ",[") + std::to_string(start) + "," + std::to_string(end) + "]";
        first = false;
      }
      out += "]}\n";
    }
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::cout.flush();
  return kExitOk;
}

int decode_file(const Tokenizer& tok, const TokenizeArgs& args) {
  std::ifstream in = open_input(args.decode_ids);
  std::string line, out;
  size_t row = 0;
  while (std::getline(in, line)) {
    ++row;
    // Strict: a line that is not a JSON array of ids is an error, never decoded half-way.
    const std::string where = location(args.decode_ids, static_cast<int64_t>(row));
    nlohmann::json array;
    try {
      array = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& error) {
      throw make_error("not a JSON array of token ids (syntax error at column " +
                           std::to_string(error.byte) + ")",
                       where, "Write one JSON array per line, e.g. [101, 2023, 102].");
    } catch (const nlohmann::json::exception&) {  // out_of_range 406: e.g. 1e400
      throw make_error("a number too large to be a token id", where,
                       "Write one JSON array per line, e.g. [101, 2023, 102].");
    }
    if (!array.is_array()) {
      throw make_error("not a JSON array of token ids", where,
                       "Write one JSON array per line, e.g. [101, 2023, 102].");
    }
    std::vector<uint32_t> ids;
    for (const nlohmann::json& id : array) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() > UINT32_MAX) {
        throw make_error("token id " + id.dump() + " is not a non-negative integer", where,
                         "Ids are whole numbers from 0 up.");
      }
      ids.push_back(id.get<uint32_t>());
    }
    out.clear();
    append_json_string(out, tok.decode(ids, args.skip_special));
    out.push_back('\n');
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::cout.flush();
  return kExitOk;
}

int encode_text(const Tokenizer& tok, const TokenizeArgs& args) {
  const Encoding e = tok.encode(args.text, args.add_special);
  std::string out = "ids:";
  for (uint32_t id : e.ids) out += " " + std::to_string(id);
  out += "\ntokens:";
  for (const std::string& t : e.tokens) {
    out.push_back(' ');
    append_json_string(out, t);
  }
  out += "\ncount: " + std::to_string(e.ids.size()) + "\n";
  std::cout << out;
  return kExitOk;
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Encode text with a Hugging Face tokenizer.json (same ids as the tokenizers "
      "library) or decode ids back to text");
  auto args = std::make_shared<TokenizeArgs>();
  cmd->add_option("tokenizer", args->tokenizer, "tokenizer.json or a model folder containing it")
      ->required();
  cmd->add_option("text", args->text, "Text to encode (prints ids and tokens)");
  cmd->add_option("--file", args->file, "Encode each line of this file (one result per line)");
  cmd->add_flag("--jsonl", args->jsonl, "With --file: print each line's ids as a JSON array");
  cmd->add_flag("--offsets", args->offsets,
                "With --file --jsonl: print {\"ids\": [...], \"offsets\": [[start, end], ...]} "
                "(code-point offsets)");
  cmd->add_option("--decode-ids", args->decode_ids,
                  "Decode each line of this file (a JSON array of ids); prints JSON strings");
  cmd->add_flag("--add-special-tokens", args->add_special,
                "Add the post-processor's special tokens (BOS, [CLS] …)");
  cmd->add_flag("--skip-special-tokens", args->skip_special,
                "With --decode-ids: leave special tokens out");
  cmd->add_option("--threads", args->threads, "Threads for --file (0 = all cores)");
  cmd->add_option("--pair-with", args->pair_with,
                  "With --file: encode line i of --file and line i of this file as a pair "
                  "(prints {\"ids\", \"type_ids\"})");
  cmd->add_option("--max-length", args->max_length, "Truncate to this many tokens (0 = off)");
  cmd->add_option("--truncation", args->truncation, "Truncation strategy")
      ->check(CLI::IsMember({"longest_first", "only_first", "only_second"}));
  cmd->add_flag("--truncate-left", args->truncate_left, "Truncate at the start, not the end");
  cmd->footer(
      "Examples:\n  tunebench-cli tokenize models/llama3 \"Hello world\"\n"
      "  tunebench-cli tokenize tokenizer.json --file corpus.txt --jsonl > ids.jsonl\n"
      "  tunebench-cli tokenize tokenizer.json --decode-ids ids.jsonl");
  return {cmd, [args] {
            Tokenizer tok = Tokenizer::load(args->tokenizer);
            if (args->max_length > 0) {
              TruncationOptions truncation;
              truncation.max_length = args->max_length;
              truncation.strategy =
                  args->truncation == "only_first"    ? TruncationStrategy::kOnlyFirst
                  : args->truncation == "only_second" ? TruncationStrategy::kOnlySecond
                                                      : TruncationStrategy::kLongestFirst;
              truncation.from_left = args->truncate_left;
              tok.set_truncation(truncation);
            }
            if (!args->file.empty()) return encode_file(tok, *args);
            if (!args->decode_ids.empty()) return decode_file(tok, *args);
            return encode_text(tok, *args);
          }};
}

}  // namespace tb::cli
