// SIGINT and SIGTERM during `nabla train`: the first asks the run to stop after the step
// it is in (the library's loop asks stop_requested() after every step, RunOptions in
// nabla/train/run.h), so that the checkpoint, metrics.csv and curves.svg are written and
// the run can be resumed; a second one ends the process at once, as the signal would.
//
//   StopSignals signals;                        // handlers installed, until it goes
//   options.stop_requested = [&] { return signals.caught() != 0; };
//   ...
//   return 128 + signals.caught();              // 130 for SIGINT, 143 for SIGTERM
//
// A signal handler can only reach a global: it lives here, in the command, not in the
// library. One StopSignals at a time; it restores the handlers it found when it goes.
#pragma once

#include <csignal>

namespace nabla::cli {

class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  // The first signal caught since construction (SIGINT or SIGTERM), or 0.
  int caught() const;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

}  // namespace nabla::cli
