// safetensors reader/writer: round trips of every dtype, deterministic files, XXH64, and a clear
// error naming the file (and the tensor) for every kind of damage.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoints/checksum.h"
#include "checkpoints/safetensors.h"
#include "core/error.h"
#include "core/files.h"
#include "tests/support/test_support.h"

namespace ankh::checkpoints {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

std::string bytes_of(const fs::path& p) { return core::read_file(p); }

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file with a hand-made header: the length field, the header text, then `data`.
std::string raw_file(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

// The message of the CheckpointError that opening `path` throws ("" when it opens).
std::string open_error(const fs::path& path) {
  try {
    SafetensorsReader reader(path);
    reader.load_all();
  } catch (const core::CheckpointError& e) {
    EXPECT_EQ(e.where(), path.string()) << "the error must name the file";
    return e.what_text();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a CheckpointError: " << e.what();
    return e.what();
  }
  return "";
}

NamedTensors sample_tensors() {
  torch::manual_seed(7);
  NamedTensors t;
  t["f64"] = torch::randn({3, 5}, torch::kFloat64);
  t["f32"] = torch::randn({4, 7});
  t["f16"] = torch::randn({9}).to(torch::kFloat16);
  t["bf16"] = torch::randn({2, 3, 5}).to(torch::kBFloat16);
  t["i64"] = torch::arange(-50, 50, torch::kInt64).reshape({10, 10});
  t["i32"] = torch::arange(-5, 6, torch::kInt32);
  t["i16"] = torch::arange(-3, 3, torch::kInt16);
  t["i8"] = torch::arange(-100, 100, 7, torch::kInt8);
  t["u8"] = torch::arange(0, 250, 3, torch::kUInt8);
  t["bool"] = torch::tensor({true, false, true});
  t["scalar"] = torch::tensor(3.5);
  t["empty"] = torch::zeros({0, 4});
  t["transposed"] = torch::randn({6, 3}).t();  // non-contiguous input
  return t;
}

TEST(CkptChecksum, KnownXxh64Vectors) {
  EXPECT_EQ(xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64("abc"), 0x44BC2CF5AD770999ULL);
  std::string data(1000, '\0');
  for (int i = 0; i < 1000; ++i) data[static_cast<std::size_t>(i)] = static_cast<char>((i * 131 + 7) % 251);
  // Independent reference values (a Python implementation checked against the vectors above).
  const std::pair<std::size_t, uint64_t> cases[] = {{1, 0xa96c7f0ce858bbb7ULL},  {3, 0x340815731509cc08ULL},
                                                    {4, 0x5fa711205d86e9daULL},  {7, 0xc56370b3a8e8a7bbULL},
                                                    {8, 0xdf40710b591268c9ULL},  {31, 0xb1f705faa66f113eULL},
                                                    {32, 0xe4d66d9393e3a596ULL}, {33, 0x2f77e96907a9337bULL},
                                                    {63, 0xdaa92a8f02a3fa78ULL}, {64, 0x7d4e619b9ab28955ULL},
                                                    {100, 0x03e12a53974cdcd9ULL}, {1000, 0xe04669f618d13c00ULL}};
  for (const auto& [n, expected] : cases) {
    EXPECT_EQ(xxh64(std::string_view(data).substr(0, n)), expected) << n << " bytes";
    // Streaming in uneven pieces gives the same digest.
    Xxh64 h;
    for (std::size_t i = 0; i < n;) {
      const std::size_t piece = std::min<std::size_t>(n - i, 1 + (i * 7) % 45);
      h.update(data.data() + i, piece);
      i += piece;
    }
    EXPECT_EQ(h.digest(), expected) << n << " bytes, streamed";
    AsyncXxh64 async;
    async.update(data.data(), n / 3);
    async.update(data.data() + n / 3, n - n / 3);
    EXPECT_EQ(async.finish(), expected) << n << " bytes, on a thread";
  }
  uint64_t v = 0;
  EXPECT_TRUE(parse_hex(to_hex(0x0123456789abcdefULL), v));
  EXPECT_EQ(v, 0x0123456789abcdefULL);
  EXPECT_EQ(to_hex(0xabcULL), "0000000000000abc");
  EXPECT_FALSE(parse_hex("xyz", v));
}

TEST(CkptSafetensors, RoundTripsEveryDtype) {
  ScratchDir dir;
  const NamedTensors in = sample_tensors();
  const Metadata meta = {{"format", "pt"}, {"note", "ünïcode"}};
  const FileDigest digest = write_safetensors(dir / "t.safetensors", in, meta);

  const std::string bytes = bytes_of(dir / "t.safetensors");
  EXPECT_EQ(digest.bytes, bytes.size());
  EXPECT_EQ(digest.xxh64, xxh64(bytes));

  SafetensorsReader reader(dir / "t.safetensors");
  EXPECT_EQ(reader.metadata(), meta);
  std::vector<std::string> names;
  for (const auto& entry : in) names.push_back(entry.first);
  EXPECT_EQ(reader.names(), names);
  EXPECT_EQ(reader.info("bf16").dtype_name, "BF16");
  EXPECT_EQ(reader.info("bool").dtype_name, "BOOL");

  uint64_t hash = 0;
  const NamedTensors out = reader.load_all(&hash);
  EXPECT_EQ(hash, digest.xxh64) << "load_all hashes the whole file";
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [name, t] : in) {
    SCOPED_TRACE(name);
    const torch::Tensor& got = out.at(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type());
    EXPECT_EQ(got.sizes(), t.sizes());
    EXPECT_TRUE(torch::equal(got, t));
    EXPECT_TRUE(torch::equal(reader.load(name), t));
  }
}

TEST(CkptSafetensors, FilesAreDeterministicAlignedAndSorted) {
  ScratchDir dir;
  const NamedTensors in = sample_tensors();
  write_safetensors(dir / "a.safetensors", in);
  write_safetensors(dir / "b.safetensors", in);
  const std::string a = bytes_of(dir / "a.safetensors");
  EXPECT_EQ(a, bytes_of(dir / "b.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, a.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the data section starts 8-byte aligned";
  const auto header = nlohmann::json::parse(a.substr(8, n));
  uint64_t expected_begin = 0;
  for (auto it = header.begin(); it != header.end(); ++it) {  // nlohmann iterates in key order
    if (it.key() == "__metadata__") continue;
    EXPECT_EQ(it.value()["data_offsets"][0].get<uint64_t>(), expected_begin) << it.key() << ": laid out in name order";
    expected_begin = it.value()["data_offsets"][1].get<uint64_t>();
  }
  EXPECT_EQ(8 + n + expected_begin, a.size());
  // Only the final file: the temporary is renamed away.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 2);
}

TEST(CkptSafetensors, SnapshotIsIndependentOfLaterUpdates) {
  NamedTensors params = {{"w", torch::ones({4})}};
  const NamedTensors snap = snapshot_to_cpu(params);
  params["w"].add_(1);  // an optimizer step in place
  EXPECT_TRUE(torch::equal(snap.at("w"), torch::ones({4})));
}

TEST(CkptSafetensors, WriteErrors) {
  ScratchDir dir;
  EXPECT_THROW(write_safetensors(dir / "no-such-dir" / "x.safetensors", {{"a", torch::ones({1})}}), core::IoError);
  EXPECT_THROW(write_safetensors(dir / "x.safetensors", {{"c", torch::ones({2}, torch::kComplexFloat)}}), core::CheckpointError);
  EXPECT_THROW(write_safetensors(dir / "x.safetensors", {{"__metadata__", torch::ones({1})}}), core::CheckpointError);
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

class CkptSafetensorsDamage : public ::testing::Test {
 protected:
  ScratchDir dir;
  fs::path good = dir / "good.safetensors";
  fs::path bad = dir / "bad.safetensors";
  void SetUp() override {
    write_safetensors(good, {{"alpha", torch::arange(6, torch::kFloat32)}, {"beta", torch::arange(4, torch::kInt64)}});
  }
};

TEST_F(CkptSafetensorsDamage, TruncatedData) {
  const std::string bytes = bytes_of(good);
  write_bytes(bad, bytes.substr(0, bytes.size() - 5));
  const std::string msg = open_error(bad);
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'beta'"), std::string::npos) << msg;
}

TEST_F(CkptSafetensorsDamage, ShorterThanLengthField) {
  write_bytes(bad, "abc");
  EXPECT_NE(open_error(bad).find("truncated"), std::string::npos);
}

TEST_F(CkptSafetensorsDamage, HeaderLengthPastEndOfFile) {
  std::string bytes = bytes_of(good);
  const uint64_t huge = bytes.size() + 100;
  std::memcpy(bytes.data(), &huge, 8);
  write_bytes(bad, bytes);
  EXPECT_NE(open_error(bad).find("header length " + std::to_string(huge) + " runs past the end of the file"), std::string::npos);
}

TEST_F(CkptSafetensorsDamage, BadJson) {
  write_bytes(bad, raw_file("{\"alpha\": {\"dtype\": ", "xxxxxxxx"));
  EXPECT_NE(open_error(bad).find("header is not valid JSON"), std::string::npos);
  write_bytes(bad, raw_file("[1, 2]  ", ""));
  EXPECT_NE(open_error(bad).find("not a JSON object"), std::string::npos);
}

TEST_F(CkptSafetensorsDamage, UnknownDtype) {
  write_bytes(bad, raw_file(R"({"alpha":{"dtype":"F8_E9M9","shape":[2],"data_offsets":[0,2]}})", "ab"));
  const std::string msg = open_error(bad);
  EXPECT_NE(msg.find("tensor 'alpha': unknown dtype 'F8_E9M9'"), std::string::npos) << msg;
}

TEST_F(CkptSafetensorsDamage, OverlappingOffsets) {
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            std::string(12, 'x')));
  const std::string msg = open_error(bad);
  EXPECT_NE(msg.find("tensor 'b' overlaps tensor 'a'"), std::string::npos) << msg;
}

TEST_F(CkptSafetensorsDamage, OffsetsOutOfRange) {
  write_bytes(bad, raw_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[100,104]}})", "abcd"));
  const std::string msg = open_error(bad);
  EXPECT_NE(msg.find("tensor 'a': data ends at byte 104"), std::string::npos) << msg;
}

