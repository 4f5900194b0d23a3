// Writes the seed corpus of fuzz_model: small model files as `nabla train` writes them
// (checkpoints with optimizer, random and sampler state), for data of the shape the harness
// makes (4 features, 2 classes, 12 training images). Run: make_model_seeds corpus/model
#include <cstdint>
#include <cstdio>
#include <string>

#include "nabla/mnist.h"
#include "nabla/train.h"

namespace {

nabla::Mnist tiny_data(std::int64_t features, std::int64_t classes) {
  nabla::Mnist m;
  for (nabla::Dataset* d : {&m.train, &m.test}) {
    d->size = d == &m.train ? 12 : 4;
    d->features = features;
    d->classes = classes;
    for (std::int64_t i = 0; i < d->size; ++i) {
      d->labels.push_back(static_cast<std::uint8_t>(i % classes));
      for (std::int64_t k = 0; k < features; ++k) {
        d->images.push_back(static_cast<std::uint8_t>((i * 31 + k * 7) % 256));
      }
    }
  }
  return m;
}

void write(const std::string& path, const std::string& kind, std::vector<std::int64_t> hidden,
           const std::string& loss, const std::string& optimizer, double reg,
           nabla::Sampling sampling) {
  nabla::TrainConfig c;
  c.model.kind = kind;
  c.model.inputs = 4;
  c.model.classes = 2;
  c.model.hidden = std::move(hidden);
  c.model.loss = loss;
  c.optimizer = optimizer;
  c.reg = reg;
  c.batch = 4;
  c.iters = 6;
  c.sampling = sampling;
  nabla::Trainer t(c, tiny_data(4, 2));
  for (int i = 0; i < 2; ++i) t.step();
  t.save(path);
}

// A CNN on 4x4 images (16 features): convolution, batch norm (buffers), pooling and a
// dropout (its random stream in the metadata).
void write_cnn(const std::string& path) {
  nabla::TrainConfig c;
  c.model = nabla::model_from_arch(
      "conv:2x3,pad=1 batchnorm relu maxpool:2 affine:3 relu dropout:0.5 affine:2", {1, 4, 4}, 2);
  c.optimizer = "adam";
  c.lr = 0.01;
  c.batch = 4;
  c.iters = 6;
  nabla::Trainer t(c, tiny_data(16, 2));
  for (int i = 0; i < 2; ++i) t.step();
  t.save(path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_model_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  write(dir + "/two_layer_sgd", "two-layer-net", {3}, "softmax", "sgd", 0,
        nabla::Sampling::with_replacement);
  write(dir + "/mlp_adam_shuffle", "mlp", {3, 2}, "softmax", "adam", 0.01,
        nabla::Sampling::shuffled_epochs);
  write(dir + "/linear_svm_momentum", "linear", {}, "svm", "momentum", 0,
        nabla::Sampling::with_replacement);
  write_cnn(dir + "/cnn_dropout_adam");
  return 0;
}
