// core::DirLock (run ownership): one holder at a time, the holder named in the error, a clean
// release leaves no record, a record left by a dead holder is reported as replaced, and the lock
// does not leak into child processes. Two jobs on one run directory for real (mpirun, SIGKILL):
// tests/train/run_lock.sh.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/dir_lock.h"
#include "core/error.h"
#include "core/files.h"
#include "tests/support/test_support.h"

extern char** environ;

using namespace ankh::core;
namespace fs = std::filesystem;

TEST(DirLock, SecondHolderFailsNamingTheFirst) {
  ankh::testing::ScratchDir dir;
  const fs::path run = dir / "run";  // created by acquire
  const DirLock first = DirLock::acquire(run, "ankh train", "run.dir");
  EXPECT_TRUE(first.enforced());
  EXPECT_FALSE(first.stale());
  const auto record = LockRecord::parse(read_file(run / kDirLockFile));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->pid, static_cast<long>(::getpid()));
  EXPECT_EQ(record->command, "ankh train");
  EXPECT_FALSE(record->started.empty());

  // flock locks belong to open file descriptions: a second open in this process conflicts too.
  try {
    DirLock::acquire(run, "ankh train", "run.dir");
    FAIL() << "a second holder took the lock";
  } catch (const IoError& e) {
    const std::string text = e.describe();
    EXPECT_NE(text.find("is in use by another job"), std::string::npos) << text;
    EXPECT_NE(text.find("on host " + record->host), std::string::npos) << text;
    EXPECT_NE(text.find("PID " + std::to_string(::getpid())), std::string::npos) << text;
    EXPECT_NE(text.find("started " + record->started), std::string::npos) << text;
    EXPECT_NE(text.find("another run.dir"), std::string::npos) << text;
  }
  EXPECT_EQ(read_file(run / kDirLockFile), record->to_text()) << "the failed attempt touched the holder's record";
}

TEST(DirLock, CleanReleaseLeavesNoRecord) {
  ankh::testing::ScratchDir dir;
  { const DirLock lock = DirLock::acquire(dir.path(), "ankh sweep", "--output"); }
  EXPECT_EQ(read_file(dir / kDirLockFile), "");
  const DirLock again = DirLock::acquire(dir.path(), "ankh sweep", "--output");
  EXPECT_FALSE(again.stale());
}

TEST(DirLock, RecordOfADeadHolderIsReplaced) {
  ankh::testing::ScratchDir dir;
  // What a holder killed with SIGKILL leaves: its record, and no lock (the kernel dropped it).
  LockRecord dead = LockRecord::current("ankh train");
  dead.host = "node17";
  dead.pid = 4242;
  dead.slurm_job = "99";
  write_file_atomic(dir / kDirLockFile, dead.to_text());
  const DirLock lock = DirLock::acquire(dir.path(), "ankh train", "run.dir");
  ASSERT_TRUE(lock.stale());
  EXPECT_EQ(lock.stale()->describe(), "ankh train on host node17, PID 4242, started " + dead.started + " (Slurm job 99)");
  const auto now = LockRecord::parse(read_file(dir / kDirLockFile));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->pid, static_cast<long>(::getpid()));
}

TEST(DirLock, ChildProcessesDoNotInheritTheLock) {
  ankh::testing::ScratchDir dir;
  pid_t child = -1;
  {
    const DirLock lock = DirLock::acquire(dir.path(), "ankh sweep", "--output");
    const char* argv[] = {"sleep", "30", nullptr};
    ASSERT_EQ(::posix_spawnp(&child, "sleep", nullptr, nullptr, const_cast<char* const*>(argv), environ), 0);
  }
  // The child still runs; had it inherited the descriptor, the lock would still be held.
  EXPECT_NO_THROW(DirLock::acquire(dir.path(), "ankh sweep", "--output"));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}
