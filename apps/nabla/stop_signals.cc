// SIGINT and SIGTERM as a request to stop (stop_signals.h).
#include "stop_signals.h"

#include <atomic>

namespace nabla::cli {

namespace {

// The first signal caught, 0 before one. (A lock-free atomic: safe in a handler.)
std::atomic<int> g_caught{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal) {
  int none = 0;
  if (g_caught.compare_exchange_strong(none, signal)) return;  // the first: stop softly
  // The second: end now, as the signal's default action does (the exit status tells the
  // shell which signal it was).
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal, &fallback, nullptr);
  raise(signal);
}

}  // namespace

StopSignals::StopSignals() {
  g_caught.store(0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes under way go on
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignals::caught() const { return g_caught.load(); }

}  // namespace nabla::cli
