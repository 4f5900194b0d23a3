// nabla/ner.h — the lecture's window classifier for named-entity recognition.
//
// Each token is tagged from the 2 * window + 1 tokens around it (padding beyond the
// sentence's edges). Each of them is read as two learned vectors side by side: its
// lower-cased word's vector (from GloVe, fine-tuned) and a small vector for its shape
// (capitalised, all caps, @mention, #hashtag, ... : what lower-casing loses; the "caps
// feature" of Collobert & Weston 2011). The window's vectors, concatenated, go through
//
//   x (N, k*(d+s)) -> Affine -> tanh -> Affine -> SoftmaxWithLoss over the IOB2 tags.
//
//   NerCorpus c = read_ner_corpus("btc.train", "btc.dev", "btc.test");
//   auto words = c.lower_case_words();
//   WordVectors glove = read_glove("glove.6B.100d.txt", &words);   // only the rows needed
//   WindowTagger model = make_window_tagger(c, glove, options);
//   NerTrainer trainer(model, model.encode(c.train, c.train_path), options);
//   trainer.train_epoch();                              // one pass over shuffled tokens
//   EntityScores dev = model.score(c.dev, c.dev_path);  // entity P / R / F1, the CoNLL way
//   save_window_tagger("model.safetensors", model, {});
//
// The model file holds the parameters (words.W, shapes.W, hidden.W, hidden.b,
// output.W, output.b) and, in its metadata, the vocabulary, the tag set and the options,
// so that load_window_tagger gives back a model that tags exactly as the saved one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nabla/autograd/gradcheck.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/text/conll.h"
#include "nabla/text/entity_score.h"
#include "nabla/text/glove.h"
#include "nabla/text/word_windows.h"
#include "nabla/train/optim.h"

namespace nabla {

struct NerOptions {
  int window = 2;                   // tokens each side of the centre
  std::int64_t hidden = 100;        // hidden units
  std::string activation = "tanh";  // tanh, relu or sigmoid
  std::int64_t shape_dim = 5;       // size of the word-shape vectors (0: none)
  std::int64_t epochs = 10;
  std::int64_t batch = 64;         // tokens per step
  std::string optimizer = "adam";  // any of optimizer_names()
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

// The three parts of a corpus, read with read_conll (DataError names file and line).
struct NerCorpus {
  std::vector<TaggedSentence> train, dev, test;
  std::string train_path, dev_path, test_path;
  // Every token of the three parts, lower-cased (to pick GloVe's rows).
  std::unordered_map<std::string, std::int64_t> lower_case_words() const;
};
NerCorpus read_ner_corpus(const std::string& train, const std::string& dev,
                          const std::string& test);

// A corpus as the model reads it: one row per token.
struct NerExamples {
  Tensor words;                       // int64 (N, k): word ids of each token's window
  Tensor shapes;                      // int64 (N, k): 0 padding, 1 + WordShape
  std::vector<std::int64_t> labels;   // (N): tag ids (empty for untagged text)
  std::vector<std::int64_t> lengths;  // tokens per sentence
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

class WindowTagger : public Module {
 public:
  // words: the vocabulary (ids 0 and 1: padding and unknown), vectors its rows (V, d);
  // tags: the tag set (IOB2). Affine weights start at N(0, 1/fan_in) (Xavier), shape
  // vectors at U(-0.1, 0.1), from rng.
  WindowTagger(Vocabulary words, Tensor vectors, std::vector<std::string> tags,
               const NerOptions& options, Rng& rng);
  std::string kind() const override { return "WindowTagger"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<WindowTagger>(*this); }

  const Vocabulary& vocabulary() const { return vocabulary_; }
  const std::vector<std::string>& tags() const { return tags_; }
  const NerOptions& options() const { return options_; }
  std::int64_t dim() const { return words().dim(); }
  std::int64_t width() const { return 2 * options_.window + 1; }

  // Sentences as windows of ids. Tags must be in the tag set: DataError names `source`
  // and the tag's line in it (counting token lines and the blank line after each
  // sentence, as read_conll's input has them).
  NerExamples encode(const std::vector<TaggedSentence>& sentences, const std::string& source) const;
  NerExamples encode_untagged(const std::vector<std::vector<std::string>>& sentences) const;

