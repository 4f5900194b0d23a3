// `nabla train`: the textbook's train_neuralnet as a tool — mini-batch training on
// MNIST (or CSV rows) with evaluations once per epoch, a run directory (metrics.csv,
// curves.svg, model.safetensors) and a resumable checkpoint. Here are the options, the data
// and the Trainer; the run is the library's (nabla/train/run.h), which this file's observer
// prints.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "commands.h"
#include "distributed.h"
#include "exit_status.h"
#include "nabla/core/cpu.h"
#include "nabla/core/runtime.h"
#include "nabla/detail/workers.h"
#include "nabla/ops/ops.h"
#include "nabla/train/figures.h"
#include "nabla/train/metrics_log.h"
#include "nabla/train/run.h"
#include "nabla/train/run_dir.h"
#include "nabla/train/train.h"
#include "output.h"
#include "progress.h"
#include "stop_signals.h"
#include "train_checks.h"

namespace nabla::cli {

int default_threads() {
  unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1u, 2u));
}

namespace {

struct Options {
  std::optional<std::string> data;
  std::string test_data;
  std::string task = "classification";  // or regression (CSV data, the mse loss)
  std::string model = "two-layer-net";
  std::string arch;
  std::vector<std::int64_t> hidden;
  std::string activation = "relu";
  std::string loss = "softmax";
  double reg = 0;
  std::int64_t iters = 10000;
  std::int64_t epochs = 0;
  std::int64_t batch = 100;
  double lr = 0.1;
  std::string optimizer = "sgd";
  double weight_decay = 0;
  std::string init = "std";
  double init_std = 0.01;
  std::uint64_t seed = 42;
  std::string sampling = "replacement";
  int threads = 0;
  std::int64_t shards = 0;  // 0: the number of MPI ranks (1 alone)
  std::string out;
  std::string resume;
  double validation = 0;
  std::int64_t early_stop = 0;
  std::string lr_schedule = "constant";
  std::int64_t warmup = 0;
  double clip_norm = 0;
  std::string augment;  // "" or shift:N
  bool timing = false;
  bool json = false;  // the final summary as one JSON object on stdout, and nothing else there
  bool iters_given = false;
  bool overwrite = false;
  std::set<std::string> given;  // the long names of the options on the command line
  // Options given on the command line (a model kind's defaults apply to the others).
  bool epochs_given = false, optimizer_given = false, lr_given = false, init_given = false;
};

// What a model kind trains with unless told otherwise: the textbook's CNNs use Adam with
// lr 0.001 for 20 epochs (of batches of 100); deep-convnet starts from He weights.
void apply_model_defaults(Options& o) {
  if (o.model != "simple-convnet" && o.model != "deep-convnet") return;
  if (!o.optimizer_given) o.optimizer = "adam";
  if (!o.lr_given) o.lr = 0.001;
  if (!o.iters_given && !o.epochs_given) o.epochs = 20;
  if (!o.init_given && o.model == "deep-convnet") o.init = "he";
}

// The model of the options for this data: a preset (MLPs flatten the examples, the CNNs
// take them as images) or an --arch list (on images unless it starts with an affine
// layer, which then takes the pixels as rows: the fast path). Options that make no model
// for this data are a usage error (exit 2), found before any training.
ModelSpec model_from_options(const Options& o, const TrainingData& data) try {
  const Shape flat{data.features()};
  const std::string loss = o.task == "regression" ? "mse" : o.loss;
  ModelSpec spec;
  if (!o.arch.empty()) {
    const bool rows = o.arch.find_first_not_of(" \t") == o.arch.find("affine");
    spec = model_from_arch(o.arch, rows ? flat : data.example_shape(), data.classes());
  } else if (o.model == "two-layer-net" || o.model == "mlp" || o.model == "linear") {
    spec = model_preset(o.model, flat, data.classes());
    if (!o.hidden.empty() && o.model != "linear") spec.hidden = o.hidden;
    spec.activation = o.activation;
  } else {
    if (!o.hidden.empty() || o.activation != "relu") {
      throw ValueError(
          "--hidden and --activation shape the MLPs; describe other models with --arch");
    }
    spec = model_preset(o.model, data.example_shape(), data.classes());
  }
  spec.loss = loss;
  if (o.init_given || spec.is_mlp() || !o.arch.empty()) {
    spec.init = parse_init(o.init);
    spec.init_std = o.init_std;
  }
  spec.check();
  return spec;
} catch (const ValueError& e) {
  throw UsageError(e.what());
}

// What the command line alone rules out, checked before the data is read (seconds, for
// MNIST): an empty --arch, an --arch whose layers are not written right, an --out that
// is not a directory or holds another run.
void check_before_data(const Options& o) {
  if (o.given.count("arch") != 0) {
    if (o.arch.find_first_not_of(" \t") == std::string::npos) {
      throw UsageError(
          "--arch is empty: give its layers, e.g. --arch \"affine:100 relu affine:10\"");
    }
    try {
      parse_arch(o.arch);
    } catch (const ValueError& e) {
      throw UsageError(e.what());
    }
  }
  if (!o.out.empty()) {
    std::error_code ec;
    const auto status = std::filesystem::status(o.out, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
      throw UsageError("--out " + o.out + " is not a directory");
    }
    if (std::filesystem::is_directory(status)) check_out_dir(o.out, o.resume, o.overwrite);
  }
}

TrainConfig config_from(const Options& o, const TrainingData& data) {
  TrainConfig c;
  c.model = model_from_options(o, data);
  c.iters = o.iters;
  c.epochs = o.epochs;
  c.batch = o.batch;
  c.lr = o.lr;
  c.optimizer = o.optimizer;
  c.weight_decay = o.weight_decay;
  c.reg = o.reg;
  c.seed = o.seed;
  c.sampling = o.sampling == "shuffle" ? Sampling::shuffled_epochs : Sampling::with_replacement;
  c.validation = o.validation;
  c.lr_schedule = o.lr_schedule;
  c.warmup = o.warmup;
  c.clip_norm = o.clip_norm;
  c.augment = o.augment == "none" ? "" : o.augment;
  c.shards = o.shards;
  return c;
}

// --help for --arch: the syntax and every layer kind of the registry.
std::string arch_help() {
  std::string text =
      "Layers, instead of --model: KIND[:V1xV2...][,NAME=VALUE...] separated by spaces, e.g. "
      "\"conv:30x5 relu maxpool:2 affine:100 relu affine:10\" (the last affine gives the "
      "classes; a first token input:CxHxW reshapes each example). Kinds:";
  for (const LayerKind& k : builtin_layers().kinds()) {
    text += "\n  " + k.name + ": " + k.help;
  }
  return text;
}

// The data of --data (an MNIST directory, or a CSV file of labelled rows), and the line
// of the run's header that describes it.
struct CommandData {
  std::shared_ptr<TrainingData> data;
  std::string line;
};

std::string fraction_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

CommandData load_data(const Options& o, int threads) {
  const HoldOut holdout{o.validation, o.seed};
  const std::string held_line =
      o.validation > 0 ? "; a validation split of " + fraction_text(o.validation) +
                             " of the training examples held out (seed " + std::to_string(o.seed) +
                             ")"
                       : "";
  const bool csv_data = o.data && std::filesystem::is_regular_file(*o.data);
  if (!o.test_data.empty() && !csv_data) {
    throw ValueError("--test-data goes with --data FILE.csv (a CSV file of labelled rows)");
  }
  const bool regression = o.task == "regression";
  if (regression && !csv_data) {
    throw UsageError(
        "--task regression trains on a CSV file: give --data FILE.csv (the "
        "target first, then the features, one row a line)");
  }
  if (csv_data) {
    CsvData rows = load_csv_data(*o.data, o.test_data, o.seed,
                                 regression ? CsvTask::regression : CsvTask::classification);
    std::string line =
        "data " + *o.data + ": " + std::to_string(rows.data.train_x.size(0)) + " training rows, " +
        std::to_string(rows.data.test_x.size(0)) + " test rows " +
        (rows.held_out
             ? "(no --test-data: a sixth of the rows held out, seed " + std::to_string(o.seed) + ")"
             : "from " + o.test_data) +
        ", " + std::to_string(rows.data.train_x.size(1)) + " features, " +
        (regression ? std::string("a real-valued target (regression)")
                    : std::to_string(rows.data.classes) + " classes");
    return {dense_training_data(std::move(rows.data), holdout), line + held_line};
  }
  const std::string data_dir = resolve_data_dir(o.data);
  // Straight into sparse pixels: the dense images are never held (55 MB less). The rows
  // are compressed on all threads at once.
  Workers workers(threads);
  ThreadScope scope(&workers);
  SparseMnist mnist = load_mnist_sparse(data_dir);
  std::string line = "data " + data_dir + ": " + std::to_string(mnist.train_images.rows()) +
                     " training, " + std::to_string(mnist.test_images.rows()) + " test images";
  return {mnist_training_data(std::move(mnist), holdout), line + held_line};
}

// The Trainer of the options: a new one, or the --resume checkpoint's (`resume_notes`: what
// the resumed run changes, e.g. --lr).
Trainer make_trainer(const Options& o, std::shared_ptr<TrainingData> data,
                     std::vector<std::string>& resume_notes) {
  const TrainConfig config = config_from(o, *data);
  check_model_options(config, o.given);
  if (o.resume.empty()) return Trainer(config, std::move(data));
  // --iters / --epochs give the new total; without them the checkpoint's plan stands.
  Trainer trainer = Trainer::resume(o.resume, std::move(data), o.iters_given ? o.iters : 0);
  std::int64_t epochs_total = 0;
  if (o.epochs > 0 && !checked_mul(o.epochs, trainer.iters_per_epoch(), &epochs_total)) {
    throw ValueError(std::to_string(o.epochs) + " epochs of " +
                     std::to_string(trainer.iters_per_epoch()) +
                     " iterations are more iterations than can be counted");
  }
  if (o.epochs > 0) trainer.set_total_iters(epochs_total);
  resume_notes = check_resume_options(o.resume, trainer.config(), config, o.given);
  if (trainer.config().shards != config.shards) {
    throw UsageError(o.resume + " was trained with each batch in " +
                     std::to_string(trainer.config().shards) + " slices (--shards or MPI ranks), " +
                     "not " + std::to_string(config.shards) + ": resume it with mpirun -np " +
                     std::to_string(trainer.config().shards) + " or --shards " +
                     std::to_string(trainer.config().shards) + ", as it was trained");
  }
  if (o.given.count("lr") != 0) trainer.set_learning_rate(o.lr);
  return trainer;
}

// What the command shows of a run (nabla/train/run.h) on stdout: its header once the run
// directory is ready, a line per evaluation; and the progress bar on a terminal (stderr).
class PrintingObserver : public RunObserver {
 public:
  PrintingObserver(const Trainer& trainer, std::string data_line, std::string resume,
                   std::vector<std::string> resume_notes, bool quiet)
      : quiet_(quiet),
        trainer_(trainer),
        data_line_(std::move(data_line)),
        resume_(std::move(resume)),
        resume_notes_(std::move(resume_notes)),
        progress_(trainer.total_iters()),
        key_(trainer.data().metric_key()) {}

