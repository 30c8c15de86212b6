#include "data/shard_format.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace ankh::data::shard {

std::string file_name(Split split, int64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%05lld.h5", static_cast<long long>(number));
  return name_of(split) + std::string(buf);
}

uint32_t crc32(uint32_t crc, const void* data, uint64_t size) {
  auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  // crc32_z takes a z_size_t, but older zlib builds only have the uInt version: feed 1 GiB pieces.
  while (size > 0) {
    const uInt piece = static_cast<uInt>(std::min<uint64_t>(size, 1u << 30));
    c = ::crc32(c, p, piece);
    p += piece;
    size -= piece;
  }
  return static_cast<uint32_t>(c);
}

}  // namespace ankh::data::shard
