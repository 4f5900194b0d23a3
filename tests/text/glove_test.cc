// The GloVe text reader, and word ids / windows for window classification.
#include "nabla/text/glove.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/data/idx.h"
#include "nabla/text/word_windows.h"
#include "test_util.h"

namespace nabla {
namespace {

WordVectors parse(const std::string& text,
                  const std::unordered_map<std::string, std::int64_t>* keep = nullptr) {
  std::istringstream in(text);
  return parse_glove(in, "mem.txt", keep);
}

std::string error_of(const std::string& text) {
  return testing_util::error_of<DataError>([&] { parse(text); });
}

TEST(Glove, ReadsWordsAndVectors) {
  WordVectors v = parse("the 0.5 -1.25 3\nparis 1e-3 2 -0\n");
  EXPECT_EQ(v.dim, 3);
  EXPECT_EQ(v.size(), 2);
  EXPECT_EQ(v.find("paris"), 1);
  EXPECT_EQ(v.find("london"), -1);
  EXPECT_FLOAT_EQ(v.row(0)[1], -1.25f);
  EXPECT_FLOAT_EQ(v.row(1)[0], 0.001f);
}

TEST(Glove, KeepsOnlyTheWordsAsked) {
  std::unordered_map<std::string, std::int64_t> keep = {{"paris", 0}, {"rome", 1}};
  WordVectors v = parse("the 1 2\nparis 3 4\nlondon 5 6\n", &keep);
  ASSERT_EQ(v.size(), 1);
  EXPECT_EQ(v.words[0], "paris");
  EXPECT_FLOAT_EQ(v.row(0)[1], 4.0f);
}

TEST(Glove, BadInputNamesFileAndLine) {
  EXPECT_EQ(error_of("a 1 2\nb 1 2 3\n"), "mem.txt:2: 'b' has 3 components; line 1 has 2");
  EXPECT_EQ(error_of("a 1 2\nb 1 x\n"),
            "mem.txt:2: component 2 of 'b' is not a finite number: 'x'");
  EXPECT_EQ(error_of("a 1 2\nb 1 nan\n"),
            "mem.txt:2: component 2 of 'b' is not a finite number: 'nan'");
  EXPECT_EQ(error_of("a 1 2\na 3 4\n"), "mem.txt:2: 'a' again (first at line 1)");
  EXPECT_EQ(error_of("a 1  2\n"), "mem.txt:1: components must be separated by single spaces");
  EXPECT_EQ(error_of("lonely\n"), "mem.txt:1: expected a word and its components, found 'lonely'");
  EXPECT_EQ(error_of(""), "mem.txt: no word vectors (empty file?)");
  EXPECT_THROW(read_glove("/nonexistent/glove.txt"), DataError);
  // A device has no end (/dev/zero has not even a line's end): only regular files are read.
  EXPECT_EQ(testing_util::error_of<DataError>([] { read_glove("/dev/zero"); }),
            "/dev/zero: is a device, not a word-vector file");
}

// The first line sets the dimension, which sizes every model built on the vectors: a line
// of more than 10,000 components (kMaxGloveDim) is refused as soon as it has one too many.
TEST(Glove, DimensionIsCapped) {
  auto line = [](const std::string& word, std::int64_t components) {
    std::string text = word;
    for (std::int64_t i = 0; i < components; ++i) text += " 0.5";
    return text + "\n";
  };
  EXPECT_EQ(parse(line("a", 10000)).dim, 10000);
  EXPECT_EQ(error_of(line("wide", 200000)),
            "mem.txt:1: 'wide' has more than 10000 components, the most a word vector may have");
  EXPECT_EQ(error_of(line("a", 3) + line("wide", 10001)),
            "mem.txt:2: 'wide' has more than 10000 components, the most a word vector may have");
}

TEST(Glove, ReadsAFile) {
  testing_util::ScopedTempDir dir("glove");
  const std::vector<std::string> words = {"the", "paris", "is", "in", "france", "@bbc", "2016"};
  testing_util::write_glove(dir / "vectors.txt", words, 5);
  WordVectors v = read_glove(dir / "vectors.txt");
  EXPECT_EQ(v.words, words);
  EXPECT_EQ(v.dim, 5);
  EXPECT_EQ(v.find("@bbc"), 5);
  // the same numbers as the text, which a second parse of it gives
  std::ifstream in(dir / "vectors.txt");
  std::string first_line;
  std::getline(in, first_line);
  WordVectors again = parse(first_line + "\n");
  EXPECT_EQ(std::vector<float>(v.row(0), v.row(0) + 5), again.values);

  std::unordered_map<std::string, std::int64_t> keep = {{"paris", 0}, {"rome", 1}};
  WordVectors kept = read_glove(dir / "vectors.txt", &keep);
  EXPECT_EQ(kept.words, std::vector<std::string>{"paris"});
  EXPECT_EQ(std::vector<float>(kept.row(0), kept.row(0) + 5),
            std::vector<float>(v.row(1), v.row(1) + 5));
}

TEST(WordWindows, VocabularyHasPaddingAndUnknown) {
  Vocabulary vocab;
  EXPECT_EQ(vocab.size(), 2);
  EXPECT_EQ(vocab.add("paris"), 2);
  EXPECT_EQ(vocab.add("paris"), 2);
  EXPECT_EQ(vocab.id("london"), Vocabulary::kUnknown);
  EXPECT_EQ(vocab.word(Vocabulary::kPad), "<pad>");
  EXPECT_EQ(vocab.ids({"paris", "rome"}), (std::vector<std::int64_t>{2, 1}));
}

TEST(WordWindows, WindowsArePaddedAtSentenceEdges) {
  // museums in Paris are amazing, ids 10..14: the window of "Paris" is the whole sentence
  std::vector<std::int64_t> x = window_ids({10, 11, 12, 13, 14}, 2);
  ASSERT_EQ(x.size(), 25u);
  EXPECT_EQ(std::vector<std::int64_t>(x.begin(), x.begin() + 5),
            (std::vector<std::int64_t>{0, 0, 10, 11, 12}));
  EXPECT_EQ(std::vector<std::int64_t>(x.begin() + 10, x.begin() + 15),
            (std::vector<std::int64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(std::vector<std::int64_t>(x.begin() + 20, x.end()),
            (std::vector<std::int64_t>{12, 13, 14, 0, 0}));
  EXPECT_EQ(window_ids({7}, 1), (std::vector<std::int64_t>{0, 7, 0}));
  EXPECT_TRUE(window_ids({}, 2).empty());
}

TEST(WordWindows, ShapeKeepsWhatLowerCasingLoses) {
  EXPECT_EQ(lower_case("Paris"), "paris");
  EXPECT_EQ(word_shape("paris"), WordShape::kLower);
  EXPECT_EQ(word_shape("Paris"), WordShape::kCapital);
  EXPECT_EQ(word_shape("I"), WordShape::kCapital);
  EXPECT_EQ(word_shape("NASA"), WordShape::kUpper);
  EXPECT_EQ(word_shape("iPhone"), WordShape::kMixed);
  EXPECT_EQ(word_shape("2016"), WordShape::kNumber);
  EXPECT_EQ(word_shape("@bbc"), WordShape::kMention);
  EXPECT_EQ(word_shape("#london"), WordShape::kHashtag);
  EXPECT_EQ(word_shape("http://t.co/x"), WordShape::kLink);
  EXPECT_EQ(word_shape("!"), WordShape::kOther);
  EXPECT_EQ(word_shape("#"), WordShape::kOther);
}

}  // namespace
}  // namespace nabla
