// A whole training run as a library call (nabla/train/run.h) and its pieces: the run
// directory's name and lock (run_dir.h), metrics.csv continued on resume (metrics_log.h),
// and run_training on a tiny made-up data set, with evaluations beside training and without.
#include "nabla/train/run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/core/safetensors.h"
#include "nabla/train/metrics_log.h"
#include "nabla/train/run_dir.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The rows of a metrics.csv without their last column (the seconds, which differ from run
// to run).
std::vector<std::string> rows_without_seconds(const fs::path& csv) {
  std::vector<std::string> rows;
  for (const std::string& line : lines(read_file(csv))) {
    rows.push_back(line.substr(0, line.rfind(',')));
  }
  return rows;
}

class RunDir : public testing_util::TempDirTest {};

// ---- run_dir.h ----------------------------------------------------------------------------

TEST_F(RunDir, NewDirectoriesAreNamedByTheTimeWithSuffixesWhenTaken) {
  const std::time_t when = 1700000000;
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&when));
  const fs::path parent = dir_ / "runs";
  EXPECT_EQ(make_run_dir(parent, when), parent / stamp);
  EXPECT_EQ(make_run_dir(parent, when), parent / (std::string(stamp) + "-2"));
  EXPECT_EQ(make_run_dir(parent, when), parent / (std::string(stamp) + "-3"));
  EXPECT_TRUE(fs::is_directory(parent / (std::string(stamp) + "-3")));
}

TEST_F(RunDir, DirectoryHoldingFilesIsTakenUnlessOverwriteOrResumedThere) {
  const fs::path out = dir_ / "out";
  fs::create_directories(out);
  write_file(out / ".lock", "");
  EXPECT_NO_THROW(check_out_dir(out, "", false));  // a lock alone is no run
  write_file(out / "model.safetensors", "x");
  try {
    check_out_dir(out, "", false);
    ADD_FAILURE() << "not refused";
  } catch (const RunDirTaken& e) {
    EXPECT_EQ(e.dir(), out);
    EXPECT_EQ(e.file(), "model.safetensors");
    EXPECT_THAT(e.what(), HasSubstr("already holds model.safetensors"));
  }
  EXPECT_NO_THROW(check_out_dir(out, "", true));
  EXPECT_NO_THROW(check_out_dir(out, (out / "model.safetensors").string(), false));
  EXPECT_THROW(check_out_dir(out, (dir_ / "model.safetensors").string(), false), RunDirTaken);
}

TEST_F(RunDir, LockRefusesASecondRunUntilTheFirstIsDone) {
  {
    RunLock first(dir_);
    try {
      RunLock second(dir_);
      ADD_FAILURE() << "not refused";
    } catch (const RunDirLocked& e) {
      EXPECT_EQ(e.dir(), dir_);
      EXPECT_EQ(e.lock_file(), dir_ / ".lock");
      EXPECT_THAT(e.what(), HasSubstr("is in use by another run"));
    }
  }
  EXPECT_NO_THROW(RunLock again(dir_));
}

// ---- metrics_log.h ------------------------------------------------------------------------

TEST_F(RunDir, ResumedLogKeepsTheRowsUpToTheCheckpointAndCutsTheRest) {
  const fs::path csv = dir_ / "metrics.csv";
  const std::string kept =
      "iteration,loss,train_acc,test_acc,seconds\n"
      "1,2.3,0.1,0.2,0.5\n"
      "2,2.1,,,\n"
      "a note of someone's,,,,\n"
      "3,1.9,,,\n";
  write_file(csv, kept + "4,1.7,,,\n5,1.5,0.6,0.7,2.5\n6,1.4,,");  // (the last line cut short)
  Metrics m;
  MetricsLog log = MetricsLog::resume(csv, 3, m);
  EXPECT_EQ(read_file(csv), kept);
  EXPECT_THAT(m.iters, ElementsAre(1, 2, 3));
  EXPECT_THAT(m.losses, ElementsAre(2.3, 2.1, 1.9));
  EXPECT_THAT(m.eval_iters, ElementsAre(1));
  EXPECT_THAT(m.test_acc, ElementsAre(0.2));
  log.write_loss(4, 1.75);
  log.write_evaluation(Evaluation{5, 0.625, 0.75, 0}, 1.5, 3.25);
  log.close();
  EXPECT_EQ(read_file(csv), kept + "4,1.75,,,\n5,1.5,0.625,0.75,3.25\n");
}

