// libFuzzer harness: safetensors files. Bad input must end in DataError, nothing else.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "nabla/core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("input.safetensors", data, size);
  try {
    nabla::SafetensorsFile f = nabla::load_safetensors(file.path());
    for (const auto& [name, t] : f.tensors) {
      if (t.numel() > 0) (void)t.get(0);
    }
  } catch (const nabla::DataError&) {
  }
  return 0;
}
