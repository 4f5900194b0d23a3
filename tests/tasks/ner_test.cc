// The window tagger (nabla/ner.h) on small data: the peer's vocabulary, windows of ids,
// the full gradient checked numerically in float64, training that fits a few sentences,
// the model file, and bad input.
#include "nabla/tasks/ner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "nabla/autograd/gradcheck.h"
#include "nabla/core/safetensors.h"
#include "nabla/data/idx.h"
#include "nabla/ops/ops.h"
#include "nabla/train/train.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

class Ner : public testing_util::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  NerCorpus corpus() {
    return read_ner_corpus(write("train", kTrain), write("dev", kDev), write("test", kTest));
  }
  static WordVectors vectors() {
    std::istringstream in(
        "paris 1 0 0 0.5\nlove 0 1 0 0\ni 0 0 1 0\nobama 0.5 0.5 0 1\nberlin 1 0.2 0 0.4\n"
        "unused 9 9 9 9\n");
    return parse_glove(in, "vectors.txt");
  }
  static constexpr const char* kTrain =
      "I\tO\nlove\tO\nParis\tB-LOC\n\n"
      "Barack\tB-PER\nObama\tI-PER\nloves\tO\nParis\tB-LOC\n\n"
      "@obama\tB-PER\nin\tO\nBerlin\tB-LOC\n";
  static constexpr const char* kDev = "I\tO\nlove\tO\nBerlin\tB-LOC\n";
  static constexpr const char* kTest = "Obama\tB-PER\nin\tO\nBerlin\tB-LOC\n";
};

TEST_F(Ner, VocabularyTagsAndVectorsAsThePeerBuildsThem) {
  NerOptions o;
  WindowTagger m = make_window_tagger(corpus(), vectors(), o);
  // <pad>, <unk>, the corpus's words GloVe has (sorted), then the training words it lacks
  EXPECT_EQ(m.vocabulary().words(),
            (std::vector<std::string>{"<pad>", "<unk>", "berlin", "i", "love", "obama", "paris",
                                      "@obama", "barack", "in", "loves"}));
  EXPECT_EQ(m.tags(), (std::vector<std::string>{"B-LOC", "B-PER", "I-PER", "O"}));
  const Tensor& w = m.words().W().value();
  EXPECT_EQ(w.shape(), (Shape{11, 4}));
  EXPECT_EQ(w.at({0, 0}), 0.0);  // padding and unknown start at zero
  EXPECT_EQ(w.at({1, 3}), 0.0);
  EXPECT_EQ(w.at({6, 3}), 0.5f);           // paris
  EXPECT_LE(std::abs(w.at({8, 2})), 0.1);  // barack: U(-0.1, 0.1)
  // the parameters the optimizer sees, by name
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"words.W", "shapes.W", "hidden.W", "hidden.b",
                                             "output.W", "output.b"}));
  EXPECT_EQ(m.parameter("hidden.W").shape(), (Shape{5 * (4 + 5), 100}));
}

TEST_F(Ner, WindowsOfWordAndShapeIds) {
  NerOptions o;
  o.window = 1;
  WindowTagger m = make_window_tagger(corpus(), vectors(), o);
  NerExamples x = m.encode_untagged({{"I", "love", "PARIS"}, {"#nyc"}});
  ASSERT_EQ(x.words.shape(), (Shape{4, 3}));
  // i = 3, love = 4, paris = 6; #nyc is unknown (1); 0 pads
  EXPECT_EQ(x.words.to_vector(), (std::vector<double>{0, 3, 4, 3, 4, 6, 4, 6, 0, 0, 1, 0}));
  // shapes: 1 + WordShape (I: capital, love: lower, PARIS: upper, #nyc: hashtag), 0 pads
  const auto s = [](WordShape w) { return 1.0 + static_cast<double>(w); };
  EXPECT_EQ(
      x.shapes.to_vector(),
      (std::vector<double>{0, s(WordShape::kCapital), s(WordShape::kLower), s(WordShape::kCapital),
                           s(WordShape::kLower), s(WordShape::kUpper), s(WordShape::kLower),
                           s(WordShape::kUpper), 0, 0, s(WordShape::kHashtag), 0}));
  EXPECT_EQ(x.lengths, (std::vector<std::int64_t>{3, 1}));
  EXPECT_TRUE(x.labels.empty());
}

