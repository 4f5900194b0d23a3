// nabla/embedding.h — a table of vectors looked up by integer ids, with a gradient that
// touches only the rows a batch used.
//
// A window tagger reads the vectors of the k words around each token: ids (N, k) in
// int64, W (V, d), output (N, k*d), each example's k vectors side by side.
//
//   Embedding words(glove_table);                  // W (V, d), fine-tuned
//   Tensor x = words.forward(ids);                 // (N, k*d)
//   ...
//   words.backward(dx);                            // dL/dW for the rows in ids only
//   optimizer.step(params, {nullptr, &words.row_grad(), ...});   // lazy: those rows
//
// The gradient of W is a RowGradient: the distinct rows the batch used and their
// gradients (rows.size(), d), summed over every use. A row used twice gets both. In
// EmbeddingGrad::dense mode backward adds into W.grad() instead, as every other layer
// does (what graph-based gradient checks and a plain Optimizer::step read); the two
// hold the same numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/row_gradient.h"

NABLA_API_BEGIN
namespace nabla {

enum class EmbeddingGrad { sparse, dense };

class Embedding : public Layer {
 public:
  // W (V, d) as given (pretrained vectors, float32 or float64).
  explicit Embedding(Tensor table, EmbeddingGrad grad = EmbeddingGrad::sparse);
  // W ~ U(-scale, scale), the usual start for vectors without a pretrained value.
  Embedding(std::int64_t vocab, std::int64_t dim, double scale, Rng& rng, DType dtype = DType::f32,
            EmbeddingGrad grad = EmbeddingGrad::sparse);
  std::string kind() const override { return "Embedding"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<Embedding>(*this); }

  // ids: int64 (N, k) or (N), each in [0, V) -> (N, k*d) or (N, d), in W's dtype.
  // ValueError names an id out of range and its position.
  Tensor forward(const Tensor& ids) override;
  // dout (N, k*d): adds into row_grad() (sparse) or W.grad() (dense). Returns an undefined
  // tensor: ids are data and have no gradient.
  Tensor backward(const Tensor& dout) override;

  Var& W() { return parameter_at(0); }
  const Var& W() const { return parameter_at(0); }
  std::int64_t vocab() const { return W().value().size(0); }
  std::int64_t dim() const { return W().value().size(1); }
  EmbeddingGrad grad_mode() const { return grad_mode_; }
  void set_grad_mode(EmbeddingGrad mode) { grad_mode_ = mode; }

  // The rows' gradient summed since the last clear_row_grad() (sparse mode). Copies of the
  // layer (graph nodes) share it, as they share W.
  const RowGradient& row_grad() const { return sparse_->grad; }
  void clear_row_grad();

 protected:
  const RowGradient* own_row_gradient(std::size_t) const override {
    return grad_mode_ == EmbeddingGrad::sparse ? &sparse_->grad : nullptr;
  }
  void clear_own_row_gradients() override { clear_row_grad(); }

 private:
  struct Sparse {
    RowGradient grad;
    std::vector<std::int64_t> slot;  // (V): the row's index in grad.rows, or -1
  };
  void add_sparse(const Tensor& dout);
  void add_dense(const Tensor& dout);

  EmbeddingGrad grad_mode_;
  std::shared_ptr<Sparse> sparse_ = std::make_shared<Sparse>();
  Tensor ids_;  // the latest training forward's ids, flattened (N*k)
  Shape ids_shape_;
};

}  // namespace nabla
NABLA_API_END
