// The window model's whole gradient against central differences.
#include "nabla/autograd/gradcheck.h"
#include "nabla/nn/crf.h"
#include "nabla/tasks/ner.h"

namespace nabla {

GradCheckReport gradient_check(WindowTagger& model, const NerExamples& batch, double h,
                               double abs_floor) {
  Sequential& net = model.net();
  net.train();
  net.zero_grad();
  net.clear_row_gradients();
  const Targets targets = model.sentence_level() ? Targets(batch.labels, batch.lengths)
                                                 : Targets(batch.labels);
  net.gradient(batch.ids, targets);
  // Backprop, as training computes it: the tables' row gradients made dense.
  const std::vector<const RowGradient*> rows = net.row_gradients();
  std::vector<std::string> names;
  std::vector<Tensor> analytic, numerical;
  std::size_t i = 0;
  for (auto& [name, p] : net.named_parameters()) {
    names.push_back(name);
    if (rows[i] == nullptr) {
      analytic.push_back(p.grad());
    } else if (rows[i]->empty()) {
      analytic.emplace_back(p.shape(), p.dtype());
    } else {
      analytic.push_back(rows[i]->to_dense(p.shape()[0]));
    }
    numerical.push_back(
        numerical_gradient([&] { return net.loss(batch.ids, targets); }, p.value(), h));
    ++i;
  }
  return compare_gradients(names, numerical, analytic, abs_floor);
}

WindowTagger make_check_tagger(const std::vector<TaggedSentence>& sentences,
                               std::vector<std::string> tags, std::int64_t dim,
                               const NerOptions& options, Rng& rng) {
  Vocabulary vocab, affixes, chars;
  for (const TaggedSentence& s : sentences) {
    for (const std::string& token : s.tokens) {
      vocab.add(lower_case(token));
      if (options.affix_dim > 0) {
        affixes.add(prefix_of(token));
        affixes.add(suffix_of(token));
      }
      if (options.char_dim > 0) {
        for (const std::string& c : characters_of(token)) chars.add(c);
      }
    }
  }
  ModelSpec spec = window_tagger_spec(vocab.size(), dim, static_cast<std::int64_t>(tags.size()),
                                      options, affixes.size(), chars.size());
  Tensor vectors = Tensor::randn({vocab.size(), dim}, rng, 0.5, DType::f64);
  Sequential net = build_model(spec, rng, DType::f64);
  static_cast<WindowEmbedding&>(net.layer(0)).words().W().value() = vectors;
  if (options.decoder == "viterbi") {
    // Random transitions (not the zeros a new tagger starts with), IOB2's imposed.
    auto& transitions = static_cast<TagTransitions&>(net.layer(net.size() - 1));
    transitions.transitions().value() =
        Tensor::randn(transitions.transitions().shape(), rng, 0.5, DType::f64);
    transitions.allowed() = bio_allowed(tags, DType::f64);
  }
  return WindowTagger(std::move(vocab), std::move(tags), std::move(spec), std::move(net),
                      std::move(affixes), std::move(chars));
}

}  // namespace nabla
