// The one exception hierarchy of ankh. Every error says what went wrong, where (a file:line of
// the input, a config key, a rank), and a hint for the fix. `main` catches ankh::Error once.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ankh::core {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string what, std::string where = {}, std::string hint = {});

  const std::string& what_text() const { return what_; }
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }
  // Process exit status for this kind of error.
  virtual int exit_code() const { return 1; }
  // "where: what" followed by an indented "hint: ..." line when there is one.
  virtual std::string describe() const;

 private:
  std::string what_, where_, hint_;
};

// Misuse of the command line (missing argument, unknown flag). Exit status 2, like getopt tools.
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

// Malformed user input data: FASTA, datasets, checkpoints written by something else.
class InputError : public Error {
 public:
  using Error::Error;
};

// The file system refused: unreadable, unwritable, full, missing.
class IoError : public Error {
 public:
  using Error::Error;
};

// Collective communication failed or timed out; another rank died.
class DistError : public Error {
 public:
  using Error::Error;
};

// A checkpoint that is missing, partial, corrupt or incompatible.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// Training cannot continue (e.g. too many consecutive non-finite steps).
class TrainingError : public Error {
 public:
  using Error::Error;
};

// One problem found in a configuration; a ConfigError carries all of them at once.
struct ConfigIssue {
  std::string key;     // full dotted key path, e.g. "model.d_model"
  std::string origin;  // "configs/run.yaml:12", "command line", or empty
  std::string message;
  std::string hint;    // e.g. "did you mean model.d_model?"
};

class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }
  std::string describe() const override;

 private:
  std::vector<ConfigIssue> issues_;
};

// Helper for validation code that gathers every problem before throwing.
class IssueList {
 public:
  void add(std::string key, std::string origin, std::string message, std::string hint = {});
  bool empty() const { return issues_.empty(); }
  const std::vector<ConfigIssue>& issues() const { return issues_; }
  // Throws ConfigError with every issue gathered so far, if there is any.
  void throw_if_any() const;

 private:
  std::vector<ConfigIssue> issues_;
};

}  // namespace ankh::core
