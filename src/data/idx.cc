#include "nabla/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#if defined(__unix__)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "core/input_file.h"
#include "nabla/core/tensor.h"

namespace nabla {
namespace {

// Sizes in error messages: "47040016".
std::string num(std::uint64_t n) { return std::to_string(n); }

// The magic number as written in the IDX documentation: "0x00000803".
std::string hex_magic(const unsigned char* magic) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
  return text;
}

const char* idx_type_name(unsigned char type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

// A zlib file handle that closes itself. zlib reads plain files unchanged ("transparent"
// mode), so one reader serves both "x-idx3-ubyte" and "x-idx3-ubyte.gz".
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    check_regular_file(path, "an IDX file");
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) throw DataError(path + ": cannot open: " + std::strerror(errno));
    gzbuffer(file_, 1 << 17);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(file_); }

  // Reads up to n bytes into dst; fewer only at the end of the (decompressed) data.
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t total = 0;
    while (total < n) {
      auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
      int got = gzread(file_, out + total, chunk);
      if (got <= 0) {
        check_error(position_ + total);
        break;
      }
      total += static_cast<std::size_t>(got);
    }
    position_ += total;
    return total;
  }

  // True once zlib has seen a gzip header (valid after the first read).
  bool compressed() const { return gzdirect(file_) == 0; }
  // Bytes delivered so far.
  std::uint64_t position() const { return position_; }

 private:
  void check_error(std::uint64_t at) const {
    int err = Z_OK;
    const char* message = gzerror(file_, &err);
    if (err == Z_OK) return;
    if (err == Z_ERRNO) {
      throw DataError(path_ + ": read error after " + num(at) + " bytes: " + std::strerror(errno));
    }
    std::string what = err == Z_BUF_ERROR ? "truncated" : "corrupt";
    throw DataError(path_ + ": " + what + " gzip data after " + num(at) +
                    " decompressed bytes: " + message);
  }

  std::string path_;
  gzFile file_ = nullptr;
  std::uint64_t position_ = 0;
};

}  // namespace

namespace {

// An IDX file's header, read and checked.
struct IdxHeader {
  std::vector<std::int64_t> dims;
  std::uint64_t count = 1;  // elements
  std::uint64_t row = 1;    // elements of one index of the first dimension
  std::uint64_t bytes = 0;  // of the header
  std::string after;        // " (after decompression)" for a gzip file
};

IdxHeader read_header(GzReader& in, const std::string& path, std::optional<int> expected_rank) {
  unsigned char magic[4] = {0, 0, 0, 0};
  std::size_t got = in.read(magic, 4);
  IdxHeader h;
  h.after = in.compressed() ? " (after decompression)" : "";
  if (got < 4) {
    throw DataError(path + ": truncated: expected a 4-byte magic number, got " + num(got) +
                    " bytes" + h.after);
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw DataError(path + ": bad magic number " + hex_magic(magic) +
                    " at byte 0: an IDX file starts with two zero bytes");
  }
  if (magic[2] != 0x08) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02X", magic[2]);
    throw DataError(path + ": magic number " + hex_magic(magic) + ": element type " + type + " (" +
                    idx_type_name(magic[2]) +
                    ") at byte 2 is not supported; nabla reads only 0x08 (unsigned byte)");
  }
  const int rank = magic[3];
  if (rank == 0) {
    throw DataError(path + ": magic number " + hex_magic(magic) +
                    ": 0 dimensions at byte 3; expected at least 1");
  }
  if (expected_rank && rank != *expected_rank) {
    const unsigned char wanted[4] = {0, 0, 0x08, static_cast<unsigned char>(*expected_rank)};
    throw DataError(path + ": magic number " + hex_magic(magic) + " at byte 0 says " +
                    std::to_string(rank) + " dimensions, expected " +
                    std::to_string(*expected_rank) + " (magic " + hex_magic(wanted) + ")");
  }

