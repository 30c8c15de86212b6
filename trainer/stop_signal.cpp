#include "trainer/stop_signal.h"

#include <csignal>

namespace ankh::trainer {

namespace {
volatile std::sig_atomic_t g_signal = 0;  // the one piece of state a signal handler may touch
struct sigaction g_previous_term, g_previous_int;

extern "C" void on_stop_signal(int sig) {
  if (g_signal != 0 && sig == SIGINT) {
    // Second Ctrl-C: the user wants out now.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  g_signal = sig;
}
}  // namespace

StopSignal::StopSignal() {
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // do not make blocking I/O in other threads fail with EINTR
  sigaction(SIGTERM, &action, &g_previous_term);
  sigaction(SIGINT, &action, &g_previous_int);
}

StopSignal::~StopSignal() {
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGINT, &g_previous_int, nullptr);
}

bool StopSignal::requested() const { return g_signal != 0; }

}  // namespace ankh::trainer