TEST_F(RunDir, LogWithoutAHeaderOrAFileStartsAnew) {
  const fs::path csv = dir_ / "metrics.csv";
  Metrics m;
  MetricsLog::resume(csv, 3, m).close();  // no file
  EXPECT_EQ(read_file(csv), MetricsLog::kHeader);
  write_file(csv, "iteration,loss");  // a header cut short
  MetricsLog::resume(csv, 3, m).close();
  EXPECT_EQ(read_file(csv), MetricsLog::kHeader);
  EXPECT_TRUE(m.iters.empty());
}

// ---- run.h --------------------------------------------------------------------------------

// 60 training and 30 test rows of 4 features, 3 classes: class c is the row whose feature c
// stands out.
DenseData tiny_data() {
  DenseData d;
  d.classes = 3;
  Rng rng(7);
  auto make = [&](std::int64_t n, Tensor& x, std::vector<std::int64_t>& labels) {
    std::vector<double> values;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t c = i % 3;
      labels.push_back(c);
      for (std::int64_t f = 0; f < 4; ++f)
        values.push_back((f == c ? 1.0 : 0.0) + 0.2 * rng.uniform());
    }
    x = Tensor::from({n, 4}, values, DType::f32);
  };
  make(60, d.train_x, d.train_labels);
  make(30, d.test_x, d.test_labels);
  return d;
}

// 20 iterations of batches of 10: evaluations after iterations 1, 7, 13 and 19.
TrainConfig tiny_config(std::int64_t iters) {
  TrainConfig c;
  c.model = model_preset("two-layer-net", {4}, 3);
  c.model.hidden = {8};
  c.batch = 10;
  c.iters = iters;
  c.optimizer = "adam";
  c.lr = 0.05;
  return c;
}

// Everything a run tells, as text.
class Recorder : public RunObserver {
 public:
  void started(const fs::path& dir) override { events.push_back("started " + dir.string()); }
  void evaluated(const Evaluation& e, bool is_final) override {
    events.push_back((is_final ? "final " : "evaluated ") + std::to_string(e.iteration));
  }
  void step_done(std::int64_t iteration, double loss, double iters_per_second) override {
    steps.push_back(iteration);
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_GT(iters_per_second, 0);
  }
  void finished(const RunResult& r) override {
    events.push_back("finished " + std::to_string(r.final_eval.iteration));
  }

  std::vector<std::string> events;
  std::vector<std::int64_t> steps;
};

class RunTraining : public testing_util::TempDirTest {
 protected:
  // A run of tiny_config(20) into dir_/name.
  RunResult run(const std::string& name, bool background, Recorder& recorder) {
    Trainer trainer(tiny_config(20), tiny_data());
    trainer.set_threads(background ? 2 : 1);
    RunOptions options;
    options.dir = dir_ / name;
    options.background_evaluation = background;
    return run_training(trainer, options, recorder);
  }
};

TEST_F(RunTraining, WritesTheRunDirectoryAndTellsTheEvaluationsInOrder) {
  for (bool background : {false, true}) {
    const std::string name = background ? "beside" : "in_turn";
    Recorder recorder;
    const RunResult r = run(name, background, recorder);
    const fs::path dir = dir_ / name;
    EXPECT_EQ(r.dir, dir);
    EXPECT_EQ(r.model, dir / "model.safetensors");
    EXPECT_EQ(r.curves, dir / "curves.svg");
    EXPECT_THAT(recorder.events,
                ElementsAre("started " + dir.string(), "evaluated 1", "evaluated 7", "evaluated 13",
                            "evaluated 19", "final 20", "finished 20"));
    std::vector<std::int64_t> all;
    for (std::int64_t i = 1; i <= 20; ++i) all.push_back(i);
    EXPECT_EQ(recorder.steps, all);
    EXPECT_EQ(r.final_eval.iteration, 20);
    EXPECT_GT(r.final_eval.test_acc, 0.9);
    EXPECT_GE(r.seconds, r.eval_seconds);
    EXPECT_EQ(load_safetensors(r.model.string()).metadata.at("iteration"), "20");
    EXPECT_THAT(read_file(r.curves), StartsWith("<?xml"));
    EXPECT_TRUE(fs::exists(dir / ".lock"));
    // A row per iteration, and the final evaluation's.
    const std::vector<std::string> rows = lines(read_file(dir / "metrics.csv"));
    ASSERT_EQ(rows.size(), 22u);
    EXPECT_EQ(rows[0] + "\n", MetricsLog::kHeader);
    EXPECT_THAT(rows[1], StartsWith("1,"));
    EXPECT_THAT(rows[2], ::testing::MatchesRegex("2,[0-9.e-]+,,,"));
    EXPECT_THAT(rows[20], StartsWith("20,"));
    EXPECT_THAT(rows[21], StartsWith("20,"));
    for (int i : {1, 7, 13, 19, 21}) {
      EXPECT_THAT(rows[i], ::testing::MatchesRegex("[0-9]+(,[0-9.e-]+){4}")) << rows[i];
    }
  }
  // Evaluations beside training change no number, and no row's place.
  EXPECT_EQ(rows_without_seconds(dir_ / "beside" / "metrics.csv"),
            rows_without_seconds(dir_ / "in_turn" / "metrics.csv"));
}