  h.bytes = 4 + 4 * static_cast<std::uint64_t>(rank);
  std::vector<unsigned char> raw(4 * static_cast<std::size_t>(rank));
  got = in.read(raw.data(), raw.size());
  if (got < raw.size()) {
    throw DataError(path + ": truncated: the header of " + std::to_string(rank) +
                    " dimensions needs " + num(h.bytes) + " bytes, got " + num(4 + got) + h.after);
  }
  h.dims.resize(static_cast<std::size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const unsigned char* b = &raw[4 * static_cast<std::size_t>(i)];
    std::uint32_t dim = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                        (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    if (dim > static_cast<std::uint32_t>(INT32_MAX)) {
      throw DataError(path + ": dimension " + std::to_string(i) + " at byte " +
                      std::to_string(4 + 4 * i) + " is negative (" +
                      std::to_string(static_cast<std::int64_t>(dim) - (std::int64_t{1} << 32)) +
                      ")");
    }
    // The count and the row size each at most 2^48: checked on both, since a first
    // dimension of 0 makes the count 0 whatever the row size (which readers multiply by).
    constexpr std::uint64_t kMax = std::uint64_t{1} << 48;
    if (dim != 0 && (h.count > kMax / dim || (i > 0 && h.row > kMax / dim))) {
      throw DataError(path + ": dimensions at bytes 4-" + num(h.bytes - 1) +
                      " describe more than 2^48 elements");
    }
    h.count *= dim;
    if (i > 0) h.row *= dim;
    h.dims[static_cast<std::size_t>(i)] = dim;
  }
  return h;
}

DataError truncated(const std::string& path, const IdxHeader& h, std::uint64_t got) {
  return DataError(path + ": truncated: expected " + num(h.bytes + h.count) + " bytes" + h.after +
                   ", got " + num(h.bytes + got));
}

DataError trailing(const std::string& path, const IdxHeader& h, std::uint64_t extra) {
  const std::uint64_t expected = h.bytes + h.count;
  return DataError(path + ": trailing bytes: expected " + num(expected) + " bytes" + h.after +
                   ", got " + num(expected + extra) + " (" + num(extra) +
                   " after the last element, from byte " + num(expected) + ")");
}

// After the last element: nothing more. Reads one block at most: a gzip stream with a
// flood of trailing data behind its elements is not decompressed to the end to count it.
void check_end(GzReader& in, const std::string& path, const IdxHeader& h) {
  unsigned char rest[1 << 14];
  const std::size_t extra = in.read(rest, sizeof rest);
  if (extra == sizeof rest) {
    throw DataError(path + ": trailing bytes: expected " + num(h.bytes + h.count) + " bytes" +
                    h.after + ", got more than " + num(h.bytes + h.count + extra) + " (from byte " +
                    num(h.bytes + h.count) + ")");
  }
  if (extra > 0) throw trailing(path, h, extra);
}

// Deflate expands a byte to at most 1032: a gzip file of `size` bytes cannot hold more.
// Refusing a header that claims more stops a small file from asking for a large buffer.
// A file may also hold at most kMaxGzipExpansion times its size (at least
// kMinGzipAllowance bytes) when decompressed: real IDX files shrink 2 to 5 times, so only
// a file made to expand (a few hundred KB of deflate asking for a gigabyte) is refused.
// Decompressed first, it is read whole: a plain file holds what it says.
constexpr std::uint64_t kMaxGzipExpansion = 64;
constexpr std::uint64_t kMinGzipAllowance = std::uint64_t{64} << 20;  // 64 MiB

void check_gzip_size(const GzReader& in, const std::string& path, const IdxHeader& h) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || !in.compressed()) return;
  const std::uint64_t announced = h.bytes + h.count;
  const std::uint64_t most = 1032 * static_cast<std::uint64_t>(size) + 1024;
  if (announced > most) {
    throw DataError(path + ": the header announces " + num(announced) +
                    " bytes after decompression, more than a gzip file of " +
                    num(static_cast<std::uint64_t>(size)) + " bytes can hold (" + num(most) + ")");
  }
  const std::uint64_t allowed =
      std::max(kMinGzipAllowance, kMaxGzipExpansion * static_cast<std::uint64_t>(size));
  if (announced > allowed) {
    throw DataError(path + ": the header announces " + num(announced) +
                    " bytes after decompression, more than nabla decompresses from a gzip "
                    "file of " +
                    num(static_cast<std::uint64_t>(size)) + " bytes (" + num(allowed) + ": " +
                    num(kMaxGzipExpansion) + " times its size, at least " + num(kMinGzipAllowance) +
                    "); gunzip it to read it as a plain file");
  }
}

