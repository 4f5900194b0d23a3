// Helpers shared by the tests: a fresh temporary directory per test, whole-file byte
// reads and writes, running a command line (or the `nabla` tool) and collecting what it
// prints, the message of an expected exception, bitwise tensor equality, made-up word
// vectors, a small made-up MNIST, and where MNIST and GloVe are.
// Header-only; each test binary includes what it uses.
#ifndef NABLA_TESTS_TEST_UTIL_H_
#define NABLA_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/tensor.h"
#include "nabla/detail/workers.h"
#include "nabla/data/idx.h"

namespace nabla::testing_util {

// f(), with `threads` threads lent to the ops it runs (detail/workers.h's ThreadScope).
template <class F>
decltype(auto) with_threads(int threads, F&& f) {
  Workers workers(threads);
  ThreadScope scope(&workers);
  return f();
}

// A directory of its own under temp_directory_path(), made by mkdtemp (so two runs of the
// tests at once never share one), removed with everything in it when it goes.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(std::string stem = "test") {
    std::replace(stem.begin(), stem.end(), '/', '_');
    std::string name = (std::filesystem::temp_directory_path() / ("nabla_" + stem + "_XXXXXX"));
    if (::mkdtemp(name.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << name << " failed";
    }
    path_ = name;
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // The path of `name` in the directory.
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A fresh directory per test, a ScopedTempDir named after the suite and the test ('/' of
// parameterised names replaced by '_'), removed afterwards. Fixtures derive from it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    temp_ =
        std::make_unique<ScopedTempDir>(std::string(info->test_suite_name()) + "_" + info->name());
    dir_ = temp_->path();
  }
  void TearDown() override { temp_.reset(); }

  // The path of `name` in the test's directory.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<ScopedTempDir> temp_;
  std::filesystem::path dir_;
};

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

struct CommandResult {
  std::string out;  // stdout and stderr
  int status = -1;  // the exit status; -1 if it could not run or did not exit
};

// Runs a shell command line, stderr joined to stdout.
inline CommandResult run_command(const std::string& command_line) {
  std::string cmd = "{ " + command_line + "; } 2>&1";
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

#ifdef NABLA_CLI
// Runs `nabla ARGS` (NABLA_CLI is the built binary); `prefix` goes before it (e.g.
// "cd DIR && NABLA_DATA=...").
inline CommandResult run_nabla(const std::string& args, const std::string& prefix = "") {
  return run_command(prefix + " " + NABLA_CLI + " " + args);
}
#endif

// The message of the exception of type E that f() throws ("(no exception)" if none).
template <class E, class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

// Float64 values drawn uniformly from [low, high) with Rng(seed), for gradient checks.
inline Tensor random(Shape shape, std::uint64_t seed, double low = -2, double high = 2) {
  Rng rng(seed);
  return Tensor::uniform(std::move(shape), rng, low, high, DType::f64);
}

// Writes made-up word vectors in GloVe's text format, "word v1 ... v_dim" a line, for
// tests that must not depend on downloaded data: each component is drawn from [-0.5, 0.5)
// by mt19937_64 from `seed` (its raw output, the same everywhere) and printed with 4
// decimals, so the file is the same on every machine.
inline void write_glove(const std::string& path, const std::vector<std::string>& words, int dim,
                        std::uint64_t seed = 1) {
  std::mt19937_64 bits(seed);
  std::ofstream out(path);
  for (const std::string& word : words) {
    out << word;
    for (int i = 0; i < dim; ++i) {
      const auto ten_thousandths = static_cast<long long>(bits() % 10000) - 5000;
      out << ' ' << static_cast<double>(ten_thousandths) / 10000.0;
    }
    out << '\n';
  }
}

// MNIST's four IDX files in dir (made if need be), with `train` and `test` images of
// 28 x 28 pixels: image i is of class i % 10, a bright band on rows 2c and 2c + 1 over a
// dim pattern of its own, so that any reasonable classifier gets every image right.
inline void write_small_mnist(const std::filesystem::path& dir, std::int64_t train,
                              std::int64_t test) {
  std::filesystem::create_directories(dir);
  auto write_split = [&](const std::string& prefix, std::int64_t n) {
    IdxArray images{{n, 28, 28}, {}};
    IdxArray labels{{n}, {}};
    for (std::int64_t i = 0; i < n; ++i) {
      const auto c = static_cast<std::uint8_t>(i % 10);
      labels.data.push_back(c);
      for (std::int64_t y = 0; y < 28; ++y) {
        for (std::int64_t x = 0; x < 28; ++x) {
          const bool band = y == 2 * c || y == 2 * c + 1;
          images.data.push_back(static_cast<std::uint8_t>(band ? 220 : (x * 7 + y * 3 + i) % 30));
        }
      }
    }
    write_idx((dir / (prefix + "-images-idx3-ubyte")).string(), images);
    write_idx((dir / (prefix + "-labels-idx1-ubyte")).string(), labels);
  };
  write_split("train", train);
  write_split("t10k", test);
}

// The same shape, dtype and bytes.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.same_layout(b) && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

#ifdef NABLA_SOURCE_DIR
// The MNIST directory of the end-to-end tests: $NABLA_DATA, else data/mnist of the source
// tree (where scripts/fetch_mnist.sh puts it).
inline std::string mnist_dir() {
  const char* env = std::getenv("NABLA_DATA");
  if (env != nullptr && *env != '\0') return env;
  return std::string(NABLA_SOURCE_DIR) + "/data/mnist";
}

// Whether mnist_dir() has the four files (plain or .gz).
inline bool have_mnist() {
  for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    const std::filesystem::path p = std::filesystem::path(mnist_dir()) / stem;
    if (!std::filesystem::exists(p) && !std::filesystem::exists(p.string() + ".gz")) return false;
  }
  return true;
}

// The full GloVe 6B 100-d table of the end-to-end tests, where scripts/fetch_glove.sh
// puts it.
inline std::string glove_file() {
  return std::string(NABLA_SOURCE_DIR) + "/data/glove/glove.6B.100d.txt";
}
#endif

}  // namespace nabla::testing_util

#endif  // NABLA_TESTS_TEST_UTIL_H_
