// CRC-32C (Castagnoli), the checksum of the checkpoint format: it catches every burst of up
// to 32 flipped bits and any other corruption with probability 1 - 2^-32. The SSE4.2
// instruction computes it at several GB/s where the CPU has it; a table does elsewhere.
#pragma once
#include <cstddef>
#include <cstdint>

namespace maskoff {

// crc32c(data, n) of a whole buffer, or continued from an earlier crc over its prefix.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace maskoff