TEST_F(RunTraining, ResumedRunContinuesItsMetrics) {
  Recorder whole_recorder;
  run("whole", false, whole_recorder);
  {
    Trainer first(tiny_config(12), tiny_data());
    RunOptions options;
    options.dir = dir_ / "parts";
    Recorder recorder;
    run_training(first, options, recorder);
  }
  const std::vector<std::string> first_rows = rows_without_seconds(dir_ / "parts/metrics.csv");
  const std::string checkpoint = (dir_ / "parts/model.safetensors").string();
  Trainer second = Trainer::resume(checkpoint, tiny_data(), 20);
  RunOptions options;
  options.dir = dir_ / "parts";
  options.resumed_from = checkpoint;
  Recorder recorder;
  const RunResult r = run_training(second, options, recorder);
  EXPECT_THAT(recorder.events, ElementsAre("started " + options.dir.string(), "evaluated 13",
                                           "evaluated 19", "final 20", "finished 20"));
  // The first run's rows (its final evaluation's too), then the uninterrupted run's after
  // iteration 12: the same numbers.
  std::vector<std::string> expected = first_rows;
  const std::vector<std::string> whole = rows_without_seconds(dir_ / "whole/metrics.csv");
  expected.insert(expected.end(), whole.begin() + 13, whole.end());
  EXPECT_EQ(rows_without_seconds(dir_ / "parts/metrics.csv"), expected);
  EXPECT_EQ(r.final_eval.test_acc,
            Trainer::resume((dir_ / "whole/model.safetensors").string(), tiny_data())
                .evaluate()
                .test_acc);
}

TEST_F(RunTraining, DirectoryOfAnotherRunIsRefusedUnlessOverwrite) {
  Recorder recorder;
  run("run", false, recorder);
  const std::string before = read_file(dir_ / "run/metrics.csv");
  Trainer trainer(tiny_config(6), tiny_data());
  RunOptions options;
  options.dir = dir_ / "run";
  EXPECT_THROW(run_training(trainer, options, recorder), RunDirTaken);
  EXPECT_EQ(read_file(dir_ / "run/metrics.csv"), before);
  {
    RunLock held(dir_ / "run");  // a run in progress there
    options.overwrite = true;
    EXPECT_THROW(run_training(trainer, options, recorder), RunDirLocked);
  }
  const RunResult r = run_training(trainer, options, recorder);
  EXPECT_EQ(r.final_eval.iteration, 6);
  EXPECT_EQ(lines(read_file(dir_ / "run/metrics.csv")).size(), 8u);
}

// ---- validation, best model, early stopping ------------------------------------------------

