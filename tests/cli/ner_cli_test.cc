// `nabla ner train | eval | tag` run as a user would, on the first tweets of BTC and
// made-up word vectors (tests/test_util.h write_glove): the output, the run directory, eval
// reproducing the F1, tagging plain text, and every kind of bad input refused with file
// and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/core/safetensors.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using nabla::testing_util::run_nabla;
using ::testing::HasSubstr;
using Result = nabla::testing_util::CommandResult;

// The first `lines` lines of a BTC file (ending at a tweet's end).
std::string head_of(const std::string& part, int lines) {
  std::ifstream in(std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc." + part);
  std::string line, text;
  for (int i = 0; std::getline(in, line); ++i) {
    text += line + "\n";
    if (i >= lines && line.empty()) break;
  }
  return text;
}

// The distinct lower-cased words of CoNLL text, in order of first appearance.
std::vector<std::string> words_of(const std::string& conll) {
  std::vector<std::string> words;
  std::set<std::string> seen;
  std::istringstream in(conll);
  std::string line;
  while (std::getline(in, line)) {
    std::string word = line.substr(0, line.find('\t'));
    if (word.empty()) continue;
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seen.insert(word).second) words.push_back(word);
  }
  return words;
}

class NerCli : public nabla::testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write("train", head_of("train", 20000));
    write("dev", head_of("dev", 800));
    write("test", head_of("test", 800));
    // Vectors for the first words of the training tweets: the tagger takes these rows and
    // learns the other words from scratch.
    std::vector<std::string> words = words_of(head_of("train", 200));
    words.resize(std::min<std::size_t>(words.size(), 60));
    nabla::testing_util::write_glove(path("vectors"), words, 100);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  // `nabla ner train` on the small files, with `extra` options (the window decoder and no
  // dropout unless they name them: the default's dropout 0.5 learns too slowly for a few
  // epochs of 19,000 tokens).
  Result train(const std::string& extra, const std::string& out = "run") {
    std::string defaults;
    if (extra.find("--decoder") == std::string::npos) defaults += " --decoder window";
    if (extra.find("--dropout") == std::string::npos) defaults += " --dropout 0";
    return train_with(defaults + " " + extra, out);
  }
  // `nabla ner train` on the small files with `options` as they are (the command's defaults).
  Result train_with(const std::string& options, const std::string& out = "run") {
    return run_nabla("ner train --train " + path("train") + " --dev " + path("dev") + " --test " +
                     path("test") + " --vectors " + path("vectors") + " --out " + path(out) + " " +
                     options);
  }
};

