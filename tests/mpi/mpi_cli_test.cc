// `mpirun -np P nabla train` and `nabla ner train` against `--shards P` in one process:
// the same bits for every model kind (an MLP's sparse first layer, a CNN with a batch norm
// and a dropout, an augmented CNN, a linear model, the window tagger's tables), P = 2 and
// 3; a resume under MPI; a rank that fails or starts from other data ends the job. Label
// `mpi`: built when CMake found MPI; NABLA_MPIRUN is its mpirun. tests/mpi/killed_rank.sh
// kills a rank.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <string>

#include "nabla/core/safetensors.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using nabla::testing_util::run_command;
using ::testing::HasSubstr;
using Result = nabla::testing_util::CommandResult;

// mpirun as root in a container too, more ranks than cores.
const std::string kMpirun =
    std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ") + "timeout 120 " +
    NABLA_MPIRUN + " --oversubscribe ";

class MpiCli : public nabla::testing_util::TempDirTest {
 protected:
  Result mpirun(int ranks, const std::string& args) {
    return run_command(kMpirun + "-np " + std::to_string(ranks) + " " + NABLA_CLI + " " + args);
  }
  Result alone(const std::string& args) { return run_command(std::string(NABLA_CLI) + " " + args); }

  // The tensors of two model files: the same names, shapes and bits.
  void expect_same_model(const std::string& a, const std::string& b) {
    nabla::SafetensorsFile x = nabla::load_safetensors(a);
    nabla::SafetensorsFile y = nabla::load_safetensors(b);
    ASSERT_EQ(x.tensors.size(), y.tensors.size());
    for (std::size_t k = 0; k < x.tensors.size(); ++k) {
      EXPECT_EQ(x.tensors[k].first, y.tensors[k].first);
      EXPECT_TRUE(nabla::testing_util::same_bits(x.tensors[k].second, y.tensors[k].second))
          << x.tensors[k].first << " differs between " << a << " and " << b;
    }
    auto streams = [](const nabla::SafetensorsFile& f) {
      auto it = f.metadata.find("model_rngs");
      return it == f.metadata.end() ? std::string() : it->second;
    };
    EXPECT_EQ(streams(x), streams(y));
  }

  static std::ptrdiff_t count_of(const std::string& text, const std::string& what) {
    std::ptrdiff_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
      ++n;
    return n;
  }

  // "state hash 0123456789abcdef" of a run's output.
  static std::string state_hash(const std::string& out) {
    std::smatch m;
    return std::regex_search(out, m, std::regex("state hash ([0-9a-f]{16})")) ? m[1].str() : "none";
  }

  // `nabla train ARGS` under mpirun -np P and alone with --shards P: the same model bits
  // and state hash.
  void expect_mpi_equals_shards(int ranks, const std::string& args) {
    const std::string p = std::to_string(ranks);
    Result a = mpirun(ranks, args + " --out " + path("mpi" + p));
    ASSERT_EQ(a.status, 0) << a.out;
    Result b = alone(args + " --shards " + p + " --out " + path("shards" + p));
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_THAT(a.out, HasSubstr("batch in " + p + " slices, Open MPI, " + p + " ranks"));
    EXPECT_NE(state_hash(a.out), "none") << a.out;
    EXPECT_EQ(state_hash(a.out), state_hash(b.out));
    expect_same_model(path("mpi" + p) + "/model.safetensors",
                      path("shards" + p) + "/model.safetensors");
    // Rank 0 alone printed: one header, one line per evaluation.
    EXPECT_EQ(count_of(a.out, "model saved to"), 1) << a.out;
    EXPECT_EQ(count_of(a.out, "train acc, test acc"), count_of(b.out, "train acc, test acc"));
  }

  std::string mnist() {
    const std::string dir = path("mnist");
    if (!fs::exists(dir)) nabla::testing_util::write_small_mnist(dir, 300, 100);
    return dir;
  }

  // A CSV file of labelled rows: 6 features, 3 classes by the largest of the first three.
  std::string csv() {
    const std::string file = path("rows.csv");
    if (fs::exists(file)) return file;
    std::ofstream out(file);
    for (int i = 0; i < 240; ++i) {
      double v[6];
      for (int k = 0; k < 6; ++k) v[k] = ((i * 37 + k * 11) % 17) / 17.0;
      const int label = v[0] >= v[1] && v[0] >= v[2] ? 0 : v[1] >= v[2] ? 1 : 2;
      out << label;
      for (double x : v) out << "," << x;
      out << "\n";
    }
    return file;
  }
};

TEST_F(MpiCli, MlpSparseMatchesShards) {
  const std::string args =
      "train --model mlp --hidden 20,20 --iters 5 --batch 30 --data " + mnist();
  expect_mpi_equals_shards(2, args);
  expect_mpi_equals_shards(3, args);
}

TEST_F(MpiCli, CnnWithBatchNormAndDropoutMatchesShards) {
  const std::string args =
      "train --arch 'conv:4x5,stride=3 batchnorm relu maxpool:2 affine:20 relu dropout:0.3 "
      "affine:10' --optimizer adam --lr 0.01 --batch 20 --iters 4 --data " +
      mnist();
  expect_mpi_equals_shards(2, args);
  expect_mpi_equals_shards(3, args);
}

