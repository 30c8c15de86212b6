// Checkpoint directories: the commit protocol, crash and failure injection, resume selection,
// integrity checks and retention.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "tests/support/test_support.h"

namespace ankh::checkpoints {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::error_of;

NamedTensors params_for(int64_t step) {
  return {{"encoder.w", torch::full({8, 4}, static_cast<float>(step))}, {"shared.weight", torch::arange(12.0f).reshape({3, 4})}};
}

// A complete save of `step`, as the trainer does it.
fs::path save(const fs::path& run, int64_t step, CheckpointWriter::Options options = {}) {
  auto w = CheckpointWriter::begin(run, step, options);
  w.write_tensors("model.safetensors", params_for(step));
  w.write_tensors("optimizer.safetensors", {{"encoder.w.row", torch::ones({8})}});
  w.write_json("state.json", {{"step", step}, {"tokens_seen", step * 1000}});
  w.write_text("config.yaml", "model:\n  d_model: 4\n");
  w.wait();
  return w.commit();
}


void truncate_file(const fs::path& p, uint64_t drop) { fs::resize_file(p, fs::file_size(p) - drop); }

void flip_byte(const fs::path& p, uint64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(CkptDir, Names) {
  EXPECT_EQ(checkpoint_path("run", 1000), fs::path("run/checkpoints/step-00001000"));
  EXPECT_EQ(checkpoint_path("run", 123456789012), fs::path("run/checkpoints/step-123456789012"));
  EXPECT_EQ(parse_checkpoint_name("step-00001000"), 1000);
  EXPECT_EQ(parse_checkpoint_name("step-00001000.tmp"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_name("step-"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_name("step--5"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_name("best"), std::nullopt);
}

TEST(CkptDir, SaveCommitAndLoad) {
  for (const bool background : {true, false}) {
    SCOPED_TRACE(background ? "background" : "inline");
    ScratchDir run;
    const fs::path dir = save(run.path(), 1000, {background});
    EXPECT_EQ(dir, checkpoint_path(run.path(), 1000));
    EXPECT_FALSE(fs::exists(dir.string() + ".tmp"));
    EXPECT_TRUE(fs::exists(dir / kCommitMarker));

    const CheckpointReader r = CheckpointReader::open(dir, Verify::kChecksums);
    EXPECT_EQ(r.step(), 1000);
    EXPECT_EQ(r.format_version(), kCheckpointFormatVersion);
    EXPECT_EQ(r.files(), (std::vector<std::string>{"config.yaml", "model.safetensors", "optimizer.safetensors", "state.json"}));
    const NamedTensors model = r.load_tensors("model.safetensors");
    for (const auto& [name, t] : params_for(1000)) EXPECT_TRUE(torch::equal(model.at(name), t)) << name;
    EXPECT_EQ(r.read_json("state.json")["tokens_seen"], 1000000);
    EXPECT_EQ(r.read_text("config.yaml"), "model:\n  d_model: 4\n");
    EXPECT_TRUE(torch::equal(r.open_tensors("optimizer.safetensors").load("encoder.w.row"), torch::ones({8})));
    EXPECT_NE(error_of([&] { r.load_tensors("modle.safetensors"); }).find("did you mean 'model.safetensors'?"), std::string::npos);
  }
}

TEST(CkptDir, BackgroundWriteSavesTheTensorsAsTheyWereAtTheCall) {
  ScratchDir run;
  NamedTensors params = {{"w", torch::zeros({1 << 16})}};
  auto w = CheckpointWriter::begin(run.path(), 5);
  w.write_tensors("model.safetensors", params);
  params["w"].add_(1);  // the next optimizer step, possibly while the file is being written
  w.commit();
  EXPECT_TRUE(torch::equal(CheckpointReader::open(checkpoint_path(run.path(), 5)).load_tensors("model.safetensors").at("w"),
                           torch::zeros({1 << 16})));
}

TEST(CkptDir, CrashBeforeCommitLeavesThePreviousCheckpoint) {
  ScratchDir run;
  save(run.path(), 10);
  // A real crash: a child process writes everything but the commit, then dies.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      auto w = CheckpointWriter::begin(run.path(), 20);
      w.write_tensors("model.safetensors", params_for(20));
      w.write_json("state.json", {{"step", 20}});
      w.wait();
      ::_exit(0);  // no destructors, no commit: what SIGKILL or a node failure leaves behind
    } catch (...) {
      ::_exit(3);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed to write";
  const fs::path tmp = checkpoint_path(run.path(), 20).string() + ".tmp";
  ASSERT_TRUE(fs::exists(tmp / "model.safetensors"));

  auto latest = find_latest_committed(run.path());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step(), 10);
  EXPECT_EQ(resolve_resume(run.path(), ResumeFrom::parse("auto"))->step(), 10);

  save(run.path(), 30);  // the next save removes the leftover
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(find_latest_committed(run.path())->step(), 30);
}

TEST(CkptDir, FailureBetweenTensorsAndCommitLeavesThePreviousCheckpoint) {
  ScratchDir run;
  save(run.path(), 10);
  {
    auto w = CheckpointWriter::begin(run.path(), 20);
    w.write_tensors("model.safetensors", params_for(20));
    // The background write of this one fails (no safetensors dtype for complex numbers).
    w.write_tensors("optimizer.safetensors", {{"z", torch::ones({2}, torch::kComplexFloat)}});
    EXPECT_THROW(w.commit(), core::CheckpointError);
  }  // abandoned: the destructor removes step-20.tmp
  EXPECT_FALSE(fs::exists(checkpoint_path(run.path(), 20).string() + ".tmp"));
  EXPECT_FALSE(fs::exists(checkpoint_path(run.path(), 20)));
  EXPECT_EQ(find_latest_committed(run.path())->step(), 10);

  // An exception in the caller between writing and committing (e.g. the barrier failed).
  try {
    auto w = CheckpointWriter::begin(run.path(), 30);
    w.write_tensors("model.safetensors", params_for(30));
    w.wait();
    throw core::DistError("rank 1 died");
  } catch (const core::DistError&) {
  }
  EXPECT_FALSE(fs::exists(checkpoint_path(run.path(), 30)));
  EXPECT_EQ(find_latest_committed(run.path())->step(), 10);
}

TEST(CkptDir, OneSaveAtATimeAndFileNames) {
  ScratchDir run;
  auto w = CheckpointWriter::begin(run.path(), 1);
  EXPECT_NE(error_of([&] { CheckpointWriter::begin(run.path(), 2); }).find("another checkpoint of this run is being written"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(w.temp_dir())) << "the failed begin must not remove the running save's directory";
  w.commit();
  auto w2 = CheckpointWriter::begin(run.path(), 2);
  w2.write_text("a.txt", "x");
  EXPECT_NE(error_of([&] { w2.write_text("a.txt", "y"); }).find("written twice"), std::string::npos);
  EXPECT_NE(error_of([&] { w2.write_text("../evil", "y"); }).find("invalid checkpoint file name"), std::string::npos);
  EXPECT_NE(error_of([&] { w2.write_text(kCommitMarker, "y"); }).find("invalid checkpoint file name"), std::string::npos);
}

TEST(CkptDir, SavingAnExistingStepReplacesItAtCommit) {
  ScratchDir run;
  save(run.path(), 10);
  save(run.path(), 20);
  // Resumed from step 10, the run reaches step 20 again.
  auto w = CheckpointWriter::begin(run.path(), 20);
  w.write_tensors("model.safetensors", {{"encoder.w", torch::full({2}, -1.0f)}});
  w.wait();
  EXPECT_EQ(find_latest_committed(run.path())->read_json("state.json")["step"], 20) << "the old one stays until the commit";
  w.commit();
  const auto latest = find_latest_committed(run.path());
  EXPECT_EQ(latest->step(), 20);
  EXPECT_EQ(latest->files(), std::vector<std::string>{"model.safetensors"});
  EXPECT_TRUE(torch::equal(latest->load_tensors("model.safetensors").at("encoder.w"), torch::full({2}, -1.0f)));
  EXPECT_FALSE(fs::exists(checkpoint_path(run.path(), 20).string() + ".deleting"));
}

TEST(CkptDir, DamagedCheckpointsAreSkippedWithTheReason) {
  ScratchDir run;
  save(run.path(), 100);
  save(run.path(), 200);
  save(run.path(), 300);
  save(run.path(), 400);
  // 400: the model file lost its tail after the commit.
  truncate_file(checkpoint_path(run.path(), 400) / "model.safetensors", 7);
  std::string msg = error_of([&] { CheckpointReader::open(checkpoint_path(run.path(), 400)); });
  EXPECT_NE(msg.find("model.safetensors: file has"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(truncated)"), std::string::npos) << msg;
  // 300: its marker is gone (as if the rename had happened without it).
  fs::remove(checkpoint_path(run.path(), 300) / kCommitMarker);
  EXPECT_NE(error_of([&] { CheckpointReader::open(checkpoint_path(run.path(), 300)); }).find("not committed"), std::string::npos);
  // 200: one flipped bit, same size: only checksums see it.
  flip_byte(checkpoint_path(run.path(), 200) / "model.safetensors", fs::file_size(checkpoint_path(run.path(), 200) / "model.safetensors") - 3);

  EXPECT_EQ(find_latest_committed(run.path())->step(), 200);
  msg = error_of([&] { find_latest_committed(run.path())->load_tensors("model.safetensors"); });
  EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("step-00000200/model.safetensors"), std::string::npos) << msg;
  EXPECT_EQ(find_latest_committed(run.path(), Verify::kChecksums)->step(), 100);
}

TEST(CkptDir, MarkerVersionAndFormatAreChecked) {
  ScratchDir run;
  const fs::path dir = save(run.path(), 7);
  std::string marker = core::read_file(dir / kCommitMarker);
  const auto pos = marker.find("\"format_version\": 1");
  ASSERT_NE(pos, std::string::npos) << marker;
  core::write_file_atomic(dir / kCommitMarker, marker.replace(pos, 19, "\"format_version\": 99"));
  EXPECT_NE(error_of([&] { CheckpointReader::open(dir); }).find("format version 99 is newer"), std::string::npos);
  core::write_file_atomic(dir / kCommitMarker, "{ nope");
  EXPECT_NE(error_of([&] { CheckpointReader::open(dir); }).find("commit marker is not valid JSON"), std::string::npos);
  EXPECT_FALSE(find_latest_committed(run.path()).has_value());
}

TEST(CkptDir, ResolveResume) {
  ScratchDir run;
  EXPECT_FALSE(resolve_resume(run.path(), ResumeFrom::parse("auto")).has_value()) << "a fresh run has nothing to resume";
  save(run.path(), 10);
  save(run.path(), 20);
  EXPECT_FALSE(resolve_resume(run.path(), ResumeFrom::parse("none")).has_value());
  EXPECT_EQ(resolve_resume(run.path(), ResumeFrom::parse("auto"))->step(), 20);
  EXPECT_EQ(resolve_resume(run.path(), ResumeFrom::parse(checkpoint_path(run.path(), 10).string()))->step(), 10);
  EXPECT_EQ(resolve_resume("elsewhere", ResumeFrom::parse(run.path().string()))->step(), 20) << "a run directory: its newest";
  EXPECT_NE(error_of([&] { resolve_resume(run.path(), ResumeFrom::parse((run / "nope").string())); }).find("no checkpoint directory"), std::string::npos);
  EXPECT_NE(error_of([&] { resolve_resume(run.path(), ResumeFrom::parse(checkpoint_path(run.path(), 99).string())); }).find("no checkpoint directory"),
            std::string::npos);
}

std::vector<int64_t> steps_of(const fs::path& run) {
  std::vector<int64_t> out;
  for (const auto& e : list_checkpoints(run)) out.push_back(e.step);
  return out;
}

TEST(CkptDir, RetentionKeepsExactlyTheRightSteps) {
  ScratchDir run;
  for (int64_t step = 100; step <= 1000; step += 100) {
    save(run.path(), step);
    apply_retention(run.path(), 3, 400);
  }
  EXPECT_EQ(steps_of(run.path()), (std::vector<int64_t>{400, 800, 900, 1000}));

  // Not counted and not deleted: an uncommitted directory and a damaged newest one.
  fs::create_directories(checkpoint_path(run.path(), 50));
  save(run.path(), 1100);
  truncate_file(checkpoint_path(run.path(), 1100) / "model.safetensors", 1);
  const auto removed = apply_retention(run.path(), 2, 0);
  EXPECT_EQ(removed, (std::vector<fs::path>{checkpoint_path(run.path(), 400), checkpoint_path(run.path(), 800)}));
  EXPECT_EQ(steps_of(run.path()), (std::vector<int64_t>{50, 900, 1000, 1100}));
  EXPECT_EQ(find_latest_committed(run.path())->step(), 1000);
  for (const auto& e : fs::directory_iterator(checkpoints_dir(run.path())))
    EXPECT_EQ(e.path().string().find(".deleting"), std::string::npos) << e.path();
  EXPECT_THROW(apply_retention(run.path(), 0, 0), core::CheckpointError);
}

}  // namespace
}  // namespace ankh::checkpoints