TEST_F(NerCli, TrainEvalTag) {
  Result r = train("--epochs 3 --hidden 30");
  ASSERT_EQ(r.status, 0) << r.out;
  // An evaluation after the first step and after each epoch's first (the Trainer's
  // schedule), and of the final model.
  EXPECT_THAT(r.out, HasSubstr("iteration 1 (epoch 0.00): train F1 "));
  EXPECT_THAT(r.out, HasSubstr("final model, iteration 885 (epoch 3.00): train F1 "));
  EXPECT_THAT(r.out, HasSubstr("affine:30 tanh affine:7, softmax loss; decoder window; adam lr "
                               "0.001, batch 64 tokens, 3 epochs of 295 steps"));
  EXPECT_THAT(r.out, HasSubstr("overall"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(final: dev F1, test F1 \| (0\.\d{4}), (0\.\d{4}))")))
      << r.out;
  const std::string dev_f1 = m[1], test_f1 = m[2];
  // 3 epochs of 19,000 tokens: 0.18 measured (0.31 with GloVe's vectors); a model that
  // learned nothing tags everything O, F1 0
  EXPECT_GT(std::stod(dev_f1), 0.1);
  for (const char* f : {"metrics.csv", "curves.svg", "model.safetensors", "best.safetensors"}) {
    EXPECT_TRUE(fs::exists(path("run") + "/" + f)) << f;
  }
  std::ifstream csv(path("run") + "/metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,loss,train_f1,dev_f1,test_f1,seconds");

  // eval reproduces the F1s of the model picked on dev, exactly
  const std::string model = path("run") + "/best.safetensors";
  Result dev = run_nabla("ner eval --model " + model + " --data " + path("dev"));
  ASSERT_EQ(dev.status, 0) << dev.out;
  EXPECT_THAT(dev.out, HasSubstr("entity F1 | " + dev_f1 + "\n"));
  Result test = run_nabla("ner eval --model " + model + " --data " + path("test"));
  EXPECT_THAT(test.out, HasSubstr("entity F1 | " + test_f1 + "\n"));

  // tag: plain text in, CoNLL out
  Result tagged = run_nabla("ner tag --model " + model + " -",
                            "printf 'I love Paris\\n\\n  Obama   tweets \\n' |");
  ASSERT_EQ(tagged.status, 0) << tagged.out;
  EXPECT_TRUE(std::regex_match(
      tagged.out, std::regex("I\t[BIO][-A-Z]*\nlove\t[BIO][-A-Z]*\nParis\t[BIO][-A-Z]*\n\n"
                             "Obama\t[BIO][-A-Z]*\ntweets\t[BIO][-A-Z]*\n\n")))
      << tagged.out;
  // The commands of `nabla train`'s networks refuse a tagger by name.
  for (const std::string& command :
       {"eval --model " + model, "predict --index 3 --model " + model,
        "train --iters 5 --out " + path("again") + " --resume " + model}) {
    Result refused = run_nabla(command);
    EXPECT_EQ(refused.status, 1) << command;
    EXPECT_THAT(refused.out, HasSubstr(model + ": a window tagger (made by `nabla ner train`), not "
                                               "a network of `nabla train`; `nabla ner eval` and "
                                               "`nabla ner tag` take it"))
        << command;
  }

  write("text", "RT @NBA : LeBron James to Miami\n");
  Result from_file = run_nabla("ner tag --model " + model + " " + path("text"));
  EXPECT_EQ(from_file.status, 0);
  EXPECT_EQ(std::count(from_file.out.begin(), from_file.out.end(), '\t'), 7);
}

TEST_F(NerCli, ResumeContinuesTheRun) {
  // 2 epochs, then on to 3 from the checkpoint: the run of 3 epochs, to the last digit.
  Result straight = train("--epochs 3 --hidden 20 --threads 1", "straight");
  ASSERT_EQ(straight.status, 0) << straight.out;
  ASSERT_EQ(train("--epochs 2 --hidden 20 --threads 1", "two").status, 0);
  Result resumed = run_nabla("ner train --train " + path("train") + " --dev " + path("dev") +
                             " --test " + path("test") + " --out " + path("two") +
                             " --epochs 3 --threads 1 --decoder window --resume " + path("two") +
                             "/model.safetensors");
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_THAT(resumed.out, HasSubstr("resumed from "));
  std::smatch a, b;
  const std::regex final_line(R"(final model, iteration 885 [^\n]*)");
  ASSERT_TRUE(std::regex_search(straight.out, a, final_line)) << straight.out;
  ASSERT_TRUE(std::regex_search(resumed.out, b, final_line)) << resumed.out;
  EXPECT_EQ(a[0].str(), b[0].str());
}

// A run resumes with the decoder it was trained with: naming the other one is refused
// (exit 2) before any step, with both decoders named; naming its own is fine (above).
TEST_F(NerCli, ResumeRefusesAnotherDecoder) {
  for (const auto& [trained, asked] :
       {std::pair<std::string, std::string>{"window", "viterbi"}, {"viterbi", "window"}}) {
    ASSERT_EQ(train("--epochs 1 --hidden 5 --threads 1 --decoder " + trained, trained).status, 0);
    const std::string checkpoint = path(trained) + "/model.safetensors";
    Result r = run_nabla("ner train --train " + path("train") + " --dev " + path("dev") +
                         " --test " + path("test") + " --out " + path(trained) +
                         " --epochs 2 --threads 1 --decoder " + asked + " --resume " + checkpoint);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_THAT(
        r.out, HasSubstr("--decoder " + asked + ": " + checkpoint + " was trained with --decoder " +
                         trained + ", and a run resumes with its own decoder"))
        << r.out;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("resumed from "))) << r.out;
  }
}

