// libFuzzer harness: pictures for `nabla predict`, PGM (P2, P5) and PNG (told apart by
// their first bytes), scaled to MNIST's 28 x 28. Bad input must end in DataError.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "nabla/data/idx.h"
#include "nabla/data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("input-image", data, size);
  try {
    nabla::GrayImage image = nabla::read_image(file.path());
    std::vector<std::uint8_t> pixels = nabla::to_mnist_pixels(image);
    if (pixels.size() != 28 * 28) __builtin_trap();
  } catch (const nabla::DataError&) {
  }
  return 0;
}
