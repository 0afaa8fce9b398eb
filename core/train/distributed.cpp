#include "core/train/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
// LibTorch as Python's torch wheels ship it has no Gloo headers: such a build trains in one
// process and says so when asked for more (Debian's LibTorch has them).
#if __has_include(<gloo/algorithm.h>)
#define TB_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/util/error.h"

namespace tb {

namespace {

// A launcher variable as an integer in [minimum, maximum]; `fallback` when unset.
int env_int(const std::function<const char*(const char*)>& get, const char* name, int fallback,
            int minimum, int maximum) {
  const char* text = get(name);
  if (text == nullptr || *text == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < minimum || value > maximum) {
    throw make_error("environment variable " + std::string(name) + "=" + text +
                         " is not a whole number from " + std::to_string(minimum) + " to " +
                         std::to_string(maximum),
                     "launcher", "Start the processes with tunebench-cli launch or torchrun.");
  }
  return static_cast<int>(value);
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// True while `pid` is a live process on this machine (a zombie has ended).
bool process_alive(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

// The first line of an exception's text, without c10's backtrace.
std::string short_reason(const std::exception& error) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
  std::string text = c10_error ? c10_error->what_without_backtrace() : error.what();
  text = text.substr(0, text.find('\n'));
  // Gloo prefixes its source location ("[../pair.cc:589] Read error …"): drop it.
  if (!text.empty() && text.front() == '[') {
    const size_t end = text.find("] ");
    if (end != std::string::npos) text = text.substr(end + 2);
  }
  return text;
}

struct Peer {
  std::string host;  // machine it runs on
  int64_t pid = 0;   // its process id there
};

#ifdef TB_HAVE_GLOO
class GlooGroup;

class GlooPending final : public PendingReduce {
 public:
  GlooPending(GlooGroup& group, c10::intrusive_ptr<c10d::Work> work, torch::Tensor tensor,
              std::string what)
      : group_(group), work_(std::move(work)), tensor_(std::move(tensor)), what_(std::move(what)) {}
  void wait() override;

 private:
  GlooGroup& group_;
  c10::intrusive_ptr<c10d::Work> work_;
  torch::Tensor tensor_;  // kept alive while Gloo writes into it
  std::string what_;
};

class GlooGroup final : public Distributed {
 public:
  GlooGroup(const DistributedEnv& env, const DistributedOptions& options) : env_(env) {
    const std::string address = env.master_addr + ":" + std::to_string(env.master_port);
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0 && !env.agent_serves_store;
    store_options.numWorkers = env.world_size;
    store_options.waitWorkers = false;  // joining is checked below, with a clearer error
    store_options.timeout = options.timeout;
    try {
      auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
      store_ = c10::make_intrusive<c10d::PrefixStore>("tunebench", tcp);
    } catch (const std::exception& error) {
      throw make_error(
          (store_options.isServer
               ? "rank 0 could not serve the rendezvous store on "
               : "rank " + std::to_string(env.rank) + " could not reach the rendezvous store at ") +
              address + " (" + short_reason(error) + ")",
          "distributed start",
          store_options.isServer
              ? "Another program may use that port: choose another MASTER_PORT (launch "
                "--master-port)."
              : "Check MASTER_ADDR/MASTER_PORT and that rank 0 started; ports must be open "
                "between the machines.");
    }
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(
        std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout));
    try {
      if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
        gloo_options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      } else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
        gloo_options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, env.rank, env.world_size,
                                                           gloo_options);
      // Who is who, so a failure can name the rank that is gone.
      store_->set("peer/" + std::to_string(env.rank),
                  to_bytes(host_name() + "\n" + std::to_string(::getpid())));
      for (int rank = 0; rank < env.world_size; ++rank) {
        const std::string text = from_bytes(store_->get("peer/" + std::to_string(rank)));
        const size_t newline = text.find('\n');
        peers_.push_back({text.substr(0, newline), std::stoll(text.substr(newline + 1))});
      }
    } catch (const tb::Error&) {
      throw;
    } catch (const std::exception& error) {
      throw make_error("rank " + std::to_string(env.rank) + " could not join the other " +
                           std::to_string(env.world_size - 1) + " process(es) through " + address +
                           " within " + std::to_string(options.timeout.count()) + " s (" +
                           short_reason(error) + ")",
                       "distributed start",
                       "Start all WORLD_SIZE processes with the same MASTER_ADDR/MASTER_PORT; "
                       "on several machines set GLOO_SOCKET_IFNAME to the network interface.");
    }
  }

  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }

  void broadcast(std::vector<torch::Tensor>& tensors, const std::string& what) override {
    guard(what, [&] {
      for (torch::Tensor& tensor : tensors) {
        std::vector<torch::Tensor> one{tensor.detach()};
        group_->broadcast(one)->wait();
      }
    });
  }

  void all_reduce_sum(torch::Tensor& tensor, const std::string& what) override {
    reduce(tensor, c10d::ReduceOp::SUM, what);
  }

  void all_reduce_max(torch::Tensor& tensor, const std::string& what) override {
    reduce(tensor, c10d::ReduceOp::MAX, what);
  }

  std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor tensor,
                                                      const std::string& what) override {
    c10::intrusive_ptr<c10d::Work> work;
    guard(what, [&] {
      std::vector<torch::Tensor> one{tensor};
      work = group_->allreduce(one);
    });
    return std::make_unique<GlooPending>(*this, std::move(work), std::move(tensor), what);
  }

  std::string share(const std::string& key, const std::string& value) override {
    std::string result;
    guard("sharing " + key, [&] {
      if (env_.rank == 0) {
        store_->set("share/" + key, to_bytes(value));
        result = value;
      } else {
        result = from_bytes(store_->get("share/" + key));
      }
    });
    return result;
  }

  // Runs a collective; a failure becomes a tb::Error naming the rank(s) that are gone.
  template <typename Function>
  void guard(const std::string& what, Function&& function) {
    try {
      function();
    } catch (const std::exception& error) {
      throw lost_peer_error(what, error);
    }
  }

 private:
  static std::vector<uint8_t> to_bytes(const std::string& text) {
    return std::vector<uint8_t>(text.begin(), text.end());
  }
  static std::string from_bytes(const std::vector<uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
  }

  void reduce(torch::Tensor& tensor, c10d::ReduceOp op, const std::string& what) {
    guard(what, [&] {
      std::vector<torch::Tensor> one{tensor};
      c10d::AllreduceOptions options;
      options.reduceOp = op;
      group_->allreduce(one, options)->wait();
    });
  }

  // The socket of a killed peer closes a moment before its process is reaped: look for a
  // dead rank on this machine for up to two seconds.
  Error lost_peer_error(const std::string& what, const std::exception& error) const {
    const std::string me = host_name();
    std::string lost;
    for (int attempt = 0; attempt < 20 && lost.empty(); ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      for (size_t rank = 0; rank < peers_.size(); ++rank) {
        if (static_cast<int>(rank) == env_.rank || peers_[rank].host != me) continue;
        if (!process_alive(peers_[rank].pid)) {
          lost += (lost.empty() ? "" : ", ") + std::string("rank ") + std::to_string(rank) +
                  " (pid " + std::to_string(peers_[rank].pid) + ")";
        }
      }
    }
    const std::string where = "rank " + std::to_string(env_.rank) + ", " + what;
    const std::string reason = short_reason(error);
    const std::string fix =
        "The run stopped; the lost process's own output says why. Resume from the newest "
        "checkpoint with the same number of processes (--resume OUTPUT/checkpoint-N).";
    if (!lost.empty()) {
      return make_error(lost + " ended; the run cannot go on without it (" + reason + ")", where,
                        fix);
    }
    return make_error("lost contact with the other processes (" + reason + ")", where, fix);
  }

  DistributedEnv env_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  std::vector<Peer> peers_;  // by rank
};

