// nabla/idx.h — IDX files, the format MNIST is distributed in.
//
// An IDX file is a 4-byte magic number, one big-endian int32 per dimension, then the
// elements in row-major order:
//
//   bytes 0-1   0x00 0x00
//   byte  2     element type: 0x08 = unsigned byte (the only type nabla reads)
//   byte  3     number of dimensions (MNIST: 3 for images, 1 for labels)
//   then        dims[0], dims[1], ... as big-endian int32
//   then        dims[0] * dims[1] * ... elements
//
//   IdxArray images = read_idx("data/mnist/train-images-idx3-ubyte");
//   images.dims;         // {60000, 28, 28}
//   images.data.size();  // 47040000
//
// Files may be gzip-compressed (e.g. "train-images-idx3-ubyte.gz"): zlib reads both.
// The file must hold exactly the header and the elements it announces; anything else
// (a bad magic number, a truncated file, trailing bytes) throws DataError naming the
// file, what is wrong and where.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/detail/large_buffer.h"

NABLA_API_BEGIN
namespace nabla {

struct IdxArray {
  std::vector<std::int64_t> dims;
  ByteBuffer data;  // product of dims elements, row-major
};

// Reads a plain or gzip-compressed IDX file of unsigned bytes. With expected_rank, a
// file with another number of dimensions is an error too.
IdxArray read_idx(const std::string& path, std::optional<int> expected_rank = std::nullopt);

// Reads an IDX file like read_idx, but hands its data over in blocks of whole rows (a row:
// the elements of one index of the first dimension) instead of holding all of it:
// rows(dims, data, first, count) gets rows [first, first + count), in order, about
// block_bytes at a time. A plain file's blocks come straight from a read-only mapping of
// the file (no copy and no buffer: the pages are the page cache's, each unmapped once its
// block is done); a gzip file's are decompressed into a buffer. The same checks and errors
// as read_idx; for a gzip file one about the data (truncated, trailing bytes) can come
// after some blocks were handed over, for a plain file it comes first. A row longer than
// max_row_bytes is a DataError before anything is allocated (a corrupt header cannot ask
// for a huge block). Returns dims.
using IdxRowsFn =
    std::function<void(const std::vector<std::int64_t>& dims, const std::uint8_t* data,
                       std::int64_t first, std::int64_t count)>;
std::vector<std::int64_t> read_idx_rows(const std::string& path, std::optional<int> expected_rank,
                                        const IdxRowsFn& rows,
                                        std::int64_t block_bytes = std::int64_t{1} << 20,
                                        std::int64_t max_row_bytes = std::int64_t{1} << 26);

// Writes an IDX file of unsigned bytes, gzip-compressed if path ends in ".gz".
// Throws ValueError if dims do not match data, DataError if the file cannot be written.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace nabla
NABLA_API_END