// The model's whole gradient (both tables, both Affine layers) against central
// differences, in float64; the sparse row gradients give the same numbers.
TEST_F(Ner, FullGradientMatchesNumericalInFloat64) {
  NerCorpus c = corpus();
  Rng rng(7);
  WordVectors v = vectors();
  Vocabulary vocab;
  for (const std::string& w : v.words) vocab.add(w);
  NerOptions o;
  o.window = 1;
  o.hidden = 6;
  o.shape_dim = 2;
  WindowTagger m(vocab, Tensor::randn({vocab.size(), 4}, rng, 0.5, DType::f64),
                 {"B-LOC", "B-PER", "I-PER", "O"}, o, rng);
  m.set_embedding_grad(EmbeddingGrad::dense);
  NerExamples x = m.encode(c.train, "train");
  ASSERT_EQ(x.size(), 10);

  m.zero_grad();
  EXPECT_GT(m.loss_and_gradient(x.words, x.shapes, x.labels), 0.5);
  std::vector<std::string> names;
  std::vector<Tensor> analytic, numerical;
  for (auto& [name, p] : m.named_parameters()) {
    names.push_back(name);
    analytic.push_back(p.grad());
    numerical.push_back(numerical_gradient(
        [&] {
          SoftmaxWithLoss loss;
          return loss.forward(m.scores(x.words, x.shapes), x.labels);
        },
        p.value(), 1e-5));
  }
  GradCheckReport r = compare_gradients(names, numerical, analytic);
  for (std::size_t k = 0; k < r.params.size(); ++k) {
    EXPECT_LT(r.params[k].max_rel_error, 1e-6) << names[k];
    EXPECT_GT(max(square(analytic[k])).item(), 1e-8) << names[k];  // gradients that are not zero
  }

  // sparse: the same gradient, in the rows the batch used only
  m.set_embedding_grad(EmbeddingGrad::sparse);
  m.zero_grad();
  m.loss_and_gradient(x.words, x.shapes, x.labels);
  const RowGradient* rows = m.row_grads()[0];
  ASSERT_NE(rows, nullptr);
  // pad, unk (barack, loves, @obama, in), i, love, paris, obama, berlin: not "unused"
  EXPECT_EQ(rows->rows.size(), 7u);
  const Tensor dense = rows->to_dense(vocab.size());
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    EXPECT_NEAR(dense.get(i), analytic[0].get(i), 1e-12) << i;
  }
}