void GlooPending::wait() {
  group_.guard(what_, [&] { work_->wait(); });
}

#endif  // TB_HAVE_GLOO

}  // namespace

DistributedEnv parse_distributed_env(const std::function<const char*(const char*)>& get) {
  DistributedEnv env;
  env.world_size = env_int(get, "WORLD_SIZE", 1, 1, 65536);
  env.rank = env_int(get, "RANK", 0, 0, env.world_size - 1);
  env.local_rank = env_int(get, "LOCAL_RANK", env.rank, 0, env.world_size - 1);
  if (!env.active()) return env;
  const char* address = get("MASTER_ADDR");
  if (address == nullptr || *address == '\0') {
    throw make_error(
        "WORLD_SIZE is " + std::to_string(env.world_size) + " but MASTER_ADDR is not set",
        "launcher", "Set MASTER_ADDR to the host of rank 0 (or use tunebench-cli launch).");
  }
  env.master_addr = address;
  if (get("MASTER_PORT") == nullptr) {
    throw make_error(
        "WORLD_SIZE is " + std::to_string(env.world_size) + " but MASTER_PORT is not set",
        "launcher", "Set MASTER_PORT to a free TCP port on rank 0's host.");
  }
  env.master_port = env_int(get, "MASTER_PORT", 29500, 1, 65535);
  const char* agent_store = get("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_serves_store = agent_store != nullptr && std::string(agent_store) == "True";
  return env;
}

std::vector<std::pair<std::string, std::string>> local_rank_environment(int rank, int world_size,
                                                                        int port, int threads) {
  return {{"RANK", std::to_string(rank)},
          {"LOCAL_RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world_size)},
          {"LOCAL_WORLD_SIZE", std::to_string(world_size)},
          {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)},
          {"TB_THREADS", std::to_string(threads)}};
}

int find_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw make_error("cannot open a socket", "launcher", "Pass a port explicitly.");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw make_error("cannot find a free TCP port", "launcher", "Pass a port explicitly.");
  return ntohs(address.sin_port);
}

DistributedEnv read_distributed_env() {
  return parse_distributed_env([](const char* name) { return std::getenv(name); });
}

std::unique_ptr<Distributed> Distributed::connect(const DistributedEnv& env,
                                                  const DistributedOptions& options) {
#ifdef TB_HAVE_GLOO
  return std::make_unique<GlooGroup>(env, options);
#else
  (void)options;
  throw make_error(
      "this build's LibTorch has no Gloo (WORLD_SIZE is " + std::to_string(env.world_size) + ")",
      "launcher", "Train in one process, or build tunebench against a LibTorch with Gloo.");
#endif
}

}  // namespace tb
