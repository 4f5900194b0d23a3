// The window model's whole gradient against central differences.
#include "nabla/autograd/gradcheck.h"
#include "nabla/tasks/ner.h"

namespace nabla {

GradCheckReport gradient_check(WindowTagger& model, const NerExamples& batch, double h,
                               double abs_floor) {
  model.train();
  model.zero_grad();
  model.loss_and_gradient(batch.words, batch.shapes, batch.labels);
  // Backprop, as training computes it: the tables' row gradients made dense.
  std::vector<const RowGradient*> rows = model.row_grads();
  std::vector<std::string> names;
  std::vector<Tensor> analytic, numerical;
  std::size_t i = 0;
  for (auto& [name, p] : model.named_parameters()) {
    names.push_back(name);
    analytic.push_back(rows[i] != nullptr ? rows[i]->to_dense(p.shape()[0]) : p.grad());
    ++i;
  }
  i = 0;
  for (auto& [name, p] : model.named_parameters()) {
    numerical.push_back(numerical_gradient(
        [&] {
          SoftmaxWithLoss loss;
          return loss.forward(model.scores(batch.words, batch.shapes), batch.labels);
        },
        p.value(), h));
    if (rows[i] != nullptr && rows[i]->empty()) analytic[i] = Tensor(p.shape(), p.dtype());
    ++i;
  }
  return compare_gradients(names, numerical, analytic, abs_floor);
}

WindowTagger make_check_tagger(const std::vector<TaggedSentence>& sentences,
                               std::vector<std::string> tags, std::int64_t dim,
                               const NerOptions& options, Rng& rng) {
  Vocabulary vocab;
  for (const TaggedSentence& s : sentences) {
    for (const std::string& token : s.tokens) vocab.add(lower_case(token));
  }
  Tensor vectors = Tensor::randn({vocab.size(), dim}, rng, 0.5, DType::f64);
  return WindowTagger(std::move(vocab), std::move(vectors), std::move(tags), options, rng);
}

}  // namespace nabla
