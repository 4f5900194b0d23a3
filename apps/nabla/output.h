// Standard output, checked: a command's lines are its result, so a write that fails (a
// full disk, /dev/full) is an error, never exit status 0.
#pragma once

namespace nabla::cli {

// Flushes stdout (C's and std::cout's, which share it) and throws a DataError, "cannot
// write to standard output: No space left on device", when a write to it has failed,
// now or before.
void flush_stdout();

}  // namespace nabla::cli
