// nabla/safetensors.h — named tensors on disk in the safetensors format, readable by
// other tools (Python's safetensors, PyTorch, NumPy with a few lines).
//
// Layout of a file:
//   bytes 0-7     N, the header length, unsigned 64-bit little-endian
//   bytes 8..8+N  JSON header, e.g.
//                 {"W1": {"dtype": "F32", "shape": [784, 50], "data_offsets": [0, 156800]},
//                  "__metadata__": {"model": "two-layer-net"}}
//                 (padded with spaces to a multiple of 8 bytes)
//   the rest      tensor data, raw little-endian, row-major; data_offsets are relative
//                 to the first byte after the header, and the tensors fill it exactly.
//
//   save_safetensors("model.safetensors", {{"W1", W1}, {"b1", b1}}, {{"model", "mlp"}});
//   SafetensorsFile f = load_safetensors("model.safetensors");
//   f.tensors[0].first;   // "W1"
//
// nabla reads and writes F32, F64, I64 and I32 tensors. Any inconsistency in a file (a header
// length past the end of the file, bad JSON, an unknown dtype, offsets out of range,
// overlapping, leaving gaps or not matching shape x dtype) throws DataError naming the
// file and the problem.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"

NABLA_API_BEGIN
namespace nabla {

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order (by offset)
  std::map<std::string, std::string> metadata;          // "__metadata__"
};

// Whether a save waits for the disk (fsync of the file and of its directory): durable
// survives a power cut; fast (a few milliseconds less on this machine's disk) is still
// atomic, so a crashed process never leaves a half-written file, which is what the
// checkpoints written during training need.
enum class Flush { durable, fast };

// Writes the tensors (in this order) and metadata atomically: into a temporary file of
// this save's own, path + ".tmp-" + 16 hex digits (created exclusively), then renamed over
// path, so a crash never leaves a half-written file at path. A process killed before the
// rename leaves the temporary file: is_save_leftover() knows its name, and a training run
// removes those in its directory (remove_save_leftovers, train/run_dir.h).
// Throws ValueError for an undefined tensor, an empty or duplicate name or the reserved
// name "__metadata__"; DataError if the file cannot be written.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      Flush flush = Flush::durable);

// Whether `file_name` (a name, without its directory) is one save_safetensors gives its
// temporary files: NAME.tmp-XXXXXXXXXXXXXXXX (lower-case hex).
bool is_save_leftover(const std::string& file_name);

SafetensorsFile load_safetensors(const std::string& path);

}  // namespace nabla
NABLA_API_END
