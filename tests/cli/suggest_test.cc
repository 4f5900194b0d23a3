// "Did you mean ...?" for the command line (apps/nabla/suggest.h).
#include "suggest.h"

#include <gtest/gtest.h>

namespace nabla::cli {
namespace {

TEST(EditDistance, CountsEditsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("train", "train"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("iter", "iters"), 1u);      // an insertion
  EXPECT_EQ(edit_distance("trian", "train"), 1u);     // two neighbours swapped
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);  // k->s, e->i, +g
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);          // a swap is not edited again
  EXPECT_EQ(edit_distance("abc", "ca"), edit_distance("ca", "abc"));
}

TEST(ClosestMatch, SuggestsOnlyLikelyTypos) {
  const std::vector<std::string> commands = {"example", "gradcheck", "knn",
                                             "train",   "eval",      "predict"};
  EXPECT_EQ(closest_match("trian", commands), "train");
  EXPECT_EQ(closest_match("evl", commands), "eval");
  EXPECT_EQ(closest_match("predcit", commands), "predict");
  EXPECT_EQ(closest_match("frobnicate", commands), std::nullopt);
  EXPECT_EQ(closest_match("", commands), std::nullopt);
  const std::vector<std::string> options = {"--iters", "--epochs", "--lr", "--help", "--sampling"};
  EXPECT_EQ(closest_match("--iter", options), "--iters");
  EXPECT_EQ(closest_match("-iters", options), "--iters");     // the dashes do not count
  EXPECT_EQ(closest_match("--samp", options), "--sampling");  // a prefix of one option only
  EXPECT_EQ(closest_match("--x", options), std::nullopt);
  EXPECT_EQ(closest_match("--lf", options), "--lr");
}

}  // namespace
}  // namespace nabla::cli