// A plain file's bytes mapped read-only into memory, unmapped when it goes; data() is
// null where the file cannot be mapped (then it is read as a stream instead). The pages
// are the page cache's: no copy, and no fresh memory to fault in.
class MappedFile {
 public:
  MappedFile(const std::string& path, std::size_t size) {
#if defined(__unix__)
    if (size == 0) return;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return;
    data_ = static_cast<const std::uint8_t*>(p);
    size_ = size;
    page_ = static_cast<std::size_t>(std::max(::sysconf(_SC_PAGESIZE), 1L));
#else
    (void)path;
    (void)size;
#endif
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
#if defined(__unix__)
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
#endif
  }
  const std::uint8_t* data() const { return data_; }

  // Maps the pages of bytes [begin, end) in one go (rather than a fault every few pages).
  void load(std::size_t begin, std::size_t end) const {
#if defined(MADV_POPULATE_READ)
    const std::size_t start = begin / page_ * page_;
    (void)::madvise(const_cast<std::uint8_t*>(data_) + start, end - start, MADV_POPULATE_READ);
#else
    (void)begin;
    (void)end;
#endif
  }
  // Unmaps the whole pages before byte `end` (read already), so that the process holds
  // only the block being read, not the whole file. (Harmless to fail: only memory use.)
  void release_before(std::size_t end) {
#if defined(__unix__)
    const std::size_t stop = end / page_ * page_;
    if (stop > released_) {
      (void)::madvise(const_cast<std::uint8_t*>(data_) + released_, stop - released_,
                      MADV_DONTNEED);
      released_ = stop;
    }
#else
    (void)end;
#endif
  }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t page_ = 1;
  std::size_t released_ = 0;
};

}  // namespace

IdxArray read_idx(const std::string& path, std::optional<int> expected_rank) {
  GzReader in(path);
  const IdxHeader h = read_header(in, path, expected_rank);
  check_gzip_size(in, path, h);
  IdxArray array;
  array.dims = h.dims;

  // Read in growing chunks so that a corrupt header cannot make us allocate much more
  // than the file holds. A plain file's size is known: one chunk of that size. A gzip
  // stream's is not: 1 MiB, then doubling.
  std::size_t chunk = std::size_t{1} << 20;
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (!in.compressed() && !ec && file_size > h.bytes) {
    chunk = static_cast<std::size_t>(file_size - h.bytes);
  }
  const auto n = static_cast<std::size_t>(h.count);
  if (!in.compressed() && chunk >= n) {
    // A plain file whose size we know: the whole buffer at once.
    array.data.reserve(n);
  }
  while (array.data.size() < n) {
    std::size_t old = array.data.size();
    std::size_t want = std::min(chunk, n - old);
    array.data.resize(old + want);
    std::size_t read = in.read(array.data.data() + old, want);
    if (read < want) {
      array.data.resize(old + read);
      break;
    }
    chunk = std::min(2 * chunk, std::size_t{256} << 20);
  }
  if (array.data.size() < n) throw truncated(path, h, array.data.size());
  check_end(in, path, h);
  return array;
}