  // Scores (N, tags) of a batch of windows: ids int64 (N, k).
  Tensor scores(const Tensor& words, const Tensor& shapes);
  // Forward, mean cross-entropy loss and backward: the gradients go to the Affine
  // layers' grad() and the two tables' row_grad() (or W.grad() for EmbeddingGrad::dense).
  double loss_and_gradient(const Tensor& words, const Tensor& shapes,
                           const std::vector<std::int64_t>& labels);
  // Clears every gradient (the Affine grads and the tables' row gradients).
  void zero_grad();
  // What Optimizer::step(params, row_grads) takes: every parameter, and the tables'
  // row gradients at their positions.
  std::vector<const RowGradient*> row_grads() const;

  // Tag ids of every token, in evaluation mode, in chunks (the mode is restored).
  std::vector<std::int64_t> predict(const NerExamples& examples);
  std::vector<std::vector<std::string>> tag(const NerExamples& examples);
  // Entity scores of the model's tags against the sentences' own.
  EntityScores score(const std::vector<TaggedSentence>& sentences, const std::string& source);

  Embedding& words() { return static_cast<Embedding&>(module_at(0)); }
  const Embedding& words() const { return static_cast<const Embedding&>(module_at(0)); }
  Embedding& shapes() { return static_cast<Embedding&>(module_at(1)); }
  Affine& hidden() { return static_cast<Affine&>(module_at(2)); }
  Layer& activation() { return static_cast<Layer&>(module_at(3)); }
  Affine& output() { return static_cast<Affine&>(module_at(4)); }

  // Switches the tables between sparse row gradients (training) and dense W.grad()
  // (gradient checks).
  void set_embedding_grad(EmbeddingGrad mode);

 private:
  Vocabulary vocabulary_;
  std::vector<std::string> tags_;
  std::unordered_map<std::string, std::int64_t> tag_ids_;
  NerOptions options_;
  SoftmaxWithLoss loss_;
  Tensor x_;  // the forward's input to `hidden`, (N, k*(d+s)), reused between batches
};

// The vocabulary of the peer (bench/peers/torch_window_ner.py): padding, unknown, the
// corpus's lower-cased words that GloVe has (sorted; their GloVe vectors), then the
// training words it lacks (sorted; U(-0.1, 0.1)); padding and unknown start at zero.
// Tags are the training set's, sorted.
WindowTagger make_window_tagger(const NerCorpus& corpus, const WordVectors& vectors,
                                const NerOptions& options);

// Training: one epoch is one pass over the shuffled tokens in batches, an optimizer step
// (lazy in the tables, see optim.h) after each.
class NerTrainer {
 public:
  NerTrainer(WindowTagger& model, NerExamples train, const NerOptions& options);
  // Returns the mean training loss of the epoch; progress(done, total, loss so far) is
  // called after every step. A loss that is not finite throws ValueError.
  double train_epoch(const std::function<void(std::int64_t, std::int64_t, double)>& progress = {});
  std::int64_t steps_per_epoch() const;

 private:
  WindowTagger& model_;
  NerExamples train_;
  NerOptions options_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<Var> params_;
  std::vector<const RowGradient*> row_grads_;
  Rng rng_;
  std::vector<std::int64_t> order_;
  Tensor batch_words_, batch_shapes_;
  std::vector<std::int64_t> batch_labels_;
};

// The model's whole gradient as training computes it (backprop; the tables' row
// gradients made dense) against central differences of the loss on `batch`, parameter by
// parameter (gradcheck.h). Meant for a float64 model (make_check_tagger).
GradCheckReport gradient_check(WindowTagger& model, const NerExamples& batch, double h = 1e-5,
                               double abs_floor = 1e-6);
// A float64 tagger for gradient checks: the sentences' lower-cased words with random
// vectors of size dim (N(0, 0.25)), the given tags (two or more, or the loss is 0 and so
// is every gradient) and options.
WindowTagger make_check_tagger(const std::vector<TaggedSentence>& sentences,
                               std::vector<std::string> tags, std::int64_t dim,
                               const NerOptions& options, Rng& rng);

// Saves the parameters and, in the metadata, the vocabulary, tags and options (plus
// `extra` entries).
void save_window_tagger(const std::string& path, WindowTagger& model,
                        const std::map<std::string, std::string>& extra);
// Loads one; DataError naming the file for a file that is not a window tagger, whose
// vocabulary, tags or dimensions do not match its tensors, or whose parameters hold a NaN
// or an infinity.
WindowTagger load_window_tagger(const std::string& path);

}  // namespace nabla
