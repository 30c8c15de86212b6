// The Slurm job-array script `ankh sweep --emit-slurm` writes, and the launchers in launch/: valid
// bash (`bash -n`) and clean under shellcheck (installed by scripts/setup.sh).
#include <gtest/gtest.h>

#include "core/files.h"
#include "tests/support/test_support.h"
#include "trainer/app/sweep/sweep_launch.h"
#include "trainer/app/sweep/sweep_slurm.h"

using namespace ankh::sweep;
using ankh::testing::run_command;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
namespace fs = std::filesystem;

namespace {

bool have_shellcheck() { return run_command("command -v shellcheck").exit_code == 0; }
const char* kNoShellcheck = "shellcheck is missing: install it with scripts/setup.sh (Debian package shellcheck)";

std::string emitted(ScratchDir& dir) {
  SlurmOptions o;
  o.job_name = "ankh-quick";
  o.ankh = "/opt/ankh bin/ankh";  // a space: everything must be quoted
  o.run_script = ankh::testing::source_dir() / "launch" / "slurm-run.sh";
  o.output = dir.path();
  o.sweep_file = "configs/sweeps/quick.yaml";
  o.nodes = 2;
  o.ranks_per_node = 4;
  o.gpus_per_node = 4;
  o.mpirun_args = {"--mca", "btl", "^openib"};
  return slurm_array_script({dir / "mask_prob-0.1", dir / "it's"}, o);
}

}  // namespace

