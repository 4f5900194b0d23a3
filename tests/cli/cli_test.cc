// Runs the `nabla` command as a user would and checks what it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "test_util.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Result = nabla::testing_util::CommandResult;

Result run(const std::string& args) { return nabla::testing_util::run_nabla(args); }

TEST(Cli, VersionNamesTheBuildAndTheKernelLevel) {
  Result r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(^nabla \d+\.\d+\.\d+ \(\w+ build\), kernels (scalar|avx2|avx512|neon), )"
                        R"(OpenBLAS \w+\n$)")))
      << r.out;
  // NABLA_ISA asks for a level; a level this CPU lacks is lowered to what it has, with a
  // warning; a name that is no level is refused
  Result scalar = nabla::testing_util::run_nabla("--version", "NABLA_ISA=scalar");
  EXPECT_EQ(scalar.status, 0);
  EXPECT_THAT(scalar.out, HasSubstr("kernels scalar"));
  Result avx512 = nabla::testing_util::run_nabla("--version", "NABLA_ISA=avx512");
  EXPECT_EQ(avx512.status, 0);
  if (avx512.out.find("kernels avx512") == std::string::npos) {
    EXPECT_THAT(avx512.out, HasSubstr("NABLA_ISA=avx512, but this CPU"));
  }
  Result bad = nabla::testing_util::run_nabla("--version", "NABLA_ISA=sse9");
  EXPECT_NE(bad.status, 0);
  EXPECT_THAT(bad.out,
              HasSubstr("NABLA_ISA='sse9': no such level (use scalar, avx2, avx512 or neon)"));
}

// The OpenBLAS kernels `nabla --version` reports (e.g. "SkylakeX"), lower-cased.
std::string blas_core_of(const Result& r) {
  std::smatch m;
  std::string core;
  if (std::regex_search(r.out, m, std::regex(R"(OpenBLAS (\w+))"))) core = m[1];
  for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return core;
}

TEST(Cli, OpenBlasRunsKernelsOfTheLevelOfNablas) {
  // Left to itself, OpenBLAS 0.3.21 takes its oldest kernels (Prescott) on CPUs it does
  // not know; the command starts again with OPENBLAS_CORETYPE set where that happens.
  const std::regex avx512_cores("skylakex|cooperlake|sapphirerapids");
  const std::regex avx2_cores("haswell|zen|skylakex|cooperlake|sapphirerapids");
  for (const char* isa : {"", "avx2"}) {
    Result r = nabla::testing_util::run_nabla(
        "--version", std::string("env -u OPENBLAS_CORETYPE NABLA_ISA=") + isa);
    ASSERT_EQ(r.status, 0) << r.out;
    const std::string core = blas_core_of(r);
    if (r.out.find("kernels avx512") != std::string::npos) {
      EXPECT_TRUE(std::regex_match(core, avx512_cores)) << r.out;
    } else if (r.out.find("kernels avx2") != std::string::npos) {
      EXPECT_TRUE(std::regex_match(core, avx2_cores)) << r.out;
    }
  }
  // a user's own choice is kept (one of this processor's OpenBLAS kernel sets: an x86 name
  // means nothing to OpenBLAS on ARM)
#if defined(__aarch64__)
  const std::string own_core = "NeoverseN1";
#else
  const std::string own_core = "Prescott";
#endif
  Result own = nabla::testing_util::run_nabla("--version", "OPENBLAS_CORETYPE=" + own_core);
  std::string expected = own_core;
  for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(blas_core_of(own), expected) << own.out;
}

// Found by the command harness (issue 24): `nabla example` without a name listed the
// examples and exited 2 with nothing on stderr.
TEST(Cli, ExampleWithoutANameIsAUsageErrorThatSaysSo) {
  Result r = nabla::testing_util::run_nabla("example 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out,
            "nabla example: error: give the name of an example (the list above)\n"
            "Run 'nabla example --help' for more.\n");
}

