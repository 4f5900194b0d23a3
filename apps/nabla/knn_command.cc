// `nabla knn`: k-nearest neighbours on MNIST, k chosen by k-fold cross-validation.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "commands.h"
#include "exit_status.h"
#include "nabla/data/mnist.h"
#include "nabla/tasks/knn.h"
#include "nabla/train/curves.h"
#include "nabla/train/run_dir.h"

namespace nabla::cli {

namespace {

struct Options {
  std::optional<std::string> data;
  std::optional<std::int64_t> train_size;  // default: every training image
  std::optional<std::int64_t> test_size;   // default: every test image
  std::optional<std::int64_t> cv_size;     // default: 10,000, or fewer training images
  std::string distance = "l2";
  std::vector<std::int64_t> ks = {1, 3, 5, 7, 9};
  int folds = 5;
  int threads = 2;
  std::optional<std::string> out;  // the figure's directory (default: a new runs/ one)
};

constexpr std::int64_t kDefaultCvSize = 10000;

struct Sizes {
  std::int64_t train = 0, test = 0, cv = 0;
};

std::string num(std::int64_t n) { return std::to_string(n); }

// The sizes the run uses, checked against each other and, once the data is read, against
// it (train_images, test_images: the images it has). Every size or k that cannot be is a
// UsageError naming the option, so that it is found before any work: called once before
// the data is read (what the options alone rule out) and once after.
Sizes checked_sizes(const Options& o, std::optional<std::int64_t> train_images,
                    std::optional<std::int64_t> test_images, const std::string& dir) {
  const std::int64_t max_k = *std::max_element(o.ks.begin(), o.ks.end());
  const bool cross_validate = o.ks.size() > 1;
  Sizes s;
  if (train_images && o.train_size && *o.train_size > *train_images) {
    throw UsageError("--train-size " + num(*o.train_size) + " is more than the " +
                     num(*train_images) + " training images in " + dir);
  }
  if (test_images && o.test_size && *o.test_size > *test_images) {
    throw UsageError("--test-size " + num(*o.test_size) + " is more than the " + num(*test_images) +
                     " test images in " + dir);
  }
  // The training images searched: --train-size, else all of them (unknown before reading).
  std::optional<std::int64_t> train = o.train_size ? o.train_size : train_images;
  if (train) {
    s.train = *train;
    if (max_k > s.train) {
      throw UsageError("--k " + num(max_k) + " is more than " +
                       (o.train_size ? "--train-size " + num(s.train)
                                     : "the " + num(s.train) + " training images searched"));
    }
  }
  if (test_images) s.test = o.test_size.value_or(*test_images);
  if (!cross_validate) return s;
  if (o.cv_size && train && *o.cv_size > *train) {
    throw UsageError("--cv-size " + num(*o.cv_size) + " is more than " +
                     (o.train_size ? "--train-size " + num(*train)
                                   : "the " + num(*train) + " training images in " + dir));
  }
  std::optional<std::int64_t> cv = o.cv_size;
  if (!cv && train) cv = std::min(kDefaultCvSize, *train);
  if (!cv) return s;
  s.cv = *cv;
  if (s.cv < o.folds) {
    throw UsageError("--cv-size " + num(s.cv) + " is less than --folds " + num(o.folds) +
                     (o.cv_size ? "" : " (there are only " + num(s.cv) + " training images)"));
  }
  const std::int64_t searched = cv_training_rows(s.cv, o.folds);
  if (max_k > searched) {
    throw UsageError("--k " + num(max_k) + " is more than the " + num(searched) +
                     " images cross-validation searches for each fold (--cv-size " + num(s.cv) +
                     " split into --folds " + num(o.folds) + ")");
  }
  return s;
}

// The lecture's figure of cross-validation: each fold's accuracy for each k (points) and
// their mean with one standard deviation either side (error bars); the numbers also in
// knn_cv.csv beside it.
void write_cv_figure(const std::filesystem::path& dir, const CrossValidationResult& cv,
                     const char* distance) {
  Series folds{"one fold", "#9aa7b8", {}, {}};
  folds.line = false;
  Series mean{"mean ± std over the folds", "#1f77b4", {}, {}};
  std::ofstream csv(dir / "knn_cv.csv");
  csv.precision(17);
  csv << "k,mean,std";
  for (std::size_t f = 0; f < (cv.fold_accuracy.empty() ? 0 : cv.fold_accuracy[0].size()); ++f) {
    csv << ",fold" << f + 1;
  }
  csv << "\n";
  for (std::size_t i = 0; i < cv.ks.size(); ++i) {
    const double k = static_cast<double>(cv.ks[i]);
    csv << cv.ks[i] << "," << cv.mean(i) << "," << cv.stddev(i);
    for (double a : cv.fold_accuracy[i]) {
      folds.x.push_back(k);
      folds.y.push_back(a);
      csv << "," << a;
    }
    csv << "\n";
    mean.x.push_back(k);
    mean.y.push_back(cv.mean(i));
    mean.y_err.push_back(cv.stddev(i));
  }
  csv.close();
  check_written(csv, dir / "knn_cv.csv");
  Panel p{std::string("k-NN cross-validation (") + distance + " distance)",
          "k (neighbours that vote)",
          "cross-validation accuracy",
          {folds, mean}};
  p.y_axis = YAxis::linear;
  write_chart(dir / "knn_cv.svg", {p});
}

}  // namespace

Runner add_knn_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("knn", "k-nearest neighbours on MNIST with cross-validated k");
  sub->option_defaults()->always_capture_default();  // --help shows each default
  sub->add_option("--data", opts->data, "MNIST directory (default: $NABLA_DATA, else data/mnist)");
  sub->add_option("--train-size", opts->train_size,
                  "Training images to search (the first N; default: all)")
      ->check(whole_number(1, INT64_MAX));
  sub->add_option("--test-size", opts->test_size,
                  "Test images to classify (the first M; default: all)")
      ->check(whole_number(1, INT64_MAX));
  sub->add_option("--cv-size", opts->cv_size,
                  "Training images used for cross-validation (the first N, at most --train-size; "
                  "default: 10000 or all there are)")
      ->check(whole_number(2, INT64_MAX));
  sub->add_option("--distance", opts->distance, "l1 or l2")->check(one_of({"l1", "l2"}));
  sub->add_option("--k", opts->ks,
                  "Values of k to try, e.g. 1,3,5 (one value: no cross-validation); at most "
                  "the training images (with several, the images a fold is searched among)")
      ->delimiter(',')
      ->check(whole_number(1, INT64_MAX));
  sub->add_option("--folds", opts->folds, "Cross-validation folds")->check(CLI::Range(2, 100));
  sub->add_option("--threads", opts->threads, "Threads")->check(CLI::Range(1, kMaxThreads));
  sub->add_option("--out", opts->out,
                  "Directory for the cross-validation figure knn_cv.svg and its numbers "
                  "knn_cv.csv (default: a new directory under runs/)")
      ->check(non_empty_path());
  return [opts]() -> int {
    using Clock = std::chrono::steady_clock;
    auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };
    const Options& o = *opts;
    const std::string dir = resolve_data_dir(o.data);
    checked_sizes(o, std::nullopt, std::nullopt, dir);  // what the options alone rule out
    Mnist mnist = load_mnist(dir);
    const Sizes sizes = checked_sizes(o, mnist.train.size, mnist.test.size, dir);
    if (sizes.test == 0) throw DataError(dir + ": the test set has no images to classify");
    Distance distance = parse_distance(o.distance);
    // The first sizes.train images (at most all there are: the set only shrinks).
    Dataset& train = mnist.train;
    train.size = sizes.train;
    train.images.resize(static_cast<std::size_t>(train.size * train.features));
    train.labels.resize(static_cast<std::size_t>(train.size));