  void started(const std::filesystem::path& dir) override {
    if (quiet_) return;
    const TrainConfig& c = trainer_.config();
    std::printf("model %s; %s lr %g, batch %lld, %lld iterations (%lld per epoch), seed %llu\n",
                c.model.describe().c_str(), c.optimizer.c_str(), c.lr,
                static_cast<long long>(c.batch), static_cast<long long>(trainer_.total_iters()),
                static_cast<long long>(trainer_.iters_per_epoch()),
                static_cast<unsigned long long>(c.seed));
    std::printf("%s; run directory %s\n", data_line_.c_str(), dir.string().c_str());
    if (!resume_.empty()) {
      std::printf("resumed from %s at iteration %lld\n", resume_.c_str(),
                  static_cast<long long>(trainer_.iteration()));
      for (const std::string& note : resume_notes_) std::printf("%s\n", note.c_str());
    }
    flush_stdout();  // (stdout lost, e.g. on a full disk: stop before the first step)
  }

  // "iteration 7: train acc, test acc | ...", or "final: ..." (a regression's: "train
  // rmse, test rmse | ...")
  void evaluated(const Evaluation& e, bool is_final) override {
    progress_.clear();
    if (quiet_) return;
    std::string label = is_final ? "final: " : "iteration " + std::to_string(e.iteration) + ": ";
    const char* key = key_.c_str();
    if (e.validation_acc) {
      std::printf("%strain %s, validation %s, test %s | %.4f, %.4f, %.4f\n", label.c_str(), key,
                  key, key, e.train_acc, *e.validation_acc, e.test_acc);
    } else {
      std::printf("%strain %s, test %s | %.4f, %.4f\n", label.c_str(), key, key, e.train_acc,
                  e.test_acc);
    }
    flush_stdout();
  }

