#include "trainer/app/sweep/sweep_launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/strings.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

std::atomic<pid_t> g_child{0};
volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_signals_received = 0;

// What the running child gets: first SIGUSR1, which mpirun passes on to every rank and each rank
// answers by finishing its step and saving (mpirun would end the ranks itself on SIGTERM); on a
// second signal SIGTERM, which ends the run at once.
void signal_child() {
  const pid_t child = g_child.load();
  if (child > 0) ::kill(child, g_signals_received > 1 ? SIGTERM : SIGUSR1);  // async-signal-safe
}

void on_signal(int sig) {
  if (g_signal == 0) g_signal = sig;
  g_signals_received = g_signals_received + 1;
  signal_child();
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 512> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  ::pclose(pipe);
  return out;
}

bool in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  for (const auto& dir : core::split(path ? path : "", ':'))
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

}  // namespace

void check_mpirun(const std::string& mpirun) {
  if (!in_path(mpirun))
    throw core::IoError("'" + mpirun + "' not found or not executable", "ankh sweep --mpirun",
                        "install Open MPI (scripts/setup.sh), give --mpirun PATH, or use --np 1 to run without mpirun");
}

bool detect_open_mpi(const std::string& mpirun) {
  return capture(shell_join({mpirun, "--version"}) + " 2>&1").find("Open MPI") != std::string::npos;
}

std::vector<std::string> launch_command(const LaunchOptions& options, const fs::path& run_config) {
  std::vector<std::string> argv;
  if (options.use_mpirun) {
    argv = {options.mpirun, "-np", std::to_string(options.np)};
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    if (options.open_mpi && options.mpirun_args.empty() && static_cast<unsigned>(options.np) > cores)
      argv.push_back("--oversubscribe");
    argv.insert(argv.end(), options.mpirun_args.begin(), options.mpirun_args.end());
  }
  argv.insert(argv.end(), {options.ankh.string(), "train", run_config.string()});
  return argv;
}

std::vector<std::string> launch_environment(const LaunchOptions& options) {
  std::vector<std::string> env;
  if (options.use_mpirun && options.open_mpi && ::geteuid() == 0)
    env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
  return env;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::vector<std::string> parts;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789_-+=.,/:@%") == std::string::npos;
    if (plain) {
      parts.push_back(a);
      continue;
    }
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    parts.push_back(q + "'");
  }
  return core::join(parts, " ");
}

void install_sweep_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR and the loop looks again
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int interrupted() { return g_signal; }

int run_logged(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& log_file) {
  const auto log = core::FileDescriptor::open(log_file, O_WRONLY | O_CREAT | O_APPEND);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The child's environment, built before fork: after it only async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& add : env) replaced = replaced || entry.substr(0, entry.find('=') + 1) == add.substr(0, add.find('=') + 1);
    if (!replaced) env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw core::IoError(std::string("cannot start a process: ") + std::strerror(errno), argv.front());
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(log.get(), STDOUT_FILENO);
    ::dup2(log.get(), STDERR_FILENO);
    ::execvpe(args[0], args.data(), envp.data());
    const char* msg = "ankh sweep: cannot execute the launch command\n";
    (void)!::write(STDERR_FILENO, msg, std::strlen(msg));
    ::_exit(127);
  }
  g_child.store(pid);
  if (g_signal) signal_child();  // a signal that came just before the child existed
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      g_child.store(0);
      throw core::IoError(std::string("waiting for the run failed: ") + std::strerror(errno), argv.front());
    }
  }
  g_child.store(0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string last_error_line(const fs::path& log_file) {
  std::ifstream in(log_file, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 65536);
  in.seekg(start);
  std::string tail(static_cast<std::size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  const auto lines = core::split(tail, '\n');
  auto clean = [](std::string line) {
    // "[time] [rank 0] [error] what" -> "what"
    const auto tag = line.find("[error] ");
    if (tag != std::string::npos) line = line.substr(tag + 8);
    return core::trim(line);
  };
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (it->find("[error]") != std::string::npos) {
      // spdlog writes a multi-line error as one record: keep the hint line after it, if any.
      std::string text = clean(*it);
      if (it != lines.rbegin()) {
        const std::string next = core::trim(*(it - 1));
        if (core::starts_with(next, "hint:")) text += " (" + next + ")";
      }
      return text;
    }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    const std::string lower = core::to_lower(*it);
    if (lower.find("error") != std::string::npos || lower.find("cannot execute") != std::string::npos)
      return clean(*it);
  }
  return {};
}

}  // namespace ankh::sweep
