// `nabla ner train | eval | tag`: the window tagger of include/nabla/tasks/ner.h on CoNLL
// files. The model, its training and the run directory are the library's (the one
// Trainer, run_training); this file reads options and prints.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.h"
#include "distributed.h"
#include "exit_status.h"
#include "nabla/core/runtime.h"  // set_blas_threads
#include "nabla/core/tensor.h"   // DataError
#include "nabla/tasks/ner.h"
#include "nabla/train/run.h"
#include "nabla/train/run_dir.h"  // check_out_dir
#include "output.h"
#include "progress.h"
#include "stop_signals.h"

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

// The command's model: the library's NerOptions with what is better on BTC's dev set
// (README): the viterbi decoder, and dropout 0.5 on the window's vectors (better dev F1
// with each of three seeds).
NerOptions default_model() {
  NerOptions o;
  o.decoder = "viterbi";
  o.dropout = 0.5;
  return o;
}

struct TrainOptions {
  std::string train = "corpora/btc/btc.train";
  std::string dev = "corpora/btc/btc.dev";
  std::string test = "corpora/btc/btc.test";
  std::string vectors = "data/glove/glove.6B.100d.txt";
  std::string out;
  std::string resume;
  std::int64_t early_stop = 0;
  std::string lr_schedule = "constant";
  std::int64_t warmup = 0;
  bool overwrite = false;
  int threads = 0;
  std::int64_t shards = 0;  // 0: the number of MPI ranks (1 alone)
  NerOptions model = default_model();
  bool decoder_given = false;  // --decoder on the command line (not the default)
  std::int64_t epochs = 10;
  std::int64_t batch = 0;          // tokens (window) or sentences (viterbi) per step; 0: 64 or 4
  std::string optimizer = "adam";  // any of optimizer_names()
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

// The run on stdout: a line per evaluation (the entity F1 of each split), and the
// progress bar on a terminal (stderr).
class NerObserver : public RunObserver {
 public:
  explicit NerObserver(const Trainer& trainer)
      : trainer_(trainer), progress_(trainer.total_iters()) {}

  void evaluated(const Evaluation& e, bool is_final) override {
    progress_.clear();
    const bool better = e.validation_acc && *e.validation_acc > best_;
    if (better) best_ = *e.validation_acc;
    std::printf("%s %lld (epoch %.2f): train F1 %.4f, dev F1 %.4f, test F1 %.4f%s\n",
                is_final ? "final model, iteration" : "iteration",
                static_cast<long long>(e.iteration),
                static_cast<double>(e.iteration) / static_cast<double>(trainer_.iters_per_epoch()),
                e.train_acc, e.validation_acc.value_or(0), e.test_acc,
                better ? "  *best dev" : "");
    flush_stdout();
  }

  void step_done(std::int64_t iteration, double loss, double iters_per_second) override {
    progress_.update(iteration, loss, iters_per_second);
  }