  void step_done(std::int64_t iteration, double loss, double iters_per_second) override {
    progress_.update(iteration, loss, iters_per_second);
  }

 private:
  bool quiet_;  // --json: nothing on stdout but the summary
  const Trainer& trainer_;
  std::string data_line_, resume_;
  std::vector<std::string> resume_notes_;
  Progress progress_;
  std::string key_;  // the data's metric, as in metrics.csv: acc, rmse
};

// A final test accuracy at most this many times chance (1 / classes) fails the run.
constexpr double kChanceMargin = 1.25;

// A run of at least an epoch that ends no better than guessing has learnt nothing: an
// error, whatever the cause (the model file is kept for a look).
void check_better_than_chance(const Trainer& trainer, const RunResult& run) {
  if (trainer.data().regression()) return;  // (an error has no chance level)
  const std::int64_t classes = trainer.config().model.classes;
  const double chance = 1.0 / static_cast<double>(classes);
  if (trainer.total_iters() >= trainer.iters_per_epoch() &&
      run.final_eval.test_acc <= kChanceMargin * chance) {
    throw TrainingError(
        "the final test accuracy " + std::to_string(run.final_eval.test_acc) +
        " is no better than chance (" + std::to_string(chance) + " for " + std::to_string(classes) +
        " classes) after " + std::to_string(trainer.iteration()) +
        " iterations: the model did not learn (kept in " + run.model.string() + ")");
  }
}

// `nabla train --json`: the run's summary as one JSON object, its metrics named as in
// metrics.csv (train_acc, validation_rmse, ...):
//   {"run_dir": "runs/x", "model": "runs/x/model.safetensors", "curves": ..., "metrics": ...,
//    "model_spec": "...", "metric": "accuracy", "iterations": 6000, "iters_per_epoch": 600,
//    "stopped_early": false, "stopped": false, "seconds": 12.5,
//    "final": {"iteration": 6000, "train_acc": ..., "test_acc": ...},
//    "best": {"iteration": ..., "validation_acc": ..., "test_acc": ..., "model": ...}}
// ("final" is null for a run stopped by a signal, "best" without a validation split.)
void print_json_summary(const Trainer& trainer, const RunResult& r) {
  const MetricColumns columns = metric_columns(trainer.data());
  auto evaluation = [&](const Evaluation& e) {
    nlohmann::ordered_json j;
    j["iteration"] = e.iteration;
    j[columns.train] = e.train_acc;
    if (e.validation_acc && !columns.validation.empty()) j[columns.validation] = *e.validation_acc;
    j[columns.test] = e.test_acc;
    return j;
  };
  nlohmann::ordered_json j;
  j["run_dir"] = r.dir.string();
  j["model"] = r.model.string();
  j["curves"] = r.curves.string();
  j["metrics"] = (r.dir / "metrics.csv").string();
  j["model_spec"] = trainer.config().model.describe();
  j["metric"] = trainer.data().metric();
  j["iterations"] = trainer.iteration();
  j["iters_per_epoch"] = trainer.iters_per_epoch();
  j["stopped_early"] = r.stopped_early;
  j["stopped"] = r.stopped;
  j["seconds"] = r.seconds;
  j["final"] = r.stopped ? nlohmann::ordered_json() : evaluation(r.final_eval);
  j["best"] = nlohmann::ordered_json();
  if (r.best_eval) {
    j["best"] = evaluation(*r.best_eval);
    j["best"]["model"] = r.best_model.string();
  }
  std::cout << j.dump() << "\n";
  std::cout.flush();
}

// A word for a shell: quoted unless it is plain.
std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_./=:,+") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A run stopped by SIGINT or SIGTERM (`signal`): where it stopped, and the command that
// goes on from there. Returns the exit status of a process the signal ended, 128 + signal
// (130 for SIGINT, 143 for SIGTERM).
int report_stopped(const Options& o, const Trainer& trainer, const RunResult& r, int signal) {
  std::string resume = "nabla train --resume " + shell_word(r.model.string()) + " --out " +
                       shell_word(r.dir.string());
  if (o.data) resume += " --data " + shell_word(*o.data);
  if (!o.test_data.empty()) resume += " --test-data " + shell_word(o.test_data);
  flush_stdout();
  std::fprintf(stderr,
               "\nnabla train: %s: stopped at iteration %lld of %lld; checkpoint, metrics.csv "
               "and curves.svg written in %s\nresume with: %s\n",
               signal == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)",
               static_cast<long long>(trainer.iteration()),
               static_cast<long long>(trainer.total_iters()), r.dir.string().c_str(),
               resume.c_str());
  return 128 + signal;
}

