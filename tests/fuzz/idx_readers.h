// What the IDX harnesses (plain and gzip) do with a file: read it whole, in blocks of rows
// and as sparse pixels. Bad input must end in DataError, nothing else.
#ifndef NABLA_TESTS_FUZZ_IDX_READERS_H_
#define NABLA_TESTS_FUZZ_IDX_READERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nabla/data/idx.h"
#include "nabla/data/mnist.h"  // read_idx_sparse
#include "nabla/ops/sparse.h"

namespace nabla::fuzz {

inline void read_idx_every_way(const std::string& path) {
  try {
    IdxArray a = read_idx(path);
    (void)a;
  } catch (const DataError&) {
  }
  try {
    std::uint64_t seen = 0;
    read_idx_rows(
        path, std::nullopt,
        [&](const std::vector<std::int64_t>& dims, const std::uint8_t* rows, std::int64_t,
            std::int64_t count) {
          // The block's first and last bytes (none when a row is empty: rows may be null).
          std::int64_t row = 1;
          for (std::size_t i = 1; i < dims.size(); ++i) row *= dims[i];
          if (count > 0 && row > 0) seen += rows[0] + rows[count * row - 1];
        },
        1 << 12, 1 << 20);
    (void)seen;
  } catch (const DataError&) {
  }
  try {
    SparsePixels p = read_idx_sparse(path, 1.0f / 255.0f);
    (void)p;
  } catch (const DataError&) {
  }
}

}  // namespace nabla::fuzz

#endif  // NABLA_TESTS_FUZZ_IDX_READERS_H_