TEST(EarlyStopping, StopsAfterPatienceEvaluationsWithoutABetterMetric) {
  // a constructed curve: best 0.6 at the second evaluation, then 0.55 and 0.58 (two
  // without a better one) -> stop at the fourth
  EarlyStopping stop(2);
  const std::vector<double> curve = {0.5, 0.6, 0.55, 0.58, 0.7};
  std::vector<bool> said;
  for (double v : curve) said.push_back(stop.update(v));
  EXPECT_EQ(said, (std::vector<bool>{false, false, false, true, false}));
  // an equal value is not better; a better one starts the count again
  EarlyStopping again(3);
  for (double v : {0.5, 0.5, 0.5}) EXPECT_FALSE(again.update(v));
  EXPECT_TRUE(again.update(0.5));
  EarlyStopping off(0);
  for (double v : {0.9, 0.1, 0.1, 0.1, 0.1}) EXPECT_FALSE(off.update(v));
}

TEST(HoldOut, HeldRowsAreASeededDisjointShare) {
  const auto [held, kept] = HoldOut{0.25, 7}.split(20);
  EXPECT_EQ(held.size(), 5u);
  EXPECT_EQ(kept.size(), 15u);
  std::vector<std::int64_t> all(held);
  all.insert(all.end(), kept.begin(), kept.end());
  std::sort(all.begin(), all.end());
  for (std::int64_t i = 0; i < 20; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(std::is_sorted(held.begin(), held.end()));
  EXPECT_EQ(HoldOut({0.25, 7}).split(20).first, held);  // the same seed, the same rows
  EXPECT_NE(HoldOut({0.25, 8}).split(20).first, held);
  EXPECT_EQ(HoldOut({0.01, 7}).split(20).first.size(), 1u);  // at least one
  EXPECT_TRUE(HoldOut{}.split(20).first.empty());
  EXPECT_THAT(testing_util::error_of<ValueError>([] { HoldOut{0.99, 1}.split(20); }),
              HasSubstr("a validation fraction of 0.99"));
  EXPECT_THROW(HoldOut({1.0, 1}).split(20), ValueError);
}

TEST_F(RunTraining, ValidationSplitKeepsTheBestModelAndStopsEarly) {
  TrainConfig config = tiny_config(60);
  config.validation = 0.2;
  auto data = dense_training_data(tiny_data(), HoldOut{config.validation, config.seed});
  const std::int64_t train_rows = data->size(Split::train);
  EXPECT_EQ(data->size(Split::validation) + train_rows, tiny_data().train_labels.size());
  Trainer trainer(config, data);
  RunOptions options;
  options.dir = dir_ / "v";
  options.early_stop = 2;
  Recorder recorder;
  const RunResult r = run_training(trainer, options, recorder);
  const std::vector<std::string> rows = lines(read_file(dir_ / "v/metrics.csv"));
  EXPECT_EQ(rows[0], "iteration,loss,train_acc,validation_acc,test_acc,seconds");
  ASSERT_TRUE(r.best_eval.has_value());
  EXPECT_EQ(r.best_model, dir_ / "v/best.safetensors");
  // best.safetensors is the checkpoint of the best validation evaluation
  EXPECT_EQ(load_safetensors(r.best_model.string()).metadata.at("iteration"),
            std::to_string(r.best_eval->iteration));
  Trainer check = Trainer::resume(r.best_model.string(),
                                  dense_training_data(tiny_data(), HoldOut{0.2, config.seed}));
  const Evaluation again = check.evaluate();
  EXPECT_EQ(again.validation_acc, r.best_eval->validation_acc);
  EXPECT_EQ(again.test_acc, r.best_eval->test_acc);
  // tiny data is learned at once: no better validation accuracy after the first ones, so
  // the run stops two evaluations after its best, well before 60 iterations
  EXPECT_TRUE(r.stopped_early);
  EXPECT_LT(trainer.iteration(), 60);
  EXPECT_EQ(r.final_eval.iteration, trainer.iteration());
  // without a validation split, early stopping is refused
  Trainer plain(tiny_config(6), tiny_data());
  options.dir = dir_ / "plain";
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { run_training(plain, options, recorder); }),
              HasSubstr("early stopping needs a validation split"));
  EXPECT_FALSE(std::filesystem::exists(options.dir)) << "refused, yet its directory was made";
}