// The command's defaults are what won on BTC's dev set (README): the viterbi decoder and
// dropout 0.5 on the window's vectors.
TEST_F(NerCli, DefaultsAreViterbiAndDropout) {
  Result r = train_with("--epochs 1 --hidden 10");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(" dropout:0.5 affine:10 tanh affine:7 tag_transitions, crf loss; "
                               "decoder viterbi; "))
      << r.out;
}

// --decoder viterbi: sentences as the examples, eval counts the invalid IOB2 sequences,
// tag prints valid ones.
TEST_F(NerCli, ViterbiDecoderTrainEvalTag) {
  // (the default decoder: no --decoder; no dropout, as in train())
  Result r = train_with("--epochs 4 --hidden 30 --affix-dim 5 --dropout 0");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(" sentences ("));
  EXPECT_THAT(r.out, HasSubstr(" training tokens) (train / dev / test)"));
  EXPECT_THAT(r.out, HasSubstr("affine:7 tag_transitions, crf loss; decoder viterbi; adam lr "
                               "0.001, batch 4 sentences, 4 epochs of "));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(final: dev F1, test F1 \| (0\.\d{4}), )")))
      << r.out;
  EXPECT_GT(std::stod(m[1]), 0.1);
  const std::string model = path("run") + "/best.safetensors";
  Result dev = run_nabla("ner eval --model " + model + " --data " + path("dev"));
  ASSERT_EQ(dev.status, 0) << dev.out;
  EXPECT_THAT(dev.out, HasSubstr("entity F1 | " + m[1].str() + "\n"));
  EXPECT_TRUE(std::regex_search(
      dev.out, std::regex(R"(invalid IOB2 sentences \(of \d+\): viterbi decoder 0, )"
                          R"(window decoder \(each token's best emission alone\) \d+)")))
      << dev.out;
  for (const char* type : {"PER", "LOC", "ORG", "overall"}) EXPECT_THAT(dev.out, HasSubstr(type));
  Result tagged = run_nabla("ner tag --model " + model + " -",
                            "printf 'Barack Obama visits Paris and the White House\\n' |");
  ASSERT_EQ(tagged.status, 0) << tagged.out;
  // No I-X after O or after another type's tag.
  std::istringstream lines(tagged.out);
  std::string line, previous = "O";
  int tokens = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const std::string tag = line.substr(line.find('\t') + 1);
    if (tag.rfind("I-", 0) == 0) {
      EXPECT_TRUE(previous == "B-" + tag.substr(2) || previous == tag) << tagged.out;
    }
    previous = tag;
    ++tokens;
  }
  EXPECT_EQ(tokens, 8);
}

