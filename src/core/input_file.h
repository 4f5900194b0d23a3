// Checks a reader makes on a file before it opens it (private to the library).
#pragma once

#include <string>

namespace nabla {

// Throws DataError "PATH: is a device, not WHAT" (`what`: "an IDX file", ...) when `path`
// exists and is not a regular file (after symbolic links): a directory, a device (reading
// /dev/zero never ends), a FIFO (opening one waits for a writer) or a socket. None has a
// size to check a header against or to bound what reading it costs. An empty path throws
// "empty path where WHAT was expected". A path that does not
// exist, or cannot be looked at, passes: the open that follows reports it.
void check_regular_file(const std::string& path, const char* what);

}  // namespace nabla
