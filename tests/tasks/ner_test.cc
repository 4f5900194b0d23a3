// The window tagger (nabla/tasks/ner.h) on small data: the peer's vocabulary, windows of
// ids, the full gradient checked numerically in float64, training through the one Trainer
// that fits a few sentences, resuming, the model file, and bad input.
#include "nabla/tasks/ner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "nabla/autograd/gradcheck.h"
#include "nabla/core/safetensors.h"
#include "nabla/data/idx.h"
#include "nabla/ops/ops.h"
#include "nabla/train/run.h"
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
  // The Trainer of a tagger on the corpus: batches of 4 tokens, Adam.
  static Trainer trainer_of(WindowTagger& m, const NerCorpus& c, std::int64_t epochs,
                            double lr = 0.01) {
    return Trainer(ner_train_config(m, epochs, 4, "adam", lr, 3), ner_training_data(m, c),
                   m.net());
  }
  static constexpr const char* kTest = "Obama\tB-PER\nin\tO\nBerlin\tB-LOC\n";
};

TEST_F(Ner, VocabularyTagsAndVectorsAsThePeerBuildsThem) {
  NerOptions o;
  WindowTagger m = make_window_tagger(corpus(), vectors(), o, 1);
  // <pad>, <unk>, the corpus's words GloVe has (sorted), then the training words it lacks
  EXPECT_EQ(m.vocabulary().words(),
            (std::vector<std::string>{"<pad>", "<unk>", "berlin", "i", "love", "obama", "paris",
                                      "@obama", "barack", "in", "loves"}));
  EXPECT_EQ(m.tags(), (std::vector<std::string>{"B-LOC", "B-PER", "I-PER", "O"}));
  const Tensor& w = m.embedding().words().W().value();
  EXPECT_EQ(w.shape(), (Shape{11, 4}));
  EXPECT_EQ(w.at({0, 0}), 0.0);  // padding and unknown start at zero
  EXPECT_EQ(w.at({1, 3}), 0.0);
  EXPECT_EQ(w.at({6, 3}), 0.5f);           // paris
  EXPECT_LE(std::abs(w.at({8, 2})), 0.1);  // barack: U(-0.1, 0.1)
  EXPECT_NE(w.at({8, 2}), 0.0);
  // a network like any other: the parameters the optimizer and the model file see, by name
  std::vector<std::string> names;
  for (const auto& [name, p] : m.net().named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"words.W1", "shapes.W1", "W2", "b2", "W3", "b3"}));
  EXPECT_EQ(m.net().parameter("W2").shape(), (Shape{5 * (4 + 5), 100}));
  EXPECT_EQ(m.spec().describe(),
            "window-tagger 10: window_embedding:5x11x4 affine:100 tanh affine:4, softmax loss");
}

TEST_F(Ner, WindowsOfWordAndShapeIds) {
  NerOptions o;
  o.window = 1;
  WindowTagger m = make_window_tagger(corpus(), vectors(), o, 1);
  NerExamples x = m.encode_untagged({{"I", "love", "PARIS"}, {"#nyc"}});
  ASSERT_EQ(x.ids.shape(), (Shape{4, 6}));
  // each row: the window's word ids (i = 3, love = 4, paris = 6; #nyc is unknown, 1; 0
  // pads), then its shape ids (1 + WordShape: I capital, love lower, PARIS upper, #nyc
  // hashtag; 0 pads)
  const auto s = [](WordShape w) { return 1.0 + static_cast<double>(w); };
  const double cap = s(WordShape::kCapital), low = s(WordShape::kLower);
  const double up = s(WordShape::kUpper), tag = s(WordShape::kHashtag);
  EXPECT_EQ(x.ids.to_vector(), (std::vector<double>{0, 3, 4, 0, cap, low,  //
                                                    3, 4, 6, cap, low, up,  //
                                                    4, 6, 0, low, up, 0,    //
                                                    0, 1, 0, 0, tag, 0}));
  EXPECT_EQ(x.lengths, (std::vector<std::int64_t>{3, 1}));
  EXPECT_TRUE(x.labels.empty());
}