// A linear classifier's weights as one image per class (templates.svg in the run
// directory), when its inputs are square images (MNIST's 28 x 28).
void write_templates(const Sequential& net, const std::filesystem::path& dir) {
  for (const auto& [name, p] : net.named_parameters()) {
    if (p.value().rank() != 2) continue;
    const std::int64_t features = p.value().shape()[0];
    const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(features))));
    if (side * side != features) return;  // not square images: no pictures to draw
    const std::filesystem::path path = dir / "templates.svg";
    write_chart(path, weight_template_panels(p.value(), side, side), 5);
    std::printf("weight templates (one image per class) written to %s\n", path.string().c_str());
    return;
  }
}

int train_on_this_rank(Options o, const std::shared_ptr<Communicator>& world) {
  // The first SIGINT or SIGTERM from here on stops the run after its step, resumable. (Not
  // among ranks: each would stop at a step of its own; there the signal ends the job.)
  std::optional<StopSignals> signals;
  if (world->size() == 1) signals.emplace();
  check_before_data(o);
  // The recipe's matrices are small: BLAS threads would only fight over the cores. nabla
  // splits the first layer's products over its own threads instead.
  set_blas_threads(1);
  // (among ranks, one thread each unless told: the ranks share the cores)
  const int threads = o.threads > 0 ? o.threads : world->size() > 1 ? 1 : default_threads();
  o.shards = shards_for(o.shards, *world);
  // A resumed run holds out the validation split its checkpoint did (its fraction and
  // seed, unless given: then they must be the same, see check_resume_options).
  Options held = o;
  if (!o.resume.empty()) {
    const LoadedModel checkpoint = load_network(o.resume);
    auto train = checkpoint.metadata.find("train");
    if (train != checkpoint.metadata.end()) {
      const TrainConfig c = TrainConfig::from_json(train->second);
      if (o.given.count("validation") == 0) held.validation = c.validation;
      if (held.validation != c.validation) {  // (the other options: check_resume_options)
        throw UsageError("--resume: --validation " + fraction_text(o.validation) +
                         " (the checkpoint's is " + fraction_text(c.validation) +
                         "): a resumed run holds out the same validation split");
      }
      if (o.given.count("seed") == 0) held.seed = c.seed;
      // (a regression's checkpoint reads its data as a regression's)
      if (o.given.count("task") == 0 && c.model.loss == "mse") held.task = "regression";
    }
  }
  CommandData data = load_data(held, threads);
  std::vector<std::string> resume_notes;
  o.task = held.task;
  Trainer trainer = make_trainer(o, std::move(data.data), resume_notes);
  trainer.set_communicator(world);
  trainer.set_threads(threads);
  const bool talks = world->rank() == 0;
  const std::int64_t shards = trainer.config().shards;
  if (shards > 1) {
    data.line += "; batch in " + std::to_string(shards) + " slices, " +
                 (world->size() > 1 ? world->describe() : "one after another in one process");
  }

  RunOptions run;
  run.dir = o.out;  // (empty: a new runs/<date-time>)
  run.overwrite = o.overwrite;
  run.resumed_from = o.resume;
  // With two threads, the evaluations during training run beside it, on the other core.
  run.background_evaluation = threads > 1;
  run.early_stop = o.early_stop;
  run.stop_requested = [&signals] { return signals && signals->caught() != 0; };
  PrintingObserver printer(trainer, std::move(data.line), o.resume, std::move(resume_notes),
                           o.json);
  const RunResult r = run_training(trainer, run, printer);
  if (r.stopped) {
    if (o.json && talks) print_json_summary(trainer, r);
    return report_stopped(o, trainer, r, signals->caught());
  }

  check_better_than_chance(trainer, r);
  if (!talks) return 0;
  if (o.json) {
    print_json_summary(trainer, r);
    return 0;
  }
  const std::string metric = trainer.data().metric(), key = trainer.data().metric_key();
  if (r.stopped_early) {
    std::printf(
        "stopped early at iteration %lld: %lld evaluations without a better validation "
        "%s\n",
        static_cast<long long>(trainer.iteration()), static_cast<long long>(o.early_stop),
        metric.c_str());
  }
  if (r.best_eval) {
    std::printf("best validation %s %.4f at iteration %lld (epoch %.2f, test %s %.4f): %s\n",
                key.c_str(), r.best_eval->validation_acc.value_or(0),
                static_cast<long long>(r.best_eval->iteration),
                static_cast<double>(r.best_eval->iteration) /
                    static_cast<double>(trainer.iters_per_epoch()),
                key.c_str(), r.best_eval->test_acc, r.best_model.string().c_str());
  }
  std::printf("model saved to %s; curves in %s\n", r.model.string().c_str(),
              r.curves.string().c_str());
  if (o.model == "linear" && o.arch.empty()) write_templates(trainer.model(), r.dir);
  if (shards > 1) {
    // (the replicas' hashes are compared at every evaluation: equal on every rank)
    std::printf("state hash %016llx (parameters and buffers; every rank's)\n",
                static_cast<unsigned long long>(trainer.state_hash()));
  }
  // For the benchmark (--timing): train_s, the loop without the time this thread spent on
  // evaluations (eval_s); eval_beside_s, the evaluations that ran beside training, on the
  // other thread; the kernels' instruction set.
  if (o.timing) {
    std::printf(
        "TIMING train_s=%.3f eval_s=%.3f eval_beside_s=%.3f wall_s=%.3f test_acc=%.4f isa=%s\n",
        r.seconds - r.eval_seconds, r.eval_seconds, r.eval_beside_seconds, r.seconds,
        r.final_eval.test_acc, kernel_isa().c_str());
    const Communicator::Traffic t = world->traffic();
    std::printf("TIMING_COMM ranks=%d shards=%lld comm_s=%.3f bytes_sent=%lld calls=%lld\n",
                world->size(), static_cast<long long>(shards), t.seconds,
                static_cast<long long>(t.bytes_sent), static_cast<long long>(t.calls));
  }
  return 0;
}

