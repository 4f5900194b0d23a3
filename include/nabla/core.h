// nabla/core.h — the tensors and the computational graph alone: Tensor, Var, the
// primitive ops on both, and the gradient checks. A program that builds its own model
// from ops includes this; <nabla/nabla.h> adds layers, data sets, training and tasks.
//
//   Var x = Var::parameter(Tensor::scalar(-2), "x"), y = ..., z = ...;
//   Var f = (x + y) * z;   // -12
//   f.backward();          // x.grad() = -4, y.grad() = -4, z.grad() = 3
#pragma once

#include "nabla/autograd/gradcheck.h"
#include "nabla/autograd/graph.h"
#include "nabla/core/export.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/activations.h"
#include "nabla/ops/ops.h"