 private:
  const Trainer& trainer_;
  Progress progress_;
  double best_ = -1;
};

int train_on_this_rank(const TrainOptions& o, const std::shared_ptr<Communicator>& world) {
  // The first SIGINT or SIGTERM from here on stops the run after its step, resumable. (Not
  // among ranks: each would stop at a step of its own; there the signal ends the job.)
  std::optional<StopSignals> signals;
  if (world->size() == 1) signals.emplace();
  set_blas_threads(1);  // batches of 64: BLAS threads would only wait on each other
  // --out before any file is read: not a file, not another run's directory (exit 2).
  // (rank 0's alone: it writes there)
  if (world->rank() == 0 && !o.out.empty() && fs::exists(o.out)) {
    if (!fs::is_directory(o.out)) throw UsageError("--out " + o.out + " is not a directory");
    check_out_dir(o.out, o.resume, o.overwrite);
  }
  const auto start = Clock::now();
  const bool talks = world->rank() == 0;  // (rank 0 alone prints)
  const std::int64_t shards = shards_for(o.shards, *world);
  if (o.resume.empty() && !fs::exists(o.vectors)) {
    throw DataError(o.vectors +
                    ": word vectors not found; run scripts/fetch_glove.sh (or pass "
                    "--vectors FILE, GloVe's text format)");
  }
  NerCorpus corpus = read_ner_corpus(o.train, o.dev, o.test);
  // A new tagger from the corpus and the word vectors, or the checkpoint's (its
  // vocabulary and tags: the vectors are in it).
  std::optional<WindowTagger> tagger;
  std::string vectors_line;
  if (o.resume.empty()) {
    std::unordered_map<std::string, std::int64_t> wanted = corpus.lower_case_words();
    WordVectors vectors = read_glove(o.vectors, &wanted);
    tagger.emplace(make_window_tagger(corpus, vectors, o.model, o.seed));
    vectors_line = std::to_string(vectors.size()) + " with vectors from " + o.vectors;
  } else {
    tagger.emplace(load_window_tagger(o.resume));
    vectors_line = "those of " + o.resume;
    // The checkpoint's model is the one trained on: another decoder would need another
    // network (a window classifier's softmax, or a sentence-level loss over transitions).
    if (o.decoder_given && o.model.decoder != tagger->decoder()) {
      throw UsageError("--decoder " + o.model.decoder + ": " + o.resume +
                       " was trained with --decoder " + tagger->decoder() +
                       ", and a run resumes with its own decoder (leave --decoder out, or "
                       "start a new run with --decoder " +
                       o.model.decoder + ")");
    }
  }
  std::shared_ptr<TrainingData> data = ner_training_data(*tagger, corpus);
  if (talks) {
    std::size_t tokens = 0;
    for (const TaggedSentence& s : corpus.train) tokens += s.tokens.size();
    const std::string unit =
        tagger->sentence_level() ? "sentences (" + std::to_string(tokens) + " training tokens)"
                                 : std::string("tokens");
    std::printf("data: %lld / %lld / %lld %s (train / dev / test), %lld words (%s), %zu tags, "
                "%.1f s\n",
                static_cast<long long>(data->size(Split::train)),
                static_cast<long long>(data->size(Split::validation)),
                static_cast<long long>(data->size(Split::test)), unit.c_str(),
                static_cast<long long>(tagger->vocabulary().size()), vectors_line.c_str(),
                tagger->tags().size(), seconds_since(start));
  }

  std::optional<Trainer> trainer;
  if (o.resume.empty()) {
    const std::int64_t batch = o.batch > 0 ? o.batch : tagger->sentence_level() ? 4 : 64;
    TrainConfig config = ner_train_config(*tagger, o.epochs, batch, o.optimizer, o.lr, o.seed);
    config.lr_schedule = o.lr_schedule;
    config.warmup = o.warmup;
    config.shards = shards;
    trainer.emplace(config, data, tagger->net());
  } else {
    trainer.emplace(Trainer::resume(o.resume, data));
    trainer->set_total_iters(o.epochs * trainer->iters_per_epoch());
    if (trainer->config().shards != shards) {
      throw UsageError(o.resume + " was trained with each batch in " +
                       std::to_string(trainer->config().shards) +
                       " slices (--shards or MPI ranks), not " + std::to_string(shards) +
                       ": resume it with mpirun -np " + std::to_string(trainer->config().shards) +
                       " or --shards " + std::to_string(trainer->config().shards));
    }
  }
  trainer->set_communicator(world);
  // (among ranks, one thread each unless told: the ranks share the cores)
  const int threads = o.threads > 0 ? o.threads : world->size() > 1 ? 1 : default_threads();
  trainer->set_threads(threads);
  const TrainConfig& c = trainer->config();
  if (!talks) {
    RunObserver silent;
    RunOptions follow;
    follow.early_stop = o.early_stop;  // (rank 0 decides and tells)
    run_training(*trainer, follow, silent);  // (rank 0's run: the same steps)
    return 0;
  }
  std::printf("model %s; decoder %s; %s lr %g, batch %lld %s, %lld epochs of %lld steps, "
              "seed %llu\n",
              c.model.describe().c_str(), tagger->decoder().c_str(), c.optimizer.c_str(), c.lr,
              static_cast<long long>(c.batch), tagger->sentence_level() ? "sentences" : "tokens",
              static_cast<long long>(o.epochs),
              static_cast<long long>(trainer->iters_per_epoch()),
              static_cast<unsigned long long>(c.seed));
  if (shards > 1) {
    std::printf("batch in %lld slices, %s\n", static_cast<long long>(shards),
                world->size() > 1 ? world->describe().c_str() : "one after another in one process");
  }
  if (!o.resume.empty()) {
    std::printf("resumed from %s at iteration %lld\n", o.resume.c_str(),
                static_cast<long long>(trainer->iteration()));
  }
  flush_stdout();

  RunOptions run;
  run.dir = o.out;  // (empty: a new runs/<date-time>)
  run.overwrite = o.overwrite;
  run.resumed_from = o.resume;
  run.background_evaluation = threads > 1;  // on the other core
  run.early_stop = o.early_stop;
  run.stop_requested = [&signals] { return signals && signals->caught() != 0; };
  NerObserver printer(*trainer);
  const RunResult r = run_training(*trainer, run, printer);
  if (r.stopped) {
    flush_stdout();
    std::fprintf(stderr,
                 "\nnabla ner train: %s: stopped at iteration %lld of %lld; checkpoint, "
                 "metrics.csv and curves.svg written in %s\nresume with: nabla ner train "
                 "--resume %s --out %s (and the same --train --dev --test)\n",
                 signals->caught() == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)",
                 static_cast<long long>(trainer->iteration()),
                 static_cast<long long>(trainer->total_iters()), r.dir.string().c_str(),
                 r.model.string().c_str(), r.dir.string().c_str());
    return 128 + signals->caught();
  }