TEST_F(RunTraining, DataGivenWholeHoldsOutTheConfigsValidation) {
  // Trainer(config, DenseData) and its resume() hold out config.validation with the
  // config's seed: the split the shared data of the same HoldOut has.
  TrainConfig config = tiny_config(8);
  config.validation = 0.2;
  auto held = dense_training_data(tiny_data(), HoldOut{config.validation, config.seed});
  Trainer whole(config, tiny_data());
  Trainer shared(config, held);
  ASSERT_GT(held->size(Split::validation), 0);
  EXPECT_EQ(whole.data().size(Split::validation), held->size(Split::validation));
  EXPECT_EQ(whole.data().size(Split::train), held->size(Split::train));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(whole.step(), shared.step()) << i;
  whole.save((dir_ / "at4").string());
  Trainer resumed = Trainer::resume((dir_ / "at4").string(), tiny_data());
  EXPECT_EQ(resumed.data().size(Split::validation), held->size(Split::validation));
  const Evaluation a = resumed.evaluate(), b = shared.evaluate();
  ASSERT_TRUE(a.validation_acc && b.validation_acc);
  EXPECT_EQ(*a.validation_acc, *b.validation_acc);
}

// ---- schedules and clipping in the Trainer --------------------------------------------------

TEST_F(RunTraining, PlateauScheduleResumesExactlyAndTheJsonLogFollows) {
  TrainConfig config = tiny_config(60);  // 48 training rows: 4 iterations an epoch
  config.validation = 0.2;
  config.lr_schedule = "plateau:2:0.5";
  auto data = [&] { return dense_training_data(tiny_data(), HoldOut{0.2, config.seed}); };
  Recorder recorder;
  Trainer straight(config, data());
  RunOptions options;
  options.dir = dir_ / "straight";
  options.background_evaluation = true;  // (refused for plateau: on the loop's thread)
  run_training(straight, options, recorder);
  // tiny data is learned at once: the validation accuracy stops rising, and the rate falls
  EXPECT_LT(straight.learning_rate(), config.lr / 2);
  EXPECT_EQ(straight.validations_observed(), 15);
  // the JSON lines: an object an evaluation, the same numbers as metrics.csv's rows
  const std::vector<std::string> json = lines(read_file(dir_ / "straight/metrics.jsonl"));
  ASSERT_EQ(json.size(), 16u);  // 15 during training and the final one
  EXPECT_THAT(json[0], StartsWith("{\"iteration\":1,\"loss\":"));
  EXPECT_THAT(json[0], HasSubstr(",\"train_acc\":"));
  EXPECT_THAT(json[0], HasSubstr(",\"validation_acc\":"));
  EXPECT_THAT(json[15], StartsWith("{\"iteration\":60,"));

  // stopped at an iteration with an evaluation (21) and between two (23), then resumed
  for (std::int64_t at : {21, 23}) {
    const fs::path dir = dir_ / ("at" + std::to_string(at));
    Trainer first(config, data());
    options.dir = dir;
    options.stop_requested = [&] { return first.iteration() >= at; };
    const RunResult stopped = run_training(first, options, recorder);
    ASSERT_TRUE(stopped.stopped);
    Trainer resumed = Trainer::resume(stopped.model.string(), data());
    RunOptions more;
    more.dir = dir;
    more.resumed_from = stopped.model.string();
    run_training(resumed, more, recorder);
    EXPECT_EQ(resumed.learning_rate(), straight.learning_rate()) << at;
    EXPECT_EQ(resumed.validations_observed(), 15) << at;
    for (const auto& [name, p] : straight.model().named_parameters()) {
      EXPECT_EQ(resumed.model().parameter(name).value().to_vector(), p.value().to_vector())
          << name << " at " << at;
    }
    // metrics.jsonl was cut back to the checkpoint too: no evaluation twice
    const std::vector<std::string> again = lines(read_file(dir / "metrics.jsonl"));
    ASSERT_EQ(again.size(), json.size()) << at;
    for (std::size_t i = 0; i < json.size(); ++i) {
      EXPECT_EQ(again[i].substr(0, again[i].find(",\"seconds\"")),
                json[i].substr(0, json[i].find(",\"seconds\"")))
          << at;
    }
  }
  // without a validation split, the plateau has nothing to go by
  TrainConfig plain = tiny_config(6);
  plain.lr_schedule = "plateau:2:0.5";
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { Trainer t(plain, tiny_data()); }),
              HasSubstr("it needs a validation split"));
}