std::vector<std::int64_t> read_idx_rows(const std::string& path, std::optional<int> expected_rank,
                                        const IdxRowsFn& rows, std::int64_t block_bytes,
                                        std::int64_t max_row_bytes) {
  GzReader in(path);
  const IdxHeader h = read_header(in, path, expected_rank);
  check_gzip_size(in, path, h);
  const auto row = static_cast<std::int64_t>(h.row);  // (at most 2^48: read_header)
  if (row > max_row_bytes) {
    throw DataError(path + ": rows of " + num(static_cast<std::uint64_t>(row)) + " bytes " +
                    shape_str(h.dims) + "; at most " +
                    num(static_cast<std::uint64_t>(max_row_bytes)) + " are read this way");
  }
  // A plain file whose size we know must hold the data: say so before reading it.
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  const std::int64_t total = h.dims[0];
  if (!in.compressed() && !ec) {
    if (file_size < h.bytes + h.count) throw truncated(path, h, file_size - h.bytes);
    if (file_size > h.bytes + h.count) throw trailing(path, h, file_size - h.bytes - h.count);
  }
  const std::int64_t per_block = row == 0 ? total : std::max<std::int64_t>(1, block_bytes / row);
  if (!in.compressed() && !ec) {
    // The blocks straight from the file's pages.
    MappedFile file(path, static_cast<std::size_t>(file_size));
    if (file.data() != nullptr) {
      for (std::int64_t first = 0; first < total; first += per_block) {
        const std::int64_t count = std::min(per_block, total - first);
        const auto begin =
            static_cast<std::size_t>(h.bytes) + static_cast<std::size_t>(first * row);
        const auto end = begin + static_cast<std::size_t>(count * row);
        file.load(begin, end);
        rows(h.dims, file.data() + begin, first, count);
        file.release_before(end);
      }
      return h.dims;
    }
  }
  ByteBuffer block(static_cast<std::size_t>(std::min(per_block, total) * row));
  std::uint64_t got = 0;
  for (std::int64_t first = 0; first < total; first += per_block) {
    const std::int64_t count = std::min(per_block, total - first);
    const auto want = static_cast<std::size_t>(count * row);
    const std::size_t read = in.read(block.data(), want);
    got += read;
    if (read < want) throw truncated(path, h, got);
    rows(h.dims, block.data(), first, count);
  }
  check_end(in, path, h);
  return h.dims;
}

void write_idx(const std::string& path, const IdxArray& array) {
  if (array.dims.empty() || array.dims.size() > 255) {
    throw ValueError("write_idx: " + path + ": an IDX file has 1 to 255 dimensions, got " +
                     std::to_string(array.dims.size()));
  }
  std::uint64_t count = 1;
  for (std::int64_t d : array.dims) {
    if (d < 0 || d > INT32_MAX) {
      throw ValueError("write_idx: " + path + ": dimension " + std::to_string(d) +
                       " does not fit a non-negative int32");
    }
    count *= static_cast<std::uint64_t>(d);
  }
  if (count != array.data.size()) {
    throw ValueError("write_idx: " + path + ": dims " + shape_str(array.dims) + " hold " +
                     num(count) + " elements, data has " + num(array.data.size()));
  }

  std::vector<unsigned char> header;
  header.push_back(0);
  header.push_back(0);
  header.push_back(0x08);
  header.push_back(static_cast<unsigned char>(array.dims.size()));
  for (std::int64_t d : array.dims) {
    auto u = static_cast<std::uint32_t>(d);
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<unsigned char>((u >> shift) & 0xFF));
    }
  }

  // "T" writes the bytes unchanged (no gzip) through the same zlib interface.
  const bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  gzFile file = gzopen(path.c_str(), gz ? "wb" : "wbT");
  if (file == nullptr) throw DataError(path + ": cannot create: " + std::strerror(errno));
  bool ok = gzwrite(file, header.data(), static_cast<unsigned>(header.size())) ==
            static_cast<int>(header.size());
  std::size_t done = 0;
  while (ok && done < array.data.size()) {
    auto part = static_cast<unsigned>(std::min<std::size_t>(array.data.size() - done, 1u << 30));
    ok = gzwrite(file, array.data.data() + done, part) == static_cast<int>(part);
    done += part;
  }
  if (gzclose(file) != Z_OK) ok = false;
  if (!ok) throw DataError(path + ": write failed: " + std::strerror(errno));
}

}  // namespace nabla
