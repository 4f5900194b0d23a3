// `nabla ner train | eval | tag`: the window tagger of include/nabla/ner.h on CoNLL
// files. The model and its training are the library's; this file reads options, prints
// and writes the run directory (metrics.csv, curves.svg, model.safetensors).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "exit_status.h"
#include "nabla/core/runtime.h"  // set_blas_threads
#include "nabla/core/tensor.h"   // DataError
#include "nabla/tasks/ner.h"
#include "nabla/train/curves.h"
#include "nabla/train/run_dir.h"
#include "progress.h"

namespace nabla::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void print_scores(const char* title, const EntityScores& s) {
  std::printf("%-8s %9s %9s %9s %6s %9s\n", title, "precision", "recall", "F1", "gold",
              "predicted");
  auto row = [](const std::string& name, const EntityCounts& c) {
    std::printf("%-8s %9.4f %9.4f %9.4f %6lld %9lld\n", name.c_str(), c.precision(), c.recall(),
                c.f1(), static_cast<long long>(c.gold), static_cast<long long>(c.predicted));
  };
  for (const auto& [type, c] : s.by_type) row(type, c);
  row("overall", s.overall);
}

struct TrainOptions {
  std::string train = "corpora/btc/btc.train";
  std::string dev = "corpora/btc/btc.dev";
  std::string test = "corpora/btc/btc.test";
  std::string vectors = "data/glove/glove.6B.100d.txt";
  std::string out;
  bool overwrite = false;
  NerOptions model;
};

struct EpochRow {
  double epoch, loss, dev_precision, dev_recall, dev_f1, seconds;
};

void write_curves(const fs::path& path, const std::vector<EpochRow>& rows) {
  Series loss{"training loss", "#1f77b4", {}, {}};
  Series f1{"dev entity F1", "#d62728", {}, {}};
  for (const EpochRow& r : rows) {
    loss.x.push_back(r.epoch);
    loss.y.push_back(r.loss);
    f1.x.push_back(r.epoch);
    f1.y.push_back(r.dev_f1);
  }
  Panel a{"loss", "epoch", "cross-entropy", {loss}, YAxis::linear};
  Panel b{"dev F1", "epoch", "entity F1", {f1}, YAxis::linear};
  std::ofstream out(path);
  out << svg_chart({a, b});
  check_written(out, path);
}

