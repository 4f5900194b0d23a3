// SparseAffine: Affine whose input may be a batch of sparse pixel rows.
#include "nabla/nn/sparse_affine.h"

#include <string>

#include "nabla/detail/workers.h"
#include "nabla/ops/sparse.h"

namespace nabla {

struct SparseAffine::Sparse {
  SparseBatch x;        // the latest sparse input (x.pixels null when it was dense)
  PackedRows packed_W;  // W laid out for the sparse products, packed on each forward
  SparseWorkspace workspace;
};

SparseAffine::SparseAffine(Tensor W, Tensor b)
    : Affine(std::move(W), std::move(b)), sparse_(std::make_unique<Sparse>()) {
  if (this->W().dtype() != DType::f32) {
    throw ValueError(std::string("SparseAffine: W is ") + dtype_name(this->W().dtype()) +
                     ", expected float32");
  }
}

SparseAffine::~SparseAffine() = default;
SparseAffine::SparseAffine(const SparseAffine& other)
    : Affine(other), sparse_(std::make_unique<Sparse>()) {}

Tensor SparseAffine::forward(const Tensor& x) {
  sparse_->x.pixels = nullptr;
  return Affine::forward(x);
}

Tensor SparseAffine::forward(const SparseBatch& x) {
  if (x.pixels == nullptr) throw ValueError("SparseAffine: the sparse batch has no pixels");
  Tensor y = add_bias(x.size());
  // only the non-zero pixels contribute to X (N, D) . W (D, M)
  sparse_->packed_W.pack(W().value());
  sparse_matmul(x, sparse_->packed_W, y);
  forget_input();
  if (is_training()) {
    sparse_->x = x;  // (the rows' storage is reused)
  } else {
    sparse_->x.pixels = nullptr;
  }
  return y;
}

Tensor SparseAffine::backward(const Tensor& dout) {
  if (sparse_->x.pixels == nullptr) return Affine::backward(dout);
  const Shape expected{sparse_->x.size(), W().value().size(1)};
  if (dout.shape() != expected) {
    throw ShapeError("SparseAffine backward: dout " + shape_str(dout.shape()) +
                     ", expected (N, M) = " + shape_str(expected));
  }
  // dW (D, M) += X^T (D, N) . dY (N, M), straight into W's gradient
  sparse_matmul_tn(sparse_->x, dout, W().grad(), sparse_->workspace);
  affine_bias_grad(dout, b().grad());
  return Tensor();
}

}  // namespace nabla
