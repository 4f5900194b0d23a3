// libFuzzer harness: IDX files as given (plain; a gzip one when the input is one), read
// whole and in blocks of rows. Bad input must end in DataError, nothing else.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "nabla/idx.h"
#include "nabla/sparse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nabla::fuzz::InputFile file("input-idx", data, size);
  try {
    nabla::IdxArray a = nabla::read_idx(file.path());
    (void)a;
  } catch (const nabla::DataError&) {
  }
  try {
    std::uint64_t seen = 0;
    nabla::read_idx_rows(
        file.path(), std::nullopt,
        [&](const std::vector<std::int64_t>& dims, const std::uint8_t* rows, std::int64_t,
            std::int64_t count) {
          // The block's first and last bytes (none when a row is empty: rows may be null).
          std::int64_t row = 1;
          for (std::size_t i = 1; i < dims.size(); ++i) row *= dims[i];
          if (count > 0 && row > 0) seen += rows[0] + rows[count * row - 1];
        },
        1 << 12, 1 << 20);
    (void)seen;
  } catch (const nabla::DataError&) {
  }
  try {
    nabla::SparsePixels p = nabla::SparsePixels::read_idx(file.path(), 1.0f / 255.0f);
    (void)p;
  } catch (const nabla::DataError&) {
  }
  return 0;
}
