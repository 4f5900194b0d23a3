// libFuzzer harness: model files as `nabla eval`, `predict` and `train --resume` read
// them: load, classify one picture, resume training on a tiny data set of the model's
// shape, one step, save. Bad input must end in DataError (or, for options a file may hold,
// ValueError; for a run the file makes diverge, TrainingError), nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "nabla/data/idx.h"
#include "nabla/data/mnist.h"
#include "nabla/ops/ops.h"
#include "nabla/train/train.h"
#include "tiny_mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("model.safetensors", data, size);
  nabla::LoadedModel m;
  try {
    m = nabla::load_model(file.path());
  } catch (const nabla::DataError&) {
    return 0;
  }
  // The loaded model classifies a picture of the shape it takes ((1, 784) or (1, C, H, W)).
  nabla::Shape shape{1};
  for (std::int64_t d : m.spec.example_shape()) shape.push_back(d);
  nabla::Tensor x(shape, nabla::DType::f32);
  nabla::Tensor p = nabla::softmax(m.net.predict(x));
  if (p.numel() != m.spec.classes) __builtin_trap();

  // Resuming is tried on data of the model's shape (labels fit in a byte).
  if (m.spec.inputs > 4096 || m.spec.classes > 256) return 0;
  try {
    nabla::Mnist tiny = nabla::fuzz::tiny_mnist(m.spec.inputs, m.spec.classes);
    nabla::Trainer t = nabla::Trainer::resume(file.path(), tiny);
    t.set_total_iters(t.iteration() + 1);
    t.step();
    nabla::fuzz::InputFile out("saved.safetensors", "", 0);
    t.save(out.path(), nabla::Flush::fast);
    nabla::LoadedModel again = nabla::load_model(out.path());
    (void)again;
  } catch (const nabla::DataError&) {
  } catch (const nabla::ValueError&) {     // options in the file (batch, learning rate...)
  } catch (const nabla::TrainingError&) {  // a loss that is not finite or diverged
  }
  return 0;
}
