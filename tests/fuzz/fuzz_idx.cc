// libFuzzer harness: IDX files as given (plain; a gzip one when the input is one), read
// whole, in blocks of rows and as sparse pixels. Bad input must end in DataError, nothing
// else.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "idx_readers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("input-idx", data, size);
  nabla::fuzz::read_idx_every_way(file.path());
  return 0;
}
