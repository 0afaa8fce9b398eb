// `tunebench-cli launch --nproc N CONFIG`: a data-parallel run on this machine. Starts N
// `tunebench-cli train` processes with torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT), forwards Ctrl-C to them, and when one dies names it and makes
// sure the others end too.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/cli/command.h"
#include "core/train/distributed.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

namespace tb::cli {

namespace {

volatile sig_atomic_t g_interrupts = 0;  // Ctrl-C / SIGTERM received, not yet forwarded

void on_signal(int) { g_interrupts = g_interrupts + 1; }

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    return "was killed by signal " + std::to_string(signal_number) + " (" +
           ::strsignal(signal_number) + ")";
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

struct Rank {
  pid_t pid = 0;      // its process
  bool done = false;  // reaped
  int status = 0;     // waitpid status once done
};

}  // namespace

Command add_launch_command(CLI::App& app) {
  CLI::App* launch = app.add_subcommand(
      "launch", "Train one config with N processes on this machine (data parallel)");
  struct Args {
    int nproc = 2;
    int master_port = 0;
    int threads = 0;
    int grace_seconds = 30;
    std::string config;
    std::vector<std::string> overrides;
    std::string resume;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  launch->add_option("--nproc", a->nproc, "Processes (ranks) to start")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  launch
      ->add_option("--master-port", a->master_port,
                   "TCP port of rank 0's rendezvous store (0 = a free one)")
      ->check(CLI::Range(0, 65535));
  launch
      ->add_option("--threads", a->threads,
                   "Threads per process (0 = the cores divided by --nproc)")
      ->check(CLI::Range(0, 4096));
  launch
      ->add_option("--grace", a->grace_seconds,
                   "Seconds the other ranks get to stop by themselves after one died")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  launch->add_option("config", a->config, "YAML file or preset name")->required();
  launch->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");
  launch->add_option("--resume", a->resume,
                     "Continue from a checkpoint folder (written with the same --nproc)");
  launch->add_flag("--json", a->json, "Rank 0 prints one JSON event per line");
  launch->footer(
      "Each process trains on its share of every batch (per_device_train_batch_size rows), so "
      "a step sees nproc × that many rows; gradients are averaged with c10d/Gloo.\n"
      "Several machines: start `tunebench-cli train CONFIG` on each with RANK, WORLD_SIZE, "
      "LOCAL_RANK, MASTER_ADDR and MASTER_PORT set, e.g. torchrun --nnodes 2 --nproc_per_node 1 "
      "--node_rank K --master_addr HOST --master_port 29500 --no_python tunebench-cli train "
      "CONFIG (see the README).");

  return {launch, [a]() -> int {
            char self[4096] = {};
            const ssize_t length = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
            if (length <= 0) {
              throw make_error("cannot find this program's own path", "/proc/self/exe");
            }
            const int port = a->master_port > 0 ? a->master_port : find_free_port();
            const int threads =
                a->threads > 0 ? a->threads : std::max(1, usable_cores() / a->nproc);
            std::vector<std::string> arguments = {self, "train", a->config};
            for (const std::string& item : a->overrides) {
              arguments.insert(arguments.end(), {"--set", item});
            }
            if (!a->resume.empty()) arguments.insert(arguments.end(), {"--resume", a->resume});
            if (a->json) arguments.push_back("--json");
            std::cerr << "launch: " << a->nproc << " processes, rendezvous 127.0.0.1:" << port
                      << ", " << threads << " thread(s) each\n";

            struct sigaction action {};
            action.sa_handler = on_signal;
            sigemptyset(&action.sa_mask);
            ::sigaction(SIGINT, &action, nullptr);
            ::sigaction(SIGTERM, &action, nullptr);

            std::vector<Rank> ranks(static_cast<size_t>(a->nproc));
            for (int rank = 0; rank < a->nproc; ++rank) {
              const pid_t pid = ::fork();
              if (pid < 0) throw make_error("cannot start a process", "launch");
              if (pid == 0) {
                // Its own process group: a terminal's Ctrl-C reaches only the launcher, which
                // forwards it once to every rank (a second one would abort them).
                ::setpgid(0, 0);
                ::signal(SIGINT, SIG_DFL);
                ::signal(SIGTERM, SIG_DFL);
                for (const auto& [name, value] :
                     local_rank_environment(rank, a->nproc, port, threads)) {
                  ::setenv(name.c_str(), value.c_str(), 1);
                }
                std::vector<char*> argv;
                for (std::string& argument : arguments) argv.push_back(argument.data());
                argv.push_back(nullptr);
                ::execv(self, argv.data());
                std::_Exit(127);
              }
              ranks[static_cast<size_t>(rank)].pid = pid;
            }

            using Clock = std::chrono::steady_clock;
            int forwarded = 0;
            int first_failed = -1;
            Clock::time_point deadline{};
            bool terminated = false;
            auto alive = [&] {
              int count = 0;
              for (const Rank& rank : ranks) count += rank.done ? 0 : 1;
              return count;
            };
            while (alive() > 0) {
              while (forwarded < g_interrupts) {
                ++forwarded;
                for (const Rank& rank : ranks) {
                  if (!rank.done) ::kill(rank.pid, SIGINT);
                }
              }
              int status = 0;
              const pid_t pid = ::waitpid(-1, &status, WNOHANG);
              if (pid <= 0) {
                if (first_failed >= 0 && Clock::now() > deadline) {
                  // The others did not notice the loss in time: end them.
                  for (const Rank& rank : ranks) {
                    if (!rank.done) ::kill(rank.pid, terminated ? SIGKILL : SIGTERM);
                  }
                  deadline = Clock::now() + std::chrono::seconds(5);
                  terminated = true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
              }
              for (size_t rank = 0; rank < ranks.size(); ++rank) {
                if (ranks[rank].pid != pid) continue;
                ranks[rank].done = true;
                ranks[rank].status = status;
                const bool clean =
                    WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 130);
                if (!clean && first_failed < 0) {
                  first_failed = static_cast<int>(rank);
                  deadline = Clock::now() + std::chrono::seconds(a->grace_seconds);
                  std::cerr << "launch: rank " << rank << " (pid " << pid << ") "
                            << describe_exit(status) << "; the other ranks stop\n";
                }
              }
            }
            if (first_failed >= 0) {
              const Rank& failed = ranks[static_cast<size_t>(first_failed)];
              std::cerr << "launch: the run failed: rank " << first_failed << " "
                        << describe_exit(failed.status)
                        << ". Rank 0's output above and `tunebench-cli runs show` say more; "
                           "resume with the same --nproc and --resume OUTPUT/checkpoint-N.\n";
              return kExitError;
            }
            for (const Rank& rank : ranks) {
              if (WEXITSTATUS(rank.status) == 130) return 130;  // stopped on request
            }
            return kExitOk;
          }};
}

}  // namespace tb::cli
