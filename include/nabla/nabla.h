// nabla — neural networks by backpropagation, as clear as the textbook.
//
// Overview:
//   tensor.h     Tensor (N-d, row-major, float32/float64, value semantics), Rng
//   graph.h      Var and Node: the computational graph; backward() applies the chain rule
//   ops.h        primitive ops on Tensors (no graph) and on Vars (recorded)
//   conv.h       convolution (im2col + matrix product) and pooling on (N, C, H, W) images
//   batch_norm.h batch normalization (batch statistics, or running ones for inference)
//   dropout.h    inverted dropout
//   indexing.h   rows looked up by id (word vectors), tensors joined side by side
//   logistic_loss.h  sigmoid + cross-entropy for yes/no classifiers, in one stable op
//   module.h     Module: named parameters, buffers and submodules; train/eval; clone()
//   layers.h     the textbook layers: forward / backward(dout), usable by hand or as nodes
//   sparse_affine.h  SparseAffine: the first layer for sparse pixel rows (the fast path)
//   network.h    Sequential, make_two_layer_net, SigmoidTwoLayerNet
//   gradcheck.h  numerical gradients and gradient checking
//   jacobian.h   full Jacobians from backward passes, and by central differences
//   dot.h        pictures of a recorded graph (Graphviz DOT)
//   cpu.h        the instruction set the kernels run on (chosen at run time)
//   runtime.h    configure_runtime(): the process settings that make training fast
//   optim.h      optimizers (SGD ... AdamW) and weight initialisers
//   train.h      ModelSpec, TrainConfig, Trainer: mini-batch training, checkpoints, load_model
//   workers.h    a small pool of threads (splitting a product between cores)
// Data and files:
//   idx.h (IDX files), mnist.h (MNIST, batches), prefetch.h (batches made ahead),
//   csv.h (CSV rows), image.h (PGM/PNG pictures), safetensors.h (named tensors on disk),
//   large_buffer.h (big zeroed buffers)
// Other models and text:
//   sparse.h (sparse pixel rows), knn.h (k-nearest neighbours), conll.h, glove.h,
//   word_windows.h, entity_score.h (window NER: corpora, word vectors, windows, scores)
//
// A worked example — f(x, y, z) = (x + y) * z:
//   Var x = Var::parameter(Tensor::scalar(-2), "x"), y = ..., z = ...;
//   Var f = (x + y) * z;   // -12
//   f.backward();          // x.grad() = -4, y.grad() = -4, z.grad() = 3
#pragma once

#include "nabla/batch_norm.h"
#include "nabla/cnn_layers.h"
#include "nabla/conll.h"
#include "nabla/conv.h"
#include "nabla/cpu.h"
#include "nabla/csv.h"
#include "nabla/dot.h"
#include "nabla/dropout.h"
#include "nabla/embedding.h"
#include "nabla/entity_score.h"
#include "nabla/glove.h"
#include "nabla/gradcheck.h"
#include "nabla/graph.h"
#include "nabla/idx.h"
#include "nabla/image.h"
#include "nabla/indexing.h"
#include "nabla/jacobian.h"
#include "nabla/knn.h"
#include "nabla/large_buffer.h"
#include "nabla/layer_registry.h"
#include "nabla/layers.h"
#include "nabla/logistic_loss.h"
#include "nabla/mnist.h"
#include "nabla/model_spec.h"
#include "nabla/module.h"
#include "nabla/ner.h"
#include "nabla/network.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "nabla/prefetch.h"
#include "nabla/row_gradient.h"
#include "nabla/runtime.h"
#include "nabla/safetensors.h"
#include "nabla/sparse.h"
#include "nabla/sparse_affine.h"
#include "nabla/tensor.h"
#include "nabla/train.h"
#include "nabla/train_data.h"
#include "nabla/word_windows.h"
#include "nabla/workers.h"