TEST_F(Ner, GradientCheckOnTweets) {
  // gradient_check(model, batch): the training path (sparse rows) on three BTC tweets
  // with entities
  std::ifstream btc(std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc.dev");
  std::vector<TaggedSentence> all = parse_conll(btc, "btc.dev");
  std::vector<TaggedSentence> three(all.begin(), all.begin() + 3);
  ASSERT_EQ(three[0].tags[1], "B-ORG");
  Rng rng(1);
  NerOptions o;
  o.hidden = 8;
  o.shape_dim = 3;
  WindowTagger m = make_check_tagger(
      three, {"B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"}, 6, o, rng);
  NerExamples x = m.encode(three, "btc.dev");
  m.zero_grad();
  EXPECT_GT(m.loss_and_gradient(x.words, x.shapes, x.labels), 1.0);  // about log 7 at the start
  GradCheckReport r = gradient_check(m, x);
  ASSERT_EQ(r.params.size(), 6u);
  for (const ParamCheck& p : r.params) {
    EXPECT_LT(p.max_rel_error, 1e-6) << p.name;
    EXPECT_GT(p.max_abs_diff, 0.0) << p.name;  // real numbers compared, not zeros
  }
}

TEST_F(Ner, TrainingFitsAFewSentences) {
  NerCorpus c = corpus();
  NerOptions o;
  o.hidden = 20;
  o.batch = 4;
  o.lr = 0.01;
  WindowTagger m = make_window_tagger(c, vectors(), o);
  NerTrainer trainer(m, m.encode(c.train, c.train_path), o);
  EXPECT_EQ(trainer.steps_per_epoch(), 3);
  std::int64_t calls = 0;
  const double first = trainer.train_epoch([&](std::int64_t, std::int64_t, double) { ++calls; });
  EXPECT_EQ(calls, 3);
  double last = first;
  for (int epoch = 0; epoch < 60; ++epoch) last = trainer.train_epoch();
  EXPECT_LT(last, 0.05 * first);
  EntityScores s = m.score(c.train, c.train_path);
  EXPECT_EQ(s.overall.gold, 5);
  EXPECT_EQ(s.overall.f1(), 1.0);
}

TEST_F(Ner, WithoutShapeVectors) {
  // --shape-dim 0: the words alone (the lecture's model as the PyTorch peer has it)
  NerCorpus c = corpus();
  NerOptions o;
  o.shape_dim = 0;
  o.window = 1;
  WindowTagger m = make_window_tagger(c, vectors(), o);
  EXPECT_EQ(m.parameter("shapes.W").shape(), (Shape{kWordShapes + 1, 0}));
  EXPECT_EQ(m.parameter("hidden.W").shape(), (Shape{3 * 4, 100}));
  NerTrainer trainer(m, m.encode(c.train, c.train_path), o);
  const double first = trainer.train_epoch();
  EXPECT_GT(first, 0.0);
  EXPECT_LT(trainer.train_epoch(), first);
}

TEST_F(Ner, ModelFileRoundTripsAndTagsTheSame) {
  NerCorpus c = corpus();
  NerOptions o;
  o.activation = "relu";
  WindowTagger m = make_window_tagger(c, vectors(), o);
  NerTrainer(m, m.encode(c.train, c.train_path), o).train_epoch();
  save_window_tagger(path("m.safetensors"), m, {{"note", "x"}});
  WindowTagger back = load_window_tagger(path("m.safetensors"));
  EXPECT_EQ(back.vocabulary().words(), m.vocabulary().words());
  EXPECT_EQ(back.tags(), m.tags());
  EXPECT_EQ(back.options().activation, "relu");
  NerExamples x = m.encode(c.test, c.test_path);
  EXPECT_EQ(back.scores(x.words, x.shapes).to_vector(), m.scores(x.words, x.shapes).to_vector());
}

TEST_F(Ner, AModelOfTheOtherKindIsNamedAsSuch) {
  // A window tagger given to load_model, and a network of `nabla train` to
  // load_window_tagger: each refused, naming the kind and the commands that take it.
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{});
  save_window_tagger(path("tagger"), m, {});
  EXPECT_THAT(testing_util::error_of<DataError>([&] { load_model(path("tagger")); }),
              testing::HasSubstr(": a window tagger (made by `nabla ner train`), not a network "
                                 "of `nabla train`; `nabla ner eval` and `nabla ner tag` take it"));
  DenseData rows;
  rows.train_x = Tensor::zeros({4, 3}, DType::f32);
  rows.test_x = Tensor::zeros({2, 3}, DType::f32);
  rows.train_labels = {0, 1, 0, 1};
  rows.test_labels = {0, 1};
  rows.classes = 2;
  TrainConfig config;
  config.model = model_preset("linear", {3}, 2);
  config.batch = 2;
  config.iters = 1;
  Trainer trainer(config, rows);
  trainer.save(path("linear"));
  EXPECT_THAT(testing_util::error_of<DataError>([&] { load_window_tagger(path("linear")); }),
              testing::HasSubstr(": a linear network (made by `nabla train`), not a window "
                                 "tagger; `nabla eval` and `nabla predict` take it"));
}

