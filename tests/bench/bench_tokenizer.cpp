// Tokenizer throughput: single-thread encode (full Encoding and ids only) and batch encode
// on 1 and N threads, in MB/s of UTF-8 input. Prints one JSON object per tokenizer.
//
// usage: bench_tokenizer <tokenizer.json> <text file> [threads]
//        bench_tokenizer --control <threads>   (scaling of a pure compute loop)
#include <time.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds used by the whole process (all threads): a fair clock on a busy machine.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// A pure compute loop on 1 and `threads` threads: how much parallelism the machine gives
// right now (on a shared machine other work can leave far less than one core per thread).
double control_scaling(size_t threads) {
  const auto spin = [](long n) {
    volatile double sink = 0;
    double x = 0;
    for (long i = 0; i < n; ++i) x += static_cast<double>(i) * 1e-9;
    sink = x;
    (void)sink;
  };
  const long total = 300000000;
  auto start = std::chrono::steady_clock::now();
  spin(total);
  const double one = seconds_since(start);
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(spin, total / static_cast<long>(threads));
  for (std::thread& t : pool) t.join();
  return one / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--control") {
    std::cout << "{\"control_scaling\":" << control_scaling(std::stoul(argv[2])) << "}\n";
    return 0;
  }
  if (argc < 3) {
    std::cerr << "usage: bench_tokenizer <tokenizer.json> <text file> [threads]\n";
    return 2;
  }
  try {
    const size_t threads =
        argc > 3 ? std::stoul(argv[3]) : std::max(1u, std::thread::hardware_concurrency());
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) throw tb::make_error(std::string("cannot open ") + argv[2], "bench_tokenizer");
    std::vector<std::string> lines;
    size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      bytes += line.size() + 1;
      lines.push_back(std::move(line));
    }
    const double mb = static_cast<double>(bytes) / 1e6;

    auto start = std::chrono::steady_clock::now();
    const tb::Tokenizer tok = tb::Tokenizer::load(argv[1]);
    const double load_s = seconds_since(start);

    // Each measurement gets a fresh tokenizer (cold caches). Batches are ids-only (the training
    // data path) and their results are freed after the clock stops. so no run profits from
    // another's cache.
    start = std::chrono::steady_clock::now();
    double cpu = cpu_seconds();
    size_t tokens = 0;
    for (const std::string& line : lines) tokens += tok.encode(line, false).ids.size();
    const double full_s = seconds_since(start);
    const double full_cpu = cpu_seconds() - cpu;

    const tb::Tokenizer tok_ids = tb::Tokenizer::load(argv[1]);
    start = std::chrono::steady_clock::now();
    for (const std::string& line : lines) tokens -= tok_ids.encode_ids(line, false).size();
    const double ids_s = seconds_since(start);
    if (tokens != 0) throw tb::make_error("encode and encode_ids disagree", "bench_tokenizer");

    const tb::Tokenizer tok_b1 = tb::Tokenizer::load(argv[1]);
    start = std::chrono::steady_clock::now();
    cpu = cpu_seconds();
    std::vector<tb::Encoding> kept = tok_b1.encode_batch(lines, false, 1, false);
    const double batch1_s = seconds_since(start);
    const double batch1_cpu = cpu_seconds() - cpu;

    const tb::Tokenizer tok_bn = tb::Tokenizer::load(argv[1]);
    start = std::chrono::steady_clock::now();
    cpu = cpu_seconds();
    std::vector<tb::Encoding> kept_n = tok_bn.encode_batch(lines, false, threads, false);
    const double batchn_s = seconds_since(start);
    const double batchn_cpu = cpu_seconds() - cpu;

    std::cout << "{\"bytes\":" << bytes << ",\"lines\":" << lines.size() << ",\"load_s\":" << load_s
              << ",\"encode_mb_s\":" << mb / full_s << ",\"encode_cpu_mb_s\":" << mb / full_cpu
              << ",\"batch1_cpu_s\":" << batch1_cpu << ",\"batchn_cpu_s\":" << batchn_cpu
              << ",\"encode_ids_mb_s\":" << mb / ids_s << ",\"batch1_mb_s\":" << mb / batch1_s
              << ",\"batchn_mb_s\":" << mb / batchn_s << ",\"threads\":" << threads << "}\n";
  } catch (const std::exception& error) {
    std::cerr << "bench_tokenizer: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
