// Data files of any content, read as each format (JSON Lines, JSON, CSV, TSV, text): every row
// parses or the file is refused with a tb::Error naming where — never a crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/data/reader.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kinds[] = {"jsonl", "json", "csv", "tsv", "txt"};
  const std::string kind = kinds[data[0] % 5];
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("tb-fuzz-" + std::to_string(::getpid()) + "." + kind);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  for (const bool skip : {false, true}) {
    try {
      tb::data::ReaderOptions options;
      options.skip_bad_rows = skip;
      const auto reader = tb::data::open_reader(path, options);
      reader->columns();
      for (int64_t i = 0; i < reader->size(); ++i) reader->row(i);
    } catch (const tb::Error&) {
      // A malformed file is refused with where and why.
    }
  }
  std::filesystem::remove(path);
  return 0;
}