TEST_F(Ner, ModelFileThatDoesNotMatchIsRefused) {
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{});
  save_window_tagger(path("m"), m, {});
  SafetensorsFile f = load_safetensors(path("m"));
  auto error_of = [&](const std::string& file) {
    try {
      load_window_tagger(file);
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // a vocabulary one word short of the table
  auto meta = f.metadata;
  meta["vocabulary"] = meta["vocabulary"].substr(0, meta["vocabulary"].rfind('\n'));
  save_safetensors(path("short"), f.tensors, meta);
  EXPECT_EQ(error_of(path("short")), path("short") +
                                         ": the vocabulary has 10 words of dimension 4, but "
                                         "words.W is (11,4)");
  // another dimension
  meta = f.metadata;
  meta["dim"] = "5";
  save_safetensors(path("dim"), f.tensors, meta);
  EXPECT_THAT(error_of(path("dim")), HasSubstr("dimension 5, but words.W is (11,4)"));
  // another window: hidden.W no longer fits
  meta = f.metadata;
  meta["window"] = "1";
  save_safetensors(path("window"), f.tensors, meta);
  EXPECT_THAT(error_of(path("window")),
              HasSubstr("the metadata makes hidden.W (27,100), but the file's is (45,100)"));
  // metadata asking for a model of 10^14 weights: refused before anything is allocated
  meta = f.metadata;
  meta["window"] = "50";
  meta["shape_dim"] = "1000000";
  meta["hidden"] = "1000000";
  save_safetensors(path("huge"), f.tensors, meta);
  EXPECT_EQ(error_of(path("huge")), path("huge") +
                                        ": the metadata makes shapes.W (10,1000000), but the "
                                        "file's is (10,5)");
  meta["shape_dim"] = "5";
  save_safetensors(path("huge"), f.tensors, meta);
  EXPECT_THAT(error_of(path("huge")),
              HasSubstr("hidden.W (909,1000000), but the file's is (45,100)"));
  // not a tagger at all
  save_safetensors(path("mlp"), {{"W1", Tensor({2, 2})}}, {{"model", "mlp"}});
  EXPECT_EQ(error_of(path("mlp")), path("mlp") + ": a 'mlp' model, not a window tagger");
}

// A tagger whose weights are not finite would tag with them: refused at load, naming the
// tensor.
TEST_F(Ner, ModelFileWithNonFiniteWeightsIsRefused) {
  WindowTagger m = make_window_tagger(corpus(), vectors(), NerOptions{});
  save_window_tagger(path("m"), m, {});
  const SafetensorsFile good = load_safetensors(path("m"));
  for (const char* name : {"words.W", "shapes.W", "hidden.W", "hidden.b", "output.W"}) {
    SafetensorsFile f = good;
    for (auto& [key, tensor] : f.tensors) {
      if (key == name) tensor.set(1, std::numeric_limits<double>::quiet_NaN());
    }
    save_safetensors(path("bad"), f.tensors, f.metadata);
    EXPECT_EQ(testing_util::error_of<DataError>([&] { load_window_tagger(path("bad")); }),
              path("bad") + ": parameter " + name + " holds NaN (element 1)");
  }
}

TEST_F(Ner, UnknownTagInDevNamesFileAndLine) {
  write("dev2", "I\tO\n\n-DOCSTART-\tO\n\nlove\tO\nBerlin\tB-MISC\n");
  NerCorpus c = read_ner_corpus(write("train", kTrain), path("dev2"), write("test", kTest));
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{});
  try {
    m.encode(c.dev, c.dev_path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()),
              path("dev2") + ":6: tag 'B-MISC' is not one the model knows (B-LOC B-PER I-PER O)");
  }
}

TEST_F(Ner, GloveFileAndRealTweets) {
  // The first tweets of BTC and a GloVe file with vectors for some of their words (made up,
  // see write_glove) and for words they lack: the vocabulary takes the file's rows for
  // the words it has, and learns the others from scratch.
  std::ifstream btc(std::string(NABLA_SOURCE_DIR) + "/corpora/btc/btc.dev");
  std::string line, text;
  for (int i = 0; i < 60 && std::getline(btc, line); ++i) text += line + "\n";
  NerCorpus c = read_ner_corpus(write("t", text), write("d", text), write("e", text));
  testing_util::write_glove(path("glove.txt"),
                            {"the", "iverson", "jersey", "zebra", "allen", "quiet", "yodel"}, 100);
  auto wanted = c.lower_case_words();
  WordVectors v = read_glove(path("glove.txt"), &wanted);
  EXPECT_EQ(v.words, (std::vector<std::string>{"the", "iverson", "jersey", "allen", "quiet"}));
  EXPECT_EQ(v.dim, 100);
  WindowTagger m = make_window_tagger(c, v, NerOptions{});
  const std::vector<std::string>& words = m.vocabulary().words();
  ASSERT_GE(words.size(), 7u);
  EXPECT_EQ(
      std::vector<std::string>(words.begin(), words.begin() + 7),
      (std::vector<std::string>{"<pad>", "<unk>", "allen", "iverson", "jersey", "quiet", "the"}));
  const std::int64_t iverson = m.vocabulary().id("iverson");
  for (std::int64_t k = 0; k < 100; ++k) {
    EXPECT_EQ(m.words().W().value().at({iverson, k}), v.row(v.find("iverson"))[k]);
  }
  EXPECT_GT(m.vocabulary().id("tonight"), 6);  // no vector: a word of its own, learned
  EXPECT_EQ(m.tags(), (std::vector<std::string>{"B-ORG", "B-PER", "I-PER", "O"}));
}

}  // namespace
}  // namespace nabla