// --char-dim: the model file keeps the characters, so eval and tag spell words the same
// way, words the training data lacks included.
TEST_F(NerCli, CharacterFeaturesTrainEvalTag) {
  Result r = train_with("--epochs 3 --hidden 30 --char-dim 8 --char-filters 6");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(",char_dim=8"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(final: dev F1, test F1 \| (0\.\d{4}), )")))
      << r.out;
  const std::string model = path("run") + "/best.safetensors";
  Result dev = run_nabla("ner eval --model " + model + " --data " + path("dev"));
  ASSERT_EQ(dev.status, 0) << dev.out;
  EXPECT_THAT(dev.out, HasSubstr("entity F1 | " + m[1].str() + "\n"));
  Result tagged = run_nabla("ner tag --model " + model + " -",
                            "printf 'Zyxwvut Qqq visits Paris\\n' |");
  ASSERT_EQ(tagged.status, 0) << tagged.out;
  EXPECT_THAT(tagged.out, HasSubstr("Zyxwvut\t"));
  EXPECT_THAT(tagged.out, HasSubstr("Paris\t"));
}

TEST_F(NerCli, GradcheckOfTheWindowModel) {
  Result r = run_nabla("gradcheck --model ner --data " + path("dev"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Window tagger (window 2: 8-d words + 5-d shapes"));
  EXPECT_THAT(r.out, HasSubstr("3 sentences ("));
  for (const char* p : {"words.W1: ", "shapes.W1: ", "W2: ", "b3: "}) {
    EXPECT_THAT(r.out, HasSubstr(p));
  }
  EXPECT_THAT(r.out, HasSubstr("\nok\n"));
}

TEST_F(NerCli, BadInputIsNamedWithFileAndLine) {
  Result missing =
      run_nabla("ner train --vectors " + path("nope.txt") + " --train " + path("train"));
  EXPECT_NE(missing.status, 0);
  EXPECT_THAT(missing.out,
              HasSubstr("nope.txt: word vectors not found; run scripts/fetch_glove.sh"));

  write("train", "I\tO\nlove\nParis\tB-LOC\n");
  Result one_column = train("--epochs 1");
  EXPECT_NE(one_column.status, 0);
  EXPECT_THAT(one_column.out, HasSubstr(path("train") + ":2:"));

  write("train", "");
  Result empty = train("--epochs 1");
  EXPECT_NE(empty.status, 0);
  EXPECT_THAT(empty.out, HasSubstr(path("train")));

  write("train", head_of("train", 200));
  write("dev", "I\tO\nlove\tO\nParis\tB-GPE\n");
  Result unknown_tag = train("--epochs 1");
  EXPECT_NE(unknown_tag.status, 0);
  EXPECT_THAT(unknown_tag.out,
              HasSubstr(path("dev") + ":3: tag 'B-GPE' is not one the model knows"));

  write("dev", head_of("dev", 100));
  write("mixed", "the 1 2 3\nparis 1 2\n");
  Result mixed =
      run_nabla("ner train --train " + path("train") + " --dev " + path("dev") + " --test " +
                path("dev") + " --vectors " + path("mixed") + " --epochs 1 --out " + path("r2"));
  EXPECT_NE(mixed.status, 0);
  EXPECT_THAT(mixed.out, HasSubstr(path("mixed") + ":2:"));

  write("train", head_of("train", 20000));
  Result diverges = train("--epochs 1 --lr 1e30 --optimizer sgd");
  EXPECT_NE(diverges.status, 0);
  EXPECT_THAT(diverges.out, HasSubstr("training stopped"));

  Result not_a_model = run_nabla("ner eval --model " + path("dev") + " --data " + path("dev"));
  EXPECT_NE(not_a_model.status, 0);
  EXPECT_THAT(not_a_model.out, HasSubstr(path("dev")));
}

// Issue 24: `ner train` checks --out before it reads a file (exit 2), refuses a learning
// rate that is not finite, keeps a training whose paths are not UTF-8 (they are stored
// with U+FFFD in the model file's metadata), and `ner eval` fails when stdout cannot be
// written.
TEST_F(NerCli, OutIsCheckedFirstAndPathsNeedNotBeUtf8) {
  const std::string nowhere =
      "ner train --train " + path("nowhere") + " --vectors " + path("vectors") + " --out ";
  write("file", "x");
  Result r = run_nabla(nowhere + path("file"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--out " + path("file") + " is not a directory"));
  fs::create_directories(path("taken"));
  write("taken/metrics.csv", "epoch\n");
  r = run_nabla(nowhere + path("taken"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--out " + path("taken") + " already holds metrics.csv"));
  r = train("--lr inf");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--lr: must be a finite number, got inf"));

  const std::string odd = path("train-\xff");
  fs::copy_file(path("train"), odd);
  r = run_nabla("ner train --train '" + odd + "' --dev " + path("dev") + " --test " + path("test") +
                " --vectors " + path("vectors") + " --out " + path("run") +
                " --epochs 1 --hidden 5");
  ASSERT_EQ(r.status, 0) << r.out;
  // (the model file keeps no path: its metadata is the vocabulary, the tags and the
  // training options, all valid UTF-8)
  const auto meta = nabla::load_safetensors(path("run") + "/best.safetensors").metadata;
  EXPECT_EQ(meta.count("ner.tags"), 1u);
  EXPECT_EQ(meta.at("train").find(path("train-")), std::string::npos);

  // (found by the command harness) a FIFO as tag's input was opened and waited on for ever
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  r = run_nabla("ner tag --model " + path("run") + "/model.safetensors " + path("fifo"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(path("fifo") + ": is not a regular file, not a text file (pipe a "
                                              "stream to standard input: nabla ner tag -)"));

  if (!fs::exists("/dev/full")) return;
  r = run_nabla("ner eval --model " + path("run") + "/model.safetensors --data " + path("dev") +
                " >/dev/full");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("cannot write to standard output: No space left on device"));
}

}  // namespace
