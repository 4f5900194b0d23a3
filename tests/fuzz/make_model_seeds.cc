// Writes the seed corpora of fuzz_model and fuzz_ner_model: small model files as `nabla
// train` writes them (checkpoints with optimizer, random and sampler state), for data of the
// shape the harness makes (4 features, 2 classes, 12 training images), and small window
// taggers as `nabla ner train` writes them.
// Run: make_model_seeds corpus/model corpus/ner_model
#include <cstdint>
#include <cstdio>
#include <string>

#include "nabla/data/mnist.h"
#include "nabla/tasks/ner.h"
#include "nabla/train/train.h"
#include "tiny_mnist.h"

namespace {

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
  nabla::Trainer t(c, nabla::fuzz::tiny_mnist(4, 2));
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
  nabla::Trainer t(c, nabla::fuzz::tiny_mnist(16, 2));
  for (int i = 0; i < 2; ++i) t.step();
  t.save(path);
}

// A window tagger over the two sentences' six words with 3-dimensional vectors, trained one
// epoch on two sentences.
void write_tagger(const std::string& path, const std::string& activation, int window,
                  std::int64_t shape_dim) {
  nabla::Rng rng(7);
  nabla::NerOptions o;
  o.window = window;
  o.hidden = 4;
  o.activation = activation;
  o.shape_dim = shape_dim;
  nabla::NerCorpus c;
  c.train = {{{"Paris", "is", "in", "France"}, {"B-LOC", "O", "O", "B-LOC"}},
             {{"I", "love", "Paris"}, {"O", "O", "B-LOC"}}};
  c.dev = c.test = c.train;
  c.train_path = c.dev_path = c.test_path = "seed";
  nabla::WindowTagger m = nabla::make_check_tagger(c.train, {"B-LOC", "O"}, 3, o, rng);
  nabla::Trainer t(nabla::ner_train_config(m, 1, 3, "adam", 1e-3, 1),
                   nabla::ner_training_data(m, c), m.net());
  while (!t.done()) t.step();
  t.save(path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_model_seeds MODEL_DIR NER_MODEL_DIR\n");
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
  const std::string ner = argv[2];
  write_tagger(ner + "/tanh_window2_shapes", "tanh", 2, 2);
  write_tagger(ner + "/relu_window1_no_shapes", "relu", 1, 0);
  write_tagger(ner + "/sigmoid_window0", "sigmoid", 0, 1);
  return 0;
}