TEST_F(RunTraining, ADivergingRunLeavesItsLogAndCurves) {
  TrainConfig config = tiny_config(40);
  config.optimizer = "sgd";
  config.lr = 1e6;  // (the loss explodes within a few steps)
  Trainer trainer(config, tiny_data());
  RunOptions options;
  options.dir = dir_ / "boom";
  Recorder recorder;
  EXPECT_THROW(run_training(trainer, options, recorder), TrainingError);
  EXPECT_TRUE(fs::exists(dir_ / "boom/curves.svg"));
  const std::vector<std::string> rows = lines(read_file(dir_ / "boom/metrics.csv"));
  EXPECT_GE(rows.size(), 2u);  // the header and the steps before it diverged
  EXPECT_THAT(read_file(dir_ / "boom/curves.svg"), HasSubstr("<svg"));
}

TEST_F(RunTraining, ScheduleAndClippingResumeExactly) {
  TrainConfig config = tiny_config(30);  // 6 iterations an epoch
  config.lr_schedule = "step:1:0.5";
  config.warmup = 2;
  config.clip_norm = 0.5;
  Trainer straight(config, tiny_data());
  EXPECT_EQ(straight.learning_rate(), 0.05 * 0.5);  // warm-up: 1/2 of the base
  for (int i = 0; i < 2; ++i) straight.step();
  EXPECT_EQ(straight.learning_rate(), 0.05);  // iteration 2: the schedule's first epoch
  for (int i = 0; i < 5; ++i) straight.step();
  EXPECT_EQ(straight.learning_rate(), 0.025);  // iteration 7: the second epoch
  for (int i = 0; i < 5; ++i) straight.step();

  Trainer first(config, tiny_data());
  for (int i = 0; i < 5; ++i) first.step();
  first.save((dir_ / "at5").string());
  Trainer resumed = Trainer::resume((dir_ / "at5").string(), tiny_data());
  EXPECT_EQ(resumed.config().lr_schedule, "step:1:0.5");
  EXPECT_EQ(resumed.config().clip_norm, 0.5);
  for (int i = 0; i < 7; ++i) resumed.step();
  for (const auto& [name, p] : straight.model().named_parameters()) {
    EXPECT_EQ(resumed.model().parameter(name).value().to_vector(), p.value().to_vector()) << name;
  }
}

TEST_F(RunTraining, ClippingBoundsTheStep) {
  // SGD moves the parameters by lr * gradient: clipped to norm 0.001, by lr * 0.001
  TrainConfig config = tiny_config(1);
  config.optimizer = "sgd";
  config.lr = 0.1;
  config.clip_norm = 0.001;
  Trainer t(config, tiny_data());
  std::vector<std::vector<double>> before;
  for (const Var& p : t.model().parameters()) before.push_back(p.value().to_vector());
  t.step();
  double squares = 0;
  std::size_t k = 0;
  for (const Var& p : t.model().parameters()) {
    const std::vector<double> now = p.value().to_vector();
    for (std::size_t i = 0; i < now.size(); ++i) {
      squares += (now[i] - before[k][i]) * (now[i] - before[k][i]);
    }
    ++k;
  }
  EXPECT_NEAR(std::sqrt(squares), 0.1 * 0.001, 1e-9);
  config.clip_norm = -1;
  EXPECT_THROW(Trainer(config, tiny_data()), ValueError);
}

