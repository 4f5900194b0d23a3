// nabla/sparse_affine.h — the fast path for pixels as a layer of its own.
//
// Images are mostly zeros (MNIST: about 81%). SparseAffine is an Affine (Y = X.W + b,
// the same parameters, the same dense forward and backward) that also takes its input as
// a batch of sparse pixel rows (nabla/sparse.h) and then multiplies the non-zero pixels
// only: Y = X.W in the forward and dW = X^T.dY in the backward (src/ops/sparse.cc). It
// stands first in a network, where the input is data and needs no gradient. The model
// builder (build_model, nabla/train.h) puts one there; Sequential feeds it sparse rows.
//
//   SparseAffine first(W, b);
//   Tensor y = first.forward(batch);   // batch: SparseBatch{&pixels, rows}
//   first.backward(dy);                // dW, db (no dX: the input is data)
//
// The batch's pixels must stay alive and unchanged until backward. The layer never copies
// rows together: a caller that picks rows at random copies them first
// (SparsePixels::assign_rows), as the Trainer and the BatchPrefetcher do.
#pragma once

#include <memory>
#include <string>

#include "nabla/core/export.h"
#include "nabla/nn/layers.h"

NABLA_API_BEGIN
namespace nabla {

struct SparseBatch;

class SparseAffine : public Affine {
 public:
  // W (D, M) and b (M), float32.
  SparseAffine(Tensor W, Tensor b);
  ~SparseAffine() override;
  // A copy shares the parameters (as Module::copy) and starts with one thread and no
  // cached batch.
  SparseAffine(const SparseAffine& other);
  SparseAffine& operator=(const SparseAffine&) = delete;

  std::string kind() const override { return "SparseAffine"; }
  std::unique_ptr<Module> copy() const override { return std::make_unique<SparseAffine>(*this); }
  // A dense input works as in Affine.
  Tensor forward(const Tensor& x) override;
  // Y (N, M) = X.W + b over the non-zero pixels of the batch's rows.
  Tensor forward(const SparseBatch& x);
  // After a sparse forward: dW and db only, returning an undefined tensor. After a dense
  // one: Affine's backward.
  Tensor backward(const Tensor& dout) override;

 private:
  struct Sparse;  // the batch, W packed for the kernels, scratch
  std::unique_ptr<Sparse> sparse_;
};

}  // namespace nabla
NABLA_API_END