TEST_F(MpiCli, AugmentedCnnMatchesShards) {
  // Each rank moves its slice's images by the shifts drawn for the whole batch.
  const std::string args =
      "train --arch 'conv:4x5,stride=3 relu maxpool:2 affine:10' --augment shift:2 --optimizer "
      "adam --lr 0.01 --batch 20 --iters 4 --data " +
      mnist();
  expect_mpi_equals_shards(2, args);
}

TEST_F(MpiCli, LinearOnRowsMatchesShards) {
  const std::string args = "train --model linear --reg 0.001 --iters 6 --batch 25 --data " + csv();
  expect_mpi_equals_shards(2, args);
  expect_mpi_equals_shards(3, args);
}

TEST_F(MpiCli, NerTaggerMatchesShards) {
  // A few hundred tokens of BTC, and made-up vectors for their words.
  std::ifstream in(std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc.train");
  std::string line, text;
  std::vector<std::string> words;
  for (int i = 0; std::getline(in, line) && (i < 400 || !line.empty()); ++i) {
    text += line + "\n";
    std::string word = line.substr(0, line.find('\t'));
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!word.empty() && words.size() < 40 &&
        std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word);
    }
  }
  std::ofstream(path("train")) << text;
  nabla::testing_util::write_glove(path("vectors"), words, 8);
  const std::string files = " --train " + path("train") + " --dev " + path("train") + " --test " +
                            path("train") + " --vectors " + path("vectors");
  for (int ranks : {2, 3}) {
    const std::string p = std::to_string(ranks);
    const std::string args = "ner train --epochs 1 --batch 32 --hidden 10 --window 1" + files;
    Result a = mpirun(ranks, args + " --out " + path("mpi" + p));
    ASSERT_EQ(a.status, 0) << a.out;
    Result b = alone(args + " --shards " + p + " --out " + path("shards" + p));
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_THAT(a.out, HasSubstr("batch in " + p + " slices, Open MPI, " + p + " ranks"));
    EXPECT_NE(state_hash(a.out), "none") << a.out;
    EXPECT_EQ(state_hash(a.out), state_hash(b.out));
    expect_same_model(path("mpi" + p) + "/model.safetensors",
                      path("shards" + p) + "/model.safetensors");
  }
}

TEST_F(MpiCli, ResumesWithTheSameRanksOnly) {
  const std::string args =
      "train --arch 'conv:4x5,stride=3 batchnorm relu dropout:0.3 affine:10' --optimizer adam "
      "--lr 0.01 --batch 20 --data " +
      mnist();
  ASSERT_EQ(mpirun(2, args + " --iters 3 --out " + path("part")).status, 0);
  Result r = mpirun(2, "train --resume " + path("part") + "/model.safetensors --iters 6 --data " +
                           mnist() + " --out " + path("part"));
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_EQ(alone(args + " --iters 6 --shards 2 --out " + path("whole")).status, 0);
  expect_same_model(path("part") + "/model.safetensors", path("whole") + "/model.safetensors");
  // Another number of ranks: refused, naming the ones it was trained with.
  Result three =
      mpirun(3, "train --resume " + path("part") + "/model.safetensors --iters 9 --data " +
                    mnist() + " --out " + path("part"));
  EXPECT_NE(three.status, 0);
  EXPECT_THAT(three.out, HasSubstr("was trained with each batch in 2 slices (--shards or MPI "
                                   "ranks), not 3: resume it with mpirun -np 2 or --shards 2"));
}

TEST_F(MpiCli, AFailingRankEndsTheJob) {
  // Rank 1 cannot read its data: every rank ends, none waits (timeout 120 would say 124).
  const std::string common =
      " train --model mlp --hidden 20 --iters 50 --batch 30 --out " + path("r");
  Result r = run_command(kMpirun + "-np 1 " + NABLA_CLI + common + " --data " + mnist() +
                         " : -np 1 " + NABLA_CLI + common + " --data " + path("nowhere"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.status, 124) << "the job hung";
  EXPECT_THAT(r.out, HasSubstr("nabla train: rank 1 of 2: "));
  EXPECT_THAT(r.out, HasSubstr("nowhere"));
  // Rank 1 reads other data: refused before the first step, by every rank.
  nabla::testing_util::write_small_mnist(path("other"), 310, 100);
  r = run_command(kMpirun + "-np 1 " + NABLA_CLI + common + "2 --data " + mnist() + " : -np 1 " +
                  NABLA_CLI + common + "2 --data " + path("other"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.status, 124) << "the job hung";
  EXPECT_THAT(r.out, HasSubstr("rank 1 of 2 starts from another model, other options or other "
                               "data than rank 0"));
  // --shards that is not the number of ranks.
  r = mpirun(2, "train --model mlp --iters 2 --shards 3 --data " + mnist() + " --out " + path("s"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--shards 3 with 2 MPI ranks"));
}

}  // namespace
