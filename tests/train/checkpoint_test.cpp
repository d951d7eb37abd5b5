// What a checkpoint survives: a flipped byte anywhere is refused as corruption naming the
// file and the part; checkpoints of the older format still load; a run killed (SIGKILL)
// in the middle of a save, or a disk that fills up during one, leaves the previous
// checkpoint loadable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../data/temp_dir.h"
#include "data/dataset_writer.h"
#include "tensor/error.h"
#include "tests/train/train_util.h"
#include "train/checkpoint.h"

namespace maskoff::train {
namespace {

using data::testing::read_bytes;
using data::testing::TempDir;
using data::testing::write_bytes;
using testing::endless_train_command;
using testing::spawn;
namespace fs = std::filesystem;

Checkpoint small_checkpoint(float fill = 1.5f) {
  Checkpoint ck;
  ck.meta["answer"] = 42;
  ck.add("w", full({3, 4}, fill));
  ck.add("b", from_vector(std::vector<double>{0.25, -2}, {2}, DType::F64));
  return ck;
}

std::string error_of_read(const std::string& path) {
  try {
    read_checkpoint(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainCheckpoint, EveryFlippedByteIsRefusedNamingTheFile) {
  TempDir tmp;
  const std::string path = tmp / "good.ckpt", bad = tmp / "bad.ckpt";
  write_checkpoint(path, small_checkpoint());
  const std::vector<uint8_t> bytes = read_bytes(path);
  int metadata = 0, tensor = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> b = bytes;
    b[i] ^= 0x10;
    write_bytes(bad, b);
    const std::string e = error_of_read(bad);
    ASSERT_NE(e, "no error") << "byte " << i << " of " << bytes.size() << " flipped went unnoticed";
    EXPECT_NE(e.find(bad), std::string::npos) << e;
    metadata += e.find("its metadata fails the checksum") != std::string::npos;
    tensor += e.find("tensor 'w' fails its checksum") != std::string::npos;
  }
  EXPECT_GT(metadata, 100);   // the JSON's bytes
  EXPECT_EQ(tensor, 12 * 4);  // every byte of w's data
}

// The format before checksums: "MASKOFF1", the JSON's length, the JSON, the data.
TEST(TrainCheckpoint, TheFormatWithoutChecksumsStillLoads) {
  TempDir tmp;
  const std::string json =
      R"({"answer":7,"tensors":[{"name":"w","dtype":"f32","shape":[2],"offset":0,"nbytes":8}]})";
  std::vector<uint8_t> b = {'M', 'A', 'S', 'K', 'O', 'F', 'F', '1'};
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>((json.size() >> (8 * i)) & 0xff));
  b.insert(b.end(), json.begin(), json.end());
  const float w[2] = {3.f, -1.f};
  const auto* wb = reinterpret_cast<const uint8_t*>(w);
  b.insert(b.end(), wb, wb + 8);
  write_bytes(tmp / "old.ckpt", b);
  const Checkpoint ck = read_checkpoint(tmp / "old.ckpt");
  EXPECT_EQ(ck.meta.at("answer"), 7);
  EXPECT_EQ(ck.get("w").to_vector<float>(), (std::vector<float>{3.f, -1.f}));
}

TEST(TrainCheckpoint, AnIndexClaimingHugeTensorsIsRefusedBeforeAllocating) {
  TempDir tmp;
  const std::string json =
      R"({"tensors":[{"name":"w","dtype":"f32","shape":[3000000000,4000000000],"offset":0,"nbytes":48}]})";
  std::vector<uint8_t> b = {'M', 'A', 'S', 'K', 'O', 'F', 'F', '1'};
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>((json.size() >> (8 * i)) & 0xff));
  b.insert(b.end(), json.begin(), json.end());
  b.insert(b.end(), 48, 0);
  write_bytes(tmp / "huge.ckpt", b);
  const std::string e = error_of_read(tmp / "huge.ckpt");
  EXPECT_NE(e.find("tensor 'w' is cut off"), std::string::npos) << e;
}

// A disk that fills up during a save: the file-size limit makes the write fail the same way
// (EFBIG instead of ENOSPC) in a child process, whatever the disk.
TEST(TrainCheckpoint, AFullDiskDuringASaveKeepsThePreviousCheckpoint) {
  TempDir tmp;
  const std::string path = tmp / "latest.ckpt";
  write_checkpoint(path, small_checkpoint(1.5f));
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG instead of killing us
        struct rlimit limit;
        limit.rlim_cur = limit.rlim_max = 4096;
        ::setrlimit(RLIMIT_FSIZE, &limit);
        Checkpoint big;
        big.add("w", full({64, 1024}, 2.5f));  // 256 KiB: cannot be written
        // The child runs the test again up to here, in a folder of its own; exiting skips
        // its destructor, so it removes that folder itself.
        auto leave = [&](int code) {
          std::error_code ec;
          fs::remove_all(tmp.str(), ec);
          std::exit(code);
        };
        try {
          write_checkpoint(path, big);
        } catch (const Error& e) {
          std::fprintf(stderr, "%s\n", e.what());
          leave(3);
        }
        leave(0);
      },
      ::testing::ExitedWithCode(3),
      "cannot write '.*latest.ckpt' \\((write|flush|close) of '.*latest.ckpt.tmp' failed\\): File "
      "too large");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const Checkpoint ck = read_checkpoint(path);
  EXPECT_EQ(ck.get("w").to_vector<float>(), std::vector<float>(12, 1.5f));
}

// train_pix2pix saving every step, killed with SIGKILL in the middle of saves: latest.ckpt
// must load each time. Each kill waits for a save to begin (latest.ckpt.tmp appears), then a
// few milliseconds more, so it lands inside the save; it did when the .tmp is left behind.
TEST(TrainCheckpoint, SigkillDuringASaveLeavesTheLastCheckpointLoadable) {
  TempDir tmp;
  const std::string out = tmp / "run", ckpt = out + "/latest.ckpt";
  // Wide layers make a 40 MB checkpoint: a save takes a good share of each step.
  const std::vector<std::string> args = endless_train_command(out, 32, 1, {"--threads", "1"});
  int in_save = 0, kills = 0;
  for (int round = 0; round < 6; ++round) {
    fs::remove(ckpt + ".tmp");  // the last kill's remains (the next save would replace them)
    std::vector<std::string> round_args = args;
    if (round == 0)
      round_args.push_back("--overwrite");
    else
      round_args.insert(round_args.end(), {"--resume", ckpt});
    const pid_t pid = spawn(round_args, "/dev/null");
    ASSERT_GE(pid, 0);
    for (int i = 0; i < 30000 && !fs::exists(ckpt); ++i) ::usleep(1000);  // the first save
    for (int i = 0; i < 30000 && !fs::exists(ckpt + ".tmp"); ++i) ::usleep(1000);
    ::usleep(static_cast<useconds_t>(3000 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed";
    ++kills;
    in_save += fs::exists(ckpt + ".tmp");
    ASSERT_TRUE(fs::exists(ckpt));
    const Checkpoint ck = read_checkpoint(ckpt);  // throws, failing the test, when torn
    EXPECT_GT(ck.meta.at("step").get<int64_t>(), 0);
  }
  EXPECT_GE(in_save, 3) << "only " << in_save << " of " << kills << " kills came inside a save";
}

}  // namespace
}  // namespace maskoff::train