// `text` as valid UTF-8 for the model file's JSON metadata: a path may hold any bytes,
// and one that is not UTF-8 becomes U+FFFD there, rather than failing the save after the
// training (issue 24).
std::string metadata_text(const std::string& text) {
  return nlohmann::json::parse(
             nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

int run_train(const TrainOptions& o) {
  set_blas_threads(1);  // batches of 64: BLAS threads would only wait on each other
  // --out before any file is read: not a file, not another run's directory (exit 2).
  if (!o.out.empty() && fs::exists(o.out)) {
    if (!fs::is_directory(o.out)) throw UsageError("--out " + o.out + " is not a directory");
    check_out_dir(o.out, "", o.overwrite);
  }
  if (!fs::exists(o.vectors)) {
    throw DataError(o.vectors +
                    ": word vectors not found; run scripts/fetch_glove.sh (or pass "
                    "--vectors FILE, GloVe's text format)");
  }
  auto start = Clock::now();
  NerCorpus corpus = read_ner_corpus(o.train, o.dev, o.test);
  std::unordered_map<std::string, std::int64_t> wanted = corpus.lower_case_words();
  WordVectors vectors = read_glove(o.vectors, &wanted);
  WindowTagger model = make_window_tagger(corpus, vectors, o.model);
  NerExamples train = model.encode(corpus.train, corpus.train_path);
  NerExamples dev = model.encode(corpus.dev, corpus.dev_path);
  NerExamples test = model.encode(corpus.test, corpus.test_path);
  const NerOptions& m = o.model;
  std::printf(
      "data: %lld / %lld / %lld tokens (train / dev / test), %lld words (%lld with "
      "vectors from %s), %zu tags, %.1f s\n",
      static_cast<long long>(train.size()), static_cast<long long>(dev.size()),
      static_cast<long long>(test.size()), static_cast<long long>(model.vocabulary().size()),
      static_cast<long long>(vectors.size()), o.vectors.c_str(), model.tags().size(),
      seconds_since(start));
  std::printf(
      "model: window %d, %lld-d words + %lld-d shapes, hidden %lld %s, %s lr %g, "
      "batch %lld, seed %llu\n",
      m.window, static_cast<long long>(model.dim()), static_cast<long long>(m.shape_dim),
      static_cast<long long>(m.hidden), m.activation.c_str(), m.optimizer.c_str(), m.lr,
      static_cast<long long>(m.batch), static_cast<unsigned long long>(m.seed));

  // A new directory of its own, or --out: not one holding another run's files.
  const fs::path out = o.out.empty() ? make_run_dir() : fs::path(o.out);
  fs::create_directories(out);
  RunLock lock(out);
  if (!o.out.empty()) check_out_dir(out, "", o.overwrite);
  remove_save_leftovers(out);  // (a killed run's, under the lock)
  std::ofstream csv(out / "metrics.csv");
  csv << "epoch,loss,dev_precision,dev_recall,dev_f1,seconds\n";
  check_written(csv, out / "metrics.csv");
  std::fflush(stdout);

  NerTrainer trainer(model, std::move(train), m);
  Progress progress(m.epochs * trainer.steps_per_epoch());  // on stderr, when a terminal
  std::vector<EpochRow> rows;
  double best_f1 = -1;
  std::int64_t best_epoch = 0;
  std::vector<std::pair<std::string, Tensor>> best;
  double train_s = 0, eval_s = 0;
  for (std::int64_t epoch = 1; epoch <= m.epochs; ++epoch) {
    auto t0 = Clock::now();
    const std::int64_t before = (epoch - 1) * trainer.steps_per_epoch();
    const double loss = trainer.train_epoch([&](std::int64_t done, std::int64_t, double l) {
      progress.update(before + done, l,
                      static_cast<double>(before + done) / (train_s + seconds_since(t0)));
    });
    const double t_train = seconds_since(t0);
    auto t1 = Clock::now();
    std::vector<std::vector<std::string>> gold;
    for (const TaggedSentence& s : corpus.dev) gold.push_back(s.tags);
    EntityScores scores = score_entities(gold, model.tag(dev));
    const double t_eval = seconds_since(t1);
    train_s += t_train;
    eval_s += t_eval;
    const EntityCounts& c = scores.overall;
    rows.push_back(
        {static_cast<double>(epoch), loss, c.precision(), c.recall(), c.f1(), t_train + t_eval});
    progress.clear();
    const bool better = c.f1() > best_f1;
    std::printf("epoch %lld/%lld: loss %.4f, dev F1 %.4f (P %.4f, R %.4f), %.2f s%s\n",
                static_cast<long long>(epoch), static_cast<long long>(m.epochs), loss, c.f1(),
                c.precision(), c.recall(), t_train + t_eval, better ? "  *best" : "");
    std::fflush(stdout);
    csv << epoch << ',' << loss << ',' << c.precision() << ',' << c.recall() << ',' << c.f1() << ','
        << t_train + t_eval << '\n';
    csv.flush();
    check_written(csv, out / "metrics.csv");
    if (better) {
      best_f1 = c.f1();
      best_epoch = epoch;
      best = state_dict(model);  // copies: the values of this epoch
    }
  }
  load_state_dict(model, best);
  std::vector<std::vector<std::string>> gold_test;
  for (const TaggedSentence& s : corpus.test) gold_test.push_back(s.tags);
  EntityScores test_scores = score_entities(gold_test, model.tag(test));
  const double test_f1 = test_scores.overall.f1();
  char f1_text[64];
  std::snprintf(f1_text, sizeof f1_text, "%.6f", best_f1);
  std::string dev_text = f1_text;
  std::snprintf(f1_text, sizeof f1_text, "%.6f", test_f1);
  save_window_tagger((out / "model.safetensors").string(), model,
                     {{"epoch", std::to_string(best_epoch)},
                      {"dev_f1", dev_text},
                      {"test_f1", f1_text},
                      {"train", metadata_text(o.train)},
                      {"dev", metadata_text(o.dev)},
                      {"test", metadata_text(o.test)},
                      {"vectors", metadata_text(o.vectors)},
                      {"optimizer", m.optimizer},
                      {"lr", std::to_string(m.lr)},
                      {"batch", std::to_string(m.batch)},
                      {"seed", std::to_string(m.seed)}});
  write_curves(out / "curves.svg", rows);
  print_scores("test", test_scores);
  std::printf("model of epoch %lld (best dev F1); %.1f s training, %.1f s dev evaluation\n",
              static_cast<long long>(best_epoch), train_s, eval_s);
  std::printf("final: dev F1, test F1 | %.4f, %.4f\n", best_f1, test_f1);
  std::printf("run directory: %s (metrics.csv, curves.svg, model.safetensors)\n",
              out.string().c_str());
  return 0;
}

int run_eval(const std::string& model_path, const std::string& data) {
  set_blas_threads(1);
  WindowTagger model = load_window_tagger(model_path);
  std::vector<TaggedSentence> sentences = read_conll(data);
  EntityScores s = model.score(sentences, data);
  print_scores("entities", s);
  std::printf("entity F1 | %.4f\n", s.overall.f1());
  return 0;
}

int run_tag(const std::string& model_path, const std::string& input) {
  set_blas_threads(1);
  WindowTagger model = load_window_tagger(model_path);
  std::ifstream file;
  if (input != "-") {
    // A regular file only: opening a FIFO would wait for a writer for ever, a device may
    // never end (issue 24's command harness). Other streams come in on stdin (-).
    std::error_code ec;
    const fs::file_status status = fs::status(input, ec);
    if (fs::exists(status) && !fs::is_regular_file(status)) {
      throw DataError(input + ": is " +
                      (fs::is_directory(status) ? "a directory" : "not a regular file") +
                      ", not a text file (pipe a stream to standard input: nabla ner tag -)");
    }
    file.open(input);
    if (!file) throw DataError(input + ": cannot open");
  }
  std::istream& in = input == "-" ? std::cin : file;
  std::vector<std::vector<std::string>> sentences;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    if (!tokens.empty()) sentences.push_back(std::move(tokens));
  }
  std::vector<std::vector<std::string>> tags = model.tag(model.encode_untagged(sentences));
  std::vector<TaggedSentence> out;
  for (std::size_t i = 0; i < sentences.size(); ++i) out.push_back({sentences[i], tags[i]});
  write_conll(std::cout, out);
  std::cout.flush();
  if (!std::cout) throw DataError("cannot write the tags to standard output");
  return 0;
}

}  // namespace

