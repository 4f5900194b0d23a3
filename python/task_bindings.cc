// python/task_bindings.cc — the lectures' tasks: k-nearest neighbours with cross-validated
// k (tasks/knn.h) and the window tagger for named entities (tasks/ner.h), trained through
// the one Trainer.
//
//   knn = nabla.KNearestNeighbor(mnist.train, "l2")
//   predicted = knn.predict(mnist.test, k=3, count=500)
//
//   corpus = nabla.read_ner_corpus("btc.train", "btc.dev", "btc.test")
//   tagger = nabla.make_window_tagger(corpus, nabla.read_glove(path, corpus), seed=1)
//   t = nabla.Trainer(nabla.ner_train_config(tagger, epochs=5), nabla.ner_training_data(tagger,
//                     corpus), tagger.net)
//   tagger.tag_sentence(["I", "love", "Paris"])      # ['O', 'O', 'B-LOC']
#include <pybind11/stl.h>

#include <optional>
#include <sstream>
#include <string>

#include "bindings.h"
#include "nabla/tasks/knn.h"
#include "nabla/tasks/ner.h"

namespace nabla::python {
namespace {

py::array_t<std::int64_t> int_array(const std::vector<std::int64_t>& v) {
  return py::array_t<std::int64_t>(static_cast<py::ssize_t>(v.size()), v.data());
}

std::int64_t checked_k(std::int64_t k, const char* where) {
  if (k < 1)
    throw ValueError(std::string(where) + ": k must be at least 1, got " + std::to_string(k));
  return k;
}

void bind_knn(py::module_& m) {
  py::class_<KNearestNeighbor>(m, "KNearestNeighbor", R"(
k-nearest-neighbour classification of pixel rows (the lecture's first classifier).
KNearestNeighbor(train, distance='l2', threads=2) remembers train (a Dataset, kept alive
by this object): distance 'l1' (sum of |a - b| over the uint8 pixels, exact) or 'l2'
(squared Euclidean, by matrix products in float32). The vote is the most frequent label
among the k nearest, a tie going to the tied class whose member is nearest.)")
      .def(py::init([](const Dataset& train, const std::string& distance, int threads) {
             return std::make_unique<KNearestNeighbor>(
                 train, parse_distance(distance),
                 checked_threads(threads, "KNearestNeighbor threads"));
           }),
           py::arg("train"), py::arg("distance") = "l2", py::arg("threads") = 2,
           py::keep_alive<1, 2>())
      .def(
          "predict",
          [](const KNearestNeighbor& knn, const Dataset& queries, std::int64_t k,
             std::int64_t begin, std::optional<std::int64_t> count) {
            checked_k(k, "KNearestNeighbor.predict");
            const std::int64_t n = count.value_or(queries.size - begin);
            std::vector<std::int64_t> labels;
            {
              py::gil_scoped_release release;
              labels = knn.predict(queries, begin, n, k);
            }
            return int_array(labels);
          },
          py::arg("queries"), py::arg("k") = 1, py::arg("begin") = 0, py::arg("count") = py::none(),
          "Predicted labels (int64 array) of query rows [begin, begin + count) of queries "
          "(a Dataset; count None: to the end).")
      .def(
          "neighbours",
          [](const KNearestNeighbor& knn, const Dataset& queries, std::int64_t k,
             std::int64_t begin, std::optional<std::int64_t> count) {
            checked_k(k, "KNearestNeighbor.neighbours");
            const std::int64_t n = count.value_or(queries.size - begin);
            std::vector<std::int64_t> rows;
            {
              py::gil_scoped_release release;
              rows = knn.neighbours(queries, begin, n, k);
            }
            return int_array(rows).reshape({n, k});
          },
          py::arg("queries"), py::arg("k") = 1, py::arg("begin") = 0, py::arg("count") = py::none(),
          "The training rows nearest each query row, nearest first: int64 (count, k).");

  py::class_<CrossValidationResult>(m, "CrossValidationResult",
                                    "Accuracy of each k on each fold of cross_validate_knn.")
      .def_readonly("ks", &CrossValidationResult::ks, "The ks tried.")
      .def_readonly("fold_accuracy", &CrossValidationResult::fold_accuracy,
                    "[k index][fold]: the accuracy of ks[i] on each fold.")
      .def("mean", &CrossValidationResult::mean, py::arg("k_index"),
           "The mean accuracy of ks[k_index] over the folds.")
      .def("stddev", &CrossValidationResult::stddev, py::arg("k_index"),
           "Its standard deviation over the folds.")
      .def("best_k", &CrossValidationResult::best_k,
           "The k of the highest mean accuracy (the smaller on ties).");
  m.def(
      "cross_validate_knn",
      [](const Dataset& train, std::optional<std::int64_t> size,
         const std::vector<std::int64_t>& ks, int folds, const std::string& distance, int threads) {
        if (folds < 2) {
          throw ValueError("cross_validate_knn: folds must be at least 2, got " +
                           std::to_string(folds));
        }
        const std::int64_t n = size.value_or(train.size);
        if (n < folds || n > train.size) {
          throw ValueError("cross_validate_knn: size must be in [" + std::to_string(folds) + ", " +
                           std::to_string(train.size) + "] (folds to the rows there are), got " +
                           std::to_string(n));
        }
        const Distance d = parse_distance(distance);
        threads = checked_threads(threads, "cross_validate_knn threads");
        py::gil_scoped_release release;
        return cross_validate_knn(train, n, ks, folds, d, threads);
      },
      py::arg("train"), py::arg("size") = py::none(),
      py::arg("ks") = std::vector<std::int64_t>{1, 3, 5, 8, 10}, py::arg("folds") = 5,
      py::arg("distance") = "l2", py::arg("threads") = 2, R"(
k-fold cross-validation of k-NN on the first size rows of train (all if None): each of
folds consecutive folds is classified by its k nearest among the other folds, for every
k in ks. result.best_k() is the k to use.)");
}

std::vector<std::string> strings(const py::handle& value, const char* what) {
  if (py::isinstance<py::str>(value)) {
    throw py::type_error(std::string(what) + ": expected a list of tokens, got one string");
  }
  return value.cast<std::vector<std::string>>();
}

void bind_ner(py::module_& m) {
  py::class_<TaggedSentence>(m, "TaggedSentence", "A sentence's tokens and their IOB2 tags.")
      .def(py::init([](std::vector<std::string> tokens, std::vector<std::string> tags) {
             if (tokens.size() != tags.size()) {
               throw ValueError("TaggedSentence: " + std::to_string(tokens.size()) +
                                " tokens but " + std::to_string(tags.size()) + " tags");
             }
             return TaggedSentence{std::move(tokens), std::move(tags)};
           }),
           py::arg("tokens"), py::arg("tags"))
      .def_readonly("tokens", &TaggedSentence::tokens, "The tokens.")
      .def_readonly("tags", &TaggedSentence::tags, "Their IOB2 tags, one a token.")
      .def("__repr__", [](const TaggedSentence& s) {
        std::string text;
        for (std::size_t i = 0; i < s.tokens.size(); ++i) {
          text += (i ? " " : "") + s.tokens[i] + "/" + s.tags[i];
        }
        return "TaggedSentence(" + text + ")";
      });
  m.def("read_conll", &read_conll, py::arg("path"),
        "The sentences of a CoNLL file (token, tab, tag; a blank line between sentences); "
        "DataError names the file and line of a fault.");

  py::class_<NerCorpus>(m, "NerCorpus", "A corpus's train, dev and test sentences.")
      .def_readonly("train", &NerCorpus::train, "The training sentences.")
      .def_readonly("dev", &NerCorpus::dev, "The development sentences (validation).")
      .def_readonly("test", &NerCorpus::test, "The test sentences.")
      .def_readonly("train_path", &NerCorpus::train_path, "The training file.")
      .def_readonly("dev_path", &NerCorpus::dev_path, "The development file.")
      .def_readonly("test_path", &NerCorpus::test_path, "The test file.")
      .def("lower_case_words", &NerCorpus::lower_case_words,
           "{word: count} of every token of the three parts, lower-cased.");
  m.def("read_ner_corpus", &read_ner_corpus, py::arg("train"), py::arg("dev"), py::arg("test"),
        "The three CoNLL files of a corpus (e.g. corpora/btc/btc.train, .dev, .test).");

  py::class_<WordVectors>(m, "WordVectors", "Word vectors read from a GloVe text file.")
      .def_readonly("words", &WordVectors::words, "The words, by row.")
      .def_readonly("dim", &WordVectors::dim, "The size of a vector.")
      .def("__len__", &WordVectors::size)
      .def("find", &WordVectors::find, py::arg("word"), "The row of word, or -1.")
      .def(
          "vector",
          [](const WordVectors& v, const std::string& word) -> py::object {
            const std::int64_t i = v.find(word);
            if (i < 0) return py::none();
            return py::array_t<float>(v.dim, v.row(i));
          },
          py::arg("word"), "The word's vector (a copy), or None.");
  m.def(
      "read_glove",
      [](const std::string& path, const std::optional<NerCorpus>& corpus) {
        if (!corpus) return read_glove(path);
        auto words = corpus->lower_case_words();
        py::gil_scoped_release release;
        return read_glove(path, &words);
      },
      py::arg("path"), py::arg("corpus") = py::none(),
      "GloVe's vectors from its text file (word, then the values); with a corpus, only the "
      "rows of its lower-cased words (far less memory).");
  m.def(
      "parse_glove",
      [](const std::string& text) {
        std::istringstream in(text);
        return parse_glove(in, "text");
      },
      py::arg("text"), "Word vectors from GloVe's format in a string (a line a word).");

  py::class_<NerOptions>(m, "NerOptions", "The window tagger's architecture.")
      .def(py::init(
               [](int window, std::int64_t hidden, std::string activation, std::int64_t shape_dim) {
                 return NerOptions{window, hidden, std::move(activation), shape_dim};
               }),
           py::arg("window") = 2, py::arg("hidden") = 100, py::arg("activation") = "tanh",
           py::arg("shape_dim") = 5,
           "window tokens each side of the centre; hidden units; tanh, relu or sigmoid; the "
           "size of the word-shape vectors (0: none).")
      .def_readwrite("window", &NerOptions::window, "Tokens each side of the centre.")
      .def_readwrite("hidden", &NerOptions::hidden, "Hidden units.")
      .def_readwrite("activation", &NerOptions::activation, "tanh, relu or sigmoid.")
      .def_readwrite("shape_dim", &NerOptions::shape_dim,
                     "Size of the word-shape vectors (0: none).");

  py::class_<EntityCounts>(m, "EntityCounts", "Entities found: gold, predicted, correct.")
      .def_readonly("gold", &EntityCounts::gold, "Entities in the gold tags.")
      .def_readonly("predicted", &EntityCounts::predicted, "Entities predicted.")
      .def_readonly("correct", &EntityCounts::correct,
                    "Predicted entities that match a gold one exactly.")
      .def("precision", &EntityCounts::precision, "correct / predicted (0 if none).")
      .def("recall", &EntityCounts::recall, "correct / gold (0 if none).")
      .def("f1", &EntityCounts::f1, "2 P R / (P + R) (0 if both are 0).");
  py::class_<EntityScores>(m, "EntityScores", "Entity scores the CoNLL way: overall and by type.")
      .def_readonly("overall", &EntityScores::overall, "EntityCounts over every type.")
      .def_readonly("by_type", &EntityScores::by_type, "{type: EntityCounts}.");
  m.def("score_entities", &score_entities, py::arg("gold"), py::arg("predicted"),
        "Entity precision, recall and F1 of predicted tag sequences against gold ones (IOB2).");

  py::class_<WindowTagger>(m, "WindowTagger", R"(
The lecture's window classifier for named entities: each token tagged from the 2*window+1
tokens around it, each read as its lower-cased word's vector and a word-shape vector,
then affine -> activation -> affine -> softmax over the IOB2 tags. make_window_tagger or
load_window_tagger make one; net is its Sequential, which a Trainer trains.)")
      .def_property_readonly("tags", &WindowTagger::tags, "The tag set (IOB2).")
      .def_property_readonly(
          "vocabulary", [](const WindowTagger& t) { return t.vocabulary().words(); },
          "The words, by id (0: padding, 1: unknown).")
      .def_property_readonly("window", &WindowTagger::window, "Tokens each side of the centre.")
      .def_property_readonly(
          "spec", [](const WindowTagger& t) { return t.spec(); }, "The ModelSpec (a copy).")
      .def_property_readonly("net", &WindowTagger::net, py::return_value_policy::reference_internal,
                             "The network (a Sequential): pass it to Trainer(config, data, net).")
      .def(
          "tag",
          [](WindowTagger& t, const std::vector<std::vector<std::string>>& sentences) {
            for (std::size_t i = 0; i < sentences.size(); ++i) {
              if (sentences[i].empty()) {
                throw ValueError("WindowTagger.tag: sentence " + std::to_string(i) +
                                 " has no tokens");
              }
            }
            return t.tag(t.encode_untagged(sentences));
          },
          py::arg("sentences"), "The tags of each token of each sentence (lists of tokens).")
      .def(
          "tag_sentence",
          [](WindowTagger& t, const py::object& tokens) {
            std::vector<std::string> words = strings(tokens, "WindowTagger.tag_sentence");
            if (words.empty()) throw ValueError("WindowTagger.tag_sentence: no tokens");
            return t.tag(t.encode_untagged({words})).front();
          },
          py::arg("tokens"), "The tags of one sentence's tokens, e.g. ['O', 'O', 'B-LOC'].")
      .def("score", &WindowTagger::score, py::arg("sentences"), py::arg("source") = "sentences",
           "Entity scores of the tagger's tags against the sentences' own (source names "
           "them in errors).")
      .def("metadata", &WindowTagger::metadata,
           "What a model file keeps beside the tensors (vocabulary, tags, window).");
  m.def(
      "make_window_tagger",
      [](const NerCorpus& corpus, const WordVectors& vectors, const NerOptions& options,
         std::uint64_t seed) { return make_window_tagger(corpus, vectors, options, seed); },
      py::arg("corpus"), py::arg("vectors"), py::arg("options") = NerOptions{}, py::arg("seed") = 1,
      R"(
A new tagger for corpus: its vocabulary (padding, unknown, the corpus's lower-cased words
GloVe has with their vectors, then the training words it lacks, U(-0.1, 0.1)), the
training set's tags, Xavier weights from seed.)");
  m.def("load_window_tagger", &load_window_tagger, py::arg("path"),
        "A tagger from its model file (a Trainer checkpoint of a tagger's net, or "
        "`nabla ner train`'s); DataError for a file that is not one.");
  m.def(
      "ner_train_config",
      [](const WindowTagger& tagger, std::int64_t epochs, std::int64_t batch,
         const std::string& optimizer, double lr, std::uint64_t seed) {
        if (epochs < 1) {
          throw ValueError("ner_train_config: epochs must be at least 1, got " +
                           std::to_string(epochs));
        }
        return ner_train_config(tagger, epochs, batch, optimizer, lr, seed);
      },
      py::arg("tagger"), py::arg("epochs") = 10, py::arg("batch") = 64,
      py::arg("optimizer") = "adam", py::arg("lr") = 1e-3, py::arg("seed") = 1,
      "The TrainConfig of a tagger: its spec, shuffled epochs of batch tokens.");
  m.def("ner_training_data", &ner_training_data, py::arg("tagger"), py::arg("corpus"),
        "The corpus's tokens as a Trainer's data: training windows, the dev set as the "
        "validation split, the test set; evaluations measure entity F1.");
}

}  // namespace

void bind_tasks(py::module_& m) {
  bind_knn(m);
  bind_ner(m);
}

}  // namespace nabla::python
