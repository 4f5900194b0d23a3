// Runs the `nabla` command as a user would and checks what it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace {

using ::testing::HasSubstr;

struct Result {
  std::string out;
  int status = -1;
};

Result run(const std::string& args) {
  std::string cmd = std::string(NABLA_CLI) + " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
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
  std::string path = ::testing::TempDir() + "apple.dot";
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

}  // namespace