Runner add_ner_command(CLI::App& app) {
  CLI::App* ner = app.add_subcommand("ner", "Named-entity recognition with a window classifier");
  ner->require_subcommand(1);

  auto t = std::make_shared<TrainOptions>();
  CLI::App* train = ner->add_subcommand("train", "Train a window tagger (default: BTC + GloVe)");
  train->option_defaults()->always_capture_default();  // --help shows each default
  train->add_option("--train", t->train, "Training data, CoNLL columns (token ... tag)");
  train->add_option("--dev", t->dev, "Development data: picks the model (best entity F1)");
  train->add_option("--test", t->test, "Test data, scored with the model picked on dev");
  train->add_option("--vectors", t->vectors, "Word vectors, GloVe text format");
  train->add_option("--window", t->model.window, "Tokens each side of the centre")
      ->check(whole_number(0, 20));
  train->add_option("--hidden", t->model.hidden, "Hidden units")->check(whole_number(1, 100000));
  train->add_option("--activation", t->model.activation, "tanh, relu or sigmoid")
      ->check(CLI::IsMember({"tanh", "relu", "sigmoid"}));
  train
      ->add_option("--shape-dim", t->model.shape_dim,
                   "Size of the learned word-shape vectors (0: none)")
      ->check(whole_number(0, 1000));
  train->add_option("--epochs", t->model.epochs, "Passes over the training tokens")
      ->check(whole_number(1, 100000));
  train->add_option("--batch", t->model.batch, "Tokens per step")->check(whole_number(1, 1000000));
  train->add_option("--optimizer", t->model.optimizer, "sgd, momentum, adagrad, rmsprop, adam...")
      ->check(CLI::IsMember(optimizer_names()));
  train->add_option("--lr", t->model.lr, "Learning rate")->check(positive());
  train->add_option("--seed", t->model.seed, "Random seed")
      ->check(whole_number(0, 1ULL << 62, "UINT"));
  train->add_option("--out", t->out, "Run directory (default: runs/<date-time>)");
  train->add_flag("--overwrite", t->overwrite,
                  "Write into an --out directory that already holds files");

  auto model = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  CLI::App* eval = ner->add_subcommand("eval", "Entity P / R / F1 of a saved tagger on CoNLL data");
  eval->add_option("--model", *model, "model.safetensors of `nabla ner train`")->required();
  eval->add_option("--data", *data, "CoNLL file")->required();

  auto tag_model = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>("-");
  CLI::App* tag = ner->add_subcommand(
      "tag", "Tag plain text (one sentence a line, tokens split at whitespace) as CoNLL lines");
  tag->add_option("--model", *tag_model, "model.safetensors of `nabla ner train`")->required();
  tag->add_option("input", *input, "Text file, or - for standard input (the default)");

  return [=]() -> int {
    if (train->parsed()) return run_train(*t);
    if (eval->parsed()) return run_eval(*model, *data);
    return run_tag(*tag_model, *input);
  };
}

}  // namespace nabla::cli
