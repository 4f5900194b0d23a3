// The corpus, the peer's vocabulary, and the tagger's architecture and training setup.
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "nabla/nn/crf.h"
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

ModelSpec window_tagger_spec(std::int64_t vocab, std::int64_t dim, std::int64_t tags,
                             const NerOptions& options, std::int64_t affixes,
                             std::int64_t chars) {
  if (options.window < 0 || options.window > 50) {
    throw ValueError("window tagger: window must be in [0, 50], got " +
                     std::to_string(options.window));
  }
  if (options.activation != "tanh" && options.activation != "relu" &&
      options.activation != "sigmoid") {
    throw ValueError("window tagger: activation '" + options.activation +
                     "' is not one of tanh, relu, sigmoid");
  }
  const std::int64_t width = 2 * static_cast<std::int64_t>(options.window) + 1;
  ModelSpec s;
  s.kind = "window-tagger";
  const std::int64_t ids =
      (options.affix_dim > 0 ? 4 : 2) * width + (options.char_dim > 0 ? width * kWordLength : 0);
  s.input_shape = {ids};
  s.inputs = ids;
  s.classes = tags;
  s.hidden.clear();
  s.init = Init::xavier;
  const auto number = [](std::int64_t v) { return static_cast<double>(v); };
  s.layers = {
      {"window_embedding",
       {{"width", number(width)},
        {"vocab", number(vocab)},
        {"dim", number(dim)},
        {"shapes", number(kWordShapes + 1)},
        {"shape_dim", number(options.shape_dim)},
        {"affixes", number(options.affix_dim > 0 ? affixes : 0)},
        {"affix_dim", number(options.affix_dim)}}},
      {"affine", {{"out", number(options.hidden)}}},
      {options.activation, {}},
      {"affine", {{"out", number(tags)}}},
  };
  if (options.char_dim > 0) {
    LayerOptions& first = s.layers.front().options;
    first["chars"] = number(chars);
    first["char_dim"] = number(options.char_dim);
    first["char_filters"] = number(options.char_filters);
    first["char_width"] = number(kCharWidth);
    first["word_length"] = number(kWordLength);
  }
  if (options.dropout > 0) {
    s.layers.insert(s.layers.begin() + 1, {"dropout", {{"p", options.dropout}}});
  }
  if (options.decoder == "viterbi") {
    s.layers.push_back({"tag_transitions", {}});
    s.loss = "crf";
  } else if (options.decoder != "window") {
    throw ValueError("ner: decoder '" + options.decoder + "' is not one of window, viterbi");
  }
  s.check();  // (ValueError naming what is out of range)
  return s;
}

WindowTagger make_window_tagger(const NerCorpus& corpus, const WordVectors& vectors,
                                const NerOptions& options, std::uint64_t seed) {
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

  // The training tokens' prefixes and suffixes (sorted), with affix vectors.
  Vocabulary affixes;
  if (options.affix_dim > 0) {
    std::set<std::string> seen;
    for (const TaggedSentence& s : corpus.train) {
      for (const std::string& token : s.tokens) {
        seen.insert(prefix_of(token));
        seen.insert(suffix_of(token));
      }
    }
    for (const std::string& a : seen) affixes.add(a);
  }
  // The training tokens' characters (sorted), with character features.
  Vocabulary chars;
  if (options.char_dim > 0) {
    std::set<std::string> seen;
    for (const TaggedSentence& s : corpus.train) {
      for (const std::string& token : s.tokens) {
        for (std::string& c : characters_of(token)) seen.insert(std::move(c));
      }
    }
    for (const std::string& c : seen) chars.add(c);
  }
  const std::int64_t d = vectors.dim;
  const ModelSpec spec = window_tagger_spec(vocab.size(), d, static_cast<std::int64_t>(tags.size()),
                                            options, affixes.size(), chars.size());
  Rng rng(seed);
  Sequential net = build_model(spec, rng, DType::f32);
  // The table's U(-0.1, 0.1) rows stay for the words GloVe lacks; padding and unknown
  // start at zero, the others at their GloVe vectors.
  auto& embedding = static_cast<WindowEmbedding&>(net.layer(0));
  float* t = embedding.words().W().value().data<float>();
  std::fill(t, t + 2 * d, 0.0f);
  for (const std::string& w : pretrained) {
    const float* v = vectors.row(vectors.find(w));
    std::copy(v, v + d, t + vocab.id(w) * d);
  }
  std::vector<std::string> tag_list(tags.begin(), tags.end());
  if (options.decoder == "viterbi") {
    // IOB2's constraints, imposed, except where the training data itself breaks them.
    std::vector<std::vector<std::string>> gold;
    for (const TaggedSentence& s : corpus.train) gold.push_back(s.tags);
    auto& transitions = static_cast<TagTransitions&>(net.layer(net.size() - 1));
    transitions.allowed() = bio_allowed(tag_list, DType::f32, gold);
  }
  return WindowTagger(std::move(vocab), std::move(tag_list), spec, std::move(net),
                      std::move(affixes), std::move(chars));
}

TrainConfig ner_train_config(const WindowTagger& tagger, std::int64_t epochs, std::int64_t batch,
                             const std::string& optimizer, double lr, std::uint64_t seed) {
  TrainConfig c;
  c.model = tagger.spec();
  c.epochs = epochs;
  c.batch = batch;
  c.optimizer = optimizer;
  c.lr = lr;
  c.seed = seed;
  c.sampling = Sampling::shuffled_epochs;
  return c;
}

}  // namespace nabla
