// The data set the model harness resumes training on, and its seeds were trained on: 12
// training and 4 test images of `features` pixels, labels cycling through `classes`.
#ifndef NABLA_TESTS_FUZZ_TINY_MNIST_H_
#define NABLA_TESTS_FUZZ_TINY_MNIST_H_

#include <cstdint>

#include "nabla/data/mnist.h"

namespace nabla::fuzz {

inline Mnist tiny_mnist(std::int64_t features, std::int64_t classes) {
  Mnist m;
  for (Dataset* d : {&m.train, &m.test}) {
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

}  // namespace nabla::fuzz

#endif  // NABLA_TESTS_FUZZ_TINY_MNIST_H_