    std::int64_t k = o.ks.front();
    if (o.ks.size() > 1) {
      auto start = Clock::now();
      CrossValidationResult cv =
          cross_validate_knn(train, sizes.cv, o.ks, o.folds, distance, o.threads);
      std::printf("cross-validation: %d folds of the first %lld training images, %s distance\n",
                  o.folds, static_cast<long long>(sizes.cv), distance_name(distance));
      for (std::size_t i = 0; i < cv.ks.size(); ++i) {
        std::printf("k = %-3lld cv acc | %.4f +- %.4f\n", static_cast<long long>(cv.ks[i]),
                    cv.mean(i), cv.stddev(i));
      }
      k = cv.best_k();
      std::printf("best k = %lld (%.1f s)\n", static_cast<long long>(k), seconds_since(start));
      const std::filesystem::path figures =
          o.out ? std::filesystem::path(*o.out) : make_run_dir();
      std::filesystem::create_directories(figures);
      write_cv_figure(figures, cv, distance_name(distance));
      std::printf("accuracy against k written to %s (numbers: %s)\n",
                  (figures / "knn_cv.svg").string().c_str(),
                  (figures / "knn_cv.csv").string().c_str());
      std::fflush(stdout);
    }
    auto start = Clock::now();
    KNearestNeighbor knn(train, distance, o.threads);
    std::vector<std::int64_t> predicted = knn.predict(mnist.test, 0, sizes.test, k);
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < sizes.test; ++i) {
      correct +=
          predicted[static_cast<std::size_t>(i)] == mnist.test.labels[static_cast<std::size_t>(i)];
    }
    double seconds = seconds_since(start);
    std::printf("k = %lld, %s, %lld training x %lld test images, %.1f s\n",
                static_cast<long long>(k), distance_name(distance),
                static_cast<long long>(train.size), static_cast<long long>(sizes.test), seconds);
    std::printf("test acc | %.4f\n",
                static_cast<double>(correct) / static_cast<double>(sizes.test));
    return kExitOk;
  };
}

}  // namespace nabla::cli
