// The command harness (issue 24): the `nabla` command's entry point, run in this process
// (run_cli, apps/nabla/cli.h) on command lines drawn at random from every command's
// options, with values good and bad, and on small files made for it, good and bad:
// directories, empty files, FIFOs, devices, garbage, a truncated model, text that is not
// UTF-8, and standard output on /dev/full. Each case must keep the exit status contract:
//
//   0 success, 1 runtime error, 2 usage error (exit_status.h), and nothing else; never a
//   crash, a hang, an exception out of run_cli or "out of memory"; a failure says why on
//   stderr; and never 0 (a false success) where the command line holds something that
//   cannot succeed: a bad value for an option the command reads, or stdout on /dev/full.
//
// The draw is seeded (NABLA_HARNESS_SEED, default 24) and its size fixed
// (NABLA_HARNESS_CASES, default 2000), so a failure names a case that runs again the same;
// NABLA_HARNESS_VERBOSE=1 prints every case, its exit status and its first line on stderr.
// scripts/soak.sh does the same from the shell, thousands of times, on the built binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

// A value an option may get; `bad`: one the option must refuse, or a file that cannot be
// read as what the option reads.
struct Value {
  std::string text;
  bool bad = false;
};

// An option of a command and the values drawn for it. `read`: the command always uses
// it, so a bad value must fail the case; `required`: drawn 9 times in 10 (others: 1 in
// 2). A flag has no values. A name that does not start with '-' is a positional argument.
struct Option {
  std::string name;
  std::vector<Value> values;
  bool read = true;
  bool required = false;
};

struct Command {
  std::vector<std::string> words;  // "ner", "train"
  std::vector<Option> options;
  // options every case has (e.g. a small --iters), unless it draws another value
  std::vector<std::pair<std::string, std::string>> always;
};

struct Case {
  std::vector<std::string> args;
  bool stdout_full = false;
  bool must_fail = false;
};

struct Outcome {
  int status = -1;
  std::string err;
};

// The text of the case running, for the watchdog to print if it hangs, and the test's own
// stderr (a case's goes to a file).
char g_running[4096];
int g_stderr = STDERR_FILENO;