  // The model with the best dev F1, chosen by it alone; the test set scored once, by it.
  WindowTagger best = load_window_tagger(r.best_model.string());
  EntityScores test_scores = best.score(corpus.test, corpus.test_path);
  print_scores("test", test_scores);
  const double epoch = static_cast<double>(r.best_eval->iteration) /
                       static_cast<double>(trainer->iters_per_epoch());
  if (r.stopped_early) {
    std::printf("stopped early at iteration %lld: %lld evaluations without a better dev F1\n",
                static_cast<long long>(trainer->iteration()), static_cast<long long>(o.early_stop));
  }
  std::printf("model of iteration %lld (epoch %.2f, best dev F1): %s\n",
              static_cast<long long>(r.best_eval->iteration), epoch, r.best_model.string().c_str());
  // (for scripts/bench.sh: the loop without the time its thread spent evaluating or
  // waiting for an evaluation; that time; the evaluations that ran on the other thread)
  std::printf("%.2f s training, %.2f s evaluation on its thread, %.2f s beside it\n",
              r.seconds - r.eval_seconds, r.eval_seconds, r.eval_beside_seconds);
  std::printf("final: dev F1, test F1 | %.4f, %.4f\n", r.best_eval->validation_acc.value_or(0),
              test_scores.overall.f1());
  std::printf("run directory: %s (metrics.csv, curves.svg, model.safetensors, best.safetensors)\n",
              r.dir.string().c_str());
  if (shards > 1) {
    // (the replicas' hashes are compared at every evaluation: equal on every rank)
    std::printf("state hash %016llx (parameters and buffers; every rank's)\n",
                static_cast<unsigned long long>(trainer->state_hash()));
  }
  return 0;
}

int run_train(const TrainOptions& o) {
  std::shared_ptr<Communicator> world = open_world();
  return on_every_rank(*world, "nabla ner train", [&] { return train_on_this_rank(o, world); });
}

