// `nabla knn`: k-nearest neighbours on MNIST, k chosen by k-fold cross-validation.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.h"
#include "nabla/data/mnist.h"
#include "nabla/tasks/knn.h"

namespace nabla::cli {

Runner add_knn_command(CLI::App& app) {
  struct Options {
    std::optional<std::string> data;
    std::int64_t train_size = 60000;
    std::int64_t test_size = 10000;
    std::int64_t cv_size = 10000;
    std::string distance = "l2";
    std::vector<std::int64_t> ks = {1, 3, 5, 7, 9};
    int folds = 5;
    int threads = 2;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("knn", "k-nearest neighbours on MNIST with cross-validated k");
  sub->add_option("--data", opts->data, "MNIST directory (default: $NABLA_DATA, else data/mnist)");
  sub->add_option("--train-size", opts->train_size, "Training images to search (first N)")
      ->check(CLI::Range(1, 60000));
  sub->add_option("--test-size", opts->test_size, "Test images to classify (first M)")
      ->check(CLI::Range(1, 10000));
  sub->add_option("--cv-size", opts->cv_size,
                  "Training images used for cross-validation (first N, at most --train-size)")
      ->check(CLI::Range(2, 60000));
  sub->add_option("--distance", opts->distance, "l1 or l2")->check(CLI::IsMember({"l1", "l2"}));
  sub->add_option("--k", opts->ks,
                  "Values of k to try, e.g. 1,3,5 (one value: no cross-validation)")
      ->delimiter(',')
      ->check(positive());
  sub->add_option("--folds", opts->folds, "Cross-validation folds")->check(CLI::Range(2, 100));
  sub->add_option("--threads", opts->threads, "Threads")->check(CLI::Range(1, 64));
  return [opts]() -> int {
    using Clock = std::chrono::steady_clock;
    auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };
    Mnist mnist = load_mnist(resolve_data_dir(opts->data));
    Distance distance = parse_distance(opts->distance);
    Dataset& train = mnist.train;
    train.size = opts->train_size;
    train.images.resize(static_cast<std::size_t>(train.size * train.features));
    train.labels.resize(static_cast<std::size_t>(train.size));

    std::int64_t k = opts->ks.front();
    if (opts->ks.size() > 1) {
      std::int64_t cv_size = std::min(opts->cv_size, train.size);
      auto start = Clock::now();
      CrossValidationResult cv =
          cross_validate_knn(train, cv_size, opts->ks, opts->folds, distance, opts->threads);
      std::printf("cross-validation: %d folds of the first %lld training images, %s distance\n",
                  opts->folds, static_cast<long long>(cv_size), distance_name(distance));
      for (std::size_t i = 0; i < cv.ks.size(); ++i) {
        std::printf("k = %-3lld cv acc | %.4f +- %.4f\n", static_cast<long long>(cv.ks[i]),
                    cv.mean(i), cv.stddev(i));
      }
      k = cv.best_k();
      std::printf("best k = %lld (%.1f s)\n", static_cast<long long>(k), seconds_since(start));
    }
    auto start = Clock::now();
    KNearestNeighbor knn(train, distance, opts->threads);
    std::vector<std::int64_t> predicted = knn.predict(mnist.test, 0, opts->test_size, k);
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < opts->test_size; ++i) {
      correct +=
          predicted[static_cast<std::size_t>(i)] == mnist.test.labels[static_cast<std::size_t>(i)];
    }
    double seconds = seconds_since(start);
    std::printf("k = %lld, %s, %lld training x %lld test images, %.1f s\n",
                static_cast<long long>(k), distance_name(distance),
                static_cast<long long>(train.size), static_cast<long long>(opts->test_size),
                seconds);
    std::printf("test acc | %.4f\n",
                static_cast<double>(correct) / static_cast<double>(opts->test_size));
    return 0;
  };
}

}  // namespace nabla::cli
