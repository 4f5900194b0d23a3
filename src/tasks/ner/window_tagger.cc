// WindowTagger: the window model's forward, loss and backward, and tagging.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "nabla/core/tensor.h"  // DataError
#include "nabla/tasks/ner.h"
#include "nabla/train/optim.h"

namespace nabla {
namespace {

std::unique_ptr<Layer> make_activation(const std::string& name) {
  if (name == "tanh") return std::make_unique<Tanh>();
  if (name == "relu") return std::make_unique<Relu>();
  if (name == "sigmoid") return std::make_unique<Sigmoid>();
  throw ValueError("unknown activation '" + name + "'; valid activations: tanh, relu, sigmoid");
}

// The line of the n-th token (0-based) of a CoNLL file, counting as read_conll reads it;
// 0 when the file cannot be read again.
std::int64_t token_line(const std::string& path, std::int64_t n) {
  std::ifstream in(path);
  std::string line;
  std::int64_t number = 0, tokens = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.rfind("-DOCSTART-", 0) == 0) continue;
    if (tokens++ == n) return number;
  }
  return 0;
}

// Rows [i*cols + 0, i*cols + cols) of dst get a's row i, then b's.
template <class T>
void join_rows(const T* a, std::int64_t a_cols, const T* b, std::int64_t b_cols, std::int64_t n,
               T* dst) {
  // (a table of width 0, --shape-dim 0, has no storage: nothing to copy from it)
  for (std::int64_t i = 0; i < n; ++i) {
    if (a_cols > 0) {
      std::memcpy(dst + i * (a_cols + b_cols), a + i * a_cols,
                  static_cast<std::size_t>(a_cols) * sizeof(T));
    }
    if (b_cols > 0) {
      std::memcpy(dst + i * (a_cols + b_cols) + a_cols, b + i * b_cols,
                  static_cast<std::size_t>(b_cols) * sizeof(T));
    }
  }
}

}  // namespace

WindowTagger::WindowTagger(Vocabulary words, Tensor vectors, std::vector<std::string> tags,
                           const NerOptions& options, Rng& rng)
    : vocabulary_(std::move(words)), tags_(std::move(tags)), options_(options) {
  if (vectors.rank() != 2 || vectors.size(0) != vocabulary_.size()) {
    throw ShapeError("WindowTagger: " + std::to_string(vocabulary_.size()) +
                     " words need vectors (" + std::to_string(vocabulary_.size()) + ", d), got " +
                     shape_str(vectors.shape()));
  }
  if (options.window < 0 || options.window > 50) {
    throw ValueError("WindowTagger: window must be in [0, 50], got " +
                     std::to_string(options.window));
  }
  if (options.hidden < 1 || options.shape_dim < 0) {
    throw ValueError("WindowTagger: hidden must be >= 1 and shape_dim >= 0");
  }
  if (tags_.empty()) throw ValueError("WindowTagger: no tags");
  for (std::size_t i = 0; i < tags_.size(); ++i) {
    if (!tag_ids_.emplace(tags_[i], static_cast<std::int64_t>(i)).second) {
      throw ValueError("WindowTagger: tag '" + tags_[i] + "' given twice");
    }
  }
  const DType dtype = vectors.dtype();
  const std::int64_t d = vectors.size(1), k = width();
  const std::int64_t in = k * (d + options.shape_dim);
  register_module("words", std::make_unique<Embedding>(std::move(vectors)));
  register_module("shapes",
                  std::make_unique<Embedding>(kWordShapes + 1, options.shape_dim, 0.1, rng, dtype));
  register_module("hidden", std::make_unique<Affine>(in, options.hidden, init_std(Init::xavier, in),
                                                     rng, dtype));
  register_module("activation", make_activation(options.activation));
  const auto n_tags = static_cast<std::int64_t>(tags_.size());
  register_module("output",
                  std::make_unique<Affine>(options.hidden, n_tags,
                                           init_std(Init::xavier, options.hidden), rng, dtype));
}

void WindowTagger::set_embedding_grad(EmbeddingGrad mode) {
  words().set_grad_mode(mode);
  shapes().set_grad_mode(mode);
}

NerExamples WindowTagger::encode_untagged(
    const std::vector<std::vector<std::string>>& sentences) const {
  NerExamples out;
  std::int64_t n = 0;
  for (const auto& s : sentences) n += static_cast<std::int64_t>(s.size());
  const std::int64_t k = width();
  out.words = Tensor({n, k}, DType::i64);
  out.shapes = Tensor({n, k}, DType::i64);
  std::int64_t* w = out.words.data<std::int64_t>();
  std::int64_t* sh = out.shapes.data<std::int64_t>();
  std::vector<std::int64_t> ids, shape_ids;
  for (const auto& s : sentences) {
    ids.clear();
    shape_ids.clear();
    for (const std::string& token : s) {
      ids.push_back(vocabulary_.id(lower_case(token)));
      shape_ids.push_back(1 + static_cast<std::int64_t>(word_shape(token)));  // 0: padding
    }
    std::vector<std::int64_t> wi = window_ids(ids, options_.window);
    std::vector<std::int64_t> si = window_ids(shape_ids, options_.window);
    std::copy(wi.begin(), wi.end(), w);
    std::copy(si.begin(), si.end(), sh);
    w += wi.size();
    sh += si.size();
    out.lengths.push_back(static_cast<std::int64_t>(s.size()));
  }
  return out;
}