int run_eval(const std::string& model_path, const std::string& data) {
  set_blas_threads(1);
  WindowTagger model = load_window_tagger(model_path);
  std::vector<TaggedSentence> sentences = read_conll(data);
  const NerExamples examples = model.encode(sentences, data);
  std::vector<std::vector<std::string>> gold;
  for (const TaggedSentence& t : sentences) gold.push_back(t.tags);
  const auto tagged = tag_names(model.predict(examples), examples.lengths, model.tags());
  EntityScores s = score_entities(gold, tagged);
  print_scores("entities", s);
  // The sentences whose tags break IOB2: the model's own decoder's, and each token's best
  // tag alone (the window decoder's; for a sentence-level model, its emissions alone).
  const auto per_token =
      tag_names(model.predict(examples, /*per_token=*/true), examples.lengths, model.tags());
  if (model.sentence_level()) {
    std::printf("invalid IOB2 sentences (of %zu): viterbi decoder %lld, window decoder (each "
                "token's best emission alone) %lld\n",
                sentences.size(), static_cast<long long>(count_invalid_bio(tagged)),
                static_cast<long long>(count_invalid_bio(per_token)));
  } else {
    std::printf("invalid IOB2 sentences (of %zu): window decoder %lld\n", sentences.size(),
                static_cast<long long>(count_invalid_bio(tagged)));
  }
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
  CLI::App* train = ner->add_subcommand("train", "Train a tagger (default: BTC + GloVe)");
  train->option_defaults()->always_capture_default();  // --help shows each default
  train->add_option("--train", t->train, "Training data, CoNLL columns (token ... tag)");
  train->add_option("--dev", t->dev, "Development data: picks the model (best entity F1)");
  train->add_option("--test", t->test, "Test data, scored with the model picked on dev");
  train->add_option("--vectors", t->vectors, "Word vectors, GloVe text format");
  train->add_option("--window", t->model.window, "Tokens each side of the centre")
      ->check(whole_number(0, 20));
  train->add_option("--hidden", t->model.hidden, "Hidden units")->check(whole_number(1, 100000));
  train->add_option("--activation", t->model.activation, "tanh, relu or sigmoid")
      ->check(one_of({"tanh", "relu", "sigmoid"}));
  train
      ->add_option("--shape-dim", t->model.shape_dim,
                   "Size of the learned word-shape vectors (0: none)")
      ->check(whole_number(0, 1000));
  train->add_option("--epochs", t->epochs, "Passes over the training tokens (the total, resumed)")
      ->check(whole_number(1, 100000));
  train
      ->add_option("--affix-dim", t->model.affix_dim,
                   "Size of the learned vectors of each token's first and last 3 letters "
                   "(0: none)")
      ->check(whole_number(0, 1000));
  train
      ->add_option("--char-dim", t->model.char_dim,
                   "Size of the learned character vectors of each token's spelling, read by a "
                   "convolution over 3 characters and each filter's maximum (0: none)")
      ->check(whole_number(0, 1000));
  train
      ->add_option("--char-filters", t->model.char_filters,
                   "Filters of the character convolution (with --char-dim)")
      ->check(whole_number(1, 10000));
  train
      ->add_option("--dropout", t->model.dropout,
                   "Dropout on the window's vectors while training (0: none; default 0.5)")
      ->check(CLI::Range(0.0, 0.9));
  CLI::Option* decoder =
      train
          ->add_option("--decoder", t->model.decoder,
                       "viterbi: the best tag path of each sentence under learned transition "
                       "scores (IOB2 imposed), trained on the sentence-level log-likelihood; "
                       "window: each token's best tag alone")
          ->check(CLI::IsMember({"viterbi", "window"}));
  train
      ->add_option("--batch", t->batch,
                   "Tokens (window) or sentences (viterbi) per step (default 64 or 4)")
      ->check(whole_number(1, 1000000))
      ->default_str("");
  train->add_option("--optimizer", t->optimizer, "sgd, momentum, adagrad, rmsprop, adam...")
      ->check(one_of(optimizer_names()));
  train->add_option("--lr", t->lr, "Learning rate")->check(positive());
  train->add_option("--seed", t->seed, "Random seed")
      ->check(whole_number(0, 1ULL << 62, "UINT"));
  train
      ->add_option("--threads", t->threads,
                   "Threads (default: cores, at most 2); with 2, the evaluations run beside "
                   "training (the results are the same)")
      ->check(CLI::Range(1, kMaxThreads))
      ->default_str("");
  train
      ->add_option("--shards", t->shards,
                   "Cut each batch into P slices whose gradients are added in slice order "
                   "(data parallelism, docs/distributed.md): under mpirun -np P each rank "
                   "computes one (the default there is P); alone, the P slices one after "
                   "another, the same bits")
      ->check(whole_number(1, 4096, "POSITIVE"))
      ->default_str("");
  train->add_option("--out", t->out, "Run directory (default: runs/<date-time>)")
      ->check(non_empty_path());
  train->add_flag("--overwrite", t->overwrite,
                  "Write into an --out directory that already holds files");
  train->add_option("--lr-schedule", t->lr_schedule,
                    "The learning rate over the run: constant, cosine or step:EPOCHS:FACTOR");
  train->add_option("--warmup", t->warmup, "Steps of linear learning-rate warm-up")
      ->check(whole_number(0, 100000000));
  train->add_option("--early-stop", t->early_stop,
                    "Stop after this many evaluations in a row without a better dev F1 (0: never)")
      ->check(whole_number(0, 100000));
  train->add_option("--resume", t->resume,
                    "Continue from a checkpoint (model.safetensors of a run) exactly; "
                    "--epochs sets the new total")
      ->check(non_empty_path());

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
    if (train->parsed()) {
      t->decoder_given = decoder->count() > 0;
      return run_train(*t);
    }
    if (eval->parsed()) return run_eval(*model, *data);
    return run_tag(*tag_model, *input);
  };
}

}  // namespace nabla::cli