int run_train(const Options& o) {
  std::shared_ptr<Communicator> world = open_world();
  return on_every_rank(*world, "nabla train", [&] { return train_on_this_rank(o, world); });
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "train", "Train a network on MNIST (default: the textbook's TwoLayerNet recipe)");
  sub->option_defaults()->always_capture_default();  // --help shows the recipe's values
  sub->add_option("--data", o->data,
                  "MNIST directory (default: $NABLA_DATA, else data/mnist), or a CSV file: "
                  "label, then numeric features, one row a line (header line optional)");
  sub->add_option("--test-data", o->test_data,
                  "CSV test rows for --data FILE.csv (default: a seeded sixth of its rows is "
                  "held out)");
  auto* model = sub->add_option("--model", o->model,
                                "two-layer-net, mlp, linear, simple-convnet (the textbook's CNN: "
                                "adam, lr 0.001, 20 epochs unless given) or deep-convnet (its "
                                "deeper one, also He init)")
                    ->check(one_of(model_preset_names()));
  sub->add_option("--arch", o->arch, arch_help())->excludes(model);
  sub->add_option("--hidden", o->hidden,
                  "Hidden layer sizes, e.g. 100,100 (default: 50 for two-layer-net, 100,100 "
                  "for mlp)")
      ->default_str("")
      ->delimiter(',')
      ->check(whole_number(1, ModelSpec::kMaxWidth, "POSITIVE"));
  sub->add_option("--activation", o->activation, "relu, sigmoid or tanh (mlp)")
      ->check(one_of({"relu", "sigmoid", "tanh"}));
  sub->add_option("--task", o->task,
                  "classification, or regression: --data FILE.csv whose first column is a "
                  "real-valued target, fitted with the mean squared error (the mse loss) and "
                  "measured by the RMSE (lower is better)")
      ->check(one_of({"classification", "regression"}));
  auto* loss = sub->add_option("--loss", o->loss, "softmax or svm (classification)")
                   ->check(one_of({"softmax", "svm"}));
  sub->add_option("--reg", o->reg,
                  "L2 penalty lambda: loss + lambda * sum W^2 over every weight (not biases)")
      ->check(non_negative());
  auto* iters = sub->add_option("--iters", o->iters, "Iterations (mini-batches)")
                    ->check(whole_number(0, INT64_MAX, "NONNEGATIVE"));
  auto* epochs = sub->add_option("--epochs", o->epochs, "Epochs (instead of --iters)")
                     ->default_str("")
                     ->check(whole_number(1, INT64_MAX, "POSITIVE"))
                     ->excludes(iters);
  sub->add_option("--batch", o->batch, "Batch size")->check(whole_number(1, INT64_MAX, "POSITIVE"));
  auto* lr = sub->add_option("--lr", o->lr, "Learning rate")->check(positive());
  auto* optimizer = sub->add_option("--optimizer", o->optimizer,
                                    "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
                        ->check(one_of(optimizer_names()));
  sub->add_option("--weight-decay", o->weight_decay,
                  "The same L2 penalty as the textbook writes it: --weight-decay L is --reg L/2 "
                  "(gradient + L * W); with adamw, AdamW's decoupled decay instead")
      ->check(non_negative());
  auto* init =
      sub->add_option("--init", o->init, "Weight init: std (normal with --init-std), xavier or he")
          ->check(one_of({"std", "normal", "xavier", "he"}));
  auto* init_std = sub->add_option("--init-std", o->init_std, "Standard deviation for --init std")
                       ->check(positive());
  sub->add_option("--seed", o->seed, "Random seed (a run is reproducible from it)")
      ->check(whole_number(0, UINT64_MAX));
  sub->add_option("--sampling", o->sampling,
                  "replacement (the textbook's random choice) or shuffle (epochs)")
      ->check(one_of({"replacement", "shuffle"}));
  sub->add_option("--threads", o->threads,
                  "Threads (default: cores, at most 2); with 2 or more, the layers that split "
                  "their work (a sparse first layer, a convolution) share a batch between "
                  "them, the batches are made ahead and the evaluations during training run "
                  "beside it, on threads of their own (the results are the same)")
      ->check(CLI::Range(1, kMaxThreads))
      ->default_str("");
  sub->add_option("--shards", o->shards,
                  "Cut each batch into P slices whose gradients are added in slice order "
                  "(data parallelism, docs/distributed.md): under mpirun -np P each rank "
                  "computes one (the default there is P); alone, the P slices one after "
                  "another, the same bits")
      ->check(whole_number(1, 4096, "POSITIVE"))
      ->default_str("");
  sub->add_option("--out", o->out,
                  "Run directory (default: runs/<date-time>, with -2, -3, ... when taken); one "
                  "holding files is refused unless --overwrite (or --resume continues its run)")
      ->check(non_empty_path());
  sub->add_flag("--overwrite", o->overwrite, "Let --out replace the run in that directory");
  sub->add_flag("--json", o->json,
                "Print the run's summary as one JSON object on stdout (and nothing else there): "
                "the run directory, the final and the best evaluation, how it ended");
  sub->add_flag("--timing", o->timing,
                "End with a TIMING line of seconds (training, evaluation, wall) and the "
                "kernels' instruction set, for scripts/bench.sh");
  sub->add_option("--lr-schedule", o->lr_schedule,
                  "The learning rate over the run: constant, cosine (to 0 along half a cosine), "
                  "step:EPOCHS:FACTOR (times FACTOR every EPOCHS epochs) or "
                  "plateau:PATIENCE:FACTOR (times FACTOR whenever PATIENCE evaluations in a row "
                  "bring no better validation metric; needs --validation)");
  sub->add_option("--warmup", o->warmup,
                  "Iterations of linear learning-rate warm-up before the schedule")
      ->check(whole_number(0, INT64_MAX, "NONNEGATIVE"));
  sub->add_option("--clip-norm", o->clip_norm,
                  "Scale the whole gradient down to this L2 norm when longer (0: never)")
      ->check(non_negative());
  sub->add_option("--augment", o->augment,
                  "Augment the training batches of images (CNNs; MLPs on MNIST): shift:N "
                  "moves each image by up to N pixels each way at random (from --seed; "
                  "evaluations see the images unmoved); none (the default)")
      ->default_str("none");
  sub->add_option("--validation", o->validation,
                  "Hold out this fraction of the training examples (drawn with --seed) as a "
                  "validation split: evaluated at each evaluation, its best checkpoint kept as "
                  "best.safetensors")
      ->check(CLI::Range(0.0, 0.99));
  sub->add_option("--early-stop", o->early_stop,
                  "Stop after this many evaluations in a row without a better validation "
                  "metric (accuracy; a regression's RMSE) (needs --validation; 0: never)")
      ->check(whole_number(0, INT64_MAX, "NONNEGATIVE"));
  sub->add_option("--resume", o->resume,
                  "Continue from a checkpoint (model.safetensors of a run); --iters / --epochs "
                  "set the new total")
      ->check(non_empty_path());
  return [o, iters, epochs, lr, optimizer, init, init_std, loss, sub]() -> int {
    if (o->task == "regression" && loss->count() > 0) {
      throw UsageError("--loss " + o->loss +
                       " is a classifier's: a regression is fitted with "
                       "the mean squared error (leave --loss out)");
    }
    o->iters_given = iters->count() > 0;
    o->epochs_given = epochs->count() > 0;
    o->lr_given = lr->count() > 0;
    o->optimizer_given = optimizer->count() > 0;
    o->init_given = init->count() > 0 || init_std->count() > 0;
    for (const CLI::Option* option : sub->get_options()) {
      if (option->count() > 0 && !option->get_lnames().empty()) {
        o->given.insert(option->get_lnames()[0]);
      }
    }
    apply_model_defaults(*o);
    try {
      return run_train(*o);
    } catch (const TrainingError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "\nnabla train: %s\n", e.what());
      return 1;
    }
  };
}

}  // namespace nabla::cli
