// SIGINT and SIGTERM while StopSignals is alive (apps/nabla/stop_signals.h): the first is
// a request to stop, the second ends the process as the signal's default action would.
// Each case runs in a child process, since the second signal kills it.
#include "stop_signals.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace nabla::cli {
namespace {

// Child exit codes that say which step went wrong.
constexpr int kFirstNotCaught = 10, kSurvivedSecond = 11, kHandlersNotRestored = 12;

// Forks; the child runs `body` and exits with its return value. The parent gets the
// status from waitpid.
template <class Body>
int status_of_child(Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(StopSignals, TheFirstSignalAsksTheSecondEnds) {
  for (int signal : {SIGINT, SIGTERM}) {
    const int status = status_of_child([signal] {
      StopSignals signals;
      if (signals.caught() != 0) return kFirstNotCaught;
      ::raise(signal);
      if (signals.caught() != signal) return kFirstNotCaught;
      ::raise(signal);  // ends the process here
      return kSurvivedSecond;
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << signal << ": exit " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), signal);
  }
}

// A SIGTERM after a SIGINT is a second signal too, and the first one caught is kept.
TEST(StopSignals, AnySecondSignalEnds) {
  const int status = status_of_child([] {
    StopSignals signals;
    ::raise(SIGINT);
    if (signals.caught() != SIGINT) return kFirstNotCaught;
    ::raise(SIGTERM);
    return kSurvivedSecond;
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

// When StopSignals goes, the handlers it found come back (here: SIGINT ignored), and a
// new StopSignals starts with no signal caught.
TEST(StopSignals, RestoresTheHandlersItFound) {
  const int status = status_of_child([] {
    std::signal(SIGINT, SIG_IGN);
    {
      StopSignals signals;
      ::raise(SIGINT);
      if (signals.caught() != SIGINT) return kFirstNotCaught;
    }
    ::raise(SIGINT);  // ignored again
    ::raise(SIGINT);
    StopSignals again;
    return again.caught() == 0 ? 0 : kHandlersNotRestored;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace nabla::cli