NerExamples WindowTagger::encode(const std::vector<TaggedSentence>& sentences,
                                 const std::string& source) const {
  std::vector<std::vector<std::string>> tokens;
  tokens.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) tokens.push_back(s.tokens);
  NerExamples out = encode_untagged(tokens);
  out.labels.reserve(static_cast<std::size_t>(out.words.size(0)));
  for (const TaggedSentence& s : sentences) {
    for (const std::string& tag : s.tags) {
      auto it = tag_ids_.find(tag);
      if (it == tag_ids_.end()) {
        const auto at = static_cast<std::int64_t>(out.labels.size());
        const std::int64_t line = token_line(source, at);
        std::string known;
        for (const std::string& t : tags_) known += (known.empty() ? "" : " ") + t;
        throw DataError(source + (line > 0 ? ":" + std::to_string(line) : "") + ": tag '" + tag +
                        "' is not one the model knows (" + known + ")");
      }
      out.labels.push_back(it->second);
    }
  }
  return out;
}

Tensor WindowTagger::scores(const Tensor& word_ids, const Tensor& shape_ids) {
  if (word_ids.shape() != shape_ids.shape() || word_ids.rank() != 2 ||
      word_ids.size(1) != width()) {
    throw ShapeError("WindowTagger: ids " + shape_str(word_ids.shape()) + " and " +
                     shape_str(shape_ids.shape()) + ", expected two (N, " +
                     std::to_string(width()) + ")");
  }
  Tensor w = words().forward(word_ids);    // (N, k*d)
  Tensor s = shapes().forward(shape_ids);  // (N, k*s)
  const std::int64_t n = w.size(0);
  x_.resize({n, w.size(1) + s.size(1)}, w.dtype());
  visit_dtype(w.dtype(), [&](auto type) {
    using T = decltype(type);
    join_rows(w.data<T>(), w.size(1), s.data<T>(), s.size(1), n, x_.data<T>());
  });
  Tensor h = activation().forward(hidden().forward(x_));
  return output().forward(h);
}

double WindowTagger::loss_and_gradient(const Tensor& word_ids, const Tensor& shape_ids,
                                       const std::vector<std::int64_t>& labels) {
  const double loss = loss_.forward(scores(word_ids, shape_ids), labels);
  Tensor dx = hidden().backward(activation().backward(output().backward(loss_.backward())));
  // dx (N, k*d + k*s): the words' columns, then the shapes'
  const std::int64_t n = dx.size(0), wd = width() * dim(), sd = dx.size(1) - wd;
  Tensor dw = Tensor::empty({n, wd}, dx.dtype());
  Tensor ds = Tensor::empty({n, sd}, dx.dtype());
  visit_dtype(dx.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* src = dx.data<T>();
    T* a = dw.data<T>();
    T* b = ds.data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      std::memcpy(a + i * wd, src + i * (wd + sd), static_cast<std::size_t>(wd) * sizeof(T));
      if (sd > 0) {
        std::memcpy(b + i * sd, src + i * (wd + sd) + wd, static_cast<std::size_t>(sd) * sizeof(T));
      }
    }
  });
  words().backward(dw);
  shapes().backward(ds);
  return loss;
}

void WindowTagger::zero_grad() {
  for (Var& p : parameters()) p.zero_grad();
  words().clear_row_grad();
  shapes().clear_row_grad();
}

std::vector<const RowGradient*> WindowTagger::row_grads() const {
  // parameters(): words.W, shapes.W, hidden.W, hidden.b, output.W, output.b
  std::vector<const RowGradient*> out(parameters().size(), nullptr);
  const auto& w = static_cast<const Embedding&>(module_at(0));
  const auto& s = static_cast<const Embedding&>(module_at(1));
  if (w.grad_mode() == EmbeddingGrad::sparse) out[0] = &w.row_grad();
  if (s.grad_mode() == EmbeddingGrad::sparse) out[1] = &s.row_grad();
  return out;
}

std::vector<std::int64_t> WindowTagger::predict(const NerExamples& examples) {
  const bool was_training = is_training();
  eval();
  const std::int64_t n = examples.words.numel() == 0 ? 0 : examples.words.size(0);
  const std::int64_t k = width(), chunk = 4096;
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  Tensor w, s;
  for (std::int64_t begin = 0; begin < n; begin += chunk) {
    const std::int64_t m = std::min(chunk, n - begin);
    w.resize({m, k}, DType::i64);
    s.resize({m, k}, DType::i64);
    std::memcpy(w.raw(), examples.words.data<std::int64_t>() + begin * k, w.nbytes());
    std::memcpy(s.raw(), examples.shapes.data<std::int64_t>() + begin * k, s.nbytes());
    Tensor y = scores(w, s);
    const std::int64_t c = y.size(1);
    visit_dtype(y.dtype(), [&](auto type) {
      using T = decltype(type);
      const T* p = y.data<T>();
      for (std::int64_t i = 0; i < m; ++i) {
        out[static_cast<std::size_t>(begin + i)] =
            std::max_element(p + i * c, p + i * c + c) - (p + i * c);
      }
    });
  }
  train(was_training);
  return out;
}

std::vector<std::vector<std::string>> WindowTagger::tag(const NerExamples& examples) {
  std::vector<std::int64_t> ids = predict(examples);
  std::vector<std::vector<std::string>> out;
  std::size_t at = 0;
  for (std::int64_t len : examples.lengths) {
    std::vector<std::string>& s = out.emplace_back();
    for (std::int64_t i = 0; i < len; ++i) s.push_back(tags_[static_cast<std::size_t>(ids[at++])]);
  }
  return out;
}

EntityScores WindowTagger::score(const std::vector<TaggedSentence>& sentences,
                                 const std::string& source) {
  std::vector<std::vector<std::string>> gold;
  gold.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) gold.push_back(s.tags);
  return score_entities(gold, tag(encode(sentences, source)));
}

}  // namespace nabla