TEST(SweepSlurm, ScriptHasTheArrayTheSignalAndTheRequeue) {
  ScratchDir dir;
  const std::string s = emitted(dir);
  EXPECT_EQ(s.rfind("#!/usr/bin/env bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --array=0-1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --nodes=2\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --ntasks-per-node=4\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --gpus-per-node=4\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --signal=B:TERM@"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --requeue\n"), std::string::npos);
  EXPECT_NE(s.find("export ANKH_BIN=${ANKH_BIN:-'/opt/ankh bin/ankh'}"), std::string::npos) << s;
  EXPECT_NE(s.find("export ANKH_MPIRUN_ARGS=${ANKH_MPIRUN_ARGS:-'--mca btl ^openib'}"), std::string::npos) << s;
  EXPECT_NE(s.find("'" + (dir / "it").string() + "'\\''s'"), std::string::npos) << s;
  EXPECT_NE(s.find("exec " + (ankh::testing::source_dir() / "launch" / "slurm-run.sh").string() + " \"$run/run.yaml\""),
            std::string::npos)
      << s;
}

TEST(SweepSlurm, CpuNodesHaveNoGpuLine) {
  ScratchDir dir;
  SlurmOptions o;
  o.ankh = "/b/ankh";
  o.run_script = "/src/launch/slurm-run.sh";
  o.output = dir.path();
  o.ranks_per_node = 2;
  o.gpus_per_node = 0;
  const std::string s = slurm_array_script({dir / "a"}, o);
  EXPECT_NE(s.find("#SBATCH --ntasks-per-node=2\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos) << s;
  EXPECT_EQ(s.find("ANKH_MPIRUN_ARGS"), std::string::npos) << s;
}

TEST(SweepSlurm, ScriptPassesBashN) {
  ScratchDir dir;
  write_text(dir / "job.sbatch", emitted(dir));
  const auto r = run_command("bash -n " + (dir / "job.sbatch").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(SweepSlurm, ScriptPassesShellcheck) {
  ASSERT_TRUE(have_shellcheck()) << kNoShellcheck;
  ScratchDir dir;
  write_text(dir / "job.sbatch", emitted(dir));
  const auto r = run_command("shellcheck --shell=bash " + (dir / "job.sbatch").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(SweepSlurm, CompletedTasksExitAndUnfinishedOnesRequeue) {
  // The emitted script run by bash outside Slurm, with the real ankh (ANKH_BIN, for `ankh status`)
  // and a stand-in mpirun and scontrol in PATH that only log their arguments: a task whose run is
  // complete does nothing; one whose run stops early (exit 0, no end at max_steps) requeues itself.
  // tests/slurm/ runs such scripts under a real Slurm.
  ScratchDir dir;
  write_text(dir / "bin" / "mpirun", "#!/bin/sh\necho \"mpirun $*\" >> \"$LOG\"\n");
  write_text(dir / "bin" / "scontrol", "#!/bin/sh\necho \"scontrol $*\" >> \"$LOG\"\n");
  run_command("chmod +x " + (dir / "bin" / "mpirun").string() + " " + (dir / "bin" / "scontrol").string());
  const std::string ankh = ankh::testing::ankh_binary().string();
  for (const char* run : {"mask_prob-0.1", "it's"}) {
    const fs::path run_dir = dir / run;
    fs::create_directories(run_dir);
    const auto r = run_command(ankh + " config configs/ankh-tiny.yaml train.max_steps=40 \"run.dir=" +
                               run_dir.string() + "\" > \"" + (run_dir / "run.yaml").string() + "\"");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  write_text(dir / "mask_prob-0.1" / "metrics.jsonl",
             "{\"event\":\"end\",\"reason\":\"max_steps\",\"step\":40,\"tokens\":1}\n");
  write_text(dir / "job.sbatch", emitted(dir));
  const std::string env = "PATH=" + (dir / "bin").string() + ":$PATH LOG=" + (dir / "log").string() +
                          " ANKH_BIN=" + ankh + " SLURM_JOB_ID=9 SLURM_ARRAY_JOB_ID=7 SLURM_JOB_NUM_NODES=2 SLURM_NTASKS=8 ";
  auto r = run_command(env + "SLURM_ARRAY_TASK_ID=0 bash " + (dir / "job.sbatch").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("complete (step 40 of 40): nothing to do"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "log"));

  r = run_command(env + "SLURM_ARRAY_TASK_ID=1 bash " + (dir / "job.sbatch").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string log = ankh::core::read_file(dir / "log");
  EXPECT_NE(log.find("mpirun -np 8 -ppn 4 --mca btl ^openib " + ankh + " train " + (dir / "it's" / "run.yaml").string()),
            std::string::npos)
      << log << r.output;
  EXPECT_NE(log.find("scontrol requeue 7_1"), std::string::npos) << log;
}

TEST(SweepSlurm, LaunchScriptsPassBashNAndShellcheck) {
  const fs::path launch = ankh::testing::source_dir() / "launch";
  std::string paths;
  for (const char* name : {"find-ankh.sh", "mpirun.sh", "slurm-run.sh", "slurm.sbatch"}) {
    ASSERT_TRUE(fs::exists(launch / name)) << name;
    const auto r = run_command("bash -n " + (launch / name).string());
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    paths += " " + (launch / name).string();
  }
  ASSERT_TRUE(have_shellcheck()) << kNoShellcheck;
  const auto r = run_command("shellcheck --shell=bash" + paths);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(SweepLaunch, CommandAndEnvironment) {
  LaunchOptions o;
  o.np = 2;
  o.ankh = "/b/ankh";
  o.open_mpi = true;
  o.mpirun_args = {"--bind-to", "none"};
  EXPECT_EQ(launch_command(o, "r/run.yaml"),
            (std::vector<std::string>{"mpirun", "-np", "2", "--bind-to", "none", "/b/ankh", "train", "r/run.yaml"}));
  o.np = 100000;  // more ranks than cores, nothing given: Open MPI needs --oversubscribe
  o.mpirun_args.clear();
  EXPECT_EQ(launch_command(o, "r/run.yaml")[3], "--oversubscribe");
  o.use_mpirun = false;
  o.np = 1;
  EXPECT_EQ(launch_command(o, "r/run.yaml"), (std::vector<std::string>{"/b/ankh", "train", "r/run.yaml"}));
  EXPECT_EQ(shell_join({"a b", "it's", "x=1"}), "'a b' 'it'\\''s' x=1");
}