// The model's whole gradient (both tables, both Affine layers) against central
// differences, in float64; the tables' row gradients, made dense, are the dense mode's
// numbers.
TEST_F(Ner, FullGradientMatchesNumericalInFloat64) {
  NerCorpus c = corpus();
  Rng rng(7);
  NerOptions o;
  o.window = 1;
  o.hidden = 6;
  o.shape_dim = 2;
  WindowTagger m = make_check_tagger(c.train, {"B-LOC", "B-PER", "I-PER", "O"}, 4, o, rng);
  NerExamples x = m.encode(c.train, "train");
  ASSERT_EQ(x.size(), 10);
  Sequential& net = m.net();
  m.embedding().set_grad_mode(EmbeddingGrad::dense);
  net.zero_grad();
  EXPECT_GT(net.gradient(x.ids, x.labels), 0.5);
  std::vector<std::string> names;
  std::vector<Tensor> analytic, numerical;
  for (auto& [name, p] : net.named_parameters()) {
    names.push_back(name);
    analytic.push_back(p.grad());
    numerical.push_back(
        numerical_gradient([&] { return net.loss(x.ids, x.labels); }, p.value(), 1e-5));
  }
  GradCheckReport r = compare_gradients(names, numerical, analytic);
  ASSERT_EQ(r.params.size(), 6u);
  for (std::size_t k = 0; k < r.params.size(); ++k) {
    // (central differences in float64: about 1e-11 of rounding in each entry)
    EXPECT_LT(r.params[k].max_abs_diff, 1e-9) << names[k];
    EXPECT_LT(r.params[k].max_rel_error, 1e-5) << names[k];
    EXPECT_GT(max(square(analytic[k])).item(), 1e-8) << names[k];  // gradients that are not zero
  }

  // sparse (training's): the same gradient, in the rows the batch used only
  m.embedding().set_grad_mode(EmbeddingGrad::sparse);
  net.zero_grad();
  net.clear_row_gradients();
  net.gradient(x.ids, x.labels);
  const std::vector<const RowGradient*> rows = net.row_gradients();
  ASSERT_EQ(rows.size(), 6u);
  ASSERT_NE(rows[0], nullptr);
  ASSERT_NE(rows[1], nullptr);
  EXPECT_EQ(rows[2], nullptr);  // the Affine layers' gradients are their grad()s
  // pad, i, love, paris, barack, obama, loves, @obama, in, berlin: every word used
  EXPECT_EQ(rows[0]->rows.size(), 10u);
  for (int k : {0, 1}) {
    const Tensor dense = rows[static_cast<std::size_t>(k)]->to_dense(analytic[k].size(0));
    for (std::int64_t i = 0; i < dense.numel(); ++i) {
      EXPECT_NEAR(dense.get(i), analytic[static_cast<std::size_t>(k)].get(i), 1e-12) << k << i;
    }
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
  EXPECT_GT(m.net().loss(x.ids, x.labels), 1.0);  // about log 7 at the start
  GradCheckReport r = gradient_check(m, x);
  ASSERT_EQ(r.params.size(), 6u);
  for (const ParamCheck& p : r.params) {
    EXPECT_LT(p.max_rel_error, 1e-6) << p.name;
    EXPECT_GT(p.max_abs_diff, 0.0) << p.name;  // real numbers compared, not zeros
  }
}

TEST_F(Ner, TrainsThroughTheOneTrainer) {
  NerCorpus c = corpus();
  NerOptions o;
  o.hidden = 20;
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  Trainer trainer = trainer_of(m, c, 60);
  EXPECT_EQ(trainer.iters_per_epoch(), 3);  // 10 tokens in batches of 4: 4, 4, 2
  EXPECT_EQ(trainer.total_iters(), 180);
  const double first = trainer.step();
  double last = first;
  while (!trainer.done()) last = trainer.step();
  EXPECT_LT(last, 0.05 * first);
  // The tagger is the trainer's network: trained.
  EntityScores s = m.score(c.train, c.train_path);
  EXPECT_EQ(s.overall.gold, 5);
  EXPECT_EQ(s.overall.f1(), 1.0);
  // Evaluations measure entity F1 on train, dev (the validation split) and test.
  Evaluation e = trainer.evaluate();
  EXPECT_EQ(e.train_acc, 1.0);
  ASSERT_TRUE(e.validation_acc.has_value());
  EXPECT_EQ(*e.validation_acc, m.score(c.dev, c.dev_path).overall.f1());
  EXPECT_EQ(e.test_acc, m.score(c.test, c.test_path).overall.f1());
}

TEST_F(Ner, ABatchLargerThanTheCorpusIsTheWholeCorpus) {
  // `nabla ner train`'s 64 tokens a step on 10 training tokens: one step an epoch, of all
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer trainer(ner_train_config(m, 3, 64, "adam", 0.01, 1), ner_training_data(m, c), m.net());
  EXPECT_EQ(trainer.iters_per_epoch(), 1);
  EXPECT_EQ(trainer.total_iters(), 3);
  const double first = trainer.step();
  trainer.step();
  EXPECT_LT(trainer.step(), first);
}

TEST_F(Ner, ClippingCountsTheTablesRowGradients) {
  // SGD moves each parameter by lr * its gradient, a table by lr * its rows: clipped to a
  // norm of 0.001 (far below the gradient's), every parameter together moves by
  // lr * 0.001, the tables' rows counted and scaled with the rest
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
  TrainConfig config = ner_train_config(m, 1, 4, "sgd", 0.5, 3);
  config.clip_norm = 0.001;
  Trainer trainer(config, ner_training_data(m, c), m.net());
  std::vector<std::vector<double>> before;
  for (const Var& p : trainer.model().parameters()) before.push_back(p.value().to_vector());
  trainer.step();
  double squares = 0, table_squares = 0;
  std::size_t k = 0;
  for (const auto& [name, p] : trainer.model().named_parameters()) {
    const std::vector<double> now = p.value().to_vector();
    double moved = 0;
    for (std::size_t i = 0; i < now.size(); ++i) {
      moved += (now[i] - before[k][i]) * (now[i] - before[k][i]);
    }
    squares += moved;
    if (p.value().rank() == 2 && trainer.model().row_gradients()[k] != nullptr) {
      table_squares += moved;
    }
    ++k;
  }
  EXPECT_NEAR(std::sqrt(squares), 0.5 * 0.001, 1e-8);
  EXPECT_GT(table_squares, 0);  // the tables moved, by their scaled rows
  EXPECT_LT(std::sqrt(table_squares), 0.5 * 0.001);
}

TEST_F(Ner, WithoutShapeVectors) {
  // --shape-dim 0: the words alone (the lecture's model as the PyTorch peer has it)
  NerCorpus c = corpus();
  NerOptions o;
  o.shape_dim = 0;
  o.window = 1;
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  EXPECT_EQ(m.net().parameter("shapes.W1").shape(), (Shape{kWordShapes + 1, 0}));
  EXPECT_EQ(m.net().parameter("W2").shape(), (Shape{3 * 4, 100}));
  Trainer trainer = trainer_of(m, c, 2, 0.001);
  const double first = trainer.step();
  EXPECT_GT(first, 0.0);
  double last = first;
  while (!trainer.done()) last = trainer.step();
  EXPECT_LT(last, first);
}

// A run of the tagger is a run like any other: metrics.csv in the data's words, the best
// dev model kept, checkpoints that resume exactly.
TEST_F(Ner, RunKeepsTheBestDevModelAndResumesExactly) {
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer trainer = trainer_of(m, c, 4);
  RunObserver quiet;
  RunOptions options;
  options.dir = path("run");
  RunResult r = run_training(trainer, options, quiet);
  std::ifstream csv(r.dir / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,loss,train_f1,dev_f1,test_f1,seconds");
  ASSERT_TRUE(r.best_eval.has_value());
  EXPECT_EQ(r.best_model, r.dir / "best.safetensors");
  WindowTagger best = load_window_tagger(r.best_model.string());
  EXPECT_EQ(best.score(c.dev, c.dev_path).overall.f1(), *r.best_eval->validation_acc);
  EXPECT_EQ(best.score(c.test, c.test_path).overall.f1(), r.best_eval->test_acc);
  EXPECT_EQ(best.vocabulary().words(), m.vocabulary().words());
  EXPECT_EQ(best.tags(), m.tags());

  // Uninterrupted 8 steps against 5, a checkpoint, and 3 more from it: the same bits
  // (the optimizer's state of the tables, the sampler's shuffle and position included).
  WindowTagger a = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer straight = trainer_of(a, c, 4);
  for (int i = 0; i < 8; ++i) straight.step();
  WindowTagger b = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer first = trainer_of(b, c, 4);
  for (int i = 0; i < 5; ++i) first.step();
  first.save(path("at5"));
  WindowTagger from_file = load_window_tagger(path("at5"));
  Trainer resumed = Trainer::resume(path("at5"), ner_training_data(from_file, c));
  for (int i = 0; i < 3; ++i) resumed.step();
  for (const auto& [name, p] : straight.model().named_parameters()) {
    EXPECT_EQ(resumed.model().parameter(name).value().to_vector(), p.value().to_vector()) << name;
  }
}

TEST_F(Ner, ModelFileRoundTripsAndTagsTheSame) {
  NerCorpus c = corpus();
  NerOptions o;
  o.activation = "relu";
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  Trainer trainer = trainer_of(m, c, 1);
  while (!trainer.done()) trainer.step();
  trainer.save(path("m.safetensors"));
  WindowTagger back = load_window_tagger(path("m.safetensors"));
  EXPECT_EQ(back.vocabulary().words(), m.vocabulary().words());
  EXPECT_EQ(back.tags(), m.tags());
  EXPECT_EQ(back.spec().to_json(), m.spec().to_json());
  EXPECT_EQ(back.spec().layers[2].kind, "relu");
  NerExamples x = m.encode(c.test, c.test_path);
  EXPECT_EQ(back.net().predict(x.ids).to_vector(), m.net().predict(x.ids).to_vector());
}

TEST_F(Ner, AModelOfTheOtherKindIsNamedAsSuch) {
  // A network of `nabla train` given to load_window_tagger is refused, naming its kind and
  // the commands that take it; a tagger file of the format before the one Trainer is named.
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
  EXPECT_EQ(testing_util::error_of<DataError>([&] { load_window_tagger(path("linear")); }),
            path("linear") +
                ": a linear network (made by `nabla train`), not a window tagger; `nabla eval` "
                "and `nabla predict` take it");
  save_safetensors(path("old"), {{"words.W", Tensor({2, 2})}},
                   {{"model", "window_tagger"}, {"vocabulary", "<pad>\n<unk>"}});
  EXPECT_THAT(testing_util::error_of<DataError>([&] { load_window_tagger(path("old")); }),
              HasSubstr(": a window tagger in the format of nabla before December 2026"));
}

TEST_F(Ner, ModelFileThatDoesNotMatchIsRefused) {
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer(ner_train_config(m, 1, 4, "adam", 0.01, 1), ner_training_data(m, c), m.net())
      .save(path("m"));
  SafetensorsFile f = load_safetensors(path("m"));
  // a vocabulary one word short of the table
  auto meta = f.metadata;
  meta["ner.vocabulary"] = meta["ner.vocabulary"].substr(0, meta["ner.vocabulary"].rfind('\n'));
  save_safetensors(path("short"), f.tensors, meta);
  EXPECT_EQ(testing_util::error_of<DataError>([&] { load_window_tagger(path("short")); }),
            path("short") +
                ": WindowTagger: 10 words and 4 tags do not fit the model window-tagger 10: "
                "window_embedding:5x11x4 affine:100 tanh affine:4, softmax loss");
  // the tags missing
  meta = f.metadata;
  meta.erase("ner.tags");
  save_safetensors(path("tags"), f.tensors, meta);
  EXPECT_EQ(testing_util::error_of<DataError>([&] { load_window_tagger(path("tags")); }),
            path("tags") + ": a window tagger without its 'ner.tags' (metadata)");
  // a table of another size than the description: refused before anything is built
  f.tensors[0].second = Tensor({11, 5});
  save_safetensors(path("dim"), f.tensors, f.metadata);
  EXPECT_THAT(testing_util::error_of<DataError>([&] { load_window_tagger(path("dim")); }),
              HasSubstr(": parameter words.W1 has shape (11,5), the architecture"));
}

// A tagger whose weights are not finite would tag with them: refused at load, naming the
// tensor.
TEST_F(Ner, ModelFileWithNonFiniteWeightsIsRefused) {
  NerCorpus c = corpus();
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
  Trainer(ner_train_config(m, 1, 4, "adam", 0.01, 1), ner_training_data(m, c), m.net())
      .save(path("m"));
  const SafetensorsFile good = load_safetensors(path("m"));
  for (const char* name : {"words.W1", "shapes.W1", "W2", "b2", "W3"}) {
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
  WindowTagger m = make_window_tagger(c, vectors(), NerOptions{}, 1);
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
  WindowTagger m = make_window_tagger(c, v, NerOptions{}, 1);
  const std::vector<std::string>& words = m.vocabulary().words();
  ASSERT_GE(words.size(), 7u);
  EXPECT_EQ(
      std::vector<std::string>(words.begin(), words.begin() + 7),
      (std::vector<std::string>{"<pad>", "<unk>", "allen", "iverson", "jersey", "quiet", "the"}));
  const std::int64_t iverson = m.vocabulary().id("iverson");
  for (std::int64_t k = 0; k < 100; ++k) {
    EXPECT_EQ(m.embedding().words().W().value().at({iverson, k}), v.row(v.find("iverson"))[k]);
  }
  EXPECT_GT(m.vocabulary().id("tonight"), 6);  // no vector: a word of its own, learned
  EXPECT_EQ(m.tags(), (std::vector<std::string>{"B-ORG", "B-PER", "I-PER", "O"}));
}

}  // namespace
}  // namespace nabla

// ---- the sentence-level tagger (decoder viterbi) ------------------------------------

namespace nabla {
namespace {

TEST(Bio, AllowedTransitionsAndInvalidSentences) {
  const std::vector<std::string> tags = {"B-PER", "I-PER", "O"};
  const Tensor ok = bio_allowed(tags, DType::f64);
  // rows: from B-PER, from I-PER, from O, start, end; columns B-PER, I-PER, O
  EXPECT_EQ(ok.to_vector(), (std::vector<double>{1, 1, 1,  //
                                                 1, 1, 1,  //
                                                 1, 0, 1,  //
                                                 1, 0, 1,  //
                                                 1, 1, 1}));
  // A training corpus that breaks IOB2 keeps its own transitions allowed.
  const Tensor also = bio_allowed(tags, DType::f64, {{"O", "I-PER"}});
  EXPECT_EQ(also.get(2 * 3 + 1), 1.0);
  EXPECT_EQ(also.get(3 * 3 + 1), 0.0);
  EXPECT_EQ(count_invalid_bio({{"O", "I-PER"}, {"B-PER", "I-PER", "O"}, {"I-LOC"},
                               {"B-LOC", "I-PER"}, {"O", "O"}}),
            3);
}

}  // namespace

class NerViterbi : public Ner {
 protected:
  static NerOptions viterbi() {
    NerOptions o;
    o.decoder = "viterbi";
    return o;
  }
};

// The whole sentence-level model (window embedding -> affine -> tanh -> affine ->
// tag_transitions, crf loss) against central differences in float64, at whatever kernel
// level NABLA_ISA selects.
TEST_F(NerViterbi, FullGradientMatchesNumericalInFloat64) {
  NerCorpus c = corpus();
  Rng rng(7);
  NerOptions o = viterbi();
  o.window = 1;
  o.hidden = 6;
  o.shape_dim = 2;
  WindowTagger m = make_check_tagger(c.train, {"B-LOC", "B-PER", "I-PER", "O"}, 4, o, rng);
  ASSERT_TRUE(m.sentence_level());
  NerExamples x = m.encode(c.train, "train");
  ASSERT_EQ(x.lengths, (std::vector<std::int64_t>{3, 4, 3}));
  m.embedding().set_grad_mode(EmbeddingGrad::dense);
  GradCheckReport r = gradient_check(m, x);
  ASSERT_EQ(r.params.size(), 7u);
  EXPECT_EQ(r.params[6].name, "transitions4");
  for (const ParamCheck& p : r.params) {
    EXPECT_LT(p.max_abs_diff, 1e-9) << p.name;
    EXPECT_LT(p.max_rel_error, 1e-5) << p.name;
  }
  // The forbidden transitions (O -> I-PER, B-LOC -> I-PER, start -> I-PER) get no gradient.
  const Tensor& g = m.net().parameter("transitions4").grad();
  EXPECT_EQ(g.get(3 * 4 + 2), 0.0);
  EXPECT_EQ(g.get(0 * 4 + 2), 0.0);
  EXPECT_EQ(g.get(4 * 4 + 2), 0.0);
  EXPECT_NE(g.get(1 * 4 + 2), 0.0);  // B-PER -> I-PER: allowed, used
}

// The same with prefix and suffix vectors: four tables, one more parameter.
TEST_F(NerViterbi, FullGradientWithAffixesMatchesNumericalInFloat64) {
  NerCorpus c = corpus();
  Rng rng(8);
  NerOptions o = viterbi();
  o.window = 1;
  o.hidden = 5;
  o.shape_dim = 2;
  o.affix_dim = 2;
  WindowTagger m = make_check_tagger(c.train, {"B-LOC", "B-PER", "I-PER", "O"}, 3, o, rng);
  NerExamples x = m.encode(c.train, "train");
  ASSERT_EQ(x.ids.shape(), (Shape{10, 12}));
  // "Paris": prefix "<par", suffix ">ris"
  EXPECT_EQ(x.ids.get(2 * 12 + 7), static_cast<double>(m.affixes().id("<par")));
  EXPECT_EQ(x.ids.get(2 * 12 + 10), static_cast<double>(m.affixes().id(">ris")));
  EXPECT_EQ(prefix_of("@Obama"), "<@ob");
  EXPECT_EQ(suffix_of("in"), ">in");
  EXPECT_EQ(prefix_of("Ångström"), "<Ång");  // whole UTF-8 characters (GloVe's
  EXPECT_EQ(suffix_of("Ångström"), ">röm");          // lower_case leaves non-ASCII alone)
  m.embedding().set_grad_mode(EmbeddingGrad::dense);
  GradCheckReport r = gradient_check(m, x);
  ASSERT_EQ(r.params.size(), 8u);
  EXPECT_EQ(r.params[2].name, "affixes.W1");
  for (const ParamCheck& p : r.params) {
    EXPECT_LT(p.max_abs_diff, 1e-9) << p.name;
    EXPECT_LT(p.max_rel_error, 1e-5) << p.name;
  }
}

// The same with character features: the convolution's weights, bias and table.
TEST_F(NerViterbi, FullGradientWithCharactersMatchesNumericalInFloat64) {
  NerCorpus c = corpus();
  Rng rng(9);
  NerOptions o = viterbi();
  o.window = 1;
  o.hidden = 5;
  o.shape_dim = 2;
  o.char_dim = 2;
  o.char_filters = 3;
  WindowTagger m = make_check_tagger(c.train, {"B-LOC", "B-PER", "I-PER", "O"}, 3, o, rng);
  NerExamples x = m.encode(c.train, "train");
  const std::int64_t cols = 2 * 3 + 3 * kWordLength;
  ASSERT_EQ(x.ids.shape(), (Shape{10, cols}));
  // "love" (token 1): its window's characters are I's, love's, Paris's, each after a pad
  auto char_id = [&](std::int64_t token, std::int64_t slot, std::int64_t at) {
    return static_cast<std::int64_t>(x.ids.get(token * cols + 6 + slot * kWordLength + at));
  };
  EXPECT_EQ(char_id(1, 0, 0), Vocabulary::kPad);
  EXPECT_EQ(char_id(1, 0, 1), m.chars().id("I"));
  EXPECT_EQ(char_id(1, 0, 2), Vocabulary::kPad);
  EXPECT_EQ(char_id(1, 1, 4), m.chars().id("e"));
  EXPECT_EQ(char_id(1, 2, 1), m.chars().id("P"));  // case kept
  EXPECT_NE(m.chars().id("P"), m.chars().id("p"));
  for (std::int64_t at = 0; at < kWordLength; ++at) {
    EXPECT_EQ(char_id(0, 0, at), Vocabulary::kPad);  // before the sentence
  }
  m.embedding().set_grad_mode(EmbeddingGrad::dense);
  GradCheckReport r = gradient_check(m, x);
  ASSERT_EQ(r.params.size(), 10u);
  EXPECT_EQ(r.params[2].name, "characters.W1");
  EXPECT_EQ(r.params[4].name, "characters.chars.W1");
  for (const ParamCheck& p : r.params) {
    EXPECT_LT(p.max_abs_diff, 1e-9) << p.name;
    EXPECT_LT(p.max_rel_error, 1e-5) << p.name;
  }
}

TEST(NerCharacters, SpellingCutsLongWordsAndKeepsWholeCharacters) {
  Vocabulary chars;
  for (const std::string& ch : characters_of("Ångström")) chars.add(ch);
  EXPECT_EQ(characters_of("Ångström"),
            (std::vector<std::string>{"Å", "n", "g", "s", "t", "r", "ö", "m"}));
  std::vector<std::int64_t> ids(kWordLength);
  spell("Ångx", chars, ids.data());
  EXPECT_EQ(std::vector<std::int64_t>(ids.begin(), ids.begin() + 6),
            (std::vector<std::int64_t>{0, chars.id("Å"), chars.id("n"), chars.id("g"),
                                       Vocabulary::kUnknown, 0}));
  // a word longer than kWordLength - 2 characters: its first ones, then one pad
  spell(std::string(40, 'n'), chars, ids.data());
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids[kWordLength - 2], chars.id("n"));
  EXPECT_EQ(ids.back(), 0);
}

TEST_F(NerViterbi, CharactersRoundTripThroughTheModelFileAndResume) {
  NerCorpus c = corpus();
  NerOptions o = viterbi();
  o.char_dim = 4;
  o.char_filters = 5;
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  EXPECT_NE(m.chars().id("@"), Vocabulary::kUnknown);
  EXPECT_EQ(m.chars().id("z"), Vocabulary::kUnknown);  // not in the training tokens
  Trainer trainer(ner_train_config(m, 3, 2, "adam", 0.01, 3), ner_training_data(m, c), m.net());
  for (int i = 0; i < 3; ++i) trainer.step();
  trainer.save(path("c.safetensors"));
  WindowTagger back = load_window_tagger(path("c.safetensors"));
  EXPECT_EQ(back.chars().words(), m.chars().words());
  // A word GloVe and the training data lack still has its spelling.
  const NerExamples x = m.encode_untagged({{"Parisian", "@obamaz", "in", "Berlinz"}});
  EXPECT_EQ(back.net().predict(x.ids).to_vector(), m.net().predict(x.ids).to_vector());
  EXPECT_EQ(back.encode_untagged({{"Parisian"}}).ids.to_vector(),
            m.encode_untagged({{"Parisian"}}).ids.to_vector());
  Trainer resumed = Trainer::resume(path("c.safetensors"), ner_training_data(back, c));
  for (int i = 0; i < 2; ++i) {
    trainer.step();
    resumed.step();
  }
  for (const auto& [name, p] : trainer.model().named_parameters()) {
    EXPECT_EQ(resumed.model().parameter(name).value().to_vector(), p.value().to_vector()) << name;
  }
}

TEST_F(NerViterbi, AffixesRoundTripThroughTheModelFile) {
  NerCorpus c = corpus();
  NerOptions o;
  o.affix_dim = 4;
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  EXPECT_EQ(m.affixes().id("<par"), m.affixes().id("<par"));
  EXPECT_NE(m.affixes().id(">ris"), Vocabulary::kUnknown);
  EXPECT_EQ(m.affixes().id(">xyz"), Vocabulary::kUnknown);
  Trainer trainer = trainer_of(m, c, 1);
  while (!trainer.done()) trainer.step();
  trainer.save(path("a.safetensors"));
  WindowTagger back = load_window_tagger(path("a.safetensors"));
  EXPECT_EQ(back.affixes().words(), m.affixes().words());
  NerExamples x = m.encode(c.test, c.test_path);
  EXPECT_EQ(back.net().predict(x.ids).to_vector(), m.net().predict(x.ids).to_vector());
}

TEST_F(NerViterbi, TrainsOnSentencesThroughTheOneTrainerAndTagsValidSequences) {
  NerCorpus c = corpus();
  NerOptions o = viterbi();
  o.hidden = 20;
  WindowTagger m = make_window_tagger(c, vectors(), o, 1);
  EXPECT_EQ(m.decoder(), "viterbi");
  EXPECT_EQ(m.spec().loss, "crf");
  std::shared_ptr<TrainingData> data = ner_training_data(m, c);
  EXPECT_EQ(data->size(Split::train), 3);  // sentences
  const Batch& b = data->batch({2, 0}, InputForm::dense, {10});
  EXPECT_EQ(b.lengths, (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(b.labels.size(), 6u);
  Trainer trainer(ner_train_config(m, 60, 2, "adam", 0.01, 3), data, m.net());
  EXPECT_EQ(trainer.iters_per_epoch(), 2);  // 3 sentences in batches of 2
  const double first = trainer.step();
  double last = first;
  while (!trainer.done()) last = trainer.step();
  EXPECT_LT(last, 0.05 * first);
  EntityScores s = m.score(c.train, c.train_path);
  EXPECT_EQ(s.overall.f1(), 1.0);
  Evaluation e = trainer.evaluate();
  EXPECT_EQ(e.train_acc, 1.0);
  EXPECT_EQ(e.test_acc, m.score(c.test, c.test_path).overall.f1());
  // Whatever the scores, Viterbi never emits an I-X that IOB2 forbids.
  const NerExamples x = m.encode_untagged({{"in", "Obama", "Paris", "loves", "Barack"}});
  EXPECT_EQ(count_invalid_bio(m.tag(x)), 0);
}

TEST_F(NerViterbi, ModelFileKeepsTheConstraintsAndResumesExactly) {
  NerCorpus c = corpus();
  auto make = [&] { return make_window_tagger(c, vectors(), viterbi(), 1); };
  WindowTagger a = make();
  Trainer straight(ner_train_config(a, 4, 2, "adam", 0.01, 3), ner_training_data(a, c), a.net());
  for (int i = 0; i < 5; ++i) straight.step();
  WindowTagger b = make();
  Trainer first(ner_train_config(b, 4, 2, "adam", 0.01, 3), ner_training_data(b, c), b.net());
  for (int i = 0; i < 3; ++i) first.step();
  first.save(path("at3"));
  WindowTagger from_file = load_window_tagger(path("at3"));
  EXPECT_TRUE(from_file.sentence_level());
  EXPECT_EQ(from_file.net().named_buffers().back().second.value().to_vector(),
            b.net().named_buffers().back().second.value().to_vector());  // allowed4
  Trainer resumed = Trainer::resume(path("at3"), ner_training_data(from_file, c));
  for (int i = 0; i < 2; ++i) resumed.step();
  for (const auto& [name, p] : straight.model().named_parameters()) {
    EXPECT_EQ(resumed.model().parameter(name).value().to_vector(), p.value().to_vector()) << name;
  }
}

}  // namespace nabla
