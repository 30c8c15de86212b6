#include "trainer/stop_signal.h"

#include <csignal>

namespace ankh::trainer {

namespace {
volatile std::sig_atomic_t g_signal = 0;  // the one piece of state a signal handler may touch
struct sigaction g_previous_term, g_previous_int, g_previous_usr1;

extern "C" void on_stop_signal(int sig) {
  if (g_signal != 0 && (sig == SIGINT || sig == SIGTERM)) {
    // Asked twice: end now, with the signal's default action (the exit status says which).
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  if (g_signal == 0) g_signal = sig;
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
  sigaction(SIGUSR1, &action, &g_previous_usr1);
}

StopSignal::~StopSignal() {
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGUSR1, &g_previous_usr1, nullptr);
}

bool StopSignal::requested() const { return g_signal != 0; }

const char* StopSignal::name() const {
  switch (g_signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "";
  }
}

}  // namespace ankh::trainer