extern "C" void on_watchdog(int) {
  const char text[] = "\ncommand harness: a case ran for more than 60 s (a hang):\n  nabla";
  (void)!::write(g_stderr, text, sizeof text - 1);
  (void)!::write(g_stderr, g_running, std::strlen(g_running));
  (void)!::write(g_stderr, "\n", 1);
  ::_exit(3);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shown(const Case& c) {
  std::string text;
  for (const std::string& a : c.args) text += " '" + a + "'";
  if (c.stdout_full) text += " >/dev/full";
  return text;
}

class CommandHarness : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new nabla::testing_util::ScopedTempDir("command_harness");
    world_ = temp_->path();
    old_cwd_ = fs::current_path();
    make_world();
  }
  static void TearDownTestSuite() {
    fs::current_path(old_cwd_);
    delete temp_;
    temp_ = nullptr;
  }

  static std::string at(const std::string& name) { return (world_ / name).string(); }

  // The files the cases use, good and bad, and a model of each kind, trained here.
  static void make_world() {
    nabla::testing_util::write_small_mnist(world_ / "mnist", 100, 30);
    std::ofstream csv(world_ / "rows.csv");
    csv << "label,a,b,c,d\n";
    for (int i = 0; i < 60; ++i) {
      csv << i % 3 << ',' << (i % 3 == 0) << ',' << (i % 3 == 1) << ',' << (i % 3 == 2) << ','
          << (i % 7) * 0.1 << '\n';
    }
    csv.close();
    std::ofstream conll(world_ / "tweets.conll");
    const char* sentences[] = {"Obama\tB-PER\nin\tO\nParis\tB-LOC\n",
                               "I\tO\nlove\tO\nGoogle\tB-ORG\n",
                               "RT\tO\n@NBA\tO\n:\tO\nLeBron\tB-PER\nJames\tI-PER\n"};
    for (int i = 0; i < 12; ++i) conll << sentences[i % 3] << '\n';
    conll.close();
    nabla::testing_util::write_glove(at("vectors.txt"),
                                     {"obama", "in", "paris", "i", "love", "google"}, 8);
    std::ofstream(world_ / "text.txt") << "Obama loves Paris\nGoogle in Paris\n";
    std::ofstream pgm(world_ / "digit.pgm");
    pgm << "P2\n4 4\n255\n";
    for (int i = 0; i < 16; ++i) pgm << (i % 5 == 0 ? 255 : 0) << ' ';
    pgm.close();
    // bad files
    std::ofstream(world_ / "empty").close();
    fs::create_directories(world_ / "emptydir");
    if (::mkfifo(at("fifo").c_str(), 0644) != 0) ADD_FAILURE() << "mkfifo failed";
    std::mt19937 bits(5);
    std::string garbage;
    for (int i = 0; i < 400; ++i) garbage += static_cast<char>(bits());
    std::ofstream(world_ / "garbage", std::ios::binary) << garbage;
    std::ofstream(world_ / "notutf8.conll", std::ios::binary) << "caf\xff\tO\n\n";

    ::setenv("NABLA_DATA", at("mnist").c_str(), 1);
    fs::current_path(world_);  // (relative defaults: runs/, corpora/... land or miss here)
    Outcome trained = run({"train", "--iters", "20", "--batch", "10", "--out", "run"}, false);
    ASSERT_EQ(trained.status, 0) << trained.err;
    Outcome tagger = run({"ner", "train", "--train", "tweets.conll", "--dev", "tweets.conll",
                          "--test", "tweets.conll", "--vectors", "vectors.txt", "--epochs", "1",
                          "--hidden", "4", "--out", "nerrun"},
                         false);
    ASSERT_EQ(tagger.status, 0) << tagger.err;
    const std::string model = read_file(world_ / "run/model.safetensors");
    std::ofstream(world_ / "truncated.safetensors", std::ios::binary)
        << model.substr(0, model.size() / 2);
    fs::copy(world_ / "run", world_ / "taken");
  }

  // run_cli on `args`, its stdout in a file (or /dev/full), its stderr kept, stdin empty.
  static Outcome run(const std::vector<std::string>& args, bool stdout_full) {
    std::vector<std::string> words = {"nabla"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    std::cout.flush();
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved[3] = {::dup(0), ::dup(1), ::dup(2)};
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(stdout_full ? "/dev/full" : at("stdout").c_str(),
                           O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(at("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (int fd : {in, out, err}) ::close(fd);

    Outcome o;
    o.status = nabla::cli::run_cli(static_cast<int>(words.size()), argv.data());

    std::cout.flush();
    std::fflush(stdout);
    std::cerr.flush();
    std::fflush(stderr);
    for (int fd = 0; fd < 3; ++fd) {
      ::dup2(saved[fd], fd);
      ::close(saved[fd]);
    }
    // (a write to /dev/full leaves its error flags; the next case starts clean)
    std::clearerr(stdout);
    std::clearerr(stdin);
    std::cout.clear();
    std::cin.clear();
    o.err = read_file(at("stderr"));
    return o;
  }

  static nabla::testing_util::ScopedTempDir* temp_;
  static fs::path world_, old_cwd_;
};

nabla::testing_util::ScopedTempDir* CommandHarness::temp_ = nullptr;
fs::path CommandHarness::world_, CommandHarness::old_cwd_;

// ---- the values -----------------------------------------------------------------------

std::vector<Value> good(std::vector<std::string> texts) {
  std::vector<Value> v;
  for (std::string& t : texts) v.push_back({std::move(t), false});
  return v;
}

std::vector<Value> operator+(std::vector<Value> a, const std::vector<Value>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<Value> bad(std::vector<std::string> texts) {
  std::vector<Value> v;
  for (std::string& t : texts) v.push_back({std::move(t), true});
  return v;
}

// Files no reader can take.
std::vector<Value> bad_files() {
  return bad({"missing", "empty", "emptydir", "fifo", "garbage", "/dev/zero", "/dev/null", ""});
}
const std::vector<Value> kCounts =
    good({"1", "2", "3", "0"}) + bad({"-1", "abc", "", "99999999999999999999", "2.5", "nan"});
const std::vector<Value> kReals =
    good({"0.1", "0.01", "1", "0"}) + bad({"-1", "abc", "", "inf", "nan", "1e999"});
const std::vector<Value> kPositiveReals =
    good({"0.1", "0.01", "1"}) + bad({"-1", "abc", "", "inf", "nan", "1e999", "0"});

std::vector<Command> commands() {
  // ("taken" holds a run: refused, but with --overwrite)
  const std::vector<Value> out_dirs =
      good({"out1", "out2", "out3", "runs/x", "taken"}) + bad({"empty", "garbage", "/dev/full", ""});
  const Option out{"--out", out_dirs};
  std::vector<Command> all;
  all.push_back(Command{
      {"train"},
      {{"--data", good({"mnist", "rows.csv"}) + bad_files() + bad({"notutf8.conll"})},
       {"--test-data", good({"rows.csv"}) + bad_files(), false},
       {"--model", good({"two-layer-net", "mlp", "linear"}) + bad({"lenet", ""})},
       {"--arch", good({"affine:5 relu affine:10", "affine:8 batchnorm,eps=0.001 relu affine:10",
                        "input:1x28x28 conv:2x3 relu maxpool:2 affine:10", "affine:4 tanh"}) +
                      bad({"", " ", "affine:0", "relu:3", "conv:2x30 affine:10", "bogus",
                           "affine:10,", "batchnorm,0.001 affine:10", "input:0 affine:10"})},
       {"--hidden", good({"5", "5,5", "3"}) + bad({"0", "1048577", "abc", ""})},
       {"--activation", good({"relu", "tanh", "sigmoid"}) + bad({"gelu"})},
       {"--loss", good({"softmax", "svm"}) + bad({"mse"})},
       {"--reg", kReals},
       {"--batch", good({"1", "10", "50"}) + bad({"0", "-5", "abc"})},
       {"--lr", kPositiveReals},
       {"--optimizer", good({"sgd", "adam", "momentum"}) + bad({"lbfgs"})},
       {"--init", good({"std", "he", "xavier"}) + bad({"zeros"})},
       {"--init-std", kPositiveReals},
       {"--seed", kCounts},
       {"--sampling", good({"replacement", "shuffle"}) + bad({"sometimes"})},
       {"--threads", good({"1", "2"}) + bad({"0", "300", "x"})},
       out,
       {"--overwrite", {}},
       {"--resume", good({"run/model.safetensors"}) + bad_files() +
                        bad({"truncated.safetensors", "nerrun/model.safetensors"})},
       {"--timing", {}},
       {"--epochs", good({"1"}) + bad({"0", "-1", "x"})}},
      {{"--iters", "3"}}});
  all.push_back(
      Command{{"eval"},
              {{"--model",
                good({"run/model.safetensors"}) + bad_files() +
                    bad({"truncated.safetensors", "nerrun/model.safetensors", "rows.csv"}),
                true, true},
               {"--data", good({"mnist"}) + bad_files()},
               {"--train", {}},
               {"--json", {}}},
              {}});
  all.push_back(Command{
      {"predict"},
      {{"--model", good({"run/model.safetensors"}) + bad_files() + bad({"truncated.safetensors"}),
        true, true},
       {"input", good({"digit.pgm"}) + bad_files() + bad({"rows.csv"})},
       {"--index", good({"0", "5", "0,29"}) + bad({"30", "-1", "abc", ""})},
       {"--data", good({"mnist"}) + bad_files(), false},
       {"--json", {}}},
      {}});
  all.push_back(Command{{"landscape"},
                        {{"--model",
                          good({"run/model.safetensors"}) + bad_files() +
                              bad({"truncated.safetensors", "nerrun/model.safetensors"}),
                          true, true},
                         {"--data", good({"mnist"}) + bad_files()},
                         {"--size", good({"5", "20"}) + bad({"0", "101", "x"})},
                         {"--points", good({"2", "3"}) + bad({"1", "202", "x"})},
                         {"--radius", kPositiveReals},
                         {"--out", good({"out1", "out2"}) + bad({"/dev/full", "garbage"})}},
                        {{"--size", "5"}, {"--points", "2"}}});
  all.push_back(Command{{"optimizers"},
                        {{"--steps", good({"1", "5"}) + bad({"0", "10001", "x"})},
                         {"--out", good({"out1", "out2"}) + bad({"/dev/full", "garbage"})}},
                        {}});
  all.push_back(Command{{"knn"},
                        {{"--data", good({"mnist"}) + bad_files()},
                         {"--train-size", good({"50", "100"}) + bad({"0", "101", "-3", "x"})},
                         {"--test-size", good({"5", "30"}) + bad({"0", "31", "x"})},
                         {"--cv-size", good({"20", "50"}) + bad({"1", "x", "101"}), false},
                         {"--distance", good({"l1", "l2"}) + bad({"cosine"})},
                         {"--k", good({"1", "3", "1,3", "1,,3"}) + bad({"0", "101", "x"})},
                         {"--folds", good({"2", "3"}) + bad({"1", "101", "x"})},
                         {"--threads", good({"1", "2"}) + bad({"0", "257"})},
                         // (read with several k only)
                         {"--out", good({"out1", "out2"}) + bad({"/dev/full", "garbage"}), false}},
                        {}});
  all.push_back(Command{
      {"example"},
      // (a name with --list is not read: the list is shown)
      {{"name", good({"apple", "add-mul", "softmax-loss", "affine-bias"}) + bad({"bogus"}), false},
       {"--list", {}},
       {"--dot",
        good({"graph.dot", "graph2.dot"}) + bad({"emptydir", "/dev/full", "missing/graph.dot"}),
        false}},
      {}});
  all.push_back(Command{{"gradcheck"},
                        {{"--samples", good({"1", "2"}) + bad({"0", "101", "x"})},
                         {"--seed", kCounts},
                         {"--data", good({"tweets.conll"}) + bad_files() + bad({"notutf8.conll"})},
                         {"--rel-floor", kPositiveReals}},
                        // (the window tagger's check on a small file: TwoLayerNet's takes
                        // seconds)
                        {{"--samples", "1"}, {"--model", "ner"}, {"--data", "tweets.conll"}}});
  all.push_back(Command{{"ner", "train"},
                        {{"--train", good({"tweets.conll"}) + bad_files() + bad({"notutf8.conll"})},
                         {"--dev", good({"tweets.conll"}) + bad_files() + bad({"notutf8.conll"})},
                         {"--test", good({"tweets.conll"}) + bad_files() + bad({"notutf8.conll"})},
                         {"--vectors", good({"vectors.txt"}) + bad_files() + bad({"rows.csv"})},
                         {"--window", good({"0", "1", "2"}) + bad({"21", "-1", "x"})},
                         {"--hidden", good({"2", "4"}) + bad({"0", "x"})},
                         {"--shape-dim", good({"0", "3"}) + bad({"1001", "x"})},
                         {"--lr", kPositiveReals},
                         {"--batch", good({"1", "8"}) + bad({"0", "x"})},
                         {"--optimizer", good({"sgd", "adam"}) + bad({"x"})},
                         {"--seed", kCounts},
                         out,
                         {"--overwrite", {}}},
                        {{"--epochs", "1"},
                         {"--train", "tweets.conll"},
                         {"--dev", "tweets.conll"},
                         {"--test", "tweets.conll"},
                         {"--vectors", "vectors.txt"}}});
  all.push_back(Command{
      {"ner", "eval"},
      {{"--model",
        good({"nerrun/model.safetensors"}) + bad_files() +
            bad({"run/model.safetensors", "truncated.safetensors"}),
        true, true},
       {"--data", good({"tweets.conll"}) + bad_files() + bad({"notutf8.conll"}), true, true}},
      {}});
  all.push_back(Command{
      {"ner", "tag"},
      {{"--model",
        good({"nerrun/model.safetensors"}) + bad_files() + bad({"run/model.safetensors"}), true,
        true},
       {"input", good({"text.txt", "-"}) + bad({"missing", "emptydir", "fifo", "/dev/zero"})}},
      {}});
  return all;
}

// A command line drawn from `command`: each option with probability 1/2 (a required one
// 9/10; one of the "always" options takes the value drawn), a bad value one time in ten;
// sometimes an unknown option or a stray word.
Case draw(const Command& command, std::mt19937_64& rng) {
  auto chance = [&](int in) { return rng() % static_cast<std::uint64_t>(in) == 0; };
  Case c;
  std::vector<std::pair<std::string, std::string>> given = command.always;
  std::vector<std::string> flags_and_words;
  for (const Option& o : command.options) {
    if (o.required ? chance(10) : !chance(2)) continue;
    if (o.values.empty()) {  // a flag
      flags_and_words.push_back(o.name);
      continue;
    }
    std::vector<Value> pool;
    const bool want_bad = chance(10);
    for (const Value& v : o.values) {
      if (v.bad == want_bad) pool.push_back(v);
    }
    if (pool.empty()) pool = o.values;
    const Value& v = pool[rng() % pool.size()];
    if (o.name[0] != '-') {
      flags_and_words.push_back(v.text);  // a positional argument
    } else {
      auto same = std::find_if(given.begin(), given.end(),
                               [&](const auto& option) { return option.first == o.name; });
      if (same != given.end()) {
        same->second = v.text;
      } else {
        given.emplace_back(o.name, v.text);
      }
    }
    if (v.bad && o.read) c.must_fail = true;
  }
  c.args = command.words;
  for (const auto& [name, value] : given) {
    c.args.push_back(name);
    c.args.push_back(value);
  }
  c.args.insert(c.args.end(), flags_and_words.begin(), flags_and_words.end());
  if (chance(12)) {
    // (a stray word where the command takes one is its argument: `example --list stray`)
    const bool takes_words = std::any_of(command.options.begin(), command.options.end(),
                                         [](const Option& o) { return o.name[0] != '-'; });
    c.args.push_back(chance(2) || takes_words ? "--bogus" : "stray");
    c.must_fail = true;
  }
  // (every command prints on success, but `ner tag` of empty input: stdin is /dev/null)
  c.stdout_full = chance(8);
  const bool tags_a_file = std::find(c.args.begin(), c.args.end(), "text.txt") != c.args.end();
  if (c.stdout_full && (command.words.back() != "tag" || tags_a_file)) c.must_fail = true;
  return c;
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

TEST_F(CommandHarness, ExitStatusContractHoldsOnGeneratedCommandLines) {
  const std::uint64_t seed = env_number("NABLA_HARNESS_SEED", 24);
  const std::uint64_t cases = env_number("NABLA_HARNESS_CASES", 2000);
  const bool verbose = env_number("NABLA_HARNESS_VERBOSE", 0) != 0;  // each case and its exit
  std::mt19937_64 rng(seed);
  const std::vector<Command> all = commands();
  std::map<int, int> by_status;
  int false_zeros = 0;
  struct sigaction watchdog {};
  watchdog.sa_handler = on_watchdog;
  sigemptyset(&watchdog.sa_mask);
  struct sigaction old {};
  sigaction(SIGALRM, &watchdog, &old);
  g_stderr = ::dup(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < cases; ++i) {
    const Case c = draw(all[rng() % all.size()], rng);
    const std::string text = shown(c);
    std::snprintf(g_running, sizeof g_running, "%s", text.c_str());
    ::alarm(60);
    const auto case_start = std::chrono::steady_clock::now();
    const Outcome o = run(c.args, c.stdout_full);
    ::alarm(0);
    const double case_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - case_start).count();
    if (case_seconds > 2) {
      std::fprintf(stderr, "command harness: case %llu took %.1f s: nabla%s\n",
                   static_cast<unsigned long long>(i), case_seconds, text.c_str());
    }
    ++by_status[o.status];
    if (verbose) {
      std::printf("case %llu: exit %d: nabla%s\n  %s\n", static_cast<unsigned long long>(i),
                  o.status, text.c_str(), o.err.substr(0, o.err.find('\n')).c_str());
    }
    SCOPED_TRACE("case " + std::to_string(i) + ": nabla" + text + "\n" + o.err);
    EXPECT_TRUE(o.status == 0 || o.status == 1 || o.status == 2) << o.status;
    EXPECT_EQ(o.err.find("out of memory"), std::string::npos);
    if (o.status != 0) {
      EXPECT_NE(o.err, "") << "a failure that says nothing";
    }
    if (c.must_fail && o.status == 0) {
      ++false_zeros;
      ADD_FAILURE() << "exit status 0 for a command line that cannot succeed";
    }
  }
  sigaction(SIGALRM, &old, nullptr);
  ::close(g_stderr);
  g_stderr = STDERR_FILENO;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "command harness: %llu cases (seed %llu) in %.1f s: exit 0: %d, 1: %d, 2: %d; "
      "false zeros: %d\n",
      static_cast<unsigned long long>(cases), static_cast<unsigned long long>(seed), seconds,
      by_status[0], by_status[1], by_status[2], false_zeros);
  // The draw reaches every outcome.
  EXPECT_GT(by_status[0], 0);
  EXPECT_GT(by_status[1], 0);
  EXPECT_GT(by_status[2], 0);
}

}  // namespace
