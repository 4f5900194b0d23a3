// nabla — neural networks by backpropagation, as clear as the textbook.
//
// The folders, each using only the ones above it (docs/design.md):
//   core/      Tensor (N-d, row-major, float32/float64, value semantics), Rng, errors;
//              SparsePixels; safetensors files; cpu.h, runtime.h
//   autograd/  Var and Node: the computational graph (graph.h); gradient checks, Jacobians,
//              pictures of a graph (dot.h)
//   ops/       primitive ops, each a forward and a backward: elementwise, matmul, reduce
//              (ops.h), conv and pooling, batch_norm, dropout, indexing, logistic_loss,
//              sparse products
//   nn/        Module; the textbook's layers (layers.h, cnn_layers.h, embedding.h,
//              sparse_affine.h); Sequential and the ready-made networks (network.h)
//   data/      IDX files and MNIST (idx.h, mnist.h), CSV rows, PGM/PNG images
//   text/      CoNLL corpora, GloVe vectors, word windows, entity scores
//   train/     optimizers, model descriptions (model_spec.h, layer_registry.h), the data a
//              Trainer trains on (train_data.h, prefetch.h), Trainer and checkpoints; a
//              whole run with its directory (run.h: run_dir.h, metrics_log.h, curves.h)
//   tasks/     whole models of their own: window NER (ner.h), k-NN (knn.h)
//
// A worked example — f(x, y, z) = (x + y) * z:
//   Var x = Var::parameter(Tensor::scalar(-2), "x"), y = ..., z = ...;
//   Var f = (x + y) * z;   // -12
//   f.backward();          // x.grad() = -4, y.grad() = -4, z.grad() = 3
#pragma once

#include "nabla/autograd/dot.h"
#include "nabla/autograd/gradcheck.h"
#include "nabla/autograd/graph.h"
#include "nabla/autograd/jacobian.h"
#include "nabla/core/cpu.h"
#include "nabla/core/export.h"
#include "nabla/core/runtime.h"
#include "nabla/core/safetensors.h"
#include "nabla/core/sparse_pixels.h"
#include "nabla/core/tensor.h"
#include "nabla/data/csv.h"
#include "nabla/data/idx.h"
#include "nabla/data/image.h"
#include "nabla/data/mnist.h"
#include "nabla/nn/cnn_layers.h"
#include "nabla/nn/char_convolution.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/crf.h"
#include "nabla/nn/window_embedding.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/nn/network.h"
#include "nabla/nn/sparse_affine.h"
#include "nabla/nn/window_embedding.h"
#include "nabla/ops/activations.h"
#include "nabla/ops/batch_norm.h"
#include "nabla/ops/conv.h"
#include "nabla/ops/dropout.h"
#include "nabla/ops/indexing.h"
#include "nabla/ops/crf.h"
#include "nabla/ops/logistic_loss.h"
#include "nabla/ops/ops.h"
#include "nabla/ops/pool.h"
#include "nabla/ops/row_gradient.h"
#include "nabla/ops/sparse.h"
#include "nabla/ops/window2d.h"
#include "nabla/tasks/knn.h"
#include "nabla/tasks/ner.h"
#include "nabla/text/conll.h"
#include "nabla/text/entity_score.h"
#include "nabla/text/glove.h"
#include "nabla/text/word_windows.h"
#include "nabla/train/augment.h"
#include "nabla/train/communicator.h"
#include "nabla/train/curves.h"
#include "nabla/train/figures.h"
#include "nabla/train/landscape.h"
#include "nabla/train/layer_registry.h"
#include "nabla/train/metrics_log.h"
#include "nabla/train/model_spec.h"
#include "nabla/train/optim.h"
#include "nabla/train/prefetch.h"
#include "nabla/train/run.h"
#include "nabla/train/run_dir.h"
#include "nabla/train/schedule.h"
#include "nabla/train/torch_export.h"
#include "nabla/train/train.h"
#include "nabla/train/train_data.h"