// Found by the command harness (issue 24): gradcheck took --seed -1 as 2^64 - 1 and ""
// as 0, and ran.
TEST(Cli, GradcheckSeedIsAWholeNumber) {
  for (const char* seed : {"-1", "''", "99999999999999999999", "2.5"}) {
    Result r = run(std::string("gradcheck --samples 1 --seed ") + seed);
    EXPECT_EQ(r.status, 2) << seed << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("--seed: must be a whole number from 0 to 18446744073709551615"))
        << seed;
  }
}

TEST(Cli, ExampleListNamesEveryCase) {
  Result r = run("example --list");
  EXPECT_EQ(r.status, 0);
  for (const char* name : {"apple", "apple-orange", "add-mul", "square-sum", "sigmoid-gate",
                           "relu-mask", "affine-bias", "softmax-loss"}) {
    EXPECT_THAT(r.out, HasSubstr(name));
  }
}

TEST(Cli, Apple) {
  Result r = run("example apple");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("price = 220\n"));
  EXPECT_THAT(r.out, HasSubstr("d_apple = 2.2\n"));
  EXPECT_THAT(r.out, HasSubstr("d_apple_num = 110\n"));
  EXPECT_THAT(r.out, HasSubstr("d_tax = 200\n"));
}

TEST(Cli, AppleOrange) {
  Result r = run("example apple-orange");
  EXPECT_THAT(r.out, HasSubstr("price = 715\n"));
  EXPECT_THAT(r.out, HasSubstr("d_apple_num = 110\n"));
  EXPECT_THAT(r.out, HasSubstr("d_apple = 2.2\n"));
  EXPECT_THAT(r.out, HasSubstr("d_orange = 3.3\n"));
  EXPECT_THAT(r.out, HasSubstr("d_orange_num = 165\n"));
  EXPECT_THAT(r.out, HasSubstr("d_tax = 650\n"));
}

TEST(Cli, AddMulAndSquareSum) {
  Result r = run("example add-mul");
  EXPECT_THAT(r.out, HasSubstr("f = -12\n"));
  EXPECT_THAT(r.out, HasSubstr("df/dx = -4\n"));
  EXPECT_THAT(r.out, HasSubstr("df/dy = -4\n"));
  EXPECT_THAT(r.out, HasSubstr("df/dz = 3\n"));
  Result s = run("example square-sum");
  EXPECT_THAT(s.out, HasSubstr("z = 9\n"));
  EXPECT_THAT(s.out, HasSubstr("dz/dx = 6\n"));
  EXPECT_THAT(s.out, HasSubstr("dz/dy = 6\n"));
}

TEST(Cli, SigmoidGateBothWays) {
  Result r = run("example sigmoid-gate");
  EXPECT_EQ(r.status, 0);
  // the same five gradients, printed twice: primitive nodes and the fused node
  for (const char* line : {"f = 0.731059\n", "dw0 = -0.196612\n", "dx0 = 0.393224\n",
                           "dw1 = -0.393224\n", "dx1 = -0.589836\n", "dw2 = 0.196612\n"}) {
    std::size_t first = r.out.find(line);
    ASSERT_NE(first, std::string::npos) << line;
    EXPECT_NE(r.out.find(line, first + 1), std::string::npos) << line;
  }
}

TEST(Cli, ReluAffineSoftmax) {
  Result relu = run("example relu-mask");
  EXPECT_THAT(relu.out, HasSubstr("mask (x <= 0) = [[0, 1], [1, 0]]\n"));
  EXPECT_THAT(relu.out, HasSubstr("out = [[1, 0], [0, 3]]\n"));
  EXPECT_THAT(relu.out, HasSubstr("dx = [[1, 0], [0, 1]]\n"));
  Result affine = run("example affine-bias");
  EXPECT_THAT(affine.out, HasSubstr("Y = [[1, 2, 3], [11, 12, 13]]\n"));
  EXPECT_THAT(affine.out, HasSubstr("dB = [5, 7, 9]\n"));
  Result soft = run("example softmax-loss");
  EXPECT_THAT(soft.out, HasSubstr("y - t = [[0.3, -0.8, 0.5]]\n"));
  EXPECT_THAT(soft.out, HasSubstr("y - t = [[0.01, -0.01, 0]]\n"));
}