TEST_F(CkptSafetensorsDamage, ShapeDisagreesWithOffsets) {
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, 'x')));
  EXPECT_NE(open_error(bad).find("shape [3] of F32 needs 12"), std::string::npos);
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, 'x')));
  EXPECT_NE(open_error(bad).find("negative"), std::string::npos);
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", std::string(8, 'x')));
  EXPECT_NE(open_error(bad).find("end before they begin"), std::string::npos);
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[2]}})", std::string(8, 'x')));
  EXPECT_NE(open_error(bad).find("lacks dtype, shape or data_offsets"), std::string::npos);
}

TEST_F(CkptSafetensorsDamage, GapsAndTrailingBytes) {
  write_bytes(bad, raw_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", "abcd"));
  EXPECT_NE(open_error(bad).find("gap of 2 bytes before tensor 'a'"), std::string::npos);
  write_bytes(bad, raw_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"));
  EXPECT_NE(open_error(bad).find("2 bytes after the last tensor"), std::string::npos);
}

TEST_F(CkptSafetensorsDamage, MissingFileAndUnknownTensor) {
  EXPECT_NE(open_error(dir / "absent.safetensors").find("cannot open"), std::string::npos);
  SafetensorsReader reader(good);
  try {
    reader.load("alpah");
    FAIL() << "expected a CheckpointError";
  } catch (const core::CheckpointError& e) {
    EXPECT_NE(e.what_text().find("no tensor 'alpah'"), std::string::npos);
    EXPECT_NE(e.hint().find("'alpha'"), std::string::npos);
  }
}

TEST_F(CkptSafetensorsDamage, MetadataMustBeStrings) {
  write_bytes(bad, raw_file(R"({"__metadata__":{"n":1}})", ""));
  EXPECT_NE(open_error(bad).find("__metadata__ value of 'n' is not a string"), std::string::npos);
}

}  // namespace
}  // namespace ankh::checkpoints
