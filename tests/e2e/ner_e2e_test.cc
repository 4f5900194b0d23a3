// The issue's "done" for NER, briefly: `nabla ner train` with the default model (window
// 2, GloVe 100-d fine-tuned + shape vectors, tanh hidden 100, the viterbi decoder over
// learned tag transitions, Adam 1e-3, batches of 4 sentences) on the Broad Twitter Corpus,
// 2 epochs instead of 10 (the model picked on dev F1 is the second epoch's in a 10-epoch
// run too): dev and test entity F1 above honest floors, and `nabla ner eval` reproducing
// the test F1 of the model kept (best.safetensors). Measured on this corpus after 2
// epochs of 10: dev 0.7306, test 0.7195 (the window decoder: 0.7259, 0.6890).
//
// CTest label `slow`. Uses the full GloVe table, data/glove/glove.6B.100d.txt (where
// scripts/fetch_glove.sh puts it); skipped when it is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>

#include "test_util.h"

namespace {

using ::testing::HasSubstr;

TEST(NerEndToEnd, BtcTwoEpochs) {
  const std::string glove = nabla::testing_util::glove_file();
  if (!std::ifstream(glove)) GTEST_SKIP() << glove << " is missing; run scripts/fetch_glove.sh";
  nabla::testing_util::ScopedTempDir dir("ner_e2e");
  const std::string btc = std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc.";
  auto r = nabla::testing_util::run_nabla("ner train --epochs 2 --vectors " + glove + " --train " +
                                          btc + "train --dev " + btc + "dev --test " + btc +
                                          "test --out " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(final: dev F1, test F1 \| (0\.\d{4}), (0\.\d{4}))")))
      << r.out;
  EXPECT_GE(std::stod(m[1]), 0.70) << r.out;
  EXPECT_GE(std::stod(m[2]), 0.69) << r.out;  // the PyTorch window peer: 0.679 after 10 epochs
  const std::string test_f1 = m[2];
  auto eval = nabla::testing_util::run_nabla("ner eval --model " + (dir / "run/best.safetensors") +
                                             " --data " + btc + "test");
  EXPECT_THAT(eval.out, HasSubstr("entity F1 | " + test_f1 + "\n"));
}

}  // namespace
