#pragma once
// Data-parallel training across processes with LibTorch's own c10d: a TCPStore served by rank
// 0 and a Gloo process group (CPU tensors). The launcher contract is torchrun's (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so torchrun, Slurm wrappers and
// `tunebench-cli launch` all start the same processes. c10d stays inside distributed.cpp.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tb {

/// This process's place in a multi-process run, as a launcher describes it.
struct DistributedEnv {
  int rank = 0;                           // RANK: this process among all (0 = the main one)
  int world_size = 1;                     // WORLD_SIZE: processes in the run (1 = alone)
  int local_rank = 0;                     // LOCAL_RANK: among the processes on this machine
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR: host that serves the store
  int master_port = 29500;                // MASTER_PORT: its TCP port
  bool agent_serves_store = false;        // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's
                                          // agent serves the store, rank 0 only connects
  /// True when there is more than one process.
  bool active() const { return world_size > 1; }
};

/// Reads the launcher variables through `get` (getenv in production); unset means a single
/// process. tb::Error names the variable and its bad value.
DistributedEnv parse_distributed_env(const std::function<const char*(const char*)>& get);

/// parse_distributed_env over the process environment.
DistributedEnv read_distributed_env();

/// The variables a local launcher gives rank `rank` of `world_size` (torchrun's names, plus
/// TB_THREADS): the store on 127.0.0.1:`port`, `threads` intra-op threads.
std::vector<std::pair<std::string, std::string>> local_rank_environment(int rank, int world_size,
                                                                        int port, int threads);

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick); tb::Error when
/// none can be had.
int find_free_port();

/// How to connect.
struct DistributedOptions {
  std::chrono::seconds timeout{1800};  // a collective or store wait longer than this fails
};

/// A collective still running in the background (Gloo's threads).
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  /// Blocks until done; tb::Error naming the lost rank when a peer is gone.
  virtual void wait() = 0;
};

/// The connected group of processes of one run.
class Distributed {
 public:
  virtual ~Distributed() = default;

  /// Connects to the store and the other ranks (blocks until all have joined or the timeout
  /// passes); tb::Error with the address and what to check when that fails.
  static std::unique_ptr<Distributed> connect(const DistributedEnv& env,
                                              const DistributedOptions& options = {});

  /// This process's rank.
  virtual int rank() const = 0;
  /// Processes in the run.
  virtual int world_size() const = 0;
  /// True on rank 0, the only one that writes the run history, checkpoints and results.
  bool is_main() const { return rank() == 0; }

  /// Overwrites `tensors` on every rank with rank 0's values. `what` names the data in errors.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, const std::string& what) = 0;
  /// Sums `tensor` over all ranks, in place.
  virtual void all_reduce_sum(torch::Tensor& tensor, const std::string& what) = 0;
  /// Maximum of `tensor` over all ranks, in place.
  virtual void all_reduce_max(torch::Tensor& tensor, const std::string& what) = 0;
  /// Starts summing `tensor` over all ranks in the background (it must stay alive until
  /// wait() returns).
  virtual std::unique_ptr<PendingReduce> all_reduce_sum_async(torch::Tensor tensor,
                                                              const std::string& what) = 0;

  /// Rank 0 publishes `value` under `key`; the other ranks wait for it and get it.
  virtual std::string share(const std::string& key, const std::string& value) = 0;
};

}  // namespace tb
