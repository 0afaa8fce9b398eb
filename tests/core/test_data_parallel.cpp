// The pieces of data-parallel training, in one process: launcher variables, how a batch is
// shared among ranks, and gradient averaging over two ranks (two threads, each with its own
// Gloo connection over 127.0.0.1) against the mean computed by hand.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QtTest>

#include <map>
#include <thread>

#include "core/train/distributed.h"
#include "core/train/gradient_sync.h"
#include "core/train/shard_source.h"
#include "core/util/error.h"

namespace {

using Variables = std::map<std::string, std::string>;

tb::DistributedEnv parse(const Variables& variables) {
  return tb::parse_distributed_env([&](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

QString error_of(const Variables& variables) {
  try {
    parse(variables);
  } catch (const tb::Error& error) {
    return error.what();
  }
  return {};
}

}  // namespace

class TestDataParallel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void launcherVariables() {
    const tb::DistributedEnv alone = parse({});
    QVERIFY(!alone.active());
    const tb::DistributedEnv env = parse({{"WORLD_SIZE", "4"},
                                          {"RANK", "3"},
                                          {"LOCAL_RANK", "1"},
                                          {"MASTER_ADDR", "node0"},
                                          {"MASTER_PORT", "29400"},
                                          {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
    QVERIFY(env.active());
    QCOMPARE(env.rank, 3);
    QCOMPARE(env.world_size, 4);
    QCOMPARE(env.local_rank, 1);
    QCOMPARE(env.master_addr, std::string("node0"));
    QCOMPARE(env.master_port, 29400);
    QVERIFY(env.agent_serves_store);
    QVERIFY(error_of({{"WORLD_SIZE", "two"}}).contains("WORLD_SIZE=two is not a whole number"));
    QVERIFY(error_of({{"WORLD_SIZE", "2"}, {"RANK", "-1"}}).contains("RANK=-1"));
    QVERIFY(
        error_of({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).contains("MASTER_PORT is not set"));
    QVERIFY(error_of({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .contains("MASTER_PORT=70000"));
  }

  void sharesCoverTheBatchWithoutOverlap() {
    for (int world = 1; world <= 5; ++world) {
      for (int64_t rows = 0; rows <= 13; ++rows) {
        int64_t next = 0;
        for (int rank = 0; rank < world; ++rank) {
          const auto [begin, end] = tb::shard_rows(rows, rank, world);
          QCOMPARE(begin, next);
          QVERIFY(end - begin == rows / world || end - begin == rows / world + 1);
          next = end;
        }
        QCOMPARE(next, rows);
      }
    }
  }

  void aShareDropsPaddingItDoesNotUse() {
    // Right-padded global batch of 4 rows; rows 0-1 are short, rows 2-3 use all 6 columns.
    tb::ModelBatch batch;
    batch.input_ids = torch::arange(24, torch::kInt64).view({4, 6});
    batch.attention_mask =
        torch::tensor({1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
                      torch::kInt64)
            .view({4, 6});
    batch.labels = batch.input_ids.masked_fill(batch.attention_mask.eq(0), -100);
    const tb::ModelBatch first = tb::shard_batch(batch, 0, 2);
    QCOMPARE(first.input_ids.sizes().vec(), (std::vector<int64_t>{2, 3}));
    QVERIFY(torch::equal(first.input_ids, batch.input_ids.slice(0, 0, 2).slice(1, 0, 3)));
    QVERIFY(torch::equal(first.labels, batch.labels.slice(0, 0, 2).slice(1, 0, 3)));
    const tb::ModelBatch second = tb::shard_batch(batch, 1, 2);
    QVERIFY(torch::equal(second.input_ids, batch.input_ids.slice(0, 2, 4)));
    // A label in a padded column (never produced by our collators) keeps the columns.
    tb::ModelBatch odd = batch;
    odd.labels = batch.input_ids.clone();
    QCOMPARE(tb::shard_batch(odd, 0, 2).input_ids.size(1), 6);
    // More ranks than rows: the last share is empty, not an error.
    QCOMPARE(tb::shard_batch(batch, 4, 5).input_ids.size(0), 0);
  }

  void gradientsAreAveragedInBuckets() {
    const int port = tb::find_free_port();
    // Same shapes on both ranks, different gradients; the tiny bucket limit forces several
    // buckets so their launch order matters.
    const std::vector<std::vector<int64_t>> shapes = {{3, 4}, {5}, {2, 2, 2}, {7}};
    std::vector<torch::Tensor> expected;
    std::vector<std::vector<torch::Tensor>> got(2);
    std::vector<QString> errors(2);
    std::vector<int64_t> buckets(2);
    std::vector<std::vector<torch::Tensor>> inputs(2);
    for (int rank = 0; rank < 2; ++rank) {
      torch::manual_seed(100 + rank);
      for (const auto& shape : shapes) inputs[rank].push_back(torch::randn(shape));
    }
    for (size_t index = 0; index < shapes.size(); ++index) {
      // d/dw sum(w * x) + accumulated earlier micro-batch 0.5·x = 1.5·x, averaged over ranks.
      expected.push_back((inputs[0][index] * 1.5 + inputs[1][index] * 1.5) / 2);
    }
    auto rank_main = [&](int rank) {
      try {
        tb::DistributedEnv env;
        env.rank = rank;
        env.world_size = 2;
        env.master_port = port;
        tb::DistributedOptions options;
        options.timeout = std::chrono::seconds(30);
        auto group = tb::Distributed::connect(env, options);
        std::vector<torch::Tensor> weights;
        for (const auto& shape : shapes) {
          // Different on each rank until the broadcast makes them rank 0's.
          weights.push_back(torch::full(shape, 1.0 + rank).requires_grad_(true));
        }
        group->broadcast(weights, "test broadcast");
        for (const torch::Tensor& weight : weights) {
          if (!torch::equal(weight, torch::ones_like(weight))) throw std::runtime_error("bcast");
        }
        tb::GradientSyncOptions sync_options;
        sync_options.bucket_bytes = 40;
        tb::GradientSync sync(*group, weights, sync_options);
        buckets[rank] = sync.bucket_count();
        // Micro-batch 1 (not synchronised), then micro-batch 2 with the hooks armed.
        torch::Tensor loss = torch::zeros({});
        for (size_t i = 0; i < weights.size(); ++i) {
          loss = loss + (weights[i] * inputs[rank][i] * 0.5).sum();
        }
        loss.backward();
        sync.arm();
        loss = torch::zeros({});
        for (size_t i = 0; i < weights.size(); ++i) {
          loss = loss + (weights[i] * inputs[rank][i]).sum();
        }
        loss.backward();
        sync.finish("test step");
        for (const torch::Tensor& weight : weights) got[rank].push_back(weight.grad().clone());
        // A rank with nothing to contribute still joins: zeros from rank 1, rank 0's halves.
        for (torch::Tensor& weight : weights) weight.mutable_grad() = torch::Tensor();
        if (rank == 0) {
          for (size_t i = 0; i < weights.size(); ++i) {
            weights[i].mutable_grad() = torch::ones_like(weights[i]);
          }
        }
        sync.arm();
        sync.finish("test step 2");
        for (const torch::Tensor& weight : weights) {
          if (!torch::allclose(weight.grad(), torch::full_like(weight, 0.5))) {
            throw std::runtime_error("rank with no gradients was not averaged in");
          }
        }
      } catch (const std::exception& error) {
        errors[rank] = error.what();
      }
    };
    std::thread rank0(rank_main, 0), rank1(rank_main, 1);
    rank0.join();
    rank1.join();
    QVERIFY2(errors[0].isEmpty(), qPrintable(errors[0]));
    QVERIFY2(errors[1].isEmpty(), qPrintable(errors[1]));
    QVERIFY(buckets[0] >= 3);
    for (int rank = 0; rank < 2; ++rank) {
      for (size_t index = 0; index < shapes.size(); ++index) {
        QVERIFY2(torch::allclose(got[rank][index], expected[index], 1e-6, 1e-6),
                 qPrintable(QString("rank %1 tensor %2").arg(rank).arg(index)));
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestDataParallel)
#include "test_data_parallel.moc"
