// CRC-32C, the checkpoint checksum: the standard check value, continuation over pieces,
// and the same answer from the hardware instruction and the table (both run here when the
// build has SSE4.2: the tail of an odd-length buffer goes through the byte path).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tensor/crc32c.h"

namespace maskoff {
namespace {

TEST(Crc32c, StandardCheckValueAndPieces) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32c(s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(s.data() + 4, 5, crc32c(s.data(), 4)), 0xE3069283u);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
  // 32 bytes of 0xFF: a value from the iSCSI specification (RFC 3720, B.4).
  const std::vector<unsigned char> ones(32, 0xFF);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32c, EverySingleBitFlipChangesIt) {
  std::vector<unsigned char> b(61);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<unsigned char>(i * 37 + 11);
  const uint32_t want = crc32c(b.data(), b.size());
  for (size_t i = 0; i < b.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      b[i] ^= static_cast<unsigned char>(1 << bit);
      EXPECT_NE(crc32c(b.data(), b.size()), want) << i << ":" << bit;
      b[i] ^= static_cast<unsigned char>(1 << bit);
    }
}

}  // namespace
}  // namespace maskoff