TEST(Cli, ExampleWritesDot) {
  nabla::testing_util::ScopedTempDir dir("cli");
  std::string path = dir / "apple.dot";
  Result r = run("example apple --dot " + path);
  EXPECT_EQ(r.status, 0);
  std::ifstream in(path);
  std::stringstream dot;
  dot << in.rdbuf();
  EXPECT_THAT(dot.str(), HasSubstr("digraph"));
  EXPECT_THAT(dot.str(), HasSubstr("apple_num | value 2 | grad 110"));
}

TEST(Cli, UnknownExampleFails) {
  Result r = run("example pear");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.out, HasSubstr("unknown example 'pear'"));
}

TEST(Cli, GradcheckPasses) {
  Result r = run("gradcheck");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("W1: "));
  EXPECT_THAT(r.out, HasSubstr("b2: "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("FAILED")));
}

TEST(Cli, GradcheckFailsWhenThresholdIsImpossible) {
  Result r = run("gradcheck --samples 1 --max-mean-abs 0 --max-rel 0");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("FAILED"));
}

// ---- the optimization lecture's examples (issue 5) ------------------------------------

TEST(Cli, SvmLossExample) {
  Result r = run("example svm-loss");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("L_cat = 2.9\n"));
  EXPECT_THAT(r.out, HasSubstr("L_car = 0\n"));
  EXPECT_THAT(r.out, HasSubstr("L_frog = 12.9\n"));
  EXPECT_THAT(r.out, HasSubstr("L = mean = 5.27\n"));
}

TEST(Cli, SoftmaxProbabilitiesExample) {
  Result r = run("example softmax-probabilities");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("exp = [9.97, 0.3]\n"));
  EXPECT_THAT(r.out, HasSubstr("probabilities = [0.97, 0.03]\n"));
  EXPECT_THAT(r.out, HasSubstr("-log(0.03) = 3.5\n"));
}

TEST(Cli, L1DistanceExample) {
  Result r = run("example l1-distance");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("|test - training| = [[46, 12, 14, 1], [82, 13, 39, 33], "
                               "[12, 10, 0, 30], [2, 32, 22, 108]]\n"));
  EXPECT_THAT(r.out, HasSubstr("d1 = 456\n"));
}

TEST(Cli, NumericalGradientWalkthrough) {
  Result r = run("example numerical-gradient");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("(1.25322 - 1.25347) / 0.0001 = -2.5\n"));
  // ten weights shown, each with its forward difference next to the analytic gradient
  std::regex row(
      R"(W\[\d+\]: loss [0-9.]+ -> [0-9.]+, numerical ([-+][0-9.]+), analytic ([-+][0-9.]+), diff ([0-9.e+-]+))");
  int rows = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), row), end; it != end; ++it, ++rows) {
    double numerical = std::stod((*it)[1]), analytic = std::stod((*it)[2]);
    EXPECT_NEAR(numerical, analytic, 1e-4);  // forward differences: error O(h)
    EXPECT_NEAR(std::stod((*it)[3]), std::abs(numerical - analytic), 2e-6);
  }
  EXPECT_EQ(rows, 10);
  EXPECT_THAT(r.out, HasSubstr("time: numerical "));
}

// ---- conventions: unknown words, exit status (issue 15) --------------------------------

TEST(Cli, UnknownCommandIsNamedWithTheClosestOne) {
  Result r = run("trian --iters 5");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla: error: unknown command 'trian'; did you mean 'train'? "
                               "(commands: example, gradcheck, knn, train, eval, predict, export, ner, "
                               "landscape, optimizers)"));
  r = run("");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla: error: a command is required: example, gradcheck, knn, "
                               "train, eval, predict"));
  r = run("frobnicate");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("unknown command 'frobnicate' (commands: "));  // nothing close
}

