// The processes a training command runs in (docs/distributed.md): the ranks mpirun
// started, or this process alone; and what a failing rank does to the others.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "nabla/train/communicator.h"

namespace nabla::cli {

// mpirun's ranks (MPI) when mpirun started this process, else this process alone. A
// UsageError when mpirun started it but nabla was built without MPI.
std::shared_ptr<Communicator> open_world();

// The slices per batch (TrainConfig::shards): --shards when given (`given` > 0), else the
// number of ranks. A UsageError when --shards names another number than the ranks'.
std::int64_t shards_for(std::int64_t given, const Communicator& world);

// Runs `command` (returning its exit status). Among several ranks, an exception on any
// rank is printed with the rank's number and ends every rank of the job at once
// (MPI_Abort, exit status 1, or 2 for a usage error), so none waits for a rank that is
// gone. Alone, the exception goes on to main().
int on_every_rank(Communicator& world, const char* name, const std::function<int()>& command);

}  // namespace nabla::cli
