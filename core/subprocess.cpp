#include "core/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/strings.h"

extern char** environ;

namespace ankh::core {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kOutputTail = 64 << 10;
constexpr std::size_t kErrorLines = 10;

// posix_spawn's file actions, destroyed on every path out.
class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

void check_action(int rc, const std::string& program) {
  if (rc != 0) throw IoError(std::string("cannot prepare the program's files: ") + std::strerror(rc), program);
}

// The pipe that carries the child's output back; both ends close-on-exec, so that no other
// child inherits them (posix_spawn's dup2 clears the flag on the child's own copy).
void open_pipe(FileDescriptor& read_end, FileDescriptor& write_end, const std::string& program) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw IoError(std::string("cannot create a pipe: ") + std::strerror(errno), program);
  read_end = FileDescriptor(fds[0]);
  write_end = FileDescriptor(fds[1]);
}

// Starts the program. Its files are opened here, in the parent, so that a missing output
// directory is reported as such and ENOENT from the spawn can only mean a missing program.
pid_t spawn(const std::vector<std::string>& argv, const ProgramOptions& options, int output_fd) {
  const std::string& program = argv[0];
  const FileDescriptor null_in = FileDescriptor::open("/dev/null", O_RDONLY);
  FileDescriptor out_file;
  if (!options.stdout_path.empty())
    out_file = FileDescriptor::open(options.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
  SpawnActions actions;
  check_action(posix_spawn_file_actions_adddup2(actions.get(), null_in.get(), 0), program);
  check_action(posix_spawn_file_actions_adddup2(actions.get(), out_file.valid() ? out_file.get() : output_fd, 1), program);
  check_action(posix_spawn_file_actions_adddup2(actions.get(), output_fd, 2), program);
  if (!options.working_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(options.working_dir, ec))
      throw IoError("the working directory of " + program + " does not exist", options.working_dir.string());
    check_action(posix_spawn_file_actions_addchdir_np(actions.get(), options.working_dir.c_str()), program);
  }

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, args.data(), environ);
  if (rc == ENOENT) throw IoError("program not found on PATH", program, options.missing_hint);
  if (rc != 0) throw IoError(std::string("cannot start the program: ") + std::strerror(rc), program, options.missing_hint);
  return pid;
}

// Everything the child writes until it closes the pipe, keeping only the last kOutputTail bytes.
std::string drain(int fd) {
  std::string tail;
  char buf[16 << 10];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // the exit status still tells whether the program succeeded
    }
    tail.append(buf, static_cast<std::size_t>(n));
    if (tail.size() > 2 * kOutputTail) tail.erase(0, tail.size() - kOutputTail);
  }
  if (tail.size() > kOutputTail) tail.erase(0, tail.size() - kOutputTail);
  return tail;
}

int wait_for(pid_t pid, const std::string& program) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError(std::string("cannot wait for the program: ") + std::strerror(errno), program);
  }
  return status;
}

std::string last_lines(const std::string& text, std::size_t count) {
  std::vector<std::string> lines;
  for (auto& line : split(text, '\n')) {
    std::string t = trim(line);
    if (!t.empty()) lines.push_back(std::move(t));
  }
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
  return join(lines, "\n    ");
}

void check_status(int status, const std::string& program, const std::string& output) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string what = WIFSIGNALED(status)
                         ? "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")"
                         : "failed with exit status " + std::to_string(WEXITSTATUS(status));
  const std::string tail = last_lines(output, kErrorLines);
  what += tail.empty() ? " and printed nothing" : ":\n    " + tail;
  throw IoError(what, program);
}

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

ProgramResult run_program(const std::vector<std::string>& argv, const ProgramOptions& options) {
  if (argv.empty() || argv[0].empty()) throw IoError("no program to run", "run_program");
  FileDescriptor read_end, write_end;
  open_pipe(read_end, write_end, argv[0]);
  const pid_t pid = spawn(argv, options, write_end.get());
  { FileDescriptor parent_copy = std::move(write_end); }  // the child's copy alone keeps the pipe open
  ProgramResult result;
  result.output = drain(read_end.get());
  check_status(wait_for(pid, argv[0]), argv[0], result.output);
  return result;
}

std::optional<fs::path> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return fs::path(name);
    return std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  for (const auto& dir : split(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin", ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace ankh::core