// A command of commands (`ner`) names its own mistyped command, and asks for one.
TEST(Cli, UnknownNestedCommandIsNamedWithTheClosestOne) {
  Result r = run("ner tagg --model m.safetensors");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla ner: error: unknown command 'tagg'; did you mean 'tag'? "
                               "(commands: train, eval, tag)"));
  r = run("ner");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla ner: error: a command is required: train, eval, tag"));
  // An option of `ner train` is suggested from ner train's own options.
  r = run("ner train --epoch 2");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla ner train: error: unknown option '--epoch'; did you mean "
                               "'--epochs'?"));
}

// An option's enumerated values: the allowed ones listed, the closest suggested.
TEST(Cli, MistypedOptionValueIsNamedWithTheClosestOne) {
  Result r = run("train --optimizer adm");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--optimizer: must be one of "));
  EXPECT_THAT(r.out, HasSubstr(", got 'adm'; did you mean 'adam'?"));
  r = run("knn --distance l3");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--distance: must be one of l1, l2, got 'l3'; did you mean"));
  r = run("export --format onnx a b");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--format: must be one of torch, got 'onnx'"));
  EXPECT_THAT(r.out, Not(HasSubstr("did you mean")));  // nothing close
}

// --threads has one range in every command.
TEST(Cli, ThreadsHaveOneRange) {
  for (const std::string command : {"train", "knn", "ner train"}) {
    Result r = run(command + " --threads 257");
    EXPECT_EQ(r.status, 2) << command << "\n" << r.out;
    EXPECT_THAT(r.out, HasSubstr("--threads: Value 257 not in range 1 to 256")) << command;
  }
}

// --help shows each option's default, in knn and gradcheck as in train.
TEST(Cli, HelpShowsDefaults) {
  Result knn = run("knn --help");
  EXPECT_EQ(knn.status, 0) << knn.out;
  EXPECT_THAT(knn.out, ::testing::ContainsRegex("--folds [^\n]*=5\n"));
  EXPECT_THAT(knn.out, ::testing::ContainsRegex("--distance [^\n]*=l2 "));
  EXPECT_THAT(knn.out, ::testing::ContainsRegex("--threads [^\n]*=2\n"));
  Result gradcheck = run("gradcheck --help");
  EXPECT_EQ(gradcheck.status, 0) << gradcheck.out;
  EXPECT_THAT(gradcheck.out, ::testing::ContainsRegex("--samples [^\n]*=3\n"));
  EXPECT_THAT(gradcheck.out, ::testing::ContainsRegex("--model [^\n]*=two-layer\n"));
}

TEST(Cli, UnknownOptionIsNamedWithTheClosestOne) {
  Result r = run("train --iter 5");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla train: error: unknown option '--iter'; did you mean "
                               "'--iters'?"));
  r = run("eval --modle m.safetensors");  // reported before the missing --model
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla eval: error: unknown option '--modle'; did you mean "
                               "'--model'?"));
  r = run("predict --model m.safetensors --jsno");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("unknown option '--jsno'; did you mean '--json'?"));
  r = run("--verison");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("nabla: error: unknown option '--verison'; did you mean "
                               "'--version'?"));
  r = run("train --lr=0.1 --smapling=shuffle");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("unknown option '--smapling'; did you mean '--sampling'?"));
}

TEST(Cli, EveryCommandExitsWithTwoOnAUsageError) {
  for (const char* args :
       {"train --lr -1", "train --iters 10 --epochs 2", "eval", "eval --model", "predict",
        "predict --model m.safetensors", "knn --k x", "gradcheck --samples many", "example pear",
        "example apple --dott x", "nabla"}) {
    Result r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("nabla( [a-z]+)?: error: ")) << args;
  }
  // ... and documents it in every --help.
  for (const char* args : {"--help", "train --help", "eval --help", "predict --help", "knn --help",
                           "gradcheck --help", "example --help"}) {
    Result r = run(args);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_THAT(r.out, HasSubstr("Exit status: 0 success; 1 runtime error")) << args;
    EXPECT_THAT(r.out, HasSubstr("2 usage error")) << args;
  }
}

}  // namespace
