// libFuzzer harness: the input gzip-compressed, then read as an IDX file, so that the
// mutations reach the IDX contents behind zlib (the gzip path of the readers): read
// whole, in blocks of rows and as sparse pixels.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "idx_readers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A gzip member: deflateInit2 with 16 + 15 window bits writes the gzip wrapper.
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 64);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return 0;

  nabla::fuzz::InputFile file("input-idx.gz", out.data(), out.size());
  nabla::fuzz::read_idx_every_way(file.path());
  return 0;
}
