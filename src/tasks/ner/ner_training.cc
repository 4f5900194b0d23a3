// The corpus, the peer's vocabulary, and the training loop of the window tagger.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <utility>

#include "nabla/tasks/ner.h"

namespace nabla {

std::unordered_map<std::string, std::int64_t> NerCorpus::lower_case_words() const {
  std::unordered_map<std::string, std::int64_t> out;
  for (const auto* part : {&train, &dev, &test}) {
    for (const TaggedSentence& s : *part) {
      for (const std::string& token : s.tokens) out.emplace(lower_case(token), 0);
    }
  }
  return out;
}

NerCorpus read_ner_corpus(const std::string& train, const std::string& dev,
                          const std::string& test) {
  NerCorpus c;
  c.train = read_conll(train);
  c.dev = read_conll(dev);
  c.test = read_conll(test);
  c.train_path = train;
  c.dev_path = dev;
  c.test_path = test;
  return c;
}

WindowTagger make_window_tagger(const NerCorpus& corpus, const WordVectors& vectors,
                                const NerOptions& options) {
  std::set<std::string> pretrained, train_only, tags;
  for (const auto& [word, unused] : corpus.lower_case_words()) {
    if (vectors.find(word) >= 0) pretrained.insert(word);
  }
  for (const TaggedSentence& s : corpus.train) {
    for (const std::string& token : s.tokens) {
      std::string w = lower_case(token);
      if (pretrained.count(w) == 0) train_only.insert(std::move(w));
    }
    tags.insert(s.tags.begin(), s.tags.end());
  }
  Vocabulary vocab;
  for (const std::string& w : pretrained) vocab.add(w);
  for (const std::string& w : train_only) vocab.add(w);

  Rng rng(options.seed);
  const std::int64_t d = vectors.dim;
  Tensor table = Tensor::uniform({vocab.size(), d}, rng, -0.1, 0.1);
  float* t = table.data<float>();
  std::fill(t, t + 2 * d, 0.0f);  // padding and unknown
  for (const std::string& w : pretrained) {
    const float* v = vectors.row(vectors.find(w));
    std::copy(v, v + d, t + vocab.id(w) * d);
  }
  return WindowTagger(std::move(vocab), std::move(table),
                      std::vector<std::string>(tags.begin(), tags.end()), options, rng);
}

NerTrainer::NerTrainer(WindowTagger& model, NerExamples train, const NerOptions& options)
    : model_(model),
      train_(std::move(train)),
      options_(options),
      optimizer_(make_optimizer(options.optimizer, options.lr)),
      params_(model.parameters()),
      row_grads_(model.row_grads()),
      rng_(options.seed + 1000003),
      order_(static_cast<std::size_t>(train_.size())) {
  if (options.batch < 1) throw ValueError("NerTrainer: batch must be >= 1");
  if (train_.size() == 0) throw ValueError("NerTrainer: no training tokens");
  std::iota(order_.begin(), order_.end(), 0);
}

std::int64_t NerTrainer::steps_per_epoch() const {
  return (train_.size() + options_.batch - 1) / options_.batch;
}

double NerTrainer::train_epoch(
    const std::function<void(std::int64_t, std::int64_t, double)>& progress) {
  model_.train();
  std::shuffle(order_.begin(), order_.end(), rng_.engine());
  const std::int64_t n = train_.size(), k = model_.width(), steps = steps_per_epoch();
  const std::int64_t* words = train_.words.data<std::int64_t>();
  const std::int64_t* shapes = train_.shapes.data<std::int64_t>();
  double total = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::int64_t begin = step * options_.batch;
    const std::int64_t m = std::min(options_.batch, n - begin);
    batch_words_.resize({m, k}, DType::i64);
    batch_shapes_.resize({m, k}, DType::i64);
    batch_labels_.resize(static_cast<std::size_t>(m));
    std::int64_t* bw = batch_words_.data<std::int64_t>();
    std::int64_t* bs = batch_shapes_.data<std::int64_t>();
    for (std::int64_t i = 0; i < m; ++i) {
      const std::int64_t row = order_[static_cast<std::size_t>(begin + i)];
      std::copy(words + row * k, words + row * k + k, bw + i * k);
      std::copy(shapes + row * k, shapes + row * k + k, bs + i * k);
      batch_labels_[static_cast<std::size_t>(i)] = train_.labels[static_cast<std::size_t>(row)];
    }
    model_.zero_grad();
    const double loss = model_.loss_and_gradient(batch_words_, batch_shapes_, batch_labels_);
    if (!std::isfinite(loss)) {
      throw ValueError("ner training: the loss is " + std::to_string(loss) + " at step " +
                       std::to_string(step + 1) + " of the epoch (learning rate " +
                       std::to_string(options_.lr) + " too high?)");
    }
    optimizer_->step(params_, row_grads_);
    total += loss * static_cast<double>(m);
    if (progress) progress(step + 1, steps, total / static_cast<double>(begin + m));
  }
  return total / static_cast<double>(n);
}

}  // namespace nabla
