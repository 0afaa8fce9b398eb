// Schedules against transformers' formulas, worked out by hand at chosen steps.
#include <QtTest>

#include <cmath>

#include "core/train/lr_schedule.h"
#include "core/util/error.h"

class TestLrSchedule : public QObject {
  Q_OBJECT
 private slots:
  void linearWithWarmup() {
    // get_linear_schedule_with_warmup(warmup=10, total=110)
    const tb::LrSchedule s("linear", 10, 110);
    QCOMPARE(s.factor(0), 0.0);
    QCOMPARE(s.factor(5), 0.5);
    QCOMPARE(s.factor(10), 1.0);    // (110 - 10) / 100
    QCOMPARE(s.factor(60), 0.5);    // (110 - 60) / 100
    QCOMPARE(s.factor(109), 0.01);  // (110 - 109) / 100
    QCOMPARE(s.factor(110), 0.0);
    QCOMPARE(s.factor(200), 0.0);  // never negative
  }

  void cosineWithWarmup() {
    const tb::LrSchedule s("cosine", 4, 104);
    QCOMPARE(s.factor(2), 0.5);
    QCOMPARE(s.factor(4), 1.0);                     // progress 0
    QVERIFY(std::abs(s.factor(54) - 0.5) < 1e-15);  // progress 0.5: cos(π/2)
    QVERIFY(std::abs(s.factor(29) - 0.5 * (1 + std::cos(M_PI * 0.25))) < 1e-15);
    QVERIFY(std::abs(s.factor(104)) < 1e-15);  // progress 1: cos(π)
  }

  void constantShapes() {
    const tb::LrSchedule constant("constant", 10, 100);
    QCOMPARE(constant.factor(0), 1.0);  // no warmup even when warmup steps are given
    const tb::LrSchedule warm("constant_with_warmup", 4, 100);
    QCOMPARE(warm.factor(1), 0.25);
    QCOMPARE(warm.factor(4), 1.0);
    QCOMPARE(warm.factor(99), 1.0);
    const tb::LrSchedule no_warmup("linear", 0, 10);
    QCOMPARE(no_warmup.factor(0), 1.0);
  }

  void unknownTypeIsNamed() {
    QVERIFY_THROWS_EXCEPTION(tb::Error, tb::LrSchedule("cosine_with_restarts_x", 0, 10));
  }

  void stepPlanMatchesTheTrainer() {
    // Recipe B: 500 examples, batch 1, accumulation 8, 0.5 epochs.
    tb::StepPlan plan = tb::plan_steps(500, 8, 0.5, -1, 0, 0.0);
    QCOMPARE(plan.steps_per_epoch, int64_t(62));  // 500 // 8
    QCOMPARE(plan.total_steps, int64_t(31));      // ceil(0.5 * 62)
    // Recipe A: 25,000 examples, batch 8, 3 epochs, warmup ratio 0.1.
    plan = tb::plan_steps(3125, 1, 3.0, -1, 0, 0.1);
    QCOMPARE(plan.total_steps, int64_t(9375));
    QCOMPARE(plan.warmup_steps, int64_t(938));  // ceil(937.5)
    plan = tb::plan_steps(3, 8, 1.0, -1, 0, 0.0);
    QCOMPARE(plan.steps_per_epoch, int64_t(1));  // fewer batches than accumulation
    plan = tb::plan_steps(100, 1, 3.0, 7, 2, 0.5);
    QCOMPARE(plan.total_steps, int64_t(7));   // max_steps wins
    QCOMPARE(plan.warmup_steps, int64_t(2));  // warmup_steps wins
  }
};

QTEST_APPLESS_MAIN(TestLrSchedule)
#include "test_lr_schedule.moc"