// Issue 24, class 9: a run asked to stop (nabla train's SIGINT / SIGTERM) stops before
// its next step, mid-epoch, with the checkpoint of the iteration reached, its rows and
// its curves; resumed, it ends with the same numbers as a run that never stopped.
TEST_F(RunTraining, StoppedRunSavesACheckpointThatResumesBitForBit) {
  for (bool background : {false, true}) {
    const std::string name = background ? "beside" : "in_turn";
    Recorder whole_recorder;
    run(name + "_whole", background, whole_recorder);
    const fs::path dir = dir_ / (name + "_parts");
    RunResult stopped;
    {
      Trainer trainer(tiny_config(20), tiny_data());
      trainer.set_threads(background ? 2 : 1);
      RunOptions options;
      options.dir = dir;
      options.background_evaluation = background;
      // asked before every step: the 10th asking stops after iteration 9, mid-epoch, with
      // the evaluation of iteration 7 (beside training, maybe still running) recorded
      int asked = 0;
      options.stop_requested = [&asked] { return ++asked == 10; };
      Recorder recorder;
      stopped = run_training(trainer, options, recorder);
      EXPECT_EQ(asked, 10);
      EXPECT_THAT(recorder.events, ElementsAre("started " + dir.string(), "evaluated 1",
                                               "evaluated 7", "finished 0"));
      EXPECT_EQ(recorder.steps.back(), 9);
    }
    EXPECT_TRUE(stopped.stopped);
    EXPECT_EQ(stopped.model, dir / "model.safetensors");
    EXPECT_EQ(load_safetensors(stopped.model.string()).metadata.at("iteration"), "9");
    EXPECT_THAT(read_file(stopped.curves), StartsWith("<?xml"));
    const std::vector<std::string> rows = rows_without_seconds(dir / "metrics.csv");
    ASSERT_EQ(rows.size(), 10u);  // the header and iterations 1 to 9
    EXPECT_THAT(rows.back(), StartsWith("9,"));

    Trainer second = Trainer::resume(stopped.model.string(), tiny_data());
    second.set_threads(background ? 2 : 1);
    RunOptions options;
    options.dir = dir;
    options.resumed_from = stopped.model.string();
    options.background_evaluation = background;
    Recorder recorder;
    const RunResult r = run_training(second, options, recorder);
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(rows_without_seconds(dir / "metrics.csv"),
              rows_without_seconds(dir_ / (name + "_whole") / "metrics.csv"));
    // the same model, optimizer state and random state, bit for bit
    const SafetensorsFile a = load_safetensors(r.model.string());
    const SafetensorsFile b =
        load_safetensors((dir_ / (name + "_whole") / "model.safetensors").string());
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (std::size_t i = 0; i < a.tensors.size(); ++i) {
      EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
      EXPECT_TRUE(testing_util::same_bits(a.tensors[i].second, b.tensors[i].second))
          << a.tensors[i].first;
    }
    EXPECT_EQ(a.metadata.at("rng"), b.metadata.at("rng"));
  }
  // asked at once: no step, the checkpoint of iteration 0
  Trainer trainer(tiny_config(20), tiny_data());
  RunOptions options;
  options.dir = dir_ / "at_once";
  options.stop_requested = [] { return true; };
  Recorder recorder;
  const RunResult r = run_training(trainer, options, recorder);
  EXPECT_TRUE(r.stopped);
  EXPECT_TRUE(recorder.steps.empty());
  EXPECT_EQ(load_safetensors(r.model.string()).metadata.at("iteration"), "0");
}

// Issue 24, class 8: a save killed before its rename leaves model.safetensors.tmp-<hex>;
// the next run in that directory (resumed, or --overwrite) removes it, and nothing else.
TEST_F(RunTraining, RunRemovesTheTemporaryFilesOfAKilledSave) {
  Recorder recorder;
  run("run", false, recorder);
  const fs::path dir = dir_ / "run";
  write_file(dir / "model.safetensors.tmp-0123456789abcdef", "half a model");
  write_file(dir / "curves.svg.tmp-89abcdef01234567", "");
  write_file(dir / "notes.tmp-mine", "a user's");
  write_file(dir / "model.safetensors.tmp-0123", "not one of ours: too short");
  // a directory holding only leftovers (and a lock) holds no run
  const fs::path only = dir_ / "only";
  fs::create_directories(only);
  write_file(only / "model.safetensors.tmp-fedcba9876543210", "");
  EXPECT_NO_THROW(check_out_dir(only, "", false));

  const std::string checkpoint = (dir / "model.safetensors").string();
  Trainer second = Trainer::resume(checkpoint, tiny_data(), 22);
  RunOptions options;
  options.dir = dir;
  options.resumed_from = checkpoint;
  run_training(second, options, recorder);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.tmp-0123456789abcdef"));
  EXPECT_FALSE(fs::exists(dir / "curves.svg.tmp-89abcdef01234567"));
  EXPECT_TRUE(fs::exists(dir / "notes.tmp-mine"));
  EXPECT_TRUE(fs::exists(dir / "model.safetensors.tmp-0123"));
  EXPECT_EQ(remove_save_leftovers(only),
            std::vector<std::string>{"model.safetensors.tmp-fedcba9876543210"});
  EXPECT_TRUE(fs::is_empty(only));
}

}  // namespace
}  // namespace nabla
